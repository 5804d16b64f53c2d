"""The organizers' review queue: find entries, approve them for the gallery, send them back.

A page of the queue is one SQL query, whatever the contest holds (plus a count, and one
query each for the page's jobs and media): search, filters, a whitelisted sort and the page
are all turned into SQL. Approving follows the rule
of `judging.gallery.set_approved` (only ready entries) for many entries at once; sending an
entry back takes it out of the gallery with a reason the contestant reads and may act on
before the deadline (`judging.submissions` clears it when they save a fix).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from judging.blind import held_entries, open_blind_round
from judging.gallery import shows_gallery
from judging.messages import N_, Message
from judging.numbers import ascii_int
from judging.review_notices import tell_approved, tell_returned
from storage.models import (
    AssetKind,
    Contest,
    Entry,
    EntryStatus,
    Job,
    JobState,
    MediaAsset,
    User,
    WorkType,
    utcnow,
)

log = logging.getLogger(__name__)

PAGE_SIZE = 50
REASON_LIMIT = 500
# How many ids one bulk approval takes: a page holds 50, a forged form may hold more.
BULK_LIMIT = 1000
SEARCH_LIMIT = 100
# The queue's own states, beside the media status: what the organizer has done with it.
REVIEW_LABELS = {
    "waiting": N_("待审核"),
    "approved": N_("已通过"),
    "returned": N_("已退回"),
}
SORT_LABELS = {
    "newest": N_("最新提交"),
    "number": N_("编号"),
    "title": N_("作品名称"),
    "duration": N_("时长（短到长）"),
}
DEFAULT_SORT = "newest"
# "No.0012", "#12" or "0012" all find entry 12.
_NUMBER = re.compile(r"(?:no\.?|#)?\s*([0-9]{1,10})", re.IGNORECASE)
STATUSES = frozenset(s.value for s in EntryStatus)
WORK_TYPES = frozenset(t.value for t in WorkType)
NOT_READY = Message("只有视频已就绪的作品才能进入公开展示")  # as judging.gallery.set_approved
NOT_RECOMMENDED = Message("本次征集只收县区推荐的作品：这件作品尚未被所属县区推荐")


class ReviewError(ValueError):
    """A review action the rules refuse; `message` is for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class QueueQuery:
    """What the organizer asked the queue for; built from a query string, never failing."""

    q: str = ""
    status: EntryStatus | None = None
    review: str = ""
    district: str = ""
    industry: str = ""
    work_type: WorkType | None = None
    warnings: bool = False
    sort: str = DEFAULT_SORT
    page: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> QueueQuery:
        """Read a query string; anything unknown is left out rather than refused."""
        status = args.get("status", "")
        review = args.get("review", "")
        sort = args.get("sort", "")
        work_type = args.get("type", "")
        return cls(
            q=args.get("q", "").strip()[:SEARCH_LIMIT],
            status=EntryStatus(status) if status in STATUSES else None,
            review=review if review in REVIEW_LABELS else "",
            district=args.get("district", "").strip()[:100],
            industry=args.get("industry", "").strip()[:100],
            work_type=WorkType(work_type) if work_type in WORK_TYPES else None,
            warnings=args.get("warnings") == "1",
            sort=sort if sort in SORT_LABELS else DEFAULT_SORT,
            page=max(ascii_int(args.get("page")) or 1, 1),
        )

    def args(self, **changes: Any) -> dict[str, str]:
        """The query string that asks for this again (with `changes`), defaults left out."""
        query = replace(self, **changes)
        values = {
            "q": query.q,
            "status": query.status.value if query.status else "",
            "review": query.review,
            "district": query.district,
            "industry": query.industry,
            "type": query.work_type.value if query.work_type else "",
            "warnings": "1" if query.warnings else "",
            "sort": "" if query.sort == DEFAULT_SORT else query.sort,
            "page": "" if query.page == 1 else str(query.page),
        }
        return {k: v for k, v in values.items() if v}

    @property
    def filtered(self) -> bool:
        return bool(self.args(sort=DEFAULT_SORT, page=1))


@dataclass
class QueuePage:
    """One page of the queue: its entries (with jobs and assets loaded) and where it is."""

    query: QueueQuery
    entries: list[Entry]
    total: int
    pages: int
    durations: dict[int, float | None] = field(default_factory=dict)

    @property
    def page(self) -> int:
        return self.query.page


@dataclass(frozen=True)
class Refusal:
    number: int
    message: Message


@dataclass
class Approval:
    """What a (bulk) approval did: the numbers of the entries now approved, and those refused
    with why (numbers, not rows: the rows expire with the commit, and reading a thousand of
    them again would be a query each)."""

    approved: list[int] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


def escape_like(text: str) -> str:
    """`text` as a literal inside a LIKE pattern (with `\\` as the escape character)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def shown_duration() -> ColumnElement[float | None]:
    """The seconds of an entry's shown video, in SQL: its renditions from the newest upload
    that finished processing (the rule of web.media.shown_assets), for sorting by length."""
    shown_source = (
        select(Job.source_key)
        .where(Job.entry_id == Entry.id, Job.state == JobState.READY)
        .order_by(Job.id.desc())
        .limit(1)
        .correlate(Entry)
        .scalar_subquery()
    )
    return (
        select(func.max(MediaAsset.duration))
        .where(
            MediaAsset.entry_id == Entry.id,
            MediaAsset.kind == AssetKind.RENDITION,
            MediaAsset.source_key == shown_source,
        )
        .correlate(Entry)
        .scalar_subquery()
    )


def _search(q: str) -> ColumnElement[bool]:
    pattern = f"%{escape_like(q)}%"
    found = or_(
        Entry.title.ilike(pattern, escape="\\"), Entry.collective.ilike(pattern, escape="\\")
    )
    number = _NUMBER.fullmatch(q)
    if number is not None and (value := ascii_int(number.group(1))) is not None:
        found = or_(found, Entry.number == value)
    return found


def _filtered(contest: Contest, query: QueueQuery) -> Select[Any]:
    stmt = select(Entry).where(Entry.contest_id == contest.id)
    if contest.recommendation_required:  # 逐级推荐: only what the districts recommended
        stmt = stmt.where(Entry.district_decision == "recommended")
    if query.q:
        stmt = stmt.where(_search(query.q))
    if query.status is not None:
        stmt = stmt.where(Entry.status == query.status)
    if query.district:
        stmt = stmt.where(Entry.district == query.district)
    if query.work_type is not None:
        stmt = stmt.where(Entry.work_type == query.work_type)
    if query.industry:
        stmt = stmt.where(Entry.industry == query.industry)
    if query.warnings:
        stmt = stmt.where(func.json_array_length(Entry.qc) > 0)
    if query.review == "approved":
        stmt = stmt.where(Entry.approved_at.is_not(None))
    elif query.review == "returned":
        stmt = stmt.where(Entry.returned_at.is_not(None))
    elif query.review == "waiting":
        stmt = stmt.where(
            Entry.status == EntryStatus.READY,
            Entry.approved_at.is_(None),
            Entry.returned_at.is_(None),
        )
    return stmt


def _order(sort: str, duration: ColumnElement[float | None]) -> list[Any]:
    orders: dict[str, list[Any]] = {
        "newest": [Entry.created_at.desc(), Entry.id.desc()],
        "number": [Entry.number],
        "title": [Entry.title, Entry.number],
        "duration": [duration.asc().nulls_last(), Entry.number],
    }
    return orders[sort]


def load_pieces(session: Session, entries: list[Entry]) -> None:
    """Load the pieces of the photo, comic and story entries among `entries` in one query
    (none for a page of videos), so showing their covers reads no row per entry."""
    ids = [entry.id for entry in entries if entry.work_type.has_pieces]
    if ids:
        session.scalars(
            select(Entry).where(Entry.id.in_(ids)).options(selectinload(Entry.pieces))
        ).all()


def queue_page(session: Session, contest: Contest, query: QueueQuery) -> QueuePage:
    """The page of the contest's entries that `query` asks for; past the end, the last."""
    stmt = _filtered(contest, query)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(math.ceil(total / PAGE_SIZE), 1)
    query = replace(query, page=min(query.page, pages))
    duration = shown_duration().label("duration")
    rows = session.execute(
        stmt.add_columns(duration)
        .options(selectinload(Entry.jobs), selectinload(Entry.assets))
        .order_by(*_order(query.sort, duration))
        .offset((query.page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    load_pieces(session, [row[0] for row in rows])
    return QueuePage(
        query=query,
        entries=[row[0] for row in rows],
        total=total,
        pages=pages,
        durations={row[0].id: row[1] for row in rows},
    )


def status_counts(session: Session, contest: Contest) -> dict[EntryStatus, int]:
    """How many of the contest's entries are in each status (those with any)."""
    rows = session.execute(
        select(Entry.status, func.count())
        .where(Entry.contest_id == contest.id)
        .group_by(Entry.status)
    )
    return dict(rows.tuples().all())


def review_counts(session: Session, contest: Contest) -> dict[str, int]:
    """How many of the contest's entries wait for review, are approved, are sent back."""
    waiting = (
        (Entry.status == EntryStatus.READY)
        & Entry.approved_at.is_(None)
        & Entry.returned_at.is_(None)
    )
    row = session.execute(
        select(
            func.count().filter(waiting),
            func.count().filter(Entry.approved_at.is_not(None)),
            func.count().filter(Entry.returned_at.is_not(None)),
        ).where(Entry.contest_id == contest.id)
    ).one()
    return dict(zip(REVIEW_LABELS, row, strict=True))


def filter_choices(session: Session, contest: Contest) -> dict[str, list[str]]:
    """The districts and industries to filter by: the contest's lists, then any other value
    its entries hold (a contest without a list lets contestants type their own)."""
    choices = {}
    for column, listed in (
        (Entry.district, contest.districts or []),
        (Entry.industry, contest.industries or []),
    ):
        held = set(session.scalars(select(column).where(Entry.contest_id == contest.id).distinct()))
        choices[column.key] = list(listed) + sorted(held - set(listed))
    return choices


def entries_by_ids(session: Session, contest: Contest, ids: Iterable[int]) -> list[Entry]:
    """The contest's entries among `ids`, in one query; other contests' and unknown ids are
    left out."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    return list(
        session.scalars(
            select(Entry)
            .where(Entry.contest_id == contest.id, Entry.id.in_(wanted))
            .order_by(Entry.number)
        )
    )


def approve(session: Session, entries: list[Entry], user: User) -> Approval:
    """Approve ready entries for the gallery (an approved one stays as it was approved);
    a sent-back entry approved now is no longer sent back. Each entry approved now tells its
    contestant (`entry_approved`). One commit for all."""
    result = Approval()
    now = utcnow()
    fresh = []
    for entry in entries:
        if entry.status is not EntryStatus.READY:
            result.refused.append(Refusal(entry.number, NOT_READY))
            continue
        if entry.contest.recommendation_required and entry.district_decision != "recommended":
            # The queue hides these; a forged id in a bulk approval must not let one in.
            result.refused.append(Refusal(entry.number, NOT_RECOMMENDED))
            continue
        if entry.approved_at is None:
            fresh.append(entry)
        entry.approved_at = entry.approved_at or now
        entry.returned_at, entry.return_reason = None, ""
        result.approved.append(entry.number)
    # Told after the loop: the first notify flushes every change at once (grouped updates),
    # and only entries approved now are told (approving twice tells nobody twice).
    tell_approved(session, fresh)
    user_id = user.id
    session.commit()
    if result.approved:
        log.info("entries %s approved by user %s", result.approved, user_id)
    return result


def check_reason(reason: str) -> str:
    """The reason for sending an entry back, trimmed; ReviewError when empty or too long."""
    text = reason.strip()
    if not text:
        raise ReviewError(Message("请写明退回原因：参赛者会看到它，并据此修改作品"))
    if len(text) > REASON_LIMIT:
        raise ReviewError(
            Message(
                "退回原因不能超过 %(limit)d 个字（现在 %(n)d 个）", limit=REASON_LIMIT, n=len(text)
            )
        )
    return text


def send_back(session: Session, entry: Entry, reason: str, user: User) -> Entry:
    """Send an entry back to its contestant with a reason, told by mail and SMS
    (`entry_returned`); it leaves the gallery. Commits."""
    text = check_reason(reason)
    if entry.status is EntryStatus.WITHDRAWN:
        raise ReviewError(Message("作品已撤回，不需要退回"))
    # The same reason again on an entry not fixed since is the same decision (a form sent
    # twice): it keeps its time, so its message is not queued again. A fix clears the
    # return, so a later send-back is a new decision with a new time and a new message.
    if entry.returned_at is None or entry.return_reason != text:
        entry.returned_at = utcnow()
    entry.return_reason = text
    entry.approved_at = None
    tell_returned(session, entry)
    number, user_id = entry.number, user.id
    session.commit()
    log.info("entry %s sent back by user %s", number, user_id)
    return entry


def bulk_approval_warning(
    session: Session, contest: Contest, entries: list[Entry]
) -> Message | None:
    """Why approving these entries now would unblind some of them, or None (the rule of
    `judging.blind.approval_warning`, for many entries at once)."""
    rnd = open_blind_round(session, contest)
    if rnd is None or not shows_gallery(session, contest):
        return None
    fresh = {e.id for e in entries if e.approved_at is None}
    exposed = fresh & held_entries(session, rnd) if fresh else set()
    if not exposed:
        return None
    return Message(
        "“%(round)s”正在匿名评审，所选作品中有 %(n)d 件也在其中。现在公开，评委就能在作品展示中"
        "看到它们的集体名称和县区。建议该轮评审结束后再公开；确需现在公开，请确认。",
        round=rnd.name,
        n=len(exposed),
    )


def parse_ids(values: Iterable[str]) -> list[int]:
    """Entry ids from a form: each value one id, or several separated by commas (as the
    confirmation page sends them back). ReviewError when none is chosen, one is not an id,
    or there are more than BULK_LIMIT."""
    ids: set[int] = set()
    for value in values:
        for part in filter(str.strip, value.split(",")):
            number = ascii_int(part)
            if number is None:
                raise ReviewError(Message("所选作品有误，请刷新页面后重新勾选"))
            ids.add(number)
    if not ids:
        raise ReviewError(Message("请先勾选要通过的作品"))
    if len(ids) > BULK_LIMIT:
        raise ReviewError(Message("一次最多批量通过 %(limit)d 件作品", limit=BULK_LIMIT))
    return sorted(ids)
