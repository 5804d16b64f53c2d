"""逐级推荐 walked in chromium: a district organizer of 历下区 sees only 历下区's entries,
recommends two within a quota of 2, is told the quota is full on the third, declines it with a
reason told to the contestant (an empty one first), reloads and goes back without a second
decision, and withdraws one. The city organizer then sets quotas (one below what is already
recommended first) and switches the city's review to recommended entries only. At 1366x768,
then the same pages at 390x844."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Contest, Decision, Entry, Role
from storage.objects import ObjectStore
from storage.outbox import OutboxMessage
from storage.settings import Settings
from tests.browser import LAPTOP, PHONE, fits_width, log_in, open_page, screenshot
from tests.factories import make_user
from tests.media import make_clip
from tests.test_browser_review import give_video
from tests.test_district import entry_of, new_contest, organizer_of

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def kinds(session: Session, contest: Contest) -> list[str]:
    session.expire_all()
    return list(
        session.scalars(
            select(Decision.kind).where(Decision.contest_id == contest.id).order_by(Decision.id)
        )
    )


def confirming(page: Any) -> Any:
    """Accept every confirm() the forms ask (data-confirm)."""
    page.on("dialog", lambda dialog: dialog.accept())
    return page


def quota_text(page: Any) -> str:
    return " ".join(str(page.inner_text("#quota")).split())


def test_a_district_organizer_recommends_within_quota_and_the_city_sets_quotas(
    live_server: str,
    browser: Any,
    session: Session,
    object_store: ObjectStore,
    settings: Settings,
    tmp_path: Path,
) -> None:
    contest = new_contest(session, {"历下区": 2, "市中区": 1})
    a, b, c = (
        entry_of(session, contest, "历下区", title=title, collective=f"{title}青年文明号")
        for title in ("急诊十年", "公交线上的青春", "社区夜校")
    )
    entry_of(session, contest, "市中区", title="别区的作品")
    clip = make_clip(tmp_path / "clip.mp4", 180, 320, 1.0, fps=10, audio=False)
    give_video(session, object_store, settings, a, clip)
    user = organizer_of(session, "历下区")

    page = confirming(open_page(browser, LAPTOP))
    log_in(page, live_server, user.username)
    assert page.url.endswith("/district/")
    assert "推荐名额：已推荐 0 / 2 件" in quota_text(page)
    screenshot(page, "district-dashboard-laptop")
    page.click("text=审核本县区作品")
    listing = page.inner_text("main")
    assert "急诊十年" in listing and "社区夜校" in listing and "别区的作品" not in listing

    def open_entry(entry: Entry) -> None:
        page.goto(f"{live_server}/district/entries/{entry.id}")

    open_entry(a)
    page.click("#recommend")
    page.wait_for_selector(".flash.success")
    assert "已推荐 1 / 2" in quota_text(page)
    screenshot(page, "district-entry-recommended-laptop")
    page.reload()  # after the redirect: a plain GET, nothing sent again
    page.go_back()  # the entry page as it was before: its form sent again changes nothing
    page.wait_for_load_state()
    if page.locator("#recommend").count():
        page.click("#recommend")
        page.wait_for_selector(".flash.success")
    assert "已推荐 1 / 2" in quota_text(page)
    assert kinds(session, contest) == ["recommend"]
    open_entry(b)
    page.click("#recommend")
    page.wait_for_selector(".flash.success")
    assert "名额已用完" in quota_text(page)
    open_entry(c)
    page.click("#recommend")
    page.wait_for_selector("#error")
    assert "推荐名额已用完：本县区名额 2 件，已推荐 2 件" in page.inner_text("#error")
    screenshot(page, "district-quota-full-laptop")
    assert kinds(session, contest) == ["recommend", "recommend"]

    page.fill("textarea[name=reason]", "   ")  # past the browser's required check
    page.click("#decline")
    page.wait_for_selector("#error")
    assert "请写明不推荐的原因" in page.inner_text("#error")
    page.fill("textarea[name=reason]", "与“青春勇担当”主题关联不够紧密")
    page.check("input[name=tell]")
    page.click("#decline")
    page.wait_for_selector(".flash.success")
    assert "已告知参赛者" in page.inner_text(".flash.success")
    assert page.inner_text("#decision") == "未推荐"
    screenshot(page, "district-declined-laptop")
    page.reload()
    assert page.inner_text("#decision") == "未推荐"
    assert kinds(session, contest) == ["recommend", "recommend", "decline"]
    told = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.kind == "entry_not_recommended", OutboxMessage.user_id == c.owner_id
        )
    ).all()
    assert len([m for m in told if m.channel == "email"]) == 1

    open_entry(a)
    assert page.locator("video").count() == 1
    page.click("#withdraw")
    page.wait_for_selector(".flash.success")
    assert "已推荐 1 / 2" in quota_text(page)
    page.goto(f"{live_server}/district/entries?decision=recommended")
    assert "公交线上的青春" in page.inner_text("main") and "急诊十年" not in page.inner_text("main")
    page.goto(f"{live_server}/district/entries/{entry_of(session, contest, '市中区').id}")
    assert "页面不存在" in page.inner_text("main")
    page.context.close()

    city = confirming(open_page(browser, LAPTOP))
    log_in(city, live_server, make_user(session, Role.ORGANIZER).username)
    city.click("text=县区推荐")
    city.fill("input[name=quota-0]", "0")
    city.click("#quotas button.button")
    city.wait_for_selector("#error")
    assert "“历下区”已推荐 1 件，名额不能少于 1" in city.inner_text("#error")
    assert city.input_value("input[name=quota-0]") == "0"  # what was typed comes back
    city.fill("input[name=quota-0]", "3")
    city.check("input[name=recommendation_required]")
    city.click("#quotas button.button")
    city.wait_for_selector(".flash.success")
    screenshot(city, "district-quotas-laptop")
    session.refresh(contest)
    assert contest.district_quotas == {"历下区": 3, "市中区": 1}
    assert contest.recommendation_required
    city.goto(f"{live_server}/admin/")
    assert "仅显示区县推荐的作品" in city.inner_text("#recommended-only")
    city.goto(f"{live_server}/admin/districts/")
    city.fill("#new-district-account input[name=username]", "x")
    city.click("#new-district-account button")
    city.wait_for_selector("#new-district-account .error")
    screenshot(city, "district-account-errors-laptop")
    city.context.close()

    for name, size in (("phone", PHONE),):
        phone = confirming(open_page(browser, size))
        log_in(phone, live_server, user.username)
        assert fits_width(phone), "the dashboard scrolls sideways"
        screenshot(phone, f"district-dashboard-{name}")
        phone.goto(f"{live_server}/district/entries")
        assert fits_width(phone), "the list scrolls sideways"
        screenshot(phone, f"district-entries-{name}")
        phone.goto(f"{live_server}/district/entries/{b.id}")
        assert fits_width(phone), "the entry page scrolls sideways"
        screenshot(phone, f"district-entry-{name}")
        phone.context.close()
        city = open_page(browser, size)
        log_in(city, live_server, make_user(session, Role.ORGANIZER).username)
        city.goto(f"{live_server}/admin/districts/")
        assert fits_width(city), "the quotas page scrolls sideways"
        screenshot(city, f"district-quotas-{name}")
        city.context.close()
