"""The public gallery and the optional public vote."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from judging.access import Context, can_view_work, entry_view
from judging.messages import Message
from storage.models import Contest, Entry, EntryStatus, Round, Snapshot, User, Vote, utcnow

BEIJING = ZoneInfo("Asia/Shanghai")
# A burst: this many votes for one entry within the window is flagged for the organizer.
BURST_WINDOW = timedelta(minutes=10)
BURST_VOTES = 30


class GalleryError(ValueError):
    """A gallery or vote action that the rules refuse; `message` is for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def is_public(contest: Contest) -> bool:
    return contest.gallery_published_at is not None


def judging_ended(session: Session, contest: Contest) -> bool:
    """Judging is over once the last round is closed and its 公示 published (opening another
    round starts it again)."""
    last = session.scalar(
        select(Round).where(Round.contest_id == contest.id).order_by(Round.position.desc())
    )
    if last is None or last.closed_at is None:
        return False
    return (
        session.scalar(select(Snapshot.id).where(Snapshot.round_id == last.id).limit(1)) is not None
    )


def waits_for_judging(session: Session, contest: Contest) -> bool:
    """Whether the contest keeps its gallery empty now: it chose no public gallery until
    judging ends, and judging has not ended."""
    return contest.gallery_after_judging and not judging_ended(session, contest)


def shows_gallery(session: Session, contest: Contest) -> bool:
    """Whether the public sees the contest's gallery now."""
    return is_public(contest) and not waits_for_judging(session, contest)


def public_entry(session: Session, entry_id: int) -> Entry | None:
    """An entry the public may see, or None."""
    entry = session.get(Entry, entry_id)
    if entry is None:
        return None
    # Everyone sees the gallery as the public does, signed in or not (judging/access.py).
    public = entry_view(None, entry, Context(gallery=shows_gallery(session, entry.contest)))
    return entry if can_view_work(public) else None


def set_approved(session: Session, entry: Entry, approved: bool) -> None:
    """Approve a ready entry for the gallery, or take it back; commits."""
    if approved and entry.status is not EntryStatus.READY:
        raise GalleryError(Message("只有视频已就绪的作品才能进入公开展示"))
    entry.approved_at = utcnow() if approved else None
    session.commit()


def set_gallery(session: Session, contest: Contest, published: bool, public_vote: bool) -> None:
    """Publish or hide the gallery and open or close the public vote; commits. A contest
    that waits for judging to end refuses to publish before then."""
    if published and waits_for_judging(session, contest):
        raise GalleryError(
            Message("本活动设定评审结束后才公开作品展示：最后一轮评审结束并发布公示后才能公开")
        )
    contest.gallery_published_at = (contest.gallery_published_at or utcnow()) if published else None
    contest.public_vote = public_vote and published
    session.commit()


def vote_day(now: datetime) -> date:
    """Votes count per day in Beijing time."""
    return now.astimezone(BEIJING).date()


def cast_vote(session: Session, entry: Entry, voter: User, now: datetime | None = None) -> None:
    """One vote per user, entry and day; commits. The unique constraint is the real guard."""
    now = now or utcnow()
    if public_entry(session, entry.id) is None or not entry.contest.public_vote:
        raise GalleryError(Message("本次活动没有开放公众投票"))
    session.add(Vote(entry_id=entry.id, voter_id=voter.id, day=vote_day(now), created_at=now))
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise GalleryError(Message("今天已经为这件作品投过票了，明天可以再投")) from exc


def voted_today(session: Session, entry: Entry, voter_id: int, now: datetime | None = None) -> bool:
    """Whether the user has already voted for the entry today (Beijing time)."""
    day = vote_day(now or utcnow())
    found = select(Vote.id).where(
        Vote.entry_id == entry.id, Vote.voter_id == voter_id, Vote.day == day
    )
    return session.scalar(found.limit(1)) is not None


def shows_vote_counts(contest: Contest) -> bool:
    """Whether the public sees vote counts: while the organizer keeps the public vote open
    (there is no setting of its own; closing the vote hides the counts with it)."""
    return bool(contest.public_vote)


def vote_counts(session: Session, contest: Contest) -> dict[int, int]:
    """Votes per entry id, apart from any jury score."""
    rows = session.execute(
        select(Vote.entry_id, func.count())
        .join(Entry, Entry.id == Vote.entry_id)
        .where(Entry.contest_id == contest.id)
        .group_by(Vote.entry_id)
    )
    return {entry_id: count for entry_id, count in rows.tuples()}


@dataclass(frozen=True)
class Burst:
    entry_id: int
    votes: int


def suspicious_bursts(
    session: Session,
    contest: Contest,
    now: datetime | None = None,
    window: timedelta = BURST_WINDOW,
    threshold: int = BURST_VOTES,
) -> list[Burst]:
    """Entries that got `threshold` or more votes within the last `window`."""
    now = now or utcnow()
    rows = session.execute(
        select(Vote.entry_id, func.count())
        .join(Entry, Entry.id == Vote.entry_id)
        .where(Entry.contest_id == contest.id, Vote.created_at >= now - window)
        .group_by(Vote.entry_id)
        .having(func.count() >= threshold)
    )
    return [Burst(entry_id, count) for entry_id, count in rows.tuples()]
