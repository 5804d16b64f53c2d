"""The settings page's work types in a real browser, on a laptop and a phone: the accepted
types, results by type and a rubric of a type's own; a wrong value and a type entries have
refused in Chinese beside their fields with nothing typed lost; a reload and the back button
show what is saved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from judging.results import publish_snapshot
from judging.rounds import close_round
from judging.scoring import save_score
from storage.models import Contest, Role, WorkType
from tests.browser import (
    LAPTOP,
    PHONE,
    fits_width,
    log_in,
    open_page,
    screenshot,
    small_tap_targets,
)
from tests.factories import make_entry, make_user, unique
from tests.test_judging_by_type import judged_round, sheet_for

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
SETTINGS = "/admin/judging/settings"


def error_beside(page: Any, name: str) -> str:
    """Every error shown beside the field, one a line."""
    return "\n".join(page.locator(f'strong.error[data-error-for="{name}"]').all_inner_texts())


def box(page: Any, work_type: str) -> Any:
    return page.locator(f'input[name=work_types][value="{work_type}"]')


def test_an_organizer_sets_types_and_a_photo_rubric_without_retyping(
    live_server: str, browser: Any, session: Session
) -> None:
    contest = Contest(
        slug=unique("browser-types-"),
        title="作品类型设置走查",
        closes_at=datetime.now(UTC) + timedelta(days=3),
        work_types=["video", "photo"],
    )
    session.add(contest)
    session.commit()
    make_entry(session, make_user(session), contest).work_type = WorkType.PHOTO
    session.commit()
    organizer = make_user(session, Role.ORGANIZER)
    page = open_page(browser, LAPTOP)
    log_in(page, live_server, organizer.username)
    page.goto(f"{live_server}{SETTINGS}")

    photo = page.locator('[data-type-rubric="photo"]')
    own = photo.locator("input[name=own_rubric_photo]")
    rows = photo.locator("[data-own-rows]")
    assert not own.is_checked() and rows.is_hidden()  # photos use the shared rubric
    own.check()
    assert rows.is_visible()
    assert page.input_value("[name=rubric_photo-0-key]") == "theme"  # the shared one's copy
    page.fill("[name=rubric_photo-0-key]", "idea")
    page.fill("[name=rubric_photo-0-name]", "立意")
    page.fill("[name=rubric_photo-0-max_points]", "五十")
    photo.locator("[data-row-action=remove]").nth(1).click()  # story (故事与创意) out
    box(page, "photo").uncheck()  # photos exist: refused
    box(page, "story").check()
    page.check("[name=results_by_type]")
    page.fill("[name=objection_contact]", "王老师")
    page.click("form.settings > button.button")
    page.wait_for_load_state()

    screenshot(page, "types-settings-errors-laptop")
    assert "设置未保存" in page.inner_text("main")
    assert error_beside(page, "rubric_photo-0-max_points") == "请填写数字"
    assert error_beside(page, "work_types") == "已有 1 件“摄影”作品，不能取消这一作品类型"
    # Everything typed is still there.
    assert page.input_value("[name=rubric_photo-0-max_points]") == "五十"
    assert page.input_value("[name=rubric_photo-0-key]") == "idea"
    assert page.input_value("[name=rubric_photo-1-key]") == "production"
    assert page.locator("[name=own_rubric_photo]").is_checked() and rows.is_visible()
    assert box(page, "story").is_checked() and not box(page, "photo").is_checked()
    assert page.is_checked("[name=results_by_type]")
    assert page.input_value("[name=objection_contact]") == "王老师"
    session.refresh(contest)
    assert contest.rubrics_by_type == {} and contest.results_by_type is False

    page.fill("[name=rubric_photo-0-max_points]", "50")
    box(page, "photo").check()
    page.click("form.settings > button.button")
    page.wait_for_load_state()
    assert "评审设置已保存" in page.inner_text("main")
    session.refresh(contest)
    # The order kept: the types as they were, the new one after them.
    assert contest.work_types == ["video", "photo", "story"] and contest.results_by_type
    keys = [c["key"] for c in contest.rubrics_by_type["photo"]]
    assert keys == ["idea", "production", "appeal"]
    assert contest.rubrics_by_type["photo"][0]["max_points"] == 50
    page.reload()
    assert page.locator("[name=own_rubric_photo]").is_checked()
    assert page.input_value("[name=rubric_photo-0-name]") == "立意"
    # The new type's section, with the shared rubric.
    story = page.locator('[data-type-rubric="story"]')
    assert not story.locator("input[name=own_rubric_story]").is_checked()
    assert story.locator("[data-own-rows]").is_hidden()
    screenshot(page, "types-settings-saved-laptop")

    page.go_back()  # to the page with the errors: the settings as saved, fetched afresh
    page.wait_for_load_state()
    assert page.locator("strong.error:not([hidden])").count() == 0
    assert box(page, "story").is_checked() and box(page, "photo").is_checked()
    assert page.input_value("[name=rubric_photo-0-max_points]") == "50"
    page.context.close()

    phone = open_page(browser, PHONE)
    log_in(phone, live_server, organizer.username)
    phone.goto(f"{live_server}{SETTINGS}")
    for work_type in ("video", "photo", "story"):
        box(phone, work_type).uncheck()
    phone.fill("[name=rubric_photo-1-max_points]", "-3")
    phone.click("form.settings > button.button")
    phone.wait_for_load_state()
    assert "请至少选择一种作品类型" in error_beside(phone, "work_types")
    assert error_beside(phone, "rubric_photo-1-max_points") != ""
    assert phone.input_value("[name=rubric_photo-1-max_points]") == "-3"
    screenshot(phone, "types-settings-phone")
    assert fits_width(phone)
    targets = "#work-types .field.checkbox, #type-rubrics .field.checkbox, [data-add-row]"
    assert small_tap_targets(phone, targets) == []
    phone.context.close()


def test_results_and_the_announcement_by_type_fit_a_phone_and_a_laptop(
    live_server: str, browser: Any, session: Session
) -> None:
    small = [{"key": "idea", "name": "立意", "max_points": 50.0, "step": 1.0, "weight": 1.0}]
    judged = judged_round(
        session,
        ["video", "photo", "photo"],
        photo=small,
        award_tiers=[{"name": "一等奖", "count": 1}],
    )
    contest, rnd, entries, judges = judged
    for entry, total in zip(entries, (80, 40, 30), strict=True):
        for judge in judges:
            save_score(session, rnd, judge, entry, sheet_for(contest, entry, total), "", True)
    organizer = make_user(session, Role.ORGANIZER)
    for size, name in ((LAPTOP, "laptop"), (PHONE, "phone")):
        page = open_page(browser, size)
        log_in(page, live_server, organizer.username)
        page.goto(f"{live_server}/admin/judging/")
        assert "总分不在同一尺度上" in page.inner_text("#scale-warning")
        screenshot(page, f"types-results-mixed-{name}")
        page.context.close()
    contest.results_by_type = True
    session.commit()
    close_round(session, rnd)
    snapshot = publish_snapshot(session, rnd)
    for size, name in ((LAPTOP, "laptop"), (PHONE, "phone")):
        page = open_page(browser, size)
        log_in(page, live_server, organizer.username)
        page.goto(f"{live_server}/admin/judging/")
        assert page.locator("#scale-warning").count() == 0
        cells = page.locator("#results td[data-work-type]").all_inner_texts()
        assert cells == ["微视频", "摄影", "摄影"]
        awards = page.locator("#results tbody tr").all_inner_texts()
        assert sum("一等奖" in row for row in awards) == 2  # one per type
        screenshot(page, f"types-results-{name}")
        assert fits_width(page)
        page.goto(f"{live_server}/announcements/{snapshot.id}")
        headings = page.locator("h2.announced-type").all_inner_texts()
        assert headings == ["微视频", "摄影"]
        screenshot(page, f"types-announcement-{name}")
        assert fits_width(page)
        page.context.close()
