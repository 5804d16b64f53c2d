"""Judging rules as plain Python: rubric, aggregation, ranking, awards, assignment."""

from __future__ import annotations

import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from judging.aggregation import METHODS, aggregate, trimmed
from judging.assignment import AssignmentError, Party, assign, automatic_conflicts, loads
from judging.ranking import (
    DISAGREEMENT,
    TIE_AT_BOUNDARY,
    Tier,
    award,
    combine_with_votes,
    rank,
    tiers_from_shares,
)
from judging.rubric import DEFAULT_RUBRIC, Criterion, Rubric, ScoreError

scores = st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=12)


def test_the_default_rubric_checks_range_and_step() -> None:
    good = {"theme": "28.5", "story": 27, "production": 20, "appeal": 15}
    assert DEFAULT_RUBRIC.total(DEFAULT_RUBRIC.check(good)) == 90.5
    with pytest.raises(ScoreError) as caught:
        DEFAULT_RUBRIC.check({"theme": "31", "story": "27.3", "production": "", "appeal": "x"})
    assert set(caught.value.errors) == {"theme", "story", "production", "appeal"}
    assert "0 到 30 之间" in caught.value.errors["theme"]
    assert "0.5 的整数倍" in caught.value.errors["story"]


def test_weights_keep_the_scale_of_the_maximum_points() -> None:
    rubric = Rubric((Criterion("a", "A", 50, weight=2), Criterion("b", "B", 50, weight=1)))
    assert rubric.total({"a": 50, "b": 50}) == 100
    assert rubric.total({"a": 50, "b": 0}) == pytest.approx(66.667, abs=1e-3)


@given(scores)
def test_trimmed_mean_stays_within_the_scores_and_ignores_their_order(values: list[float]) -> None:
    result = trimmed(values, min_panel=5)
    assert min(values) - 1e-9 <= result <= max(values) + 1e-9
    assert trimmed(list(reversed(values)), 5) == pytest.approx(result)


def test_trimmed_mean_drops_exactly_one_of_tied_extremes_and_needs_a_panel() -> None:
    assert trimmed([90, 90, 80, 70, 70], 5) == pytest.approx((90 + 80 + 70) / 3)
    assert trimmed([90, 80, 70, 60], 5) == statistics.fmean([90, 80, 70, 60])


@settings(max_examples=50)
@given(
    st.lists(
        st.lists(st.floats(40, 100, allow_nan=False), min_size=4, max_size=4),
        min_size=4,
        max_size=10,
    ),
    st.floats(0.5, 3),
    st.floats(-20, 20),
    st.integers(0, 3),
)
def test_zscore_ranking_ignores_a_judge_shifting_and_scaling_their_scores(
    grid: list[list[float]], scale: float, shift: float, judge: int
) -> None:
    sheet = {e: {j: total for j, total in enumerate(row)} for e, row in enumerate(grid)}
    skewed = {
        e: {j: t * scale + shift if j == judge else t for j, t in by.items()}
        for e, by in sheet.items()
    }
    before, after = aggregate("zscore", sheet), aggregate("zscore", skewed)
    for a in sheet:
        for b in sheet:
            if before[a] - before[b] > 1e-6:
                assert after[a] - after[b] > -1e-6


def test_every_method_is_registered_and_unknown_ones_are_refused() -> None:
    assert set(METHODS) >= {"mean", "median", "trimmed_mean", "zscore"}
    sheet = {1: {1: 80.0, 2: 90.0}, 2: {1: 70.0, 2: 60.0}}
    assert aggregate("mean", sheet) == {1: 85.0, 2: 65.0}
    with pytest.raises(ValueError, match="unknown aggregation"):
        aggregate("best-of", sheet)


def test_ranking_is_deterministic_and_shares_ranks_on_true_ties() -> None:
    scores = {1: 90.0, 2: 85.0, 3: 85.0, 4: 70.0}
    rows = rank(scores)
    assert [(r.entry, r.rank) for r in rows] == [(1, 1), (2, 2), (3, 2), (4, 4)]
    assert [r.entry for r in rank(dict(reversed(scores.items())))] == [1, 2, 3, 4]
    broken = rank(scores, tie_break=[{2: 20.0, 3: 25.0}])
    assert [(r.entry, r.rank) for r in broken] == [(1, 1), (3, 2), (2, 3), (4, 4)]


def test_a_tie_across_an_award_boundary_is_flagged_not_broken() -> None:
    rows = award(rank({1: 90.0, 2: 85.0, 3: 85.0, 4: 70.0}), [Tier("一等奖", 1), Tier("二等奖", 1)])
    assert [(r.entry, r.award) for r in rows] == [
        (1, "一等奖"),
        (2, "二等奖"),
        (3, "二等奖"),
        (4, ""),
    ]
    assert TIE_AT_BOUNDARY in rows[1].flags and TIE_AT_BOUNDARY in rows[2].flags
    assert tiers_from_shares(40, [("一等奖", 0.05), ("二等奖", 0.1)]) == [
        Tier("一等奖", 2),
        Tier("二等奖", 4),
    ]


def test_disagreeing_judges_are_flagged_and_votes_combine_with_the_jury() -> None:
    sheet = {1: {1: 95.0, 2: 55.0}, 2: {1: 80.0, 2: 78.0}}
    rows = rank(aggregate("mean", sheet), sheet=sheet, disagreement=20)
    assert DISAGREEMENT in next(r for r in rows if r.entry == 1).flags
    assert not next(r for r in rows if r.entry == 2).flags
    combined = combine_with_votes({1: 80.0, 2: 90.0}, {1: 50, 2: 25}, jury_weight=0.7)
    assert combined == {1: pytest.approx(0.7 * 80 + 30), 2: pytest.approx(0.7 * 90 + 15)}


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 40),
    st.integers(3, 12),
    st.integers(1, 3),
    st.integers(0, 10_000),
    st.sets(st.tuples(st.integers(0, 11), st.integers(0, 39)), max_size=25),
)
def test_assignment_properties(
    n_entries: int, n_judges: int, per_entry: int, seed: int, conflicts: set[tuple[int, int]]
) -> None:
    entries, judges = list(range(n_entries)), list(range(n_judges))
    try:
        panels = assign(entries, judges, per_entry, conflicts, seed)
    except AssignmentError:
        assert any(sum((j, e) not in conflicts for j in judges) < per_entry for e in entries)
        return
    assert set(panels) == set(entries)
    for entry, panel in panels.items():
        assert len(panel) == len(set(panel)) == per_entry
        assert not any((judge, entry) in conflicts for judge in panel)
    counted = loads(panels)
    counts = [counted.get(j, 0) for j in judges]
    if not conflicts:
        assert max(counts) - min(counts) <= 1
    assert assign(entries, judges, per_entry, conflicts, seed) == panels


def test_assignment_balances_loads_with_a_few_conflicts() -> None:
    conflicts = {(0, e) for e in range(10)} | {(1, e) for e in range(5)}
    panels = assign(list(range(60)), list(range(10)), 3, conflicts, seed=7)
    counts = list(loads(panels).values())
    assert max(counts) - min(counts) <= 1


def test_a_judge_conflicts_with_entries_of_their_unit_and_district() -> None:
    judges = [Party(1, unit="市一院", district="历下区"), Party(2, unit="公交集团")]
    entries = [
        Party(10, unit="市一院", district="市中区"),
        Party(11, unit="某小学", district="历下区"),
        Party(12, unit="公交集团"),
    ]
    assert automatic_conflicts(judges, entries) == {(1, 10), (1, 11), (2, 12)}
    assert automatic_conflicts(judges, entries, by_district=False) == {(1, 10), (2, 12)}


def test_a_collective_inside_the_judges_unit_is_a_conflict() -> None:
    judges = [Party(1, unit="市第一医院"), Party(2, unit="医院"), Party(3, unit=" ")]
    entries = [
        Party(10, unit="市第一医院急诊科青年文明号"),
        Party(11, unit="市第二医院急诊科"),
        Party(12, unit="医院"),
    ]
    # The short unit matches only itself; a blank one matches nothing.
    assert automatic_conflicts(judges, entries) == {(1, 10), (2, 12)}
