"""The account page: where mail and SMS go, in which language, and which notices to get."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from judging.submissions import EMAIL, PHONE
from storage.models import User
from storage.notifications import kinds_for, opted_out, set_preferences
from web.extensions import db
from web.i18n import LANGUAGES

bp = Blueprint("account", __name__, url_prefix="/account")


class Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AccountForm(FlaskForm):
    email = StringField(
        _l("电子邮箱"),
        validators=[
            Optional(),
            Length(max=120, message=_l("电子邮箱不能超过 120 个字符")),
            Regexp(EMAIL, message=_l("电子邮箱格式不正确，例如 name@example.com")),
        ],
    )
    phone = StringField(
        _l("手机"),
        validators=[
            Optional(),
            Regexp(PHONE, message=_l("手机号格式不正确，例如 13800138000")),
        ],
    )
    language = SelectField(
        _l("通知语言"), choices=[SelectChoice(code, name) for code, name in LANGUAGES.items()]
    )
    wanted = Checkboxes(_l("接收以下通知"), choices=[], validate_choice=False)


def _form(user: User) -> AccountForm:
    form = AccountForm()
    form.wanted.choices = [
        SelectChoice(k.name, _(k.label)) for k in kinds_for(user.role) if k.optional
    ]
    return form


@bp.route("/", methods=["GET", "POST"])
@login_required
def view() -> Any:
    user = db.session.get_one(User, current_user.id)
    form = _form(user)
    if form.validate_on_submit():
        user.email = (form.email.data or "").strip()
        user.phone = (form.phone.data or "").strip()
        user.language = form.language.data or user.language
        set_preferences(db.session, user, form.wanted.data or [])
        db.session.commit()
        flash(_("通知设置已保存"), "success")
        return redirect(url_for("account.view"))
    if not form.is_submitted():
        off = opted_out(db.session, user.id)
        form.email.data, form.phone.data, form.language.data = user.email, user.phone, user.language
        optional = [k.name for k in kinds_for(user.role) if k.optional]
        form.wanted.data = [name for name in optional if name not in off]
    required = [k for k in kinds_for(user.role) if not k.optional]
    return render_template("account.html", form=form, required=required, user=user)
