"""Judges from a spreadsheet: one row per judge, imported whole or not at all.

Headings are Chinese (姓名, 单位, 所属区县, 手机, 邮箱) or their English names. A judge already
on the list (same phone and name) is left as it is and reported, never updated: a changed
unit or district would change the conflict rules of a round already assigned. Everything
else that is wrong is named with its line, and then nothing is imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from judging.judge_invitations import (
    FIELD_LABELS,
    IssuedLink,
    JudgeError,
    JudgeFields,
    create_judges,
    existing_judge,
    normalize_phone,
    validate_judge,
)
from judging.messages import Message
from judging.text_files import TableFileError, TableRow, read_table
from storage.models import User

HEADINGS = {
    "display_name": ("姓名", "评委姓名", "name"),
    "unit": ("单位", "工作单位", "所在单位", "unit"),
    "district": ("所属区县", "区县", "地区", "所属县（市）区", "所属县(市)区", "district"),
    "phone": ("手机", "手机号", "手机号码", "电话", "联系电话", "phone", "mobile"),
    "email": ("邮箱", "电子邮箱", "e-mail", "email", "邮件"),
    "username": ("用户名", "username"),
}
# Columns organizers keep in such sheets that say nothing about the account.
IGNORED = ("序号", "编号", "备注", "职务", "职称", "性别", "no.", "no")
MAX_ROWS = 500
MAX_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Problem:
    line: int  # 0: the file as a whole
    message: str


class JudgeImportError(ValueError):
    """The file was not imported; every problem is named, with its line."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(f"{p.line}: {p.message}" for p in problems))
        self.problems = list(problems)


@dataclass
class ImportResult:
    created: list[IssuedLink] = field(default_factory=list)
    existing: list[tuple[int, User]] = field(default_factory=list)  # (line, judge) left alone


def import_judges(
    session: Session, data: bytes, by: User | None, districts: Sequence[str] = ()
) -> ImportResult:
    """Add every judge of a CSV or XLSX file, or none; commits."""
    if len(data) > MAX_BYTES:
        raise JudgeImportError([Problem(0, Message("文件过大：评委名单不超过 1 MB"))])
    try:
        table = read_table(data)
    except TableFileError as exc:
        raise JudgeImportError([Problem(0, exc.message)]) from exc
    if len(table) < 2:
        raise JudgeImportError([Problem(0, Message("表格是空的：第一行为列名，每位评委一行"))])
    if len(table) - 1 > MAX_ROWS:
        raise JudgeImportError(
            [Problem(0, Message("一次最多导入 %(n)d 位评委，请分几个文件导入", n=MAX_ROWS))]
        )
    columns = _columns(table[0])
    problems: list[Problem] = []
    result = ImportResult()
    new: list[JudgeFields] = []
    seen: dict[tuple[str, str], int] = {}
    for row in table[1:]:
        values = {name: _cell(row, i) for name, i in columns.items()}
        try:
            fields = validate_judge(values, districts)
        except JudgeError as exc:
            problems += [Problem(row.line, message) for message in exc.errors.values()]
            # A later row with the same phone is named too, so one upload shows everything.
            if phone := normalize_phone(values.get("phone", "")):
                seen.setdefault(("phone", phone), row.line)
            continue
        repeated = _repeated(fields, row.line, seen)
        if repeated:
            problems.append(repeated)
            continue
        try:
            judge = _already_there(session, fields)
        except JudgeError as exc:
            problems.append(Problem(row.line, exc.message))
            continue
        if judge is not None:
            result.existing.append((row.line, judge))
        else:
            new.append(fields)
    if problems:
        raise JudgeImportError(problems)
    try:
        result.created = create_judges(session, new, by)
    except JudgeError as exc:  # another organizer added one of them meanwhile
        messages = list(exc.errors.values()) or [exc.message]
        raise JudgeImportError([Problem(0, m) for m in messages]) from exc
    return result


def _columns(heading: TableRow) -> dict[str, int]:
    found: dict[str, int] = {}
    unknown = []
    for index, text in enumerate(heading.cells):
        key = text.strip().lower().replace(" ", "")
        name = next((n for n, aliases in HEADINGS.items() if key in aliases), None)
        if name is not None and name not in found:
            found[name] = index
        elif name is None and key and key not in IGNORED:
            unknown.append(text)
    problems = [
        Problem(heading.line, Message("缺少“%(label)s”一列", label=FIELD_LABELS[name]))
        for name in ("display_name", "phone")
        if name not in found
    ]
    if unknown:
        known = "、".join(aliases[0] for aliases in HEADINGS.values())
        problems.append(
            Problem(
                heading.line,
                Message(
                    "不认识的列：%(names)s（可用的列：%(known)s）",
                    names="、".join(unknown),
                    known=known,
                ),
            )
        )
    if problems:
        raise JudgeImportError(problems)
    return found


def _cell(row: TableRow, index: int) -> str:
    return row.cells[index] if index < len(row.cells) else ""


def _repeated(fields: JudgeFields, line: int, seen: dict[tuple[str, str], int]) -> Problem | None:
    """The same phone, e-mail or user name twice in the file."""
    keys = [("phone", fields.phone), ("email", fields.email.lower()), ("username", fields.username)]
    for kind, value in keys:
        if not value:
            continue
        if (kind, value) in seen:
            label = FIELD_LABELS[kind]
            return Problem(
                line,
                Message(
                    "%(label)s与第 %(other)d 行相同：同一位评委只需一行",
                    label=label,
                    other=seen[(kind, value)],
                ),
            )
    for kind, value in keys:
        if value:
            seen[(kind, value)] = line
    return None


def _already_there(session: Session, fields: JudgeFields) -> User | None:
    """The judge this row names when they are already on the list; JudgeError when the row
    clashes with another judge (same phone or e-mail, another name)."""
    by_phone = existing_judge(session, "phone", fields.phone)
    by_email = existing_judge(session, "email", fields.email) if fields.email else None
    for judge, label in ((by_phone, FIELD_LABELS["phone"]), (by_email, FIELD_LABELS["email"])):
        if judge is not None and judge.display_name != fields.display_name:
            raise JudgeError(
                Message(
                    "%(label)s已属于评委 %(name)s（%(user)s），与本行姓名不同",
                    label=label,
                    name=judge.display_name,
                    user=judge.username,
                )
            )
    if by_phone is not None and by_email is not None and by_phone.id != by_email.id:
        raise JudgeError(Message("手机号和邮箱分别属于两位已有的评委，请核对"))
    judge = by_phone or by_email
    if judge is None and fields.username:
        if session.scalar(select(User.id).where(User.username == fields.username)):
            raise JudgeError(Message("用户名 %(user)s 已被使用", user=fields.username))
    return judge
