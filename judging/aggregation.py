"""Turning judges' totals into one score per entry: a registry of methods, chosen per contest.

A sheet maps entry -> judge -> total. Every method returns entry -> score.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping
from typing import Any

Sheet = Mapping[int, Mapping[int, float]]
Method = Callable[..., dict[int, float]]
METHODS: dict[str, Method] = {}


def method(name: str) -> Callable[[Method], Method]:
    def register(func: Method) -> Method:
        METHODS[name] = func
        return func

    return register


def trimmed(scores: list[float], min_panel: int = 5) -> float:
    """Mean after dropping one highest and one lowest score (exactly one of tied extremes),
    only when the panel has at least `min_panel` judges; the plain mean otherwise."""
    if not scores:
        raise ValueError("no scores")
    if len(scores) < max(min_panel, 3):
        return statistics.fmean(scores)
    ordered = sorted(scores)
    return statistics.fmean(ordered[1:-1])


@method("mean")
def mean(sheet: Sheet, **_: Any) -> dict[int, float]:
    return {entry: statistics.fmean(by.values()) for entry, by in sheet.items() if by}


@method("median")
def median(sheet: Sheet, **_: Any) -> dict[int, float]:
    return {entry: float(statistics.median(by.values())) for entry, by in sheet.items() if by}


@method("trimmed_mean")
def trimmed_mean(sheet: Sheet, min_panel: int = 5, **_: Any) -> dict[int, float]:
    return {entry: trimmed(list(by.values()), min_panel) for entry, by in sheet.items() if by}


@method("zscore")
def zscore(sheet: Sheet, min_scored: int = 3, **_: Any) -> dict[int, float]:
    """Per-judge z-scores, mapped back to the scale of all scores, then averaged per entry.

    A judge who scored fewer than `min_scored` entries, or gave them all the same total,
    cannot be normalised: their raw totals are used.
    """
    by_judge: dict[int, list[float]] = {}
    for by in sheet.values():
        for judge, total in by.items():
            by_judge.setdefault(judge, []).append(total)
    everything = [t for totals in by_judge.values() for t in totals]
    if not everything:
        return {}
    centre = statistics.fmean(everything)
    spread = statistics.pstdev(everything) or 1.0
    norms = {
        judge: (statistics.fmean(totals), statistics.pstdev(totals))
        for judge, totals in by_judge.items()
        if len(totals) >= min_scored and statistics.pstdev(totals) > 0
    }

    def normalised(judge: int, total: float) -> float:
        if judge not in norms:
            return total
        mu, sigma = norms[judge]
        return centre + (total - mu) / sigma * spread

    return {
        entry: statistics.fmean(normalised(j, t) for j, t in by.items())
        for entry, by in sheet.items()
        if by
    }


def aggregate(name: str, sheet: Sheet, **options: Any) -> dict[int, float]:
    """Aggregate `sheet` with the method registered as `name`."""
    if name not in METHODS:
        raise ValueError(f"unknown aggregation method {name!r}; one of {sorted(METHODS)}")
    return METHODS[name](sheet, **options)
