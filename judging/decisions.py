"""Going on despite what is unresolved: asked first, then recorded with the action.

Closing a round with short panels or unsubmitted scores, publishing a 公示 over boundary ties
or short panels, and cancelling a media job each list what is unresolved as Chinese sentences.
The organizer (or operator) confirms that exact list: the confirmation carries its digest, and
when the list has changed since the page was shown (a judge submitted, a conflict came in, a
公示 was published from another tab), the action is not taken and the page is shown again.
A confirmed action adds a `Decision` row in the same transaction as the action itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from judging.messages import N_, Message
from judging.panels import PanelReport, panel_report, round_results
from judging.ranking import TIE_AT_BOUNDARY, UNSCORED
from judging.results import publish_snapshot
from judging.rounds import close_round
from storage.models import Decision, Job, Round, Snapshot, User

DECISION_LABELS = {
    "close_round": N_("结束本轮"),
    "publish": N_("发布公示"),
    "cancel_job": N_("取消任务"),
}
NOTE_LENGTH = 500


@dataclass(frozen=True)
class Pending:
    """What must be confirmed before an action, and the digest a confirmation must carry."""

    items: list[Message]
    digest: str


def digest_of(items: Sequence[str], *context: object) -> str:
    """A short fingerprint of the listed sentences (and of what else the page depended on)."""
    text = "\n".join([*map(str, items), *map(str, context)])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _panel_items(report: PanelReport, waiting: bool) -> list[Message]:
    items = []
    for row in report.short:
        items.append(
            Message(
                "%(entry)s 评委不足（%(reasons)s），已提交 %(done)d 份",
                entry=row.label,
                reasons="；".join(row.reasons),
                done=len(row.submitted),
            )
        )
    for row in report.waiting if waiting else []:
        items.append(
            Message(
                "%(entry)s 尚有 %(count)d 份评分未提交：%(judges)s",
                entry=row.label,
                count=len(row.pending),
                judges="、".join(f"{j.display_name}（{j.username}）" for j in row.pending),
            )
        )
    return items


def close_items(session: Session, rnd: Round) -> list[Message]:
    """What closing the round would leave unresolved: short panels, unsubmitted scores."""
    return _panel_items(panel_report(session, rnd), waiting=True)


def publish_items(session: Session, rnd: Round) -> list[Message]:
    """What publishing would leave unresolved: ties across an award line, short panels, and
    entries of the round without a score that counts (the 公示 lists ranked entries only)."""
    report = panel_report(session, rnd)
    rows = round_results(session, rnd, report)
    items = []
    tied: dict[int, list[str]] = {}
    unscored = [f"No.{row.number:04d}" for row in rows if UNSCORED in row.flags]
    for row in rows:
        if TIE_AT_BOUNDARY in row.flags:
            tied.setdefault(row.rank, []).append(f"No.{row.number:04d}（{row.award or '—'}）")
    for rank, entries in sorted(tied.items()):
        items.append(
            Message(
                "第 %(rank)d 名并列跨奖项线：%(entries)s",
                rank=rank,
                entries="、".join(entries),
            )
        )
    if unscored:
        items.append(
            Message(
                "%(count)d 件作品没有计入的评分，不会列入公示：%(entries)s",
                count=len(unscored),
                entries="、".join(unscored),
            )
        )
    return items + _panel_items(report, waiting=False)


def _latest_snapshot(session: Session, rnd: Round) -> int:
    found = session.scalar(
        select(Snapshot.id).where(Snapshot.round_id == rnd.id).order_by(Snapshot.id.desc())
    )
    return found or 0


def _record(
    session: Session,
    kind: str,
    subject: str,
    items: Sequence[str],
    note: str,
    user: User,
    contest_id: int | None,
    round_id: int | None = None,
) -> None:
    """Add the decision to the session; the action's own commit writes both together."""
    session.add(
        Decision(
            contest_id=contest_id,
            round_id=round_id,
            kind=kind,
            subject=subject,
            unresolved=[str(i) for i in items],
            note=note.strip()[:NOTE_LENGTH],
            user_id=user.id,
        )
    )


def close_with_decision(
    session: Session, rnd: Round, user: User, digest: str | None, note: str = ""
) -> Pending | None:
    """Close the round, or say what must be confirmed first (None: closed). Commits."""
    items = close_items(session, rnd)
    if items and digest != digest_of(items):
        return Pending(items, digest_of(items))
    if items:
        _record(
            session, "close_round", f"round:{rnd.id}", items, note, user, rnd.contest_id, rnd.id
        )
    close_round(session, rnd)
    return None


def publish_with_decision(
    session: Session, rnd: Round, user: User, digest: str | None, note: str = ""
) -> Pending | Snapshot:
    """Publish the 公示, or say what must be confirmed first. Commits.

    The digest also covers the round's newest 公示, so a confirmation sent twice (a double
    click, a reload) publishes once and then asks again."""
    items = publish_items(session, rnd)
    expected = digest_of(items, _latest_snapshot(session, rnd))
    if items and digest != expected:
        return Pending(items, expected)
    if items:
        _record(session, "publish", f"round:{rnd.id}", items, note, user, rnd.contest_id, rnd.id)
    return publish_snapshot(session, rnd)


def cancel_items(job: Job, state_label: str) -> list[Message]:
    """The one sentence an operator confirms before cancelling a job."""
    entry = job.entry
    return [
        Message(
            "任务 #%(job)d：作品 No.%(number)04d《%(title)s》，"
            "当前状态：%(state)s，已尝试 %(attempts)d 次",
            job=job.id,
            number=entry.number,
            title=entry.title,
            state=state_label,
            attempts=job.attempts,
        )
    ]


def cancel_pending(job: Job, state_label: str, digest: str | None) -> Pending | None:
    """What an operator must confirm before cancelling the job, unless this confirms it."""
    items = cancel_items(job, state_label)
    return None if digest == digest_of(items) else Pending(items, digest_of(items))


def record_cancel(session: Session, job: Job, items: Sequence[str], user: User, note: str) -> None:
    """Record an operator's cancellation; the cancel's own commit writes it."""
    _record(session, "cancel_job", f"job:{job.id}", items, note, user, job.entry.contest_id)


def decisions_of(
    session: Session, contest_id: int, limit: int = 20
) -> list[tuple[Decision, User, str | None]]:
    """The contest's recorded decisions with who took them and the round's name, newest
    first."""
    rows = session.execute(
        select(Decision, User, Round.name)
        .join(User, User.id == Decision.user_id)
        .outerjoin(Round, Round.id == Decision.round_id)
        .where(Decision.contest_id == contest_id)
        .order_by(Decision.id.desc())
        .limit(limit)
    )
    return list(rows.tuples())
