"""The outbox end to end: a real SMTP server (aiosmtpd), the real worker, PostgreSQL."""

from __future__ import annotations

import dataclasses
import email.policy
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from judging.judge_invitations import JudgeFields, create_judges
from storage.models import Job, Role, User
from storage.notifications import notify, set_preferences
from storage.outbox import OutboxMessage, OutboxState
from storage.settings import Settings, SettingsError
from tests.factories import make_entry, make_user, open_contest, queued_invitation, unique
from tests.fleet import wait_for
from web.mail_catcher import Catcher
from web.outbox_task import deliver
from worker.outbox import claim, prune_outbox, requeue, sweep_outbox


def _judge_fields(email: str) -> JudgeFields:
    n = unique("")
    return JudgeFields(f"评委{n}", "市文明办", "市直", f"139{int(n):08d}", email)


def _unpublished_invitation(session: Session, language: str = "zh_CN") -> int:
    """An invitation queued but not published, so that the test itself sends it."""
    return queued_invitation(session, language=language).message_id


def _row(session: Session, user: User, kind: str, channel: str = "email") -> OutboxMessage:
    session.expire_all()
    return session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.user_id == user.id,
            OutboxMessage.kind == kind,
            OutboxMessage.channel == channel,
        )
    ).one()


def test_an_invited_judge_gets_the_link_by_mail_once(
    session: Session, app: Flask, worker, mail_catcher: Catcher
) -> None:
    address = f"{unique('judge')}@example.org"
    organizer = make_user(session, Role.ORGANIZER)
    [link] = create_judges(session, [_judge_fields(address)], organizer)

    [mail] = wait_for(lambda: mail_catcher.to(address), 30, "the invitation mail")
    raw = mail.as_bytes(policy=email.policy.SMTP)
    assert b"Subject: =?utf-8?" in raw  # the Chinese subject is encoded, not raw bytes
    assert str(mail["Subject"]).startswith("评委邀请")
    assert "List-Unsubscribe" not in mail  # an invitation cannot be turned off
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    url = f"http://127.0.0.1:5000/auth/activate/{link.token}"
    assert url in text and url in html
    # The link in the mail works: it opens the activation page.
    page = app.test_client().get(url.removeprefix("http://127.0.0.1:5000"))
    assert page.status_code == 200 and link.user.username in page.get_data(as_text=True)

    row = wait_for(
        lambda: (r := _row(session, link.user, "judge_invitation")).state == OutboxState.SENT and r,
        30,
        "the row recorded as sent",
    )
    assert row.message_id == mail["Message-ID"]
    assert "token" not in row.params and link.token not in row.body  # the secret is gone
    sms = _row(session, link.user, "judge_invitation", "sms")
    wait_for(lambda: _row(session, link.user, "judge_invitation", "sms").state == "sent", 30, "sms")
    assert sms.address == link.user.phone


def test_telling_the_same_event_twice_queues_it_once(session: Session) -> None:
    user = make_user(session)
    user.email = "twice@example.org"
    first = notify(session, "entry_received", user, "entry-1")
    second = notify(session, "entry_received", user, "entry-1")
    session.rollback()  # nothing of it is published: the event did not happen
    assert len(first) == 1 and second == []


def test_a_kind_turned_off_queues_nothing_and_one_that_cannot_be_still_goes(
    session: Session,
) -> None:
    user = make_user(session)
    user.email = "quiet@example.org"
    set_preferences(session, user, [])
    session.commit()
    assert notify(session, "entry_received", user, "entry-9") == []
    assert len(notify(session, "video_refused", user, "job-9")) == 1
    session.rollback()


def test_a_server_that_is_down_means_later_and_then_failed(
    session: Session, app: Flask, settings: Settings
) -> None:
    down = dataclasses.replace(settings, mail_port=1, outbox_max_attempts=2)
    message_id = _unpublished_invitation(session)

    wait = deliver(app, session, message_id, down)
    row = session.get_one(OutboxMessage, message_id, populate_existing=True)
    assert wait == timedelta(seconds=30) and row.state == OutboxState.QUEUED
    assert "连接邮件服务器失败" in row.last_error
    assert deliver(app, session, message_id, down) is None  # not due yet: nothing happens
    row.next_attempt_at = None
    session.commit()
    assert deliver(app, session, message_id, down) is None
    session.refresh(row)
    assert row.state == OutboxState.FAILED and row.attempts == 2
    assert "token" not in row.params  # a failed invitation does not keep its link
    assert requeue(session, message_id)
    session.commit()
    assert deliver(app, session, message_id, settings) is None
    session.refresh(row)
    # Sending it again cannot bring the link back: the organizer resends the invitation.
    assert row.state == OutboxState.SKIPPED and "重新发送邀请" in row.last_error


def test_a_message_claimed_and_never_recorded_becomes_uncertain_not_resent(
    session: Session, settings: Settings
) -> None:
    message_id = _unpublished_invitation(session)
    assert claim(session, message_id) is not None
    assert claim(session, message_id) is None  # a redelivery finds it taken
    later = dataclasses.replace(settings, outbox_sending_timeout_seconds=0)
    sweep_outbox(session, later, now=None)
    row = session.get_one(OutboxMessage, message_id, populate_existing=True)
    assert row.state == OutboxState.UNCERTAIN and "可能已经发出" in row.last_error


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_mail_is_written_in_the_recipients_language(
    session: Session, app: Flask, settings: Settings, mail_catcher: Catcher, language: str
) -> None:
    message_id = _unpublished_invitation(session, language)
    deliver(app, session, message_id, settings)
    row = session.get_one(OutboxMessage, message_id, populate_existing=True)
    [mail] = wait_for(lambda: mail_catcher.to(row.address), 30, "the mail")
    subject, text = str(mail["Subject"]), mail.get_body(("plain",)).get_content()
    if language == "en":
        assert subject.startswith("Judge invitation") and "Dear " in text
    else:
        assert subject.startswith("评委邀请") and "您好" in text


def test_a_long_chinese_subject_is_encoded_without_a_leading_space(
    session: Session, app: Flask, settings: Settings, mail_catcher: Catcher
) -> None:
    message_id = _unpublished_invitation(session)
    contest = open_contest(session)
    contest.title = "中国梦·青春足迹——青年文明号成长故事微视频征集活动（第二届）"
    session.commit()
    deliver(app, session, message_id, settings)
    row = session.get_one(OutboxMessage, message_id, populate_existing=True)
    [mail] = wait_for(lambda: mail_catcher.to(row.address), 30, "the mail")
    raw = mail.as_bytes(policy=email.policy.SMTP)
    first = next(line for line in raw.splitlines() if line.startswith(b"Subject:"))
    assert first.startswith(b"Subject: =?utf-8?")  # not folded right after the name
    assert str(mail["Subject"]) == f"评委邀请：{contest.title}"


def test_a_title_with_line_breaks_makes_a_one_line_subject_and_no_header(
    session: Session, app: Flask, settings: Settings, mail_catcher: Catcher
) -> None:
    owner = make_user(session)
    entry = make_entry(session, owner)
    entry.email = f"{unique('crlf')}@example.org"
    entry.title = "我们的\r\nBcc: victim@example.org\r\n足迹"
    session.flush()
    job = Job(entry=entry, source_key=f"originals/{unique('k')}")
    session.add(job)
    session.flush()
    [message_id] = notify(
        session,
        "entry_received",
        owner,
        f"job-{job.id}",
        {"entry_id": entry.id, "job_id": job.id, "number": entry.number},
        email=entry.email,
    )
    session.info.clear()
    session.commit()
    deliver(app, session, message_id, settings)
    row = session.get_one(OutboxMessage, message_id, populate_existing=True)
    assert row.state == OutboxState.SENT, row.last_error
    [mail] = wait_for(lambda: mail_catcher.to(entry.email), 30, "the mail")
    assert "Bcc" not in mail and "\n" not in str(mail["Subject"])
    assert "Bcc: victim@example.org" in str(mail["Subject"])  # as text, on the one line
    envelope = next(e for e in mail_catcher.envelopes if entry.email in e.rcpt_tos)
    assert envelope.rcpt_tos == [entry.email]


def test_ended_messages_are_deleted_after_the_keeping_time_and_others_stay(
    session: Session,
) -> None:
    now = datetime.now(UTC)
    ids = {state: queued_invitation(session).message_id for state in OutboxState}
    young = queued_invitation(session).message_id
    for state, message_id in ids.items():
        row = session.get_one(OutboxMessage, message_id)
        row.state, row.created_at = state, now - timedelta(days=181)
    session.get_one(OutboxMessage, young).state = OutboxState.SENT
    session.commit()
    prune_outbox(session, timedelta(days=180), now)
    session.expire_all()
    left = {state for state, message_id in ids.items() if session.get(OutboxMessage, message_id)}
    # What is still to be sent (or being sent) stays however old; what ended goes.
    assert left == {OutboxState.QUEUED, OutboxState.SENDING}
    assert session.get(OutboxMessage, young) is not None
    with pytest.raises(SettingsError):
        Settings.from_env(outbox_keep_days=7)
