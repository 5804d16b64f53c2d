"""The district organizer's pages (县区工作台): progress, the district's entries, each entry
with recommend / decline / withdraw. Every page sees one district (`district_scope`); another
district's entry is 404, as if it did not exist. Rules in judging/district.py."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from judging.district import (
    DECISION_FILTERS,
    DECISION_LABELS,
    DistrictError,
    decline,
    district_entries,
    district_entry,
    district_progress,
    district_scope,
    recommend,
    recommendation_open,
    withdraw_recommendation,
)
from judging.messages import N_
from judging.submissions import STATUS_LABELS, current_contest
from storage.models import Contest, Entry, EntryStatus, MediaAsset, Role, User, WorkType
from web.admin import thumbnail
from web.auth import roles_required
from web.errors import page
from web.extensions import db
from web.i18n import translate
from web.media import default_rendition, send_asset, shown_renditions
from web.work_view import ImageUrl, page_name, send_page_image, work_view

bp = Blueprint("district", __name__, url_prefix="/district")
district_only = roles_required(Role.DISTRICT)
NOT_BOUND = N_(
    "此账号还没有绑定县（市）区或市直单位，不能使用县区工作台。"
    "请联系组委会在“县区推荐”页为账号绑定所属县区。"
)
NO_CONTEST = N_("现在没有进行中的征集活动。")


@bp.before_request
@district_only
def scope() -> Any:
    """Every page: a district organizer bound to a district, and the current contest."""
    g.user = db.session.get_one(User, current_user.id)
    district = district_scope(g.user)
    if district is None:
        return page(_(NOT_BOUND), 403)
    contest = current_contest(db.session)
    if contest is None:
        return page(_(NO_CONTEST), 404)
    g.district, g.contest = district, contest
    return None


def _contest() -> Contest:
    return g.contest  # type: ignore[no-any-return]


def _work_types() -> list[WorkType]:
    listed = _contest().work_types or ["video"]
    return [WorkType(t) for t in listed if t in WorkType._value2member_map_]


def _entry(entry_id: int) -> Entry:
    entry = district_entry(db.session, _contest(), g.user, entry_id)
    if entry is None:
        abort(404)
    return entry


@bp.route("/")
def index() -> Any:
    progress = district_progress(db.session, _contest(), g.district)
    return render_template(
        "district/index.html",
        contest=_contest(),
        progress=progress,
        open=recommendation_open(db.session, _contest()),
        work_types=_work_types(),
        status_labels=STATUS_LABELS,
        decision_labels=DECISION_LABELS,
    )


@bp.route("/entries")
def entries() -> Any:
    args = request.args
    work_type = args.get("type", "")
    status = args.get("status", "")
    decision = args.get("decision", "")
    shown = district_entries(
        db.session,
        _contest(),
        g.district,
        work_type=WorkType(work_type) if work_type in WorkType._value2member_map_ else None,
        status=EntryStatus(status) if status in EntryStatus._value2member_map_ else None,
        decision=DECISION_FILTERS.get(decision),
    )
    return render_template(
        "district/entries.html",
        entries=shown,
        progress=district_progress(db.session, _contest(), g.district),
        filters={"type": work_type, "status": status, "decision": decision},
        work_types=_work_types(),
        status_labels=STATUS_LABELS,
        decision_labels=DECISION_LABELS,
    )


@bp.route("/entries/<int:entry_id>")
def entry(entry_id: int) -> Any:
    return entry_page(_entry(entry_id))


def entry_page(entry: Entry, error: str = "", reason: str = "", code: int = 200) -> Any:
    """The entry with its decision forms; `error` and the typed `reason` when refused."""
    rendition = default_rendition(shown_renditions(entry))
    return (
        render_template(
            "district/entry.html",
            entry=entry,
            work=work_view(entry, _image_url(entry)),
            video=url_for(".video", entry_id=entry.id, v=rendition.id) if rendition else None,
            poster=url_for(".poster", entry_id=entry.id) if thumbnail(entry) else None,
            progress=district_progress(db.session, _contest(), g.district),
            open=recommendation_open(db.session, _contest()),
            error=error,
            reason=reason,
            status_labels=STATUS_LABELS,
            decision_labels=DECISION_LABELS,
            decider=db.session.get(User, entry.district_decided_by_id or 0),
        ),
        code,
    )


def _image_url(entry: Entry) -> ImageUrl:
    def url(number: int, size: int, asset: MediaAsset) -> str:
        name = page_name(number, size)
        return url_for(".page_image", entry_id=entry.id, filename=name, v=asset.sha256[:12])

    return url


def _done(entry: Entry, message: str) -> Any:
    flash(message, "success")
    return redirect(url_for(".entry", entry_id=entry.id), 303)


@bp.route("/entries/<int:entry_id>/recommend", methods=["POST"])
def recommend_entry(entry_id: int) -> Any:
    entry = _entry(entry_id)
    try:
        recommend(db.session, _contest(), entry, g.user, request.form.get("note", ""))
    except DistrictError as exc:
        return entry_page(entry, error=translate(exc.message), code=409)
    return _done(entry, _("已推荐作品 No.%(n)04d 参加市级评选", n=entry.number))


@bp.route("/entries/<int:entry_id>/decline", methods=["POST"])
def decline_entry(entry_id: int) -> Any:
    entry = _entry(entry_id)
    reason = request.form.get("reason", "")
    tell = request.form.get("tell") == "1"
    try:
        decline(db.session, _contest(), entry, g.user, reason, tell=tell)
    except DistrictError as exc:
        return entry_page(entry, error=translate(exc.message), reason=reason, code=400)
    told = _("，已告知参赛者") if tell else ""
    return _done(entry, _("已将作品 No.%(n)04d 标为不推荐", n=entry.number) + told)


@bp.route("/entries/<int:entry_id>/withdraw", methods=["POST"])
def withdraw_entry(entry_id: int) -> Any:
    entry = _entry(entry_id)
    try:
        withdraw_recommendation(db.session, _contest(), entry, g.user)
    except DistrictError as exc:
        return entry_page(entry, error=translate(exc.message), code=409)
    return _done(entry, _("已撤回对作品 No.%(n)04d 的决定，名额已释放", n=entry.number))


@bp.route("/entries/<int:entry_id>/poster")
def poster(entry_id: int) -> Any:
    asset = thumbnail(_entry(entry_id))
    if asset is None:
        abort(404)
    return send_asset(asset, None)


@bp.route("/entries/<int:entry_id>/video")
def video(entry_id: int) -> Any:
    asset = default_rendition(shown_renditions(_entry(entry_id)))
    if asset is None:
        abort(404)
    return send_asset(asset, request.headers.get("Range"))


@bp.route("/entries/<int:entry_id>/pages/<filename>")
def page_image(entry_id: int, filename: str) -> Any:
    """A photo's or comic page's image, by its place and size (web/work_view.py)."""
    return send_page_image(_entry(entry_id), filename)
