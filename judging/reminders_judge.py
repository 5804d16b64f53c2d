"""Reminders to judges before a round's due date: two days before, then one day before.

Within two days of an open round's due date (and more than one day before it) a judge with
scores still to submit gets the `d2` reminder; within the last day, the `d1` one; none
after the due date. A scan that first runs 20 hours before sends only `d1`. The keys name
the due date, so a date moved later reminds again before the new one.

What a judge still has to do is counted as the panels count it (`judging.panels`): entries
the round judges, on the judge's panel (no conflicted one), not submitted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from judging.notification_scan import ScanContext, scanner
from judging.panels import judge_progress, panel_report
from storage.models import Round, User
from storage.notifications import notify

WINDOWS = (("d1", timedelta(days=1)), ("d2", timedelta(days=2)))  # the nearest first


def due_key(due: datetime) -> str:
    """A due date as the reminders' keys name it (UTC, to the second)."""
    aware = due if due.tzinfo else due.replace(tzinfo=UTC)
    return aware.astimezone(UTC).replace(microsecond=0).isoformat()


def window_of(due: datetime, now: datetime) -> str | None:
    """Which reminder is due at `now` for a round due at `due`: d1, d2 or none."""
    if now >= due:
        return None
    for name, before in WINDOWS:
        if now >= due - before:
            return name
    return None


def left_to_score(session: Session, rnd: Round) -> list[tuple[User, int]]:
    """Each judge on a panel of the round with how many scores they have yet to submit."""
    report = panel_report(session, rnd)
    judges = {j.id: j for row in report.judged for j in row.panel}
    progress = judge_progress(report, sorted(judges.values(), key=lambda j: j.id))
    return [(judge, scoring - done) for judge, scoring, done in progress if scoring > done]


def left_for(session: Session, rnd: Round, judge_id: int) -> int:
    """How many scores one judge has yet to submit in the round."""
    return next((left for j, left in left_to_score(session, rnd) if j.id == judge_id), 0)


@scanner("round_reminders")
def remind_judges(session: Session, context: ScanContext) -> int:
    """Queue the reminders due now for every open round with a due date; how many."""
    now = context.now
    rounds = session.scalars(
        select(Round)
        .where(
            Round.closed_at.is_(None),
            Round.due_at.is_not(None),
            Round.due_at > now,
            Round.due_at <= now + WINDOWS[-1][1],
        )
        .order_by(Round.id)
    ).all()
    queued = 0
    for rnd in rounds:
        window = window_of(rnd.due_at, now) if rnd.due_at else None
        if rnd.due_at is None or window is None:
            continue
        due = due_key(rnd.due_at)
        for judge, left in left_to_score(session, rnd):
            queued += len(
                notify(
                    session,
                    "round_reminder",
                    judge,
                    f"round-{rnd.id}-due-{due}-{window}",
                    {"round_id": rnd.id, "due_at": due, "window": window, "left": left},
                )
            )
    return queued
