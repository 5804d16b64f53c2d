"""Organizers: review the contest's entries (watch, approve for the gallery or send back with a
reason), publish the gallery, manage accounts."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from judging.blind import approval_warning, gallery_warning
from judging.exports import entries_table
from judging.gallery import (
    GalleryError,
    set_approved,
    set_gallery,
    suspicious_bursts,
    vote_counts,
)
from judging.review import (
    DEFAULT_SORT,
    REASON_LIMIT,
    REVIEW_LABELS,
    SORT_LABELS,
    Approval,
    QueueQuery,
    ReviewError,
    approve,
    bulk_approval_warning,
    entries_by_ids,
    filter_choices,
    parse_ids,
    queue_page,
    review_counts,
    send_back,
    status_counts,
)
from judging.submissions import STATUS_LABELS, SubmissionError, check_open, current_contest
from storage.models import AssetKind, Contest, Entry, MediaAsset, Role, User
from web.account_admin import accounts_page, lift_lockout, reset_password
from web.auth import roles_required
from web.downloads import spreadsheet_response
from web.extensions import db
from web.i18n import translate
from web.media import default_rendition, send_asset, shown_assets, shown_poster, shown_renditions
from web.work_view import accepted_types, work_view
from web.works import owner_image, queue_media

bp = Blueprint("admin", __name__, url_prefix="/admin")
organizer_only = roles_required(Role.ORGANIZER)


@bp.route("/")
@organizer_only
def index() -> Any:
    return queue_response()


def queue_response(
    errors: dict[int, str] | None = None, typed: dict[int, str] | None = None
) -> Any:
    """The review queue for the query string; `errors` and `typed` put a refused reason back
    next to its entry's form, as the organizer wrote it."""
    contest = current_contest(db.session)
    if contest is None:
        return render_template("admin/index.html", contest=None, page=None)
    page = queue_page(db.session, contest, QueueQuery.from_args(request.args))
    return render_template(
        "admin/index.html",
        contest=contest,
        page=page,
        query=page.query,
        counts=status_counts(db.session, contest),
        review_counts=review_counts(db.session, contest),
        choices=filter_choices(db.session, contest),
        labels=STATUS_LABELS,
        review_labels=REVIEW_LABELS,
        sort_labels=SORT_LABELS,
        default_sort=DEFAULT_SORT,
        media={e.id: entry_media(e, page.durations[e.id]) for e in page.entries},
        works={e.id: work_view(e, owner_image(e)) for e in page.entries},
        work_types=accepted_types(contest),
        votes=vote_counts(db.session, contest),
        bursts={b.entry_id: b.votes for b in suspicious_bursts(db.session, contest)},
        contest_open=takes_fixes(contest),
        errors=errors or {},
        typed=typed or {},
        reason_limit=REASON_LIMIT,
    )


def back_to_queue(entry: Entry | None = None) -> Any:
    """The queue as the organizer left it (same filters and page), at the entry's row."""
    anchor = f"entry-{entry.id}" if entry else None
    return redirect(url_for(".index", **queue_args(), _anchor=anchor))


def queue_args() -> dict[str, Any]:
    """The queue's own part of the query string (filters, sort, page), to carry along."""
    return dict(QueueQuery.from_args(request.args).args())


def queued_entry(entry_id: int) -> Entry:
    """The current contest's entry `entry_id`, or 404 (other contests' entries too)."""
    contest = current_contest(db.session)
    entry = db.session.get(Entry, entry_id)
    if contest is None or entry is None or entry.contest_id != contest.id:
        abort(404)
    return entry


def takes_fixes(contest: Contest) -> bool:
    """Whether a contestant can still fix an entry sent back now (before the deadline)."""
    try:
        check_open(contest)
    except SubmissionError:
        return False
    return True


def organizer() -> User:
    return db.session.get_one(User, current_user.id)


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
    entry = queued_entry(entry_id)
    if request.form.get("approved") != "1":
        set_approved(db.session, entry, False)
        return back_to_queue(entry)
    warning = approval_warning(db.session, entry)
    if warning and request.form.get("confirm") != "1":
        return confirm(
            warning, url_for(".approval", entry_id=entry.id, **queue_args()), {"approved": "1"}
        )
    refused_any(approve(db.session, [entry], organizer()))
    return back_to_queue(entry)


@bp.route("/entries/approve", methods=["POST"])
@organizer_only
def bulk_approval() -> Any:
    contest = current_contest(db.session)
    if contest is None:
        abort(404)
    try:
        ids = parse_ids(request.form.getlist("ids"))
    except ReviewError as exc:
        flash(translate(exc.message), "error")
        return back_to_queue()
    entries = entries_by_ids(db.session, contest, ids)
    warning = bulk_approval_warning(db.session, contest, entries)
    if warning and request.form.get("confirm") != "1":
        fields = {"ids": ",".join(str(e.id) for e in entries)}
        return confirm(warning, url_for(".bulk_approval", **queue_args()), fields)
    result = approve(db.session, entries, organizer())
    if result.approved:
        flash(_("已通过 %(n)d 件作品", n=len(result.approved)), "success")
    refused_any(result)
    if len(entries) < len(ids):
        flash(_("%(n)d 件所选作品不在本次活动中，未处理", n=len(ids) - len(entries)), "error")
    return back_to_queue()


def refused_any(result: Approval) -> None:
    for refusal in result.refused:
        flash(f"No.{refusal.number:04d} {translate(refusal.message)}", "error")


@bp.route("/entries/<int:entry_id>/return", methods=["POST"])
@organizer_only
def send_back_entry(entry_id: int) -> Any:
    entry = queued_entry(entry_id)
    reason = request.form.get("reason", "")
    try:
        send_back(db.session, entry, reason, organizer())
    except ReviewError as exc:
        return queue_response(errors={entry.id: translate(exc.message)}, typed={entry.id: reason})
    return back_to_queue(entry)


@bp.route("/entries/<int:entry_id>/poster")
@organizer_only
def poster(entry_id: int) -> Any:
    """The entry's smallest poster, for the queue's thumbnail."""
    entry = db.session.get(Entry, entry_id)
    asset = thumbnail(entry) if entry else None
    if asset is None:
        abort(404)
    return send_asset(asset, None)


@bp.route("/entries/<int:entry_id>/video")
@organizer_only
def video(entry_id: int) -> Any:
    """The rendition the queue's player plays, read through the site in bounded ranges."""
    entry = db.session.get(Entry, entry_id)
    asset = default_rendition(shown_renditions(entry)) if entry else None
    if asset is None:
        abort(404)
    return send_asset(asset, request.headers.get("Range"))


def entry_media(entry: Entry, seconds: float | None) -> dict[str, Any]:
    """A queue row's thumbnail and player URLs (each names its asset, so a replaced video
    is not taken from the browser's cache) and the video's length as m:ss; a photo, comic or
    story its cover and the address of the whole work instead (web/works.py)."""
    if entry.work_type.has_pieces:
        return {**queue_media(entry), "length": None}
    poster = thumbnail(entry)
    rendition = default_rendition(shown_renditions(entry))
    return {
        "jobs": bool(entry.jobs),
        "poster": url_for(".poster", entry_id=entry.id, v=poster.id) if poster else None,
        "video": url_for(".video", entry_id=entry.id, v=rendition.id) if rendition else None,
        "length": None if seconds is None else clock(seconds),
    }


def clock(seconds: float) -> str:
    """A video's length as m:ss (75.4 → 1:15)."""
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}:{rest:02d}"


def thumbnail(entry: Entry) -> MediaAsset | None:
    """The smallest poster of the shown upload: dozens load on one page."""
    posters = {a.label: a for a in shown_assets(entry, AssetKind.POSTER)}
    return posters.get("poster_small") or posters.get("poster_medium") or shown_poster(entry)


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
        "admin/confirm.html",
        message=translate(warning),
        action=action,
        fields=fields,
        # Declining goes back to the queue as it was (same filters and page).
        back_url=url_for(".index", **queue_args()),
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
