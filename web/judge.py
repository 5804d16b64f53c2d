"""Judges: their home page. Scoring forms arrive with the judging rounds."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from judging.submissions import current_contest
from storage.models import Role
from web.auth import roles_required
from web.extensions import db

bp = Blueprint("judge", __name__, url_prefix="/judge")


@bp.route("/")
@roles_required(Role.JUDGE)
def index() -> Any:
    return render_template("judge/index.html", contest=current_contest(db.session))
