"""Organizers' judges page (/admin/judges): add one, import a spreadsheet, resend, revoke,
deactivate. The rules are in `judging.judge_invitations` and `judging.judge_import`.

New activation links appear in the body of the answer to the POST that made them, once,
with `Cache-Control: no-store`: never in the session cookie, a flash or a later page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice

from judging.judge_import import JudgeImportError, Problem, import_judges
from judging.judge_invitations import (
    FIELD_LABELS,
    FIELD_LIMITS,
    STATE_LABELS,
    IssuedLink,
    JudgeError,
    check_new_judge,
    create_judges,
    judge_rows,
    resend,
    revoke,
    set_active,
    validate_judge,
)
from judging.submissions import current_contest
from storage.models import Role, User
from web.admin import bp, organizer_only
from web.extensions import db, settings_of
from web.i18n import translate

DISTRICT = "district"  # a constant: pybabel would take a literal key for a message


def _text(name: str, **render_kw: Any) -> StringField:
    return StringField(
        _l(FIELD_LABELS[name]), render_kw={"maxlength": FIELD_LIMITS[name], **render_kw}
    )


class JudgeForm(FlaskForm):
    """One judge; `judging.judge_invitations.validate_judge` checks the fields."""

    display_name = _text("display_name")
    unit = _text("unit")
    district = SelectField(_l(FIELD_LABELS[DISTRICT]), validate_choice=False)
    phone = _text("phone", inputmode="tel", autocomplete="off")
    email = _text("email", inputmode="email", autocomplete="off")
    username = _text("username", autocomplete="off")

    def use_districts(self, districts: Sequence[str]) -> JudgeForm:
        self.district.choices = [
            SelectChoice("", _l("（不属于任何区县）")),
            *(SelectChoice(d) for d in districts),
        ]
        return self


class ImportForm(FlaskForm):
    file = FileField(_l("评委名单（CSV 或 XLSX）"), render_kw={"accept": ".csv,.xlsx,.txt"})


def _districts() -> list[str]:
    contest = current_contest(db.session)
    return list(contest.districts or []) if contest else []


def _page(
    form: JudgeForm | None = None,
    links: Sequence[IssuedLink] = (),
    problems: Sequence[Problem] = (),
    existing: Sequence[tuple[int, User]] = (),
    status: int = 200,
) -> Any:
    districts = _districts()
    contest = current_contest(db.session)
    page = render_template(
        "admin/judges.html",
        rows=judge_rows(db.session),
        labels=STATE_LABELS,
        form=form or JudgeForm(formdata=None).use_districts(districts),
        import_form=ImportForm(formdata=None),
        districts=districts,
        auto_conflicts=set(contest.auto_conflicts or []) if contest else set(),
        links=[(link, _link_url(link)) for link in links],
        # The invitation also went out by SMS (judge_invitation) when a provider is set.
        sms_on=bool(settings_of().sms_provider),
        problems=problems,
        existing=existing,
    )
    response = make_response(page, status)
    if links:
        # The links are shown this once: kept out of caches and the browser's history.
        response.headers["Cache-Control"] = "no-store"
    return response


def _link_url(link: IssuedLink) -> str:
    return url_for("auth.activate", token=link.token, _external=True)


def _judge(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.role is not Role.JUDGE:
        abort(404)
    return user


def _organizer() -> User:
    return db.session.get_one(User, current_user.id)


@bp.route("/judges")
@organizer_only
def judges() -> Any:
    return _page()


@bp.route("/judges", methods=["POST"])
@organizer_only
def judges_add() -> Any:
    form = JudgeForm().use_districts(_districts())
    if not form.validate_on_submit():
        return _page(form, status=400)
    try:
        fields = validate_judge(form.data, _districts())
        check_new_judge(db.session, fields)
        links = create_judges(db.session, [fields], _organizer())
    except JudgeError as exc:
        for name, message in exc.errors.items():
            getattr(form, name).errors = [translate(message)]
        flash(translate(exc.message), "error")
        return _page(form, status=400)
    flash(_("已添加评委 %(name)s", name=links[0].user.display_name), "success")
    return _page(links=links)


@bp.route("/judges/import", methods=["POST"])
@organizer_only
def judges_import() -> Any:
    form = ImportForm()
    upload = form.file.data if form.validate_on_submit() else None
    if upload is None or not getattr(upload, "filename", ""):
        flash(_("请选择要导入的评委名单文件"), "error")
        return _page(status=400)
    try:
        result = import_judges(db.session, upload.read(), _organizer(), _districts())
    except JudgeImportError as exc:
        flash(_("评委名单未导入：请按下列提示修改后重新上传"), "error")
        return _page(problems=exc.problems, status=400)
    new, old = len(result.created), len(result.existing)
    if old:
        flash(_("已导入 %(new)d 位评委；%(old)d 位已在名单中，未改动", new=new, old=old), "success")
    else:
        flash(_("已导入 %(new)d 位评委", new=new), "success")
    return _page(links=result.created, existing=result.existing)


@bp.route("/judges/<int:user_id>/resend", methods=["POST"])
@organizer_only
def judges_resend(user_id: int) -> Any:
    judge = _judge(user_id)
    try:
        link = resend(db.session, judge, _organizer())
    except JudgeError as exc:
        flash(translate(exc.message), "error")
        return redirect(url_for(".judges"))
    flash(_("已为 %(name)s 生成新的激活链接，原链接已失效", name=judge.display_name), "success")
    return _page(links=[link])


@bp.route("/judges/<int:user_id>/revoke", methods=["POST"])
@organizer_only
def judges_revoke(user_id: int) -> Any:
    judge = _judge(user_id)
    try:
        revoke(db.session, judge)
    except JudgeError as exc:
        flash(translate(exc.message), "error")
    else:
        flash(_("已撤销 %(name)s 的邀请，激活链接已失效", name=judge.display_name), "success")
    return redirect(url_for(".judges"))


@bp.route("/judges/<int:user_id>/active", methods=["POST"])
@organizer_only
def judges_active(user_id: int) -> Any:
    judge = _judge(user_id)
    active = request.form.get("active") == "1"
    set_active(db.session, judge, active)
    if active:
        flash(_("已启用评委 %(name)s", name=judge.display_name), "success")
    else:
        flash(
            _(
                "已停用评委 %(name)s：不再参与今后的分配，已分配的作品仍保留",
                name=judge.display_name,
            ),
            "success",
        )
    return redirect(url_for(".judges"))
