"""逐级推荐: a district organizer's scope, quota (with a race), decisions, notices, the city's
quotas and the recommended-only review queue and judging."""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from judging.district import (
    DistrictError,
    decline,
    district_entries,
    district_progress,
    district_scope,
    left_out,
    parse_quotas,
    recommend,
    set_quotas,
    withdraw_recommendation,
)
from judging.district_accounts import AccountError, DistrictAccount, create_district_account
from judging.review import QueueQuery, approve, queue_page
from judging.rounds import eligible_entries, open_round
from storage.models import (
    ActivityReport,
    Contest,
    Decision,
    Entry,
    EntryStatus,
    ReportStatus,
    Role,
    User,
    WorkType,
)
from storage.outbox import OutboxMessage
from tests.factories import PASSWORD, make_entry, make_user, unique
from tests.fleet import wait_for
from tests.test_security import allowed, routes
from web.mail_catcher import Catcher

pytestmark = pytest.mark.integration


def new_contest(session: Session, quotas: dict[str, int] | None = None) -> Contest:
    """A fresh open contest (the newest, so the site's current one) with three districts."""
    now = datetime.now(UTC)
    contest = Contest(
        slug=unique("district-"),
        title="逐级推荐测试",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=30),
        districts=["历下区", "市中区", "市直单位"],
        industries=["医疗卫生", "交通运输"],
        work_types=["video", "photo"],
        district_quotas=quotas or {},
    )
    session.add(contest)
    session.commit()
    return contest


def organizer_of(session: Session, district: str) -> User:
    user = make_user(session, Role.DISTRICT)
    user.district = district
    session.commit()
    return user


def entry_of(
    session: Session, contest: Contest, district: str, ready: bool = True, **fields: object
) -> Entry:
    entry = make_entry(session, make_user(session), contest)
    entry.district = district
    entry.status = EntryStatus.READY if ready else EntryStatus.PROCESSING
    for key, value in fields.items():
        setattr(entry, key, value)
    session.commit()
    return entry


def test_the_scope_is_the_bound_district_and_nothing_for_others(session: Session) -> None:
    assert district_scope(organizer_of(session, "历下区")) == "历下区"
    assert district_scope(organizer_of(session, "  ")) is None
    organizer = make_user(session, Role.ORGANIZER)
    organizer.district = "历下区"
    assert district_scope(organizer) is None


def test_recommend_within_quota_then_full_then_withdraw_frees_a_place(session: Session) -> None:
    contest = new_contest(session, {"历下区": 2})
    user = organizer_of(session, "历下区")
    a, b, c = (entry_of(session, contest, "历下区") for _ in range(3))
    recommend(session, contest, a, user, "扎实")
    recommend(session, contest, b, user)
    recommend(session, contest, b, user)  # a form sent twice: nothing more
    with pytest.raises(DistrictError, match="推荐名额已用完"):
        recommend(session, contest, c, user)
    assert c.district_decision == ""
    withdraw_recommendation(session, contest, a, user)
    recommend(session, contest, c, user)
    # A recommended entry its contestant withdraws frees its place too.
    b.status = EntryStatus.WITHDRAWN
    session.commit()
    recommend(session, contest, a, user)
    kinds = session.scalars(
        select(Decision.kind).where(Decision.contest_id == contest.id).order_by(Decision.id)
    ).all()
    assert kinds == ["recommend", "recommend", "withdraw_recommend", "recommend", "recommend"]
    assert (a.district_decision, c.district_decision, c.district_decided_by_id) == (
        "recommended",
        "recommended",
        user.id,
    )
    assert a.district_reason == "" and c.district_decided_at is not None


def test_refusals_are_clear(session: Session) -> None:
    contest = new_contest(session, {"历下区": 1})
    user = organizer_of(session, "历下区")
    other = entry_of(session, contest, "市中区")
    with pytest.raises(DistrictError, match="不属于本县区"):
        recommend(session, contest, other, user)
    with pytest.raises(DistrictError, match="不属于本县区"):
        decline(session, contest, other, user, "不好")
    with pytest.raises(DistrictError, match="处理完成"):
        recommend(session, contest, entry_of(session, contest, "历下区", ready=False), user)
    no_quota = organizer_of(session, "市直单位")
    with pytest.raises(DistrictError, match="还没有为本县区设置推荐名额"):
        recommend(session, contest, entry_of(session, contest, "市直单位"), no_quota)
    mine = entry_of(session, contest, "历下区")
    with pytest.raises(DistrictError, match="请写明不推荐的原因"):
        decline(session, contest, mine, user, "   ")
    with pytest.raises(DistrictError, match="不能超过 500"):
        decline(session, contest, mine, user, "长" * 501)
    # Another contest's entry of the same district is not this contest's.
    elsewhere = entry_of(session, new_contest(session), "历下区")
    with pytest.raises(DistrictError, match="不属于本县区"):
        recommend(session, contest, elsewhere, user)
    # A withdrawn entry is not there to recommend.
    gone = entry_of(session, contest, "历下区", status=EntryStatus.WITHDRAWN)
    with pytest.raises(DistrictError, match="不属于本县区"):
        recommend(session, contest, gone, user)
    assert session.scalar(select(Decision.id).where(Decision.contest_id == contest.id)) is None


def test_after_judging_starts_decisions_are_locked(session: Session) -> None:
    contest = new_contest(session, {"历下区": 3})
    user = organizer_of(session, "历下区")
    entry = entry_of(session, contest, "历下区")
    recommend(session, contest, entry, user)
    open_round(session, contest, "初评")
    for action in (
        lambda: withdraw_recommendation(session, contest, entry, user),
        lambda: decline(session, contest, entry, user, "改主意"),
    ):
        with pytest.raises(DistrictError, match="市级评审已经开始"):
            action()
    assert entry.district_decision == "recommended"


def test_two_organizers_at_once_never_exceed_the_quota(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    """The second waits on the contest's lock while the first recommends, then finds the
    quota used: without the lock both would count 0 and both would recommend."""
    contest = new_contest(session, {"历下区": 1})
    first, second = organizer_of(session, "历下区"), organizer_of(session, "历下区")
    a, b = entry_of(session, contest, "历下区"), entry_of(session, contest, "历下区")
    ids = (contest.id, a.id, b.id, first.id, second.id)
    outcome: list[str] = []

    with session_factory() as one, session_factory() as two:
        c1, e1, u1 = (
            one.get_one(Contest, ids[0]),
            one.get_one(Entry, ids[1]),
            one.get_one(User, ids[3]),
        )
        # The first organizer's transaction holds the lock (as recommend takes it) ...
        one.execute(select(Contest.id).where(Contest.id == c1.id).with_for_update())

        def other() -> None:
            c2, e2, u2 = (
                two.get_one(Contest, ids[0]),
                two.get_one(Entry, ids[2]),
                two.get_one(User, ids[4]),
            )
            try:
                recommend(two, c2, e2, u2)
                outcome.append("recommended")
            except DistrictError as exc:
                outcome.append(exc.message)

        thread = threading.Thread(target=other)
        thread.start()
        # ... and the second organizer's recommend waits for it (seen in PostgreSQL's own
        # view of waiting sessions), unless it finished without waiting: then it had no lock.
        with session_factory() as watch:
            while thread.is_alive():
                waiting = watch.scalar(
                    text(
                        "select count(*) from pg_stat_activity where wait_event_type = 'Lock'"
                        " and datname = current_database()"
                    )
                )
                watch.rollback()
                if waiting:
                    break
        assert thread.is_alive(), f"the second recommend did not wait: {outcome}"
        recommend(one, c1, e1, u1)
        thread.join()
    assert len(outcome) == 1 and "推荐名额已用完" in outcome[0]
    session.expire_all()
    recommended = session.scalars(
        select(Entry.id).where(
            Entry.contest_id == contest.id, Entry.district_decision == "recommended"
        )
    ).all()
    assert recommended == [a.id]


def test_decline_with_notice_and_the_same_reason_twice_tells_once(session: Session) -> None:
    contest = new_contest(session, {"历下区": 1})
    user = organizer_of(session, "历下区")
    entry = entry_of(session, contest, "历下区")
    recommend(session, contest, entry, user)
    decline(session, contest, entry, user, "主题不够突出", tell=True)
    decline(session, contest, entry, user, "主题不够突出", tell=True)  # reload of the POST
    assert entry.district_decision == "declined" and entry.district_reason == "主题不够突出"
    notices = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.kind == "entry_not_recommended", OutboxMessage.user_id == entry.owner_id
        )
    ).all()
    assert {n.channel for n in notices} >= {"email"}
    assert len([n for n in notices if n.channel == "email"]) == 1
    # Declining freed the place; a decline without telling queues nothing.
    quiet = entry_of(session, contest, "历下区")
    decline(session, contest, quiet, user, "与主题无关")
    assert not session.scalars(
        select(OutboxMessage).where(OutboxMessage.user_id == quiet.owner_id)
    ).all()
    recommend(session, contest, entry_of(session, contest, "历下区"), user)
    kinds = session.scalars(
        select(Decision.kind).where(Decision.contest_id == contest.id).order_by(Decision.id)
    ).all()
    assert kinds == ["recommend", "decline", "decline", "recommend"]


def test_progress_and_listing(session: Session) -> None:
    contest = new_contest(session, {"历下区": 5})
    user = organizer_of(session, "历下区")
    entry_of(session, contest, "历下区", collective="甲集体")
    entry_of(session, contest, "历下区", collective="甲集体", work_type=WorkType.PHOTO)
    entry_of(session, contest, "历下区", ready=False, collective="乙集体")
    entry_of(session, contest, "历下区", collective="丙集体", status=EntryStatus.DRAFT)
    entry_of(session, contest, "市中区", collective="丁集体")
    progress = district_progress(session, contest, "历下区")
    assert (progress.collectives, progress.entries, progress.quota) == (2, 3, 5)
    assert progress.by_type == {WorkType.VIDEO: 2, WorkType.PHOTO: 1}
    assert progress.by_status == {EntryStatus.READY: 2, EntryStatus.PROCESSING: 1}
    photos = district_entries(session, contest, "历下区", work_type=WorkType.PHOTO)
    assert [e.work_type for e in photos] == [WorkType.PHOTO]
    recommend(session, contest, photos[0], user)
    assert district_progress(session, contest, "历下区").recommended == 1
    assert len(district_entries(session, contest, "历下区", decision="")) == 2


def test_quotas_are_parsed_and_never_lowered_below_what_is_recommended(session: Session) -> None:
    contest = new_contest(session, {"历下区": 2})
    organizer = make_user(session, Role.ORGANIZER)
    with pytest.raises(DistrictError, match="历下区.*0 到 10000"):
        parse_quotas(contest, {"历下区": "两"})
    with pytest.raises(DistrictError, match="市中区"):
        parse_quotas(contest, {"市中区": "-1"})
    assert parse_quotas(contest, {"历下区": "３", "不存在区": "9", "市中区": ""}) == {"历下区": 3}
    user = organizer_of(session, "历下区")
    a, b = entry_of(session, contest, "历下区"), entry_of(session, contest, "历下区")
    recommend(session, contest, a, user)
    recommend(session, contest, b, user)
    with pytest.raises(DistrictError, match="已推荐 2 件，名额不能少于 2"):
        set_quotas(session, contest, {"历下区": 1}, True, organizer)
    with pytest.raises(DistrictError, match="已推荐 2 件"):
        set_quotas(session, contest, {}, True, organizer)  # emptied: the same
    session.refresh(contest)
    assert contest.district_quotas == {"历下区": 2} and not contest.recommendation_required
    set_quotas(session, contest, {"历下区": 2, "市中区": 4}, True, organizer)
    session.refresh(contest)
    assert contest.district_quotas == {"历下区": 2, "市中区": 4}
    assert contest.recommendation_required
    audit = session.scalars(
        select(Decision).where(Decision.contest_id == contest.id, Decision.kind == "set_quotas")
    ).all()
    assert [(d.subject, d.note, d.user_id) for d in audit] == [
        ("recommended_only", "历下区 2，市中区 4", organizer.id)
    ]


def test_recommended_only_filters_review_and_judging(session: Session) -> None:
    contest = new_contest(session, {"历下区": 1})
    user = organizer_of(session, "历下区")
    chosen, waiting, declined = (entry_of(session, contest, "历下区") for _ in range(3))
    recommend(session, contest, chosen, user)
    decline(session, contest, declined, user, "画面模糊")
    everything = {chosen.id, waiting.id, declined.id}
    assert {e.id for e in queue_page(session, contest, QueueQuery()).entries} == everything
    assert {e.id for e in eligible_entries(session, contest)} == everything
    contest.recommendation_required = True
    session.commit()
    assert [e.id for e in queue_page(session, contest, QueueQuery()).entries] == [chosen.id]
    assert [e.id for e in eligible_entries(session, contest)] == [chosen.id]
    assert left_out(session, contest) == {"pending": 1, "declined": 1}
    # The queue hides the others; their ids forged into a bulk approval are refused too.
    city = make_user(session, Role.ORGANIZER)
    result = approve(session, [chosen, waiting, declined], city)
    assert result.approved == [chosen.number]
    assert sorted(r.number for r in result.refused) == sorted([waiting.number, declined.number])
    session.expire_all()
    assert waiting.approved_at is None and declined.approved_at is None


def test_district_accounts_are_bound_to_a_listed_district(session: Session) -> None:
    contest = new_contest(session)
    name = unique("lixia")[:30]
    user = create_district_account(
        session, contest, DistrictAccount(name, "历下区团委", "历下区"), "h"
    )
    assert (user.role, user.district) == (Role.DISTRICT, "历下区")
    with pytest.raises(AccountError) as refused:
        create_district_account(session, contest, DistrictAccount(name, "", "火星区"), "h")
    assert set(refused.value.errors) == {"username", "display_name", "district"}
    with pytest.raises(AccountError) as bad:
        create_district_account(session, contest, DistrictAccount("a b", "x", ""), "h")
    assert set(bad.value.errors) == {"username", "district"}


# --- The pages ---------------------------------------------------------------------------


def log_in(client: FlaskClient, user: User) -> None:
    client.post("/auth/logout")
    response = client.post("/auth/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302


def test_pages_show_one_district_and_other_ids_are_404(
    client: FlaskClient, session: Session
) -> None:
    contest = new_contest(session, {"历下区": 1, "市中区": 1})
    mine = entry_of(session, contest, "历下区", title="我区作品")
    theirs = entry_of(session, contest, "市中区", title="他区作品")
    user = organizer_of(session, "历下区")
    log_in(client, user)
    listing = client.get("/district/entries").get_data(as_text=True)
    assert "我区作品" in listing and "他区作品" not in listing
    assert "已推荐 0 / 1" in listing
    for method, path in (
        ("GET", f"/district/entries/{theirs.id}"),
        ("GET", f"/district/entries/{theirs.id}/video"),
        ("GET", f"/district/entries/{theirs.id}/poster"),
        ("POST", f"/district/entries/{theirs.id}/recommend"),
        ("POST", f"/district/entries/{theirs.id}/decline"),
        ("POST", f"/district/entries/{theirs.id}/withdraw"),
    ):
        assert client.open(path, method=method, data={"reason": "x"}).status_code == 404, path
    session.refresh(theirs)
    assert theirs.district_decision == ""
    done = client.post(f"/district/entries/{mine.id}/recommend")
    assert done.status_code == 303
    page = client.get(done.location).get_data(as_text=True)
    assert "已推荐作品 No." in page and "已推荐 1 / 1" in page
    full = client.post(f"/district/entries/{entry_of(session, contest, '历下区').id}/recommend")
    assert full.status_code == 409 and "推荐名额已用完" in full.get_data(as_text=True)
    refused = client.post(f"/district/entries/{mine.id}/decline", data={"reason": "长" * 501})
    assert refused.status_code == 400 and "长" * 501 in refused.get_data(as_text=True)


def test_an_unbound_district_account_is_told_why_until_the_city_binds_it(
    client: FlaskClient, session: Session
) -> None:
    new_contest(session)
    unbound = organizer_of(session, "")
    log_in(client, unbound)
    response = client.get("/district/")
    assert response.status_code == 403
    assert "还没有绑定" in response.get_data(as_text=True)
    # The city organizer binds it (a district of the list only), then it works.
    log_in(client, make_user(session, Role.ORGANIZER))
    path = f"/admin/districts/accounts/{unbound.id}/district"
    assert client.post(path, data={"district": "火星区"}).status_code == 400
    assert (
        client.post(f"/admin/districts/accounts/{make_user(session).id}/district").status_code
        == 404
    )
    assert client.post(path, data={"district": "市中区"}).status_code == 303
    log_in(client, unbound)
    assert "县区工作台 · 市中区" in client.get("/district/").get_data(as_text=True)


def test_the_city_sets_quotas_and_creates_accounts(client: FlaskClient, session: Session) -> None:
    contest = new_contest(session)
    log_in(client, make_user(session, Role.ORGANIZER))
    saved = client.post(
        "/admin/districts/quotas",
        data={"quota-0": "3", "quota-1": "", "quota-2": "1", "recommendation_required": "1"},
    )
    assert saved.status_code == 303
    session.refresh(contest)
    assert contest.district_quotas == {"历下区": 3, "市直单位": 1}
    assert contest.recommendation_required
    lixia = organizer_of(session, "历下区")
    lixia.display_name = "历下区团委"
    session.commit()
    chosen = entry_of(session, contest, "历下区")
    session.refresh(contest)
    recommend(session, contest, chosen, lixia, "扎根社区十年")
    log = client.get("/admin/districts/").get_data(as_text=True)
    assert log.index(f"No.{chosen.number:04d}") < log.index("设置名额")  # newest first
    assert "历下区团委" in log and "扎根社区十年" in log
    wrong = client.post("/admin/districts/quotas", data={"quota-0": "abc"})
    assert wrong.status_code == 400 and 'value="abc"' in wrong.get_data(as_text=True)
    name = unique("shizhong")[:30]
    made = client.post(
        "/admin/districts/accounts",
        data={"username": name, "display_name": "市中区团委", "district": "市中区"},
    )
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    user = session.scalar(select(User).where(User.username == name))
    assert user is not None and (user.role, user.district) == (Role.DISTRICT, "市中区")
    again = client.post(
        "/admin/districts/accounts",
        data={"username": name, "display_name": "市中区团委", "district": "火星区"},
    )
    assert again.status_code == 400
    assert "已被使用" in again.get_data(as_text=True)


def test_another_districts_ids_are_404_on_every_route_a_district_organizer_may_call(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    """Generated from the URL map and the role matrix: every route a district organizer may
    call that takes an entry's or a report's id answers 404 for district B's, whatever the
    method; district A's own entry page answers (so the ids are right)."""
    contest = new_contest(session, {"历下区": 3, "市中区": 3})
    theirs = entry_of(session, contest, "市中区")
    reporter = organizer_of(session, "市中区")
    report = ActivityReport(
        contest_id=contest.id,
        owner_id=reporter.id,
        unit="市中区团委",
        district="市中区",
        title="为民服务统一行动",
        held_on=date.today(),
        activity_type="为民服务",
        status=ReportStatus.SUBMITTED,
    )
    session.add(report)
    session.commit()
    user = organizer_of(session, "历下区")
    log_in(client, user)
    mine = entry_of(session, contest, "历下区")
    assert client.get(f"/district/entries/{mine.id}").status_code == 200
    values = {
        "entry_id": theirs.id,
        "report_id": report.id,
        "piece_id": 1,
        "n": 1,
        "code": "en",
        "filename": "1_480.jpg",
        "fmt": "csv",
    }
    checked, failures = 0, []
    for endpoint, method, rule in sorted(routes(app)):
        who = allowed(endpoint)
        if who is None or Role.DISTRICT not in who:
            continue
        if "entry_id" not in rule and "report_id" not in rule:
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), rule)
        response = client.open(path, method=method, data={"reason": "x", "note": "x"})
        response.close()
        checked += 1
        if response.status_code != 404:
            failures.append(f"{method} {path} -> {response.status_code}")
    assert checked >= 6 and not failures, "\n".join(failures)
    session.refresh(theirs)
    assert theirs.district_decision == ""


def test_the_command_line_adds_a_district_account_and_refuses_a_wrong_one(
    runner: Any, session: Session
) -> None:
    new_contest(session)
    name = unique("cli-d")[:30]
    made = runner.invoke(
        args=["districts", "add", name, "--district", "历下区", "--name", "历下区团委"]
    )
    assert made.exit_code == 0, made.output
    user = session.scalar(select(User).where(User.username == name))
    assert user is not None and (user.role, user.district) == (Role.DISTRICT, "历下区")
    assert user.username in made.output
    wrong = runner.invoke(args=["districts", "add", "x y", "--district", "火星区", "--name", "某"])
    assert wrong.exit_code != 0 and "火星区" in wrong.output and "用户名" in wrong.output
    listed = runner.invoke(args=["districts", "list"])
    assert f"{name}\t历下区\t历下区团委" in listed.output


def test_the_demo_has_a_district_organizer_with_a_quota(session: Session) -> None:
    from web.demo import DEMO_SLUG, seed_demo

    accounts = seed_demo(session)
    district = [a for a in accounts if a.role is Role.DISTRICT]
    assert [a.username for a in district] == ["demo-district"]
    user = session.scalar(select(User).where(User.username == "demo-district"))
    contest = session.scalar(select(Contest).where(Contest.slug == DEMO_SLUG))
    assert user is not None and contest is not None
    assert user.district == "市直单位" and contest.district_quotas.get("市直单位") == 3


def test_the_contestant_reads_why_by_mail_and_sms(
    session: Session, app: Flask, worker: Any, mail_catcher: Catcher
) -> None:
    contest = new_contest(session, {"历下区": 1})
    to = f"{unique('told')}@example.org"
    entry = entry_of(session, contest, "历下区", email=to, contact_phone="13900139001")
    reason = "与“青春勇担当”主题关联不够 <b>紧密</b>"
    decline(session, contest, entry, organizer_of(session, "历下区"), reason, tell=True)
    [mail] = wait_for(lambda: mail_catcher.to(to), 30, "the not-recommended mail")
    plain, html = mail.get_body(("plain",)), mail.get_body(("html",))
    assert plain is not None and html is not None
    assert (
        str(mail["Subject"]).strip()
        == f"作品《{entry.title}》未获县区推荐（No.{entry.number:04d}）"
    )
    assert reason in plain.get_content() and "历下区初审" in plain.get_content()
    assert "<b>" not in html.get_content() and "&lt;b&gt;" in html.get_content()

    def sms() -> list[OutboxMessage]:
        session.expire_all()
        return [
            m
            for m in session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.kind == "entry_not_recommended",
                    OutboxMessage.channel == "sms",
                    OutboxMessage.user_id == entry.owner_id,
                )
            )
            if m.body
        ]

    [text_message] = wait_for(sms, 30, "the not-recommended SMS")
    assert text_message.address == "13900139001"
    assert text_message.body.startswith("【青春足迹】") and "主题关联不够" in text_message.body


def test_a_story_entry_is_read_on_the_district_page(client: FlaskClient, session: Session) -> None:
    contest = new_contest(session, {"历下区": 1})
    story = entry_of(
        session,
        contest,
        "历下区",
        work_type=WorkType.STORY,
        story_body="清晨五点，急诊科的灯亮着。\n\n<i>十年</i>，我们在这里。",
    )
    log_in(client, organizer_of(session, "历下区"))
    page = client.get(f"/district/entries/{story.id}").get_data(as_text=True)
    assert "清晨五点，急诊科的灯亮着。" in page and "&lt;i&gt;十年&lt;/i&gt;" in page
    assert 'id="recommend"' in page


def test_the_city_pages_say_what_recommended_only_leaves_out(
    client: FlaskClient, session: Session
) -> None:
    contest = new_contest(session, {"历下区": 1})
    user = organizer_of(session, "历下区")
    chosen = entry_of(session, contest, "历下区", title="被推荐的作品")
    entry_of(session, contest, "历下区", title="等待中的作品")
    recommend(session, contest, chosen, user)
    log_in(client, make_user(session, Role.ORGANIZER))
    assert "仅显示区县推荐的作品" not in client.get("/admin/").get_data(as_text=True)
    contest.recommendation_required = True
    session.commit()
    queue = client.get("/admin/").get_data(as_text=True)
    assert "仅显示区县推荐的作品：另有 1 件待县区推荐、0 件县区未推荐" in queue
    assert "被推荐的作品" in queue and "等待中的作品" not in queue
    judging = client.get("/admin/judging/").get_data(as_text=True)
    assert "仅显示区县推荐的作品" in judging and "可评作品 1 件" in judging
