"""The organizer's settings page as a configuration, and back.

The page holds the rubric and the award tiers as rows (blank rows are ignored), numbers as
typed, shares in per cent and the tie-break as an order number on each criterion's row. Here
those become a configuration for `judging.contest_setup`, whose problems are turned back into
the page's field paths: ("rubric", 3, "max_points") is the fourth row as shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from judging.config_values import Path, Problem, Problems, number
from judging.contest_settings import default, names
from judging.contest_setup import ContestConfigError, apply_config, checked_config
from judging.messages import Message
from judging.rubric import Rubric, has_own_rubric, rubric_for
from storage.models import Contest, WorkType

BLANK_ROWS = 2  # empty rows under the stored ones, to add to without the page's script
CRITERION_TEXTS = ("key", "name", "max_points", "step", "weight", "tie", "description")
OBJECTION = names("text", section="publicity")
NUMBERS = names("int") + names("number")
TYPE_VALUES = [t.value for t in WorkType]


def _g(value: float) -> str:
    return f"{value:g}"


def form_data(contest: Contest) -> dict[str, Any]:
    """The page's fields filled from the contest, with blank rows to add to."""
    ties = {key: i + 1 for i, key in enumerate(contest.tie_break or [])}
    rubric = _rows(rubric_for(contest), ties)
    tiers = [
        {
            "name": t["name"],
            "kind": "count" if "count" in t else "share",
            "amount": str(t["count"]) if "count" in t else _g(round(float(t["share"]) * 100, 6)),
            "category": t.get("category", ""),
        }
        for t in contest.award_tiers or []
    ]
    return {
        "blind": contest.blind,
        "gallery_after_judging": contest.gallery_after_judging,
        "conflict_unit": "unit" in (contest.auto_conflicts or []),
        "conflict_district": "district" in (contest.auto_conflicts or []),
        "reveal_scores": contest.reveal_scores,
        "aggregation": contest.aggregation,
        **{name: _g(getattr(contest, name)) for name in NUMBERS},
        "rubric": rubric + [{}] * BLANK_ROWS,
        "award_tiers": tiers + [{}] * BLANK_ROWS,
        "publicity_starts_on": contest.publicity_starts_on,
        "publicity_ends_on": contest.publicity_ends_on,
        **{name: getattr(contest, name) for name in OBJECTION},
        **_type_data(contest),
    }


def _rows(rubric: Rubric, ties: dict[str, int] | None = None) -> list[dict[str, str]]:
    """A rubric's criteria as the page's rows."""
    ties = ties or {}
    return [
        {
            "key": c.key,
            "name": c.name,
            "max_points": _g(c.max_points),
            "step": _g(c.step),
            "weight": _g(c.weight),
            "tie": str(ties[c.key]) if c.key in ties else "",
            "description": c.description,
        }
        for c in rubric.criteria
    ]


def _type_data(contest: Contest) -> dict[str, Any]:
    """The work types' fields: which are accepted, results by type, and for each accepted
    type whether it has a rubric of its own, with its rows (the shared one's to start from)."""
    types = [WorkType(t).value for t in contest.work_types or default("work_types")]
    data: dict[str, Any] = {
        "types_shown": "1",
        "work_types": types,
        "results_by_type": contest.results_by_type,
        "rubric_types": ",".join(types),
    }
    for t in types:
        data[f"own_rubric_{t}"] = has_own_rubric(contest, t)
        data[f"rubric_{t}"] = _rows(rubric_for(contest, t)) + [{}] * BLANK_ROWS
    return data


def _blank(row: dict[str, Any], names: tuple[str, ...]) -> bool:
    return not any(str(row.get(name) or "").strip() for name in names)


@dataclass
class FormConfig:
    """A configuration from the page, the page's rows it kept, and the page's own problems."""

    config: dict[str, Any]
    criterion_rows: list[int] = field(default_factory=list)
    tier_rows: list[int] = field(default_factory=list)
    problems: Problems = field(default_factory=Problems)
    type_rows: dict[str, list[int]] = field(default_factory=dict)

    def page_path(self, path: Path) -> Path:
        """Where on the page a problem of the configuration at `path` belongs."""
        if path[:1] == ("rubrics_by_type",) and len(path) >= 2:
            rows = self.type_rows.get(str(path[1]))
            if rows is None:
                return ("work_types",)  # a type's rubric the page did not show
            if len(path) >= 3:
                name = path[3] if len(path) > 3 else "name"
                return (f"rubric_{path[1]}", rows[int(path[2])], name)
            return (f"rubric_{path[1]}",)
        if path[:1] in {("rubric",), ("award_tiers",)} and len(path) >= 2:
            rows = self.criterion_rows if path[0] == "rubric" else self.tier_rows
            name = path[2] if len(path) > 2 else "name"
            if path[0] == "award_tiers" and name in {"count", "share"}:
                name = "amount"
            return (path[0], rows[int(path[1])], name)
        if path[:1] == ("tie_break",) and len(path) == 2:
            key = self.config["tie_break"][int(path[1])]
            keys = [c.get("key") for c in self.config["rubric"]]
            if key in keys:
                return ("rubric", self.criterion_rows[keys.index(key)], "tie")
        if path[:1] == ("tie_break",):
            return ("rubric",)
        return path


def _criterion(row: dict[str, Any]) -> dict[str, Any]:
    """A criterion's row as a criterion of the configuration."""
    criterion = {name: row.get(name) or "" for name in CRITERION_TEXTS[:-2]}
    criterion["key"] = str(criterion["key"]).strip()
    criterion["description"] = row.get("description") or ""
    # Blank step and weight: the usual 0.5 and 1, as in a contest file.
    for name in ("step", "weight"):
        if not str(criterion[name]).strip():
            del criterion[name]
    return criterion


def _criteria(form: FormConfig, rows: list[dict[str, Any]]) -> list[str]:
    """The rubric's rows into the configuration; returns the tie-break keys in order."""
    criteria: list[dict[str, Any]] = []
    ties: list[tuple[Decimal, str]] = []
    for row_number, row in enumerate(rows):
        if _blank(row, CRITERION_TEXTS):
            continue
        criterion = _criterion(row)
        criteria.append(criterion)
        form.criterion_rows.append(row_number)
        if str(row.get("tie") or "").strip():
            order = number(
                form.problems, ("rubric", row_number, "tie"), row["tie"], 1, 20, integer=True
            )
            if order is not None and any(order == seen for seen, _key in ties):
                form.problems.add(
                    ("rubric", row_number, "tie"), Message("顺序 %(n)s 重复了", n=int(order))
                )
            elif order is not None:
                ties.append((order, criterion["key"]))
    form.config["rubric"] = criteria
    return [str(key).strip() for _order, key in sorted(ties, key=lambda pair: pair[0])]


def _types(form: FormConfig, data: dict[str, Any]) -> None:
    """The work types, results by type and the rubrics of the types the page showed: a
    type whose "own rubric" is not ticked uses the shared rubric (its rows are ignored)."""
    if not data.get("types_shown"):
        return
    form.config["work_types"] = list(data.get("work_types") or [])
    form.config["results_by_type"] = bool(data.get("results_by_type"))
    shown = [t for t in str(data.get("rubric_types") or "").split(",") if t in TYPE_VALUES]
    own: dict[str, list[dict[str, Any]]] = {}
    for t in dict.fromkeys(shown):
        form.type_rows[t] = []
        if not data.get(f"own_rubric_{t}"):
            own[t] = []
            continue
        own[t] = []
        for row_number, row in enumerate(data.get(f"rubric_{t}") or []):
            if not _blank(row, CRITERION_TEXTS):
                own[t].append(_criterion(row))
                form.type_rows[t].append(row_number)
        if not own[t]:
            form.problems.add(
                (f"rubric_{t}",), Message("请填写这一类型的评分标准，或取消勾选以使用通用评分标准")
            )
    form.config["rubrics_by_type"] = own


def _tiers(form: FormConfig, rows: list[dict[str, Any]]) -> None:
    """The award tiers' rows, in the order given: that is the order they are awarded in."""
    tiers = []
    for row_number, row in enumerate(rows):
        if _blank(row, ("name", "amount")):
            continue
        tier: dict[str, Any] = {"name": row.get("name") or ""}
        if row.get("kind") == "share":
            path = ("award_tiers", row_number, "amount")
            percent = number(
                form.problems, path, row.get("amount") or "", 0, 100, low_included=False
            )
            # A wrong per cent is reported above; the stand-in keeps it from being reported twice.
            tier["share"] = percent / 100 if percent is not None else Decimal("0.01")
        else:
            tier["count"] = row.get("amount") or ""
        if row.get("category"):
            tier["category"] = row["category"]
        tiers.append(tier)
        form.tier_rows.append(row_number)
    form.config["award_tiers"] = tiers


def form_to_config(slug: str, data: dict[str, Any]) -> FormConfig:
    """The page's fields (as WTForms' `form.data` holds them) as a configuration."""
    conflicts = [name for name in ("unit", "district") if data.get(f"conflict_{name}")]
    form = FormConfig(
        {
            "slug": slug,
            "blind": bool(data.get("blind")),
            "gallery_after_judging": bool(data.get("gallery_after_judging")),
            "auto_conflicts": conflicts,
            "reveal_scores": data.get("reveal_scores"),
            "aggregation": data.get("aggregation"),
            **{name: data.get(name) or "" for name in NUMBERS},
            "publicity_starts_on": data.get("publicity_starts_on") or "",
            "publicity_ends_on": data.get("publicity_ends_on") or "",
            **{name: data.get(name) or "" for name in OBJECTION},
        }
    )
    form.config["tie_break"] = _criteria(form, list(data.get("rubric") or []))
    _tiers(form, list(data.get("award_tiers") or []))
    _types(form, data)
    return form


def _keep_stored(session: Session, slug: str, config: dict[str, Any]) -> None:
    """The types kept in the order the contest lists them, new ones after them (the page
    shows the boxes in one fixed order); own rubrics of types the page did not show (no
    longer accepted) stay stored."""
    if "rubrics_by_type" not in config:
        return
    contest = session.scalar(select(Contest).where(Contest.slug == slug))
    listed = (contest.work_types or []) if contest is not None else []
    chosen = config["work_types"]
    config["work_types"] = [t for t in listed if t in chosen] + [
        t for t in chosen if t not in listed
    ]
    stored = (contest.rubrics_by_type or {}) if contest is not None else {}
    config["rubrics_by_type"] = {
        **{t: rows for t, rows in stored.items() if t not in config["rubrics_by_type"]},
        **config["rubrics_by_type"],
    }


def save_settings(session: Session, slug: str, data: dict[str, Any]) -> list[Problem]:
    """Save the page's settings, or nothing: then every problem, at its place on the page."""
    form = form_to_config(slug, data)
    _keep_stored(session, slug, form.config)
    problems = list(form.problems.found)
    try:
        if problems:
            checked_config(session, form.config)  # to report the rest too
        else:
            apply_config(session, form.config)
    except ContestConfigError as exc:
        problems += [Problem(form.page_path(p.path), p.message) for p in exc.problems]
    if problems:
        session.rollback()
    return problems
