"""The contest settings object: its defaults are the model's, its bounds are what the checks
refuse, and the README table is made from it."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import JSON, Boolean, Float, Integer

from judging.contest_settings import NAMES, SPECS, ContestSettings, default, names, settings_table
from judging.contest_setup import KNOWN, ContestConfigError, check_config
from storage.models import Contest


def _server_default(column: Any) -> Any:
    """The column's server default as the Python value it stands for."""
    text = column.server_default.arg
    if isinstance(column.type, JSON):
        return json.loads(text)
    if isinstance(column.type, Boolean):
        return {"0": False, "1": True}[text]
    if isinstance(column.type, Integer):
        return int(text)
    if isinstance(column.type, Float):
        return float(text)
    return text


@pytest.mark.parametrize("name", NAMES)
def test_the_models_defaults_are_the_settings_defaults(name: str) -> None:
    column = Contest.__table__.c[name]
    if SPECS[name].required:
        assert column.default is None and not column.nullable
        return
    if column.default is None:
        assert default(name) is None and column.nullable
    else:
        value = column.default.arg(None) if column.default.is_callable else column.default.arg
        assert value == default(name)
        assert type(value) is type(default(name))
    if column.server_default is not None:
        assert _server_default(column) == default(name)


def test_every_setting_is_known_to_the_import_and_typed() -> None:
    assert set(NAMES) == KNOWN
    assert [f.name for f in fields(ContestSettings)] == list(NAMES)
    # A fresh object's lists are its own: changing one changes no other default.
    first = ContestSettings()
    first.auto_conflicts.append("x")
    assert ContestSettings().auto_conflicts == ["unit", "district"]
    assert default("work_types") == ["video"]


def test_a_file_of_every_default_is_accepted() -> None:
    # An empty rubric stored means the default one; a file must write its criteria out.
    data = {n: default(n) for n in NAMES if not SPECS[n].required and SPECS[n].kind != "rows"}
    clean = check_config({"slug": "defaults", "title": "默认", **data})
    for name in names("int") + names("number") + names("bool") + names("choice"):
        assert clean[name] == default(name)


@pytest.mark.parametrize("name", names("int") + names("number"))
def test_numbers_out_of_their_bounds_are_refused_and_the_bounds_accepted(name: str) -> None:
    spec = SPECS[name]
    assert spec.low is not None and spec.high is not None
    for bad in (spec.low - 1, spec.high + 1):
        with pytest.raises(ContestConfigError) as caught:
            check_config({"slug": "c", name: bad})
        assert [p.path for p in caught.value.problems] == [(name,)]
        assert f"{spec.high:g}" in str(caught.value.problems[0].message)
    for good in (spec.low, spec.high):
        assert check_config({"slug": "c", name: good})[name] == good


@pytest.mark.parametrize("name", [n for n in names("text") if SPECS[n].limit])
def test_texts_longer_than_their_column_are_refused(name: str) -> None:
    limit = SPECS[name].limit
    assert limit is not None
    value = "字" * limit
    if name == "objection_email":
        value = "a" * (limit - len("@x.cn")) + "@x.cn"
    if name != "objection_phone":  # no phone number is that long
        assert check_config({"slug": "c", name: value})[name] == value
    with pytest.raises(ContestConfigError) as caught:
        check_config({"slug": "c", name: value + "1"})
    assert f"不能超过 {limit} 个字" in [
        p.message for p in caught.value.problems if p.path == (name,)
    ]


@pytest.mark.parametrize("name", names("choice"))
def test_a_choice_outside_its_list_is_refused_naming_the_list(name: str) -> None:
    for bad in ("nonsense", ["trimmed_mean"], None):
        with pytest.raises(ContestConfigError) as caught:
            check_config({"slug": "c", name: bad})
        problem = caught.value.problems[0]
        assert problem.path == (name,)
        assert all(choice in problem.message for choice in SPECS[name].choices)


@pytest.mark.parametrize("name", names("bool"))
def test_a_switch_that_is_not_true_or_false_is_refused(name: str) -> None:
    with pytest.raises(ContestConfigError) as caught:
        check_config({"slug": "c", name: "yes"})
    assert [(p.path, str(p.message)) for p in caught.value.problems] == [
        ((name,), "应为 true 或 false")
    ]


def test_the_table_has_a_row_per_setting_with_its_default_and_label() -> None:
    rows = settings_table().splitlines()[2:]
    assert len(rows) == len(NAMES)
    for name, row in zip(NAMES, rows, strict=True):
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[0] == f"`{name}`"
        assert cells[4] == SPECS[name].label
    assert "| `trim_min_panel` | int | `5` | 3–20 |" in settings_table()
    assert "| `auto_conflicts` | names | `[unit, district]` |" in settings_table()


def test_the_readme_lists_every_contest_setting() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    start = "<!-- contest-settings: made by scripts/readme_settings.sh -->\n"
    block = readme.split(start, 1)[1].split("\n<!-- /contest-settings -->", 1)[0]
    assert block == settings_table(), "run scripts/readme_settings.sh"
