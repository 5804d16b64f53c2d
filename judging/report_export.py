"""A month's adopted activity reports for the office's bulletins: an XLSX with links to each
report's public page and photos, and a zip of the photos (their 2048 images) streamed as it
is written, so a big month is never held in memory."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from judging.report_stats import parse_month
from storage.models import ActivityReport, Contest, JobState, ReportFile, ReportStatus

HEADER = (
    "所属县（市）区",
    "报送单位",
    "行业",
    "活动名称",
    "活动日期",
    "活动地点",
    "活动类型",
    "参与青年人数",
    "活动简介",
    "采用时间",
    "公开页面",
)
PHOTO_SIZE = "2048"
# Characters no file name on Windows, macOS or Linux may hold, and whitespace.
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f\s]+')
NAME_LIMIT = 60
BLOCK = 1024 * 1024


def adopted_in_month(session: Session, contest: Contest, month: str) -> list[ActivityReport]:
    """The contest's adopted reports held in `month` ("2026-05"), by date; [] for a bad month."""
    bounds = parse_month(month)
    if bounds is None:
        return []
    return list(
        session.scalars(
            select(ActivityReport)
            .where(
                ActivityReport.contest_id == contest.id,
                ActivityReport.status == ReportStatus.ADOPTED,
                ActivityReport.held_on >= bounds[0],
                ActivityReport.held_on < bounds[1],
            )
            .order_by(ActivityReport.held_on, ActivityReport.id)
        )
    )


def ready_photos(report: ActivityReport) -> list[ReportFile]:
    """The report's processed photos, in order."""
    return [
        f for f in report.files if f.kind == "photo" and f.state is JobState.READY and f.outputs
    ]


def workbook(
    reports: Iterable[ActivityReport],
    page_link: Callable[[ActivityReport], str],
    photo_link: Callable[[ActivityReport, int], str],
    title: str,
) -> bytes:
    """The XLSX: one row per report, its photos' links in the columns after 公开页面.

    Every text cell is a string cell (a title typed as `=HYPERLINK(...)` stays text); only
    the links the site makes itself are hyperlinks.
    """
    from openpyxl import Workbook

    reports = list(reports)
    most = max((len(ready_photos(r)) for r in reports), default=0)
    book = Workbook()
    sheet = book.worksheets[0]
    sheet.title = title[:31]
    _row(sheet, [*HEADER, *(f"照片{n}" for n in range(1, most + 1))], 0)
    for report in reports:
        links = [page_link(report)]
        links += [photo_link(report, n) for n in range(1, len(ready_photos(report)) + 1)]
        values: list[object] = [
            report.district,
            report.unit,
            report.industry,
            report.title,
            report.held_on.isoformat(),
            report.place,
            report.activity_type,
            report.participants,
            report.body,
            report.reviewed_at.strftime("%Y-%m-%d %H:%M") if report.reviewed_at else "",
            *links,
        ]
        _row(sheet, values, len(HEADER) - 1)
    for column, width in zip(
        "ABCDEFGHIJK", (14, 24, 12, 30, 12, 20, 12, 10, 50, 16, 40), strict=True
    ):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _row(sheet: Any, values: list[object], links_from: int) -> None:
    sheet.append(values)
    row = sheet[sheet.max_row]
    for index, cell in enumerate(row):
        if isinstance(cell.value, str):
            cell.data_type = "s"  # never a formula, whatever the text starts with
            cell.number_format = "@"
            if index >= links_from and cell.value.startswith(("http://", "https://")):
                cell.hyperlink = cell.value  # our own absolute links, never a reporter's text


def safe_part(text: str) -> str:
    """A piece of a file name: unsafe characters and whitespace as "_", at most NAME_LIMIT."""
    cleaned = _UNSAFE.sub("_", text).strip("._")
    return cleaned[:NAME_LIMIT] or "_"


def photo_names(reports: Iterable[ActivityReport]) -> Iterator[tuple[ReportFile, str]]:
    """Each ready photo with its name in the zip: `<district>_<date>_<title>_<n>.jpg`, unique."""
    used: set[str] = set()
    for report in reports:
        stem = "_".join(
            (safe_part(report.district), report.held_on.isoformat(), safe_part(report.title))
        )
        for n, photo in enumerate(ready_photos(report), start=1):
            name, extra = f"{stem}_{n}.jpg", 1
            while name in used:  # two reports of one district, day and title
                extra += 1
                name = f"{stem}_{n}-{extra}.jpg"
            used.add(name)
            yield photo, name


class _Spool(io.RawIOBase):
    """A write-only stream whose bytes are taken out as they come (zipfile writes into it)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self._parts.append(bytes(data))
        self._written += len(data)
        return len(data)

    def tell(self) -> int:
        return self._written

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def photo_zip(
    items: Iterable[tuple[str, str, date]], read: Callable[[str], Iterator[bytes]]
) -> Iterator[bytes]:
    """The zip of (name, key, day) photos, chunk by chunk; `read(key)` gives a photo's bytes."""
    spool = _Spool()
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, key, day in items:
            info = zipfile.ZipInfo(name, date_time=(day.year, day.month, day.day, 0, 0, 0))
            with archive.open(info, "w", force_zip64=True) as member:
                for block in read(key):
                    member.write(block)
                    yield spool.take()
            yield spool.take()
    yield spool.take()


def zip_items(reports: Iterable[ActivityReport]) -> list[tuple[str, str, date]]:
    """(name in the zip, key of the 2048 image, the activity's day) of every ready photo."""
    return [
        (name, photo.outputs[PHOTO_SIZE], photo.report.held_on)
        for photo, name in photo_names(reports)
        if PHOTO_SIZE in photo.outputs
    ]
