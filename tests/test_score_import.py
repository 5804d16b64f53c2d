"""`footprints scores import`: paper scores in any encoding Excel saves, whole or not at all."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from judging.rounds import (
    assign_round,
    assigned_entries,
    close_round,
    eligible_entries,
    open_round,
)
from judging.score_import import import_scores
from judging.scoring import score_of
from storage.database import make_engine, make_session_factory
from storage.models import (
    Assignment,
    Base,
    Contest,
    Entry,
    EntryCategory,
    Role,
    Round,
    Score,
    User,
)
from tests.factories import make_entries, make_user
from tests.test_judging_flow import judged  # noqa: F401 - the fixture

Judged = tuple[Contest, Round, list[User]]
CHINESE = "作品编号,评委,主题立意,故事与创意,制作质量,感染力,评语"
ENGLISH = "entry,judge,theme,story,production,appeal,comment"


def pairs(session: Session, rnd: Round, judges: list[User], n: int) -> list[tuple[User, Entry]]:
    """`n` (judge, entry) pairs the round assigned, in a stable order."""
    found = [(j, e) for j in judges for e in assigned_entries(session, rnd, j.id)]
    assert len(found) >= n
    return found[:n]


@pytest.fixture()
def assigned(session: Session, judged: Judged) -> tuple[Round, list[tuple[User, Entry]]]:  # noqa: F811
    contest, rnd, judges = judged
    assign_round(session, rnd, eligible_entries(session, contest), seed=11)
    return rnd, pairs(session, rnd, judges, 4)


def submitted(session: Session, rnd: Round) -> int:
    session.expire_all()
    query = select(func.count()).where(Score.round_id == rnd.id, Score.submitted_at.is_not(None))
    return session.scalar(query.select_from(Score)) or 0


def run(session: Session, rnd: Round, data: bytes) -> Any:
    return import_scores(session, rnd, data, make_user(session, Role.ORGANIZER))


def test_a_gbk_file_with_chinese_headings_imports(
    session: Session, assigned: tuple[Round, list[tuple[User, Entry]]]
) -> None:
    rnd, rows = assigned
    # Excel on Chinese Windows: GBK, the paper form's headings with points in brackets,
    # numbers with their zeros, the judge by name where the name is unique.
    rows[0][0].display_name = "独一无二的评委"
    session.commit()
    lines = ["作品编号,评委,主题立意（30分）,故事与创意,制作质量,感染力(15分),评语"]
    for n, (judge, entry) in enumerate(rows):
        who = judge.display_name if n == 0 else judge.username
        lines.append(f"{entry.number:04d},{who},25,25,20,10,纸质评分：画面感人")
    outcome = run(session, rnd, "\r\n".join(lines).encode("gbk"))
    assert outcome.problems == [] and outcome.saved == 4
    for judge, entry in rows:
        score = score_of(session, rnd, judge.id, entry.id)
        assert score is not None and score.total == 80 and score.comment == "纸质评分：画面感人"
        assert score.submitted_at is not None


@pytest.mark.parametrize("kind", ["utf-8-sig", "utf-8", "gb18030", "xlsx"])
def test_every_encoding_excel_and_wps_save_is_read(
    session: Session, assigned: tuple[Round, list[tuple[User, Entry]]], kind: str
) -> None:
    rnd, rows = assigned
    body = [[f"{e.number:04d}", j.username, "20", "20", "20", "10", "好"] for j, e in rows[:2]]
    if kind == "xlsx":
        book = Workbook()
        for line in [ENGLISH.split(","), *body]:
            book.active.append(line)
        out = io.BytesIO()
        book.save(out)
        data = out.getvalue()
    else:
        text = "\n".join([CHINESE, *(",".join(line) for line in body)])
        data = text.encode(kind)
    outcome = run(session, rnd, data)
    assert outcome.problems == [] and outcome.saved == 2
    assert submitted(session, rnd) == 2


def test_one_bad_line_among_good_ones_saves_nothing(
    session: Session, assigned: tuple[Round, list[tuple[User, Entry]]]
) -> None:
    rnd, rows = assigned
    (j1, e1), (j2, e2), (j3, e3), (j4, e4) = rows
    # Lines 2 and 4 are good and pass every check before saving; line 3 is out of range, which
    # only save_score finds, after line 2 went through it: line 2 must not stay either.
    text = "\n".join(
        [
            ENGLISH,
            f"{e1.number},{j1.username},25,25,20,10,好",
            f"{e2.number},{j2.username},99,25,20,10,",
            f"{e3.number},{j3.username},25,25,20,10,",
            f"{e4.number},{j4.username},25,25,20,,",
        ]
    )
    outcome = run(session, rnd, text.encode())
    assert outcome.saved == 0
    assert [str(p) for p in outcome.problems] == [
        "第 3 行：“主题立意”的分数应在 0 到 30 之间",
        "第 5 行：请为“感染力”打分",
    ]
    session.expire_all()
    assert session.scalar(select(func.count()).where(Score.round_id == rnd.id)) == 0


def test_a_duplicate_row_is_refused_naming_both_lines(
    session: Session, assigned: tuple[Round, list[tuple[User, Entry]]]
) -> None:
    rnd, rows = assigned
    (j1, e1), (j2, e2) = rows[:2]
    text = "\n".join(
        [
            ENGLISH,
            f"{e1.number},{j1.username},25,25,20,10,第一次",
            f"{e2.number},{j2.username},25,25,20,10,",
            f"{e1.number:04d},{j1.username},20,20,20,10,第二次",
        ]
    )
    outcome = run(session, rnd, text.encode())
    assert outcome.saved == 0 and len(outcome.problems) == 1
    problem = str(outcome.problems[0])
    assert problem.startswith("第 4 行：与第 2 行重复") and f"{e1.number:04d}" in problem
    assert submitted(session, rnd) == 0


def test_unknown_headings_entries_judges_and_unassigned_rows_are_named(
    session: Session,
    assigned: tuple[Round, list[tuple[User, Entry]]],
    judged: Judged,  # noqa: F811
) -> None:
    rnd, rows = assigned
    judge, entry = rows[0]
    outcome = run(
        session, rnd, f"{CHINESE},得分\n{entry.number},{judge.username},1,1,1,1,,".encode()
    )
    assert [str(p) for p in outcome.problems] == [
        "第 1 行：不认识的列名“得分”；可用的列名为 作品编号、评委、主题立意、故事与创意、制作质量、"
        "感染力、评语"
    ]
    outcome = run(session, rnd, "评委,主题立意\nx,1\n".encode())
    assert "第 1 行：缺少“作品编号”一列" in outcome.problems
    assert "第 1 行：缺少“感染力”一列" in outcome.problems

    stranger = make_user(session, Role.JUDGE)
    not_assigned = next(
        e
        for e in eligible_entries(session, rnd.contest)
        if e not in assigned_entries(session, rnd, judged[2][0].id)
    )
    twins = [make_user(session, Role.JUDGE) for _ in range(2)]
    for twin in twins:
        twin.display_name = "同名评委"
    session.commit()
    text = "\n".join(
        [
            ENGLISH,
            f"9999,{judge.username},25,25,20,10,",
            f"{entry.number},nobody,25,25,20,10,",
            f"{entry.number},{stranger.username},25,25,20,10,",
            f"{not_assigned.number},{judged[2][0].username},25,25,20,10,",
            f"{entry.number},同名评委,25,25,20,10,",
            f",{judge.username},25,25,20,10,",
        ]
    )
    problems = [str(p) for p in run(session, rnd, text.encode()).problems]
    assert problems[0] == "第 2 行：没有编号为“9999”的作品"
    assert problems[1] == "第 3 行：没有用户名或姓名为“nobody”的评委"
    assert problems[2].startswith(f"第 4 行：评委 {stranger.username} 在“初评”中没有被分配作品")
    assert problems[3].startswith(f"第 5 行：评委 {judged[2][0].username} 在“初评”中没有被分配")
    assert problems[4].startswith("第 6 行：有 2 位评委都叫“同名评委”，请改填用户名")
    assert all(t.username in problems[4] for t in twins)
    assert problems[5] == "第 7 行：请填写作品编号"
    assert submitted(session, rnd) == 0


def test_unreadable_files_are_refused_in_chinese(
    session: Session, assigned: tuple[Round, list[tuple[User, Entry]]]
) -> None:
    rnd, _rows = assigned
    assert [str(p) for p in run(session, rnd, b"").problems] == [
        "文件是空的：第一行应为列名（作品编号、评委、各评分项、评语）"
    ]
    assert [str(p) for p in run(session, rnd, f"{CHINESE}\n,,,\n".encode()).problems] == [
        "文件中只有列名，没有评分"
    ]
    assert "编码无法识别" in str(run(session, rnd, b"entry,judge\n\x81\xff\xfe,x\n").problems[0])
    assert "XLSX" in str(run(session, rnd, b"PK\x03\x04 not really a workbook").problems[0])


def test_the_command_prints_every_problem_and_exits_1_saving_nothing(
    session: Session, assigned: tuple[Round, list[tuple[User, Entry]]], runner: Any, tmp_path: Any
) -> None:
    rnd, rows = assigned
    (j1, e1), (j2, e2) = rows[:2]
    make_user(session, Role.ORGANIZER)
    sheet = tmp_path / "纸质评分.csv"
    good = f"{e1.number:04d},{j1.username},25,25,20,10,纸质评分"
    sheet.write_bytes(f"{CHINESE}\n{good}\n{e2.number},{j2.username},25,25,20,x,\n".encode("gbk"))
    result = runner.invoke(args=["scores", "import", rnd.contest.slug, str(sheet)])
    assert result.exit_code == 1, result.output
    assert "第 3 行：请为“感染力”打分" in result.output
    assert "未导入任何评分：1 处问题" in result.output
    assert submitted(session, rnd) == 0

    sheet.write_bytes(f"{CHINESE}\n{good}\n".encode("gbk"))
    result = runner.invoke(args=["scores", "import", rnd.contest.slug, str(sheet)])
    assert result.exit_code == 0, result.output
    assert "已导入 1 条评分" in result.output
    score = score_of(session, rnd, j1.id, e1.id)
    assert score is not None and score.total == 80 and score.comment == "纸质评分"


def test_a_second_run_updates_the_same_scores_and_a_closed_round_takes_none(
    session: Session, assigned: tuple[Round, list[tuple[User, Entry]]]
) -> None:
    rnd, rows = assigned
    lines = [ENGLISH] + [f"{e.number},{j.username},25,25,20,10," for j, e in rows[:2]]
    data = "\n".join(lines).encode()
    assert run(session, rnd, data).saved == 2
    again = data.replace(b",25,25,20,10,", b",30,25,20,10,")
    assert run(session, rnd, again).saved == 2  # the operator ran the corrected file again
    session.expire_all()
    scores = list(session.scalars(select(Score).where(Score.round_id == rnd.id)))
    assert len(scores) == 2 and {s.total for s in scores} == {85.0}

    close_round(session, rnd)
    outcome = run(session, rnd, data)
    assert outcome.saved == 0
    assert [str(p) for p in outcome.problems] == [
        "第 2 行：本轮评审已结束，分数已锁定",
        "第 3 行：本轮评审已结束，分数已锁定",
    ]
    session.expire_all()
    assert {s.total for s in session.scalars(select(Score).where(Score.round_id == rnd.id))} == {
        85.0
    }


def test_all_or_nothing_holds_on_sqlite_too(tmp_path: Any) -> None:
    """`make run`'s database: pysqlite begins transactions lazily, which would make the first
    savepoint's release commit each row on its own."""
    engine = make_engine(f"sqlite:///{tmp_path / 'footprints.db'}")
    Base.metadata.create_all(engine)
    session = make_session_factory(engine)()
    contest = Contest(slug="sqlite", title="t", closes_at=datetime.now(UTC) + timedelta(days=1))
    organizer = User(username="o", display_name="组委会", password_hash="-", role=Role.ORGANIZER)
    judge = User(username="j", display_name="评委", password_hash="-", role=Role.JUDGE)
    session.add_all([contest, organizer, judge])
    session.commit()
    make_entries(session, organizer, contest, 2, category=EntryCategory.COLLECTIVE)
    rnd = open_round(session, contest, "初评")
    for entry in session.scalars(select(Entry)):
        session.add(Assignment(round_id=rnd.id, judge_id=judge.id, entry_id=entry.id))
    session.commit()
    bad = f"{ENGLISH}\n1,j,25,25,20,10,\n2,j,99,25,20,10,\n".encode()
    assert import_scores(session, rnd, bad, organizer).problems
    count = select(func.count()).select_from(Score)
    assert make_session_factory(engine)().scalar(count) == 0
    good = f"{ENGLISH}\n1,j,25,25,20,10,\n2,j,20,25,20,10,\n".encode()
    assert import_scores(session, rnd, good, organizer).saved == 2
    assert make_session_factory(engine)().scalar(count) == 2
    session.close()
    engine.dispose()
