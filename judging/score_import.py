"""Paper scores from a spreadsheet (`footprints scores import`): the whole file or nothing.

Judges who score on paper hand in a sheet; the organizer types it up in Excel or WPS and
saves it as CSV (UTF-8 or, on Chinese Windows, GBK) or XLSX (`judging.text_files` reads all
of them). One row per judge and entry. Headings may be Chinese or the field names:

- the entry: `entry`, 作品编号 or 编号, holding its number (4 or 0004) or the round's
  anonymous code (A-017);
- the judge: `judge`, 评委 or 评委用户名, holding the username, or a judge's name where exactly
  one judge account bears it;
- one column per criterion, by its key (`theme`) or its name (主题立意, also 主题立意（30分）);
- the comment: `comment`, 评语 or 备注 (optional).

Every row is checked as the score form checks it (`judging.scoring.save_score`, called for each
row) and the file is saved in one transaction: one problem anywhere, and nothing is saved.
Each problem names its line; a heading nobody knows is named too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from judging.codes import codes_of
from judging.messages import Message
from judging.numbers import ascii_int
from judging.rounds import RoundError, is_assigned
from judging.rubric import Rubric, ScoreError, all_criteria
from judging.scoring import save_score
from judging.text_files import TableFileError, TableRow, read_table
from storage.models import Contest, Entry, Role, Round, User

HEADINGS = {
    "entry": ("entry", "作品编号", "编号", "作品号"),
    "judge": ("judge", "评委", "评委用户名", "用户名", "评委账号"),
    "comment": ("comment", "评语", "备注"),
}
# 主题立意（30分）, 感染力(15): a paper form's heading carries the points in brackets.
_POINTS = re.compile(r"[(（]\s*[0-9.]+\s*分?\s*[)）]$")


@dataclass(frozen=True)
class Imported:
    """What an import did: how many scores it saved, or every problem and nothing saved."""

    saved: int
    problems: list[Message]


@dataclass(frozen=True)
class _Row:
    line: int
    entry: Entry
    judge: User
    sheet: dict[str, str]
    comment: str


def import_scores(session: Session, rnd: Round, data: bytes, importer: User) -> Imported:
    """Submit a file of paper scores for `rnd`, all rows or none; commits when all are good."""
    try:
        table = read_table(data)
    except TableFileError as exc:
        return Imported(0, [Message(exc.message)])
    if not table:
        empty = Message("文件是空的：第一行应为列名（作品编号、评委、各评分项、评语）")
        return Imported(0, [empty])
    columns, problems = _columns(table[0], rnd.contest)
    if problems:
        return Imported(0, problems)
    rows: list[_Row] = []
    finder = _Finder(session, rnd)
    for raw in table[1:]:
        row = _parse(raw, columns, finder, problems)
        if row is not None:
            rows.append(row)
    if len(table) == 1:
        problems.append(Message("文件中只有列名，没有评分"))
    problems += _duplicates(rows)
    problems += _unassigned(session, rnd, rows)
    if problems:
        return Imported(0, sorted(problems, key=_line_of))
    return _save(session, rnd, rows, importer)


def _normal(heading: str) -> str:
    text = unicodedata.normalize("NFKC", heading).strip().lower()
    return re.sub(r"\s+", "", _POINTS.sub("", text))


def _columns(heading: TableRow, contest: Contest) -> tuple[dict[str, int], list[Message]]:
    """Which column holds each field; every heading nobody knows, missing or doubled.

    The criteria are those of every work type's rubric (`judging.rubric.all_criteria`); with
    one rubric for all, each is a column the file must have, with rubrics per work type each
    row is checked against its entry's rubric instead (a value of another type's refused)."""
    criteria = all_criteria(contest)
    rubric = Rubric(tuple(criteria))
    aliases = {_normal(a): field for field, names in HEADINGS.items() for a in names}
    for c in rubric.criteria:
        aliases[_normal(c.key)] = aliases[_normal(c.name)] = c.key
    found: dict[str, int] = {}
    problems: list[Message] = []
    for index, text in enumerate(heading.cells):
        if not text:
            continue
        field = aliases.get(_normal(text))
        if field is None:
            known = "、".join(["作品编号", "评委", *(c.name for c in rubric.criteria), "评语"])
            problems.append(
                Message(
                    "第 %(line)d 行：不认识的列名“%(heading)s”；可用的列名为 %(known)s",
                    line=heading.line,
                    heading=text,
                    known=known,
                )
            )
        elif field in found:
            problems.append(
                Message(
                    "第 %(line)d 行：列名“%(heading)s”与第 %(first)d 列重复",
                    line=heading.line,
                    heading=text,
                    first=found[field] + 1,
                )
            )
        else:
            found[field] = index
    names = {"entry": "作品编号", "judge": "评委"}
    if not contest.rubrics_by_type:
        names.update({c.key: c.name for c in rubric.criteria})
    for field, name in names.items():
        if field not in found:
            problems.append(
                Message("第 %(line)d 行：缺少“%(name)s”一列", line=heading.line, name=name)
            )
    return found, problems


class _Finder:
    """Entries of the round's contest by number or code, judges by username or name."""

    def __init__(self, session: Session, rnd: Round) -> None:
        entries = session.scalars(select(Entry).where(Entry.contest_id == rnd.contest_id))
        self.by_number = {e.number: e for e in entries}
        by_id = {e.id: e for e in self.by_number.values()}
        self.by_code = {code: by_id[i] for i, code in codes_of(session, rnd).items() if i in by_id}
        users = list(session.scalars(select(User)))
        self.by_username = {u.username: u for u in users}
        self.by_name: dict[str, list[User]] = {}
        for user in users:
            if user.role == Role.JUDGE and user.active:
                self.by_name.setdefault(user.display_name, []).append(user)

    def entry(self, text: str) -> Entry | None:
        number = ascii_int(text)
        return self.by_number.get(number) if number is not None else self.by_code.get(text.upper())

    def judge(self, text: str) -> User | Message:
        if text in self.by_username:
            return self.by_username[text]
        named = self.by_name.get(text, [])
        if len(named) == 1:
            return named[0]
        if named:
            usernames = "、".join(sorted(u.username for u in named))
            return Message(
                "有 %(n)d 位评委都叫“%(name)s”，请改填用户名（%(usernames)s）",
                n=len(named),
                name=text,
                usernames=usernames,
            )
        return Message("没有用户名或姓名为“%(judge)s”的评委", judge=text)


def _parse(
    raw: TableRow, columns: dict[str, int], finder: _Finder, problems: list[Message]
) -> _Row | None:
    """One row's entry, judge and values, or its problems added to `problems`."""

    def cell(field: str) -> str:
        index = columns.get(field)
        return raw.cells[index] if index is not None and index < len(raw.cells) else ""

    entry_text, judge_text = cell("entry"), cell("judge")
    entry = finder.entry(entry_text) if entry_text else None
    judge = finder.judge(judge_text) if judge_text else Message("请填写评委的用户名")
    if entry is None:
        problems.append(
            Message("第 %(line)d 行：没有编号为“%(entry)s”的作品", line=raw.line, entry=entry_text)
            if entry_text
            else Message("第 %(line)d 行：请填写作品编号", line=raw.line)
        )
    if isinstance(judge, Message):
        problems.append(Message("第 %(line)d 行：%(problem)s", line=raw.line, problem=judge))
    if entry is None or isinstance(judge, Message):
        return None
    sheet = {key: cell(key) for key in columns if key not in HEADINGS}
    return _Row(raw.line, entry, judge, sheet, cell("comment"))


def _duplicates(rows: Sequence[_Row]) -> list[Message]:
    """The same judge's score for the same entry twice: which one is meant is not ours to pick."""
    first: dict[tuple[int, int], int] = {}
    problems = []
    for row in rows:
        key = (row.entry.id, row.judge.id)
        if key in first:
            problems.append(
                Message(
                    "第 %(line)d 行：与第 %(first)d 行重复（同一评委给同一作品评了两次分："
                    "作品 %(number)04d，评委 %(judge)s），请只保留一行",
                    line=row.line,
                    first=first[key],
                    number=row.entry.number,
                    judge=row.judge.username,
                )
            )
        else:
            first[key] = row.line
    return problems


def _unassigned(session: Session, rnd: Round, rows: Sequence[_Row]) -> list[Message]:
    """Rows of a judge who does not score that entry in this round (not assigned, or
    conflicted), named as such rather than as the score form words it for a judge."""
    return [
        Message(
            "第 %(line)d 行：评委 %(judge)s 在“%(round)s”中没有被分配作品 %(number)04d（或已回避）",
            line=row.line,
            judge=row.judge.username,
            round=rnd.name,
            number=row.entry.number,
        )
        for row in rows
        if not is_assigned(session, rnd, row.judge.id, row.entry.id)
    ]


def _save(session: Session, rnd: Round, rows: Sequence[_Row], importer: User) -> Imported:
    """Every row through save_score inside the caller's transaction (each of save_score's
    commits only releases a savepoint), then one commit, or one rollback if any row fails."""
    problems: list[Message] = []
    connection = session.connection()
    raw = connection.connection.dbapi_connection
    if connection.dialect.name == "sqlite" and raw is not None and not raw.in_transaction:
        # pysqlite begins a transaction only before a write, so the first SAVEPOINT would
        # begin it and that savepoint's RELEASE commit it: each row would be saved alone.
        connection.exec_driver_sql("BEGIN")
    batch = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        batch_round = batch.get_one(Round, rnd.id)
        for row in rows:
            try:
                save_score(
                    batch,
                    batch_round,
                    batch.get_one(User, row.judge.id),
                    batch.get_one(Entry, row.entry.id),
                    row.sheet,
                    row.comment,
                    submit=True,
                    address=f"import by {importer.username}",
                )
            except ScoreError as exc:
                batch.rollback()
                problems += [
                    # The rubric's messages name the criterion ("请为“感染力”打分").
                    Message("第 %(line)d 行：%(problem)s", line=row.line, problem=message)
                    for message in exc.errors.values()
                ]
            except RoundError as exc:
                batch.rollback()
                problems.append(
                    Message("第 %(line)d 行：%(problem)s", line=row.line, problem=exc.message)
                )
    finally:
        batch.close()
    if problems:
        session.rollback()
        return Imported(0, problems)
    session.commit()
    return Imported(len(rows), [])


def _line_of(message: Message) -> int:
    return int(message.values.get("line", 0))
