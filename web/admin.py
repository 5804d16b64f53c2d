"""Organizers: follow the contest's entries, approve them for the gallery, publish it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from judging.blind import approval_warning, gallery_warning
from judging.exports import entries_table
from judging.gallery import (
    GalleryError,
    set_approved,
    set_gallery,
    suspicious_bursts,
    vote_counts,
)
from judging.submissions import current_contest
from storage.models import Entry, Role
from web.account_admin import accounts_page, lift_lockout, reset_password
from web.auth import roles_required
from web.downloads import spreadsheet_response
from web.entry_view import STATUS_LABELS
from web.extensions import db
from web.i18n import translate

bp = Blueprint("admin", __name__, url_prefix="/admin")
organizer_only = roles_required(Role.ORGANIZER)


@bp.route("/")
@organizer_only
def index() -> Any:
    contest = current_contest(db.session)
    entries = db.session.scalars(select(Entry).order_by(Entry.number)).all()
    counts = dict(
        db.session.execute(select(Entry.status, func.count()).group_by(Entry.status)).tuples().all()
    )
    votes = vote_counts(db.session, contest) if contest else {}
    bursts = (
        {b.entry_id: b.votes for b in suspicious_bursts(db.session, contest)} if contest else {}
    )
    return render_template(
        "admin/index.html",
        contest=contest,
        entries=entries,
        counts=counts,
        labels=STATUS_LABELS,
        votes=votes,
        bursts=bursts,
    )


@bp.route("/entries.<fmt>")
@organizer_only
def entries_download(fmt: str) -> Any:
    """Every entry with its contact details, for the committee's records."""
    contest = current_contest(db.session)
    if contest is None:
        abort(404)
    return spreadsheet_response(entries_table(db.session, contest), fmt, "entries")


@bp.route("/entries/<int:entry_id>/approval", methods=["POST"])
@organizer_only
def approval(entry_id: int) -> Any:
    entry = db.session.get(Entry, entry_id)
    if entry is None:
        abort(404)
    approved = request.form.get("approved") == "1"
    warning = approval_warning(db.session, entry) if approved else None
    if warning and request.form.get("confirm") != "1":
        return confirm(warning, url_for(".approval", entry_id=entry.id), {"approved": "1"})
    try:
        set_approved(db.session, entry, approved)
    except GalleryError as exc:
        flash(translate(exc.message), "error")
    return redirect(url_for(".index"))


@bp.route("/gallery", methods=["POST"])
@organizer_only
def gallery() -> Any:
    contest = current_contest(db.session)
    if contest is None:
        abort(404)
    published = request.form.get("published") == "1"
    public_vote = request.form.get("public_vote") == "1"
    warning = gallery_warning(db.session, contest) if published else None
    if warning and request.form.get("confirm") != "1":
        fields = {"published": "1", **({"public_vote": "1"} if public_vote else {})}
        return confirm(warning, url_for(".gallery"), fields)
    try:
        set_gallery(db.session, contest, published, public_vote)
    except GalleryError as exc:
        flash(translate(exc.message), "error")
    else:
        flash(_("作品展示已公开") if published else _("作品展示已关闭"), "success")
    return redirect(url_for(".index"))


def confirm(warning: str, action: str, fields: dict[str, str]) -> Any:
    """Ask the organizer to confirm an action that would unblind a judging round."""
    return render_template(
        "admin/confirm.html", message=translate(warning), action=action, fields=fields
    )


@bp.route("/users")
@organizer_only
def users() -> Any:
    return accounts_page("admin.users")


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@organizer_only
def users_reset(user_id: int) -> Any:
    return reset_password("admin.users", user_id)


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@organizer_only
def users_unlock(user_id: int) -> Any:
    return lift_lockout("admin.users", user_id)
