"""The entry form and entry page walked in chromium as a contestant on a phone (390x844).

Two wrong fields: the page scrolls to the first and focuses it, the summary is at the top of
the form. Fixed and submitted with a video: the old messages are gone while the upload runs.
The edit form (a plain post) also lands on its first error. A blind contest shows its note; an
entry with quality warnings shows them with the suggestion and a link to the replace form.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from storage.objects import ObjectStore
from storage.settings import Settings
from tests.browser import LAPTOP, PHONE, fits_width, log_in, open_page, screenshot
from tests.factories import make_user, open_contest
from tests.media import make_clip
from tests.test_contestant_words import BLACK, entry_with_warnings

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

IN_VIEW = """el => { const r = el.getBoundingClientRect();
                     return r.top >= 0 && r.bottom <= window.innerHeight; }"""
SHOWN_ERRORS = "[data-error-for]:not([hidden]), .has-error, .form-summary:not([hidden])"


def in_view(page: Any, selector: str) -> bool:
    return bool(page.locator(selector).first.evaluate(IN_VIEW))


def focused(page: Any) -> str:
    return str(page.evaluate("document.activeElement && document.activeElement.name"))


def fill_entry(page: Any, phone: str, email: str) -> None:
    page.fill("input[name=title]", "守护生命的青春")
    page.fill("input[name=collective]", "市第一医院急诊科青年文明号")
    page.select_option("select[name=category]", "collective")
    page.select_option("select[name=district]", "市直单位")
    page.select_option("select[name=industry]", "医疗卫生")
    page.fill("input[name=contact_name]", "张三")
    page.fill("input[name=contact_phone]", phone)
    page.fill("input[name=email]", email)
    page.fill("textarea[name=summary]", "急诊科青年的十年。")
    page.check("input[name=authorized]")


def refuse_then_submit(page: Any, clip: Path) -> str:
    """Two wrong fields, then fixed with a video; the upload is held until the form is read.
    Returns the new entry's URL."""
    fill_entry(page, "123", "not-an-address")
    page.click("#submit-button")
    page.wait_for_selector(".field.has-error >> nth=1")
    assert page.locator(".field.has-error").count() == 2
    assert focused(page) == "contact_phone" and in_view(page, "input[name=contact_phone]")
    summary = page.locator("#entry-form .form-summary")
    assert summary.is_visible() and "请修改标红的项目后再提交" in summary.inner_text()
    title_top = page.locator("input[name=title]").bounding_box()["y"]
    assert summary.bounding_box()["y"] < title_top  # the summary heads the form
    screenshot(page, f"form-errors-{page.viewport_size['width']}")

    held: list[Any] = []

    def hold(route: Any) -> None:
        # The first chunk is answered "unavailable": upload.js waits and retries it.
        if route.request.method == "PATCH" and not held:
            held.append(route.request.url)
            route.fulfill(status=503, body="")
        else:
            route.continue_()

    page.route("**/api/v1/uploads/**", hold)
    page.fill("input[name=contact_phone]", "13800138000")
    page.fill("input[name=email]", "youth@example.org")
    page.set_input_files("input[name=video]", str(clip))
    page.click("#submit-button")
    page.wait_for_function("() => document.querySelector('#entry-form .upload:not([hidden])')")
    page.wait_for_function("() => document.querySelector('#entry-form .upload span').textContent")
    assert page.locator(SHOWN_ERRORS).count() == 0, page.inner_html("#entry-form")
    page.wait_for_url(re.compile(r"/submit/\d+$"), timeout=30_000)
    assert held, "the upload ran"
    entry_url = str(page.url)
    # Back to the form (the browser may restore the page as it was left): nothing stale.
    page.go_back()
    page.wait_for_load_state()
    assert page.locator(SHOWN_ERRORS).count() == 0
    return entry_url


def test_form_errors_are_in_view_and_cleared_before_the_upload(
    live_server: str, browser: Any, session: Session, tmp_path: Path
) -> None:
    contest = open_contest(session)
    assert contest.blind
    user = make_user(session)
    clip = make_clip(tmp_path / "clip.mp4", 160, 90, 1.0, fps=10)
    for size in (PHONE, LAPTOP):
        page = open_page(browser, size)
        log_in(page, live_server, user.username)
        page.goto(f"{live_server}/submit/new")
        note = page.locator("#blind-note")
        assert note.is_visible() and "匿名评审" in note.inner_text()
        assert fits_width(page)
        entry_url = refuse_then_submit(page, clip)
        page.context.close()

    # The edit form posts without a script: the answer opens at its first error.
    page = open_page(browser, PHONE)
    log_in(page, live_server, user.username)
    page.goto(f"{entry_url}/edit")
    page.fill("input[name=contact_phone]", "1")
    page.fill("input[name=email]", "x")
    page.click("form.card button.button")
    page.wait_for_load_state()
    assert page.locator(".field.has-error").count() == 2
    assert focused(page) == "contact_phone" and in_view(page, "input[name=contact_phone]")
    assert page.locator(".flash.error").first.is_visible()
    screenshot(page, "edit-form-errors-390")
    page.context.close()


def test_quality_warnings_point_to_the_replace_form(
    live_server: str,
    browser: Any,
    session: Session,
    object_store: ObjectStore,
    settings: Settings,
    tmp_path: Path,
) -> None:
    entry = entry_with_warnings(session, object_store, settings, tmp_path, open_contest(session))
    for size in (PHONE, LAPTOP):
        page = open_page(browser, size)
        log_in(page, live_server, entry.owner.username)
        page.goto(f"{live_server}/submit/{entry.id}")
        box = page.locator("#quality")
        assert box.is_visible() and BLACK["message"] in box.inner_text()
        assert "建议在截止时间（" in box.inner_text() and fits_width(page)
        screenshot(page, f"entry-quality-{size['width']}")
        box.locator("a[href='#video-form']").click()
        page.wait_for_function(f"() => ({IN_VIEW})(document.getElementById('video-form'))")
        page.context.close()
