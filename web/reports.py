"""活动信息报送, the reporter's side: their reports, the form, photos and video, submitting.

Collectives (contestants) and district organizers report; a district organizer also reads
its district's reports here. Every POST redirects, and the new-report form carries a one-time
token, so neither a reload nor the back button makes a second report.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from judging.numbers import ascii_int
from judging.reports import (
    BODY_LIMIT,
    EDITABLE,
    ReportError,
    can_edit,
    can_read,
    create_report,
    defaults_for,
    form_of,
    readable_reports,
    remove_file,
    same_report,
    set_captions,
    submit_report,
    update_report,
    withdraw_report,
)
from judging.submissions import current_contest
from storage.models import ActivityReport, Role, User
from web.auth import roles_required
from web.extensions import db, settings_of
from web.i18n import translate
from web.report_uploads import accept_file
from web.report_view import file_views, status_labels

bp = Blueprint("reports", __name__, url_prefix="/reports")
reporters = roles_required(Role.CONTESTANT, Role.DISTRICT)
ONCE_KEPT = 20  # one-time tokens of new-report forms remembered per session


def me() -> User:
    return db.session.get_one(User, current_user.id)


def readable(report_id: int) -> ActivityReport:
    """A report the current user may read, or 404 (others' reports do not exist for them)."""
    report = db.session.get(ActivityReport, report_id)
    if report is None or not can_read(me(), report):
        abort(404)
    return report


def editable(report_id: int) -> ActivityReport:
    """A report the current user may change (their own), or 404."""
    report = readable(report_id)
    if not can_edit(me(), report):
        abort(404)
    return report


@bp.route("/")
@reporters
def index() -> Any:
    contest = current_contest(db.session)
    reports = list(db.session.scalars(readable_reports(me(), contest))) if contest else []
    return render_template(
        "reports/index.html", contest=contest, reports=reports, labels=status_labels()
    )


def _form_page(values: dict[str, str], errors: dict[str, str], report: Any, contest: Any) -> Any:
    return render_template(
        "reports/form.html",
        values=values,
        errors={k: translate(v) for k, v in errors.items()},
        report=report,
        contest=contest,
        types=settings_of().activity_type_list,
        district_fixed=current_user.role is Role.DISTRICT,
        body_limit=BODY_LIMIT,
        once=values.get("once") or uuid.uuid4().hex,
    ), 400 if errors else 200


@bp.route("/new", methods=["GET", "POST"])
@reporters
def new() -> Any:
    contest = current_contest(db.session)
    if contest is None:
        flash(_("目前没有进行中的征集活动"), "error")
        return redirect(url_for("pages.index"))
    if request.method == "GET":
        return _form_page(defaults_for(me()), {}, None, contest)
    form = request.form.to_dict()
    once = form.get("once", "")[:40]
    made = session.get("report_once", {})
    if once and once in made:  # sent twice (a double click, back and send again)
        return redirect(url_for(".view", report_id=made[once]))
    if (existing := same_report(db.session, me(), contest, form)) is not None:
        flash(_("同一名称和日期的活动已报送过，已为您打开"), "error")
        return redirect(url_for(".view", report_id=existing.id))
    try:
        report = create_report(db.session, me(), contest, form, settings_of())
    except ReportError as exc:
        flash(translate(exc.message), "error")
        return _form_page(form, exc.errors, None, contest)
    if once:
        session["report_once"] = dict(list(made.items())[-(ONCE_KEPT - 1) :] + [(once, report.id)])
    flash(_("报送已保存为草稿，请上传照片或视频后提交"), "success")
    return redirect(url_for(".view", report_id=report.id))


@bp.route("/<int:report_id>/edit", methods=["GET", "POST"])
@reporters
def edit(report_id: int) -> Any:
    report = editable(report_id)
    contest = current_contest(db.session)
    if report.status not in EDITABLE:
        flash(_("报送已被采用或正在审核中，不能修改"), "error")
        return redirect(url_for(".view", report_id=report.id))
    if request.method == "GET":
        return _form_page(form_of(report), {}, report, contest)
    form = request.form.to_dict()
    try:
        update_report(db.session, report, me(), form, settings_of())
    except ReportError as exc:
        flash(translate(exc.message), "error")
        return _form_page(form, exc.errors, report, contest)
    flash(_("报送已保存"), "success")
    return redirect(url_for(".view", report_id=report.id))


@bp.route("/<int:report_id>")
@reporters
def view(report_id: int) -> Any:
    report = readable(report_id)
    page = render_template(
        "reports/view.html",
        report=report,
        files=file_views(report),
        labels=status_labels(),
        mine=can_edit(me(), report),
        changeable=report.status in EDITABLE and can_edit(me(), report),
        settings=settings_of(),
    )
    return page, {"Cache-Control": "private, no-store"}


@bp.route("/<int:report_id>/status.json")
@reporters
def status(report_id: int) -> Any:
    report = readable(report_id)
    files = file_views(report, urls=False)
    return jsonify(
        files=[{k: f[k] for k in ("id", "state", "percent", "finished")} for f in files],
        done=all(f["finished"] for f in files),
    )


@bp.route("/<int:report_id>/files", methods=["POST"])
@reporters
def upload(report_id: int) -> Any:
    report = editable(report_id)
    chosen = [f for f in request.files.getlist("files") if f.filename]
    if not chosen:
        flash(_("请选择要上传的照片或视频"), "error")
    stored = 0
    for upload_file in chosen:
        try:
            accept_file(report, upload_file)
        except ReportError as exc:
            db.session.rollback()
            flash(translate(exc.message), "error")
        else:
            stored += 1
    if stored:
        flash(_("已上传 %(n)d 个文件，正在处理", n=stored), "success")
    return redirect(url_for(".view", report_id=report.id, _anchor="files"))


@bp.route("/<int:report_id>/captions", methods=["POST"])
@reporters
def captions(report_id: int) -> Any:
    report = editable(report_id)
    wanted = {}
    for name, text in request.form.items():
        file_id = ascii_int(name.removeprefix("caption-")) if name.startswith("caption-") else None
        if file_id is not None:
            wanted[file_id] = text
    remove = ascii_int(request.form.get("remove"))
    try:
        if remove is not None:
            remove_file(db.session, report, remove)
            flash(_("文件已删除"), "success")
        else:
            set_captions(db.session, report, wanted)
            flash(_("照片说明已保存"), "success")
    except ReportError as exc:
        db.session.rollback()
        flash(translate(exc.message), "error")
    return redirect(url_for(".view", report_id=report.id, _anchor="files"))


@bp.route("/<int:report_id>/submit", methods=["POST"])
@reporters
def submit(report_id: int) -> Any:
    report = editable(report_id)
    try:
        submit_report(db.session, report)
    except ReportError as exc:
        flash(translate(exc.message), "error")
    else:
        flash(_("报送已提交，等待组委会办公室审核"), "success")
    return redirect(url_for(".view", report_id=report.id))


@bp.route("/<int:report_id>/withdraw", methods=["POST"])
@reporters
def withdraw(report_id: int) -> Any:
    report = editable(report_id)
    try:
        withdraw_report(db.session, report)
    except ReportError as exc:
        flash(translate(exc.message), "error")
    else:
        flash(_("报送已撤回为草稿，可以修改后重新提交"), "success")
    return redirect(url_for(".view", report_id=report.id))
