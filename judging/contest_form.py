"""The organizer's contest settings form: plain text fields to and from a configuration."""

from __future__ import annotations

from typing import Any

from judging.contest_setup import ContestConfigError
from judging.rounds import rubric_of
from storage.models import Contest


def tiers_text(tiers: list[dict[str, Any]]) -> str:
    """One tier a line: `一等奖:3`, `二等奖:10%`, optionally `:collective` or `:aspiring`."""
    lines = []
    for tier in tiers:
        amount = f"{tier['count']}" if "count" in tier else f"{float(tier['share']) * 100:g}%"
        lines.append(
            ":".join([tier["name"], amount, *([tier["category"]] if "category" in tier else [])])
        )
    return "\n".join(lines)


def parse_tiers(text: str) -> list[dict[str, Any]]:
    tiers = []
    for line in filter(None, (raw.strip() for raw in text.splitlines())):
        name, _sep, rest = line.partition(":")
        amount, _sep, category = rest.partition(":")
        try:
            tier: dict[str, Any] = (
                {"name": name.strip(), "share": float(amount.rstrip("%")) / 100}
                if amount.endswith("%")
                else {"name": name.strip(), "count": int(amount)}
            )
        except ValueError as exc:
            raise ContestConfigError(f"award_tiers: {line!r} is not name:count or name:N%") from exc
        if category.strip():
            tier["category"] = category.strip()
        tiers.append(tier)
    return tiers


def rubric_text(contest: Contest) -> str:
    """One criterion a line: key|name|max points|step|weight|description."""
    return "\n".join(
        f"{c.key}|{c.name}|{c.max_points:g}|{c.step:g}|{c.weight:g}|{c.description}"
        for c in rubric_of(contest).criteria
    )


def parse_rubric(text: str) -> list[dict[str, Any]]:
    criteria = []
    for line in filter(None, (raw.strip() for raw in text.splitlines())):
        parts = [p.strip() for p in line.split("|")]
        if len(parts) < 3:
            raise ContestConfigError(f"rubric: {line!r} needs key|name|max points")
        try:
            criteria.append(
                {
                    "key": parts[0],
                    "name": parts[1],
                    "max_points": float(parts[2]),
                    "step": float(parts[3]) if len(parts) > 3 and parts[3] else 0.5,
                    "weight": float(parts[4]) if len(parts) > 4 and parts[4] else 1.0,
                    "description": parts[5] if len(parts) > 5 else "",
                }
            )
        except ValueError as exc:
            raise ContestConfigError(f"rubric: {line!r} has a number that is not one") from exc
    return criteria


def form_to_config(slug: str, form: dict[str, str]) -> dict[str, Any]:
    """The settings form's fields as a configuration for `apply_config`."""
    try:
        return {
            "slug": slug,
            "blind": form.get("blind") == "1",
            "gallery_after_judging": form.get("gallery_after_judging") == "1",
            "reveal_scores": form.get("reveal_scores", "after_submit"),
            "auto_conflicts": [r for r in ("unit", "district") if form.get(f"conflict_{r}") == "1"],
            "aggregation": form.get("aggregation", "trimmed_mean"),
            "trim_min_panel": int(form.get("trim_min_panel", "5")),
            "judges_per_entry": int(form.get("judges_per_entry", "3")),
            "jury_weight": float(form.get("jury_weight", "1")),
            "disagreement": float(form.get("disagreement", "20")),
            "award_tiers": parse_tiers(form.get("award_tiers", "")),
            "rubric": parse_rubric(form.get("rubric", "")),
            "tie_break": [k.strip() for k in form.get("tie_break", "").split(",") if k.strip()],
        }
    except ValueError as exc:
        raise ContestConfigError(f"a number field is not a number: {exc}") from exc
