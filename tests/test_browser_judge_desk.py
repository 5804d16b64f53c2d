"""The judge's desk in a real browser, walked as a judge would on a phone and on a laptop.

One judge with three entries that have a real (tiny) playable rendition, a poster and a
storyboard, stored straight in S3 with their MediaAsset rows: no worker needed.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy.orm import Session

from judging.rounds import assign_round, invite, open_round
from storage.models import (
    AssetKind,
    Contest,
    Entry,
    EntryStatus,
    Role,
    User,
)
from storage.objects import ObjectStore
from storage.settings import Settings
from tests.browser import (
    ARTIFACTS,
    LAPTOP,
    PHONE,
    fits_width,
    log_in,
    open_page,
    screenshot,
    small_tap_targets,
)
from tests.factories import Made, make_entry, make_user, store_media, unique
from tests.media import make_clip

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

SECONDS = 8
VTT = "".join(
    f"00:00:0{i}.000 --> 00:00:0{i + 1}.000\nstoryboard.jpg#xywh={i * 80},0,80,142\n\n"
    for i in range(SECONDS)
)


def jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (40, 90, 160)).save(out, "JPEG")
    return out.getvalue()


def give_media(
    session: Session, store: ObjectStore, settings: Settings, entry: Entry, clip: Path
) -> None:
    """A playable 720p rendition, a poster and a storyboard, under the worker's keys."""
    files = {
        "720p.mp4": Made(AssetKind.RENDITION, clip.read_bytes(), "video/mp4", 360, 640, SECONDS),
        "poster_large.jpg": Made(AssetKind.POSTER, jpeg(360, 640), "image/jpeg", 360, 640),
        # The storyboard sheet: one 80x142 tile per second.
        "storyboard.jpg": Made(
            AssetKind.STORYBOARD, jpeg(80 * SECONDS, 142), "image/jpeg", 360, 640
        ),
        "storyboard.vtt": Made(
            AssetKind.STORYBOARD_VTT, f"WEBVTT\n\n{VTT}".encode(), "text/vtt", 360, 640
        ),
    }
    store_media(session, store, settings, entry, files)


def desk_round(
    session: Session, store: ObjectStore, settings: Settings, clip: Path
) -> tuple[User, list[Entry]]:
    """The newest contest, a blind one with a public gallery, whose one judge has three
    entries with media in an open round."""
    contest = Contest(
        slug=unique("desk-"),
        title="评审工作台",
        blind=True,
        judges_per_entry=1,
        reveal_scores="never",
        closes_at=datetime.now(UTC) + timedelta(days=1),
        gallery_published_at=datetime.now(UTC),
    )
    session.add(contest)
    session.commit()
    owner = make_user(session)
    entries = []
    for i in range(3):
        entry = make_entry(session, owner, contest)
        entry.title = f"足迹{'一二三'[i]}"
        entry.status = EntryStatus.READY
        entry.approved_at = datetime.now(UTC)
        session.commit()
        give_media(session, store, settings, entry, clip)
        entries.append(entry)
    judge = make_user(session, Role.JUDGE)
    rnd = open_round(session, contest, "初评")
    invite(session, rnd, {judge.id})
    assign_round(session, rnd, entries)
    return judge, entries


# Everything a judge taps on the score page.
TARGETS = "main input, main textarea, main button, main a.button, main a.back"


def playing_past(page: Any, seconds: float) -> None:
    """Wait until the video plays on past `seconds` (so it was neither reset nor stopped)."""
    page.wait_for_function(
        "t => { const v = document.querySelector('video');"
        " return !v.paused && v.currentTime > t; }",
        arg=seconds,
    )


def test_a_judge_scores_on_a_phone_and_a_laptop_without_stopping_the_video(
    live_server: str,
    browser: Any,
    session: Session,
    object_store: ObjectStore,
    settings: Settings,
    tmp_path: Path,
) -> None:
    clip = make_clip(tmp_path / "clip.mp4", 360, 640, SECONDS, fps=10)
    posts: list[str] = []  # every POST the browser sends, to see that none is repeated
    asked: list[str] = []  # the dialogs the browser showed
    for size, name in ((PHONE, "phone"), (LAPTOP, "laptop")):
        judge, entries = desk_round(session, object_store, settings, clip)
        page = open_page(browser, size)
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
        log_in(page, live_server, judge.username)
        page.goto(f"{live_server}/judge/")
        assert "已评 0 / 3" in page.inner_text("main")
        assert page.locator("ul.desk li.unscored").count() == 3
        codes = page.locator("ul.desk .num").all_inner_texts()
        assert codes == sorted(codes)
        screenshot(page, f"judge-desk-{name}")

        page.click("ul.desk li a >> nth=0")
        page.wait_for_selector(".scrub input", state="attached")
        assert fits_width(page), name
        assert small_tap_targets(page, TARGETS) == [], name
        assert page.locator("input[inputmode=decimal]").count() == 4
        page.evaluate(
            "() => { const v = document.querySelector('video'); v.muted = true; v.play(); }"
        )
        playing_past(page, 0.5)
        page.evaluate("window.notReloaded = true")

        # A running total while typing, from the rubric's weights.
        page.fill("input[name=theme]", "25")
        page.fill("input[name=story]", "25")
        assert page.inner_text("#running-total") == "50"
        assert "还有 2 项未打分" in page.inner_text(".running-total")
        page.fill("input[name=production]", "20")
        page.fill("input[name=appeal]", "10")
        assert page.inner_text("#running-total") == "80"
        assert page.inner_text("#total-note") == ""
        screenshot(page, f"judge-score-typed-{name}")
        # As the judge sees it while typing: the total in view under the thumb.
        page.locator("input[name=story]").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"judge-score-typing-{name}.png"))

        # A draft saves in place: the video plays on from where it was.
        before = page.evaluate("document.querySelector('video').currentTime")
        page.click("button[value=draft]")
        page.wait_for_selector("#sheet .flash.success >> text=草稿已保存")
        playing_past(page, before)
        assert page.evaluate("window.notReloaded") is True

        # Over the maximum: the reason next to the field, every other value kept.
        page.fill("input[name=theme]", "31")
        page.click("button[value=submit]")
        error = page.wait_for_selector(".has-error .error")
        assert "分数应在 0 到 30 之间" in error.inner_text()
        assert page.input_value("input[name=theme]") == "31"
        assert page.input_value("input[name=story]") == "25"
        assert page.input_value("input[name=appeal]") == "10"
        assert page.locator(".has-error").count() == 1
        screenshot(page, f"judge-score-error-{name}")

        page.fill("input[name=theme]", "28")
        page.fill("textarea[name=comment]", "立意清晰")
        before = page.evaluate("document.querySelector('video').currentTime")
        page.click("button[value=submit]")
        page.wait_for_selector("#sheet .flash.success >> text=评分已提交")
        playing_past(page, before)
        assert page.evaluate("window.notReloaded") is True
        assert page.locator(".scrub input").count() == 1  # one slider, however often saved
        readonly(page)
        assert fits_width(page), name
        assert small_tap_targets(page, TARGETS) == [], name
        screenshot(page, f"judge-score-submitted-{name}")

        # A reload shows the same read-only score; the back button resubmits nothing.
        page.reload()
        readonly(page)
        sent = len(posts)
        page.go_back()
        page.wait_for_url("**/judge/")
        assert "已评 1 / 3" in page.inner_text("main")
        assert page.locator("ul.desk li").last.get_attribute("class") == "submitted"
        screenshot(page, f"judge-desk-progress-{name}")
        page.go_forward()
        readonly(page)
        assert len(posts) == sent

        # 修改评分 takes it back to a draft, which counts again only once submitted again.
        page.click("button:has-text('修改评分')")
        page.wait_for_selector("#sheet .flash.success >> text=评分已重新打开")
        assert page.input_value("input[name=theme]") == "28"
        assert "已评 0 / 3" in page.inner_text("nav.next")
        assert "再次提交前，它不计入评审结果" in page.inner_text("#sheet")
        if name == "phone":  # the same at any size: walked once
            # An unsaved change: leaving asks first, and staying keeps it.
            page.fill("input[name=appeal]", "12")
            asked.clear()
            page.once("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
            page.click("a.back")
            page.wait_for_function("() => document.querySelector('input[name=appeal]')")
            assert asked == ["beforeunload"] and page.input_value("input[name=appeal]") == "12"
            page.fill("input[name=appeal]", "10")
        page.click("button[value=submit]")
        page.wait_for_selector("#sheet .flash.success >> text=评分已提交")

        # 下一件: the next entry in code order that is not submitted yet.
        page.click("#next")
        page.wait_for_url(f"**/judge/entries/{codes[1]}")
        assert page.locator("input[name=theme]").input_value() == ""
        # The storyboard's slider is drawn by the page's script once the page has loaded.
        page.wait_for_selector(".scrub input", state="attached")
        assert page.locator(".scrub input").count() == 1
        if name == "laptop":  # the same at any size: walked once
            # Signed out meanwhile: saving says so and keeps what was typed; signed in again
            # in another tab, the same page saves it.
            page.context.clear_cookies()
            page.fill("input[name=theme]", "12")
            page.click("button[value=draft]")
            assert "登录已失效" in page.wait_for_selector("#sheet .flash.error").inner_text()
            assert page.input_value("input[name=theme]") == "12"
            log_in(page.context.new_page(), live_server, judge.username)
            page.click("button[value=draft]")
            page.wait_for_selector("#sheet .flash.success >> text=草稿已保存")
            assert page.input_value("input[name=theme]") == "12"
        page.context.close()

    # The gallery's player has one storyboard slider too, once everything has loaded.
    page = open_page(browser, PHONE)
    page.goto(f"{live_server}/gallery/{entries[0].id}")
    page.wait_for_selector(".scrub input", state="attached")
    page.wait_for_load_state("networkidle")
    page.wait_for_function("document.querySelector('video').readyState >= 1")
    assert page.locator(".scrub input").count() == 1
    assert fits_width(page)
    screenshot(page, "gallery-entry-phone")
    page.context.close()


def readonly(page: Any) -> None:
    """The score page of a submitted score: values shown, nothing to type, 修改评分 offered."""
    page.wait_for_selector("text=已提交于")
    assert page.locator("#sheet input[type=number], #sheet textarea").count() == 0
    assert page.inner_text("#total") == "83"
    assert "立意清晰" in page.inner_text("#sheet")
    assert page.locator("button:has-text('修改评分')").is_visible()
