"""A contestant's photo, comic and story entries walked in chromium at 390x844 and 1366x768.

Photo: the entry form's work type, three photos (made with Pillow) chosen at once and sent
one by one with a progress bar, a caption, a move, a delete with its confirmation, an SVG
refused with its reason, a reload and the back button that duplicate nothing, and the
pieces turning ready with their thumbnails as the worker makes them. Comic: a generated PDF
read as its pages. Story: the live counter, a too-long text and HTML refused with the text
kept in the box, then saved and ready without a job.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Contest, Entry, EntryPiece, EntryStatus, WorkType
from tests.browser import LAPTOP, PHONE, fits_width, log_in, open_page, screenshot
from tests.factories import ENTRY_FIELDS, make_user, open_contest, unique

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

READY_TIMEOUT = 90_000  # ms the worker may take for a few small images on a busy machine


@pytest.fixture()
def campaign(session: Session) -> Iterator[Contest]:
    """The run's open contest taking all four work types, put back afterwards."""
    contest = open_contest(session)
    before = list(contest.work_types)
    contest.work_types = ["video", "photo", "comic", "story"]
    session.commit()
    yield contest
    session.refresh(contest)
    contest.work_types = before
    session.commit()


def photos(folder: Path) -> list[Path]:
    paths = []
    for name, color in (("晨光.jpg", "orange"), ("交班.png", "teal"), ("合影.jpg", "purple")):
        path = folder / name
        Image.new("RGB", (900, 600), color).save(path)
        paths.append(path)
    return paths


def new_entry(page: Any, base: str, work_type: str, title: str) -> int:
    page.goto(f"{base}/submit/new")
    assert page.is_visible("input[name=video]")
    page.select_option("select[name=work_type]", work_type)
    assert not page.is_visible("input[name=video]")  # a video is for 微视频 entries only
    for name in ("collective", "contact_name", "contact_phone", "email", "summary"):
        page.fill(f"[name={name}]", ENTRY_FIELDS[name])
    page.fill("[name=title]", title)
    for name in ("category", "district", "industry"):
        page.select_option(f"select[name={name}]", ENTRY_FIELDS[name])
    page.check("input[name=authorized]")
    screenshot(page, f"works-submit-form-{work_type}")
    page.click("#submit-button")
    page.wait_for_url(re.compile(r"/submit/\d+(#work)?$"))
    return int(re.search(r"/submit/(\d+)", page.url).group(1))  # type: ignore[union-attr]


def filenames(page: Any) -> list[str]:
    return [t.strip() for t in page.locator("#piece-list .filename").all_inner_texts()]


def pieces_in_db(session: Session, entry_id: int) -> list[str]:
    session.expire_all()
    query = select(EntryPiece.filename).where(EntryPiece.entry_id == entry_id)
    return list(session.scalars(query.order_by(EntryPiece.position)))


@pytest.mark.parametrize("size", [PHONE, LAPTOP], ids=["phone", "laptop"])
def test_a_photo_entry_from_the_form_to_ready(
    live_server: str,
    browser: Any,
    session: Session,
    campaign: Contest,
    worker: Any,
    tmp_path: Path,
    size: dict[str, int],
) -> None:
    user = make_user(session)
    page = open_page(browser, size)
    log_in(page, live_server, user.username)
    entry_id = new_entry(page, live_server, "photo", unique("清晨的急诊科"))
    assert page.locator("#work-type").inner_text() == "摄影"
    assert page.locator("#video-form").count() == 0
    page.set_input_files("#piece-files", [str(p) for p in photos(tmp_path)])
    page.click("#pieces-form button")
    page.wait_for_selector("#piece-list li:nth-child(3)")
    assert filenames(page) == ["晨光.jpg", "交班.png", "合影.jpg"]
    assert "已上传 3 个文件，正在处理" in page.inner_text("main")
    name = "phone" if size is PHONE else "laptop"
    screenshot(page, f"works-submit-photo-uploaded-{name}")

    second = page.locator("#piece-list li").nth(1)
    second.locator("input[name=caption]").fill("交班前的五分钟")
    second.locator("button", has_text="保存说明").click()
    page.wait_for_load_state()
    assert "说明已保存" in page.inner_text("main")
    assert page.locator("#piece-list li").nth(1).locator("input[name=caption]").input_value() == (
        "交班前的五分钟"
    )
    page.locator("#piece-list li").nth(0).locator("button", has_text="下移").click()
    page.wait_for_load_state()
    assert filenames(page) == ["交班.png", "晨光.jpg", "合影.jpg"]

    page.once("dialog", lambda dialog: dialog.dismiss())  # thought better of it
    page.locator("#piece-list li").nth(2).locator("button", has_text="删除").click()
    assert filenames(page) == ["交班.png", "晨光.jpg", "合影.jpg"]
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#piece-list li").nth(2).locator("button", has_text="删除").click()
    page.wait_for_selector("text=文件已删除")
    assert filenames(page) == ["交班.png", "晨光.jpg"]

    # An SVG (named .jpg even) is refused before it is stored, with the reason.
    svg = tmp_path / "标志.jpg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    page.set_input_files("#piece-files", str(svg))
    page.click("#pieces-form button")
    page.wait_for_selector("text=标志.jpg 不是照片")
    assert filenames(page) == ["交班.png", "晨光.jpg"]

    page.reload()
    page.go_back()
    page.go_forward()
    page.wait_for_load_state()
    assert pieces_in_db(session, entry_id) == ["交班.png", "晨光.jpg"]

    for n in (1, 2):  # the list is swapped in as the worker makes the images
        page.wait_for_selector(
            f"#piece-list li:nth-child({n})[data-state=ready] .thumb img", timeout=READY_TIMEOUT
        )
    widths = page.evaluate(
        "[...document.querySelectorAll('#piece-list .thumb img')]"
        ".map(i => i.complete ? i.naturalWidth : -1)"
    )
    assert len(widths) == 2 and all(w != 0 for w in widths)
    assert fits_width(page)
    screenshot(page, f"works-submit-photo-ready-{name}")
    page.goto(f"{live_server}/submit/")
    row = page.locator("ul.entries li", has_text="清晨的急诊科").first
    assert "摄影" in row.inner_text()
    screenshot(page, f"works-submit-list-{name}")
    page.context.close()


def test_a_comic_from_a_pdf_and_a_story_with_wrong_input(
    live_server: str,
    browser: Any,
    session: Session,
    campaign: Contest,
    worker: Any,
    tmp_path: Path,
) -> None:
    user = make_user(session)
    page = open_page(browser, PHONE)
    log_in(page, live_server, user.username)

    comic_id = new_entry(page, live_server, "comic", unique("护理部的一天"))
    pdf = tmp_path / "一天.pdf"
    pages = [Image.new("RGB", (600, 850), c) for c in ("white", "lightblue", "pink")]
    pages[0].save(pdf, "PDF", save_all=True, append_images=pages[1:])
    page.set_input_files("#piece-files", str(pdf))
    page.click("#pieces-form button")
    page.wait_for_selector("#piece-list li")
    page.wait_for_selector("#piece-list [data-state=ready]", timeout=READY_TIMEOUT)
    assert "共 3 页" in page.inner_text("#piece-list")
    assert fits_width(page)
    screenshot(page, "works-submit-comic-phone")
    assert session.get(Entry, comic_id) is not None

    story_id = new_entry(page, live_server, "story", unique("我的职业故事"))
    box = page.locator("#story_body")
    box.fill("第一段。\n\n第二段")
    assert page.inner_text("#story-count").startswith("已写 7 / 5000 字")
    too_long = "字" * 5001
    box.fill(too_long)
    assert "超出 1 字" in page.inner_text("#story-count")
    page.click("#story-form button")  # the page says so and sends nothing
    assert page.evaluate("document.activeElement.id") == "story_body"
    assert re.search(rf"/submit/{story_id}(#work)?$", page.url)
    assert page.locator("#story-count.over").count() == 1
    screenshot(page, "works-submit-story-too-long-phone")
    page.locator("#story_body").fill("<p>第一段</p>\n\n<b>加粗</b>")
    page.click("#story-form button")
    page.wait_for_selector("text=正文不能包含 HTML 标签")
    page.wait_for_url(f"**/submit/{story_id}#story")  # back later opens the entry page
    assert page.locator("#story_body").input_value() == "<p>第一段</p>\n\n<b>加粗</b>"
    story = "凌晨四点，病房的灯还亮着。\n\n交班的时候，我们互相说一句：辛苦了。"
    page.locator("#story_body").fill(story)
    page.click("#story-form button")
    page.wait_for_selector("text=正文已保存")
    page.reload()
    assert page.locator("#story_body").input_value() == story
    assert page.inner_text("#status-label") == "已就绪"
    page.go_back()
    page.wait_for_load_state()
    session.expire_all()
    saved = session.get_one(Entry, story_id)
    assert saved.story_body == story and saved.status is EntryStatus.READY and saved.jobs == []
    assert saved.work_type is WorkType.STORY
    assert fits_width(page)
    screenshot(page, "works-submit-story-phone")

    page.set_viewport_size(LAPTOP)
    page.goto(f"{live_server}/submit/{story_id}")
    screenshot(page, "works-submit-story-laptop")
    page.context.close()
