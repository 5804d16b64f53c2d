"""The JSON API: create an entry, upload its video, read its status and media URLs."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from judging.access import STAFF, can_view_submission, entry_view
from judging.submissions import SubmissionError, create_entry, current_contest, validate_fields
from storage.models import Entry, Role, User
from web.entry_view import entry_status
from web.extensions import db, upload_limit
from web.i18n import translate
from web.openapi import openapi_document
from web.uploads import UploadTooLarge, accept_video, request_body

bp = Blueprint("api", __name__, url_prefix="/api/v1")


class ApiError(HTTPException):
    def __init__(self, code: int, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.errors = errors or {}


@bp.errorhandler(HTTPException)
def _json_error(exc: HTTPException) -> Any:
    if isinstance(exc, ApiError):
        return jsonify(error=exc.message, errors=exc.errors), exc.code
    return jsonify(error=exc.description or exc.name), exc.code or 500


def _user(*roles: Role) -> User:
    if not current_user.is_authenticated:
        raise ApiError(401, "请先登录 (login required)")
    if roles and current_user.role not in roles:
        raise ApiError(403, "没有权限 (forbidden)")
    return db.session.get_one(User, current_user.id)


def _readable_entry(entry_id: int) -> Entry:
    user = _user()
    entry = db.session.get(Entry, entry_id)
    if entry is None or not can_view_submission(entry_view(user, entry)):
        raise ApiError(404, "作品不存在 (no such entry)")
    return entry


@bp.get("/openapi.json")
def openapi() -> Any:
    return jsonify(openapi_document())


@bp.get("/entries")
def list_entries() -> Any:
    user = _user()
    query = select(Entry).order_by(Entry.id)
    if user.role not in STAFF:
        query = query.where(Entry.owner_id == user.id)
    return jsonify(entries=[entry_status(e) for e in db.session.scalars(query)])


@bp.post("/entries")
def create() -> Any:
    user = _user(Role.CONTESTANT)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "请求体须为 JSON 对象 (body must be a JSON object)")
    contest = current_contest(db.session)
    if contest is None:
        raise ApiError(409, "目前没有进行中的征集活动 (no open contest)")
    try:
        entry = create_entry(db.session, contest, user, validate_fields(data, contest))
    except SubmissionError as exc:
        raise ApiError(
            400, translate(exc.message), {k: translate(v) for k, v in exc.errors.items()}
        ) from exc
    response = jsonify(entry_status(entry))
    response.headers["Location"] = url_for(".read", entry_id=entry.id)
    return response, 201


@bp.put("/entries/<int:entry_id>/video")
@upload_limit
def upload_video(entry_id: int) -> Any:
    user = _user(Role.CONTESTANT)
    entry = db.session.get(Entry, entry_id)
    if entry is None or entry.owner_id != user.id:
        raise ApiError(404, "作品不存在 (no such entry)")
    try:
        accept_video(entry, request_body(), request.content_length)
    except SubmissionError as exc:
        raise ApiError(
            413 if isinstance(exc, UploadTooLarge) else 400, translate(exc.message)
        ) from exc
    return jsonify(entry_status(entry)), 202


@bp.get("/entries/<int:entry_id>")
def read(entry_id: int) -> Any:
    return jsonify(entry_status(_readable_entry(entry_id)))
