"""Extensions shared by the blueprints: database sessions, login, CSRF, S3 and Celery."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast

from flask import (
    Flask,
    Response,
    current_app,
    g,
    jsonify,
    make_response,
    render_template,
    request,
)
from flask_babel import gettext
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_wtf import CSRFProtect
from sqlalchemy.orm import Session, sessionmaker

from judging.messages import N_
from judging.upload_limits import TooManyUploads, count_upload_start
from storage.database import make_engine, make_session_factory
from storage.objects import ObjectStore
from storage.settings import Settings
from web.i18n import translate
from worker.celery_app import celery, configure_celery


class Database:
    """One SQLAlchemy session per request (or app context), closed at its end."""

    def init_app(self, app: Flask) -> None:
        engine = make_engine(settings_of(app).database_url)
        app.extensions["footprints.engine"] = engine
        app.extensions["footprints.db"] = make_session_factory(engine)
        app.teardown_appcontext(self._close)

    @property
    def session(self) -> Session:
        if "db_session" not in g:
            factory = cast(sessionmaker[Session], current_app.extensions["footprints.db"])
            g.db_session = factory()
        return cast(Session, g.db_session)

    @staticmethod
    def _close(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


def settings_of(app: Flask | None = None) -> Settings:
    """The app's settings."""
    return cast(Settings, (app or current_app).config["SETTINGS"])


def init_store(app: Flask) -> None:
    # The S3 client makes no request until used: creating it here needs no network.
    app.extensions["footprints.store"] = ObjectStore(settings_of(app))


def store() -> ObjectStore:
    """The object store of the current app."""
    return cast(ObjectStore, current_app.extensions["footprints.store"])


def init_celery(app: Flask) -> None:
    configure_celery(celery, settings_of(app))
    app.extensions["celery"] = celery


def rate_limit_key() -> str:
    """Who a rate limit counts: the logged-in user, else the client's address."""
    if current_user and current_user.is_authenticated:
        return f"user:{current_user.id}"
    return get_remote_address()


def init_limiter(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", settings_of(app).rate_limit_storage)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)


db = Database()
limiter = Limiter(key_func=rate_limit_key)
csrf = CSRFProtect()

login = LoginManager()
login.login_view = "auth.login_view"
login.login_message = N_("请先登录")
login.localize_callback = gettext
login.login_message_category = "info"


def upload_limit(view: Callable[..., Any]) -> Callable[..., Any]:
    """Count a new upload (form, API or tus; not its parts) against the user's budget.

    The budget is counted in the database, not by Flask-Limiter: its default memory storage
    counts per gunicorn process, so four processes let four times as many through.
    """

    @functools.wraps(view)
    def counted(*args: Any, **kwargs: Any) -> Any:
        if current_user and current_user.is_authenticated:
            try:
                count_upload_start(db.session, current_user.id, settings_of().upload_rate_limit)
            except TooManyUploads as exc:
                return _too_many_uploads(translate(exc.message), exc.retry_after)
        return view(*args, **kwargs)

    return counted


def _too_many_uploads(message: str, retry_after: int) -> Response:
    if request.path.startswith("/api/"):
        response = jsonify(error=message)
    else:
        response = make_response(render_template("error.html", message=message))
    response.status_code = 429
    response.headers["Retry-After"] = str(retry_after)
    return response
