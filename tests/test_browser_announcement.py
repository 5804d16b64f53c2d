"""The published 公示 in a real browser, as the public reads it on a phone and a laptop: its
公示期 and whom to tell of an objection, the method in Chinese, a hash that wraps, a table that
fits; the home page and the gallery link it."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from judging.rounds import close_round, open_round
from storage.models import Contest, EntryStatus, Snapshot
from tests.browser import LAPTOP, PHONE, fits_width, open_page, screenshot, small_tap_targets
from tests.factories import make_entry, make_user, unique

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

AWARDS = ["一等奖", "二等奖", "二等奖", "三等奖", "三等奖", "三等奖", "优秀奖", "优秀奖"]


def published(session: Session, blind: bool = False, entries: int = 10) -> Snapshot:
    """A contest (the newest, so the home page's) whose first round is closed and published,
    with long titles and collectives as real entries have."""
    contest = Contest(
        slug=unique("announced-"),
        title="中国梦·青春足迹 微视频征集活动",
        closes_at=datetime.now(UTC) - timedelta(days=1),
        blind=blind,
        aggregation="trimmed_mean",
        publicity_starts_on=date.today() - timedelta(days=1),
        publicity_ends_on=date.today() + timedelta(days=6),
        objection_office="团市委创建青年文明号活动组委会办公室",
        objection_contact="李老师",
        objection_phone="0531-8888 6666",
        objection_email="youth@example.org",
    )
    session.add(contest)
    session.commit()
    owner = make_user(session)
    rows = []
    for n in range(entries):
        entry = make_entry(session, owner, contest)
        entry.status = EntryStatus.READY
        entry.title = f"青春足迹第{n + 1}集：急诊科的{n + 1}个不眠之夜"
        entry.collective = "市第一人民医院急诊科青年文明号集体（争创）"
        rows.append(
            {
                "rank": n + 1,
                "number": entry.number,
                "title": entry.title,
                "collective": entry.collective,
                "score": round(92.5 - n * 1.25, 3),
                "award": AWARDS[n] if n < len(AWARDS) else "",
            }
        )
    session.commit()
    rnd = open_round(session, contest, "初评")
    close_round(session, rnd)
    canonical = json.dumps(rows, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    snapshot = Snapshot(
        contest_id=contest.id,
        round_id=rnd.id,
        method="trimmed_mean",
        content=rows,
        sha256=hashlib.sha256(canonical.encode()).hexdigest(),
    )
    session.add(snapshot)
    session.commit()
    return snapshot


def one_line(page: Any, selector: str) -> list[str]:
    """Elements matching `selector` whose text wraps onto a second line."""
    return list(
        page.evaluate(
            """selector => [...document.querySelectorAll(selector)]
                .filter(el => el.offsetParent !== null)
                .filter(el => {
                    const range = document.createRange();
                    range.selectNodeContents(el);
                    const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
                    return tops.size > 1;
                })
                .map(el => el.outerHTML.slice(0, 80))""",
            selector,
        )
    )


@pytest.mark.parametrize("size", ["phone", "laptop"])
def test_the_announcement_reads_well_and_the_front_pages_link_it(
    live_server: str, browser: Any, session: Session, size: str
) -> None:
    snapshot = published(session)
    page = open_page(browser, PHONE if size == "phone" else LAPTOP)

    # The public finds it from the home page, as someone sent the site's address would.
    page.goto(f"{live_server}/")
    screenshot(page, f"announcement-home-{size}")
    page.click("a:has-text('评审结果公示已发布')")
    page.wait_for_url(f"**/announcements/{snapshot.id}")
    screenshot(page, f"announcement-{size}")

    assert fits_width(page), "the 公示 scrolls sideways"
    text = page.inner_text("main")
    today = date.today()
    start, end = today - timedelta(days=1), today + timedelta(days=6)
    assert f"{start.isoformat()} 至 {end.isoformat()}" in page.inner_text("#publicity")
    assert "公示中" in page.inner_text("#publicity")
    assert "去掉最高分和最低分后的平均分" in page.inner_text("#method")
    assert "去掉一个最高分和一个最低分后取平均" in page.inner_text("#method")
    assert "trimmed_mean" not in text
    objection = page.inner_text("#objection")
    for part in ("团市委创建青年文明号活动组委会办公室", "李老师", "0531-8888 6666"):
        assert part in objection
    assert page.get_attribute("#objection a[href^='tel:']", "href") == "tel:053188886666"
    assert page.get_attribute("#objection a[href^='mailto:']", "href") == "mailto:youth@example.org"

    # The 64-character hash stays inside the page; 奖项 and the numbers never wrap.
    box = page.locator("code.hash").bounding_box()
    assert box is not None and box["x"] + box["width"] <= page.viewport_size["width"]
    assert page.inner_text("code.hash").replace("\n", "") == snapshot.sha256
    assert one_line(page, "table.announced td.award, table.announced td.num") == []
    assert one_line(page, "table.announced th") == []
    assert page.locator("table.announced tbody tr").count() == 10
    assert "0001" in page.inner_text("table.announced")
    assert small_tap_targets(page, "main a.tap, main a.button") == []

    page.reload()
    assert page.inner_text("code.hash").replace("\n", "") == snapshot.sha256
    page.go_back()
    page.wait_for_url(f"{live_server}/")

    page.goto(f"{live_server}/gallery/")
    link = page.locator("a:has-text('评审结果公示已发布')")
    assert link.get_attribute("href") == f"/announcements/{snapshot.id}"
    assert "公示期至" in page.inner_text(".announcement-link")
    assert fits_width(page)
    screenshot(page, f"announcement-gallery-{size}")
    page.context.close()


def test_no_front_page_link_while_a_blind_round_withholds_it(
    client: FlaskClient, session: Session
) -> None:
    snapshot = published(session, blind=True, entries=3)
    assert "评审结果公示已发布" in client.get("/").get_data(as_text=True)
    # A blind second round takes every entry: the 公示 of the first now withholds them all.
    contest = session.get(Contest, snapshot.contest_id)
    assert contest is not None
    open_round(session, contest, "复评")
    for url in ("/", "/gallery/"):
        assert "评审结果公示已发布" not in client.get(url).get_data(as_text=True)
    page = client.get(f"/announcements/{snapshot.id}").get_data(as_text=True)
    assert "暂不公开" in page and "市第一人民医院" not in page  # the page itself still works
    for guessed in (f"{snapshot.id + 10_000}", "99999999999", "-1", "abc"):
        assert client.get(f"/announcements/{guessed}").status_code == 404
