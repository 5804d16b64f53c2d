"""Web forms (Flask-WTF, with CSRF) and their Chinese messages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from judging.submissions import FIELD_LABELS, FIELD_LIMITS


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


class EntryForm(FlaskForm):
    """The entry's fields; the rules that check them live in `judging.submissions`."""

    title = _text("title")
    collective = _text("collective")
    district = _text("district")
    industry = _text("industry")
    contact_name = _text("contact_name")
    contact_phone = _text("contact_phone")
    summary = TextAreaField(
        FIELD_LABELS["summary"], render_kw={"maxlength": FIELD_LIMITS["summary"]}
    )
    video = FileField("视频文件", render_kw={"accept": "video/*"})


class VideoForm(FlaskForm):
    video = FileField("视频文件", render_kw={"accept": "video/*"})
