"""Pages anyone may see: the home page, published 公示 and a health check."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, render_template
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address

from judging.aggregation import METHOD_HELP, method_label
from judging.announcements import grouped_rows, newest_announcement, publicity_state
from judging.blind import announced_rows
from judging.export_notes import announcement_notes, exported_now
from judging.exports import snapshot_table
from judging.submissions import current_contest
from storage.models import Contest, Round, Snapshot
from web.downloads import spreadsheet_response
from web.extensions import db, limiter, settings_of, store
from worker.readiness import readiness

bp = Blueprint("pages", __name__)


@bp.route("/")
def index() -> Any:
    contest = current_contest(db.session)
    return render_template(
        "index.html", contest=contest, announcement=newest_announcement(db.session, contest)
    )


@bp.route("/announcements/<int:snapshot_id>")
def announcement(snapshot_id: int) -> Any:
    """A published 公示: frozen results, its 公示期, method, content hash and who takes
    objections."""
    snapshot = db.session.get(Snapshot, snapshot_id)
    if snapshot is None:
        abort(404)
    # Entries still in a blind round are listed without their collective until it ends.
    rows, waiting_for = announced_rows(db.session, snapshot)
    contest = db.session.get_one(Contest, snapshot.contest_id)
    return render_template(
        "announcement.html",
        snapshot=snapshot,
        rows=rows,
        groups=grouped_rows(contest, rows),
        waiting_for=waiting_for,
        contest=contest,
        round=db.session.get(Round, snapshot.round_id),
        method=method_label(snapshot.method),
        method_help=METHOD_HELP.get(snapshot.method, ""),
        publicity=publicity_state(contest),
    )


@bp.route("/announcements/<int:snapshot_id>.<fmt>")
def announcement_download(snapshot_id: int, fmt: str) -> Any:
    """A published 公示 as a spreadsheet; the XLSX with its 说明 (公示期, objections)."""
    snapshot = db.session.get(Snapshot, snapshot_id)
    if snapshot is None:
        abort(404)
    rows, _waiting_for = announced_rows(db.session, snapshot)
    rows = [{**r, "collective": _("暂不公开")} if r.get("withheld") else r for r in rows]
    notes = [*announcement_notes(db.session, snapshot), exported_now()] if fmt == "xlsx" else []
    return spreadsheet_response(
        snapshot_table(rows), fmt, f"announcement-{snapshot.id}", notes=notes
    )


@bp.route("/healthz")
@limiter.exempt
def healthz() -> Any:
    """Alive: the process answers (for restarts)."""
    return jsonify(status="ok")


@bp.route("/readyz")
# Each request asks the database, the broker and S3: a flood must not be passed on to them.
@limiter.limit(lambda: settings_of().readyz_rate_limit, key_func=get_remote_address)
def readyz() -> Any:
    """Ready: the database, the broker and S3 all answer (for load balancers, healthchecks)."""
    checks = readiness(db.session, store(), settings_of().broker_url)
    ready = all(value == "ok" for value in checks.values())
    return jsonify(status="ready" if ready else "not ready", checks=checks), 200 if ready else 503
