"""Web forms (Flask-WTF, with CSRF) and their Chinese messages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

from judging.passwords import password_problem
from judging.pieces import CAPTION_LIMIT
from judging.submissions import FIELD_LABELS, FIELD_LIMITS, contest_work_types
from storage.models import Contest, EntryCategory
from web.i18n import translate


def good_password(form: FlaskForm, field: PasswordField) -> None:
    """Long enough, not common, not the user name (judging/passwords.py)."""
    username = form.username.data if hasattr(form, "username") else current_user.username
    problem = password_problem(field.data or "", username or "")
    if problem:
        raise ValidationError(translate(problem))


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(_l("请输入用户名"))])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请输入密码"))])


class RegisterForm(FlaskForm):
    username = StringField(
        _l("用户名"),
        validators=[
            DataRequired(_l("请输入用户名")),
            Length(3, 32, _l("用户名长度为 3 到 32 个字符")),
            Regexp(r"^[A-Za-z0-9_.-]+$", message=_l("用户名只能包含字母、数字、下划线、点和减号")),
        ],
    )
    display_name = StringField(
        _l("姓名"),
        validators=[DataRequired(_l("请输入姓名")), Length(max=50, message=_l("姓名过长"))],
    )
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请输入密码")), good_password])
    confirm = PasswordField(
        _l("确认密码"), validators=[EqualTo("password", _l("两次输入的密码不一致"))]
    )


class ForgotForm(FlaskForm):
    identifier = StringField(
        _l("用户名或电子邮箱"),
        validators=[
            DataRequired(_l("请输入用户名或注册时填写的电子邮箱")),
            Length(max=120, message=_l("不能超过 120 个字符")),
        ],
    )


class PasswordChangeForm(FlaskForm):
    current = PasswordField(_l("当前密码"), validators=[DataRequired(_l("请输入当前密码"))])
    password = PasswordField(
        _l("新密码"), validators=[DataRequired(_l("请输入新密码")), good_password]
    )
    confirm = PasswordField(
        _l("确认新密码"), validators=[EqualTo("password", _l("两次输入的密码不一致"))]
    )


def _text(name: str) -> StringField:
    return StringField(_l(FIELD_LABELS[name]), render_kw={"maxlength": FIELD_LIMITS[name]})


# Field names as constants: pybabel would take a literal key for a message to translate.
CATEGORY, SUMMARY, WORK_TYPE = "category", "summary", "work_type"


def _choice(name: str) -> SelectField:
    # Choices come from the contest; the rules in `judging.submissions` check them.
    return SelectField(_l(FIELD_LABELS[name]), validate_choice=False)


class EntryForm(FlaskForm):
    """The entry's fields; the rules that check them live in `judging.submissions`."""

    title = _text("title")
    collective = _text("collective")
    category = SelectField(
        _l(FIELD_LABELS[CATEGORY]),
        choices=[
            SelectChoice("", _l("请选择")),
            *(SelectChoice(c.value, _l(c.label)) for c in EntryCategory),
        ],
        validate_choice=False,
    )
    district = _choice("district")
    industry = _choice("industry")
    contact_name = _text("contact_name")
    contact_phone = _text("contact_phone")
    email = _text("email")
    summary = TextAreaField(
        _l(FIELD_LABELS[SUMMARY]), render_kw={"maxlength": FIELD_LIMITS["summary"]}
    )
    authorized = BooleanField(_l("我已阅读并同意作品授权声明"))
    video = FileField(_l("视频文件"), render_kw={"accept": "video/*"})
    # Shown only where the contest takes more than one type; the rules check the choice.
    work_type = SelectField(_l(FIELD_LABELS[WORK_TYPE]), validate_choice=False)

    def use_contest(self, contest: Contest) -> EntryForm:
        """Offer the contest's districts, industries and work types as choices."""
        for field, choices in (
            (self.district, contest.districts),
            (self.industry, contest.industries),
        ):
            field.choices = [SelectChoice("", _l("请选择")), *(SelectChoice(c) for c in choices)]
        self.work_type.choices = [
            SelectChoice("", _l("请选择")),
            *(SelectChoice(t.value, _l(t.label)) for t in contest_work_types(contest)),
        ]
        return self


class VideoForm(FlaskForm):
    video = FileField(_l("视频文件"), render_kw={"accept": "video/*"})


IMAGE_ACCEPT = "image/jpeg,image/png,image/webp,image/heic,image/heif,.heic,.heif"


class PiecesForm(FlaskForm):
    """One or several photos or comic pages (comics also take PDFs)."""

    files = MultipleFileField(_l("选择文件"), render_kw={"accept": IMAGE_ACCEPT})


class CaptionForm(FlaskForm):
    caption = StringField(_l("说明"), render_kw={"maxlength": CAPTION_LIMIT})


class StoryForm(FlaskForm):
    story_body = TextAreaField(_l("正文"))
