"""Spreadsheet downloads: a table as CSV or XLSX, as an attachment."""

from __future__ import annotations

from collections.abc import Sequence

from flask import Response, abort

from judging import spreadsheet
from judging.exports import Table


def spreadsheet_response(
    table: Table, fmt: str, name: str, notes: Sequence[tuple[str, str]] = ()
) -> Response:
    """`table` as `name.fmt` (an XLSX with `notes` as its 说明 sheet); 404 for a format we
    do not write."""
    if fmt == "csv":
        data: str | bytes = spreadsheet.to_csv(*table)
    elif fmt == "xlsx":
        data = spreadsheet.to_xlsx(*table, title=name[:31], notes=notes)
    else:
        abort(404)
    return Response(
        data,
        mimetype=spreadsheet.MIMETYPES[fmt],
        headers={"Content-Disposition": f"attachment; filename={name}.{fmt}"},
    )
