"""Contestants: their entries, the entry form, video upload and the entry page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from judging.submissions import SubmissionError, create_entry, current_contest, validate_fields
from storage.models import Entry, Role, User
from web.auth import roles_required
from web.entry_view import entry_status
from web.extensions import db, settings_of
from web.forms import EntryForm, VideoForm
from web.uploads import accept_video

bp = Blueprint("submit", __name__, url_prefix="/submit")
contestant_only = roles_required(Role.CONTESTANT)


def own_entry(entry_id: int) -> Entry:
    """The current user's entry, or 404: others' entries do not exist for them."""
    entry = db.session.get(Entry, entry_id)
    if entry is None or entry.owner_id != current_user.id:
        abort(404)
    return entry


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.route("/")
@contestant_only
def index() -> Any:
    entries = db.session.scalars(
        select(Entry).where(Entry.owner_id == current_user.id).order_by(Entry.id.desc())
    ).all()
    return render_template(
        "submit/index.html", entries=entries, contest=current_contest(db.session)
    )


@bp.route("/new", methods=["GET", "POST"])
@contestant_only
def new() -> Any:
    form = EntryForm()
    contest = current_contest(db.session)
    if contest is None:
        flash("目前没有进行中的征集活动", "error")
        return redirect(url_for("pages.index"))
    if form.validate_on_submit():
        try:
            fields = validate_fields(form.data)
            entry = create_entry(
                db.session, contest, db.session.get_one(User, current_user.id), fields
            )
        except SubmissionError as exc:
            for name, message in exc.errors.items():
                getattr(form, name).errors = [message]
            if wants_json():
                return jsonify(error=exc.message, errors=exc.errors), 400
            flash(exc.message, "error")
        else:
            if wants_json():
                return jsonify(
                    id=entry.id,
                    entry_url=url_for(".entry", entry_id=entry.id),
                    upload_url=url_for("api.upload_video", entry_id=entry.id),
                ), 201
            return _upload_then_show(entry, form.video.data)
    elif wants_json() and request.method == "POST":
        return jsonify(error="表单已过期，请刷新页面后重试", errors=form.errors), 400
    return render_template(
        "submit/new.html",
        form=form,
        contest=contest,
        max_mb=settings_of().max_upload_bytes // 1024**2,
    )


@bp.route("/<int:entry_id>")
@contestant_only
def entry(entry_id: int) -> Any:
    item = own_entry(entry_id)
    return render_template(
        "submit/entry.html", entry=item, status=entry_status(item), video_form=VideoForm()
    )


@bp.route("/<int:entry_id>/video", methods=["POST"])
@contestant_only
def upload(entry_id: int) -> Any:
    item = own_entry(entry_id)
    form = VideoForm()
    if not form.validate_on_submit():
        flash("表单已过期，请刷新页面后重试", "error")
        return redirect(url_for(".entry", entry_id=item.id))
    return _upload_then_show(item, form.video.data)


def _upload_then_show(item: Entry, video: FileStorage | None) -> Any:
    if video is not None and video.filename:
        try:
            accept_video(item, video.stream, None)
        except SubmissionError as exc:
            flash(exc.message, "error")
        else:
            flash("视频已上传，正在处理", "success")
    return redirect(url_for(".entry", entry_id=item.id))
