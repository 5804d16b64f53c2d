"""Photo, comic and story works walked in chromium at 1366x768 and 390x844.

The photo set's lightbox opens from the grid, turns with ←/→ (and a swipe on a phone),
closes with Esc or its ≥44 px button and gives the focus back; the comic reader shows one
page at a time, turns with its buttons and keys, keeps its page over a reload and zooms to
the 2048 px image; without JavaScript the photos are links to their large files and the
comic's pages are stacked. A judge reads a blind story and downloads its text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from judging.codes import codes_of
from judging.rounds import assign_round
from storage.models import Entry, Role, WorkType
from storage.objects import ObjectStore
from storage.settings import Settings
from tests.browser import (
    LAPTOP,
    PHONE,
    fits_width,
    log_in,
    open_page,
    screenshot,
    small_tap_targets,
)
from tests.factories import make_user, ready_round
from tests.test_gallery_voting import public_contest
from tests.work_media import Piece, store_work

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

STORY = (
    "凌晨四点，车站的灯还亮着。我们班组的青年们已经换好工装，开始了一天的检修。\n\n"
    "十年前，这里只有三个人；如今，青年文明号集体有了二十七名队员。<b>不是标签</b>\n"
    "每一次列车准点发车，都是我们的青春足迹。\n\n"
    "这就是我们的故事。"
)
SWIPE = """([x0, x1]) => {
  const el = document.querySelector('.lightbox');
  const touch = x => new Touch({identifier: 1, target: el, clientX: x, clientY: 300});
  const send = (type, x, touches) => el.dispatchEvent(new TouchEvent(type,
    {touches: touches, changedTouches: [touch(x)], bubbles: true}));
  send('touchstart', x0, [touch(x0)]);
  send('touchend', x1, []);
}"""


def works(session: Session, store: ObjectStore, settings: Settings) -> tuple[Entry, Entry]:
    """A published gallery with a 3-photo set and a 3-page comic (all sizes)."""
    photo, comic = public_contest(session, 2, vote=False)
    photo.contest.work_types = ["video", "photo", "comic", "story"]
    photo.title, comic.title = "站台上的青春", "检修日记"
    session.commit()
    captions = ["清晨的站台", "夜班检修", "全体合影"]
    store_work(session, store, settings, photo, WorkType.PHOTO, [Piece(c) for c in captions])
    store_work(
        session,
        store,
        settings,
        comic,
        WorkType.COMIC,
        [Piece("第一话", pages=3, width=3, height=4)],
    )
    return photo, comic


def phone_page(browser: Any) -> Any:
    context = browser.new_context(viewport=PHONE, locale="zh-CN", has_touch=True, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def counter(page: Any) -> str:
    return str(page.inner_text(".lightbox-count"))


def test_the_photo_lightbox_with_keys_and_on_a_phone(
    live_server: str, browser: Any, session: Session, object_store: ObjectStore, settings: Settings
) -> None:
    photo, _comic = works(session, object_store, settings)
    page = open_page(browser, LAPTOP)
    page.goto(f"{live_server}/gallery/{photo.id}")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.photo-grid img')]"
        ".every(i => i.complete && i.naturalWidth)"
    )
    screenshot(page, "works-photo-grid-laptop")
    page.click(".photo-grid li:nth-child(2) a")
    page.wait_for_selector(".lightbox:not([hidden])")
    assert counter(page) == "第 2 / 3 张" and page.inner_text(".lightbox-caption") == "夜班检修"
    page.wait_for_function("() => document.querySelector('.lightbox img').naturalWidth > 0")
    # 2048 px on a laptop's full screen (1080 on a phone), never the grid's 480.
    assert "/pages/2_2048.jpg" in page.eval_on_selector(".lightbox img", "i => i.currentSrc")
    assert not small_tap_targets(page, ".lightbox button")
    screenshot(page, "works-lightbox-laptop")
    page.keyboard.press("ArrowRight")
    assert counter(page) == "第 3 / 3 张" and page.is_disabled(".lightbox-next")
    page.keyboard.press("ArrowRight")  # the last stays the last
    assert counter(page) == "第 3 / 3 张"
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    assert counter(page) == "第 1 / 3 张" and page.inner_text(".lightbox-caption") == "清晨的站台"
    page.keyboard.press("Escape")
    page.wait_for_selector(".lightbox", state="hidden")
    focused = page.evaluate(
        "() => [...document.querySelectorAll('.photo-grid a')].indexOf(document.activeElement)"
    )
    assert focused == 1  # back on the photo that opened it
    page.context.close()

    page = phone_page(browser)
    page.goto(f"{live_server}/gallery/{photo.id}")
    assert fits_width(page)
    page.tap(".photo-grid li:nth-child(1) a")
    page.wait_for_selector(".lightbox:not([hidden])")
    page.wait_for_function("() => document.querySelector('.lightbox img').naturalWidth > 0")
    assert "/pages/1_1080.jpg" in page.eval_on_selector(".lightbox img", "i => i.currentSrc")
    box = page.eval_on_selector(".lightbox img", "i => i.getBoundingClientRect().toJSON()")
    assert box["left"] >= 0 and box["right"] <= PHONE["width"] + 1, box
    screenshot(page, "works-lightbox-phone")
    page.evaluate(SWIPE, [300, 80])  # a swipe to the left: the next photo
    assert counter(page) == "第 2 / 3 张"
    page.evaluate(SWIPE, [80, 300])
    assert counter(page) == "第 1 / 3 张"
    assert not small_tap_targets(page, ".lightbox button")
    page.tap(".lightbox-close")
    page.wait_for_selector(".lightbox", state="hidden")
    screenshot(page, "works-photo-grid-phone")
    page.context.close()


def test_the_comic_reader_turns_pages_zooms_and_keeps_its_place(
    live_server: str, browser: Any, session: Session, object_store: ObjectStore, settings: Settings
) -> None:
    _photo, comic = works(session, object_store, settings)
    for name, size in (("laptop", LAPTOP), ("phone", PHONE)):
        page = open_page(browser, size)
        page.goto(f"{live_server}/gallery/{comic.id}")
        assert page.locator(".comic-page:visible").count() == 1
        assert page.inner_text(".comic-counter") == "第 1 / 3 页" and page.is_disabled(
            ".comic-prev"
        )
        assert fits_width(page) and not small_tap_targets(page, ".comic-bar .button")
        shown = page.eval_on_selector(
            ".comic-page.current img", "i => i.getBoundingClientRect().toJSON()"
        )
        assert shown["bottom"] <= size["height"] + page.evaluate("scrollY") + 400, shown
        screenshot(page, f"works-comic-{name}")
        page.click(".comic-next")
        assert page.inner_text(".comic-counter") == "第 2 / 3 页"
        page.keyboard.press("ArrowRight")
        assert page.inner_text(".comic-counter") == "第 3 / 3 页" and page.is_disabled(
            ".comic-next"
        )
        assert page.url.endswith("#page-3")
        page.reload()
        assert page.inner_text(".comic-counter") == "第 3 / 3 页"
        page.keyboard.press("ArrowLeft")
        assert page.inner_text(".comic-counter") == "第 2 / 3 页"
        page.click(".comic-zoom")
        page.wait_for_function(
            "() => document.querySelector('.comic-page.current img').currentSrc.includes('_2048')"
        )
        assert page.get_attribute(".comic-zoom", "aria-pressed") == "true"
        screenshot(page, f"works-comic-zoomed-{name}")
        page.click(".comic-zoom")
        assert "_1080" in page.eval_on_selector(".comic-page.current img", "i => i.currentSrc")
        page.context.close()


def test_without_javascript_photos_are_links_and_comic_pages_are_stacked(
    live_server: str, browser: Any, session: Session, object_store: ObjectStore, settings: Settings
) -> None:
    photo, comic = works(session, object_store, settings)
    context = browser.new_context(viewport=PHONE, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server}/gallery/{comic.id}")
    assert page.locator(".comic-page:visible").count() == 3
    screenshot(page, "works-comic-no-js-phone")
    page.goto(f"{live_server}/gallery/{photo.id}")
    page.click(".photo-grid li:nth-child(3) a")
    page.wait_for_url("**/pages/3_2048.jpg*")
    context.close()


def test_a_judge_reads_a_blind_story_and_downloads_its_text(
    live_server: str, browser: Any, session: Session, object_store: ObjectStore, settings: Settings
) -> None:
    contest, rnd, (story,), (judge,) = ready_round(
        session, 1, 1, blind=True, judges_per_entry=1, auto_conflicts=[]
    )
    contest.work_types = ["video", "story"]
    story.title = "站台十年"
    store_work(
        session, object_store, settings, story, WorkType.STORY, [Piece("检修现场")], story=STORY
    )
    assign_round(session, rnd, [story])
    code = codes_of(session, rnd)[story.id]
    for name, size in (("laptop", LAPTOP), ("phone", PHONE)):
        page = open_page(browser, size)
        log_in(page, live_server, judge.username)
        page.goto(f"{live_server}/judge/")
        assert "职业故事" in page.inner_text(".desk")
        page.click(".desk a")
        page.wait_for_selector(".story")
        text = page.inner_text(".story")
        assert "<b>不是标签</b>" in text and story.collective not in page.inner_text("main")
        assert page.locator(".story p:not(.story-meta)").count() == 3
        width = page.eval_on_selector(
            ".story p:not(.story-meta)", "p => p.getBoundingClientRect().width"
        )
        assert width <= 40 * 17.5 and fits_width(page), width  # a comfortable line length
        screenshot(page, f"works-story-judge-{name}")
        with page.expect_download() as download:
            page.click(f"a[href='/judge/entries/{code}/story.txt']")
        saved = download.value
        assert saved.suggested_filename == f"{code}.txt"
        body = Path(saved.path()).read_bytes()
        assert body.startswith(b"\xef\xbb\xbf") and "站台十年".encode() in body
        page.go_back()
        page.wait_for_selector(".desk")
        page.context.close()


def test_the_gallery_list_by_type_and_the_review_queue_open_a_work(
    live_server: str, browser: Any, session: Session, object_store: ObjectStore, settings: Settings
) -> None:
    photo, comic = works(session, object_store, settings)
    organizer = make_user(session, Role.ORGANIZER)
    for name, size in (("laptop", LAPTOP), ("phone", PHONE)):
        page = open_page(browser, size)
        page.goto(f"{live_server}/gallery/")
        page.wait_for_function(
            "() => [...document.querySelectorAll('.grid img')]"
            ".every(i => i.complete && i.naturalWidth)"
        )
        assert page.locator(".grid img").count() == 2  # each work's cover
        assert fits_width(page) and not small_tap_targets(page, ".type-filter a")
        screenshot(page, f"works-gallery-list-{name}")
        page.click(".type-filter a:has-text('漫画')")
        page.wait_for_url("**type=comic**")
        assert page.locator(".grid li").count() == 1 and page.is_visible(f"#tile-{comic.id}")
        page.fill("input[name=q]", "检修")  # a search keeps the type
        page.click(".gallery-filters button")
        page.wait_for_url("**q=**")
        assert "type=comic" in page.url and page.is_visible(f"#tile-{comic.id}")
        page.go_back()
        page.wait_for_url("**type=comic")
        page.goto(f"{live_server}/gallery/?type=%3Cb%3E")  # a forged type shows everything
        assert page.locator(".grid li").count() == 2
        page.context.close()

        page = open_page(browser, size)
        log_in(page, live_server, organizer.username)
        page.goto(f"{live_server}/admin/?type=photo")
        row = page.locator(f"#entry-{photo.id}")
        assert "摄影" in row.inner_text() and page.locator(".queue-table tbody tr").count() == 1
        screenshot(page, f"works-queue-{name}")
        row.locator("a.queue-work").click()
        page.wait_for_url(f"**/works/{photo.id}")
        assert page.locator(".photo-grid li").count() == 3 and fits_width(page)
        screenshot(page, f"works-review-page-{name}")
        page.click("a:has-text('← 作品审核')")
        page.wait_for_url(f"**/admin/#entry-{photo.id}")
        page.context.close()
