"""Walking the site in Debian's chromium (Playwright): pages at a phone's and a laptop's size.

The fixtures `live_server` and `browser` are in conftest.py; these helpers keep each walk
short: open a page at a size, log in, keep a screenshot in test-artifacts/ to look at.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import ROOT

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}
SIZES = {"phone": PHONE, "laptop": LAPTOP}


def open_page(browser: Any, size: dict[str, int] = LAPTOP) -> Any:
    """A page of its own (own cookies) at a viewport size, failing fast on a missing element."""
    context = browser.new_context(viewport=size, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def log_in(page: Any, base: str, username: str, password: str = "password123") -> None:
    """Log in through the form, as a person would."""
    page.goto(f"{base}/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form.card button.button")
    page.wait_for_load_state()


def screenshot(page: Any, name: str) -> None:
    """Keep the whole page as test-artifacts/<name>.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def fits_width(page: Any) -> bool:
    """Whether the page scrolls sideways (a phone layout must not)."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def small_tap_targets(page: Any, selector: str, minimum: int = 44) -> list[str]:
    """Visible elements matching `selector` smaller than `minimum` px either way."""
    return list(
        page.evaluate(
            """([selector, minimum]) => [...document.querySelectorAll(selector)]
                .filter(el => el.offsetParent !== null)
                .map(el => [el, el.getBoundingClientRect()])
                .filter(([el, r]) => r.width < minimum || r.height < minimum)
                .map(([el, r]) => `${el.outerHTML.slice(0, 80)} ${r.width}x${r.height}`)""",
            [selector, minimum],
        )
    )
