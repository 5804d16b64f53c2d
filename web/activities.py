"""风采展示: the public timeline of adopted activity reports and each one's page.

Only adopted reports exist here: a draft, a submitted or a returned report is 404, whoever
asks. The photo links are stable addresses (the monthly XLSX links to them) that redirect to
a short-lived presigned one.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request

from judging.report_export import PHOTO_SIZE, ready_photos
from judging.report_stats import districts_of, public_report, timeline
from judging.submissions import current_contest
from storage.objects import ObjectStoreError
from web.extensions import db, settings_of, store
from web.report_view import file_views, photos_of, video_of

bp = Blueprint("activities", __name__, url_prefix="/activities")


@bp.route("/")
def index() -> Any:
    contest = current_contest(db.session)
    settings = settings_of()
    found = timeline(db.session, contest, request.args, settings)
    covers = {}
    for report in found.reports:
        photos = photos_of(file_views(report))
        covers[report.id] = photos[0] if photos else None
    return render_template(
        "reports/timeline.html",
        found=found,
        covers=covers,
        districts=districts_of(contest) if contest else [],
        types=settings.activity_type_list,
    )


@bp.route("/<int:report_id>")
def report(report_id: int) -> Any:
    item = public_report(db.session, report_id)
    if item is None:
        abort(404)
    views = file_views(item)
    return render_template(
        "reports/public.html", report=item, photos=photos_of(views), video=video_of(views)
    )


@bp.route("/<int:report_id>/photos/<int:n>.jpg")
def photo(report_id: int, n: int) -> Any:
    item = public_report(db.session, report_id)
    photos = ready_photos(item) if item else []
    if not 1 <= n <= len(photos) or PHOTO_SIZE not in photos[n - 1].outputs:
        abort(404)
    try:
        url = store().presigned_url(settings_of().bucket_assets, photos[n - 1].outputs[PHOTO_SIZE])
    except ObjectStoreError:
        abort(503)
    return redirect(url)
