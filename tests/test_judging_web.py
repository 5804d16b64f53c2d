"""Judging through the web: the judge's desk and score form, the organizer's desk, 公示, CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from judging.codes import codes_of
from judging.rounds import assigned_entries, current_round
from storage.models import Contest, EntryStatus, Role, Round, Snapshot, User
from tests.factories import make_entry, make_user, post_confirmed, unique

FULL = {"theme": "25", "story": "25", "production": "20", "appeal": "10"}


def setup_contest(session: Session) -> tuple[Contest, list[User]]:
    """A blind contest with 4 ready entries and 3 judges of its own (invite them to the round:
    a round with no invitations takes every active judge of the database)."""
    contest = Contest(
        slug=unique("web-judged-"),
        title="网页评审",
        blind=True,
        closes_at=datetime.now(UTC) + timedelta(days=1),
        award_tiers=[{"name": "一等奖", "count": 1}],
    )
    owner = make_user(session)
    for _ in range(4):
        entry = make_entry(session, owner, contest)
        entry.status = EntryStatus.READY
        entry.collective = "保密的集体名称"
    session.commit()
    judges = [make_user(session, Role.JUDGE) for _ in range(3)]
    return contest, judges


def started_round(
    client: FlaskClient, auth: Any, session: Session, seed: int
) -> tuple[Contest, list[User], User, Round]:
    """A contest whose organizer opened a round and assigned judges through the web."""
    contest, judges = setup_contest(session)
    organizer = make_user(session, Role.ORGANIZER)
    auth.login(organizer.username)
    client.post("/admin/judging/rounds", data={"name": "初评"})
    client.post("/admin/judging/invitations", data={"judge": [str(j.id) for j in judges]})
    client.post("/admin/judging/assign", data={"seed": str(seed)})
    auth.logout()
    rnd = current_round(session, contest)
    assert rnd is not None
    return contest, judges, organizer, rnd


def test_the_organizer_runs_a_round_and_judges_score_it(
    client: FlaskClient, auth: Any, session: Session, runner: Any
) -> None:
    contest, judges = setup_contest(session)
    organizer = make_user(session, Role.ORGANIZER)
    auth.login(organizer.username)
    client.post("/admin/judging/rounds", data={"name": "初评"})
    client.post("/admin/judging/invitations", data={"judge": [str(j.id) for j in judges]})
    page = client.post("/admin/judging/assign", data={"seed": "5"}, follow_redirects=True)
    assert "已分配 12 个评审任务" in page.get_data(as_text=True)  # 4 entries x 3 judges
    auth.logout()

    rnd = current_round(session, contest)
    assert rnd is not None
    codes = codes_of(session, rnd)
    for judge in judges:
        auth.login(judge.username)
        desk = client.get("/judge/").get_data(as_text=True)
        mine = assigned_entries(session, rnd, judge.id)
        assert all(e.title in desk and codes[e.id] in desk for e in mine) and "未评" in desk
        entry = mine[0]
        form = client.get(f"/judge/entries/{codes[entry.id]}").get_data(as_text=True)
        assert "保密的集体名称" not in form and "主题立意" in form  # blind
        bad = client.post(
            f"/judge/entries/{codes[entry.id]}", data={**FULL, "theme": "31", "action": "submit"}
        )
        assert "分数应在 0 到 30 之间" in bad.get_data(as_text=True)
        draft = client.post(
            f"/judge/entries/{codes[entry.id]}",
            data={"theme": "20", "action": "draft"},
            follow_redirects=True,
        )
        assert "草稿已保存" in draft.get_data(as_text=True)
        for e in mine:
            done = client.post(
                f"/judge/entries/{codes[e.id]}",
                data={**FULL, "action": "submit", "comment": "好作品"},
                follow_redirects=True,
            )
            assert "评分已提交" in done.get_data(as_text=True)
        auth.logout()

    stranger = make_user(session, Role.JUDGE)
    auth.login(stranger.username)
    assert client.get(f"/judge/entries/{codes[mine[0].id]}").status_code == 404
    assert client.get("/admin/judging/").status_code == 403
    auth.logout()

    auth.login(organizer.username)
    desk = client.get("/admin/judging/").get_data(as_text=True)
    assert "评审结果" in desk and "获奖线并列" in desk  # all equal: a tie at the line
    assert "去掉最高分和最低分后的平均分" in desk and "trimmed_mean" not in desk
    csv = client.get("/admin/judging/results.csv")
    assert csv.status_code == 200 and "名次" in csv.get_data(as_text=True)
    assert client.get("/admin/judging/results.xlsx").data[:2] == b"PK"
    rows = client.get("/admin/judging/results.json").get_json()
    assert {"entry", "rank", "score", "award", "flags"} <= set(rows[0])
    closed = client.post("/admin/judging/close", follow_redirects=True)  # nothing unresolved
    assert "本轮评审已结束" in closed.get_data(as_text=True)
    asked = client.post("/admin/judging/publish").get_data(as_text=True)  # the tie: asked first
    assert "第 1 名并列跨奖项线" in asked and "确认发布" in asked
    assert session.scalar(select(Snapshot).where(Snapshot.round_id == rnd.id)) is None
    published = post_confirmed(client, "/admin/judging/publish").get_data(as_text=True)
    assert "公示已发布" in published
    link = published.split('href="/announcements/')[1].split('"')[0]
    public = client.get(f"/announcements/{link}").get_data(as_text=True)
    assert "评审结果公示" in public and "校验码" in public

    out = runner.invoke(args=["results", contest.slug, "--format", "json"])
    assert out.exit_code == 0, out.output
    assert len(json.loads(out.output)) == 4


def test_the_organizer_invites_judges_and_sees_each_entrys_progress(
    client: FlaskClient, auth: Any, session: Session
) -> None:
    contest, judges = setup_contest(session)
    auth.login(make_user(session, Role.ORGANIZER).username)
    client.post("/admin/judging/rounds", data={"name": "初评"})
    saved = client.post(
        "/admin/judging/invitations",
        data={"judge": [str(j.id) for j in judges]},
        follow_redirects=True,
    )
    assert "本轮评委名单已更新" in saved.get_data(as_text=True)
    client.post("/admin/judging/assign", data={"seed": "1"})
    page = client.get("/admin/judging/").get_data(as_text=True)
    assert "作品进度" in page and "评委人数" in page
    bad = client.post(
        "/admin/judging/panels", data={"entry": "9999", "judge": "nobody"}, follow_redirects=True
    )
    assert "没有这个作品编号或评委用户名" in bad.get_data(as_text=True)


def test_judges_declare_and_organizers_set_conflicts(
    client: FlaskClient, auth: Any, session: Session
) -> None:
    contest, judges, organizer, rnd = started_round(client, auth, session, seed=2)
    judge = judges[0]
    first, second = assigned_entries(session, rnd, judge.id)[:2]
    code = codes_of(session, rnd)[first.id]
    auth.login(judge.username)
    declared = client.post(f"/judge/entries/{code}/conflict", follow_redirects=True)
    assert "已申报回避" in declared.get_data(as_text=True)
    assert client.get(f"/judge/entries/{code}").status_code == 404
    auth.logout()
    auth.login(organizer.username)
    client.post(
        "/admin/judging/panels",
        data={"entry": str(second.number), "judge": judge.username, "action": "conflict"},
    )
    # Both entries stay on the desk, short of a judge, and the counts add up.
    desk = client.get("/admin/judging/").get_data(as_text=True)
    assert "待补评委（2 件）" in desk and "没有可指派的评委" in desk  # 3 judges, all used
    assert "本轮作品 4 件 = 评委已配齐 2 件" in desk and "+ 待补评委 2 件 + 不再参评 0 件" in desk
    progress = desk.split('id="entry-progress"')[1].split("</table>")[0]
    assert progress.count("<tr") == 5  # the heading and every entry
    auth.logout()
    session.expire_all()
    remaining = assigned_entries(session, rnd, judge.id)
    assert first not in remaining and second not in remaining


def test_the_organizer_sets_up_judging_from_the_web(
    client: FlaskClient, auth: Any, session: Session
) -> None:
    # The page itself is walked in tests/test_judging_settings.py; here: what judging uses.
    contest, _judges = setup_contest(session)
    auth.login(make_user(session, Role.ORGANIZER).username)
    page = client.get("/admin/judging/settings").get_data(as_text=True)
    assert 'name="rubric-0-key"' in page and "去掉最高分和最低分后的平均分" in page
    form = {
        "blind": "1",
        "aggregation": "median",
        "reveal_scores": "after_submit",
        "trim_min_panel": "5",
        "judges_per_entry": "2",
        "jury_weight": "0.8",
        "disagreement": "15",
        "award_tiers-0-name": "一等奖",
        "award_tiers-0-kind": "count",
        "award_tiers-0-amount": "2",
        "award_tiers-1-name": "二等奖",
        "award_tiers-1-kind": "share",
        "award_tiers-1-amount": "10",
        "rubric-0-key": "theme",
        "rubric-0-name": "主题",
        "rubric-0-max_points": "50",
        "rubric-0-step": "1",
        "rubric-0-weight": "2",
        "rubric-0-tie": "1",
        "rubric-1-key": "craft",
        "rubric-1-name": "制作",
        "rubric-1-max_points": "50",
    }
    saved = client.post("/admin/judging/settings", data=form, follow_redirects=True)
    assert "评审设置已保存" in saved.get_data(as_text=True)
    session.expire_all()
    contest = session.get_one(Contest, contest.id)
    assert contest.aggregation == "median" and contest.judges_per_entry == 2
    assert contest.award_tiers == [{"name": "一等奖", "count": 2}, {"name": "二等奖", "share": 0.1}]
    assert [c["key"] for c in contest.rubric] == ["theme", "craft"]
    assert contest.tie_break == ["theme"]
    bad = client.post(
        "/admin/judging/settings",
        data={**form, "rubric-0-max_points": ""},
        follow_redirects=True,
    )
    assert "设置未保存" in bad.get_data(as_text=True)
    session.expire_all()
    assert session.get_one(Contest, contest.id).rubric[0]["max_points"] == 50


def test_closing_locks_the_form_and_an_organizer_unlocks_one_score(
    client: FlaskClient, auth: Any, session: Session
) -> None:
    contest, judges, organizer, rnd = started_round(client, auth, session, seed=3)
    judge = judges[1]
    entry = assigned_entries(session, rnd, judge.id)[0]
    code = codes_of(session, rnd)[entry.id]
    auth.login(judge.username)
    client.post(f"/judge/entries/{code}", data={**FULL, "action": "submit"})
    auth.logout()
    auth.login(organizer.username)
    post_confirmed(client, "/admin/judging/close")  # the other scores were never submitted
    auth.logout()
    auth.login(judge.username)
    form = client.get(f"/judge/entries/{code}").get_data(as_text=True)
    assert "分数已锁定" in form and "提交评分" not in form
    refused = client.post(
        f"/judge/entries/{code}", data={**FULL, "action": "submit"}, follow_redirects=True
    )
    assert "分数已锁定" in refused.get_data(as_text=True)
    auth.logout()
    auth.login(organizer.username)
    nothing = client.post(
        "/admin/judging/unlock", data={"entry": "9999", "judge": "x"}, follow_redirects=True
    )
    assert "没有这件作品的评分" in nothing.get_data(as_text=True)
    done = client.post(
        "/admin/judging/unlock",
        data={"entry": str(entry.number), "judge": judge.username},
        follow_redirects=True,
    )
    assert "已解锁这份评分" in done.get_data(as_text=True)
    auth.logout()
    auth.login(judge.username)
    again = client.post(
        f"/judge/entries/{code}",
        data={**FULL, "appeal": "15", "action": "submit"},
        follow_redirects=True,
    )
    assert "评分已提交" in again.get_data(as_text=True)
