"""The staff's messages: a failed job told at once to organizers and operators, and the
organizers' daily digest (its numbers, once a day, not before the digest hour)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from judging.digest import Digest, compute, digest_day, queue_digests, window
from judging.gallery import BEIJING
from judging.notification_scan import ScanContext, scanners
from judging.scoring import save_score
from storage.models import (
    Assignment,
    Contest,
    Entry,
    EntryStatus,
    Job,
    JobState,
    Role,
    User,
    utcnow,
)
from storage.outbox import OutboxMessage
from storage.settings import Settings
from tests.factories import make_entry, make_user, ready_round, unique
from tests.fleet import wait_for
from web.mail_catcher import Catcher
from web.outbox_task import deliver
from worker.dispatch import sweep
from worker.jobs import GaveUp, finish_job, start_job

FULL = {"theme": 25, "story": 25, "production": 20, "appeal": 10}
HOUR = 8


def _staff(session: Session, role: Role, active: bool = True) -> User:
    user = make_user(session, role)
    user.email = f"{unique(role.value)}@example.org"
    user.active = active
    session.commit()
    return user


def _running_job(session: Session, title: str = "失败的作品") -> Job:
    entry = make_entry(session, make_user(session))
    entry.title = title
    job = Job(
        entry=entry,
        source_key=f"originals/{entry.id}/x",
        state=JobState.RUNNING,
        attempts=1,
        started_at=utcnow(),
    )
    session.add(job)
    session.commit()
    return job


def _rows(session: Session, user: User, kind: str) -> list[OutboxMessage]:
    session.expire_all()
    query = select(OutboxMessage).where(
        OutboxMessage.user_id == user.id, OutboxMessage.kind == kind
    )
    return list(session.scalars(query.order_by(OutboxMessage.id)))


def test_a_failed_job_tells_organizers_and_operators_once(
    session: Session,
    session_factory: sessionmaker[Session],
    app: Flask,  # publishes to this run's queues
    worker: object,
    mail_catcher: Catcher,
) -> None:
    organizer, operator = _staff(session, Role.ORGANIZER), _staff(session, Role.OPERATOR)
    retired = _staff(session, Role.ORGANIZER, active=False)
    job = _running_job(session, "断电的作品")
    reason = "视频处理失败，组委会将协助处理 (ffmpeg: Conversion failed!)"

    finish_job(session_factory, job.id, JobState.FAILED, reason, "ffmpeg")
    finish_job(session_factory, job.id, JobState.FAILED, reason, "ffmpeg")  # told twice

    [to_organizer] = wait_for(lambda: mail_catcher.to(organizer.email), 30, "organizer's mail")
    [to_operator] = wait_for(lambda: mail_catcher.to(operator.email), 30, "operator's mail")
    number = f"No.{job.entry.number:04d}"
    assert str(to_organizer["Subject"]) == f"处理失败：作品《断电的作品》（{number}）"
    text = to_organizer.get_body(("plain",)).get_content()
    assert "Conversion failed!" in text and "已尝试 1 次" in text
    assert f"http://127.0.0.1:5000/admin/?q={number}#entry-{job.entry_id}" in text
    operator_text = to_operator.get_body(("plain",)).get_content()
    assert "http://127.0.0.1:5000/ops/" in operator_text and "重试" in operator_text
    assert [len(_rows(session, u, "job_failed")) for u in (organizer, operator, retired)] == [
        1,
        1,
        0,
    ]

    # An operator's retry starts it afresh (attempts back to 0); failing again tells again.
    row = session.get_one(Job, job.id, populate_existing=True)
    row.state, row.attempts, row.started_at = JobState.RUNNING, 1, utcnow() + timedelta(seconds=1)
    session.commit()
    finish_job(session_factory, job.id, JobState.FAILED, reason, "ffmpeg")
    assert len(_rows(session, organizer, "job_failed")) == 2


def test_a_refused_file_is_not_the_staffs_notice(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    organizer = _staff(session, Role.ORGANIZER)
    job = _running_job(session)
    finish_job(session_factory, job.id, JobState.REJECTED, "视频时长超过 10 分钟", "too_long")
    assert _rows(session, organizer, "job_failed") == []


def test_a_job_given_up_on_is_told_by_the_task_and_by_the_sweep(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    operator = _staff(session, Role.OPERATOR)
    job = _running_job(session)
    job.attempts = 3
    session.commit()
    with pytest.raises(GaveUp):
        start_job(session_factory, job.id, max_attempts=3)
    [row] = _rows(session, operator, "job_failed")
    assert row.params["attempts"] == 3 and "gave up" in row.params["reason"]

    stuck = _running_job(session)
    stuck.attempts, stuck.updated_at = 3, utcnow() - timedelta(hours=2)
    session.commit()
    result = sweep(session, timedelta(minutes=10), 3, publish=lambda _s, _j: True)
    assert stuck.id in result.given_up
    assert len(_rows(session, operator, "job_failed")) == 2


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), BEIJING).astimezone(UTC)


def _job(entry: Entry, state: JobState, at: datetime) -> Job:
    finished = at if state.finished else None
    key = f"originals/{entry.id}/{state}-{at.timestamp()}"
    return Job(entry=entry, source_key=key, state=state, created_at=at, finished_at=finished)


def test_the_digest_counts_a_small_contest(session: Session) -> None:
    day = date(2031, 5, 20)
    since, until = window(day, HOUR)
    assert (since, until) == (_at(day - timedelta(days=1), HOUR), _at(day, HOUR))
    contest, rnd, entries, judges = ready_round(session, entries=3, judges=2, judges_per_entry=2)
    inside, before = until - timedelta(hours=1), since - timedelta(hours=1)
    # Two entries arrived in the window, one the day before; one of the new ones is approved.
    session.add_all(
        [_job(entries[0], JobState.READY, inside), _job(entries[1], JobState.READY, inside)]
    )
    session.add(_job(entries[2], JobState.READY, before))
    entries[1].approved_at = inside
    refused = make_entry(session, entries[0].owner, contest)
    refused.status = EntryStatus.REJECTED
    session.add(_job(refused, JobState.REJECTED, inside))
    failed = make_entry(session, entries[0].owner, contest)
    failed.title, failed.status = "失败一", EntryStatus.FAILED
    session.add_all([_job(failed, JobState.FAILED, before), _job(failed, JobState.FAILED, inside)])
    # Both judges on the first two entries, none on the third (short); one score submitted.
    session.add_all(
        Assignment(round_id=rnd.id, judge_id=j.id, entry_id=e.id)
        for j in judges
        for e in entries[:2]
    )
    session.commit()
    save_score(session, rnd, judges[0], entries[0], FULL, "", submit=True)

    digest = compute(session, contest, day, HOUR)
    assert (digest.new_entries, digest.refusals, digest.failed_jobs) == (3, 1, 1)
    # The refused one came with its first video too; the failed entry's first job was before.
    assert [line.title for line in digest.new_listed] == ["足迹一", "足迹二", refused.title]
    assert [line.title for line in digest.failed_listed] == ["失败一"]
    assert digest.waiting_approval == 2
    assert (digest.round_name, digest.submitted, digest.assigned) == ("初评", 1, 4)
    assert [(j.submitted, j.assigned) for j in digest.judges] == [(1, 2), (0, 2)]
    assert digest.short_panels == 1 and digest.short_listed[0].title == "足迹三"
    assert not digest.quiet
    assert Digest.from_params(digest.as_params()) == digest


def test_the_digest_goes_once_a_day_from_the_digest_hour_to_active_organizers(
    session: Session, app: Flask, settings: Settings, mail_catcher: Catcher
) -> None:
    assert "daily_digest" in scanners()
    contest, _rnd, _entries, _judges = ready_round(session, entries=2, judges=1)
    organizer = _staff(session, Role.ORGANIZER)
    retired = _staff(session, Role.ORGANIZER, active=False)
    day = date(2031, 6, 1)
    assert digest_day(_at(day, HOUR - 1, 59), HOUR) is None

    assert queue_digests(session, ScanContext(_at(day, HOUR - 1, 59), HOUR)) == 0
    assert _rows(session, organizer, "daily_digest") == []
    assert queue_digests(session, ScanContext(_at(day, HOUR, 0), HOUR)) >= 1
    session.info.clear()  # not published: the test delivers it
    session.commit()
    assert queue_digests(session, ScanContext(_at(day, 22), HOUR)) == 0  # once a day
    assert _rows(session, retired, "daily_digest") == []
    [row] = _rows(session, organizer, "daily_digest")
    assert row.key == f"daily_digest:digest-{contest.id}-2031-06-01:u{organizer.id}:email"

    deliver(app, session, row.id, settings)
    [mail] = wait_for(lambda: mail_catcher.to(organizer.email), 30, "the digest")
    assert str(mail["Subject"]) == f"每日汇总：{contest.title}（2031-06-01）"
    text = mail.get_body(("plain",)).get_content()
    assert "2031-05-31 08:00 至 2031-06-01 08:00" in text
    assert "待审核：2 件作品" in text and "评审进度（初评）：已提交 0 / 0 份评分" in text
    assert "待补评委：2 件" in text and "http://127.0.0.1:5000/admin/" in text

    next_day = _at(day + timedelta(days=1), HOUR, 5)
    assert queue_digests(session, ScanContext(next_day, HOUR)) >= 1
    session.rollback()


def test_a_quiet_day_sends_no_digest(session: Session) -> None:
    organizer = _staff(session, Role.ORGANIZER)
    session.add(Contest(slug=unique("quiet-"), title="安静的活动"))
    session.commit()
    assert queue_digests(session, ScanContext(_at(date(2031, 7, 1), HOUR), HOUR)) == 0
    assert _rows(session, organizer, "daily_digest") == []
    queued = select(func.count()).where(
        OutboxMessage.kind == "daily_digest", OutboxMessage.key.contains("2031-07-01")
    )
    assert session.scalar(queued) == 0
