"""Languages: Chinese by default, English on request (Flask-Babel).

Messages are written in Chinese, the contest's language, and the English catalog translates
them. Rules in `judging/` stay free of Flask: their messages carry a %-template and its
values (`judging.messages.Message`), which are translated here when shown.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, redirect, request
from flask_babel import Babel, gettext

from judging.messages import N_, Message
from web.redirects import safe_next

LANGUAGES = {"zh_CN": "中文", "en": "English"}
DEFAULT = "zh_CN"
COOKIE = "lang"

babel = Babel()
bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    """The language chosen with the switch (a cookie), else Chinese."""
    chosen = request.cookies.get(COOKIE, "")
    return chosen if chosen in LANGUAGES else DEFAULT


def init_i18n(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["languages"] = LANGUAGES
    app.add_template_global(select_locale, "current_language")
    app.add_template_global(translate)
    app.add_template_global(js_text)


def translate(message: str) -> str:
    """A rule's message in the current language."""
    if isinstance(message, Message):
        values = {k: gettext(v) if isinstance(v, str) else v for k, v in message.values.items()}
        return gettext(message.template, **values)
    return gettext(message)


@bp.route("/lang/<code>")
def switch(code: str) -> Any:
    response = redirect(safe_next(request.args.get("next"), "/"))
    if code in LANGUAGES:
        response.set_cookie(COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
        remember_language(code)
    return response


def remember_language(code: str) -> None:
    """A logged-in user's choice is also their mail's language."""
    from flask_login import current_user

    from storage.models import User
    from web.extensions import db

    if current_user and current_user.is_authenticated:
        user = db.session.get(User, current_user.id)
        if user is not None and user.language != code:
            user.language = code
            db.session.commit()


# Texts the browser scripts show, with {placeholders} that the scripts fill.
JS_TEXT = {
    "minutes_left": N_("约剩 {n} 分钟"),
    "seconds_left": N_("约剩 {n} 秒"),
    "uploaded": N_("已上传 {done} / {total}"),
    "speed": N_("，{speed}/秒，{left}"),
    "resuming": N_("从上次中断处继续上传（{done}）…"),
    "network_error": N_("网络错误，请检查网络后重试"),
    "cannot_start": N_("无法开始上传（{status}）"),
    "upload_failed": N_("上传失败"),
    "paused": N_("网络不稳定，上传已暂停。已上传的部分会保留，稍后重新选择同一文件即可继续。"),
    "retrying": N_("连接中断，{s} 秒后自动重试…"),
    "submit_failed": N_("提交失败"),
    "entry_saved": N_("作品信息已保存，正在打开作品页面…"),
    "scrub": N_("拖动预览画面"),
}


def js_text() -> dict[str, str]:
    """JS_TEXT in the current language, for the page's scripts."""
    return {key: gettext(text) for key, text in JS_TEXT.items()}


# Strings defined where gettext cannot be imported (storage), listed here for the catalog.
CATALOG_ONLY = (N_("青年文明号集体"), N_("争创集体"))
