"""Contestants: their entries, the entry form, edits, withdrawal, video upload, the entry page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from judging.submissions import (
    AUTHORIZATION,
    SubmissionError,
    check_changeable,
    contest_work_types,
    create_entry,
    current_contest,
    has_work,
    pending_uploads,
    status_label_of,
    unfinished_drafts,
    update_entry,
    upload_percent,
    validate_fields,
    withdraw_entry,
)
from storage.models import Entry, EntryStatus, Role, User
from web.auth import roles_required
from web.entry_view import entry_status
from web.extensions import db, settings_of, upload_limit
from web.forms import EntryForm, VideoForm
from web.i18n import translate
from web.uploads import accept_video
from worker.media.limits import TOO_LARGE_FILE, TOO_LONG
from worker.media.probe import format_duration_zh

bp = Blueprint("submit", __name__, url_prefix="/submit")
contestant_only = roles_required(Role.CONTESTANT)


def own_entry(entry_id: int) -> Entry:
    """The current user's entry, or 404: others' entries do not exist for them."""
    entry = db.session.get(Entry, entry_id)
    if entry is None or entry.owner_id != current_user.id:
        abort(404)
    return entry


def changeable(entry: Entry) -> bool:
    try:
        check_changeable(entry)
    except SubmissionError:
        return False
    return True


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _show_errors(form: EntryForm, exc: SubmissionError) -> None:
    for name, message in exc.errors.items():
        getattr(form, name).errors = [translate(message)]
    flash(translate(exc.message), "error")


def file_checks() -> dict[str, Any]:
    """What upload.js checks of a chosen file before sending a byte, as data attributes.

    The limits the worker applies, and its very sentences (worker/media/limits.py) with the
    limit filled in: the browser fills in the file's own size or duration.
    """
    settings = settings_of()
    return {
        "data-max-bytes": settings.max_upload_bytes,
        "data-max-seconds": settings.max_duration_seconds,
        "data-too-large": TOO_LARGE_FILE.format(
            size="{size}", limit=f"{settings.max_upload_bytes / 1024**2:.0f}"
        ),
        "data-too-long": TOO_LONG.format(
            duration="{duration}", limit=format_duration_zh(settings.max_duration_seconds)
        ),
    }


def _form_page(form: EntryForm, entry: Entry | None, contest: Any) -> str:
    drafts = [] if entry else unfinished_drafts(db.session, current_user.id, contest.id)
    return render_template(
        "submit/form.html",
        form=form,
        entry=entry,
        contest=contest,
        work_types=contest_work_types(contest),
        type_fixed=entry is not None and has_work(entry),
        authorization=AUTHORIZATION,
        max_mb=settings_of().max_upload_bytes // 1024**2,
        file_checks=file_checks(),
        drafts=drafts,
    )


@bp.route("/")
@contestant_only
def index() -> Any:
    entries = db.session.scalars(
        select(Entry).where(Entry.owner_id == current_user.id).order_by(Entry.id.desc())
    ).all()
    drafts = [e.id for e in entries if e.status is EntryStatus.DRAFT]
    return render_template(
        "submit/index.html",
        entries=entries,
        contest=current_contest(db.session),
        pending=pending_uploads(db.session, drafts),
        percent=upload_percent,
        entry_status_label=status_label_of,
    )


@bp.route("/new", methods=["GET", "POST"])
@contestant_only
def new() -> Any:
    contest = current_contest(db.session)
    if contest is None:
        flash(_("目前没有进行中的征集活动"), "error")
        return redirect(url_for("pages.index"))
    form = EntryForm().use_contest(contest)
    if form.validate_on_submit():
        try:
            fields = validate_fields(form.data, contest, None)
            owner = db.session.get_one(User, current_user.id)
            entry = create_entry(db.session, contest, owner, fields)
        except SubmissionError as exc:
            if wants_json():
                return jsonify(
                    error=translate(exc.message),
                    errors={k: translate(v) for k, v in exc.errors.items()},
                ), 400
            _show_errors(form, exc)
        else:
            if wants_json():
                return jsonify(
                    id=entry.id,
                    entry_url=url_for(".entry", entry_id=entry.id),
                    upload_url=url_for("uploads.create", entry_id=entry.id),
                ), 201
            return _upload_then_show(entry, form.video.data)
    elif wants_json() and request.method == "POST":
        return jsonify(error=_("表单已过期，请刷新页面后重试"), errors=form.errors), 400
    return _form_page(form, None, contest)


@bp.route("/<int:entry_id>/edit", methods=["GET", "POST"])
@contestant_only
def edit(entry_id: int) -> Any:
    item = own_entry(entry_id)
    if not changeable(item):
        flash(_("征集已截止或作品已撤回，不能再修改"), "error")
        return redirect(url_for(".entry", entry_id=item.id))
    form = EntryForm(obj=item).use_contest(item.contest)
    if request.method == "GET":
        form.authorized.data = item.authorized_at is not None
    if form.validate_on_submit():
        try:
            update_entry(db.session, item, validate_fields(form.data, item.contest, item))
        except SubmissionError as exc:
            _show_errors(form, exc)
        else:
            flash(_("作品信息已保存"), "success")
            return redirect(url_for(".entry", entry_id=item.id))
    return _form_page(form, item, item.contest)


@bp.route("/<int:entry_id>/withdraw", methods=["POST"])
@contestant_only
def withdraw(entry_id: int) -> Any:
    item = own_entry(entry_id)
    try:
        withdraw_entry(db.session, item)
    except SubmissionError as exc:
        flash(translate(exc.message), "error")
    else:
        flash(_("作品已撤回"), "success")
    return redirect(url_for(".entry", entry_id=item.id))


@bp.route("/<int:entry_id>")
@contestant_only
def entry(entry_id: int) -> Any:
    item = own_entry(entry_id)
    return entry_page(item, submit_pieces.pieces_page(item))


def entry_page(item: Entry, work: dict[str, Any]) -> str:
    """The entry page; `work` is what its photo, comic or story part needs."""
    return render_template(
        "submit/entry.html",
        entry=item,
        **work,
        status=entry_status(item),
        video_form=VideoForm(),
        changeable=changeable(item),
        file_checks=file_checks(),
        pending=pending_uploads(db.session, [item.id]).get(item.id),
        percent=upload_percent,
        entry_status_label=status_label_of,
    )


@bp.route("/<int:entry_id>/video", methods=["POST"])
@upload_limit
@contestant_only
def upload(entry_id: int) -> Any:
    item = own_entry(entry_id)
    form = VideoForm()
    if not form.validate_on_submit():
        flash(_("表单已过期，请刷新页面后重试"), "error")
        return redirect(url_for(".entry", entry_id=item.id))
    return _upload_then_show(item, form.video.data)


def _upload_then_show(item: Entry, video: FileStorage | None) -> Any:
    if item.work_type.has_pieces and not (video is not None and video.filename):
        flash(_("作品信息已保存，请在下方添加文件或填写正文"), "success")
        return redirect(url_for(".entry", entry_id=item.id, _anchor="work"))
    if video is not None and video.filename:
        try:
            accept_video(item, video.stream, None)
        except SubmissionError as exc:
            flash(translate(exc.message), "error")
        else:
            flash(_("视频已上传，正在处理"), "success")
    return redirect(url_for(".entry", entry_id=item.id))


# The photo, comic and story views join this blueprint (they need `own_entry` above).
from web import submit_pieces  # noqa: E402
