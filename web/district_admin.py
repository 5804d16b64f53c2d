"""The city organizer's 县区推荐 page: quotas per district, the recommended-only switch, each
district's progress, and the district organizers' accounts (created here, bound to a
district of the contest's list). Rules in judging/district.py and judging/district_accounts.py.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from judging.district import (
    DistrictError,
    district_progress,
    left_out,
    parse_quotas,
    recommendation_open,
    set_quotas,
)
from judging.district_accounts import (
    AccountError,
    DistrictAccount,
    create_district_account,
    district_accounts,
    rebind,
)
from judging.district_log import KIND_LABELS, decision_log
from judging.submissions import current_contest
from storage.models import Contest, Role, User
from web.auth import hash_password, roles_required
from web.extensions import db
from web.i18n import translate

bp = Blueprint("district_admin", __name__, url_prefix="/admin/districts")
organizer_only = roles_required(Role.ORGANIZER)


def _contest() -> Contest:
    contest = current_contest(db.session)
    if contest is None:
        abort(404)
    return contest


def quotas_page(
    error: str = "",
    typed: dict[str, str] | None = None,
    account_errors: dict[str, str] | None = None,
    account: DistrictAccount | None = None,
    new_password: tuple[str, str] | None = None,
    code: int = 200,
) -> Any:
    """The page; what was typed comes back with the errors, a new password shows once."""
    contest = _contest()
    districts = list(contest.districts or [])
    page = render_template(
        "district/quotas.html",
        contest=contest,
        districts=districts,
        progress={d: district_progress(db.session, contest, d) for d in districts},
        typed=typed,
        error=error,
        open=recommendation_open(db.session, contest),
        left_out=left_out(db.session, contest),
        accounts=district_accounts(db.session),
        account_errors=account_errors or {},
        account=account,
        new_password=new_password,
        log=decision_log(db.session, contest),
        kind_labels=KIND_LABELS,
    )
    response = make_response(page, code)
    if new_password:
        response.headers["Cache-Control"] = "no-store"  # the password is shown this once
    return response


@bp.route("/")
@organizer_only
def index() -> Any:
    return quotas_page()


@bp.route("/quotas", methods=["POST"])
@organizer_only
def quotas() -> Any:
    contest = _contest()
    typed = {d: request.form.get(f"quota-{i}", "") for i, d in enumerate(contest.districts or [])}
    required = request.form.get("recommendation_required") == "1"
    try:
        set_quotas(
            db.session,
            contest,
            parse_quotas(contest, typed),
            required,
            db.session.get_one(User, current_user.id),
        )
    except DistrictError as exc:
        return quotas_page(error=translate(exc.message), typed=typed, code=400)
    flash(_("已保存推荐名额"), "success")
    return redirect(url_for(".index"), 303)


@bp.route("/accounts", methods=["POST"])
@organizer_only
def create_account() -> Any:
    fields = DistrictAccount(
        request.form.get("username", ""),
        request.form.get("display_name", ""),
        request.form.get("district", ""),
    )
    password = secrets.token_urlsafe(12)
    try:
        user = create_district_account(db.session, _contest(), fields, hash_password(password))
    except AccountError as exc:
        errors = {k: translate(v) for k, v in exc.errors.items()}
        return quotas_page(account_errors=errors, account=fields, code=400)
    return quotas_page(new_password=(user.username, password))


@bp.route("/accounts/<int:user_id>/district", methods=["POST"])
@organizer_only
def bind(user_id: int) -> Any:
    """Bind a district organizer's account to another district (or a first one)."""
    user = db.session.get(User, user_id)
    if user is None or user.role is not Role.DISTRICT:
        abort(404)
    try:
        rebind(db.session, _contest(), user, request.form.get("district", ""))
    except AccountError as exc:
        return quotas_page(error=translate(exc.errors["district"]), code=400)
    flash(
        _("已将 %(user)s 绑定到 %(district)s", user=user.username, district=user.district),
        "success",
    )
    return redirect(url_for(".index", _anchor="district-accounts"), 303)


@bp.app_template_global()
def recommendation_left_out(contest: Contest) -> dict[str, int]:
    """For the review queue's and the judging page's notice (templates/district/_left_out)."""
    return left_out(db.session, contest)
