"""Turning judges' totals into one score per entry: a registry of methods, chosen per contest.

A sheet maps entry -> judge -> total. Every method returns entry -> score.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping
from typing import Any

from judging.messages import N_

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


# What organizers and the 公示 call each method, and one sentence on what it does (Chinese;
# the web layer translates both).
METHOD_LABELS: dict[str, str] = {
    "mean": N_("平均分"),
    "median": N_("中位数"),
    "trimmed_mean": N_("去掉最高分和最低分后的平均分"),
    "zscore": N_("标准分（消除评委宽严差异）"),
}
METHOD_HELP: dict[str, str] = {
    "mean": N_("各位评委总分的算术平均。"),
    "median": N_(
        "各位评委总分按大小排列后取中间的一个（偶数个时取中间两个的平均），不受个别极端分影响。"
    ),
    "trimmed_mean": N_(
        "去掉一个最高分和一个最低分后取平均；评委人数少于设定的人数时不去分，直接取平均。"
    ),
    "zscore": N_(
        "先把每位评委的分数换算成相对其本人打分习惯的标准分，再换回全体分数的尺度后取平均，"
        "避免打分偏严或偏松的评委左右结果；评分作品太少或分数全相同的评委按原始分计。"
    ),
}


def method_label(name: str) -> str:
    """The Chinese name of an aggregation method (the code itself if it has none)."""
    return METHOD_LABELS.get(name, name)


def aggregate(name: str, sheet: Sheet, **options: Any) -> dict[int, float]:
    """Aggregate `sheet` with the method registered as `name`."""
    if name not in METHODS:
        raise ValueError(f"unknown aggregation method {name!r}; one of {sorted(METHODS)}")
    return METHODS[name](sheet, **options)
