"""Checking one value of a contest configuration: numbers, dates, short texts.

The same checks serve the settings page (every value a string as typed) and
`footprints contest import` (values as YAML or JSON typed them). Each returns the clean value
or records a Chinese problem at the value's path, so one pass reports every problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from judging.messages import Message

Path = tuple[str | int, ...]
# Digits and signs typed with a Chinese input method (全角) read as ASCII ones; other scripts'
# digits ("¹", "٣") are not numbers here.
_FULL_WIDTH = str.maketrans("０１２３４５６７８９．－＋", "0123456789.-+")
_DECIMAL = re.compile(r"[+-]?[0-9]{1,12}(\.[0-9]{1,6})?")
_INTEGER = re.compile(r"[+-]?[0-9]{1,12}")
_DATE = re.compile(r"([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})")
# Names and notes are shown on pages, in exports and spreadsheets: no markup, no controls.
_UNSAFE_TEXT = re.compile(r"[<>\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Problem:
    """What is wrong (Chinese) with the value at `path`, e.g. ("rubric", 2, "max_points")."""

    path: Path
    message: Message

    @property
    def where(self) -> str:
        """The path as a file's author reads it: `rubric[2].max_points`."""
        text = ""
        for part in self.path:
            text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
        return text

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.path else str(self.message)


@dataclass
class Problems:
    """Problems found so far, in the order found."""

    found: list[Problem] = field(default_factory=list)

    def add(self, path: Path, message: Message) -> None:
        self.found.append(Problem(path, message))

    def at(self, path: Path) -> bool:
        """Whether a problem was already found at `path` or inside it."""
        return any(p.path[: len(path)] == path for p in self.found)


def _range_message(low: Decimal, high: Decimal, low_included: bool) -> Message:
    if low_included:
        return Message("须在 %(low)s 到 %(high)s 之间", low=f"{low:g}", high=f"{high:g}")
    return Message("须大于 %(low)s 且不超过 %(high)s", low=f"{low:g}", high=f"{high:g}")


def number(
    problems: Problems,
    path: Path,
    value: Any,
    low: float,
    high: float,
    *,
    integer: bool = False,
    low_included: bool = True,
) -> Decimal | None:
    """`value` as a number within low..high (above `low` unless `low_included`), or None."""
    parsed: Decimal | None = None
    if isinstance(value, bool):
        parsed = None
    elif isinstance(value, int | float | Decimal):
        parsed = Decimal(value) if not isinstance(value, float) else Decimal(repr(value))
        if not parsed.is_finite() or (integer and parsed != parsed.to_integral_value()):
            parsed = None
    elif isinstance(value, str):
        text = value.strip().translate(_FULL_WIDTH)
        if not text:
            problems.add(path, Message("请填写此项"))
            return None
        if (_INTEGER if integer else _DECIMAL).fullmatch(text):
            try:
                parsed = Decimal(text)
            except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
                parsed = None
    if parsed is None:
        problems.add(path, Message("请填写整数") if integer else Message("请填写数字"))
        return None
    low_d, high_d = Decimal(str(low)), Decimal(str(high))
    if parsed > high_d or parsed < low_d or (parsed == low_d and not low_included):
        problems.add(path, _range_message(low_d, high_d, low_included))
        return None
    return parsed


def text(problems: Problems, path: Path, value: Any, limit: int, *, required: bool = False) -> str:
    """`value` as one line of plain text of at most `limit` characters ('' when wrong)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        problems.add(path, Message("应为文字"))
        return ""
    clean = value.strip()
    if required and not clean:
        problems.add(path, Message("请填写此项"))
    elif len(clean) > limit:
        problems.add(path, Message("不能超过 %(limit)d 个字", limit=limit))
    elif _UNSAFE_TEXT.search(clean):
        problems.add(path, Message("不能包含 < > 或换行等控制字符"))
    else:
        return clean
    return ""


def day(problems: Problems, path: Path, value: Any) -> date | None:
    """`value` as a calendar date (2026-12-01, also 2026/12/01), None when empty or wrong."""
    if isinstance(value, datetime):
        return value.date()
    if value is None or isinstance(value, date):
        return value
    if isinstance(value, str):
        clean = value.strip().translate(_FULL_WIDTH)
        if not clean:
            return None
        match = _DATE.fullmatch(clean)
        if match:
            try:
                parsed = date(*(int(part) for part in match.groups()))
            except ValueError:
                parsed = None
            if parsed is not None and 2000 <= parsed.year <= 2100:
                return parsed
    problems.add(path, Message("请填写日期，如 2026-12-01"))
    return None
