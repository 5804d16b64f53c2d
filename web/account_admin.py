"""The accounts page of organizers and operators: lock-outs seen and lifted, passwords reset.

The rules of who manages whom are in `judging.accounts.MANAGES`; both roles' pages use
these views with their own endpoint names.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Response, abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from judging.accounts import lock_state, manageable, may_manage, set_password, unlock
from judging.messages import N_
from storage.models import Role, User
from web.auth import hash_password
from web.extensions import db

ROLE_LABELS = {
    Role.CONTESTANT: N_("参赛者"),
    Role.JUDGE: N_("评委"),
    Role.ORGANIZER: N_("组委会"),
    Role.OPERATOR: N_("运维"),
    Role.DISTRICT: N_("县区团委"),
}


def _managed(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or not may_manage(db.session.get_one(User, current_user.id), user):
        abort(404)
    return user


def accounts_page(endpoint: str, new_password: tuple[User, str] | None = None) -> Response:
    """The list; a new password, when one was just set, is in this response's body only."""
    users = manageable(db.session, current_user.role)
    page = render_template(
        "accounts.html",
        users=users,
        locked={u.id: lock_state(u) for u in users},
        endpoint=endpoint,
        new_password=new_password,
        role_labels=ROLE_LABELS,
    )
    response = make_response(page)
    if new_password:
        # Kept out of caches and history: the password is shown this once.
        response.headers["Cache-Control"] = "no-store"
    return response


def reset_password(endpoint: str, user_id: int) -> Response:
    user = _managed(user_id)
    password = secrets.token_urlsafe(12)
    # Ends the user's sessions and lifts a lock-out, so they can log in at once.
    set_password(db.session, user, hash_password(password))
    return accounts_page(endpoint, (user, password))


def lift_lockout(endpoint: str, user_id: int) -> Any:
    user = _managed(user_id)
    unlock(db.session, user)
    flash(_("已解除 %(user)s 的登录锁定", user=user.username), "success")
    return redirect(url_for(endpoint))
