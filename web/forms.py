"""Web forms (Flask-WTF, with CSRF) and their Chinese messages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from judging.submissions import FIELD_LABELS, FIELD_LIMITS
from storage.models import Contest, EntryCategory


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名")])
    password = PasswordField("密码", validators=[DataRequired("请输入密码")])


class RegisterForm(FlaskForm):
    username = StringField(
        "用户名",
        validators=[
            DataRequired("请输入用户名"),
            Length(3, 32, "用户名长度为 3 到 32 个字符"),
            Regexp(r"^[A-Za-z0-9_.-]+$", message="用户名只能包含字母、数字、下划线、点和减号"),
        ],
    )
    display_name = StringField(
        "姓名", validators=[DataRequired("请输入姓名"), Length(max=50, message="姓名过长")]
    )
    password = PasswordField(
        "密码", validators=[DataRequired("请输入密码"), Length(8, 128, "密码至少 8 位")]
    )
    confirm = PasswordField("确认密码", validators=[EqualTo("password", "两次输入的密码不一致")])


def _text(name: str) -> StringField:
    return StringField(FIELD_LABELS[name], render_kw={"maxlength": FIELD_LIMITS[name]})


def _choice(name: str) -> SelectField:
    # Choices come from the contest; the rules in `judging.submissions` check them.
    return SelectField(FIELD_LABELS[name], validate_choice=False)


class EntryForm(FlaskForm):
    """The entry's fields; the rules that check them live in `judging.submissions`."""

    title = _text("title")
    collective = _text("collective")
    category = SelectField(
        FIELD_LABELS["category"],
        choices=[
            SelectChoice("", "请选择"),
            *(SelectChoice(c.value, c.label) for c in EntryCategory),
        ],
        validate_choice=False,
    )
    district = _choice("district")
    industry = _choice("industry")
    contact_name = _text("contact_name")
    contact_phone = _text("contact_phone")
    email = _text("email")
    summary = TextAreaField(
        FIELD_LABELS["summary"], render_kw={"maxlength": FIELD_LIMITS["summary"]}
    )
    authorized = BooleanField("我已阅读并同意作品授权声明")
    video = FileField("视频文件", render_kw={"accept": "video/*"})

    def use_contest(self, contest: Contest) -> EntryForm:
        """Offer the contest's districts and industries as choices."""
        for field, choices in (
            (self.district, contest.districts),
            (self.industry, contest.industries),
        ):
            field.choices = [SelectChoice("", "请选择"), *(SelectChoice(c) for c in choices)]
        return self


class VideoForm(FlaskForm):
    video = FileField("视频文件", render_kw={"accept": "video/*"})
