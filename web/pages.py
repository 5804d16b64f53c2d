"""Pages anyone may see: the home page and a health check."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template

from judging.submissions import current_contest
from web.extensions import db

bp = Blueprint("pages", __name__)


@bp.route("/")
def index() -> Any:
    return render_template("index.html", contest=current_contest(db.session))


@bp.route("/healthz")
def healthz() -> Any:
    return jsonify(status="ok")
