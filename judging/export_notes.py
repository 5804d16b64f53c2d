"""The 说明 sheet of the results' and a 公示's XLSX: what the numbers mean, and when.

The contest and round, the method's Chinese name and sentence, the panels (as set and as
scored), the award tiers as written, for a 公示 its time, hash, 公示期 and who takes
objections, and the time of the export (Beijing time). CSV carries the table alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from judging.aggregation import METHOD_HELP, method_label
from judging.gallery import BEIJING
from judging.rubric import all_criteria
from storage.models import CATEGORY_LABELS, Contest, Round, Score, Snapshot, WorkType

Notes = list[tuple[str, str]]  # (item, what it says)


def round_notes(
    contest: Contest, rnd: Round, method: str, panels: Iterable[int], column: bool = True
) -> Notes:
    """The 说明 of a round's results: contest, round, method, panels and award tiers;
    `column`: the table has a 评委人数 column to point to."""
    notes = [
        ("活动", contest.title),
        ("评审轮次", rnd.name),
        ("计分方法", f"{method_label(method)}：{METHOD_HELP.get(method, '')}"),
    ]
    if method == "trimmed_mean":
        notes.append(("去分所需评委人数", f"至少 {contest.trim_min_panel} 人，少于此数时不去分"))
    notes += [
        ("每件作品评委人数（设定）", f"{contest.judges_per_entry} 人"),
        ("每件作品评委人数（实际提交）", panel_text(list(panels), column)),
        ("奖项设置（按所列顺序评定）", tiers_text(contest.award_tiers)),
    ]
    if contest.results_by_type:
        types = "、".join(WorkType(t).label for t in contest.work_types or ["video"])
        notes.append(
            ("排名与奖项", f"按作品类型（{types}）分别排名、评奖，奖项名额在每种类型中分别计算")
        )
    if contest.jury_weight < 1:
        jury = round(contest.jury_weight * 100)
        notes.append(("得分构成", f"评委评分占 {jury}%，公众投票占 {100 - jury}%"))
    if contest.tie_break:
        names = {c.key: c.name for c in all_criteria(contest)}
        order = "、".join(names.get(key, key) for key in contest.tie_break)
        notes.append(("同分时依次比较", f"{order}，再比较评委分差（小者在前）"))
    return notes


def announcement_notes(session: Session, snapshot: Snapshot) -> Notes:
    """The 说明 of a published 公示: the round's notes, then the 公示's own facts."""
    contest = session.get_one(Contest, snapshot.contest_id)
    rnd = session.get_one(Round, snapshot.round_id)
    panels = session.scalars(
        select(func.count())
        .select_from(Score)
        .where(Score.round_id == rnd.id, Score.submitted_at.is_not(None))
        .group_by(Score.entry_id)
    )
    return [
        *round_notes(contest, rnd, snapshot.method, panels, column=False),
        ("发布时间", beijing_time(snapshot.published_at)),
        ("校验码（SHA-256）", snapshot.sha256),
        ("公示期", publicity_period(contest) or "未设定"),
        *objection_notes(contest),
    ]


def objection_notes(contest: Contest) -> Notes:
    """Who takes objections during the 公示期, as far as the contest says."""
    lines = [
        ("异议受理单位", contest.objection_office),
        ("异议联系人", contest.objection_contact),
        ("异议联系电话", contest.objection_phone),
        ("异议电子邮箱", contest.objection_email),
    ]
    return [(item, text) for item, text in lines if text]


def publicity_period(contest: Contest) -> str:
    """The 公示期 as `2026-12-01 至 2026-12-07`, or "" when the contest has not set it."""
    start, end = contest.publicity_starts_on, contest.publicity_ends_on
    if start is None and end is None:
        return ""
    return f"{start.isoformat() if start else '…'} 至 {end.isoformat() if end else '…'}"


def panel_text(panels: Sequence[int], column: bool = True) -> str:
    """How many judges' scores each entry has: one number, or the smallest and largest."""
    if not panels:
        return "尚无提交的评分"
    low, high = min(panels), max(panels)
    if low == high:
        return f"{low} 人"
    return f"{low}–{high} 人" + ("（各作品见“评委人数”一列）" if column else "")


def tiers_text(tiers: Sequence[dict[str, Any]]) -> str:
    """Award tiers as the contest lists them: a count, or a share rounded half up."""
    parts = []
    for tier in tiers:
        if "count" in tier:
            size = f"{int(tier['count'])} 件"
        elif "share" in tier:
            size = f"参评作品的 {float(tier['share']) * 100:g}%（四舍五入）"
        else:
            continue
        within = tier.get("category")
        scope = f"（{CATEGORY_LABELS.get(within, within)}内评定）" if within else ""
        parts.append(f"{tier['name']} {size}{scope}")
    return "；".join(parts) or "未设奖项"


def beijing_time(moment: datetime) -> str:
    """A stored UTC time as Beijing time, to the second."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite's are naive
    return aware.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S（北京时间）")


def exported_now(now: datetime | None = None) -> tuple[str, str]:
    """The 说明 line that says when the file was made."""
    return ("导出时间", beijing_time(now or datetime.now(BEIJING)))
