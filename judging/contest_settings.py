"""A contest's settings in one typed place: name, type, default, Chinese label, help, bounds.

`ContestSettings` has one field per setting a contest file (`footprints contest import`) or
the settings page may set. Its defaults are the `Contest` columns' (a test holds them
equal); `judging.contest_setup` takes the names, bounds and choices it checks from here, the
settings page (`web.settings_form`) its labels and lengths, and the README its table
(`settings_table`, written by `scripts/readme_settings.sh`). The rules that relate settings
to each other (rubric rows, award tiers, the 公示期, work types) stay in `contest_setup`.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from datetime import date, datetime
from typing import Any

from judging.aggregation import METHODS
from judging.messages import N_
from judging.scoring import REVEAL
from storage.models import WorkType


@dataclass(frozen=True)
class Spec:
    """How one setting is written, checked and shown."""

    name: str
    kind: str  # text, bool, int, number, choice, when, date, names, rows
    label: str  # Chinese, as the settings page shows it
    help: str  # English, for the README
    section: str = "contest"  # contest, judging, publicity, types
    required: bool = False
    limit: int | None = None  # the longest text, the column's length
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()

    @property
    def integer(self) -> bool:
        return self.kind == "int"


def setting(label: str, help: str, kind: str, default: Any = None, **spec: Any) -> Any:
    """A field of `ContestSettings` with its spec (a list or dict default is copied)."""
    meta = {"spec": (label, help, kind, spec)}
    if isinstance(default, list | dict):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class ContestSettings:
    """Every setting of a contest with its default, in the order they are checked."""

    slug: str = setting(N_("活动代号"), "the contest's code name", "text", "", required=True)
    title: str = setting(
        N_("活动名称"), "its title (the slug when none)", "text", "", required=True, limit=200
    )
    description: str = setting(N_("活动简介"), "what the contest is about", "text", "")
    opens_at: datetime | None = setting(
        N_("开始时间"), "when entries open, ISO 8601 with a time zone", "when"
    )
    closes_at: datetime | None = setting(
        N_("截止时间"), "the deadline, not before `opens_at`", "when"
    )
    blind: bool = setting(
        N_("匿名评审（评委看不到集体、县区和联系人）"),
        "judges see no collective, district or contact",
        "bool",
        True,
        section="judging",
    )
    districts: list[str] = setting(
        N_("县（市）区选项"), "the entry form's districts (empty: typed freely)", "names", []
    )
    industries: list[str] = setting(
        N_("行业选项"), "the entry form's industries (empty: typed freely)", "names", []
    )
    rubric: list[dict[str, Any]] = setting(
        N_("评分标准"),
        "criteria `{key, name, max_points, step, weight, description}` (empty: the default)",
        "rows",
        [],
        section="judging",
    )
    aggregation: str = setting(
        N_("计分方法"),
        "how judges' scores combine",
        "choice",
        "trimmed_mean",
        section="judging",
        choices=tuple(sorted(METHODS)),
    )
    trim_min_panel: int = setting(
        N_("评委不少于几人时去分"),
        "the trimmed mean drops the top and bottom score from panels this large",
        "int",
        5,
        section="judging",
        low=3,
        high=20,
    )
    judges_per_entry: int = setting(
        N_("每件作品的评委人数"),
        "judges assigned to each entry",
        "int",
        3,
        section="judging",
        low=1,
        high=20,
    )
    award_tiers: list[dict[str, Any]] = setting(
        N_("奖项设置"),
        "tiers `{name, count}` or `{name, share}`, optionally with a `category`",
        "rows",
        [],
        section="judging",
    )
    jury_weight: float = setting(
        N_("评委评分权重（0–1，其余为公众投票）"),
        "the jury's share of the result, the rest the public vote's",
        "number",
        1.0,
        section="judging",
        low=0,
        high=1,
    )
    public_vote: bool = setting(
        N_("公众投票"), "the public may vote in the gallery", "bool", False, section="judging"
    )
    disagreement: float = setting(
        N_("分歧提示阈值（评委总分相差超过此值时提示）"),
        "judges' totals further apart than this are flagged",
        "number",
        20.0,
        section="judging",
        low=0,
        high=1000,
    )
    tie_break: list[str] = setting(
        N_("并列比较顺序"),
        "criteria keys that break ties in order",
        "names",
        [],
        section="judging",
    )
    reveal_scores: str = setting(
        N_("评委何时能看到其他评委的评分"),
        "after submitting their own, after the round closes, or never",
        "choice",
        "after_submit",
        section="judging",
        choices=REVEAL,
    )
    auto_conflicts: list[str] = setting(
        N_("自动回避"),
        "judges step aside from entries of their own `unit` and/or `district`",
        "names",
        ["unit", "district"],
        section="judging",
        choices=("unit", "district"),
    )
    gallery_after_judging: bool = setting(
        N_("评审结束前不公开作品展示（最后一轮评审结束并发布公示后才能公开）"),
        "the gallery shows nothing until the last round's 公示 is published",
        "bool",
        False,
        section="judging",
    )
    publicity_starts_on: date | None = setting(
        N_("公示开始日期"), "the 公示期's first day, e.g. 2027-03-01", "date", section="publicity"
    )
    publicity_ends_on: date | None = setting(
        N_("公示结束日期"), "its last day (both dates or neither)", "date", section="publicity"
    )
    objection_office: str = setting(
        N_("受理单位"), "who takes objections", "text", "", section="publicity", limit=100
    )
    objection_contact: str = setting(
        N_("联系人"), "their contact person", "text", "", section="publicity", limit=50
    )
    objection_phone: str = setting(
        N_("联系电话"), "a mobile or landline number", "text", "", section="publicity", limit=30
    )
    objection_email: str = setting(
        N_("电子邮箱"), "an e-mail address", "text", "", section="publicity", limit=120
    )
    work_types: list[str] = setting(
        N_("征集的作品类型"),
        "the work types the entry form offers, in order",
        "names",
        ["video"],
        section="types",
        choices=tuple(t.value for t in WorkType),
    )
    results_by_type: bool = setting(
        N_("按作品类型分别排名、评奖（奖项名额在每种类型中分别计算）"),
        "rank and award within each work type",
        "bool",
        False,
        section="types",
    )
    rubrics_by_type: dict[str, Any] = setting(
        N_("各作品类型的评分标准"),
        "a rubric per work type where it differs (`photo: [...]`)",
        "rows",
        {},
        section="types",
    )


def _specs() -> dict[str, Spec]:
    specs = {}
    for f in fields(ContestSettings):
        label, help, kind, extra = f.metadata["spec"]
        specs[f.name] = Spec(f.name, kind, label, help, **extra)
    return specs


SPECS: dict[str, Spec] = _specs()
NAMES: tuple[str, ...] = tuple(SPECS)


def names(kind: str | None = None, section: str | None = None) -> tuple[str, ...]:
    """The settings of a kind and/or section, in their order."""
    return tuple(
        s.name
        for s in SPECS.values()
        if (kind is None or s.kind == kind) and (section is None or s.section == section)
    )


def default(name: str) -> Any:
    """The setting's default (a fresh copy of a list or dict)."""
    f = next(f for f in fields(ContestSettings) if f.name == name)
    if f.default_factory is not MISSING:
        return f.default_factory()
    return f.default


def _shown(value: Any) -> str:
    if value is None:
        return "(none)"
    if value == "":
        return "(empty)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _bounds(spec: Spec) -> str:
    if spec.low is not None:
        return f"{spec.low:g}–{spec.high:g}"
    if spec.choices:
        return ", ".join(f"`{c}`" for c in spec.choices)
    return f"≤ {spec.limit} characters" if spec.limit else ""


def settings_table() -> str:
    """The Markdown table of every contest setting, for the README."""
    rows = [
        "| setting | type | default | allowed | 中文 | meaning |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for s in SPECS.values():
        shown = "(required)" if s.required else f"`{_shown(default(s.name))}`"
        rows.append(f"| `{s.name}` | {s.kind} | {shown} | {_bounds(s)} | {s.label} | {s.help} |")
    return "\n".join(rows)
