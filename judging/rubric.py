"""The rubric: criteria with maximum points, a step and a weight, and checking a score sheet."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from judging.messages import N_, Message


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
