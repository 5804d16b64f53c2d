"""Spreadsheet downloads: a table as CSV or XLSX, as an attachment."""

from __future__ import annotations

from flask import Response, abort

from judging import spreadsheet
from judging.exports import Table


def spreadsheet_response(table: Table, fmt: str, name: str) -> Response:
    """`table` as `name.fmt`; 404 for a format we do not write."""
    if fmt == "csv":
        data: str | bytes = spreadsheet.to_csv(*table)
    elif fmt == "xlsx":
        data = spreadsheet.to_xlsx(*table, title=name[:31])
    else:
        abort(404)
    return Response(
        data,
        mimetype=spreadsheet.MIMETYPES[fmt],
        headers={"Content-Disposition": f"attachment; filename={name}.{fmt}"},
    )
