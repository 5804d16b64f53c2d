"""Log in, log out, register; roles and the decorator that checks them."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import UserMixin, current_user, login_required, login_user, logout_user
from limits import RateLimitItem, parse
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from judging.accounts import (
    AccountLocked,
    LockoutPolicy,
    check_login,
    end_sessions,
    set_password,
)
from judging.messages import N_
from judging.numbers import ascii_int
from judging.password_reset import RESET_HOURS, request_reset
from judging.submissions import current_contest
from storage.models import Role, User
from web.extensions import db, limiter, login, settings_of
from web.forms import ForgotForm, LoginForm, PasswordChangeForm, RegisterForm
from web.i18n import select_locale
from web.redirects import safe_next

bp = Blueprint("auth", __name__, url_prefix="/auth")
F = TypeVar("F", bound=Callable[..., Any])


class LoginUser(UserMixin):
    """What Flask-Login keeps of a user: the id and role, not a live database row."""

    def __init__(self, user: User) -> None:
        self.id = user.id
        self.role = user.role
        self.display_name = user.display_name
        self.username = user.username
        self.session_version = user.session_version
        self.district = user.district  # the district organizer's scope (judging/access.py)

    def get_id(self) -> str:
        # The session (and remember-me cookie) names the version it was signed in at:
        # logout and password changes move the user's version on, which ends it everywhere.
        return f"{self.id}:{self.session_version}"


@login.user_loader
def load_user(session_id: str) -> LoginUser | None:
    user_id, _sep, version = session_id.partition(":")
    user = db.session.get(User, ascii_int(user_id) or 0)
    if user is None or not user.active or ascii_int(version) != user.session_version:
        return None
    return LoginUser(user)


@login.request_loader
def load_user_from_basic_auth(req: Any) -> LoginUser | None:
    # API clients may send HTTP Basic credentials instead of a session cookie.
    auth = req.authorization
    if auth is None or auth.type != "basic" or not auth.username:
        return None
    # Each request authenticates anew, so only failures spend the login budget: a client
    # that knows its password is never slowed, one that guesses is stopped like the form.
    budget = login_budget()
    if not limiter.limiter.test(budget, "basic-auth", get_remote_address()):
        abort(429)
    try:
        user = authenticate(auth.username, auth.password or "")
    except AccountLocked:
        user = None
    if user is None:
        limiter.limiter.hit(budget, "basic-auth", get_remote_address())
        return None
    return LoginUser(user)


def login_budget() -> RateLimitItem:
    """The login rate limit (LOGIN_RATE_LIMIT) as a `limits` item."""
    return parse(settings_of().login_rate_limit)


def authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials, or None; raises AccountLocked when locked."""
    settings = settings_of()
    policy = LockoutPolicy(settings.login_lockout_attempts, settings.login_lockout_minutes)
    return check_login(db.session, username, password, policy)


def hash_password(password: str) -> str:
    """A salted hash with werkzeug's current default (scrypt)."""
    return generate_password_hash(password)


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Let only logged-in users of `roles` through; others get 403."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorator


HOME_BY_ROLE = {
    Role.CONTESTANT: "submit.index",
    Role.JUDGE: "judge.index",
    Role.ORGANIZER: "admin.index",
    Role.OPERATOR: "ops.index",
    Role.DISTRICT: "district.index",
}


# The header's one link home, named for what each role finds there.
HOME_LABELS = {
    Role.CONTESTANT: N_("我的作品"),
    Role.JUDGE: N_("评审工作台"),
    Role.ORGANIZER: N_("组委会工作台"),
    Role.OPERATOR: N_("运维"),
    Role.DISTRICT: N_("县区工作台"),
}


@bp.app_template_global()
def home_label() -> str:
    """The name of the current user's home link (a msgid; the template translates it)."""
    return HOME_LABELS[current_user.role] if current_user.is_authenticated else ""


def home_url() -> str:
    """Where the current user starts."""
    if not current_user.is_authenticated:
        return url_for("pages.index")
    return url_for(HOME_BY_ROLE[current_user.role])


def _login_limit() -> str:
    return settings_of().login_rate_limit


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=get_remote_address)
def login_view() -> Any:
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = authenticate(form.username.data or "", form.password.data or "")
        except AccountLocked as locked:
            from web.template_helpers import beijing  # it imports this module

            message = _(
                "密码错误次数过多，账号已暂时锁定，请在 %(time)s 后再试，或请组委会重置密码",
                time=beijing(locked.until),
            )
            flash(message, "error")
            return render_template("auth/login.html", form=form), 429
        if user is None:
            flash(_("用户名或密码错误"), "error")
        else:
            # Mail and SMS are written in the language the user reads the site in.
            user.language = select_locale()
            db.session.commit()
            login_user(LoginUser(user))
            return redirect(safe_next(request.args.get("next"), home_url()))
    return render_template("auth/login.html", form=form)


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=get_remote_address)
def forgot() -> Any:
    """Ask for a reset link by mail or SMS; the answer is the same whether or not an account
    matched. Without either, the page says whom to ask (an organizer resets it)."""
    form = ForgotForm()
    asked = False
    if form.validate_on_submit():
        request_reset(db.session, form.identifier.data or "")
        asked = True
    return render_template(
        "auth/forgot.html",
        form=form,
        asked=asked,
        hours=RESET_HOURS,
        contest=current_contest(db.session),
    )


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    if current_user.is_authenticated:
        # Every session of this user ends, not only this browser's (a phone left logged in).
        end_sessions(db.session, current_user.id)
    logout_user()
    flash(_("已退出登录"), "info")
    return redirect(url_for("pages.index"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
@limiter.limit(_login_limit, methods=["POST"])
def password() -> Any:
    """Change one's own password; every other session ends, this one goes on."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = db.session.get_one(User, current_user.id)
        if not check_password_hash(user.password_hash, form.current.data or ""):
            form.current.errors = [*form.current.errors, _("当前密码不正确")]
        else:
            set_password(db.session, user, hash_password(form.password.data or ""))
            login_user(LoginUser(user))  # this browser signs in at the new version
            flash(_("密码已修改，其他设备上的登录已失效"), "success")
            return redirect(home_url())
    return render_template("auth/password.html", form=form)


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=get_remote_address)
def register() -> Any:
    form = RegisterForm()
    if form.validate_on_submit():
        user = User(
            username=form.username.data,
            display_name=form.display_name.data,
            password_hash=hash_password(form.password.data or ""),
            role=Role.CONTESTANT,
            language=select_locale(),
        )
        db.session.add(user)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            form.username.errors = [*form.username.errors, _("该用户名已被注册，请换一个")]
        else:
            login_user(LoginUser(user))
            flash(_("注册成功，欢迎参加征集活动"), "success")
            # Registering on the way to a vote (?next=) goes back there, as a login does.
            return redirect(safe_next(request.args.get("next"), url_for("submit.index")))
    return render_template("auth/register.html", form=form)
