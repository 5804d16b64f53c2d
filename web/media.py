"""Media files that cannot be plain presigned links: the storyboard's WebVTT."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort
from flask_login import current_user, login_required

from judging.rounds import current_round, is_assigned
from storage.models import AssetKind, Entry, JobState, Role
from storage.objects import ObjectStoreError
from web.access import can_read_entry
from web.extensions import db, store

bp = Blueprint("media", __name__, url_prefix="/media")


@bp.route("/<int:entry_id>/storyboard.vtt")
@login_required
def storyboard(entry_id: int) -> Any:
    entry = db.session.get(Entry, entry_id)
    if entry is None or not (
        can_read_entry(current_user.id, current_user.role, entry) or _judges(entry)
    ):
        abort(404)
    return storyboard_vtt(entry)


def _judges(entry: Entry) -> bool:
    """Whether the current user judges `entry` in its contest's current round."""
    if current_user.role is not Role.JUDGE:
        return False
    rnd = current_round(db.session, entry.contest)
    return rnd is not None and is_assigned(db.session, rnd, current_user.id, entry.id)


def storyboard_vtt(entry: Entry) -> Response:
    """The entry's storyboard WebVTT, its sprite named by a presigned URL."""
    ready = [job for job in entry.jobs if job.state is JobState.READY]
    source_key = ready[-1].source_key if ready else ""
    vtt = entry.assets_from(source_key, AssetKind.STORYBOARD_VTT)
    sheet = entry.assets_from(source_key, AssetKind.STORYBOARD)
    if not vtt or not sheet:
        abort(404)
    s3 = store()
    try:
        text = s3.get_bytes(vtt[0].bucket, vtt[0].object_key).decode("utf-8")
    except ObjectStoreError:
        abort(503)
    # The stored file names the sheet by its file name; browsers need a signed URL for it.
    signed = s3.presigned_url(sheet[0].bucket, sheet[0].object_key)
    text = text.replace(f"{sheet[0].label}.jpg#", f"{signed}#")
    return Response(text, mimetype="text/vtt", headers={"Cache-Control": "private, max-age=600"})
