"""A photo, comic or story entry for its owner and staff: the work page the review queue
links to, its images and a story's text file. Judges have their own under their anonymous
code (web/judge.py), the public under the gallery (web/gallery.py)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_login import current_user, login_required

from judging.access import can_view_submission, entry_view
from judging.story_text import story_filename, story_text
from storage.models import Entry, MediaAsset, Role, WorkType
from web.extensions import db
from web.i18n import translate
from web.work_view import ImageUrl, cover_url, page_name, send_page_image, work_view

bp = Blueprint("works", __name__, url_prefix="/works")


def readable(entry_id: int) -> Entry:
    """The entry, if the signed-in user may read it (its owner, staff); else 404."""
    entry = db.session.get(Entry, entry_id)
    if entry is None or not can_view_submission(entry_view(current_user, entry)):
        abort(404)
    return entry


def owner_image(entry: Entry) -> ImageUrl:
    """The URL of the entry's images for its owner and staff."""

    def url(number: int, size: int, asset: MediaAsset) -> str:
        name = page_name(number, size)
        return url_for("works.page_image", entry_id=entry.id, filename=name, v=asset.sha256[:12])

    return url


def owner_view(entry: Entry) -> dict[str, Any]:
    """The work partial's view for the owner's and staff's pages."""
    text = url_for("works.story", entry_id=entry.id) if entry.work_type is WorkType.STORY else None
    return work_view(entry, owner_image(entry), text)


def queue_media(entry: Entry) -> dict[str, Any]:
    """A review-queue row's cover and the address of the whole work (photo, comic, story)."""
    return {
        "cover": cover_url(entry, owner_image(entry)),
        "work_url": url_for("works.entry_page", entry_id=entry.id),
    }


@bp.app_template_global()
def owner_work(entry: Entry) -> dict[str, Any]:
    """The work partial's view of an entry on its owner's page (templates/submit/entry.html)."""
    return owner_view(entry)


@bp.route("/<int:entry_id>")
@login_required
def entry_page(entry_id: int) -> Any:
    """The whole work, for reviewing it (the queue's row has room for a thumbnail only)."""
    entry = readable(entry_id)
    back = None
    if current_user.role is Role.ORGANIZER:
        back = url_for("admin.index", _anchor=f"entry-{entry.id}"), "← 作品审核"
    elif entry.owner_id == current_user.id:
        back = url_for("submit.entry", entry_id=entry.id), "← 作品详情"
    return render_template("works/entry.html", entry=entry, work=owner_view(entry), back=back)


@bp.route("/<int:entry_id>/pages/<filename>")
@login_required
def page_image(entry_id: int, filename: str) -> Any:
    return send_page_image(readable(entry_id), filename)


@bp.route("/<int:entry_id>/story.txt")
@login_required
def story(entry_id: int) -> Any:
    entry = readable(entry_id)
    if entry.work_type is not WorkType.STORY:
        abort(404)
    return text_file(story_text(entry, translate=translate), story_filename(entry))


def text_file(text: str, filename: str) -> Response:
    """A story's text as a UTF-8 (with BOM) attachment nobody keeps a copy of."""
    inline = request.args.get("inline") == "1"
    return Response(
        text.encode("utf-8"),
        mimetype="text/plain",
        headers={
            "Content-Disposition": f"{'inline' if inline else 'attachment'}; filename={filename}",
            "Cache-Control": "private, no-store",
        },
    )
