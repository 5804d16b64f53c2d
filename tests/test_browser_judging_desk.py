"""The organizers' judging desk and the operator's cancel, walked in a real browser.

A judge declares a conflict; the organizer finds the entry at the top of the desk under
待补评委 with a suggested judge, fills the panel with one click and sees the counts add up;
closing over an unsubmitted score and publishing over a tie at the award line each ask on a
confirmation page (返回 leaves everything as it was; a list that changed meanwhile is shown
again), and the confirmed decisions are listed on the desk. An operator is asked before a
job is cancelled.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from judging.codes import codes_of
from judging.panels import panel_report
from judging.rounds import assign_round
from judging.scoring import save_score
from storage.models import (
    Assignment,
    Contest,
    Decision,
    Entry,
    Job,
    JobState,
    Role,
    Round,
    Snapshot,
    User,
)
from tests.browser import LAPTOP, PHONE, fits_width, log_in, open_page, screenshot
from tests.factories import make_entry, make_user, ready_round, unique

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

FULL = {"theme": 25, "story": 25, "production": 20, "appeal": 10}


def desk_round(session: Session) -> tuple[Contest, Round, list[Entry], list[User]]:
    """The newest contest: three ready entries, two judges each of four, an open round."""
    contest, rnd, entries, judges = ready_round(
        session, 3, 4, judges_per_entry=2, award_tiers=[{"name": "一等奖", "count": 1}]
    )
    assign_round(session, rnd, entries, seed=4)
    return contest, rnd, entries, judges


def panel_of(session: Session, rnd: Round, entry: Entry) -> list[int]:
    query = select(Assignment.judge_id).where(
        Assignment.round_id == rnd.id, Assignment.entry_id == entry.id
    )
    return sorted(session.scalars(query))


def answer(page: Any, selector: str) -> None:
    """Click a submit button and wait for the page it leads to."""
    with page.expect_navigation():
        page.click(selector)


@pytest.mark.parametrize("size", ["phone", "laptop"])
def test_an_organizer_fills_a_short_panel_and_decides_on_closing_and_publishing(
    live_server: str, browser: Any, session: Session, size: str
) -> None:
    contest, rnd, entries, judges = desk_round(session)
    by_id = {j.id: j for j in judges}
    entry = entries[0]
    judge = by_id[panel_of(session, rnd, entry)[0]]
    code = codes_of(session, rnd)[entry.id]

    # The judge declares a conflict from the score form (and says yes to "确定吗？").
    page = open_page(browser, PHONE if size == "phone" else LAPTOP)
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, live_server, judge.username)
    page.goto(f"{live_server}/judge/entries/{code}")
    answer(page, "form[action$='/conflict'] button")
    assert "已申报回避" in page.content()
    page.context.close()

    page = open_page(browser, PHONE if size == "phone" else LAPTOP)
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, live_server, make_user(session, Role.ORGANIZER).username)
    page.goto(f"{live_server}/admin/judging/")
    short = page.locator("#short-panels")
    assert f"No.{entry.number:04d}" in short.inner_text() and "回避" in short.inner_text()
    # At the top: before the round's controls, the progress tables and the results.
    first_section = page.locator("main section.card, main form.card, main h2").first
    assert first_section.get_attribute("id") == "short-panels"
    totals = page.locator("#totals").inner_text()
    assert "本轮作品 3 件 = 评委已配齐 2 件" in totals and "待补评委 1 件 + 不再参评 0 件" in totals
    loads = {j.id: 0 for j in judges}
    for other in entries:
        for j in panel_of(session, rnd, other):
            loads[j] += 1
    free = [j for j in judges if j.id not in panel_of(session, rnd, entry) and j is not judge]
    lightest = min(free, key=lambda j: (loads[j.id], j.id))
    suggestion = short.locator("button").first
    expected = (
        f"指派 {lightest.display_name}（{lightest.username}）（已分配 {loads[lightest.id]} 件）"
    )
    assert suggestion.inner_text() == expected
    assert fits_width(page)
    screenshot(page, f"judging-desk-short-{size}")

    answer(page, "#short-panels button >> nth=0")
    page.reload()  # the click redirected: a reload assigns nobody twice
    assert page.locator("#short-panels").count() == 0
    assert page.locator("#entry-progress tbody tr").count() == 3
    totals = page.locator("#totals").inner_text()
    assert "本轮作品 3 件 = 评委已配齐 3 件" in totals and "待补评委 0 件" in totals
    session.expire_all()
    assert lightest.id in panel_of(session, rnd, entry)

    # Every judge submits but two, one of whom submits while the organizer reads the list.
    late = []
    for other in entries:
        for judge_id in panel_of(session, rnd, other):
            if other is entry and len(late) < 2:
                late.append(by_id[judge_id])
                continue
            save_score(session, rnd, by_id[judge_id], other, FULL, "", submit=True)
    answer(page, "form[action$='/close'] button")
    listed = page.locator("ul.unresolved li")
    assert listed.count() == 1 and "尚有 2 份评分未提交" in listed.first.inner_text()
    assert all(j.username in listed.first.inner_text() for j in late)
    assert fits_width(page)
    screenshot(page, f"judging-close-confirm-{size}")
    page.click("form a.button.secondary")
    page.wait_for_url(f"{live_server}/admin/judging/")
    session.expire_all()
    assert session.get_one(Round, rnd.id).closed_at is None
    page.go_back()  # to the confirmation page and on: nothing is closed by going back
    page.go_forward()
    session.expire_all()
    assert session.get_one(Round, rnd.id).closed_at is None

    answer(page, "form[action$='/close'] button")
    save_score(session, rnd, late[0], entry, FULL, "", submit=True)
    page.fill("textarea[name=note]", "评委联系不上，按规则结束")
    answer(page, "text=确认结束")
    assert "待确认的事项已有变化" in page.content()  # the list changed: shown again
    listed = page.locator("ul.unresolved li")
    assert listed.count() == 1 and "尚有 1 份评分未提交" in listed.first.inner_text()
    assert page.input_value("textarea[name=note]") == "评委联系不上，按规则结束"
    session.expire_all()
    assert session.get_one(Round, rnd.id).closed_at is None
    answer(page, "text=确认结束")
    assert "本轮评审已结束" in page.content()
    page.reload()  # nothing is decided twice
    decisions = page.locator("#decisions").inner_text()
    assert "结束本轮" in decisions and "评委联系不上，按规则结束" in decisions

    # Equal scores: the three entries tie across the one 一等奖.
    answer(page, "form[action$='/publish'] button")
    listed = page.locator("ul.unresolved li")
    assert listed.count() == 1 and "第 1 名并列跨奖项线" in listed.first.inner_text()
    assert all(f"No.{e.number:04d}" in listed.first.inner_text() for e in entries)
    screenshot(page, f"judging-publish-confirm-{size}")
    answer(page, "text=确认发布")
    assert "公示已发布" in page.content() and "发布公示" in page.locator("#decisions").inner_text()
    assert fits_width(page)
    screenshot(page, f"judging-desk-decided-{size}")
    page.context.close()

    session.expire_all()
    kinds = session.scalars(
        select(Decision.kind).where(Decision.contest_id == contest.id).order_by(Decision.id)
    )
    assert kinds.all() == ["close_round", "publish"]
    assert len(session.scalars(select(Snapshot).where(Snapshot.round_id == rnd.id)).all()) == 1
    assert panel_report(session, rnd).totals()["short"] == 0


def test_an_operator_is_asked_before_cancelling_a_job(
    live_server: str, browser: Any, session: Session
) -> None:
    contest = Contest(slug=unique("cancel-"), title="取消任务", judges_per_entry=1)
    session.add(contest)
    session.commit()
    entry = make_entry(session, make_user(session), contest)
    entry.title = "待取消的作品"
    job = Job(entry=entry, source_key=f"originals/{entry.id}/x", state=JobState.QUEUED)
    session.add(job)
    session.commit()
    operator = make_user(session, Role.OPERATOR)
    for size, name in ((PHONE, "phone"), (LAPTOP, "laptop")):
        page = open_page(browser, size)
        log_in(page, live_server, operator.username)
        page.goto(f"{live_server}/ops/")
        answer(page, f"form[action='/ops/jobs/{job.id}/cancel'] button")
        item = page.locator("ul.unresolved li").inner_text()
        assert f"任务 #{job.id}" in item and f"No.{entry.number:04d}《待取消的作品》" in item
        assert "排队中" in item
        assert fits_width(page)
        screenshot(page, f"ops-cancel-confirm-{name}")
        if name == "phone":
            page.click("form a.button.secondary")
            page.wait_for_url(f"{live_server}/ops/")
            session.expire_all()
            assert session.get_one(Job, job.id).state is JobState.QUEUED
        else:
            page.fill("textarea[name=note]", "重复上传")
            answer(page, "text=确认取消任务")
            assert f"任务 #{job.id} 已取消" in page.content()
        page.context.close()
    session.expire_all()
    assert session.get_one(Job, job.id).state is JobState.CANCELLED
    [decision] = session.scalars(select(Decision).where(Decision.subject == f"job:{job.id}"))
    assert (decision.kind, decision.note, decision.user_id) == (
        "cancel_job",
        "重复上传",
        operator.id,
    )
    assert decision.unresolved and f"任务 #{job.id}" in decision.unresolved[0]
