"""What judges are told about a round: it opened for them, its due date is near, their list
changed. Entries are named by their code in the round and, unless the contest is blind,
their title; never by their number, which leads to the public gallery (judging/codes.py)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from judging.judge_notices import ADDED
from judging.reminders_judge import due_key, left_for
from judging.rounds import assigned_entries, is_assigned
from storage.models import BlindCode, Entry, Round, utcnow
from storage.outbox import OutboxMessage
from web.mail_judge import contest_title
from web.mail_render import Content, builds, external
from web.template_helpers import beijing
from worker.outbox import Skip


def _open_round(session: Session, message: OutboxMessage) -> Round:
    rnd = session.get(Round, message.params.get("round_id", 0))
    if rnd is None:
        raise Skip("评审轮次已不存在")
    if rnd.closed_at is not None:
        raise Skip("本轮评审已结束")
    return rnd


def _judge_id(message: OutboxMessage) -> int:
    if message.user_id is None:
        raise Skip("评委账号已不存在")
    return message.user_id


def _round_values(session: Session, rnd: Round) -> dict[str, object]:
    return {
        "round": rnd,
        "round_name": rnd.name,
        "contest_title": contest_title(session),
        "due": beijing(rnd.due_at),
        "desk_url": external("judge.index"),
    }


@builds("round_opened")
def round_opened(session: Session, message: OutboxMessage) -> Content:
    rnd = _open_round(session, message)
    # Counted now, not when queued: an assignment redone meanwhile changed it.
    entries = len(assigned_entries(session, rnd, _judge_id(message)))
    if not entries:
        raise Skip("评委在本轮已没有待评作品")
    return Content(
        _("“%(round)s”评审开始：您有 %(n)d 件作品待评", round=rnd.name, n=entries),
        {**_round_values(session, rnd), "entries": entries},
    )


@builds("round_reminder")
def round_reminder(session: Session, message: OutboxMessage) -> Content:
    rnd = _open_round(session, message)
    if rnd.due_at is None or due_key(rnd.due_at) != message.params.get("due_at"):
        raise Skip("评审截止时间已修改或取消")
    if rnd.due_at <= utcnow():
        raise Skip("已过评审截止时间")
    left = left_for(session, rnd, _judge_id(message))
    if not left:
        raise Skip("评委已提交全部评分")
    return Content(
        _("评审截止提醒：“%(round)s”还有 %(n)d 件作品待评", round=rnd.name, n=left),
        {**_round_values(session, rnd), "left": left},
    )


@builds("assignment_changed")
def assignment_changed(session: Session, message: OutboxMessage) -> Content:
    rnd = _open_round(session, message)
    entry = session.get(Entry, message.params.get("entry_id", 0))
    code = session.scalar(
        select(BlindCode.code).where(
            BlindCode.round_id == rnd.id, BlindCode.entry_id == message.params.get("entry_id")
        )
    )
    if entry is None or code is None:
        raise Skip("作品已不存在")
    added = message.params.get("action") == ADDED
    if added and not is_assigned(session, rnd, _judge_id(message), entry.id):
        raise Skip("这件作品已不在评委的列表中")
    # A blind contest's mail names the entry by its code alone: mail is forwarded and kept.
    title = "" if rnd.contest.blind else entry.title
    if added:
        subject = _("“%(round)s”评审列表新增作品 %(code)s", round=rnd.name, code=code)
    else:
        subject = _("“%(round)s”评审列表移出作品 %(code)s", round=rnd.name, code=code)
    return Content(
        subject,
        {
            **_round_values(session, rnd),
            "added": added,
            "code": code,
            "title": title,
            "score_url": external("judge.score", code=code) if added else "",
        },
    )
