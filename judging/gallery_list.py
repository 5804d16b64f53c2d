"""One page of the public gallery: search by title or collective, filters, a whitelisted sort.

The page is one SQL query (plus a count), however many entries the contest holds. What may
be public at all is the rule of `judging.gallery.shows_gallery`; sorting by votes is offered
only where the public sees the counts (`judging.gallery.shows_vote_counts`), so a closed
vote's ranking cannot be read off the order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from judging.gallery import shows_gallery
from judging.messages import N_
from judging.numbers import ascii_int
from judging.review import escape_like, load_pieces
from storage.models import Contest, Entry, EntryStatus, Vote, WorkType

PAGE_SIZE = 24
SEARCH_LIMIT = 100
SORT_LABELS = {
    "newest": N_("最新"),
    "votes": N_("票数最多"),
    "number": N_("编号"),
}
DEFAULT_SORT = "newest"
WORK_TYPES = frozenset(t.value for t in WorkType)


@dataclass(frozen=True)
class GalleryQuery:
    """What a visitor asked the gallery for; built from a query string, never failing."""

    q: str = ""
    district: str = ""
    industry: str = ""
    work_type: WorkType | None = None
    sort: str = DEFAULT_SORT
    page: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, str], counts_shown: bool) -> GalleryQuery:
        """Read a query string; anything unknown (or a sort by hidden votes) is left out."""
        sort = args.get("sort", "")
        allowed = sort in SORT_LABELS and (sort != "votes" or counts_shown)
        work_type = args.get("type", "")
        return cls(
            q=args.get("q", "").strip()[:SEARCH_LIMIT],
            district=args.get("district", "").strip()[:100],
            industry=args.get("industry", "").strip()[:100],
            work_type=WorkType(work_type) if work_type in WORK_TYPES else None,
            sort=sort if allowed else DEFAULT_SORT,
            page=max(ascii_int(args.get("page")) or 1, 1),
        )

    def args(self, **changes: Any) -> dict[str, str]:
        """The query string that asks for this again (with `changes`), defaults left out."""
        query = replace(self, **changes)
        values = {
            "q": query.q,
            "district": query.district,
            "industry": query.industry,
            "type": query.work_type.value if query.work_type else "",
            "sort": "" if query.sort == DEFAULT_SORT else query.sort,
            "page": "" if query.page == 1 else str(query.page),
        }
        return {k: v for k, v in values.items() if v}


@dataclass
class GalleryPage:
    """One page of the gallery: its entries (jobs and assets loaded), their votes, where it is."""

    query: GalleryQuery
    entries: list[Entry] = field(default_factory=list)
    total: int = 0
    pages: int = 1
    votes: dict[int, int] = field(default_factory=dict)
    # Public entries of each work type for the same search and filters (any type).
    type_counts: dict[WorkType, int] = field(default_factory=dict)


def sort_choices(counts_shown: bool) -> dict[str, str]:
    """The sorts a visitor may pick (the untranslated labels)."""
    return {k: v for k, v in SORT_LABELS.items() if k != "votes" or counts_shown}


def _public(contest: Contest, query: GalleryQuery, any_type: bool = False) -> Select[Any]:
    stmt = select(Entry).where(
        Entry.contest_id == contest.id,
        Entry.approved_at.is_not(None),
        Entry.status == EntryStatus.READY,
    )
    if query.q:
        pattern = f"%{escape_like(query.q)}%"
        stmt = stmt.where(
            or_(
                Entry.title.ilike(pattern, escape="\\"),
                Entry.collective.ilike(pattern, escape="\\"),
            )
        )
    if query.district:
        stmt = stmt.where(Entry.district == query.district)
    if query.industry:
        stmt = stmt.where(Entry.industry == query.industry)
    if query.work_type is not None and not any_type:
        stmt = stmt.where(Entry.work_type == query.work_type)
    return stmt


def type_counts(session: Session, contest: Contest, query: GalleryQuery) -> dict[WorkType, int]:
    """How many public entries of each type match the query's search and other filters."""
    counted = _public(contest, query, any_type=True).subquery()
    rows = session.execute(
        select(counted.c.work_type, func.count()).group_by(counted.c.work_type)
    ).all()
    return {WorkType(row[0]): row[1] for row in rows}


def gallery_page(session: Session, contest: Contest, query: GalleryQuery) -> GalleryPage:
    """The page of public entries that `query` asks for; past the end, the last."""
    if not shows_gallery(session, contest):
        return GalleryPage(query=replace(query, page=1))
    stmt = _public(contest, query)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(math.ceil(total / PAGE_SIZE), 1)
    query = replace(query, page=min(query.page, pages))
    counted = select(Vote.entry_id, func.count().label("votes")).group_by(Vote.entry_id).subquery()
    votes = func.coalesce(counted.c.votes, 0).label("votes")
    orders: dict[str, list[Any]] = {
        "newest": [Entry.created_at.desc(), Entry.id.desc()],
        "votes": [votes.desc(), Entry.number],
        "number": [Entry.number],
    }
    rows = session.execute(
        stmt.add_columns(votes)
        .outerjoin(counted, counted.c.entry_id == Entry.id)
        .options(selectinload(Entry.jobs), selectinload(Entry.assets))
        .order_by(*orders[query.sort])
        .offset((query.page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    load_pieces(session, [row[0] for row in rows])
    return GalleryPage(
        query=query,
        entries=[row[0] for row in rows],
        total=total,
        pages=pages,
        votes={row[0].id: row[1] for row in rows},
        type_counts=type_counts(session, contest, query),
    )
