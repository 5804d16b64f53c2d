"""A contest's work types in its configuration: which it accepts, results by type, a rubric
per type, and what entries and scores already given keep from changing.

Called by `judging.contest_setup` (a contest file and the settings page alike). A type with
no rubric of its own is scored with the contest's shared rubric (`judging.rubric.rubric_for`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from judging.config_values import Path, Problem, Problems
from judging.messages import Message
from judging.rubric import DEFAULT_RUBRIC
from storage.models import Contest, Entry, Round, Score, WorkType

KNOWN_TYPES = [t.value for t in WorkType]
Checker = Callable[[Problems, Any], list[dict[str, Any]]]


def _types_text() -> str:
    return "、".join(f"{t.value}（{t.label}）" for t in WorkType)


def check_types(problems: Problems, data: dict[str, Any], clean: dict[str, Any]) -> None:
    """`work_types`: at least one known type, each once, order kept."""
    if "work_types" in data:
        types = data["work_types"]
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            problems.add(("work_types",), Message("应为作品类型的列表，如 [video, photo]"))
        elif not types:
            problems.add(("work_types",), Message("请至少选择一种作品类型"))
        elif set(types) - set(KNOWN_TYPES):
            unknown = "、".join(t for t in types if t not in KNOWN_TYPES)
            problems.add(
                ("work_types",),
                Message(
                    "不认识的作品类型：%(names)s；可用的有 %(known)s",
                    names=unknown,
                    known=_types_text(),
                ),
            )
        elif len(set(types)) != len(types):
            problems.add(("work_types",), Message("作品类型重复了"))
        else:
            clean["work_types"] = list(types)


def check_rubrics(
    problems: Problems, data: dict[str, Any], clean: dict[str, Any], criteria: Checker
) -> None:
    """`rubrics_by_type`: a type's own rubric, checked as the shared one (`criteria`) is;
    a type without one (or an empty list) uses the shared rubric."""
    if "rubrics_by_type" not in data:
        return
    value = data["rubrics_by_type"]
    if not isinstance(value, dict):
        problems.add(("rubrics_by_type",), Message("应为按作品类型分列的评分标准，如 photo: [...]"))
        return
    own: dict[str, list[dict[str, Any]]] = {}
    for work_type, rows in value.items():
        if work_type not in KNOWN_TYPES:
            problems.add(
                ("rubrics_by_type", str(work_type)),
                Message("不认识的作品类型：%(names)s", names=str(work_type)),
            )
            continue
        if rows in (None, []):
            continue  # the shared rubric
        inner = Problems()
        checked = criteria(inner, rows)
        for problem in inner.found:
            problems.add(("rubrics_by_type", work_type, *problem.path[1:]), problem.message)
        own[work_type] = checked
    clean["rubrics_by_type"] = own


def entry_types(session: Session, contest: Contest) -> dict[str, int]:
    """How many entries of the contest each work type has."""
    rows = session.execute(
        select(Entry.work_type, func.count())
        .where(Entry.contest_id == contest.id)
        .group_by(Entry.work_type)
    ).all()
    return {WorkType(t).value: n for t, n in rows}


def keep_entered_types(session: Session, contest: Contest, types: list[str]) -> list[Problem]:
    """A type that entries already have cannot be taken off the list: they would be left
    with a type the contest no longer accepts."""
    have = entry_types(session, contest)
    return [
        Problem(
            ("work_types",),
            Message(
                "已有 %(count)d 件“%(type)s”作品，不能取消这一作品类型",
                count=count,
                type=WorkType(work_type).label,
            ),
        )
        for work_type, count in have.items()
        if count and work_type not in types
    ]


def _rules(criteria: list[dict[str, Any]]) -> dict[str, tuple[float, float, float]]:
    return {c["key"]: (c["max_points"], c.get("step", 0.5), c.get("weight", 1.0)) for c in criteria}


def shared_scores(session: Session, contest: Contest, clean: dict[str, Any]) -> int:
    """How many score sheets are of entries scored by the shared rubric, before the change
    and after it (a type's own rubric coming or going is `keep_scored_type_rubrics`')."""
    own_before = contest.rubrics_by_type or {}
    own_after = clean.get("rubrics_by_type", own_before)
    return sum(
        count
        for work_type, count in type_scores(session, contest).items()
        if not own_before.get(work_type) and not own_after.get(work_type)
    )


def type_scores(session: Session, contest: Contest) -> dict[str, int]:
    """How many score sheets (drafts included) entries of each work type have."""
    rows = session.execute(
        select(Entry.work_type, func.count())
        .select_from(Score)
        .join(Round, Score.round_id == Round.id)
        .join(Entry, Score.entry_id == Entry.id)
        .where(Round.contest_id == contest.id)
        .group_by(Entry.work_type)
    ).all()
    return {WorkType(t).value: n for t, n in rows}


def keep_scored_type_rubrics(
    session: Session, contest: Contest, clean: dict[str, Any]
) -> list[Problem]:
    """Once an entry of a type has scores, the criteria it is scored by (its own rubric, or
    the shared one) keep their keys, maximum points, steps and weights, as the shared rubric
    does (`contest_setup._keep_scored_rubric`). Names, descriptions and order may change."""
    if "rubrics_by_type" not in clean and "rubric" not in clean:
        return []
    default = [asdict(c) for c in DEFAULT_RUBRIC.criteria]
    shared_before = contest.rubric or default
    shared_after = clean.get("rubric", contest.rubric) or default
    own_before = contest.rubrics_by_type or {}
    own_after = clean.get("rubrics_by_type", own_before)
    problems = []
    for work_type, count in type_scores(session, contest).items():
        before = own_before.get(work_type) or shared_before
        after = own_after.get(work_type) or shared_after
        if not own_before.get(work_type) and not own_after.get(work_type):
            continue  # scored by the shared rubric before and after: its own rule applies
        if not count or _rules(before) == _rules(after):
            continue
        path: Path = ("rubrics_by_type", work_type)
        problems.append(
            Problem(
                path,
                Message(
                    "“%(type)s”作品的评委已打分（%(count)d 份），其评分项的代码、满分、步长和"
                    "权重不能再改，只能修改名称、说明和顺序",
                    type=WorkType(work_type).label,
                    count=count,
                ),
            )
        )
    return problems
