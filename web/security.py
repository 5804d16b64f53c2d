"""Security headers and cookie flags (Flask-Talisman), with a policy that fits our pages.

Scripts and styles come only from our own static files (no inline code anywhere); videos,
posters and storyboard sprites come from the S3 server through presigned URLs, so its origin
is allowed for images and media and for nothing else.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, request
from flask_talisman import Talisman

from storage.settings import Settings


def media_origin(settings: Settings) -> str:
    """The origin browsers fetch presigned media from."""
    host = settings.s3_public_endpoint or settings.s3_endpoint
    return f"{'https' if settings.s3_secure else 'http'}://{host}"


def content_security_policy(settings: Settings) -> dict[str, str]:
    media = media_origin(settings)
    return {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": f"'self' data: {media}",
        # blob: is the contestant's own chosen file, whose duration upload.js reads before
        # sending it (a <video> of URL.createObjectURL(file)).
        "media-src": f"'self' blob: {media}",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def refuse_nul_characters() -> None:
    """No text we keep may hold NUL: PostgreSQL refuses it (a 500 deep in a query), and no
    person types it. Query strings, forms and JSON bodies with one are bad requests."""
    fields = [*request.args.items(multi=True), *request.form.items(multi=True)]
    if any(_holds_nul(k) or _holds_nul(v) for k, v in fields) or (
        request.is_json and _holds_nul(request.get_json(silent=True))
    ):
        abort(400)


def init_security(app: Flask, settings: Settings) -> None:
    """Send the headers on every response and set the session cookie's flags."""
    app.before_request(refuse_nul_characters)
    # One Talisman per app: it keeps its options on itself, not on the app.
    app.extensions["talisman"] = Talisman(
        app,
        # TLS ends at the reverse proxy in front of gunicorn; redirecting here would loop.
        force_https=False,
        strict_transport_security=settings.cookie_secure,
        session_cookie_secure=settings.cookie_secure,
        session_cookie_http_only=True,
        session_cookie_samesite="Lax",
        frame_options="DENY",
        content_security_policy=content_security_policy(settings),
        referrer_policy="same-origin",
        permissions_policy={"camera": "()", "microphone": "()", "geolocation": "()"},
    )
    # Flask-Login's remember-me cookie follows the session cookie's rules.
    app.config.update(
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        REMEMBER_COOKIE_SECURE=settings.cookie_secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
    )
