"""What contestants are told of the organizers' decisions: approved, sent back, the deadline
coming, the 公示 published. Each builder reads the event again when the message is sent and
skips a message the event no longer stands behind (an approval undone, a return fixed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from judging.blind import announced_rows
from judging.gallery import public_entry
from judging.messages import N_
from judging.submissions import pending_uploads, upload_percent
from storage.models import (
    Contest,
    Entry,
    EntryStatus,
    JobState,
    Round,
    Snapshot,
    utcnow,
)
from storage.outbox import OutboxMessage
from web.mail_render import Content, builds, external
from web.template_helpers import beijing
from worker.outbox import Skip

SMS_REASON = 40  # characters of a return's reason an SMS carries
# What an entry without a ready video still lacks, as a short phrase (mail and SMS) and what
# to do about it (mail).
MISSING = {
    EntryStatus.DRAFT: N_("尚未上传视频"),
    EntryStatus.SUBMITTED: N_("视频已上传，正在排队处理"),
    EntryStatus.PROCESSING: N_("视频正在处理中"),
    EntryStatus.REJECTED: N_("视频未通过检查，需要重新上传"),
    EntryStatus.FAILED: N_("视频处理失败，需要重新上传"),
}
UNFINISHED_UPLOAD = N_("视频上传未完成（已上传 %(percent)d%%）")
ADVICE = {
    EntryStatus.DRAFT: N_("请打开作品页上传视频；上传中断的，可从中断处继续。"),
    EntryStatus.SUBMITTED: N_(
        "处理通常只需几分钟，结果会显示在作品页；如果未通过检查，请在截止前重新上传。"
    ),
    EntryStatus.PROCESSING: N_(
        "处理通常只需几分钟，结果会显示在作品页；如果未通过检查，请在截止前重新上传。"
    ),
    EntryStatus.REJECTED: N_("作品页写明了未通过的原因，请按说明处理后重新上传视频。"),
    EntryStatus.FAILED: N_("请重新上传视频；如果再次失败，请联系组委会协助。"),
}


def _entry(session: Session, message: OutboxMessage) -> Entry:
    entry = session.get(Entry, message.params.get("entry_id", 0))
    if entry is None:
        raise Skip("作品已删除")
    return entry


def _same_time(stored: datetime | None, told: str) -> bool:
    """Whether a decision's stored time is the one the message was queued for."""
    return stored is not None and told != "" and stored == datetime.fromisoformat(told)


def number_of(entry: Entry) -> str:
    return f"{entry.number:04d}"


def _deadline(contest: Contest) -> tuple[str, bool]:
    """The contest's deadline in Beijing time ("" when none) and whether it has passed."""
    closes = contest.closes_at
    return beijing(closes), closes is not None and closes <= utcnow()


@builds("entry_approved")
def approved(session: Session, message: OutboxMessage) -> Content:
    entry = _entry(session, message)
    if not _same_time(entry.approved_at, message.params.get("approved_at", "")):
        raise Skip("作品的通过已撤销或已重新审核")
    shown = public_entry(session, entry.id) is not None
    return Content(
        _("作品 No.%(number)s《%(title)s》已通过审核", number=number_of(entry), title=entry.title),
        {
            "entry": entry,
            "number": number_of(entry),
            "entry_url": external("submit.entry", entry_id=entry.id),
            "gallery_url": external("gallery.entry", entry_id=entry.id) if shown else "",
        },
    )


@builds("entry_returned")
def returned(session: Session, message: OutboxMessage) -> Content:
    entry = _entry(session, message)
    if entry.status is EntryStatus.WITHDRAWN:
        raise Skip("作品已撤回")
    if not _same_time(entry.returned_at, message.params.get("returned_at", "")):
        raise Skip("作品已修改或已重新审核")
    deadline, closed = _deadline(entry.contest)
    reason = entry.return_reason
    # An SMS carries the reason's start on one line; the mail and the entry page carry it all.
    line = " ".join(reason.split()).rstrip("。.；;！!，,")
    short = line if len(line) <= SMS_REASON else line[: SMS_REASON - 1] + "…"
    return Content(
        _("作品 No.%(number)s《%(title)s》被退回修改", number=number_of(entry), title=entry.title),
        {
            "entry": entry,
            "number": number_of(entry),
            "reason": reason,
            "short_reason": short,
            "deadline": deadline,
            "closed": closed,
            "entry_url": external("submit.entry", entry_id=entry.id),
        },
    )


def missing_of(session: Session, entry: Entry) -> tuple[str, str]:
    """What the entry lacks before the deadline and what to do, in the reader's language."""
    status = entry.status
    if status is EntryStatus.DRAFT and (
        upload := pending_uploads(session, [entry.id]).get(entry.id)
    ):
        missing = _(UNFINISHED_UPLOAD, percent=upload_percent(upload))
    else:
        missing = _(MISSING.get(status, MISSING[EntryStatus.DRAFT]))
    return missing, _(ADVICE.get(status, ADVICE[EntryStatus.DRAFT]))


@builds("deadline_reminder")
def deadline_reminder(session: Session, message: OutboxMessage) -> Content:
    entry = _entry(session, message)
    if entry.status is EntryStatus.WITHDRAWN:
        raise Skip("作品已撤回")
    if any(job.state is JobState.READY for job in entry.jobs):
        raise Skip("作品的视频已处理完成")
    contest = entry.contest
    if not _same_time(contest.closes_at, message.params.get("closes_at", "")):
        raise Skip("征集截止时间已更改")
    deadline, closed = _deadline(contest)
    if closed:
        raise Skip("征集已截止")
    missing, advice = missing_of(session, entry)
    return Content(
        _(
            "提醒：作品 No.%(number)s《%(title)s》需在 %(time)s 前完成提交",
            number=number_of(entry),
            title=entry.title,
            time=deadline,
        ),
        {
            "entry": entry,
            "number": number_of(entry),
            "contest_title": contest.title,
            "deadline": deadline,
            "missing": missing,
            "advice": advice,
            "entry_url": external("submit.entry", entry_id=entry.id),
        },
    )


def own_rows(session: Session, snapshot: Snapshot, user_id: int | None) -> list[dict[str, Any]]:
    """The recipient's entries as the 公示 shows them now: its public rows (a blind round's
    entries without their collective), or a row that says the entry is not listed."""
    rows, _waiting = announced_rows(session, snapshot)
    by_number = {row.get("number"): row for row in rows}
    entries = session.scalars(
        select(Entry)
        .where(
            Entry.contest_id == snapshot.contest_id,
            Entry.owner_id == user_id,
            Entry.status != EntryStatus.WITHDRAWN,
        )
        .order_by(Entry.number)
    )
    own = []
    for entry in entries:
        row = by_number.get(entry.number)
        if row is None:
            own.append({"number": number_of(entry), "title": entry.title, "listed": False})
            continue
        own.append(
            {
                "number": number_of(entry),
                "title": row.get("title", ""),
                "listed": True,
                "rank": row.get("rank") or 0,
                "score": row.get("score"),
                "award": row.get("award") or "",
                "collective": "" if row.get("withheld") else row.get("collective", ""),
            }
        )
    return own


@builds("results_published")
def results_published(session: Session, message: OutboxMessage) -> Content:
    snapshot = session.get(Snapshot, message.params.get("snapshot_id", 0))
    if snapshot is None:
        raise Skip("公示已删除")
    contest = session.get_one(Contest, snapshot.contest_id)
    rnd = session.get(Round, snapshot.round_id)
    round_name = rnd.name if rnd else ""
    starts, ends = contest.publicity_starts_on, contest.publicity_ends_on
    return Content(
        _("评审结果公示：%(contest)s %(round)s", contest=contest.title, round=round_name),
        {
            "contest": contest,
            "round_name": round_name,
            "rows": own_rows(session, snapshot, message.user_id),
            "publicity": (starts.isoformat() if starts else "…", ends.isoformat() if ends else "…")
            if starts or ends
            else None,
            "announcement_url": external("pages.announcement", snapshot_id=snapshot.id),
        },
    )
