"""Judges invited from the site, walked in a real browser as the organizer and the judge.

The organizer adds a judge with a wrong phone first (the error is next to the field, what
was typed stays), fixes it and copies the link; the judge opens it on a phone, tries a weak
password, sets a good one and lands on the judging desk, logged in; the back button shows
the link as used. The organizer resends another judge's invitation (the old link is
refused), revokes one, and imports a small CSV with Chinese headings.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from judging.judge_invitations import JudgeFields, create_judges
from storage.models import Contest, Role, User
from tests.browser import LAPTOP, PHONE, fits_width, log_in, open_page, screenshot
from tests.factories import make_user, unique

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

GOOD_PASSWORD = "春天里的评委-2026"


def phone_number() -> str:
    return f"137{unique(''):0>8}"[-11:]


def invited(session: Session, name: str) -> tuple[User, str]:
    fields = JudgeFields(name, "市博物馆", "", phone_number(), "")
    link = create_judges(session, [fields], None)[0]
    return link.user, link.token


def upload(page: Any, sheet: str) -> None:
    """Import a CSV saved as Excel on Chinese Windows saves it (GBK)."""
    page.set_input_files(
        "#import-judges input[type=file]",
        files=[{"name": "评委名单.csv", "mimeType": "text/csv", "buffer": sheet.encode("gbk")}],
    )
    page.click("#import-judges button")


def row(page: Any, name: str) -> Any:
    return page.locator("table.judges tbody tr", has_text=name)


def test_the_organizer_invites_judges_and_a_judge_activates_on_a_phone(
    live_server: str, browser: Any, session: Session
) -> None:
    session.add(
        Contest(slug=unique("invite-"), title="评委邀请演练", districts=["历下区", "市中区"])
    )
    session.commit()
    organizer = make_user(session, Role.ORGANIZER)
    later, later_token = invited(session, "晚到的评委")
    declined, _token = invited(session, "婉拒的评委")

    desk = open_page(browser, LAPTOP)
    desk.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    log_in(desk, live_server, organizer.username)
    desk.click("text=评委管理")
    form = desk.locator("#add-judge")
    form.locator("input[name=display_name]").fill("马老师")
    form.locator("input[name=unit]").fill("市少年宫")
    form.locator("select[name=district]").select_option("市中区")
    form.locator("input[name=phone]").fill("1380013800")
    form.locator("input[name=email]").fill("ma@example.org")
    form.locator("button").click()
    error = desk.locator('#add-judge [data-error-for="phone"]')
    assert "手机号格式不正确" in error.inner_text()
    assert desk.locator("#add-judge .field.has-error input[name=phone]").count() == 1
    assert form.locator("input[name=display_name]").input_value() == "马老师"
    assert form.locator("select[name=district]").input_value() == "市中区"
    assert form.locator("input[name=email]").input_value() == "ma@example.org"
    screenshot(desk, "judges-wrong-phone-laptop")
    phone = phone_number()
    form.locator("input[name=phone]").fill(phone)
    form.locator("button").click()
    links = desk.locator("#new-links")
    assert "马老师" in links.inner_text()
    link = links.locator("input.secret").input_value()
    assert "/auth/activate/" in link
    links.locator("button[data-copy]").click()
    desk.wait_for_function("document.querySelector('#new-links button[data-copy]')"
                           ".textContent.includes('已复制')")  # fmt: skip
    assert desk.evaluate("navigator.clipboard.readText()") == link
    assert "未激活" in row(desk, "马老师").inner_text()
    screenshot(desk, "judges-link-laptop")

    judge = open_page(browser, PHONE)
    judge.goto(link)
    assert "马老师" in judge.locator("#who").inner_text()
    assert "评委邀请演练" in judge.locator("#who").inner_text()
    judge.fill("input[name=password]", "1234567890")
    judge.fill("input[name=confirm]", "1234567890")
    judge.click("form.card button.button")
    assert "太常见" in judge.locator('[data-error-for="password"]').inner_text()
    assert fits_width(judge)
    screenshot(judge, "judges-activate-weak-phone")
    judge.goto(link)  # opened again from the message: the link still works
    judge.fill("input[name=password]", GOOD_PASSWORD)
    judge.fill("input[name=confirm]", GOOD_PASSWORD)
    judge.click("form.card button.button")
    judge.wait_for_url(f"{live_server}/judge/")
    assert judge.locator("header .who").inner_text() == "马老师"
    assert "账号已激活" in judge.locator(".flash").first.inner_text()
    screenshot(judge, "judges-activated-phone")
    judge.go_back()  # the activation page is never cached: the link now says it is used
    assert "已使用过" in judge.locator("#activation-error").inner_text()
    assert judge.locator("main a.button[href='/judge/']").inner_text() == "进入我的工作台"
    screenshot(judge, "judges-link-used-phone")

    desk.goto(f"{live_server}/admin/judges")
    assert "已激活" in row(desk, "马老师").inner_text()
    assert link not in desk.content()  # the list never shows a link again
    row(desk, "晚到的评委").get_by_role("button", name="重新发送邀请").click()
    assert "晚到的评委" in desk.locator("#new-links").inner_text()
    judge.goto(f"{live_server}/auth/activate/{later_token}")
    assert "已作废" in judge.locator("#activation-error").inner_text()
    assert later.username not in judge.content()

    desk.goto(f"{live_server}/admin/judges")
    desk.once("dialog", lambda dialog: dialog.accept())
    row(desk, "婉拒的评委").get_by_role("button", name="撤销邀请").click()
    assert "邀请已撤销" in row(desk, "婉拒的评委").inner_text()
    assert "已撤销 婉拒的评委 的邀请" in desk.locator(".flash").first.inner_text()

    first, second = phone_number(), phone_number()
    sheet = f"姓名,单位,区县,手机号,电子邮箱\n钟老师,市一中,历下,{first},\n温老师,,,{first},\n"
    upload(desk, sheet)
    problems = desk.locator("#import-problems").inner_text()
    assert "第 2 行：所属区县应为本次活动的区县之一" in problems
    assert "第 3 行：手机与第 2 行相同" in problems
    screenshot(desk, "judges-import-problems-laptop")
    sheet = f"姓名,单位,区县,手机号,电子邮箱\n钟老师,市一中,历下区,{first},\n温老师,,,{second},\n"
    upload(desk, sheet)
    assert "已导入 2 位评委" in desk.locator(".flash").first.inner_text()
    assert desk.locator("#new-links input.secret").count() == 2
    assert desk.locator("#all-links").input_value().count("/auth/activate/") == 2
    screenshot(desk, "judges-imported-laptop")
    imported = session.scalars(select(User).where(User.phone.in_([first, second])))
    assert sorted(u.district for u in imported) == ["", "历下区"]

    phone_desk = open_page(browser, PHONE)
    log_in(phone_desk, live_server, organizer.username)
    phone_desk.goto(f"{live_server}/admin/judges")
    assert fits_width(phone_desk)
    screenshot(phone_desk, "judges-list-phone")
    for page in (desk, judge, phone_desk):
        page.context.close()
