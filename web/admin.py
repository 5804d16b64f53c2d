"""Organizers: follow the contest's entries and their processing."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from sqlalchemy import func, select

from judging.submissions import current_contest
from storage.models import Entry, Role
from web.auth import roles_required
from web.entry_view import STATUS_LABELS
from web.extensions import db

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/")
@roles_required(Role.ORGANIZER)
def index() -> Any:
    contest = current_contest(db.session)
    entries = db.session.scalars(select(Entry).order_by(Entry.number)).all()
    counts = dict(
        db.session.execute(select(Entry.status, func.count()).group_by(Entry.status)).tuples().all()
    )
    return render_template(
        "admin/index.html", contest=contest, entries=entries, counts=counts, labels=STATUS_LABELS
    )
