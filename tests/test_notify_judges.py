"""Judges are told when a round opens for them, before it is due, and when their list changes.

Rules are called directly; messages are sent through `deliver()` to the real SMTP server of
the test process (the `mail_catcher`) and the `file` SMS provider, and once by the real
worker. Publishing after commit is caught here (`unpublished`), so no worker sends a
message before the test does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

import web.outbox_task  # noqa: F401 - installs the publisher this module catches
import worker.outbox
from judging.codes import codes_of
from judging.notification_scan import ScanContext, scanners
from judging.reminders_judge import remind_judges, window_of
from judging.round_due import BEIJING, DueError, parse_due
from judging.rounds import (
    add_to_panel,
    assign_round,
    assigned_entries,
    close_round,
    declare_conflict,
    remove_from_panel,
)
from judging.scoring import save_score
from storage.models import Entry, Role, Round, User, utcnow
from storage.notifications import set_preferences
from storage.outbox import OutboxMessage, OutboxState
from storage.settings import Settings
from tests.factories import make_user, ready_round, unique
from tests.fleet import wait_for
from web.mail_catcher import Catcher
from web.outbox_task import deliver
from web.template_helpers import beijing

FULL = {"theme": "25", "story": "25", "production": "20", "appeal": "10"}
BASE = "http://127.0.0.1:5000"


@pytest.fixture()
def unpublished(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The outbox rows committed during the test, kept from the worker: the test sends them."""
    kept: list[int] = []
    monkeypatch.setattr(worker.outbox, "_publish", kept.append)
    yield kept


def with_addresses(session: Session, judges: list[User]) -> list[User]:
    for judge in judges:
        judge.email = f"{unique('judge')}@example.org"
        judge.phone = f"139{int(unique('')):08d}"
    session.commit()
    return judges


def rows(session: Session, user: User, kind: str, channel: str = "email") -> list[OutboxMessage]:
    session.expire_all()
    query = select(OutboxMessage).where(
        OutboxMessage.user_id == user.id,
        OutboxMessage.kind == kind,
        OutboxMessage.channel == channel,
    )
    return list(session.scalars(query.order_by(OutboxMessage.id)))


def send(app: Flask, session: Session, settings: Settings, row: OutboxMessage) -> OutboxMessage:
    deliver(app, session, row.id, settings)
    return session.get_one(OutboxMessage, row.id, populate_existing=True)


def caught(catcher: Catcher, user: User, count: int = 1) -> list[tuple[str, str, str]]:
    """Subject, plain text and HTML of the mails caught for `user` (waiting for `count`)."""
    mails: list[EmailMessage] = wait_for(
        lambda: len(m := catcher.to(user.email)) >= count and m, 10, "the mail"
    )
    return [
        (
            # A long subject is folded right after "Subject:"; the parser keeps that space.
            str(m["Subject"]),
            m.get_body(("plain",)).get_content(),
            m.get_body(("html",)).get_content(),
        )
        for m in mails
    ]


def test_each_judge_given_entries_is_told_once_with_their_count_and_due_date(
    session: Session, app: Flask, settings: Settings, mail_catcher: Catcher, unpublished: list[int]
) -> None:
    _contest, rnd, entries, judges = ready_round(session, 3, 4, judges_per_entry=1, blind=False)
    with_addresses(session, judges)
    rnd.due_at = datetime(2030, 6, 1, 10, 0, tzinfo=UTC)  # 18:00 in Beijing
    session.commit()
    assign_round(session, rnd, entries, seed=1)
    assign_round(session, rnd, entries, seed=1)  # assigned again: nobody is told twice

    told = [j for j in judges if assigned_entries(session, rnd, j.id)]
    assert len(told) == 3
    for judge in judges:
        queued = rows(session, judge, "round_opened")
        assert len(queued) == (1 if judge in told else 0)
    for judge in told:
        n = len(assigned_entries(session, rnd, judge.id))
        assert send(app, session, settings, rows(session, judge, "round_opened")[0]).state == "sent"
        [(subject, text, html)] = caught(mail_catcher, judge)
        assert subject == f"“初评”评审开始：您有 {n} 件作品待评"
        assert f"组委会为您分配了 {n} 件作品" in text
        assert "请于 2030-06-01 18:00（北京时间）前完成评分" in text
        assert f"{BASE}/judge/" in text and f'href="{BASE}/judge/"' in html
        assert "足迹" not in text  # the count, not the list


def test_a_blind_round_tells_codes_only(
    session: Session, app: Flask, settings: Settings, mail_catcher: Catcher, unpublished: list[int]
) -> None:
    _contest, rnd, entries, judges = ready_round(session, 2, 2, judges_per_entry=1, blind=True)
    with_addresses(session, judges)
    assign_round(session, rnd, entries[:1])
    [judge] = [j for j in judges if assigned_entries(session, rnd, j.id)]
    entry = entries[1]
    [opened] = rows(session, judge, "round_opened")
    add_to_panel(session, rnd, judge, entry)
    [added_row] = rows(session, judge, "assignment_changed")
    for row in (opened, added_row):
        assert send(app, session, settings, row).state == OutboxState.SENT
    remove_from_panel(session, rnd, judge, entry)
    removed_row = rows(session, judge, "assignment_changed")[1]
    assert send(app, session, settings, removed_row).state == OutboxState.SENT
    code = codes_of(session, rnd)[entry.id]
    mails = caught(mail_catcher, judge, 3)
    for subject, text, html in mails:
        for secret in [*(e.title for e in entries), *(f"{e.number:04d}" for e in entries)]:
            assert secret not in subject + text + html
        assert "No." not in subject + text + html
    added, removed = mails[1], mails[2]
    assert code in added[0] and "新增" in added[0] and f"匿名编号 {code}" in added[1]
    assert f"{BASE}/judge/entries/{code}" in added[1]
    assert code in removed[0] and "移出" in removed[0] and "无需再为它评分" in removed[1]


def test_adding_removing_and_adding_again_tells_each_and_a_second_click_nothing(
    session: Session, app: Flask, settings: Settings, mail_catcher: Catcher, unpublished: list[int]
) -> None:
    _contest, rnd, [entry], [judge, other] = ready_round(
        session, 1, 2, judges_per_entry=1, blind=False
    )
    with_addresses(session, [judge, other])
    add_to_panel(session, rnd, judge, entry)
    add_to_panel(session, rnd, judge, entry)  # a double click
    remove_from_panel(session, rnd, judge, entry)
    remove_from_panel(session, rnd, judge, entry)  # was no longer on it
    add_to_panel(session, rnd, judge, entry)
    queued = rows(session, judge, "assignment_changed")
    assert [r.params["action"] for r in queued] == ["added", "removed", "added"]
    assert len({r.key for r in queued}) == 3
    assert not rows(session, other, "assignment_changed")
    for row in queued:
        assert send(app, session, settings, row).state == OutboxState.SENT
    code = codes_of(session, rnd)[entry.id]
    first, second, third = caught(mail_catcher, judge, 3)
    assert first[0] == f"“初评”评审列表新增作品 {code}"
    assert f"{code}《{entry.title}》" in first[1] and f"{BASE}/judge/entries/{code}" in first[1]
    assert second[0] == f"“初评”评审列表移出作品 {code}" and entry.title in second[1]
    assert third[0] == first[0]
    # The bulk assignment is told as the round opening, never entry by entry.
    assign_round(session, rnd, [entry])
    assert len(rows(session, judge, "assignment_changed")) == 3


def test_two_clicks_at_once_add_and_tell_once(
    session: Session, monkeypatch: pytest.MonkeyPatch, unpublished: list[int]
) -> None:
    _contest, rnd, [entry], [judge] = ready_round(session, 1, 1, judges_per_entry=1, blind=False)
    with_addresses(session, [judge])
    add_to_panel(session, rnd, judge, entry)
    # The other click checked before this one committed: its insert meets the constraint.
    monkeypatch.setattr("judging.rounds.is_on_list", lambda *_args: False)
    add_to_panel(session, rnd, judge, entry)
    assert len(rows(session, judge, "assignment_changed")) == 1
    assert [e.id for e in assigned_entries(session, rnd, judge.id)] == [entry.id]


def test_an_added_entry_taken_off_before_sending_is_not_announced(
    session: Session, app: Flask, settings: Settings, unpublished: list[int]
) -> None:
    _contest, rnd, [entry], [judge] = ready_round(session, 1, 1, judges_per_entry=1, blind=False)
    with_addresses(session, [judge])
    add_to_panel(session, rnd, judge, entry)
    declare_conflict(session, judge, entry, "declared")
    [row] = rows(session, judge, "assignment_changed")
    sent = send(app, session, settings, row)
    assert sent.state == OutboxState.SKIPPED and "不在评委的列表中" in sent.last_error


def test_a_judge_reading_english_gets_english(
    session: Session, app: Flask, settings: Settings, mail_catcher: Catcher, unpublished: list[int]
) -> None:
    _contest, rnd, [entry], [judge] = ready_round(session, 1, 1, judges_per_entry=1, blind=False)
    with_addresses(session, [judge])
    judge.language = "en"
    session.commit()
    assign_round(session, rnd, [entry])
    add_to_panel(session, rnd, judge, entry)  # already on it: nothing
    assert send(app, session, settings, rows(session, judge, "round_opened")[0]).state == "sent"
    remove_from_panel(session, rnd, judge, entry)
    [removed_row] = rows(session, judge, "assignment_changed")
    assert send(app, session, settings, removed_row).state == OutboxState.SENT
    opened, removed = caught(mail_catcher, judge, 2)
    assert opened[0] == "“初评” has begun: entries for you to score: 1"
    assert "Entries the organizers have given you to score: 1." in opened[1]
    assert removed[0].startswith("Entry A-") and "you no longer need to score it" in removed[1]


@pytest.mark.parametrize(
    ("before", "window"),
    [
        (timedelta(hours=49), None),
        (timedelta(hours=47), "d2"),
        (timedelta(hours=24, seconds=1), "d2"),
        (timedelta(hours=24), "d1"),
        (timedelta(hours=20), "d1"),
        (timedelta(seconds=1), "d1"),
        (timedelta(0), None),
        (-timedelta(hours=1), None),
    ],
)
def test_the_reminder_windows(before: timedelta, window: str | None) -> None:
    due = datetime(2030, 6, 1, 10, tzinfo=UTC)
    assert window_of(due, due - before) == window


def scored_round(session: Session) -> tuple[Round, list[Entry], User, User]:
    """Two entries both judges score, due in three days; `done` submitted both, `late` one
    draft."""
    _contest, rnd, entries, [done, late] = ready_round(
        session, 2, 2, judges_per_entry=2, blind=False
    )
    with_addresses(session, [done, late])
    rnd.due_at = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    session.commit()
    assign_round(session, rnd, entries)
    for entry in entries:
        save_score(session, rnd, done, entry, FULL, "", submit=True)
    save_score(session, rnd, late, entries[0], {"theme": "20"}, "", submit=False)
    return rnd, entries, done, late


def scan_at(session: Session, moment: datetime) -> int:
    queued = remind_judges(session, ScanContext(moment, 8))
    session.commit()
    return queued


def test_reminders_two_days_and_one_day_before_for_judges_with_scores_to_submit(
    session: Session, app: Flask, settings: Settings, mail_catcher: Catcher, unpublished: list[int]
) -> None:
    rnd, _entries, done, late = scored_round(session)
    assert rnd.due_at is not None
    due = rnd.due_at
    assert "round_reminders" in scanners()
    scan_at(session, due - timedelta(hours=50))
    assert not rows(session, late, "round_reminder")  # not yet
    scan_at(session, due - timedelta(hours=47))
    scan_at(session, due - timedelta(hours=30))  # the same window again: nothing new
    [d2] = rows(session, late, "round_reminder")
    assert d2.key.endswith(f"round-{rnd.id}-due-{due.isoformat()}-d2:u{late.id}:email")
    assert len(rows(session, late, "round_reminder", "sms")) == 1
    assert not rows(session, done, "round_reminder")  # everything submitted: no reminder
    scan_at(session, due - timedelta(hours=5))
    scan_at(session, due + timedelta(minutes=1))  # after the due date: nothing
    assert [r.params["window"] for r in rows(session, late, "round_reminder")] == ["d2", "d1"]

    d2 = send(app, session, settings, d2)
    [(subject, text, html)] = caught(mail_catcher, late)
    # The draft is not a submitted score: both entries are left.
    assert subject == "评审截止提醒：“初评”还有 2 件作品待评"
    assert "您还有 2 件作品尚未提交评分" in text and f"{BASE}/judge/" in html
    sms_row = rows(session, late, "round_reminder", "sms")[0]
    assert send(app, session, settings, sms_row).state == OutboxState.SENT
    sms = (Path(settings.sms_file_dir) / sms_row.message_id).read_text(encoding="utf-8")
    assert "【青春足迹】" in sms and "2 件作品未提交评分" in sms and f"{BASE}/judge/" in sms


def test_a_first_scan_on_the_last_day_sends_only_the_last_reminder_and_a_moved_date_again(
    session: Session, app: Flask, settings: Settings, unpublished: list[int]
) -> None:
    rnd, entries, _done, late = scored_round(session)
    assert rnd.due_at is not None
    scan_at(session, rnd.due_at - timedelta(hours=20))
    assert [r.params["window"] for r in rows(session, late, "round_reminder")] == ["d1"]
    first = rows(session, late, "round_reminder")[0]
    rnd.due_at += timedelta(days=2)  # the organizer gives two more days
    session.commit()
    assert send(app, session, settings, first).state == OutboxState.SKIPPED  # the old date
    scan_at(session, rnd.due_at - timedelta(hours=20))
    assert [r.params["window"] for r in rows(session, late, "round_reminder")] == ["d1", "d1"]
    # Submitting the rest before the mail goes: nothing left, nothing sent.
    for entry in entries:
        save_score(session, rnd, late, entry, FULL, "", submit=True)
    second = rows(session, late, "round_reminder")[1]
    sent = send(app, session, settings, second)
    assert sent.state == OutboxState.SKIPPED and "全部评分" in sent.last_error
    close_round(session, rnd)
    scan_at(session, rnd.due_at - timedelta(hours=2))
    assert len(rows(session, late, "round_reminder")) == 2


def test_a_conflict_leaves_the_count_and_turned_off_kinds_queue_nothing(
    session: Session, unpublished: list[int]
) -> None:
    _contest, rnd, entries, [judge, quiet] = ready_round(
        session, 3, 2, judges_per_entry=2, blind=False
    )
    with_addresses(session, [judge, quiet])
    set_preferences(session, quiet, [])  # every optional kind off
    session.commit()
    rnd.due_at = utcnow() + timedelta(hours=30)
    session.commit()
    assign_round(session, rnd, entries)
    declare_conflict(session, judge, entries[0], "declared")
    scan_at(session, utcnow())
    [reminder] = rows(session, judge, "round_reminder")
    assert reminder.params["left"] == 2  # the conflicted entry is not theirs to score
    assert len(rows(session, judge, "round_opened")) == 1
    for kind in ("round_opened", "round_reminder", "assignment_changed"):
        assert not rows(session, quiet, kind) and not rows(session, quiet, kind, "sms")
    remove_from_panel(session, rnd, quiet, entries[1])
    assert not rows(session, quiet, "assignment_changed")


def test_the_worker_sends_a_change_of_list(
    session: Session, worker: Any, mail_catcher: Catcher
) -> None:
    _contest, rnd, [entry], [judge] = ready_round(session, 1, 1, judges_per_entry=1, blind=False)
    with_addresses(session, [judge])
    add_to_panel(session, rnd, judge, entry)
    [(subject, text, _html)] = caught(mail_catcher, judge)
    assert subject.startswith("“初评”评审列表新增作品") and entry.title in text
    wait_for(lambda: rows(session, judge, "assignment_changed")[0].state == "sent", 10, "sent")


NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # 16:00 in Beijing


@pytest.mark.parametrize(
    ("typed", "due"),
    [
        ("", None),
        ("2026-12-03T18:00", datetime(2026, 12, 3, 10, 0, tzinfo=UTC)),
        ("2026-12-03 18:00:00", datetime(2026, 12, 3, 10, 0, tzinfo=UTC)),
        ("２０２６／１２／３　０８：３０", datetime(2026, 12, 3, 0, 30, tzinfo=UTC)),
    ],
)
def test_a_due_date_is_read_in_beijing_time(typed: str, due: datetime | None) -> None:
    assert parse_due(typed, NOW) == due


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("明天", "请按“年-月-日 时:分”填写"),
        ("2026-13-01T10:00", "请按“年-月-日 时:分”填写"),
        ("2026-12-01T15:59", "应晚于现在"),
        ("2062-12-01T10:00", "不能超过一年之后"),
    ],
)
def test_a_wrong_due_date_is_refused_in_chinese(typed: str, problem: str) -> None:
    with pytest.raises(DueError, match=re.escape(problem)):
        parse_due(typed, NOW)


def organizer(client: FlaskClient, auth: Any, session: Session) -> User:
    user = make_user(session, Role.ORGANIZER)
    assert auth.login(user.username).status_code == 302
    return user


def beijing_input(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M")


def test_the_desk_sets_and_changes_the_due_date_and_the_judge_reads_it(
    client: FlaskClient, auth: Any, session: Session, unpublished: list[int]
) -> None:
    contest, rnd, entries, [judge] = ready_round(session, 1, 1, judges_per_entry=1, blind=False)
    close_round(session, rnd)
    organizer(client, auth, session)
    typed = {"name": "复评", "advance": "top:1", "due_at": "2020-01-01T09:00"}
    wrong = client.post("/admin/judging/rounds", data=typed)
    page = wrong.get_data(as_text=True)
    assert wrong.status_code == 422
    assert 'data-error-for="due_at" role="alert">评审截止时间应晚于现在' in page
    for kept in typed.values():
        assert f'value="{kept}"' in page
    second_round = select(Round).where(Round.contest_id == contest.id, Round.position == 2)
    assert session.scalar(second_round) is None

    due = (utcnow() + timedelta(days=10)).replace(second=0, microsecond=0)
    client.post("/admin/judging/rounds", data={"name": "复评", "due_at": beijing_input(due)})
    second = session.scalar(second_round)
    assert second is not None and second.due_at == due
    desk = client.get("/admin/judging/").get_data(as_text=True)
    assert f'value="{beijing_input(due)}"' in desk
    assert f"评审截止 {beijing(due)}（北京时间）" in desk

    later = due + timedelta(days=1, minutes=30)
    changed = client.post("/admin/judging/due", data={"due_at": beijing_input(later)})
    page = client.get(changed.location).get_data(as_text=True)
    assert f"评审截止时间已改为 {beijing(later)}（北京时间）" in page
    refused = client.post("/admin/judging/due", data={"due_at": "明天"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "请按“年-月-日 时:分”填写" in page
    assert 'value="明天"' in page
    session.refresh(second)
    assert second.due_at == later

    assign_round(session, second, entries)
    auth.logout()
    auth.login(judge.username)
    mine = client.get("/judge/").get_data(as_text=True)
    assert f"请于 {beijing(later)}（北京时间）前完成评分" in mine


@pytest.mark.parametrize("sms", [True, False])
def test_the_judges_page_says_where_the_invitation_went(
    settings: Settings, session: Session, sms: bool, unpublished: list[int]
) -> None:
    import dataclasses

    from web import create_app

    app = create_app(
        {
            "SETTINGS": dataclasses.replace(settings, sms_provider="file" if sms else ""),
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
        }
    )
    client = app.test_client()
    user = make_user(session, Role.ORGANIZER)
    client.post("/auth/login", data={"username": user.username, "password": "password123"})
    for email in (f"{unique('inv')}@example.org", ""):
        phone = f"137{int(unique('')):08d}"
        form = {"display_name": "周老师", "phone": phone, "email": email}
        page = client.post("/admin/judges", data=form).get_data(as_text=True)
        said = {
            (True, True): f"邀请已同时发往邮箱 {email} 和手机 {phone}",
            (True, False): f"邀请已同时发往邮箱 {email}<",
            (False, True): f"未填写邮箱，邀请已通过短信发往 {phone}",
            (False, False): "未填写邮箱，请复制链接发给评委",
        }[bool(email), sms]
        assert said in page
    app.extensions["footprints.engine"].dispose()


def test_an_organizers_conflict_tells_the_judge_the_entry_left_their_list(
    session: Session, app: Flask, settings: Settings, unpublished: list[int]
) -> None:
    _contest, rnd, [first, second], [judge] = ready_round(
        session, 2, 1, judges_per_entry=1, blind=False
    )
    with_addresses(session, [judge])
    assign_round(session, rnd, [first, second])
    declare_conflict(session, judge, first, "declared")  # the judge knows: no message
    assert rows(session, judge, "assignment_changed") == []
    declare_conflict(session, judge, second, "organizer")
    [row] = rows(session, judge, "assignment_changed")
    assert row.params == {"round_id": rnd.id, "entry_id": second.id, "action": "removed"}
    assert send(app, session, settings, row).state == OutboxState.SENT
    declare_conflict(session, judge, second, "organizer")  # again: nothing left to take off
    assert len(rows(session, judge, "assignment_changed")) == 1
