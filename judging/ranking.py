"""Ranking, award tiers and the flags a panel must see: ties at a boundary, disagreement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from judging.messages import N_

TIE_AT_BOUNDARY = "tie_at_award_boundary"
DISAGREEMENT = "judges_disagree"
# Flags of entries the ranking could not judge in full (judging/panels.round_results).
SHORT_PANEL = "short_panel"
UNSCORED = "unscored"
EXCLUDED = "excluded"
# What pages and exports call every flag a result row may carry (Chinese; the web layer
# translates): the one list, so no export or page shows a code.
FLAG_LABELS: dict[str, str] = {
    TIE_AT_BOUNDARY: N_("获奖线并列"),
    DISAGREEMENT: N_("评委分歧大"),
    SHORT_PANEL: N_("评委不足"),
    UNSCORED: N_("未评分"),
    EXCLUDED: N_("不再参评"),
}


def flag_label(code: str) -> str:
    """The Chinese name of a result flag."""
    return FLAG_LABELS.get(code, code)


@dataclass(frozen=True)
class Tier:
    name: str
    count: int


@dataclass
class Ranked:
    entry: int
    score: float
    rank: int
    award: str = ""
    spread: float = 0.0
    flags: list[str] = field(default_factory=list)


def rank(
    scores: Mapping[int, float],
    tie_break: Sequence[Mapping[int, float]] = (),
    sheet: Mapping[int, Mapping[int, float]] | None = None,
    disagreement: float | None = None,
    digits: int = 3,
) -> list[Ranked]:
    """Rank entries by score, then by each tie-break (higher first), then smaller spread.

    Entries equal on all of these share a rank. With a sheet, an entry whose judges' totals
    spread more than `disagreement` is flagged. Deterministic: no order of input matters.
    """
    sheet = sheet or {}

    def spread(entry: int) -> float:
        totals = list(sheet.get(entry, {}).values())
        return max(totals) - min(totals) if len(totals) > 1 else 0.0

    def key(entry: int) -> tuple[float, ...]:
        rounded = round(scores[entry], digits)
        return (
            -rounded,
            *(-round(t.get(entry, 0.0), digits) for t in tie_break),
            round(spread(entry), digits),
        )

    ordered = sorted(scores, key=lambda e: (key(e), e))
    rows: list[Ranked] = []
    for position, entry in enumerate(ordered, start=1):
        same = rows and key(rows[-1].entry) == key(entry)
        row = Ranked(
            entry,
            round(scores[entry], digits),
            rows[-1].rank if same else position,
            spread=round(spread(entry), digits),
        )
        if disagreement is not None and row.spread > disagreement:
            row.flags.append(DISAGREEMENT)
        rows.append(row)
    return rows


def award(rows: list[Ranked], tiers: Sequence[Tier]) -> list[Ranked]:
    """Give tiers in rank order by count. A tie across a boundary is flagged, never broken:
    every tied entry gets the higher tier and the flag, for the panel to decide."""
    places = [tier.name for tier in tiers for _ in range(tier.count)]
    for index, row in enumerate(rows):
        if index < len(places):
            row.award = places[index]
    for index in range(1, len(rows)):
        before, row = rows[index - 1], rows[index]
        if row.rank == before.rank and row.award != before.award:
            for tied in rows:
                if tied.rank == row.rank:
                    tied.award = before.award
                    if TIE_AT_BOUNDARY not in tied.flags:
                        tied.flags.append(TIE_AT_BOUNDARY)
    return rows


def tiers_from_shares(total: int, shares: Sequence[tuple[str, float]]) -> list[Tier]:
    """Tiers given as shares of the entries (e.g. 一等奖 5 %), rounded half up."""
    return [Tier(name, int(share * total + 0.5)) for name, share in shares]


def combine_with_votes(
    jury: Mapping[int, float],
    votes: Mapping[int, int],
    jury_weight: float = 0.7,
    scale: float = 100.0,
) -> dict[int, float]:
    """Jury score and public vote combined; votes scaled so the most-voted entry gets `scale`."""
    top = max(votes.values(), default=0)
    return {
        entry: jury_weight * score
        + (1 - jury_weight) * (votes.get(entry, 0) / top * scale if top else 0.0)
        for entry, score in jury.items()
    }
