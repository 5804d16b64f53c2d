"""One-click unsubscribe: a signed link per user and kind, in every optional message.

The link's token is the authority (no login: it is opened from a mail client). Opening it
shows a page with one button; mail clients that support RFC 8058 POST to it directly. Only
a POST turns anything off, so a link scanner that follows the link changes nothing.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, render_template, request
from itsdangerous import BadSignature, URLSafeSerializer

from storage.models import User
from storage.notifications import UnknownKind, kind_of, turn_off
from web.extensions import csrf, db, limiter
from web.mail_render import external

bp = Blueprint("unsubscribe", __name__, url_prefix="/unsubscribe")
SALT = "footprints.unsubscribe"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def unsubscribe_url(user_id: int, kind: str) -> str:
    """The link that turns `kind` off for `user_id`."""
    return external("unsubscribe.confirm", token=_serializer().dumps([user_id, kind]))


def _read(token: str) -> tuple[User, str]:
    try:
        user_id, kind = _serializer().loads(token)
        spec = kind_of(kind)
    except (BadSignature, UnknownKind, TypeError, ValueError):
        abort(404)
    if not spec.optional:
        abort(404)  # never in a mail: what cannot be turned off has no link
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None:
        abort(404)
    return user, spec.name


@bp.route("/<token>")
@limiter.limit("30/minute")
def confirm(token: str) -> Any:
    user, kind = _read(token)
    return render_template("unsubscribe.html", user=user, kind=kind_of(kind), done=False)


@bp.route("/<token>", methods=["POST"])
@csrf.exempt  # RFC 8058: the mail client posts without our form; the signed token is the key
@limiter.limit("30/minute")
def unsubscribe(token: str) -> Any:
    user, kind = _read(token)
    turn_off(db.session, user.id, kind)
    db.session.commit()
    if request.form.get("List-Unsubscribe") == "One-Click":
        return "", 204
    return render_template("unsubscribe.html", user=user, kind=kind_of(kind), done=True)
