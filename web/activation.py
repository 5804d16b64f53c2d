"""The page of a one-time link, `/auth/activate/<token>`: set one's own password, once.

The link is a judge's invitation or a forgotten password's reset (the token's purpose); the
page's words follow it.

The token is in the path, so the page is never cached (like every page, it sends a referrer
to this site only: `Referrer-Policy: same-origin`). The rules (unknown, used, revoked,
expired links, the password, one winner of two tabs) are in `judging.judge_invitations`.
"""

from __future__ import annotations

from typing import Any

from flask import flash, make_response, redirect, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo

from judging.judge_invitations import ActivationError, activate, find_token
from judging.submissions import current_contest
from storage.models import ActivationToken, TokenPurpose
from web.auth import LoginUser, bp, hash_password, home_url
from web.extensions import db, limiter, settings_of
from web.i18n import translate


class ActivationForm(FlaskForm):
    password = PasswordField(_l("设置密码"), validators=[DataRequired(_l("请输入密码"))])
    confirm = PasswordField(
        _l("确认密码"), validators=[EqualTo("password", _l("两次输入的密码不一致"))]
    )


def _page(
    token: ActivationToken | None,
    form: ActivationForm | None,
    error: str = "",
    reason: str = "",
    status: int = 200,
    purpose: str = TokenPurpose.ACTIVATE,
) -> Any:
    response = make_response(
        render_template(
            "auth/activate.html",
            reset=(token.purpose if token else purpose) == TokenPurpose.RESET,
            token=token,
            form=form,
            error=error,
            reason=reason,
            contest=current_contest(db.session),
        ),
        status,
    )
    # The link is a key: never kept by a cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(exc: ActivationError) -> Any:
    status = 404 if exc.reason == "unknown" else 410
    return _page(None, None, translate(exc.message), exc.reason, status, exc.purpose)


@bp.route("/activate/<token>", methods=["GET", "POST"], endpoint="activate")
@limiter.limit(
    lambda: settings_of().login_rate_limit, methods=["POST"], key_func=get_remote_address
)
def activate_view(token: str) -> Any:
    try:
        row = find_token(db.session, token)
    except ActivationError as exc:
        return _refused(exc)
    if current_user.is_authenticated and current_user.id == row.user_id:
        flash(_("你已登录"), "info")
        return redirect(home_url())
    form = ActivationForm()
    if form.validate_on_submit():
        try:
            user = activate(db.session, token, form.password.data or "", hash_password)
        except ActivationError as exc:
            if exc.reason != "password":
                return _refused(exc)
            form.password.errors = [*form.password.errors, translate(exc.message)]
        else:
            if current_user.is_authenticated:
                logout_user()  # someone else's session in this browser: it is the judge's now
            login_user(LoginUser(user))
            if row.purpose == TokenPurpose.RESET:
                flash(_("密码已重置，其他设备上的登录已失效。请记住新密码"), "success")
            else:
                flash(
                    _(
                        "账号已激活，欢迎参加评审。请记住用户名 %(user)s 和新密码",
                        user=user.username,
                    ),
                    "success",
                )
            return redirect(home_url())
    return _page(row, form)
