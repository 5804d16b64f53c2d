"""Error pages: the site's own page, in the reader's language, for every error a view raises
or no view catches (a wrong method, a malformed request, a crash); JSON for the API."""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from judging.messages import N_
from web.extensions import db
from web.redirects import safe_next

bp = Blueprint("errors", __name__)
log = logging.getLogger(__name__)

# What a person reads, and what they can do about it.
ERRORS = {
    400: N_("请求有误，请返回上一页检查填写的内容后再试"),
    403: N_("您没有权限进行这个操作"),
    404: N_("页面不存在，或者您没有权限查看"),
    405: N_("这个页面不能这样打开，请返回上一页再试"),
    413: N_("提交的内容过大"),
    429: N_("操作太频繁，请稍后再试"),
    500: N_("服务器出了问题，我们已经记下。您已保存的内容不会丢失，请稍后再试"),
}
# Shown when even the error page cannot be drawn (the database is gone, a template broke).
BARE_500 = (
    '<!doctype html><html lang="zh-CN"><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>服务器出了问题</title><p>服务器出了问题，我们已经记下。您已保存的内容不会丢失，"
    '请稍后再试。</p><p><a href="/">返回首页</a></p></html>'
)


def back_link() -> str | None:
    """The page the reader came from, when it is a page of this site."""
    parts = urlsplit(request.referrer or "")
    if parts.netloc != request.host or parts.path == request.path:
        return None
    return safe_next(urlunsplit(("", "", parts.path, parts.query, "")), "") or None


def page(message: str, code: int) -> Any:
    return render_template("error.html", message=message, code=code, back=back_link()), code


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


@bp.app_errorhandler(400)
@bp.app_errorhandler(403)
@bp.app_errorhandler(404)
@bp.app_errorhandler(405)
@bp.app_errorhandler(413)
@bp.app_errorhandler(429)
def client_error(exc: HTTPException) -> Any:
    code = exc.code or 400
    message = _(ERRORS.get(code, ERRORS[400]))
    if wants_json():
        return jsonify(error=message), code
    return page(message, code)


@bp.app_errorhandler(500)
def server_error(exc: Exception) -> Any:
    """A crash (Flask has logged it with its traceback): a page that promises nothing was
    lost, and shows nothing of the error."""
    try:
        # The failed request may have left the session mid-transaction: the page below
        # reads the current user through it.
        db.session.rollback()
        if wants_json():
            return jsonify(error=_(ERRORS[500])), 500
        return page(_(ERRORS[500]), 500)
    except Exception:  # the error page must answer even when the database is gone
        log.exception("the error page itself failed")
        return Response(BARE_500, status=500, mimetype="text/html")


@cache
def _icon(static_folder: str) -> bytes:
    return Path(static_folder, "favicon.ico").read_bytes()  # 6 KB, read once


@bp.route("/favicon.ico")
def favicon() -> Any:
    """Browsers ask for it at the root whatever the page says."""
    response = Response(_icon(current_app.static_folder or ""), mimetype="image/vnd.microsoft.icon")
    response.cache_control.public = True
    response.cache_control.max_age = 7 * 24 * 3600
    return response
