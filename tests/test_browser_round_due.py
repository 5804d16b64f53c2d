"""Setting a round's due date (评审截止时间) on the judging desk, walked in a real browser.

A date in the past is refused next to the field, in Chinese, with the typed date still in
it; a good one is shown on the desk and on the judge's own desk as 请于 … 前完成评分.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from judging.round_due import input_value
from judging.rounds import assign_round
from storage.models import Role, utcnow
from tests.browser import SIZES, fits_width, log_in, open_page, screenshot
from tests.factories import make_user, ready_round
from web.template_helpers import beijing

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


@pytest.mark.parametrize("size", ["phone", "laptop"])
def test_an_organizer_sets_the_due_date_and_the_judge_reads_it(
    live_server: str, browser: Any, session: Session, size: str
) -> None:
    _contest, rnd, entries, [judge] = ready_round(session, 2, 1, judges_per_entry=1)
    assign_round(session, rnd, entries)
    organizer = make_user(session, Role.ORGANIZER)
    page = open_page(browser, SIZES[size])
    log_in(page, live_server, organizer.username)
    page.goto(f"{live_server}/admin/judging/")
    field = page.locator("#due-form input[name=due_at]")

    past = "2020-01-01T09:00"
    field.fill(past)
    with page.expect_navigation():
        page.click("#due-form button")
    error = page.locator("#due-form [data-error-for=due_at]")
    assert error.inner_text() == "评审截止时间应晚于现在（北京时间）"
    assert page.locator("#due-form input[name=due_at]").input_value() == past
    assert page.locator("#due-form .has-error").count() == 1
    assert fits_width(page)
    screenshot(page, f"round-due-refused-{size}")

    due = (utcnow() + timedelta(days=5)).replace(second=0, microsecond=0)
    page.locator("#due-form input[name=due_at]").fill(input_value(due))
    with page.expect_navigation():
        page.click("#due-form button")
    assert f"评审截止时间已改为 {beijing(due)}（北京时间）" in page.locator(".flash").inner_text()
    assert page.locator("#round-due").inner_text() == f"评审截止 {beijing(due)}（北京时间）"
    assert page.locator("#due-form input[name=due_at]").input_value() == input_value(due)
    assert not page.locator("#due-form [data-error-for=due_at]").count()
    screenshot(page, f"round-due-saved-{size}")

    desk = open_page(browser, SIZES[size])
    log_in(desk, live_server, judge.username)
    desk.goto(f"{live_server}/judge/")
    assert desk.locator("#round-due").inner_text() == f"请于 {beijing(due)}（北京时间）前完成评分"
    assert fits_width(desk)
    screenshot(desk, f"round-due-judge-{size}")
    page.context.close()
    desk.context.close()
