"""Extensions shared by the blueprints: database sessions, login, CSRF, S3 and Celery."""

from __future__ import annotations

from typing import cast

from flask import Flask, current_app, g
from flask_babel import gettext
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_wtf import CSRFProtect
from sqlalchemy.orm import Session, sessionmaker

from judging.messages import N_
from storage.database import make_engine, make_session_factory
from storage.objects import ObjectStore
from storage.settings import Settings
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
# New uploads by form, API or tus count against one budget per user (their parts do not).
upload_limit = limiter.shared_limit(lambda: settings_of().upload_rate_limit, scope="uploads")
login = LoginManager()
login.login_view = "auth.login_view"
login.login_message = N_("请先登录")
login.localize_callback = gettext
login.login_message_category = "info"
