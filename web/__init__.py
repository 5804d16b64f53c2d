"""The Flask application: `create_app()` and one blueprint per area."""

from __future__ import annotations

import logging
import secrets
import sys
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

from storage.settings import Settings
from web.extensions import csrf, db, init_celery, init_limiter, init_store, login
from web.i18n import init_i18n
from web.notify_channels import init_mail
from web.security import init_security
from worker.log_context import configure_logging


class DatabaseId(IntegerConverter):
    """`<int:...>` in our routes: ids beyond the database's integer column are simply not
    found, instead of an error from the database."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:  # noqa: A002
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints. No network or migrations here."""
    app = Flask(__name__)
    app.url_map.converters["int"] = DatabaseId
    settings: Settings = (config or {}).get("SETTINGS") or Settings.from_env()
    app.config.update(
        SETTINGS=settings,
        # Without a configured key every process would sign differently; say so loudly.
        SECRET_KEY=settings.secret_key or secrets.token_hex(32),
        MAX_CONTENT_LENGTH=settings.max_upload_bytes + 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.config.update(config or {})
    if not app.testing and not logging.getLogger().handlers:
        # Under gunicorn (or the CLI) nothing has set up logging yet: our format, our level.
        configure_logging(
            settings.log_format, logging.INFO if "gunicorn" in sys.modules else logging.WARNING
        )
    if not settings.secret_key:
        app.logger.warning("FOOTPRINTS_SECRET_KEY is not set: sessions end when the app restarts")

    init_security(app, settings)
    db.init_app(app)
    login.init_app(app)
    csrf.init_app(app)
    init_limiter(app)
    init_i18n(app)
    init_store(app)
    init_mail(app, settings)
    if not app.config.get("FOOTPRINTS_WORKER"):
        init_celery(app)  # inside a worker, Celery is configured already

    from web import (
        account,
        admin,
        api,
        auth,
        district,
        district_admin,
        errors,
        gallery,
        i18n,
        judge,
        judging_admin,
        mail_box,
        media,
        metrics,
        ops,
        outbox_task,  # noqa: F401  (publishes outbox rows after each commit)
        pages,
        resumable,
        submit,
        unsubscribe,
        works,
    )
    from web.cli import register_commands
    from web.template_helpers import init_templates

    init_templates(app)
    register_commands(app)
    # Their routes join other blueprints: judging_admin.bp, auth.bp (activation), admin.bp.
    from web import activation, activities, judges_admin, judging_settings, reports, reports_office  # noqa: F401

    for module in (
        errors,
        pages,
        i18n,
        auth,
        submit,
        judge,
        admin,
        judging_admin,
        ops,
        metrics,
        media,
        gallery,
        api,
        resumable,
        account,
        unsubscribe,
        mail_box,
        activities,
        reports,
        reports_office,
        works,
        district,
        district_admin,
    ):
        app.register_blueprint(module.bp)
    # The API takes JSON, raw bodies or tus headers, none of which a cross-site form can
    # send; it answers no CORS preflight, so browsers on other sites cannot call it.
    csrf.exempt(api.bp)
    csrf.exempt(resumable.bp)
    return app
