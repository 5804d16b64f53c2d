"""The public gallery of approved entries, and the optional public vote."""

from __future__ import annotations

from typing import Any

import segno
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from kombu.exceptions import OperationalError as BrokerError
from markupsafe import Markup

from judging.announcements import newest_announcement
from judging.gallery import (
    GalleryError,
    cast_vote,
    public_entry,
    shows_vote_counts,
    vote_counts,
    voted_today,
    waits_for_judging,
)
from judging.gallery_list import GalleryPage, GalleryQuery, gallery_page, sort_choices
from judging.submissions import current_contest
from storage.models import Entry, MediaAsset, User, WorkType
from storage.objects import ObjectStoreError
from web.admin import clock
from web.entry_view import public_view
from web.extensions import db, limiter, settings_of, store
from web.i18n import translate
from web.media import shown_poster, storyboard_vtt
from web.work_view import (
    accepted_types,
    cover_url,
    find_page_image,
    page_name,
    send_page_image,
    work_view,
)
from worker.share import find_share_poster, share_poster_key
from worker.share import share_poster as make_share_poster_task

bp = Blueprint("gallery", __name__, url_prefix="/gallery")
# A share poster is about 1 MB, a video poster less; anything far larger is not ours.
IMAGE_MAX_BYTES = 16 * 1024 * 1024


@bp.route("/")
def index() -> Any:
    contest = current_contest(db.session)
    counts_shown = contest is not None and shows_vote_counts(contest)
    query = GalleryQuery.from_args(request.args, counts_shown)
    found = gallery_page(db.session, contest, query) if contest else GalleryPage(query)
    entries = [public_view(e) for e in found.entries]
    return render_template(
        "gallery/index.html",
        contest=contest,
        found=found,
        entries=entries,
        lengths={e["id"]: length(e) for e in entries},
        covers={e.id: cover_url(e, public_image(e)) for e in found.entries},
        type_labels={e.id: e.work_type.label for e in found.entries},
        types=accepted_types(contest) if contest else [],
        counts_shown=counts_shown,
        sorts=sort_choices(counts_shown),
        waiting=contest is not None and waits_for_judging(db.session, contest),
        announcement=newest_announcement(db.session, contest),
    )


def public_image(item: Entry) -> Any:
    """The gallery's URL of a public entry's image (for the work partial and covers)."""

    def url(number: int, size: int, asset: MediaAsset) -> str:
        name = page_name(number, size)
        return url_for("gallery.page_image", entry_id=item.id, filename=name, v=asset.sha256[:12])

    return url


def length(view: dict[str, Any]) -> str:
    """A public entry's video length as m:ss, empty when unknown."""
    seconds = view["media"] and view["media"]["duration"]
    return clock(seconds) if seconds else ""


@bp.route("/<int:entry_id>")
def entry(entry_id: int) -> Any:
    item = public_entry(db.session, entry_id)
    if item is None:
        abort(404)
    signed_in = current_user.is_authenticated
    page = render_template(
        "gallery/entry.html",
        entry=public_view(item),
        work=work_view(item, public_image(item)),
        contest=item.contest,
        votes=vote_counts(db.session, item.contest).get(item.id, 0),
        counts_shown=shows_vote_counts(item.contest),
        voted=signed_in and voted_today(db.session, item, current_user.id),
        # Back from logging in to vote (?vote=1): offer the vote, never cast it on a GET.
        offered=signed_in and request.args.get("vote") == "1",
    )
    # The vote's state is the user's own and changes: the back button must not show a stale
    # 投票 from the browser's cache once the vote is given.
    return page, {"Cache-Control": "private, no-store"} if signed_in else {}


@bp.route("/<int:entry_id>/storyboard.vtt")
def storyboard(entry_id: int) -> Any:
    item = public_entry(db.session, entry_id)
    if item is None:
        abort(404)
    return storyboard_vtt(item)


@bp.route("/<int:entry_id>/pages/<filename>")
def page_image(entry_id: int, filename: str) -> Any:
    """A public photo's or comic page's watermarked image."""
    return send_page_image(public_entry(db.session, entry_id), filename, public=True)


@bp.route("/<int:entry_id>/vote", methods=["GET", "POST"])
@login_required
@limiter.limit(lambda: settings_of().vote_rate_limit, methods=["POST"])
def vote(entry_id: int) -> Any:
    item = public_entry(db.session, entry_id)
    if item is None:
        abort(404)
    if request.method == "GET":
        # Old links, bookmarks, a login that came back here: the entry page offers the vote.
        return redirect(url_for(".entry", entry_id=item.id, vote=1, _anchor="vote"))
    try:
        cast_vote(db.session, item, db.session.get_one(User, current_user.id))
    except GalleryError as exc:
        flash(translate(exc.message), "error")
    else:
        flash(_("投票成功，感谢您的支持"), "success")
    return redirect(url_for(".entry", entry_id=item.id))


# Sharing: the share card's image, the QR code and the share poster (worker/share.py).


def entry_address(item: Entry) -> str:
    """The entry's absolute gallery address: what a QR code and a share card point at."""
    return url_for("gallery.entry", entry_id=item.id, _external=True)


@bp.app_template_global()
def qr_svg(url: str) -> Markup:
    """An inline SVG QR code of `url`."""
    svg = segno.make(url, error="m", micro=False).svg_inline(scale=5, border=2, omitsize=True)
    return Markup(svg)  # noqa: S704 - segno's own markup; the URL in it is escaped by segno


@bp.route("/<int:entry_id>/poster.jpg")
def card_image(entry_id: int) -> Any:
    # The share card's og:image: a stable address (a presigned one expires before a chat
    # app fetches it again), for public entries only.
    item = public_entry(db.session, entry_id)
    poster = shown_poster(item) if item else None
    if item is not None and item.work_type is not WorkType.VIDEO:
        poster = find_page_image(item, page_name(1, 1080))  # a photo's, page's or story's
    if poster is None:
        abort(404)
    return _image(poster, "image/jpeg")


@bp.route("/<int:entry_id>/share-poster")
@limiter.limit("30/minute")
def share_poster(entry_id: int) -> Any:
    item = public_entry(db.session, entry_id)
    if item is None:
        abort(404)
    address = entry_address(item)
    ready = find_share_poster(db.session, item, address) is not None
    unsent = False
    if not ready and request.args.get("waiting") != "1":
        # Published again on every click: the task finds a made poster and does nothing.
        key = share_poster_key(item, address)
        try:
            make_share_poster_task.apply_async(args=[item.id, address, key])
        except (BrokerError, OSError):
            unsent = True
    return render_template(
        "gallery/share_poster.html", entry=public_view(item), ready=ready, unsent=unsent
    )


@bp.route("/<int:entry_id>/share-poster.png")
def share_poster_image(entry_id: int) -> Any:
    item = public_entry(db.session, entry_id)
    asset = find_share_poster(db.session, item, entry_address(item)) if item else None
    if asset is None:
        abort(404)
    name = f"No.{item.number:04d}.png" if item else "poster.png"
    return _image(asset, "image/png", name if request.args.get("download") == "1" else "")


def _image(asset: MediaAsset, mimetype: str, download_name: str = "") -> Response:
    try:
        data = store().get_bytes(asset.bucket, asset.object_key, IMAGE_MAX_BYTES)
    except ObjectStoreError:
        abort(503)
    answer = Response(data, mimetype=mimetype)
    answer.cache_control.public = True
    answer.cache_control.max_age = 3600
    if download_name:
        answer.headers["Content-Disposition"] = f'attachment; filename="{download_name}"'
    return answer
