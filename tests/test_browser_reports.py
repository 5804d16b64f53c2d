"""活动信息报送 walked in chromium at phone and laptop size, with a real worker.

A collective reports an activity: wrong input first (named at the fields, the rest kept),
then saved; a reload and the back button make no second report. It uploads two photos,
captions them and submits; the office adopts it and it is on the public 风采展示 timeline with
its photos. A second report is returned with a reason (none first: refused), fixed and
submitted again.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from judging.reports import today_in_beijing
from storage.models import ActivityReport, ReportStatus, Role
from tests.browser import SIZES, fits_width, log_in, open_page, screenshot
from tests.factories import make_user, open_contest, unique

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def photo(path: Path, colour: tuple[int, int, int]) -> Path:
    Image.new("RGB", (1600, 1200), colour).save(path, "JPEG")
    return path


def reports_of(session: Session, owner_id: int) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).where(ActivityReport.owner_id == owner_id)) or 0)


def fill_report(page: Any, title: str, day: date) -> None:
    page.fill("input[name=title]", title)
    page.fill("input[name=held_on]", day.isoformat())
    page.fill("input[name=place]", "历下区文化路社区服务中心")
    page.select_option("select[name=activity_type]", "为民服务")
    page.fill("input[name=participants]", "28")
    page.select_option("select[name=district]", "历下区")
    page.fill("textarea[name=body]", "团员青年为社区老人义诊、理发。\n\n活动持续一整天。")


@pytest.mark.parametrize("size", ["phone", "laptop"])
def test_a_collective_reports_the_office_adopts_and_returns(
    live_server: str,
    browser: Any,
    worker: Any,
    session: Session,
    tmp_path: Path,
    size: str,
) -> None:
    open_contest(session)
    collective = make_user(session)
    office = make_user(session, Role.ORGANIZER)
    today = today_in_beijing()
    title = unique("社区义诊")
    page = open_page(browser, SIZES[size])
    log_in(page, live_server, collective.username)
    page.click("header nav >> text=活动报送")
    page.click("text=＋ 报送新活动")
    # Wrong input: named at its field, the rest kept.
    fill_report(page, "", today)
    page.fill("input[name=held_on]", "2099-01-01")
    page.click("form.report-form button[type=submit]")
    assert page.locator("[data-error-for=title]").inner_text() == "请填写活动名称"
    assert "不能晚于今天" in page.locator("[data-error-for=held_on]").inner_text()
    assert page.input_value("input[name=place]") == "历下区文化路社区服务中心"
    screenshot(page, f"reports-form-errors-{size}")
    fill_report(page, title, today)
    page.click("form.report-form button[type=submit]")
    page.wait_for_url("**/reports/*")
    assert title in page.inner_text("h1")
    report_url = page.url
    page.reload()
    page.go_back()  # the form again, as the browser restores it: sent, no second report
    page.wait_for_selector("form.report-form")
    screenshot(page, f"reports-form-back-{size}")
    fill_report(page, title, today)
    page.click("form.report-form button[type=submit]")
    page.wait_for_selector("text=同一名称和日期的活动已报送过，已为您打开")
    assert page.url == report_url
    assert reports_of(session, collective.id) == 1
    # Two photos, uploaded with progress, processed by the worker.
    page.set_input_files(
        "form.report-upload input[type=file]",
        [photo(tmp_path / "a.jpg", (200, 40, 40)), photo(tmp_path / "b.jpg", (40, 90, 200))],
    )
    page.click("form.report-upload button[type=submit]")
    page.wait_for_selector("text=已上传 2 个文件，正在处理")
    page.locator(".report-file img").nth(1).wait_for(timeout=120_000)  # reloaded when done
    captions = page.locator(".report-file input[type=text]")
    captions.nth(0).fill("义诊现场")
    captions.nth(1).fill("理发服务")
    captions.nth(1).press("Enter")  # saves the captions, deletes nothing
    page.wait_for_selector("text=照片说明已保存")
    assert page.locator(".report-file").count() == 2
    page.click("text=提交给组委会办公室")
    page.wait_for_selector("text=报送已提交，等待组委会办公室审核")
    assert fits_width(page), "the report page scrolls sideways"
    screenshot(page, f"reports-submitted-{size}")

    desk = open_page(browser, SIZES[size])
    log_in(desk, live_server, office.username)
    desk.click("header nav >> text=报送审核")
    desk.click(f"text={title}")
    assert desk.locator(".report-photos img").count() == 2
    screenshot(desk, f"reports-review-{size}")
    desk.click("#decide button.primary")
    desk.wait_for_selector("text=报送已采用，已在风采展示中公开")
    desk.click("text=报送统计与导出")
    assert desk.locator("svg.report-chart rect.adopted").count() >= 1
    assert "历下区" not in desk.inner_text("section.missing-required")
    assert fits_width(desk), "the counts page scrolls sideways"
    screenshot(desk, f"reports-stats-{size}")

    public = open_page(browser, SIZES[size])
    public.goto(live_server)
    public.click("header nav >> text=风采展示")
    public.select_option("select[name=type]", "为民服务")
    public.click("form.report-filters button")
    public.click(f"text={title}")
    assert public.locator(".report-photos img").count() == 2
    assert "理发服务" in public.inner_text(".report-photos")
    assert fits_width(public), "the public report page scrolls sideways"
    screenshot(public, f"reports-public-{size}")
    public.go_back()
    assert fits_width(public)
    screenshot(public, f"reports-timeline-{size}")

    # A second report, returned with a reason and fixed.
    second = unique("团课学习")
    page.goto(f"{live_server}/reports/new")
    fill_report(page, second, today)
    page.select_option("select[name=activity_type]", "学习引航")
    page.click("form.report-form button[type=submit]")
    page.click("text=提交给组委会办公室")
    page.wait_for_selector("text=审核中")
    desk.goto(f"{live_server}/office/reports/?status=submitted")
    desk.click(f"text={second}")
    desk.click("form.send-back button")  # no reason: the browser asks for one
    assert desk.locator("form.send-back textarea:invalid").count() == 1
    desk.evaluate("document.querySelector('form.send-back textarea').removeAttribute('required')")
    desk.click("form.send-back button")
    desk.wait_for_selector("text=请填写退回原因")
    desk.fill("form.send-back textarea", "请补充活动照片")
    desk.click("form.send-back button")
    desk.wait_for_selector("text=报送已退回，报送人会收到退回原因")
    page.reload()
    assert "请补充活动照片" in page.inner_text("main")
    page.click("text=修改活动信息")
    page.fill("input[name=participants]", "40")
    page.click("form.report-form button[type=submit]")
    page.wait_for_selector("text=报送已保存")
    page.click("text=重新提交")
    page.wait_for_selector("text=报送已提交，等待组委会办公室审核")
    screenshot(page, f"reports-resubmitted-{size}")
    session.expire_all()
    statuses = session.scalars(
        select(ActivityReport.status).where(ActivityReport.owner_id == collective.id)
    ).all()
    assert sorted(statuses) == sorted([ReportStatus.ADOPTED, ReportStatus.SUBMITTED])
    for p in (page, desk, public):
        p.context.close()
