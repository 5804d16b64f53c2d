"""What organizers download besides results: entries, raw scores and published 公示.

Each builds a header and rows; `judging.spreadsheet` writes them as CSV or XLSX, so text from
contestants and judges can never run as a formula. Entry numbers are text with their zeros
(0004), as everywhere else on the site. The XLSX of the results and of a 公示 carries a second
sheet, 说明 (`judging.export_notes`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from judging.rubric import all_criteria
from judging.spreadsheet import entry_number
from judging.submissions import STATUS_LABELS
from storage.models import Contest, Entry, Round, Score, User, WorkType

Table = tuple[list[str], list[list[Any]]]


def entries_table(session: Session, contest: Contest) -> Table:
    """Every entry of the contest with its contact details, by number."""
    header = [
        "编号",
        "作品名称",
        "集体名称",
        "类别",
        "县（市）区",
        "行业",
        "联系人",
        "联系电话",
        "电子邮箱",
        "状态",
        "审核",
        "退回原因",
        "提交时间",
    ]
    entries = session.scalars(
        select(Entry).where(Entry.contest_id == contest.id).order_by(Entry.number)
    )
    body = [
        [
            entry_number(e.number),
            e.title,
            e.collective,
            e.category.label,
            e.district,
            e.industry,
            e.contact_name,
            e.contact_phone,
            e.email,
            STATUS_LABELS[e.status],
            "已通过" if e.approved_at else "已退回" if e.returned_at else "待审核",
            e.return_reason if e.returned_at else "",
            e.created_at.isoformat(timespec="seconds"),
        ]
        for e in entries
    ]
    return header, body


def scores_table(session: Session, rnd: Round) -> Table:
    """Every judge's score in the round: one column per criterion, then total and comment.

    With several work types, a 作品类型 column follows the title, and the criteria are those
    of every type's rubric (`judging.rubric.all_criteria`); a criterion not in an entry's
    rubric is blank on its rows."""
    contest = rnd.contest
    criteria = all_criteria(contest)
    typed = len(contest.work_types or []) > 1
    header = [
        "编号",
        "作品名称",
        *(["作品类型"] if typed else []),
        "评委",
        *(c.name for c in criteria),
        "总分",
        "评语",
        "提交时间",
    ]
    rows = session.execute(
        select(Score, Entry, User)
        .join(Entry, Entry.id == Score.entry_id)
        .join(User, User.id == Score.judge_id)
        .where(Score.round_id == rnd.id)
        .order_by(Entry.number, User.username)
    ).tuples()
    body = [
        [
            entry_number(entry.number),
            entry.title,
            *([WorkType(entry.work_type).label] if typed else []),
            judge.display_name,
            *(score.values.get(c.key, "") for c in criteria),
            score.total if score.total is not None else "",
            score.comment,
            score.submitted_at.isoformat(timespec="seconds") if score.submitted_at else "草稿",
        ]
        for score, entry, judge in rows
    ]
    return header, body


def snapshot_table(rows: list[dict[str, Any]]) -> Table:
    """A published 公示's rows as the public may read them (`judging.blind.announced_rows`);
    one published with results by work type has a 作品类型 column, its rows by type."""
    header = ["名次", "编号", "作品名称", "集体名称", "得分", "奖项"]
    keys = ["rank", "number", "title", "collective", "score", "award"]
    if any("work_type" in row for row in rows):
        header.insert(2, "作品类型")
        keys.insert(2, "work_type")

    def cell(row: dict[str, Any], key: str) -> Any:
        if key == "number":
            return entry_number(row[key])
        if key == "work_type":
            return WorkType(row.get(key) or "video").label
        return row.get(key, "")

    return header, [[cell(row, k) for k in keys] for row in rows]
