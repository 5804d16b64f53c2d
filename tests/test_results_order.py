"""Award tiers apply in the order written, count and share alike, with every boundary tie
flagged; per category as well; and how the 说明 states panel sizes."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from judging.export_notes import panel_text
from judging.ranking import TIE_AT_BOUNDARY, Tier, award, rank
from judging.results import _award_by_category, tiers_of

ISSUE_TIERS: list[dict[str, Any]] = [
    {"name": "一等奖", "count": 2},
    {"name": "二等奖", "share": 0.2},
    {"name": "三等奖", "count": 3},
]


def awards(scores: dict[int, float], tiers: list[dict[str, Any]]) -> dict[int, str]:
    rows = award(rank(scores), tiers_of(tiers, len(scores)))
    return {row.entry: row.award for row in rows}


def test_count_and_share_tiers_interleave_as_listed() -> None:
    assert tiers_of(ISSUE_TIERS, 20) == [Tier("一等奖", 2), Tier("二等奖", 4), Tier("三等奖", 3)]
    # 20 entries, entry n scoring 100 - n: entry n is ranked n.
    given = awards({n: 100.0 - n for n in range(1, 21)}, ISSUE_TIERS)
    assert [n for n in given if given[n] == "一等奖"] == [1, 2]
    assert [n for n in given if given[n] == "二等奖"] == [3, 4, 5, 6]
    assert [n for n in given if given[n] == "三等奖"] == [7, 8, 9]
    assert all(given[n] == "" for n in range(10, 21))


def test_a_share_rounds_half_up_where_it_stands() -> None:
    # 0.25 of 10 entries is 2.5: three places, then the count tier after it.
    tiers = [{"name": "二等奖", "share": 0.25}, {"name": "三等奖", "count": 1}]
    assert tiers_of(tiers, 10) == [Tier("二等奖", 3), Tier("三等奖", 1)]
    assert tiers_of([{"name": "x", "share": 0.04}], 10) == [Tier("x", 0)]


def test_ties_are_flagged_at_every_tier_boundary_in_the_written_order() -> None:
    scores = {n: 100.0 - n for n in range(1, 21)}
    scores[3] = scores[2]  # ranks 2 and 3 tie across 一等奖 | 二等奖
    scores[7] = scores[6]  # 6 and 7 across 二等奖 (share) | 三等奖
    scores[10] = scores[9]  # 9 and 10 across 三等奖 | nothing
    rows = {r.entry: r for r in award(rank(scores), tiers_of(ISSUE_TIERS, 20))}
    for pair, tier in (((2, 3), "一等奖"), ((6, 7), "二等奖"), ((9, 10), "三等奖")):
        for entry in pair:
            assert rows[entry].award == tier, (entry, rows[entry].award)
            assert TIE_AT_BOUNDARY in rows[entry].flags
    untied = [n for n in rows if n not in (2, 3, 6, 7, 9, 10)]
    assert not [n for n in untied if rows[n].flags]
    assert [rows[n].award for n in (4, 5, 8)] == ["二等奖", "二等奖", "三等奖"]


def test_tiers_per_category_keep_their_order_and_count_their_own_entries() -> None:
    # 10 collective entries (1-10) and 5 aspiring ones (11-15), interleaved in the ranking.
    category = {n: "collective" if n <= 10 else "aspiring" for n in range(1, 16)}
    entries: Any = {n: SimpleNamespace(category=c) for n, c in category.items()}
    scores = {n: 100.0 - (n if n <= 10 else (n - 10) * 2 - 0.5) for n in range(1, 16)}
    tiers: list[dict[str, Any]] = [
        {"name": "一等奖", "count": 1, "category": "collective"},
        {"name": "二等奖", "share": 0.2, "category": "collective"},
        {"name": "三等奖", "count": 2, "category": "collective"},
        {"name": "一等奖", "share": 0.2, "category": "aspiring"},
        {"name": "二等奖", "count": 1, "category": "aspiring"},
    ]
    rows = {r.entry: r.award for r in _award_by_category(rank(scores), tiers, entries)}
    # Collective: 1 first, 20 % of 10 = 2 seconds, then 2 thirds.
    assert [rows[n] for n in range(1, 7)] == ["一等奖", "二等奖", "二等奖", "三等奖", "三等奖", ""]
    # Aspiring: 20 % of 5 = 1 first, then 1 second.
    assert [rows[n] for n in range(11, 14)] == ["一等奖", "二等奖", ""]


def test_the_notes_give_one_panel_size_or_the_range() -> None:
    assert panel_text([3, 3]) == "3 人"
    assert panel_text([2, 3, 5]) == "2–5 人（各作品见“评委人数”一列）"
    assert panel_text([2, 3], column=False) == "2–3 人"  # the 公示 has no such column
    assert panel_text([]) == "尚无提交的评分"
