"""The public gallery of approved entries, and the optional public vote."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from judging.announcements import newest_announcement
from judging.gallery import (
    GalleryError,
    cast_vote,
    gallery_entries,
    public_entry,
    vote_counts,
    waits_for_judging,
)
from judging.submissions import current_contest
from storage.models import User
from web.entry_view import public_view
from web.extensions import db, limiter, settings_of
from web.i18n import translate
from web.media import storyboard_vtt

bp = Blueprint("gallery", __name__, url_prefix="/gallery")


@bp.route("/")
def index() -> Any:
    contest = current_contest(db.session)
    district = request.args.get("district", "")
    industry = request.args.get("industry", "")
    entries = gallery_entries(db.session, contest, district, industry) if contest else []
    return render_template(
        "gallery/index.html",
        contest=contest,
        entries=[public_view(e) for e in entries],
        waiting=contest is not None and waits_for_judging(db.session, contest),
        announcement=newest_announcement(db.session, contest),
        district=district,
        industry=industry,
    )


@bp.route("/<int:entry_id>")
def entry(entry_id: int) -> Any:
    item = public_entry(db.session, entry_id)
    if item is None:
        abort(404)
    votes = vote_counts(db.session, item.contest).get(item.id, 0)
    return render_template(
        "gallery/entry.html", entry=public_view(item), contest=item.contest, votes=votes
    )


@bp.route("/<int:entry_id>/storyboard.vtt")
def storyboard(entry_id: int) -> Any:
    item = public_entry(db.session, entry_id)
    if item is None:
        abort(404)
    return storyboard_vtt(item)


@bp.route("/<int:entry_id>/vote", methods=["POST"])
@login_required
@limiter.limit(lambda: settings_of().vote_rate_limit)
def vote(entry_id: int) -> Any:
    item = public_entry(db.session, entry_id)
    if item is None:
        abort(404)
    try:
        cast_vote(db.session, item, db.session.get_one(User, current_user.id))
    except GalleryError as exc:
        flash(translate(exc.message), "error")
    else:
        flash(_("投票成功，感谢您的支持"), "success")
    return redirect(url_for(".entry", entry_id=item.id))
