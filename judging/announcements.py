"""Published 公示 for the public: the newest one to link, and where its 公示期 stands."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from judging.blind import announced_rows
from judging.gallery import BEIJING
from judging.results import group_by_type, type_order
from storage.models import Contest, Snapshot, WorkType


def newest_announcement(session: Session, contest: Contest | None) -> Snapshot | None:
    """The contest's newest published 公示 for the home page and the gallery to link, or None.

    Not while an open blind round withholds collectives from it (`announced_rows`): a link on
    the front page would point every judge at it. Its own address keeps working, as a 公示 is
    public once published, and shows what may be shown.
    """
    if contest is None:
        return None
    snapshot = session.scalar(
        select(Snapshot)
        .where(Snapshot.contest_id == contest.id)
        .order_by(Snapshot.published_at.desc(), Snapshot.id.desc())
        .limit(1)
    )
    if snapshot is None or announced_rows(session, snapshot)[1]:
        return None
    return snapshot


def publicity_state(contest: Contest, today: date | None = None) -> str:
    """Where the 公示期 stands today (Beijing): "", "upcoming", "open" or "over"."""
    start, end = contest.publicity_starts_on, contest.publicity_ends_on
    if start is None and end is None:
        return ""
    today = today or datetime.now(BEIJING).date()
    if start is not None and today < start:
        return "upcoming"
    if end is not None and today > end:
        return "over"
    return "open"


def grouped_rows(contest: Contest, rows: list[dict[str, Any]]) -> list[tuple[str, list[Any]]]:
    """A 公示's rows as the page shows them: a table per work type (its Chinese name first)
    where the 公示 was published with results by work type, else one unnamed table."""
    if not any("work_type" in row for row in rows):
        return [("", rows)]
    groups = group_by_type(type_order(contest), rows, lambda row: row.get("work_type") or "video")
    return [(WorkType(group[0].get("work_type") or "video").label, group) for group in groups]
