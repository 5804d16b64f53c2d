"""The rubric: criteria with maximum points, a step and a weight, and checking a score sheet."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from judging.messages import Message


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

    def check(self, sheet: dict[str, float | str | None]) -> dict[str, float]:
        """Every criterion scored, within 0..max, on the step; raises ScoreError otherwise."""
        errors: dict[str, str] = {}
        clean: dict[str, float] = {}
        for c in self.criteria:
            raw = sheet.get(c.key)
            try:
                value = Decimal(str(raw).strip())
            except ArithmeticError:
                errors[c.key] = Message("请为“%(name)s”打分", name=c.name)
                continue
            if raw is None or raw == "" or not value.is_finite():
                errors[c.key] = Message("请为“%(name)s”打分", name=c.name)
            elif not 0 <= value <= Decimal(str(c.max_points)):
                errors[c.key] = Message(
                    "“%(name)s”的分数应在 0 到 %(max)s 之间", name=c.name, max=f"{c.max_points:g}"
                )
            elif value % Decimal(str(c.step)) != 0:
                errors[c.key] = Message(
                    "“%(name)s”的分数应为 %(step)s 的整数倍", name=c.name, step=f"{c.step:g}"
                )
            else:
                clean[c.key] = float(value)
        if errors:
            raise ScoreError(errors)
        return clean

    def total(self, scores: dict[str, float]) -> float:
        """The weighted total, on the scale of the maximum points (equal weights: the sum)."""
        weighted_max = sum(c.weight * c.max_points for c in self.criteria)
        weighted = sum(c.weight * scores[c.key] for c in self.criteria)
        return weighted * self.max_total / weighted_max


DEFAULT_RUBRIC = Rubric(
    (
        Criterion("theme", "主题立意", 30, description="紧扣“中国梦·青春足迹”，体现青年文明号精神"),
        Criterion("story", "故事与创意", 30, description="成长故事真实感人，叙事有创意"),
        Criterion("production", "制作质量", 25, description="画面、声音、剪辑、字幕"),
        Criterion("appeal", "感染力", 15, description="传播力与感染力"),
    )
)
