"""The review queue walked in chromium as an organizer, then as the contestant sent back.

At 1366x768: search, filter, page 2, play an entry, approve one (the page stays at its row),
send one back with no reason and then with one, bulk approve two. At 390x844 the queue is
cards that fit the width, with thumb-sized buttons. The contestant reads the reason, fixes
the entry, and it is back in the queue waiting.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy.orm import Session

from storage.models import AssetKind, Contest, Entry, EntryStatus, Role
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
from tests.factories import Made, make_entries, make_user, store_media
from tests.media import make_clip
from tests.test_review_queue import new_contest

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

TAP = ".queue button, .queue label.tap, .queue summary.button, .queue-pages a"


def give_video(
    session: Session, store: ObjectStore, settings: Settings, entry: Entry, clip: Path
) -> None:
    """A playable rendition and a poster of the entry, stored as the worker stores them."""
    poster = io.BytesIO()
    Image.new("RGB", (180, 320), (200, 16, 46)).save(poster, "JPEG")
    files = {
        "360p.mp4": Made(AssetKind.RENDITION, clip.read_bytes(), "video/mp4", 180, 320, 1.0),
        "poster_small.jpg": Made(AssetKind.POSTER, poster.getvalue(), "image/jpeg", 180, 320),
    }
    store_media(session, store, settings, entry, files)


def queue_contest(
    session: Session, store: ObjectStore, settings: Settings, tmp_path: Path
) -> tuple[Contest, list[Entry], Entry]:
    """62 ready entries (two pages) of a new contest, four of 历下区, the newest with a video;
    and one more of a contestant of its own, to be sent back."""
    contest = new_contest(session)
    entries = make_entries(session, make_user(session), contest, 61)
    for i, entry in enumerate(entries):
        entry.status = EntryStatus.READY
        entry.collective = f"第{i + 1}中队青年文明号"
        entry.district = "历下区" if i % 15 == 0 else "市中区"
    session.commit()
    clip = make_clip(tmp_path / "clip.mp4", 180, 320, 1.0, fps=10, audio=False)
    give_video(session, store, settings, entries[-1], clip)
    (returned,) = make_entries(session, make_user(session), contest, 1, title="光影里的青春")
    returned.status = EntryStatus.READY
    returned.authorized_at = returned.created_at  # as the entry form records it
    session.commit()
    return contest, entries, returned


def row(page: Any, entry: Entry) -> Any:
    return page.locator(f"#entry-{entry.id}")


def count_text(page: Any) -> str:
    return str(page.inner_text("#result-count"))


def in_view(page: Any, selector: str) -> bool:
    return bool(
        page.eval_on_selector(
            selector,
            "el => { const r = el.getBoundingClientRect();"
            " return r.bottom > 0 && r.top < window.innerHeight && window.scrollY > 0; }",
        )
    )


def test_an_organizer_reviews_and_a_contestant_fixes_what_was_sent_back(
    live_server: str,
    browser: Any,
    session: Session,
    object_store: ObjectStore,
    settings: Settings,
    tmp_path: Path,
) -> None:
    contest, entries, returned = queue_contest(session, object_store, settings, tmp_path)
    organizer = make_user(session, Role.ORGANIZER)
    page = open_page(browser, LAPTOP)
    log_in(page, live_server, organizer.username)
    page.goto(f"{live_server}/admin/")
    assert "共 62 件，第 1 / 2 页" in count_text(page)
    screenshot(page, "review-laptop")

    # Search by number (leading zeros or not), then by part of a collective's name.
    page.fill("input[name=q]", f"{entries[6].number:04d}")
    page.click(".queue-filters .search-row button")
    assert count_text(page) == "共 1 件" and row(page, entries[6]).is_visible()
    page.fill("input[name=q]", "第12中队")
    page.click(".queue-filters .search-row button")
    assert row(page, entries[11]).is_visible() and "共 1 件" in count_text(page)

    # Filter by district: the bar keeps what was chosen.
    page.fill("input[name=q]", "")
    page.select_option("select[name=district]", "历下区")
    page.click(".queue-filters .search-row button")
    assert "共 5 件" in count_text(page)
    assert page.input_value("select[name=district]") == "历下区"
    assert re.search(r"\?district=[^&]+$", page.url)  # what was left at 全部 stays out
    page.click(".queue-filters a")  # 清除筛选
    assert "共 62 件" in count_text(page)

    # Page 2 keeps the sort; the oldest entries are there.
    page.select_option("select[name=sort]", "number")
    page.click(".queue-filters .search-row button")
    page.click(".queue-pages a[rel=next]")
    assert "第 2 / 2 页" in count_text(page) and "sort=number" in page.url
    assert row(page, entries[55]).is_visible() and row(page, entries[0]).count() == 0
    page.click(".queue-pages a[rel=prev]")

    # Play the entry that has a video (the newest: first when sorted by newest).
    page.goto(f"{live_server}/admin/")
    with_video = row(page, entries[-1])
    assert with_video.locator("img.thumb").get_attribute("loading") == "lazy"
    video = with_video.locator("video")
    assert video.get_attribute("preload") == "none" and not video.is_visible()
    with_video.locator(".queue-player summary").click()  # ▶ 播放: opens and plays
    page.wait_for_function(
        f"() => document.querySelector('#entry-{entries[-1].id} video').currentTime > 0"
    )

    # Approve an entry far down the page: the page comes back at its row.
    target = entries[20]
    row(page, target).scroll_into_view_if_needed()
    row(page, target).locator("button", has_text="通过").click()
    page.wait_for_url(re.compile(rf"#entry-{target.id}$"))
    assert "✓ 已通过" in row(page, target).inner_text()
    assert in_view(page, f"#entry-{target.id}")

    # Send one back: nothing typed (the browser stops it), blanks (we say why), a reason.
    sent = row(page, returned)
    sent.locator(".send-back summary").click()
    sent.locator("button", has_text="确认退回").click()
    assert sent.locator("textarea").evaluate("el => el.validity.valueMissing")
    assert "#entry-" in page.url and "/return" not in page.url  # nothing was posted
    sent.locator("textarea").fill("   ")
    sent.locator("button", has_text="确认退回").click()
    page.wait_for_load_state()
    sent = row(page, returned)
    error = sent.locator("strong.error")
    assert "请写明退回原因" in error.inner_text() and sent.locator("textarea").is_visible()
    sent.locator("textarea").fill("片头请加上集体名称，<片尾>注明拍摄时间")
    sent.locator("button", has_text="确认退回").click()
    page.wait_for_url(re.compile(rf"/admin/#entry-{returned.id}$"))
    assert "片头请加上集体名称，<片尾>注明拍摄时间" in row(page, returned).inner_text()
    page.reload()  # a reload after the redirect sends nothing again
    assert "已退回" in row(page, returned).inner_text()

    # Bulk approve two, with their boxes.
    for entry in entries[30:32]:
        row(page, entry).locator("input[name=ids]").check()
    page.click("#bulk button")
    page.wait_for_load_state()
    assert "已通过 2 件作品" in page.inner_text("main")
    for entry in entries[30:32]:
        assert "✓ 已通过" in row(page, entry).inner_text()
    page.go_back()  # the back button shows the page before; nothing is approved again
    screenshot(page, "review-laptop-after")
    session.expire_all()
    approved = [e.id for e in entries if session.get_one(Entry, e.id).approved_at]
    assert approved == [target.id, entries[30].id, entries[31].id]
    page.context.close()

    # On a phone: cards within the width, filters folded, thumb-sized targets.
    phone = open_page(browser, PHONE)
    log_in(phone, live_server, organizer.username)
    phone.goto(f"{live_server}/admin/")
    assert not phone.locator("details.more-filters").evaluate("el => el.open")
    assert fits_width(phone), "the queue scrolls sideways on a phone"
    assert small_tap_targets(phone, TAP) == []
    phone.click("details.more-filters summary")
    assert phone.locator("select[name=district]").is_visible() and fits_width(phone)
    phone.select_option("select[name=review]", "returned")
    phone.click(".filter-apply")  # no need to scroll back up to the search button
    assert phone.inner_text("#result-count") == "共 1 件" and fits_width(phone)
    phone.goto(f"{live_server}/admin/")
    card = row(phone, entries[-2])
    assert card.locator(".collective").bounding_box()["width"] > 200  # readable, not squeezed
    card.locator(".send-back summary").click()
    assert fits_width(phone)
    screenshot(phone, "review-phone")
    phone.context.close()

    # The contestant reads the reason, fixes the entry, and it waits for review again.
    own = open_page(browser, PHONE)
    log_in(own, live_server, returned.owner.username)
    assert "退回修改" in own.inner_text("main")
    own.click(f"a[href='/submit/{returned.id}']")
    notice = own.inner_text("#returned")
    assert "片头请加上集体名称，<片尾>注明拍摄时间" in notice
    assert "请根据意见修改后重新保存，截止时间前有效" in notice
    screenshot(own, "review-contestant-returned")
    own.click("a[href$='/edit']")
    own.fill("input[name=title]", "光影里的青春（修改版）")
    own.click("#submit-button")
    own.wait_for_url(re.compile(rf"/submit/{returned.id}$"))
    assert own.locator("#returned").count() == 0
    own.context.close()

    page = open_page(browser, LAPTOP)
    log_in(page, live_server, organizer.username)
    page.goto(f"{live_server}/admin/?review=waiting&q={returned.number}")
    assert "待审核" in row(page, returned).inner_text()
    assert "光影里的青春（修改版）" in row(page, returned).inner_text()
    page.context.close()
