"""The judging settings in a real browser, walked as an organizer would on a laptop and a phone:
wrong values get Chinese errors beside their fields and nothing typed is lost; rows are added,
removed and moved; what is saved survives a reload and the back button."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from storage.models import Contest, Role
from tests.browser import (
    LAPTOP,
    PHONE,
    fits_width,
    log_in,
    open_page,
    screenshot,
    small_tap_targets,
)
from tests.factories import make_user, unique

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
TIERS = [
    {"name": "一等奖", "count": 1},
    {"name": "二等奖", "share": 0.1},
    {"name": "优秀奖", "count": 3},
]


def error_beside(page: Any, name: str) -> str:
    return str(page.locator(f'strong.error[data-error-for="{name}"]').inner_text())


def test_an_organizer_fixes_wrong_settings_without_retyping(
    live_server: str, browser: Any, session: Session
) -> None:
    contest = Contest(
        slug=unique("browser-settings-"),
        title="设置页面走查",
        closes_at=datetime.now(UTC) + timedelta(days=3),
        award_tiers=TIERS,
    )
    session.add(contest)
    organizer = make_user(session, Role.ORGANIZER)
    page = open_page(browser, LAPTOP)
    log_in(page, live_server, organizer.username)
    page.goto(f"{live_server}/admin/judging/settings")

    page.fill("[name=rubric-0-max_points]", "三十")
    tiers = page.locator('[data-rows="award_tiers"] > [data-row]')
    tiers.nth(1).locator("[data-row-action=remove]").click()
    assert tiers.count() == 4  # 一等奖, 优秀奖 and the two blank rows
    criteria = page.locator('[data-rows="rubric"] > [data-row]')
    assert criteria.count() == 6  # the four usual criteria and two blank rows
    page.click("[data-add-row=rubric]")
    assert criteria.count() == 7
    added = criteria.last
    added.locator("[name$='-key']").fill("spirit")
    added.locator("[name$='-name']").fill("精神风貌")
    added.locator("[name$='-max_points']").fill("10")
    added.locator("[data-row-action=up]").click()
    assert page.input_value("[name=rubric-5-key]") == "spirit"
    page.fill("[name=publicity_starts_on]", "2027-02-10")
    page.fill("[name=publicity_ends_on]", "2027-02-01")
    page.fill("[name=objection_office]", "团市委创建青年文明号活动组委会办公室")
    page.click("form.settings > button.button")
    page.wait_for_load_state()

    screenshot(page, "settings-errors-laptop")
    assert "设置未保存" in page.inner_text("main")
    assert error_beside(page, "rubric-0-max_points") == "请填写数字"
    assert error_beside(page, "publicity_ends_on") == "公示结束日期不能早于开始日期"
    # Everything typed is still there, the removed row still gone, the new row where moved.
    assert page.input_value("[name=rubric-0-max_points]") == "三十"
    assert page.input_value("[name=rubric-5-key]") == "spirit"
    assert page.input_value("[name=rubric-5-name]") == "精神风貌"
    assert page.input_value("[name=award_tiers-1-name]") == "优秀奖"
    assert page.input_value("[name=objection_office]") == "团市委创建青年文明号活动组委会办公室"
    session.refresh(contest)
    assert contest.rubric == [] and contest.award_tiers == TIERS

    page.fill("[name=rubric-0-max_points]", "30")
    page.fill("[name=publicity_ends_on]", "2027-02-17")
    page.click("form.settings > button.button")
    page.wait_for_load_state()
    assert "评审设置已保存" in page.inner_text("main")
    page.reload()
    assert page.input_value("[name=rubric-4-key]") == "spirit"  # the blank rows dropped
    assert page.input_value("[name=publicity_ends_on]") == "2027-02-17"
    session.refresh(contest)
    keys = [c["key"] for c in contest.rubric]
    assert keys == ["theme", "story", "production", "appeal", "spirit"]
    assert [t["name"] for t in contest.award_tiers] == ["一等奖", "优秀奖"]
    assert contest.publicity_ends_on == date(2027, 2, 17)

    # Back, where the page with the errors was: the settings as saved, fetched afresh,
    # not the old form offered for sending again.
    page.go_back()
    page.wait_for_load_state()
    screenshot(page, "settings-back-laptop")
    assert page.input_value("[name=rubric-0-max_points]") == "30"
    assert page.input_value("[name=publicity_ends_on]") == "2027-02-17"
    assert page.locator("strong.error:not([hidden])").count() == 0
    page.context.close()

    phone = open_page(browser, PHONE)
    log_in(phone, live_server, organizer.username)
    phone.goto(f"{live_server}/admin/judging/settings")
    phone.fill("[name=judges_per_entry]", "二十")
    phone.click("form.settings > button.button")
    phone.wait_for_load_state()
    assert error_beside(phone, "judges_per_entry") == "请填写整数"
    screenshot(phone, "settings-phone")
    assert fits_width(phone)
    targets = ".row-actions .button, [data-add-row], .method, .field.checkbox"
    assert small_tap_targets(phone, targets) == []
    phone.context.close()
