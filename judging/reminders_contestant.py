"""The contestants' reminder a day before the deadline: entries still without a ready video.

A scanner (judging/notification_scan.py): from 24 hours before a contest's `closes_at` until
it passes, each of its entries that is not withdrawn and has no processed video yet (a draft
with nothing uploaded, a video still processing, refused or failed) gets one reminder to its
owner. The key names the deadline, so a deadline moved later reminds again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from judging.notification_scan import ScanContext, scanner
from storage.entry_notices import tell_owner
from storage.models import Contest, Entry, EntryStatus, Job, JobState

AHEAD = timedelta(hours=24)


def without_ready_video(session: Session, contest: Contest) -> list[Entry]:
    """The contest's entries, withdrawn ones aside, none of whose uploads finished processing
    (the rule of web.media.shown_assets: a ready earlier video is still shown)."""
    ready = select(Job.id).where(Job.entry_id == Entry.id, Job.state == JobState.READY)
    return list(
        session.scalars(
            select(Entry)
            .options(joinedload(Entry.owner))
            .where(
                Entry.contest_id == contest.id,
                Entry.status != EntryStatus.WITHDRAWN,
                ~ready.exists(),
            )
            .order_by(Entry.number)
        )
    )


def closing_soon(session: Session, now: datetime) -> list[Contest]:
    """The contests whose deadline is within the next 24 hours (and not yet passed)."""
    return list(
        session.scalars(
            select(Contest).where(Contest.closes_at > now, Contest.closes_at <= now + AHEAD)
        )
    )


@scanner("deadline_reminder")
def remind_contestants(session: Session, context: ScanContext) -> int:
    """Queue the deadline reminders that are due; how many were queued."""
    queued = 0
    for contest in closing_soon(session, context.now):
        assert contest.closes_at is not None  # noqa: S101 - closing_soon selects on it
        closes = contest.closes_at.isoformat()
        for entry in without_ready_video(session, contest):
            queued += bool(
                tell_owner(
                    session,
                    "deadline_reminder",
                    entry,
                    f"entry-{entry.id}-deadline-{closes}",
                    {"entry_id": entry.id, "closes_at": closes},
                )
            )
    return queued
