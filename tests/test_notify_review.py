"""Contestants told of review decisions, the deadline and the 公示: the real worker, a real
SMTP server (aiosmtpd), PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from judging.notification_scan import ScanContext, scanners
from judging.reminders_contestant import remind_contestants
from judging.results import publish_snapshot
from judging.results_notices import tell_published
from judging.review import approve, send_back
from judging.rounds import assign_round, close_round, eligible_entries, open_round
from judging.scoring import save_score
from judging.submissions import update_entry, validate_fields
from storage.models import Contest, Entry, EntryStatus, Job, JobState, Role, Snapshot, User
from storage.notifications import set_preferences
from storage.outbox import OutboxMessage, OutboxState
from storage.settings import Settings
from tests.conftest import AuthActions
from tests.factories import ENTRY_FIELDS, make_entry, make_user, ready_round, unique
from tests.fleet import wait_for
from web.mail_catcher import Catcher
from web.outbox_task import deliver

pytestmark = pytest.mark.integration

FULL = {"theme": 25, "story": 25, "production": 20, "appeal": 10}
BASE = "http://127.0.0.1:5000"


def address() -> str:
    return f"{unique('contestant')}@example.org"


def rows(session: Session, user: User, kind: str, channel: str = "email") -> list[OutboxMessage]:
    session.expire_all()
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.user_id == user.id,
                OutboxMessage.kind == kind,
                OutboxMessage.channel == channel,
            )
            .order_by(OutboxMessage.id)
        )
    )


def parts(mail: EmailMessage) -> tuple[str, str, str]:
    """Subject, plain text and HTML of a caught mail."""
    plain = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert plain is not None and html is not None
    # Flask-Mailman folds a long encoded subject onto a continuation line: a leading space.
    return str(mail["Subject"]), plain.get_content(), html.get_content()


def contest_entry(session: Session, email: str, status: EntryStatus = EntryStatus.READY) -> Entry:
    """An entry of a contest of its own, its email `email`. The contest closes on a day of
    its own, a year or more ahead: a scan at a day before it finds no other test's contest."""
    now = datetime.now(UTC)
    contest = Contest(
        slug=unique("notify-"),
        title="通知测试",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=400 + 3 * int(unique(""))),
    )
    session.add(contest)
    entry = make_entry(session, make_user(session), contest)
    entry.email, entry.title, entry.status = email, f"青春{unique('')}", status
    session.commit()
    return entry


def test_an_approved_entry_tells_its_contestant_once(
    session: Session, app: Flask, worker, mail_catcher: Catcher, auth: AuthActions
) -> None:
    to = address()
    entry = contest_entry(session, to)
    organizer = make_user(session, Role.ORGANIZER)
    approve(session, [entry], organizer)
    approve(session, [entry], organizer)  # a double click: still approved as it was

    [mail] = wait_for(lambda: mail_catcher.to(to), 30, "the approval mail")
    subject, text, html = parts(mail)
    assert subject == f"作品 No.{entry.number:04d}《{entry.title}》已通过审核"
    url = f"{BASE}/submit/{entry.id}"
    assert url in text and url in html
    assert "List-Unsubscribe" in mail  # an optional kind
    assert len(rows(session, entry.owner, "entry_approved")) == 1
    assert rows(session, entry.owner, "entry_approved", "sms") == []  # mail only
    auth.login(entry.owner.username)
    assert auth._client.get(url.removeprefix(BASE)).status_code == 200


def test_a_sent_back_entry_tells_the_reason_escaped_and_a_second_return_after_a_fix(
    session: Session, app: Flask, worker, mail_catcher: Catcher
) -> None:
    to = address()
    entry = contest_entry(session, to)
    entry.contact_phone = "13900139000"
    session.commit()
    organizer = make_user(session, Role.ORGANIZER)
    reason = '片头请去掉单位名称 <script>alert("x")</script>'
    send_back(session, entry, reason, organizer)
    send_back(session, entry, reason, organizer)  # the form sent twice: the same decision

    [mail] = wait_for(lambda: mail_catcher.to(to), 30, "the return mail")
    subject, text, html = parts(mail)
    assert subject == f"作品 No.{entry.number:04d}《{entry.title}》被退回修改"
    assert reason in text  # the plain text as written
    assert "<script>" not in html and "&lt;script&gt;" in html
    deadline = (entry.contest.closes_at + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")
    assert deadline in text and f"{BASE}/submit/{entry.id}" in html
    assert "List-Unsubscribe" not in mail  # a return cannot be turned off
    [sms] = wait_for(
        lambda: [r for r in rows(session, entry.owner, "entry_returned", "sms") if r.body],
        30,
        "the return SMS",
    )
    assert sms.address == "13900139000" and sms.body.startswith("【青春足迹】")
    assert "片头请去掉单位名称" in sms.body

    # The contestant fixes it; sending it back again is a new decision, told again.
    fields = validate_fields({**ENTRY_FIELDS, "email": to, "title": entry.title}, entry.contest)
    update_entry(session, entry, fields)
    send_back(session, entry, reason, organizer)
    wait_for(lambda: len(mail_catcher.to(to)) == 2, 30, "the second return mail")
    assert len(rows(session, entry.owner, "entry_returned")) == 2


def test_the_announcement_tells_each_contestant_once_with_their_places(
    session: Session, app: Flask, worker, mail_catcher: Catcher, client: FlaskClient
) -> None:
    contest, rnd, entries, [judge] = ready_round(
        session,
        entries=3,
        judges=1,
        judges_per_entry=1,
        award_tiers=[{"name": "一等奖", "count": 1}],
    )
    first, second = make_user(session), make_user(session)
    first.email, second.email = address(), address()
    quiet = make_user(session)
    quiet.email = address()
    entries[0].owner = entries[1].owner = first
    entries[2].owner = second
    entries[0].email = entries[1].email = ""  # the owner's own address
    entries[2].email = second.email
    withdrawn = make_entry(session, quiet, contest)
    withdrawn.status = EntryStatus.WITHDRAWN  # no longer in the contest: not told
    session.commit()
    assign_round(session, rnd, eligible_entries(session, contest, rnd), seed=1)
    for points, entry in zip((5, 15, 25), entries, strict=True):
        save_score(session, rnd, judge, entry, {**FULL, "theme": points}, "", submit=True)
    close_round(session, rnd)

    snapshot = publish_snapshot(session, rnd)
    [mail] = wait_for(lambda: mail_catcher.to(first.email), 30, "the first contestant's mail")
    [other] = wait_for(lambda: mail_catcher.to(second.email), 30, "the second's mail")
    subject, text, html = parts(mail)
    assert subject == f"评审结果公示：{contest.title} {rnd.name}"
    assert f"No.{entries[0].number:04d}《{entries[0].title}》：名次 3" in text
    assert f"No.{entries[1].number:04d}《{entries[1].title}》：名次 2" in text
    assert entries[2].title not in text  # only their own entries
    assert "名次 1，得分 80.0，奖项 一等奖" in parts(other)[1]
    url = f"{BASE}/announcements/{snapshot.id}"
    assert url in text and url in html
    assert client.get(url.removeprefix(BASE)).status_code == 200
    assert len(rows(session, first, "results_published")) == 1
    assert rows(session, quiet, "results_published") == []
    # Telling the same 公示 again queues nothing.
    assert tell_published(session, snapshot) == 0
    session.rollback()


def test_a_mail_of_the_announcement_withholds_what_a_blind_round_withholds(
    session: Session, app: Flask, settings: Settings, mail_catcher: Catcher, client: FlaskClient
) -> None:
    contest, rnd, entries, [judge] = ready_round(
        session, entries=2, judges=1, judges_per_entry=1, blind=True
    )
    owner = entries[0].owner
    to = address()
    for n, entry in enumerate(entries):
        entry.email, entry.collective = to, f"保密集体{unique('')}号{n}"
    session.commit()
    assign_round(session, rnd, eligible_entries(session, contest, rnd), seed=2)
    for entry in entries:
        save_score(session, rnd, judge, entry, FULL, "", submit=True)
    close_round(session, rnd)
    open_round(session, contest, "复评")  # blind, every entry in it: collectives withheld
    snapshot = Snapshot(
        contest_id=contest.id,
        round_id=rnd.id,
        method="mean",
        content=[
            {"rank": 1, "number": e.number, "title": e.title, "collective": e.collective}
            | {"score": 80.0, "award": ""}
            for e in entries
        ],
        sha256="0" * 64,
    )
    session.add(snapshot)
    session.flush()
    assert tell_published(session, snapshot) == 1
    session.info.clear()  # not published: the test delivers it
    session.commit()
    [row] = rows(session, owner, "results_published")

    deliver(app, session, row.id, settings)
    [mail] = wait_for(lambda: mail_catcher.to(to), 30, "the mail")
    _subject, text, html = parts(mail)
    public = client.get(f"/announcements/{snapshot.id}").get_data(as_text=True)
    for entry in entries:
        assert entry.title in text and entry.title in public
        assert entry.collective not in text and entry.collective not in html
        assert entry.collective not in public


def reminder_rows(session: Session, entry: Entry) -> list[OutboxMessage]:
    return [
        r
        for r in rows(session, entry.owner, "deadline_reminder")
        if r.params.get("entry_id") == entry.id
    ]


def test_the_deadline_reminder_goes_once_a_day_before_to_entries_without_a_ready_video(
    session: Session, app: Flask, settings: Settings, mail_catcher: Catcher
) -> None:
    assert scanners()["deadline_reminder"] is remind_contestants
    draft = contest_entry(session, address(), EntryStatus.DRAFT)
    contest = draft.contest
    refused, ready, withdrawn, replacing = (
        make_entry(session, make_user(session), contest) for _ in range(4)
    )
    refused.status, withdrawn.status = EntryStatus.REJECTED, EntryStatus.WITHDRAWN
    refused.email = address()
    ready.status, replacing.status = EntryStatus.READY, EntryStatus.PROCESSING
    session.add_all(
        [
            Job(entry=refused, source_key=unique("k"), state=JobState.REJECTED),
            Job(entry=ready, source_key=unique("k"), state=JobState.READY),
            # A replacement being processed: the earlier ready video is still shown.
            Job(entry=replacing, source_key=unique("k"), state=JobState.READY),
            Job(entry=replacing, source_key=unique("k"), state=JobState.RUNNING),
        ]
    )
    session.commit()
    assert contest.closes_at is not None
    closes = contest.closes_at
    everyone = (draft, refused, ready, withdrawn, replacing)

    def scan_at(moment: datetime) -> None:
        remind_contestants(session, ScanContext(moment, 8))
        session.info.clear()  # not published: the test delivers what it checks
        session.commit()

    scan_at(closes - timedelta(hours=24, minutes=1))  # more than a day before
    scan_at(closes)  # the deadline itself: too late
    assert not any(reminder_rows(session, e) for e in everyone)
    scan_at(closes - timedelta(hours=23))
    scan_at(closes - timedelta(hours=2))  # a second scan tells nobody twice
    assert [len(reminder_rows(session, e)) for e in everyone] == [1, 1, 0, 0, 0]

    # The deadline moves: a reminder again, the old one no longer sent.
    contest.closes_at = closes + timedelta(hours=6)
    session.commit()
    scan_at(closes)
    [old, new] = reminder_rows(session, draft)
    deliver(app, session, old.id, settings)
    session.refresh(old)
    assert old.state == OutboxState.SKIPPED and "截止时间已更改" in old.last_error
    deliver(app, session, new.id, settings)
    [mail] = wait_for(lambda: mail_catcher.to(draft.email), 30, "the reminder")
    subject, text, html = parts(mail)
    deadline = (contest.closes_at + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")
    assert subject == f"提醒：作品 No.{draft.number:04d}《{draft.title}》需在 {deadline} 前完成提交"
    assert "尚未上传视频" in text and f"{deadline}（北京时间）" in text
    assert f"{BASE}/submit/{draft.id}" in html
    [_old_sms, sms] = rows(session, draft.owner, "deadline_reminder", "sms")
    deliver(app, session, sms.id, settings)
    session.refresh(sms)
    assert sms.state == OutboxState.SENT and sms.body.startswith("【青春足迹】")
    assert "尚未上传视频" in sms.body and deadline in sms.body
    [_old, refusal] = reminder_rows(session, refused)
    deliver(app, session, refusal.id, settings)
    [told] = wait_for(lambda: mail_catcher.to(refused.email), 30, "the refused entry's reminder")
    assert "视频未通过检查，需要重新上传" in parts(told)[1]
    # Once the video is ready, a reminder still queued is not sent.
    session.add(Job(entry=refused, source_key=unique("k"), state=JobState.READY))
    session.commit()
    [_old_sms, queued] = rows(session, refused.owner, "deadline_reminder", "sms")
    assert deliver(app, session, queued.id, settings) is None
    session.refresh(queued)
    assert queued.state == OutboxState.SKIPPED and "已处理完成" in queued.last_error


def test_optional_kinds_turned_off_are_not_sent_and_a_return_still_is(
    session: Session, app: Flask, settings: Settings
) -> None:
    entry = contest_entry(session, address())
    set_preferences(session, entry.owner, [])
    session.commit()
    organizer = make_user(session, Role.ORGANIZER)
    approve(session, [entry], organizer)
    assert rows(session, entry.owner, "entry_approved") == []
    send_back(session, entry, "请补充字幕", organizer)
    assert len(rows(session, entry.owner, "entry_returned")) == 1
    entry.status = EntryStatus.DRAFT
    session.commit()
    assert entry.contest.closes_at is not None
    remind_contestants(session, ScanContext(entry.contest.closes_at - timedelta(hours=1), 8))
    session.info.clear()
    session.commit()
    assert rows(session, entry.owner, "deadline_reminder") == []


def test_an_imported_entry_tells_its_organizer_account_nothing(session: Session) -> None:
    # A bulk import puts entries under an organizer's account: the decisions are theirs.
    entry = contest_entry(session, address())
    organizer = make_user(session, Role.ORGANIZER)
    entry.owner = organizer
    session.commit()
    approve(session, [entry], organizer)
    send_back(session, entry, "请补充授权书", organizer)
    assert rows(session, organizer, "entry_approved") == []
    assert rows(session, organizer, "entry_returned") == []
