"""The judging settings page as a Flask-WTF form: rows for the rubric and the award tiers.

The form only carries what was typed (every field a string, kept as typed when a problem is
shown) and the CSRF token; the rules that check it are in `judging.contest_setup`, whose
Chinese problems `show_problems` puts beside their fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.utils import unset_value
from wtforms.widgets import CheckboxInput, ListWidget

from judging.aggregation import METHOD_LABELS, METHODS
from judging.config_values import Path, Problem
from judging.contest_settings import SPECS
from judging.contest_setup import MAX_CRITERIA, MAX_TIERS
from judging.messages import Message
from storage.models import EntryCategory, WorkType
from web.i18n import translate

_ROW_INDEX = re.compile(r"[0-9]{1,4}")
EXTRA_ROWS = 10  # blank rows posted beyond the limit that are still read (and ignored)


class Rows(FieldList):
    """A FieldList that reads only ASCII row numbers and says when more rows came than it
    reads (WTForms would drop them without a word, and `int("¹")` would fail)."""

    too_many = False

    def _extract_indices(self, prefix: str, formdata: Any) -> Iterator[int]:
        offset = len(prefix) + 1
        for name in formdata:
            if name.startswith(prefix + "-"):
                index = name[offset:].split("-", 1)[0]
                if _ROW_INDEX.fullmatch(index):
                    yield int(index)

    def process(self, formdata: Any, data: Any = unset_value, extra_filters: Any = None) -> None:
        if formdata:
            posted = set(self._extract_indices(self.name, formdata))
            self.too_many = len(posted) > (self.max_entries or 0)
        super().process(formdata, data, extra_filters)


class CriterionRow(Form):
    key = StringField(_l("代码"), render_kw={"maxlength": 30, "autocapitalize": "off"})
    name = StringField(_l("名称"), render_kw={"maxlength": 30})
    max_points = StringField(_l("满分"), render_kw={"inputmode": "decimal", "maxlength": 12})
    step = StringField(
        _l("步长"), render_kw={"inputmode": "decimal", "maxlength": 12, "placeholder": "0.5"}
    )
    weight = StringField(
        _l("权重"), render_kw={"inputmode": "decimal", "maxlength": 12, "placeholder": "1"}
    )
    tie = StringField(_l("并列比较顺序"), render_kw={"inputmode": "numeric", "maxlength": 2})
    description = StringField(_l("说明"), render_kw={"maxlength": 200})


class TierRow(Form):
    name = StringField(_l("奖项名称"), render_kw={"maxlength": 30})
    kind = SelectField(
        _l("按"),
        choices=[SelectChoice("count", _l("名额（个）")), SelectChoice("share", _l("比例（%）"))],
        validate_choice=False,
    )
    amount = StringField(_l("数量"), render_kw={"inputmode": "decimal", "maxlength": 12})
    category = SelectField(
        _l("评奖范围"),
        choices=[
            SelectChoice("", _l("全部作品")),
            *(SelectChoice(c.value, _l(c.label)) for c in EntryCategory),
        ],
        validate_choice=False,
    )


REVEAL_CHOICES = [
    SelectChoice("after_submit", _l("提交自己的评分之后")),
    SelectChoice("after_close", _l("本轮结束之后")),
    SelectChoice("never", _l("从不")),
]
# In the order organizers weigh them: the usual trimmed mean first.
METHOD_ORDER = ["trimmed_mean", "mean", "median", "zscore"]


def _text(label: Any, limit: int, **render_kw: Any) -> StringField:
    return StringField(label, render_kw={"maxlength": limit, **render_kw})


def _label(name: str) -> Any:
    """The setting's label (`judging.contest_settings`), translated when shown."""
    return _l(SPECS[name].label)


def _number(name: str) -> StringField:
    """A number setting's field: as many digits as its bound has, or a decimal's twelve."""
    spec = SPECS[name]
    if spec.integer:
        return _text(_label(name), len(f"{spec.high:g}"), inputmode="numeric")
    return _text(_label(name), 12, inputmode="decimal")


def _setting_text(name: str, **render_kw: Any) -> StringField:
    """A text setting's field, as long as its column."""
    return _text(_label(name), SPECS[name].limit or 200, **render_kw)


class SettingsForm(FlaskForm):
    blind = BooleanField(_label("blind"))
    gallery_after_judging = BooleanField(_label("gallery_after_judging"))
    conflict_unit = BooleanField(_l("评委自动回避本单位的作品"))
    conflict_district = BooleanField(_l("评委自动回避本县（市）区的作品"))
    reveal_scores = SelectField(
        _label("reveal_scores"), choices=REVEAL_CHOICES, validate_choice=False
    )
    aggregation = RadioField(
        _label("aggregation"),
        choices=[
            SelectChoice(m, _l(METHOD_LABELS[m]))
            for m in METHOD_ORDER + sorted(set(METHODS) - set(METHOD_ORDER))
            if m in METHODS
        ],
        validate_choice=False,
    )
    trim_min_panel = _number("trim_min_panel")
    judges_per_entry = _number("judges_per_entry")
    jury_weight = _number("jury_weight")
    disagreement = _number("disagreement")
    rubric = Rows(FormField(CriterionRow), max_entries=MAX_CRITERIA + EXTRA_ROWS)
    award_tiers = Rows(FormField(TierRow), max_entries=MAX_TIERS + EXTRA_ROWS)
    publicity_starts_on = _text(_label("publicity_starts_on"), 10, type="date")
    publicity_ends_on = _text(_label("publicity_ends_on"), 10, type="date")
    objection_office = _setting_text("objection_office")
    objection_contact = _setting_text("objection_contact")
    objection_phone = _setting_text("objection_phone", inputmode="tel")
    objection_email = _setting_text("objection_email", type="email")
    # Work types: only read when the page showed them (`types_shown`), so a post of the
    # other settings alone leaves them as they are.
    types_shown = HiddenField()
    work_types = SelectMultipleField(
        _label("work_types"),
        choices=[SelectChoice(t.value, _l(t.label)) for t in WorkType],
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    results_by_type = BooleanField(_label("results_by_type"))
    # The work types whose rubric section the page showed, comma-separated.
    rubric_types = HiddenField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Problems without a field of their own: at the top of the form or of a section.
        self.general_errors: list[str] = []
        self.section_errors: dict[str, list[str]] = {}

    def blank_row(self, rows: str) -> Form:
        """An empty row for the page's script to copy (`__i__` where its number goes)."""
        return (TierRow if rows == "award_tiers" else CriterionRow)(prefix=f"{rows}-__i__-")

    def type_rubrics(self, types: list[str]) -> list[tuple[WorkType, Any, Any]]:
        """Each shown work type with its "own rubric" checkbox and its rows."""
        return [
            (WorkType(t), self[f"own_rubric_{t}"], self[f"rubric_{t}"])
            for t in types
            if t in TYPE_VALUES
        ]

    def row_limit_problems(self) -> list[Problem]:
        """More rows posted than the page could ever show: refused, not silently cut."""
        problems = []
        limit = Message("评分标准最多 %(limit)d 项", limit=MAX_CRITERIA)
        if self.rubric.too_many:
            problems.append(Problem(("rubric",), limit))
        for t in TYPE_VALUES:
            if self[f"rubric_{t}"].too_many:
                problems.append(Problem((f"rubric_{t}",), limit))
        if self.award_tiers.too_many:
            problems.append(
                Problem(("award_tiers",), Message("奖项最多 %(limit)d 个", limit=MAX_TIERS))
            )
        return problems

    def show_problems(self, problems: Iterable[Problem]) -> None:
        """Each problem beside its field; those of no field at the top."""
        self.general_errors, self.section_errors = [], {}
        for problem in problems:
            target = self._field_at(problem.path)
            message = translate(problem.message)
            if target is not None:
                target.errors = [*target.errors, message]
            elif str(problem.path[0] if problem.path else "") in ROW_LISTS:
                self.section_errors.setdefault(str(problem.path[0]), []).append(message)
            else:
                self.general_errors.append(message)

    def _field_at(self, path: Path) -> Any:
        if len(path) == 3 and path[0] in ROW_LISTS:
            rows = self[str(path[0])]
            index = int(path[1])
            if index < len(rows.entries):
                return getattr(rows.entries[index].form, str(path[2]), None)
            return None
        if len(path) == 1 and path[0] not in ROW_LISTS:
            return getattr(self, str(path[0]), None)
        return None


TYPE_VALUES = [t.value for t in WorkType]
ROW_LISTS = {"rubric", "award_tiers", *(f"rubric_{t}" for t in TYPE_VALUES)}
for _type in WorkType:
    # A rubric of the type's own: when not ticked, the type uses the shared rubric.
    setattr(
        SettingsForm,
        f"own_rubric_{_type.value}",
        BooleanField(_l("“%(type)s”使用自己的评分标准", type=_l(_type.label))),
    )
    setattr(
        SettingsForm,
        f"rubric_{_type.value}",
        Rows(FormField(CriterionRow), max_entries=MAX_CRITERIA + EXTRA_ROWS),
    )
