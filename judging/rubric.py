"""The rubric: criteria with maximum points, a step and a weight, and checking a score sheet."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from judging.messages import N_, Message
from storage.models import WorkType

if TYPE_CHECKING:
    from storage.models import Contest, Entry


class ScoreError(ValueError):
    """A score sheet that breaks the rubric; `errors` maps criteria to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Criterion:
    key: str
    name: str
    max_points: float
    step: float = 0.5
    weight: float = 1.0
    description: str = ""


@dataclass(frozen=True)
class Rubric:
    criteria: tuple[Criterion, ...]

    def __post_init__(self) -> None:
        keys = [c.key for c in self.criteria]
        if not keys or len(keys) != len(set(keys)):
            raise ValueError("a rubric needs criteria with distinct keys")
        if any(c.max_points <= 0 or c.step <= 0 or c.weight <= 0 for c in self.criteria):
            raise ValueError("maximum points, steps and weights must be positive")

    @property
    def max_total(self) -> float:
        return sum(c.max_points for c in self.criteria)

    def check(self, sheet: dict[str, Any], partial: bool = False) -> dict[str, float]:
        """Every criterion scored (with `partial`, those given), within 0..max, on the step.

        Raises ScoreError naming each wrong criterion.
        """
        errors: dict[str, str] = {}
        clean: dict[str, float] = {}
        for c in self.criteria:
            raw = sheet.get(c.key)
            if partial and raw in (None, ""):
                continue
            value = _check_one(c, raw)
            if isinstance(value, float):
                clean[c.key] = value
            else:
                errors[c.key] = value
        if errors:
            raise ScoreError(errors)
        return clean

    def total(self, scores: dict[str, float]) -> float:
        """The weighted total, on the scale of the maximum points (equal weights: the sum)."""
        weighted_max = sum(c.weight * c.max_points for c in self.criteria)
        weighted = sum(c.weight * scores[c.key] for c in self.criteria)
        return weighted * self.max_total / weighted_max


def _check_one(c: Criterion, raw: Any) -> float | Message:
    """The score as a number, or what is wrong with it."""
    try:
        value = Decimal(str(raw).strip())
    except ArithmeticError:
        return Message("请为“%(name)s”打分", name=c.name)
    if raw is None or raw == "" or not value.is_finite():
        return Message("请为“%(name)s”打分", name=c.name)
    if not 0 <= value <= Decimal(str(c.max_points)):
        return Message(
            "“%(name)s”的分数应在 0 到 %(max)s 之间", name=c.name, max=f"{c.max_points:g}"
        )
    if value % Decimal(str(c.step)) != 0:
        return Message("“%(name)s”的分数应为 %(step)s 的整数倍", name=c.name, step=f"{c.step:g}")
    return float(value)


DEFAULT_RUBRIC = Rubric(
    (
        Criterion(
            "theme", N_("主题立意"), 30, description=N_("紧扣“中国梦·青春足迹”，体现青年文明号精神")
        ),
        Criterion("story", N_("故事与创意"), 30, description=N_("成长故事真实感人，叙事有创意")),
        Criterion("production", N_("制作质量"), 25, description=N_("画面、声音、剪辑、字幕")),
        Criterion("appeal", N_("感染力"), 15, description=N_("传播力与感染力")),
    )
)


def rubric_from(criteria: list[dict[str, Any]] | None) -> Rubric:
    """A stored list of criteria as a Rubric; an empty one is the default rubric."""
    if not criteria:
        return DEFAULT_RUBRIC
    return Rubric(tuple(Criterion(**c) for c in criteria))


def type_of(entry_or_type: Entry | WorkType | str) -> WorkType:
    """The work type of an entry, or the work type named."""
    if isinstance(entry_or_type, str):
        return WorkType(entry_or_type)
    return WorkType(entry_or_type.work_type)


def rubric_for(contest: Contest, entry_or_type: Entry | WorkType | str | None = None) -> Rubric:
    """The rubric an entry (or a work type) is scored with: the type's own where the contest
    gives it one (`Contest.rubrics_by_type`), else the contest's shared rubric. Every place
    that reads criteria for an entry asks here. None: the shared rubric."""
    if entry_or_type is not None:
        own = (contest.rubrics_by_type or {}).get(type_of(entry_or_type).value)
        if own:
            return rubric_from(own)
    return rubric_from(contest.rubric)


def has_own_rubric(contest: Contest, work_type: WorkType | str) -> bool:
    """Whether the work type is scored with a rubric of its own."""
    return bool((contest.rubrics_by_type or {}).get(WorkType(work_type).value))


def contest_rubrics(contest: Contest) -> dict[WorkType, Rubric]:
    """Each accepted work type's rubric, in the contest's order of types."""
    return {WorkType(t): rubric_for(contest, t) for t in contest.work_types or ["video"]}


def all_criteria(contest: Contest) -> list[Criterion]:
    """Every criterion of the contest's rubrics once (by key, the first one seen): the
    shared rubric's, then each type's own, for tables that hold scores of every type."""
    seen: dict[str, Criterion] = {}
    for rubric in (rubric_for(contest), *contest_rubrics(contest).values()):
        for c in rubric.criteria:
            seen.setdefault(c.key, c)
    return list(seen.values())


def scale_mismatch(contest: Contest, types: set[WorkType] | None = None) -> dict[WorkType, float]:
    """Where ranking all entries together mixes totals on different scales: each type's
    maximum total when the types (those given, else the accepted ones) do not agree, else {}.
    Never when results are per work type."""
    if contest.results_by_type:
        return {}
    tops = {t: r.max_total for t, r in contest_rubrics(contest).items()}
    if types is not None:
        tops = {t: top for t, top in tops.items() if t in types}
    return tops if len(set(tops.values())) > 1 else {}


def scale_warning(contest: Contest, types: set[WorkType] | None = None) -> Message | None:
    """What to tell the organizer on the results page when all entries rank together but
    their types' rubrics have different maximum totals (`scale_mismatch`), else None."""
    tops = scale_mismatch(contest, types)
    if not tops:
        return None
    scales = "、".join(f"{t.label} {top:g} 分" for t, top in tops.items())
    return Message(
        "各作品类型评分标准的满分不同（%(scales)s），所有作品一起排名时总分不在同一尺度上。"
        "请在评审设置中改为“按作品类型分别排名、评奖”，或使各类型的满分相同。",
        scales=scales,
    )
