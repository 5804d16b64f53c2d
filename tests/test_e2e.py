"""End to end in a real browser: register, submit, upload with a dropped connection, watch it play.

Debian's chromium, driven by Playwright, against the app on a real HTTP server, with the real
worker, S3 server, RabbitMQ and PostgreSQL. The last screenshot is kept in test-artifacts/.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser import ARTIFACTS
from tests.factories import ENTRY_FIELDS, open_contest, unique
from tests.media import make_clip

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def test_register_submit_upload_with_a_dropped_link_and_watch_it_play(
    live_server: str, browser: Any, worker: Any, session: Any, tmp_path: Path
) -> None:
    open_contest(session)
    clip = make_clip(tmp_path / "我们的故事.mp4", 720, 1280, 3, fps=25)
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.set_default_timeout(30_000)

    page.goto(f"{live_server}/auth/register")
    page.fill("input[name=username]", unique("browser"))
    page.fill("input[name=display_name]", "王五")
    page.fill("input[name=password]", "a-good-password")
    page.fill("input[name=confirm]", "a-good-password")
    page.click("button.button")
    page.wait_for_url("**/submit/")

    page.goto(f"{live_server}/submit/new")
    for name in ("title", "collective", "contact_name", "contact_phone", "email", "summary"):
        page.fill(f"[name={name}]", ENTRY_FIELDS[name])
    for name in ("category", "district", "industry"):
        page.select_option(f"select[name={name}]", ENTRY_FIELDS[name])
    page.check("input[name=authorized]")
    page.set_input_files("input[name=video]", str(clip))

    # The mobile link drops once: the first chunk never arrives.
    dropped: list[str] = []

    def cut_once(route: Any) -> None:
        if route.request.method == "PATCH" and not dropped:
            dropped.append(route.request.url)
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/v1/uploads/*", cut_once)
    page.click("#submit-button")
    page.wait_for_url(re.compile(r"/submit/\d+$"), timeout=60_000)
    assert dropped, "the connection was never cut"

    page.wait_for_selector("#player video", state="attached", timeout=120_000)
    page.wait_for_function(
        "document.querySelector('#player video').readyState >= 1", timeout=30_000
    )
    assert "已就绪" in page.inner_text("#status-label")
    # Scrubbing: the slider under the video previews the storyboard tile of that moment.
    page.wait_for_selector(".scrub input", state="attached", timeout=30_000)
    page.eval_on_selector(
        ".scrub input",
        "el => { el.value = 2.5; el.dispatchEvent(new Event('input', {bubbles: true})); }",
    )
    preview = page.locator(".scrub-preview")
    assert preview.is_visible()
    assert page.locator(".scrub input").count() == 1  # one slider, however often the page changes
    assert "storyboard.jpg" in (preview.get_attribute("style") or "")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "e2e-entry-ready.png"), full_page=True)
