"""Results of a round: aggregation, ranking, awards, exports and the frozen 公示 snapshot."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from judging import spreadsheet
from judging.aggregation import aggregate
from judging.codes import codes_of
from judging.gallery import vote_counts
from judging.ranking import (
    Ranked,
    Tier,
    award,
    combine_with_votes,
    flag_label,
    rank,
    tiers_from_shares,
)
from judging.results_notices import tell_published
from storage.models import (
    Assignment,
    Conflict,
    Contest,
    Entry,
    Round,
    Score,
    Snapshot,
    User,
    WorkType,
)


@dataclass
class ResultRow:
    entry: int
    number: int
    title: str
    collective: str
    district: str
    industry: str
    rank: int  # 0: not ranked (no submitted score yet; see judging/panels.round_results)
    score: float | None  # None: not scored yet
    award: str
    flags: list[str]
    judges: dict[str, float] = field(default_factory=dict)  # judge name -> total
    code: str = ""  # the entry's anonymous code in the round, what its judges knew it by
    work_type: str = "video"  # WorkType value; with results by type, ranks are within it

    @classmethod
    def for_entry(cls, entry: Entry, **result: Any) -> ResultRow:
        """A row of `entry` (its number, title, collective …) with the `result` fields."""
        return cls(
            entry=entry.id,
            number=entry.number,
            title=entry.title,
            collective=entry.collective,
            district=entry.district,
            industry=entry.industry,
            work_type=WorkType(entry.work_type).value,
            **result,
        )

    @property
    def flag_names(self) -> list[str]:
        """The flags' Chinese names (`judging.ranking.FLAG_LABELS`), for pages and exports."""
        return [flag_label(flag) for flag in self.flags]


class Results(list[ResultRow]):
    """A round's result rows, in rank order, knowing their round for the exports' 说明."""

    def __init__(self, rnd: Round, rows: Iterable[ResultRow] = ()) -> None:
        super().__init__(rows)
        self.round = rnd

    def notes(self, now: datetime | None = None) -> list[tuple[str, str]]:
        """The 说明 sheet: method, panels, award tiers and the time of the export."""
        # Imported here: export_notes needs judging.rounds, which imports this module.
        from judging.export_notes import exported_now, round_notes

        contest = self.round.contest
        panels = [len(row.judges) for row in self]
        return [
            *round_notes(contest, self.round, contest.aggregation, panels),
            exported_now(now),
        ]


def tiers_of(contest_tiers: list[dict[str, Any]], entries: int) -> list[Tier]:
    """Award tiers in the order written, each given by count (`count`) or by share of the
    `entries` (`share`, its count worked out where it stands, rounded as tiers_from_shares
    rounds): [一等奖 count 2, 二等奖 share 0.2, 三等奖 count 3] over 20 entries gives ranks 1–2,
    3–6 and 7–9."""
    return [
        Tier(t["name"], int(t["count"]))
        if "count" in t
        else tiers_from_shares(entries, [(t["name"], float(t["share"]))])[0]
        for t in contest_tiers
        if "count" in t or "share" in t
    ]


def results(session: Session, rnd: Round) -> Results:
    """Rank the round's entries from submitted scores with the contest's method.

    Only scores of the entry's panel count: a judge taken off the panel, or who declared a
    conflict after submitting, leaves a score on record that no longer counts."""
    contest = rnd.contest
    on_panel = select(Assignment.id).where(
        Assignment.round_id == Score.round_id,
        Assignment.judge_id == Score.judge_id,
        Assignment.entry_id == Score.entry_id,
    )
    conflicted = select(Conflict.id).where(
        Conflict.judge_id == Score.judge_id, Conflict.entry_id == Score.entry_id
    )
    submitted = session.scalars(
        select(Score).where(
            Score.round_id == rnd.id,
            Score.submitted_at.is_not(None),
            on_panel.exists(),
            ~conflicted.exists(),
        )
    ).all()
    sheet: dict[int, dict[int, float]] = {}
    for score in submitted:
        if score.total is not None:
            sheet.setdefault(score.entry_id, {})[score.judge_id] = score.total
    if not sheet:
        return Results(rnd)
    entries = {e.id: e for e in session.scalars(select(Entry).where(Entry.id.in_(list(sheet))))}
    votes = vote_counts(session, contest) if contest.jury_weight < 1 else {}
    tie_break = [_criterion_means(submitted, key) for key in contest.tie_break or []]
    rows: list[Ranked] = []
    # By work type, each type is aggregated (a judge's z-scores, the votes' scale), ranked
    # and awarded on its own; otherwise all entries are one group.
    for group in result_groups(contest, list(sheet), lambda e: entries[e].work_type):
        part = {e: sheet[e] for e in group}
        scores = aggregate(contest.aggregation, part, min_panel=contest.trim_min_panel)
        if contest.jury_weight < 1:
            # The most-voted entry of the type (of the contest, all together) sets the scale.
            mine = votes
            if contest.results_by_type:
                mine = {e: n for e, n in votes.items() if e in part}
            scores = combine_with_votes(scores, mine, contest.jury_weight)
        ranked = rank(scores, tie_break=tie_break, sheet=part, disagreement=contest.disagreement)
        rows += _award_by_category(ranked, contest.award_tiers, entries)
    names = {u.id: f"{u.display_name}（{u.username}）" for u in session.scalars(select(User))}
    codes = codes_of(session, rnd)
    return Results(
        rnd,
        (
            ResultRow.for_entry(
                entries[row.entry],
                rank=row.rank,
                score=row.score,
                award=row.award,
                flags=row.flags,
                judges={names.get(j, str(j)): t for j, t in sorted(sheet[row.entry].items())},
                code=codes.get(row.entry, ""),
            )
            for row in rows
        ),
    )


def type_order(contest: Contest) -> list[str]:
    """The work types in the contest's order, then any other (an entry's type is kept even
    where the contest no longer lists it), for grouping results."""
    listed = [WorkType(t).value for t in contest.work_types or ["video"]]
    return listed + [t.value for t in WorkType if t.value not in listed]


def result_groups(
    contest: Contest, items: Sequence[Any], type_of: Callable[[Any], str]
) -> list[list[Any]]:
    """The items ranked and awarded together: one group per work type (in the contest's
    order, empty ones left out) when results are by work type, else all in one."""
    if not contest.results_by_type:
        return [list(items)]
    return group_by_type(type_order(contest), items, type_of)


def group_by_type(
    order: list[str], items: Sequence[Any], type_of: Callable[[Any], str]
) -> list[list[Any]]:
    """The items by work type, types in `order` (empty ones left out), each in input order."""
    groups: dict[str, list[Any]] = {t: [] for t in order}
    for item in items:
        groups.setdefault(WorkType(type_of(item)).value, []).append(item)
    return [group for group in groups.values() if group]


def _criterion_means(scores: Sequence[Score], key: str) -> dict[int, float]:
    """Each entry's mean score on one criterion, for breaking ties."""
    by_entry: dict[int, list[float]] = {}
    for score in scores:
        if key in (score.values or {}):
            by_entry.setdefault(score.entry_id, []).append(float(score.values[key]))
    return {entry: sum(v) / len(v) for entry, v in by_entry.items()}


def _award_by_category(
    rows: list[Ranked], tiers: list[dict[str, Any]], entries: dict[int, Entry]
) -> list[Ranked]:
    """Award tiers over all entries, or per category where a tier names one."""
    general = [t for t in tiers if "category" not in t]
    award(rows, tiers_of(general, len(rows)))
    for category in {t["category"] for t in tiers if "category" in t}:
        group = [r for r in rows if str(entries[r.entry].category) == category]
        award(group, tiers_of([t for t in tiers if t.get("category") == category], len(group)))
    return rows


# The export's columns: Chinese heading, then the cell of a row. Numbers are text with their
# zeros (0004); flags are their Chinese names.
COLUMNS: list[tuple[str, Callable[[ResultRow], Any]]] = [
    ("名次", lambda r: r.rank),
    ("编号", lambda r: spreadsheet.entry_number(r.number)),
    ("匿名编号", lambda r: r.code),
    ("作品名称", lambda r: r.title),
    ("集体名称", lambda r: r.collective),
    ("县（市）区", lambda r: r.district),
    ("行业", lambda r: r.industry),
    ("得分", lambda r: r.score),
    ("奖项", lambda r: r.award),
    ("提示", lambda r: "、".join(r.flag_names)),
    ("评委人数", lambda r: len(r.judges)),
]


def _typed(rows: list[ResultRow]) -> bool:
    """Whether the rows need a 作品类型 column: they mix work types."""
    return len({row.work_type for row in rows}) > 1


def table(rows: list[ResultRow], typed: bool = False) -> tuple[list[str], list[list[Any]]]:
    """Header and rows, with one column per judge for the breakdown; `typed` adds the work
    type after the title."""
    judges = sorted({name for row in rows for name in row.judges})
    columns = list(COLUMNS)
    if typed:
        columns.insert(4, ("作品类型", lambda r: WorkType(r.work_type).label))
    header = [heading for heading, _cell in columns] + judges
    body = [
        [cell(row) for _heading, cell in columns] + [row.judges.get(j, "") for j in judges]
        for row in rows
    ]
    return header, body


def sections(rows: list[ResultRow]) -> list[tuple[str, list[ResultRow]]]:
    """The export's parts: one per work type (its Chinese name, its rows) when the round's
    contest gives results by work type, else one unnamed part of every row."""
    if not isinstance(rows, Results) or not rows.round.contest.results_by_type:
        return [("", list(rows))]
    groups = result_groups(rows.round.contest, list(rows), lambda r: r.work_type)
    return [(WorkType(group[0].work_type).label, group) for group in groups] or [("", [])]


def to_csv(rows: list[ResultRow]) -> str:
    """The table alone (the 说明 is the XLSX's second sheet); by work type, a section per
    type: a line 作品类型 and its name, the table, a blank line."""
    parts = sections(rows)
    if len(parts) == 1 and not parts[0][0]:
        return spreadsheet.to_csv(*table(rows, _typed(rows)))
    out = []
    for label, group in parts:
        header, body = table(group)
        out.append(spreadsheet.to_csv(["作品类型", label], [header, *body, []]).lstrip("\ufeff"))
    return "\ufeff" + "".join(out)


def to_json(rows: list[ResultRow]) -> str:
    return json.dumps(
        [{**asdict(r), "flag_names": r.flag_names} for r in rows], ensure_ascii=False, indent=2
    )


def to_xlsx(rows: list[ResultRow], now: datetime | None = None) -> bytes:
    """The table, and a 说明 sheet where the rows know their round; by work type, a sheet
    per type named after it."""
    notes = rows.notes(now) if isinstance(rows, Results) else []
    parts = sections(rows)
    if len(parts) == 1 and not parts[0][0]:
        return spreadsheet.to_xlsx(*table(rows, _typed(rows)), title="results", notes=notes)
    sheets = [(label, *table(group)) for label, group in parts]
    return spreadsheet.to_xlsx_sheets(sheets, notes=notes)


def publish_snapshot(session: Session, rnd: Round) -> Snapshot:
    """Freeze the round's results as a 公示 with its content hash and tell the contest's
    contestants (`results_published`); commits."""
    by_type = rnd.contest.results_by_type
    content = [
        {
            "rank": r.rank,
            "number": r.number,
            "title": r.title,
            "collective": r.collective,
            "score": r.score,
            "award": r.award,
            # By work type, each row names its type: the 公示 shows a table per type.
            **({"work_type": r.work_type} if by_type else {}),
        }
        for r in results(session, rnd)
    ]
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    snapshot = Snapshot(
        contest_id=rnd.contest_id,
        round_id=rnd.id,
        method=rnd.contest.aggregation,
        content=content,
        sha256=hashlib.sha256(canonical.encode()).hexdigest(),
    )
    session.add(snapshot)
    session.flush()  # its id names the contestants' messages
    tell_published(session, snapshot)
    session.commit()
    return snapshot


RENDERERS: dict[str, Callable[[list[ResultRow]], str | bytes]] = {
    "csv": to_csv,
    "json": to_json,
    "xlsx": to_xlsx,
}
MIMETYPES = {**spreadsheet.MIMETYPES, "json": "application/json"}
