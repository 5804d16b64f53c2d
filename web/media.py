"""Media files that cannot be plain presigned links: the storyboard's WebVTT, and the judges'
player, which reads through the site so no object key (which holds the entry's id) reaches a
judge."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, abort
from flask_login import current_user, login_required

from judging.access import can_view_submission, entry_view
from judging.numbers import ascii_int
from storage.models import AssetKind, Entry, JobState, MediaAsset
from storage.objects import ObjectStore, ObjectStoreError
from web.extensions import db, store

bp = Blueprint("media", __name__, url_prefix="/media")

# The most a judge's player gets in one answer. Browsers ask again for the rest, so a
# gunicorn thread is held for one short S3 read, never for the whole time a video plays.
PLAYER_CHUNK = 2 * 1024 * 1024
# The rendition a browser plays by default: 720p where there is one (phones, slow links).
PREFERRED_SHORT_SIDE = 720
_RANGE = re.compile(r"bytes=([0-9]*)-([0-9]*)")


@bp.route("/<int:entry_id>/storyboard.vtt")
@login_required
def storyboard(entry_id: int) -> Any:
    # Owners and staff only: judges read theirs by the entry's anonymous code (web/judge.py),
    # so an id answering here could not tell a judge which of their entries it is.
    entry = db.session.get(Entry, entry_id)
    if entry is None or not can_view_submission(entry_view(current_user, entry)):
        abort(404)
    return storyboard_vtt(entry)


def shown_assets(entry: Entry, kind: AssetKind) -> list[MediaAsset]:
    """The entry's assets of a kind from its newest upload that finished processing (a
    replacement shows only once it is ready too)."""
    ready = [job for job in entry.jobs if job.state is JobState.READY]
    return entry.assets_from(ready[-1].source_key, kind) if ready else []


def shown_renditions(entry: Entry) -> list[MediaAsset]:
    """The shown renditions, smallest first."""
    renditions = shown_assets(entry, AssetKind.RENDITION)
    return sorted(renditions, key=lambda a: min(a.width or 0, a.height or 0))


def default_rendition(renditions: list[MediaAsset]) -> MediaAsset | None:
    """What a player starts with: 720p where there is one, else the smallest."""
    fitting = [a for a in renditions if min(a.width or 0, a.height or 0) <= PREFERRED_SHORT_SIDE]
    return fitting[-1] if fitting else (renditions[0] if renditions else None)


def shown_poster(entry: Entry) -> MediaAsset | None:
    """The large poster, else any poster of the shown upload."""
    posters = {a.label: a for a in shown_assets(entry, AssetKind.POSTER)}
    return posters.get("poster_large") or next(iter(posters.values()), None)


def storyboard_vtt(entry: Entry, sprite_url: str | None = None) -> Response:
    """The entry's storyboard WebVTT, its sprite named by `sprite_url` (default: a presigned
    URL)."""
    vtt = shown_assets(entry, AssetKind.STORYBOARD_VTT)
    sheet = shown_assets(entry, AssetKind.STORYBOARD)
    if not vtt or not sheet:
        abort(404)
    s3 = store()
    try:
        text = s3.get_bytes(vtt[0].bucket, vtt[0].object_key).decode("utf-8")
    except ObjectStoreError:
        abort(503)
    # The stored file names the sheet by its file name; browsers need a URL for it.
    signed = sprite_url or s3.presigned_url(sheet[0].bucket, sheet[0].object_key)
    text = text.replace(f"{sheet[0].label}.jpg#", f"{signed}#")
    return Response(text, mimetype="text/vtt", headers={"Cache-Control": "private, max-age=600"})


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The first byte and the byte after the last of a `Range: bytes=…` header, at most
    PLAYER_CHUNK long; None to send the whole object. Aborts 416 when nothing fits."""
    found = _RANGE.fullmatch((header or "").strip())
    if found is None or found.group(0) == "bytes=-":
        return None  # no range, or one we do not serve (several at once): the whole object
    first = ascii_int(found.group(1) or None, maximum=2**63 - 1)
    last = ascii_int(found.group(2) or None, maximum=2**63 - 1)
    if first is None:  # "bytes=-500": the last 500 bytes
        if not last:
            abort(416)
        first, last = max(0, size - last), size - 1
    if first >= size or (last is not None and last < first):
        abort(416)
    end = min(size - 1 if last is None else last, size - 1, first + PLAYER_CHUNK - 1) + 1
    return first, end


def send_asset(asset: MediaAsset, range_header: str | None) -> Response:
    """An asset read through the site: the asked range (bounded), else all of it."""
    s3 = store()
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, max-age=600"}
    wanted = byte_range(range_header, asset.bytes)
    if wanted is None:
        headers["Content-Length"] = str(asset.bytes)
        return Response(_chunks(s3, asset), 200, headers, mimetype=asset.content_type)
    start, end = wanted
    try:
        data = s3.get_range(asset.bucket, asset.object_key, start, end - start)
    except ObjectStoreError:
        abort(503)
    headers["Content-Range"] = f"bytes {start}-{start + len(data) - 1}/{asset.bytes}"
    return Response(data, 206, headers, mimetype=asset.content_type)


def _chunks(s3: ObjectStore, asset: MediaAsset) -> Iterator[bytes]:
    for start in range(0, asset.bytes, PLAYER_CHUNK):
        yield s3.get_range(asset.bucket, asset.object_key, start, PLAYER_CHUNK)
