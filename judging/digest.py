"""The organizers' daily digest: what a contest's last 24 hours brought, and what waits.

Once per Beijing calendar day, at or after DIGEST_HOUR (Beijing time), every active
organizer gets one digest of the current contest (outbox key `digest-<contest id>-<date>`).

- The window is the 24 hours before that day's DIGEST_HOUR, not before the scan that sends
  it: consecutive digests neither overlap nor leave a gap however late a scan runs (the
  worker was down at 8:00, the digest goes at 9:30 and still covers 8:00 to 8:00).
- In the window: new entries (their first video arrived), refusals (jobs REJECTED: the file's
  fault, the contestant was told), failed jobs (not the file's fault). Now: entries waiting
  for approval (`judging.review.review_counts`), and the open round's progress and short
  panels (`judging.panels`).
- The numbers are computed once, when the digest is queued, and kept in the message's
  params (`Digest.as_params`); the mail tells what was true then, and its builder only
  checks that the contest is still there (`Digest.from_params`).
- A quiet day sends nothing: no new entries, refusals or failures in the window, and nothing
  waiting (no approvals, no open round with scores to come or short panels). A later scan of
  the same day sends the digest if something starts waiting meanwhile; the window is the
  same, so it still tells of the same 24 hours.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from judging.gallery import BEIJING
from judging.notification_scan import ScanContext, scanner
from judging.panels import judge_progress, panel_report
from judging.review import review_counts
from judging.rounds import current_round, judges_of
from judging.submissions import current_contest
from storage.models import Contest, Entry, EntryStatus, Job, JobState, Role, User
from storage.notifications import is_turned_off, notify, staff
from storage.outbox import OutboxMessage

KIND = "daily_digest"
LISTED = 5  # entries named under each heading; the count says how many more


@dataclass(frozen=True)
class EntryLine:
    """An entry as the digest names it: `No.0012` (with its anonymous code in a round)."""

    label: str
    title: str


@dataclass(frozen=True)
class JudgeLine:
    name: str
    submitted: int
    assigned: int


@dataclass(frozen=True)
class Digest:
    """One contest's digest for one day; plain values, so it fits in an outbox row."""

    contest_id: int
    contest_title: str
    day: date
    since: datetime
    until: datetime
    new_entries: int = 0
    new_listed: list[EntryLine] = field(default_factory=list)
    refusals: int = 0
    refused_listed: list[EntryLine] = field(default_factory=list)
    failed_jobs: int = 0
    failed_listed: list[EntryLine] = field(default_factory=list)
    waiting_approval: int = 0
    round_name: str = ""  # the open round ("" when none is open)
    submitted: int = 0  # score sheets submitted in the open round …
    assigned: int = 0  # … of those its panels hold
    judges: list[JudgeLine] = field(default_factory=list)
    short_panels: int = 0
    short_listed: list[EntryLine] = field(default_factory=list)

    @property
    def quiet(self) -> bool:
        """Nothing happened in the window and nothing waits: no digest is sent."""
        happened = self.new_entries or self.refusals or self.failed_jobs
        waits = self.waiting_approval or self.short_panels or self.submitted < self.assigned
        return not (happened or waits)

    def as_params(self) -> dict[str, Any]:
        """The digest as JSON values for the outbox row."""
        values = asdict(self)
        values["day"] = self.day.isoformat()
        values["since"] = self.since.isoformat()
        values["until"] = self.until.isoformat()
        return values

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Digest:
        """The digest kept in an outbox row."""
        lines = {"new_listed", "refused_listed", "failed_listed", "short_listed"}
        values = dict(params)
        for name in lines:
            values[name] = [EntryLine(**line) for line in params.get(name, [])]
        values["judges"] = [JudgeLine(**line) for line in params.get("judges", [])]
        values["day"] = date.fromisoformat(params["day"])
        values["since"] = datetime.fromisoformat(params["since"])
        values["until"] = datetime.fromisoformat(params["until"])
        return cls(**values)


def digest_day(now: datetime, digest_hour: int) -> date | None:
    """The Beijing date whose digest is due at `now`; None before that day's digest hour."""
    local = now.astimezone(BEIJING)
    return local.date() if local.hour >= digest_hour else None


def window(day: date, digest_hour: int) -> tuple[datetime, datetime]:
    """The 24 hours a day's digest covers, ending at its digest hour (UTC)."""
    until = datetime.combine(day, time(digest_hour), BEIJING).astimezone(UTC)
    return until - timedelta(days=1), until


def digest_subject(contest: Contest, day: date) -> str:
    """The occasion in the outbox key: one digest per contest and Beijing date."""
    return f"digest-{contest.id}-{day.isoformat()}"


def _label(entry: Entry) -> str:
    return f"No.{entry.number:04d}"


def _new_entries(
    session: Session, contest: Contest, since: datetime, until: datetime
) -> tuple[int, list[EntryLine]]:
    # An entry is new when its first video arrived (its first job), whatever day its
    # draft was made on; a replaced video is not a new entry.
    first = (
        select(Job.entry_id, func.min(Job.created_at).label("at")).group_by(Job.entry_id).subquery()
    )
    query = (
        select(Entry)
        .join(first, first.c.entry_id == Entry.id)
        .where(
            Entry.contest_id == contest.id,
            Entry.status != EntryStatus.WITHDRAWN,
            first.c.at >= since,
            first.c.at < until,
        )
    )
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    listed = session.scalars(query.order_by(Entry.number).limit(LISTED))
    return count, [EntryLine(_label(e), e.title) for e in listed]


def _jobs_ended(
    session: Session, contest: Contest, state: JobState, since: datetime, until: datetime
) -> tuple[int, list[EntryLine]]:
    """Jobs of the contest that ended in `state` in the window, and the first entries."""
    where = (
        Entry.contest_id == contest.id,
        Job.state == state,
        Job.finished_at >= since,
        Job.finished_at < until,
    )
    count = session.scalar(select(func.count(Job.id)).join(Job.entry).where(*where)) or 0
    entries = session.scalars(
        select(Entry).join(Job, Job.entry_id == Entry.id).where(*where).order_by(Job.finished_at)
    )
    listed: dict[int, EntryLine] = {}
    for entry in entries:
        if len(listed) == LISTED:
            break
        listed.setdefault(entry.id, EntryLine(_label(entry), entry.title))
    return count, list(listed.values())


def compute(session: Session, contest: Contest, day: date, digest_hour: int) -> Digest:
    """The digest of `contest` for Beijing date `day`."""
    since, until = window(day, digest_hour)
    new, new_listed = _new_entries(session, contest, since, until)
    refusals, refused = _jobs_ended(session, contest, JobState.REJECTED, since, until)
    failed, failed_listed = _jobs_ended(session, contest, JobState.FAILED, since, until)
    digest = Digest(
        contest.id,
        contest.title,
        day,
        since,
        until,
        new_entries=new,
        new_listed=new_listed,
        refusals=refusals,
        refused_listed=refused,
        failed_jobs=failed,
        failed_listed=failed_listed,
        waiting_approval=review_counts(session, contest)["waiting"],
    )
    rnd = current_round(session, contest)
    if rnd is None or rnd.closed_at is not None:
        return digest
    report = panel_report(session, rnd)
    short = report.short
    return replace(
        digest,
        round_name=rnd.name,
        # As the judging page counts them: the panels' score sheets, then per judge.
        submitted=sum(len(row.submitted) for row in report.judged),
        assigned=sum(len(row.panel) for row in report.judged),
        judges=[
            JudgeLine(judge.display_name, done, scoring)
            for judge, scoring, done in judge_progress(report, judges_of(session, rnd))
        ],
        short_panels=len(short),
        short_listed=[EntryLine(row.label, row.entry.title) for row in short[:LISTED]],
    )


def _due(session: Session, organizers: list[User], subject: str) -> list[User]:
    """The organizers whose digest of this occasion could still be queued."""
    keys = {f"{KIND}:{subject}:u{user.id}:email": user for user in organizers}
    queued = set(session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.in_(keys))))
    return [
        user
        for key, user in keys.items()
        if key not in queued and user.email.strip() and not is_turned_off(session, user.id, KIND)
    ]


@scanner(KIND)
def queue_digests(session: Session, context: ScanContext) -> int:
    """Queue today's digest for every active organizer who has not had it yet."""
    day = digest_day(context.now, context.digest_hour)
    contest = current_contest(session)
    if day is None or contest is None:
        return 0
    subject = digest_subject(contest, day)
    # Checked first so that the scans after today's digest compute nothing.
    organizers = _due(session, staff(session, Role.ORGANIZER), subject)
    if not organizers:
        return 0
    digest = compute(session, contest, day, context.digest_hour)
    if digest.quiet:
        return 0
    params = digest.as_params()
    return sum(len(notify(session, KIND, user, subject, params)) for user in organizers)
