"""What the committee office reads of activity reports: the review queue's filter, counts by
district, industry, type and month, the districts still without the required activity, and
the public timeline of adopted reports."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from judging.numbers import ascii_int
from storage.models import ActivityReport, Contest, ReportStatus
from storage.settings import Settings

_MONTH = re.compile(r"(\d{4})-(\d{2})")
TIMELINE_PAGE = 12
QUEUE_PAGE = 50


def parse_month(text: str | None) -> tuple[date, date] | None:
    """A month written "2026-05" as its first day and the next month's; None for anything else."""
    found = _MONTH.fullmatch((text or "").strip())
    if not found:
        return None
    year, month = int(found.group(1)), int(found.group(2))
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        return None
    start = date(year, month, 1)
    return start, date(year + (month == 12), month % 12 + 1, 1)


@dataclass(frozen=True)
class ReportFilter:
    """The review queue's filter; values a form did not offer are dropped, never trusted."""

    district: str = ""
    activity_type: str = ""
    status: str = ""
    month: str = ""

    @classmethod
    def from_args(
        cls, args: Mapping[str, str], contest: Contest, settings: Settings
    ) -> ReportFilter:
        district = args.get("district", "")
        kind = args.get("type", "")
        status = args.get("status", "")
        month = args.get("month", "")
        return cls(
            district=district if district in districts_of(contest) else "",
            activity_type=kind if kind in settings.activity_type_list else "",
            status=status if status in {s.value for s in ReportStatus} else "",
            month=month if parse_month(month) else "",
        )

    def apply(self, query: Select[tuple[ActivityReport]]) -> Select[tuple[ActivityReport]]:
        """`query` narrowed to this filter."""
        if self.district:
            query = query.where(ActivityReport.district == self.district)
        if self.activity_type:
            query = query.where(ActivityReport.activity_type == self.activity_type)
        if self.status:
            query = query.where(ActivityReport.status == ReportStatus(self.status))
        bounds = parse_month(self.month)
        if bounds:
            query = query.where(
                ActivityReport.held_on >= bounds[0], ActivityReport.held_on < bounds[1]
            )
        return query


def districts_of(contest: Contest) -> list[str]:
    """The contest's districts (and city-level organisations), as its entry form lists them."""
    return list(contest.districts or [])


def queue(session: Session, contest: Contest, chosen: ReportFilter) -> list[ActivityReport]:
    """The office's review queue: submitted first (oldest first), then the rest, newest first."""
    query = chosen.apply(
        select(ActivityReport).where(
            ActivityReport.contest_id == contest.id,
            ActivityReport.status != ReportStatus.DRAFT,
        )
    )
    waiting = ActivityReport.status == ReportStatus.SUBMITTED
    query = query.order_by(
        waiting.desc(), ActivityReport.submitted_at.asc(), ActivityReport.id.desc()
    )
    return list(session.scalars(query.limit(QUEUE_PAGE * 4)))


@dataclass
class ReportStats:
    """Counts of a contest's reports by district, industry, type and month."""

    total: int = 0
    adopted: int = 0
    participants: int = 0
    by_district: list[tuple[str, int, int]] = field(default_factory=list)  # (name, all, adopted)
    by_industry: list[tuple[str, int, int]] = field(default_factory=list)
    by_type: list[tuple[str, int, int]] = field(default_factory=list)
    by_month: list[tuple[str, int, int]] = field(default_factory=list)

    @property
    def largest_month(self) -> int:
        """The highest monthly count (the chart's scale), at least 1."""
        return max([count for _, count, _ in self.by_month] or [1]) or 1


def report_stats(session: Session, contest: Contest, settings: Settings) -> ReportStats:
    """Counts of the contest's submitted, adopted and returned reports (drafts not counted)."""
    rows = session.execute(
        select(
            ActivityReport.district,
            ActivityReport.industry,
            ActivityReport.activity_type,
            ActivityReport.held_on,
            ActivityReport.status,
            ActivityReport.participants,
        ).where(
            ActivityReport.contest_id == contest.id,
            ActivityReport.status != ReportStatus.DRAFT,
        )
    ).all()
    stats = ReportStats(total=len(rows))
    counters: dict[str, tuple[Counter[str], Counter[str]]] = {
        name: (Counter(), Counter()) for name in ("district", "industry", "type", "month")
    }
    for district, industry, kind, held_on, status, participants in rows:
        adopted = status is ReportStatus.ADOPTED
        stats.adopted += adopted
        if adopted:
            stats.participants += participants
        keys = {
            "district": district,
            "industry": industry or "（未填）",
            "type": kind,
            "month": held_on.strftime("%Y-%m"),
        }
        for name, key in keys.items():
            counters[name][0][key] += 1
            counters[name][1][key] += adopted
    stats.by_district = _table(counters["district"], districts_of(contest))
    stats.by_industry = _table(counters["industry"], list(contest.industries or []))
    stats.by_type = _table(counters["type"], settings.activity_type_list)
    months = sorted(counters["month"][0])
    stats.by_month = _table(counters["month"], months)
    return stats


def _table(
    counts: tuple[Counter[str], Counter[str]], order: list[str]
) -> list[tuple[str, int, int]]:
    every, adopted = counts
    names = [*order, *sorted(k for k in every if k not in order)]
    return [(name, every[name], adopted[name]) for name in names]


def missing_required(session: Session, contest: Contest, settings: Settings) -> list[str]:
    """The contest's districts with no adopted report of REQUIRED_ACTIVITY_TYPE yet."""
    required = settings.required_activity_type
    if not required:
        return []
    held = set(
        session.scalars(
            select(ActivityReport.district).where(
                ActivityReport.contest_id == contest.id,
                ActivityReport.status == ReportStatus.ADOPTED,
                ActivityReport.activity_type == required,
            )
        )
    )
    return [d for d in districts_of(contest) if d not in held]


@dataclass
class TimelinePage:
    reports: list[ActivityReport]
    page: int
    pages: int
    district: str
    activity_type: str
    total: int


def timeline(
    session: Session, contest: Contest | None, args: Mapping[str, str], settings: Settings
) -> TimelinePage:
    """The public 风采展示: adopted reports, newest first, by district and type."""
    if contest is None:
        return TimelinePage([], 1, 1, "", "", 0)
    district = args.get("district", "")
    district = district if district in districts_of(contest) else ""
    kind = args.get("type", "")
    kind = kind if kind in settings.activity_type_list else ""
    query = select(ActivityReport).where(
        ActivityReport.contest_id == contest.id, ActivityReport.status == ReportStatus.ADOPTED
    )
    if district:
        query = query.where(ActivityReport.district == district)
    if kind:
        query = query.where(ActivityReport.activity_type == kind)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // TIMELINE_PAGE))
    page = min(max(ascii_int(args.get("page", "1"), 10**6) or 1, 1), pages)
    found = session.scalars(
        query.order_by(ActivityReport.held_on.desc(), ActivityReport.id.desc())
        .offset((page - 1) * TIMELINE_PAGE)
        .limit(TIMELINE_PAGE)
    )
    return TimelinePage(list(found), page, pages, district, kind, total)


def public_report(session: Session, report_id: int) -> ActivityReport | None:
    """An adopted report; None for any other (drafts, submitted and returned are never public)."""
    report = session.get(ActivityReport, report_id)
    return report if report is not None and report.status is ReportStatus.ADOPTED else None
