"""The gallery and the public vote walked in chromium, at 1366x768 and 390x844.

A landscape and a portrait entry: each tile shows its poster at the video's own shape with
its length; search and sort keep what was asked. On a laptop the portrait player and its
controls fit the screen. An anonymous visitor taps 投票, logs in (on the phone: registers),
lands back on the entry with the vote offered, votes, and sees 已投票 after a reload and the
back button too; the old vote URL, opened as a bookmark, leads to the entry.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy.orm import Session

from storage.models import AssetKind, Entry
from storage.objects import ObjectStore
from storage.settings import Settings
from tests.browser import LAPTOP, PHONE, fits_width, open_page, screenshot, small_tap_targets
from tests.factories import PASSWORD, Made, make_user, store_media, unique
from tests.media import make_clip
from tests.test_gallery_voting import public_contest

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

# Each tile's poster: its drawn size against its own shape, and whether it stays in its frame.
TILE_SHAPES = """() => [...document.querySelectorAll('.grid .tile-frame img')].map(img => {
  const r = img.getBoundingClientRect(), f = img.parentElement.getBoundingClientRect();
  return {drawn: r.width / r.height, own: img.naturalWidth / img.naturalHeight,
          inside: r.left >= f.left - 1 && r.right <= f.right + 1
                  && r.top >= f.top - 1 && r.bottom <= f.bottom + 1};
})"""


def jpeg(width: int, height: int) -> bytes:
    data = io.BytesIO()
    Image.new("RGB", (width, height), (200, 16, 46)).save(data, "JPEG")
    return data.getvalue()


def give_media(
    session: Session,
    store: ObjectStore,
    settings: Settings,
    entry: Entry,
    size: tuple[int, int],
    video: bytes,
    seconds: float,
) -> None:
    width, height = size
    files = {
        "360p.mp4": Made(AssetKind.RENDITION, video, "video/mp4", width, height, seconds),
        "poster_medium.jpg": Made(AssetKind.POSTER, jpeg(width, height), "image/jpeg", *size),
    }
    store_media(session, store, settings, entry, files)


def tiles_keep_their_shapes(page: Any) -> None:
    page.wait_for_function(
        "() => [...document.querySelectorAll('.grid img')].every(i => i.complete && i.naturalWidth)"
    )
    shapes = page.evaluate(TILE_SHAPES)
    assert len(shapes) == 2
    for shape in shapes:
        assert abs(shape["drawn"] - shape["own"]) < 0.05 and shape["inside"], shape


def test_the_gallery_and_a_vote_through_logging_in(
    live_server: str,
    browser: Any,
    session: Session,
    object_store: ObjectStore,
    settings: Settings,
    tmp_path: Path,
) -> None:
    wide, tall = public_contest(session, 2)
    wide.title, tall.title = "横屏的青春", "竖屏的足迹"
    session.commit()
    clip = make_clip(tmp_path / "tall.mp4", 360, 640, 1.0, fps=10, audio=False).read_bytes()
    give_media(session, object_store, settings, wide, (640, 360), b"not played", 75.4)
    give_media(session, object_store, settings, tall, (360, 640), clip, 1.0)
    voter = make_user(session)

    # Laptop: tiles keep each video's shape and show its length; search and sort.
    page = open_page(browser, LAPTOP)
    page.goto(f"{live_server}/gallery/")
    tiles_keep_their_shapes(page)
    assert page.inner_text(f"#tile-{wide.id} .tile-length") == "1:15"
    assert page.inner_text(f"#tile-{tall.id} .tile-length") == "0:01"
    screenshot(page, "gallery-laptop")
    page.fill("input[name=q]", "竖屏")
    page.click(".gallery-filters button")
    # The searched page must have loaded (its script listens for the sort's change) before
    # the sort is changed; CI once changed it on the page still being replaced.
    page.wait_for_url("**q=**")
    page.wait_for_load_state("load")
    assert page.locator(".grid li").count() == 1 and page.is_visible(f"#tile-{tall.id}")
    page.select_option("select[name=sort]", "number")  # submits on change
    page.wait_for_url("**sort=number**")
    assert page.input_value("input[name=q]") == "竖屏"

    # The portrait player and its controls fit the screen, centred, without scrolling.
    page.click(f"#tile-{tall.id} a")
    page.wait_for_function("() => document.querySelector('.player video').readyState >= 1")
    box = page.eval_on_selector(
        ".player video",
        "v => { const r = v.getBoundingClientRect();"
        " return {top: r.top, bottom: r.bottom, left: r.left, right: r.right,"
        " width: r.width, height: r.height, page: document.documentElement.clientWidth}; }",
    )
    assert box["top"] >= 0 and box["bottom"] <= LAPTOP["height"], box
    assert box["height"] > box["width"] * 1.5 and box["height"] > 400, box
    assert abs(box["left"] - (box["page"] - box["right"])) < 20, box  # centred
    screenshot(page, "gallery-entry-laptop")

    # Anonymous 投票 → log in → back on the entry, the vote offered; vote; 已投票 stays.
    page.click("#vote a.button")
    page.wait_for_url("**/auth/login**")
    page.fill("input[name=password]", "wrong-password")
    page.fill("input[name=username]", voter.username)
    page.click("form.card button.button")
    assert "用户名或密码错误" in page.inner_text("main")
    page.fill("input[name=password]", PASSWORD)
    page.click("form.card button.button")
    page.wait_for_url(f"**/gallery/{tall.id}?vote=1#vote")
    assert page.is_visible("#vote.offered .vote-offer")
    screenshot(page, "gallery-vote-offered-laptop")
    page.click("#vote button.button")
    page.wait_for_selector("#vote button:disabled")
    assert "已投票" in page.inner_text("#vote") and page.inner_text("#votes") == "1"
    page.reload()
    assert page.is_disabled("#vote button") and page.inner_text("#votes") == "1"
    page.go_back()  # to the offer: it now shows the vote given
    page.wait_for_selector("#vote button:disabled")
    assert "登录成功，点击投票" not in page.inner_text("main")
    screenshot(page, "gallery-voted-laptop")
    # The old vote URL opened as a bookmark: the entry, not "Method Not Allowed".
    page.goto(f"{live_server}/gallery/{tall.id}/vote")
    page.wait_for_url(f"**/gallery/{tall.id}?vote=1#vote")
    assert page.is_disabled("#vote button")
    page.context.close()

    # Phone: the grid fits, the entry's vote is a thumb-sized button; register on the way.
    phone = open_page(browser, PHONE)
    phone.goto(f"{live_server}/gallery/")
    tiles_keep_their_shapes(phone)
    assert fits_width(phone)
    assert not small_tap_targets(phone, ".gallery-filters button, .gallery-filters select")
    screenshot(phone, "gallery-phone")
    phone.click(f"#tile-{wide.id} a")
    phone.wait_for_url(f"**/gallery/{wide.id}")
    assert not small_tap_targets(phone, "#vote .button, #vote a.tap") and fits_width(phone)
    screenshot(phone, "gallery-entry-phone")
    phone.click("#vote a.tap")  # 注册
    phone.wait_for_url("**/auth/register?next=**")
    phone.fill("input[name=username]", unique("phone_voter_"))
    phone.fill("input[name=display_name]", "手机投票人")
    phone.fill("input[name=password]", "a-long-enough-pass")
    phone.fill("input[name=confirm]", "a-long-enough-pass")
    phone.click("form.card button.button")
    phone.wait_for_url(f"**/gallery/{wide.id}?vote=1#vote")
    phone.click("#vote button.button")
    phone.wait_for_selector("#vote button:disabled")
    assert "明天 0:00（北京时间）可再投" in phone.inner_text("#vote")
    screenshot(phone, "gallery-voted-phone")
    phone.context.close()
