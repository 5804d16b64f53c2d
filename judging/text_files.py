"""Spreadsheets handed in by organizers: CSV in whatever encoding Excel or WPS saved, or XLSX.

Excel on Chinese Windows saves "CSV" as GBK (strictly, its superset GB18030), "CSV UTF-8"
with a byte-order mark; WPS and LibreOffice often write UTF-8 without one. Every UTF-8 file
is also valid GB18030 bytes (read as nonsense), so UTF-8 is tried first: a GBK file of
Chinese text is almost never valid UTF-8.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass

from judging.messages import Message

ENCODINGS = ("utf-8-sig", "gb18030")
XLSX_MAGIC = b"PK\x03\x04"  # a ZIP archive, as every XLSX is


class TableFileError(ValueError):
    """The file cannot be read as a table at all; `message` says why, in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class TableRow:
    line: int  # the line (CSV) or row (XLSX) number, as the organizer sees it
    cells: list[str]


def decode_text(data: bytes) -> str:
    """The text of a CSV file: UTF-8 (with or without BOM), else GBK/GB18030."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")  # Excel's "Unicode text"
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableFileError(Message("文件编码无法识别：请另存为 CSV（UTF-8 或 GBK 编码）或 XLSX"))


def read_table(data: bytes) -> list[TableRow]:
    """Every non-empty row of a CSV or XLSX file, cells as stripped text, heading included."""
    rows = _xlsx_rows(data) if data.startswith(XLSX_MAGIC) else _csv_rows(data)
    return [TableRow(n, cells) for n, cells in rows if any(cells)]


def _csv_rows(data: bytes) -> list[tuple[int, list[str]]]:
    text = decode_text(data)
    first = text.split("\n", 1)[0]
    # Excel's "Unicode text" and copies from a sheet are tab-separated.
    delimiter = "\t" if "\t" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return [(reader.line_num, [cell.strip() for cell in cells]) for cells in reader]
    except csv.Error as exc:
        raise TableFileError(
            Message("第 %(line)d 行无法按 CSV 读取：%(error)s", line=reader.line_num, error=exc)
        ) from exc


def _xlsx_rows(data: bytes) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    # A broken archive, or a ZIP that is not a workbook (no sheets, bad XML).
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise TableFileError(Message("XLSX 文件已损坏或不是 Excel 表格，请重新保存后上传")) from exc
    try:
        sheet = book.worksheets[0]
        return [
            (number, [_cell_text(value) for value in values])
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        ]
    finally:
        book.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone number typed as a number: 13800138000.0
    return str(value).strip()
