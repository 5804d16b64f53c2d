"""Setting up a contest from a configuration (YAML, JSON or the settings page).

Every field is checked in one pass and every problem is reported, in Chinese, at its path
(`rubric[2].max_points`), so the settings page can put each one beside its field and the
command line can list them all. Nothing is saved unless everything is right. The settings'
names, kinds, bounds and choices are `judging.contest_settings`'; the rules between them
(rubric rows, award tiers, the 公示期, work types) are here.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from judging.config_values import Path, Problem, Problems, day, number, text
from judging.contest_settings import NAMES, SPECS, names
from judging.messages import Message
from judging.rubric import DEFAULT_RUBRIC
from judging.submissions import EMAIL, PHONE
from judging.work_type_setup import (
    check_rubrics,
    check_types,
    keep_entered_types,
    keep_scored_type_rubrics,
    shared_scores,
)
from storage.models import Contest, EntryCategory, Round, Score

KNOWN = set(NAMES)
MAX_CRITERIA = 20
MAX_TIERS = 20
# A criterion's key names its score field on the judge's page and its column in score
# spreadsheets, beside these fields of their own.
CRITERION_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,29}")
RESERVED_KEYS = {"entry", "judge", "comment", "action", "csrf_token"}
CRITERION_FIELDS = ("key", "name", "max_points", "step", "weight", "description")
TIER_FIELDS = ("name", "count", "share", "category")
# Limits of the columns the texts are stored in.
TEXT_LIMITS = {name: limit for name in names("text") if (limit := SPECS[name].limit)}
CONFLICTS = set(SPECS["auto_conflicts"].choices)


class ContestConfigError(ValueError):
    """A configuration that cannot be applied; `problems` names each wrong field."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def _one_of(choices: Any) -> Message:
    return Message("应为 %(choices)s 之一", choices="、".join(choices))


def _when(problems: Problems, name: str, value: Any) -> datetime | None:
    parsed = value
    if value is not None and not isinstance(value, datetime):
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            problems.add((name,), Message("不是 ISO 8601 时间，如 2026-12-31T18:00:00+08:00"))
            return None
    if isinstance(parsed, datetime) and parsed.tzinfo is None:
        problems.add((name,), Message("请写明时区，如 2026-12-31T18:00:00+08:00"))
        return None
    return parsed if isinstance(parsed, datetime) else None


def _criteria(problems: Problems, rows: Any) -> list[dict[str, Any]]:
    path: Path = ("rubric",)
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        problems.add(path, Message("应为评分项的列表，每项写明 key、name、max_points 等"))
        return []
    if not rows:
        problems.add(path, Message("至少需要一项评分标准"))
    if len(rows) > MAX_CRITERIA:
        problems.add(path, Message("评分标准最多 %(limit)d 项", limit=MAX_CRITERIA))
        return []
    clean, seen = [], set()
    for i, row in enumerate(rows):
        at = (*path, i)
        if set(row) - set(CRITERION_FIELDS):
            names = ", ".join(sorted(set(row) - set(CRITERION_FIELDS)))
            problems.add(at, Message("不认识的设置项：%(names)s", names=names))
        key = row.get("key")
        if not isinstance(key, str) or not key.strip():
            problems.add((*at, "key"), Message("请填写代码"))
        elif not CRITERION_KEY.fullmatch(key.strip()):
            problems.add(
                (*at, "key"),
                Message("代码只能用英文字母、数字和下划线，以字母开头，最长 30 个字符"),
            )
        elif key.strip().lower() in RESERVED_KEYS:
            problems.add(
                (*at, "key"), Message("“%(key)s”是评分页已有的字段名，请换一个代码", key=key)
            )
        elif key.strip().lower() in seen:
            problems.add((*at, "key"), Message("代码“%(key)s”重复了", key=key.strip()))
        key = key.strip() if isinstance(key, str) else ""
        seen.add(key.lower())
        name = text(problems, (*at, "name"), row.get("name"), 30, required=True)
        top = number(
            problems, (*at, "max_points"), row.get("max_points"), 0, 1000, low_included=False
        )
        step = number(problems, (*at, "step"), row.get("step", 0.5), 0, 100, low_included=False)
        weight = number(problems, (*at, "weight"), row.get("weight", 1), 0, 100, low_included=False)
        description = text(problems, (*at, "description"), row.get("description", ""), 200)
        if top is not None and step is not None:
            if step > top:
                problems.add((*at, "step"), Message("步长不能大于满分"))
            elif top % step:
                # Scores are multiples of the step, so full marks would be out of reach.
                problems.add(
                    (*at, "step"),
                    Message(
                        "满分 %(max)s 应为步长 %(step)s 的整数倍，否则评委打不出满分",
                        max=f"{top:g}",
                        step=f"{step:g}",
                    ),
                )
        if top is not None and step is not None and weight is not None:
            clean.append(
                {
                    "key": key,
                    "name": name,
                    "max_points": float(top),
                    "step": float(step),
                    "weight": float(weight),
                    "description": description,
                }
            )
    return clean


def _tiers(problems: Problems, rows: Any) -> list[dict[str, Any]]:
    path: Path = ("award_tiers",)
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        problems.add(path, Message("应为奖项的列表，每项写明 name 和 count 或 share"))
        return []
    if len(rows) > MAX_TIERS:
        problems.add(path, Message("奖项最多 %(limit)d 个", limit=MAX_TIERS))
        return []
    clean: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    shares: dict[str, Decimal] = {}
    for i, row in enumerate(rows):
        at = (*path, i)
        if set(row) - set(TIER_FIELDS):
            names = ", ".join(sorted(set(row) - set(TIER_FIELDS)))
            problems.add(at, Message("不认识的设置项：%(names)s", names=names))
        name = text(problems, (*at, "name"), row.get("name"), 30, required=True)
        category = row.get("category") or ""
        if category and category not in {c.value for c in EntryCategory}:
            problems.add(
                (*at, "category"),
                Message("类别应为 collective（青年文明号集体）或 aspiring（争创集体）"),
            )
        if name and (name, str(category)) in seen:
            problems.add((*at, "name"), Message("奖项“%(name)s”重复了", name=name))
        seen.add((name, str(category)))
        tier: dict[str, Any] = {"name": name}
        if ("count" in row) == ("share" in row):
            problems.add((*at, "count"), Message("每个奖项填写名额或比例，二者选一"))
        elif "count" in row:
            count = number(problems, (*at, "count"), row["count"], 1, 100000, integer=True)
            tier["count"] = int(count) if count is not None else None
        else:
            share = number(problems, (*at, "share"), row["share"], 0, 1, low_included=False)
            if share is not None:
                tier["share"] = float(share)
                shares[str(category)] = shares.get(str(category), Decimal(0)) + share
        if category:
            tier["category"] = category
        clean.append(tier)
    if any(total > 1 for total in shares.values()):
        problems.add(path, Message("同一类别中按比例评的奖项合计不能超过 100%"))
    return clean


def _tie_break(problems: Problems, keys: Any, rubric_keys: list[str]) -> list[str]:
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        problems.add(("tie_break",), Message("应为评分项代码的列表"))
        return []
    for i, key in enumerate(keys):
        if key not in rubric_keys:
            problems.add(("tie_break", i), Message("“%(key)s”不是评分标准中的代码", key=key))
        elif key in keys[:i]:
            problems.add(("tie_break", i), Message("“%(key)s”重复了", key=key))
    return list(keys)


def _publicity(problems: Problems, data: dict[str, Any], clean: dict[str, Any]) -> None:
    """The 公示期 (both dates or neither, in order) and who takes objections during it."""
    starts = day(problems, ("publicity_starts_on",), data.get("publicity_starts_on"))
    ends = day(problems, ("publicity_ends_on",), data.get("publicity_ends_on"))
    for name, value in (("publicity_starts_on", starts), ("publicity_ends_on", ends)):
        if name in data:
            clean[name] = value
    if starts and ends and ends < starts:
        problems.add(("publicity_ends_on",), Message("公示结束日期不能早于开始日期"))
    for name, value in (("publicity_starts_on", starts), ("publicity_ends_on", ends)):
        if (starts or ends) and not value and not problems.at((name,)):
            problems.add((name,), Message("请同时填写公示期的开始和结束日期"))
    for name in names("text", section="publicity"):
        if name in data:
            clean[name] = text(problems, (name,), data[name], TEXT_LIMITS[name])
    phone = str(clean.get("objection_phone", "")).replace(" ", "")
    if phone and not PHONE.match(phone):
        problems.add(("objection_phone",), Message("电话格式不正确，请填写手机号或带区号的座机号"))
    if "objection_phone" in clean:
        clean["objection_phone"] = phone
    email = clean.get("objection_email", "")
    if email and not EMAIL.match(email):
        problems.add(("objection_email",), Message("电子邮箱格式不正确"))


def check_config(data: dict[str, Any], current: Contest | None = None) -> dict[str, Any]:
    """The configuration's fields, checked and cleaned; raises ContestConfigError with every
    problem. `current` is the contest it updates (its rubric checks `tie_break`)."""
    problems = Problems()
    unknown = set(data) - KNOWN
    if unknown:
        problems.add((), Message("不认识的设置项：%(names)s", names=", ".join(sorted(unknown))))
    clean = {k: v for k, v in data.items() if k in KNOWN}
    if not isinstance(data.get("slug"), str) or not data["slug"].strip():
        problems.add(("slug",), Message("请填写 slug（活动代号）"))
    if "title" in data:
        clean["title"] = text(
            problems, ("title",), data["title"], TEXT_LIMITS["title"], required=True
        )
    for name in ("opens_at", "closes_at"):
        if name in data:
            clean[name] = _when(problems, name, data[name])
    if clean.get("opens_at") and clean.get("closes_at") and clean["closes_at"] < clean["opens_at"]:
        problems.add(("closes_at",), Message("截止时间不能早于开始时间"))
    for name in ("districts", "industries"):
        if name in data and not (
            isinstance(data[name], list) and all(isinstance(v, str) for v in data[name])
        ):
            problems.add((name,), Message("应为名称的列表"))
    for name in names("bool"):
        if name in data and not isinstance(data[name], bool):
            problems.add((name,), Message("应为 true 或 false"))
    for name in names("choice"):
        if name in data and data[name] not in SPECS[name].choices:
            problems.add((name,), _one_of(SPECS[name].choices))
    conflicts = data.get("auto_conflicts", [])
    if not isinstance(conflicts, list) or not set(conflicts) <= CONFLICTS:
        problems.add(("auto_conflicts",), Message("应为 unit 和/或 district 的列表"))
    _numbers(problems, data, clean)
    if "rubric" in data:
        clean["rubric"] = _criteria(problems, data["rubric"])
    if "award_tiers" in data:
        clean["award_tiers"] = _tiers(problems, data["award_tiers"])
    # Against a rubric with problems, the tie-break would only repeat them.
    if "tie_break" in data and not problems.at(("rubric",)):
        if "rubric" in data:
            keys = [c["key"] for c in clean["rubric"]]
        elif current is not None and current.rubric:
            keys = [c["key"] for c in current.rubric]
        else:
            keys = [c.key for c in DEFAULT_RUBRIC.criteria]
        clean["tie_break"] = _tie_break(problems, data["tie_break"], keys)
    _publicity(problems, data, clean)
    check_types(problems, data, clean)
    check_rubrics(problems, data, clean, _criteria)
    if problems.found:
        raise ContestConfigError(problems.found)
    return clean


def _numbers(problems: Problems, data: dict[str, Any], clean: dict[str, Any]) -> None:
    for name in names("int") + names("number"):
        spec = SPECS[name]
        if name in data and spec.low is not None and spec.high is not None:
            value = number(problems, (name,), data[name], spec.low, spec.high, integer=spec.integer)
            if value is not None:
                clean[name] = int(value) if spec.integer else float(value)


def scoring_rules(rubric: list[dict[str, Any]]) -> dict[str, tuple[float, float, float]]:
    """What stored scores depend on: each key's maximum points, step and weight."""
    return {c["key"]: (c["max_points"], c.get("step", 0.5), c.get("weight", 1.0)) for c in rubric}


def scores_given(session: Session, contest: Contest) -> int:
    """How many score sheets (drafts included) judges have filled in for the contest."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Score)
            .join(Round, Score.round_id == Round.id)
            .where(Round.contest_id == contest.id)
        )
        or 0
    )


def _keep_scored_rubric(session: Session, contest: Contest, clean: dict[str, Any]) -> None:
    """Once judges have scored, the keys, maximum points, steps and weights stay as they are:
    a changed one would leave scores under keys that no longer exist or totals computed on
    another scale. Names, descriptions and order may still change. Scores of a work type
    with a rubric of its own hold that one (`judging.work_type_setup`)."""
    problems = keep_scored_type_rubrics(session, contest, clean)
    if "work_types" in clean:
        problems += keep_entered_types(session, contest, clean["work_types"])
    before = contest.rubric or [asdict(c) for c in DEFAULT_RUBRIC.criteria]
    changed = scoring_rules(before) != scoring_rules(clean.get("rubric", before))
    scored = shared_scores(session, contest, clean) if changed else 0
    if scored:
        message = Message(
            "评委已打分（%(count)d 份），评分项的代码、满分、步长和权重不能再改，"
            "只能修改名称、说明和顺序",
            count=scored,
        )
        problems.insert(0, Problem(("rubric",), message))
    if problems:
        raise ContestConfigError(problems)


def checked_config(session: Session, data: dict[str, Any]) -> tuple[Contest | None, dict[str, Any]]:
    """The contest the configuration updates (None: a new one) and its checked fields;
    raises ContestConfigError with every problem. Saves nothing."""
    slug = data.get("slug")
    contest = (
        session.scalar(select(Contest).where(Contest.slug == slug.strip()))
        if isinstance(slug, str)
        else None
    )
    try:
        clean = check_config(data, contest)
    except ContestConfigError as exc:
        # A type that entries have, taken off the list, is named with the other problems.
        if contest is not None and isinstance(data.get("work_types"), list):
            exc.problems += keep_entered_types(session, contest, data["work_types"])
        raise
    clean["slug"] = clean["slug"].strip()
    if contest is not None:
        _keep_scored_rubric(session, contest, clean)
    return contest, clean


def apply_config(session: Session, data: dict[str, Any]) -> Contest:
    """Create the contest with this slug, or update it; commits, or changes nothing."""
    contest, clean = checked_config(session, data)
    if contest is None:
        contest = Contest(slug=clean["slug"], title=clean.get("title") or clean["slug"])
        session.add(contest)
    for name, value in clean.items():
        setattr(contest, name, value)
    session.commit()
    return contest
