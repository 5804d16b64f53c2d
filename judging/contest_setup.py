"""Setting up a contest from a configuration (YAML or JSON, already parsed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from judging.aggregation import METHODS
from judging.rubric import DEFAULT_RUBRIC, Criterion, Rubric
from judging.scoring import REVEAL
from storage.models import Contest

KNOWN = {
    "slug",
    "title",
    "description",
    "opens_at",
    "closes_at",
    "blind",
    "districts",
    "industries",
    "rubric",
    "aggregation",
    "trim_min_panel",
    "judges_per_entry",
    "award_tiers",
    "jury_weight",
    "public_vote",
    "disagreement",
    "tie_break",
    "reveal_scores",
    "auto_conflicts",
    "gallery_after_judging",
}


class ContestConfigError(ValueError):
    """A configuration that cannot be applied; the message names the field."""


def _when(value: Any, name: str) -> datetime | None:
    if value is None or isinstance(value, datetime):
        if isinstance(value, datetime) and value.tzinfo is None:
            raise ContestConfigError(f"{name}: give a time zone, e.g. 2026-12-31T18:00:00+08:00")
        return value
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise ContestConfigError(f"{name}: {value!r} is not an ISO 8601 time") from exc
    return _when(parsed, name)


def check_config(data: dict[str, Any]) -> dict[str, Any]:
    """The configuration's fields, checked; raises ContestConfigError naming the first problem."""
    unknown = set(data) - KNOWN
    if unknown:
        raise ContestConfigError(f"unknown fields: {', '.join(sorted(unknown))}")
    if not str(data.get("slug", "")).strip():
        raise ContestConfigError("slug: required")
    clean = dict(data)
    for name in ("opens_at", "closes_at"):
        if name in data:
            clean[name] = _when(data[name], name)
    if "rubric" in data:
        try:
            Rubric(tuple(Criterion(**c) for c in data["rubric"]))
        except (TypeError, ValueError) as exc:
            raise ContestConfigError(f"rubric: {exc}") from exc
    for name in ("blind", "public_vote", "gallery_after_judging"):
        if name in data and not isinstance(data[name], bool):
            raise ContestConfigError(f"{name}: true or false")
    if data.get("reveal_scores", "after_submit") not in REVEAL:
        raise ContestConfigError(f"reveal_scores: one of {', '.join(REVEAL)}")
    if not set(data.get("auto_conflicts", [])) <= {"unit", "district"}:
        raise ContestConfigError("auto_conflicts: a list of unit and/or district")
    if "aggregation" in data and data["aggregation"] not in METHODS:
        raise ContestConfigError(f"aggregation: one of {', '.join(sorted(METHODS))}")
    for tier in data.get("award_tiers", []):
        if "name" not in tier or ("count" in tier) == ("share" in tier):
            raise ContestConfigError("award_tiers: each needs a name and either count or share")
        if tier.get("category") not in (None, "collective", "aspiring"):
            raise ContestConfigError("award_tiers: category is collective or aspiring")
    keys = [c["key"] for c in data.get("rubric", [])] or [c.key for c in DEFAULT_RUBRIC.criteria]
    for key in data.get("tie_break", []):
        if key not in keys:
            raise ContestConfigError(f"tie_break: {key!r} is not a rubric criterion")
    if not 0 <= float(data.get("jury_weight", 1.0)) <= 1:
        raise ContestConfigError("jury_weight: between 0 and 1")
    if int(data.get("judges_per_entry", 3)) < 1:
        raise ContestConfigError("judges_per_entry: at least 1")
    return clean


def apply_config(session: Session, data: dict[str, Any]) -> Contest:
    """Create the contest with this slug, or update it; commits."""
    clean = check_config(data)
    contest = session.scalar(select(Contest).where(Contest.slug == clean["slug"]))
    if contest is None:
        contest = Contest(slug=clean["slug"], title=clean.get("title") or clean["slug"])
        session.add(contest)
    for name, value in clean.items():
        setattr(contest, name, value)
    session.commit()
    return contest
