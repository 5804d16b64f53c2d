"""The judging settings page: rows for the rubric and the award tiers, Chinese problems beside
their fields, everything typed kept, nothing saved unless everything is right."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html import unescape
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from judging.contest_form import form_data, form_to_config
from judging.rounds import open_round
from storage.models import Contest, Role, Score
from tests.factories import make_entry, make_user, unique

URL = "/admin/judging/settings"


def new_contest(session: Session, **fields: Any) -> Contest:
    """The newest contest, which the settings page works on."""
    contest = Contest(
        slug=unique("settings-"),
        title="设置测试",
        closes_at=datetime.now(UTC) + timedelta(days=3),
        **fields,
    )
    session.add(contest)
    session.commit()
    return contest


def rows(name: str, items: list[dict[str, str]]) -> dict[str, str]:
    return {f"{name}-{i}-{k}": v for i, item in enumerate(items) for k, v in item.items()}


CRITERIA = [
    {"key": "theme", "name": "主题", "max_points": "50", "step": "1", "weight": "2", "tie": "2"},
    {"key": "craft", "name": "制作", "max_points": "50", "step": "", "weight": "", "tie": "1"},
    {"key": "", "name": "", "max_points": "", "step": "", "weight": "", "tie": ""},  # blank
]
TIERS = [
    {"name": "一等奖", "kind": "count", "amount": "2", "category": ""},
    {"name": "二等奖", "kind": "share", "amount": "10", "category": ""},
    {"name": "优秀奖", "kind": "count", "amount": "3", "category": "aspiring"},
    {"name": "", "kind": "count", "amount": "", "category": ""},  # blank
]


def valid_form(**changes: str) -> dict[str, str]:
    form = {
        "blind": "1",
        "conflict_unit": "1",
        "reveal_scores": "after_close",
        "aggregation": "median",
        "trim_min_panel": "5",
        "judges_per_entry": "2",
        "jury_weight": "0.8",
        "disagreement": "15",
        **rows("rubric", CRITERIA),
        **rows("award_tiers", TIERS),
        "publicity_starts_on": "2027-02-01",
        "publicity_ends_on": "2027-02-07",
        "objection_office": "团市委创建青年文明号活动组委会办公室",
        "objection_contact": "李老师",
        "objection_phone": "0531-86000000",
        "objection_email": "wmh@example.org",
    }
    return {**form, **changes}


def errors_of(page: str) -> dict[str, str]:
    """The error shown beside each field, by the field's name."""
    found = re.findall(r'<strong class="error" data-error-for="([^"]+)">([^<]+)</strong>', page)
    return {name: unescape(text) for name, text in found}


def value_of(page: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}"[^>]*value="([^"]*)"', page) or re.search(
        rf'value="([^"]*)"[^>]*name="{re.escape(name)}"', page
    )
    return unescape(match.group(1)) if match else ""


@pytest.fixture()
def organizer(client: FlaskClient, auth: Any, session: Session) -> Any:
    user = make_user(session, Role.ORGANIZER)
    auth.login(user.username)
    return user


def test_the_page_shows_rows_methods_in_chinese_and_saves_everything(
    client: FlaskClient, session: Session, organizer: Any
) -> None:
    contest = new_contest(session)
    page = client.get(URL).get_data(as_text=True)
    # The default rubric as rows, two blank rows under it, and the methods by their names.
    assert (
        value_of(page, "rubric-0-key") == "theme" and value_of(page, "rubric-0-name") == "主题立意"
    )
    assert 'name="rubric-5-key"' in page and 'name="rubric-6-key"' not in page
    assert "去掉最高分和最低分后的平均分" in page and "去掉一个最高分和一个最低分后取平均" in page
    assert re.search(
        r'<input checked [^>]*name="aggregation" type="radio" value="trimmed_mean"', page
    )
    saved = client.post(URL, data=valid_form(), follow_redirects=True)
    assert "评审设置已保存" in saved.get_data(as_text=True)
    session.refresh(contest)
    assert contest.aggregation == "median" and contest.judges_per_entry == 2
    assert contest.reveal_scores == "after_close" and contest.auto_conflicts == ["unit"]
    assert contest.blind is True and contest.gallery_after_judging is False
    assert contest.rubric == [
        {"key": "theme", "name": "主题", "max_points": 50.0, "step": 1.0, "weight": 2.0,
         "description": ""},
        {"key": "craft", "name": "制作", "max_points": 50.0, "step": 0.5, "weight": 1.0,
         "description": ""},
    ]  # fmt: skip
    assert contest.tie_break == ["craft", "theme"]  # by the order numbers, not the rows
    # Tiers in the order written: that is the order they are awarded in.
    assert contest.award_tiers == [
        {"name": "一等奖", "count": 2},
        {"name": "二等奖", "share": 0.1},
        {"name": "优秀奖", "count": 3, "category": "aspiring"},
    ]
    assert (contest.publicity_starts_on, contest.publicity_ends_on) == (
        date(2027, 2, 1),
        date(2027, 2, 7),
    )
    assert contest.objection_phone == "0531-86000000"
    assert contest.objection_office == "团市委创建青年文明号活动组委会办公室"
    again = client.get(URL).get_data(as_text=True)
    assert value_of(again, "award_tiers-1-amount") == "10"
    assert value_of(again, "rubric-1-tie") == "1" and value_of(again, "rubric-0-tie") == "2"
    assert value_of(again, "publicity_ends_on") == "2027-02-07"


def test_every_problem_is_chinese_beside_its_field_and_everything_typed_stays(
    client: FlaskClient, session: Session, organizer: Any
) -> None:
    contest = new_contest(session, award_tiers=[{"name": "特等奖", "count": 1}])
    before = form_data(contest)
    bad = valid_form(
        **{
            "rubric-0-max_points": "三十",
            "rubric-1-key": "theme",  # the first row's key again
            "rubric-1-max_points": "25",
            "rubric-1-step": "2",  # 25 is not a multiple of 2
            "award_tiers-0-amount": "-1",
            "award_tiers-1-amount": "150",
            "judges_per_entry": "二十五",
            "jury_weight": "nan",
            "publicity_ends_on": "2027-01-20",
            "objection_email": "not-an-address",
            "objection_contact": "<b>李</b>",
        }
    )
    page = client.post(URL, data=bad).get_data(as_text=True)
    errors = errors_of(page)
    assert errors["rubric-0-max_points"] == "请填写数字"
    assert errors["rubric-1-key"] == "代码“theme”重复了"
    assert "步长 2 的整数倍" in errors["rubric-1-step"]
    assert errors["award_tiers-0-amount"] == "须在 1 到 100000 之间"
    assert errors["award_tiers-1-amount"] == "须大于 0 且不超过 100"
    assert errors["judges_per_entry"] == "请填写整数"
    assert errors["jury_weight"] == "请填写数字"
    assert errors["publicity_ends_on"] == "公示结束日期不能早于开始日期"
    assert errors["objection_email"] == "电子邮箱格式不正确"
    assert "不能包含" in errors["objection_contact"]
    assert "设置未保存" in page and "a number field" not in page
    # What was typed is still there, the blank rows too.
    assert value_of(page, "rubric-0-max_points") == "三十"
    assert value_of(page, "rubric-1-step") == "2"
    assert value_of(page, "judges_per_entry") == "二十五"
    assert value_of(page, "objection_office") == "团市委创建青年文明号活动组委会办公室"
    assert value_of(page, "award_tiers-2-name") == "优秀奖" and 'name="rubric-2-key"' in page
    # Nothing was saved.
    session.refresh(contest)
    assert form_data(contest) == before


def test_english_pages_translate_the_problems(
    client: FlaskClient, session: Session, organizer: Any
) -> None:
    new_contest(session)
    client.set_cookie("lang", "en")
    page = client.post(URL, data=valid_form(**{"rubric-0-max_points": "三十"}))
    text = page.get_data(as_text=True)
    assert errors_of(text)["rubric-0-max_points"] == "Enter a number"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("rubric-0-max_points", "1e400", "请填写数字"),
        ("rubric-0-max_points", "inf", "请填写数字"),
        ("rubric-0-max_points", "9" * 30, "请填写数字"),
        ("rubric-0-max_points", "-5", "须大于 0 且不超过 1000"),
        ("rubric-0-max_points", "¹", "请填写数字"),
        ("rubric-0-weight", "0", "须大于 0 且不超过 100"),
        ("rubric-0-key", "主题", "代码只能用英文字母、数字和下划线，以字母开头，最长 30 个字符"),
        ("rubric-0-key", "comment", "“comment”是评分页已有的字段名，请换一个代码"),
        ("rubric-0-name", "<script>alert(1)</script>", "不能包含 < > 或换行等控制字符"),
        ("rubric-1-tie", "2", "顺序 2 重复了"),
        ("award_tiers-0-name", "", "请填写此项"),
        ("trim_min_panel", "2", "须在 3 到 20 之间"),
        ("disagreement", "-1", "须在 0 到 1000 之间"),
        ("publicity_starts_on", "2027-02-30", "请填写日期，如 2026-12-01"),
        ("objection_phone", "12", "电话格式不正确，请填写手机号或带区号的座机号"),
    ],
)
def test_hostile_values_are_refused_with_a_reason(
    client: FlaskClient, session: Session, organizer: Any, field: str, value: str, message: str
) -> None:
    contest = new_contest(session)
    form = valid_form(**{field: value})
    if field == "award_tiers-0-name":
        form["award_tiers-0-amount"] = "2"
    page = client.post(URL, data=form).get_data(as_text=True)
    assert errors_of(page)[field] == message
    assert value_of(page, field) == value or field.endswith("-name")
    session.refresh(contest)
    assert contest.rubric == [] and contest.aggregation == "trimmed_mean"


def test_ten_thousand_rows_and_forged_row_numbers_are_refused(
    client: FlaskClient, session: Session, organizer: Any
) -> None:
    contest = new_contest(session)
    many = {
        f"rubric-{i}-{name}": value
        for i in range(10_000)
        for name, value in (("key", f"k{i}"), ("name", "项"), ("max_points", "10"))
    }
    page = client.post(URL, data=valid_form(**many))
    assert page.status_code == 200 and "评分标准最多 20 项" in page.get_data(as_text=True)
    forged = client.post(URL, data=valid_form(**{"rubric-¹-key": "x", "award_tiers-٣-name": "x"}))
    assert forged.status_code == 302  # the forged rows are not rows; the rest is saved
    session.refresh(contest)
    assert [c["key"] for c in contest.rubric] == ["theme", "craft"]


def test_an_emptied_row_is_removed_and_a_missing_rubric_is_refused(
    client: FlaskClient, session: Session, organizer: Any
) -> None:
    contest = new_contest(session)
    emptied = {f"rubric-0-{k}": "" for k in CRITERIA[0]}
    assert client.post(URL, data=valid_form(**emptied, **{"rubric-1-tie": ""})).status_code == 302
    session.refresh(contest)
    assert [c["key"] for c in contest.rubric] == ["craft"]
    none = {f"rubric-1-{k}": "" for k in CRITERIA[1]}
    page = client.post(URL, data=valid_form(**emptied, **none)).get_data(as_text=True)
    assert "至少需要一项评分标准" in page
    session.refresh(contest)
    assert [c["key"] for c in contest.rubric] == ["craft"]


def test_once_judges_scored_the_rubric_keeps_its_scale(
    client: FlaskClient, session: Session, organizer: Any
) -> None:
    contest = new_contest(session)
    assert client.post(URL, data=valid_form()).status_code == 302
    entry = make_entry(session, make_user(session), contest)
    judge = make_user(session, Role.JUDGE)
    rnd = open_round(session, contest, "初评")
    session.add(Score(round_id=rnd.id, judge_id=judge.id, entry_id=entry.id, values={"theme": 40}))
    session.commit()
    assert "评委已打分（1 份）：评分项的代码、满分" in client.get(URL).get_data(as_text=True)
    page = client.post(URL, data=valid_form(**{"rubric-0-max_points": "60"}))
    text = page.get_data(as_text=True)
    assert "评委已打分（1 份），评分项的代码、满分、步长和权重不能再改" in text
    session.refresh(contest)
    assert contest.rubric[0]["max_points"] == 50
    # The wording may still change, and the order.
    renamed = valid_form(**{"rubric-0-name": "主题立意", "rubric-0-description": "紧扣主题"})
    assert client.post(URL, data=renamed).status_code == 302
    session.refresh(contest)
    assert contest.rubric[0]["name"] == "主题立意"


def test_only_organizers_reach_the_settings(
    client: FlaskClient, auth: Any, session: Session
) -> None:
    contest = new_contest(session)
    for role in (Role.CONTESTANT, Role.JUDGE, Role.OPERATOR):
        auth.login(make_user(session, role).username)
        assert client.get(URL).status_code == 403
        assert client.post(URL, data=valid_form()).status_code == 403
        auth.logout()
    assert client.post(URL, data=valid_form()).status_code == 302  # to the login page
    session.refresh(contest)
    assert contest.aggregation == "trimmed_mean" and contest.rubric == []


def test_the_form_rows_map_problems_back_to_the_rows_shown() -> None:
    form = form_to_config("x", {"rubric": [{}, {"key": "a", "tie": "x"}], "award_tiers": []})
    assert form.criterion_rows == [1]
    assert [p.path for p in form.problems.found] == [("rubric", 1, "tie")]
    assert form.page_path(("rubric", 0, "max_points")) == ("rubric", 1, "max_points")
