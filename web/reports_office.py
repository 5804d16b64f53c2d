"""The committee office's side of activity reports: the review queue, a report's page with
采用 / 退回, the counts with a chart, the districts still without the required activity, and
a month's export (XLSX with links, and a streamed zip of the photos)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from judging.report_export import BLOCK, adopted_in_month, photo_zip, workbook, zip_items
from judging.report_stats import (
    ReportFilter,
    districts_of,
    missing_required,
    parse_month,
    queue,
    report_stats,
)
from judging.reports import ReportError, adopt_report, return_report, today_in_beijing
from judging.spreadsheet import MIMETYPES
from judging.submissions import current_contest
from storage.models import ActivityReport, Contest, ReportStatus, Role, User
from web.auth import roles_required
from web.extensions import db, settings_of, store
from web.i18n import translate
from web.report_view import file_views, photos_of, status_labels, video_of

bp = Blueprint("report_office", __name__, url_prefix="/office/reports")
office = roles_required(Role.ORGANIZER)


def _contest() -> Contest:
    contest = current_contest(db.session)
    if contest is None:
        abort(404)
    return contest


def _month(text: str | None) -> str:
    """A valid "YYYY-MM" from the query, else this month."""
    return text if text and parse_month(text) else today_in_beijing().strftime("%Y-%m")


@bp.route("/")
@office
def index() -> Any:
    contest = _contest()
    chosen = ReportFilter.from_args(request.args, contest, settings_of())
    return render_template(
        "reports/office.html",
        contest=contest,
        reports=queue(db.session, contest, chosen),
        chosen=chosen,
        districts=districts_of(contest),
        types=settings_of().activity_type_list,
        labels=status_labels(),
        statuses=[s.value for s in ReportStatus if s is not ReportStatus.DRAFT],
    )


@bp.route("/<int:report_id>")
@office
def view(report_id: int) -> Any:
    report = db.session.get(ActivityReport, report_id)
    if report is None or report.status is ReportStatus.DRAFT:
        abort(404)  # a draft is the reporter's own until submitted
    views = file_views(report)
    return render_template(
        "reports/review.html",
        report=report,
        files=views,
        photos=photos_of(views),
        video=video_of(views),
        labels=status_labels(),
        reason=request.args.get("reason", ""),
    ), {"Cache-Control": "private, no-store"}


def _decide(report_id: int, adopt: bool) -> Any:
    report = db.session.get(ActivityReport, report_id)
    if report is None or report.status is ReportStatus.DRAFT:
        abort(404)
    reviewer = db.session.get_one(User, current_user.id)
    try:
        if adopt:
            adopt_report(db.session, report, reviewer)
            flash(_("报送已采用，已在风采展示中公开"), "success")
        else:
            return_report(db.session, report, reviewer, request.form.get("reason", ""))
            flash(_("报送已退回，报送人会收到退回原因"), "success")
    except ReportError as exc:
        db.session.rollback()
        flash(translate(exc.message), "error")
        return redirect(url_for(".view", report_id=report_id, _anchor="decide"))
    return redirect(url_for(".index"))


@bp.route("/<int:report_id>/adopt", methods=["POST"])
@office
def adopt(report_id: int) -> Any:
    return _decide(report_id, True)


@bp.route("/<int:report_id>/return", methods=["POST"])
@office
def send_back(report_id: int) -> Any:
    return _decide(report_id, False)


@bp.route("/stats")
@office
def stats() -> Any:
    contest = _contest()
    settings = settings_of()
    return render_template(
        "reports/stats.html",
        contest=contest,
        stats=report_stats(db.session, contest, settings),
        missing=missing_required(db.session, contest, settings),
        required=settings.required_activity_type,
        month=_month(request.args.get("month")),
    )


@bp.route("/export.xlsx")
@office
def export_xlsx() -> Any:
    contest = _contest()
    month = _month(request.args.get("month"))
    reports = adopted_in_month(db.session, contest, month)
    base = settings_of().public_base_url.rstrip("/")  # as readers reach the site
    data = workbook(
        reports,
        lambda r: base + url_for("activities.report", report_id=r.id),
        lambda r, n: base + url_for("activities.photo", report_id=r.id, n=n),
        f"{month} 活动信息",
    )
    return Response(
        data,
        mimetype=MIMETYPES["xlsx"],
        headers={"Content-Disposition": _attachment(f"activity-reports-{month}.xlsx")},
    )


@bp.route("/photos.zip")
@office
def export_photos() -> Any:
    contest = _contest()
    month = _month(request.args.get("month"))
    items = zip_items(adopted_in_month(db.session, contest, month))
    if not items:
        flash(_("%(month)s 没有已采用报送的照片", month=month), "error")
        return redirect(url_for(".stats", month=month))
    db.session.commit()  # no transaction held open while the zip streams
    s3, bucket = store(), settings_of().bucket_assets

    def read(key: str) -> Iterator[bytes]:
        start = 0
        while block := s3.get_range(bucket, key, start, BLOCK):
            yield block
            start += len(block)
            if len(block) < BLOCK:
                return

    return Response(
        stream_with_context(photo_zip(items, read)),
        mimetype="application/zip",
        headers={"Content-Disposition": _attachment(f"activity-photos-{month}.zip")},
    )


def _attachment(name: str) -> str:
    return f'attachment; filename="{name}"'
