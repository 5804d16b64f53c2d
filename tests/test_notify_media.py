"""Contestants hear of their video: received, ready, refused (mail and SMS), quality advice.

The uploads go through the entry page's form, the real worker processes them and sends the
mail to the real SMTP catcher; the rest calls finish_job and deliver() directly.
"""

from __future__ import annotations

import io
import re
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from storage.entry_notices import tell_owner
from storage.models import Entry, EntryStatus, Job, JobState, Role
from storage.notifications import set_preferences
from storage.outbox import OutboxMessage, OutboxState
from storage.settings import Settings
from tests.factories import make_entry, make_user, open_contest, unique
from tests.fleet import wait_for
from tests.media import make_clip
from web.mail_catcher import Catcher
from web.outbox_task import deliver
from worker import reasons
from worker.contestant_notices import tell_outcome, worth_fixing
from worker.jobs import finish_job
from worker.media.limits import MediaLimits
from worker.media.probe import probe
from worker.media.refusal import MediaRefused

pytestmark = pytest.mark.integration
CJK = re.compile(r"[\u4e00-\u9fff]")


def contestant_entry(session: Session, language: str = "zh_CN") -> tuple[Entry, str]:
    """An entry whose contact e-mail (and phone) are the test's own; its address."""
    address = f"{unique('contestant')}@example.org"
    owner = make_user(session)
    owner.language = language
    entry = make_entry(session, owner, open_contest(session))
    entry.email = address
    entry.contact_phone = f"139{int(unique('')):08d}"
    session.commit()
    return entry, address


def text_of(mail: EmailMessage) -> str:
    return mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def mail_of(mails: list[EmailMessage], subject_part: str) -> EmailMessage | None:
    """The one mail whose subject holds `subject_part` (None before it arrives)."""
    found = [m for m in mails if subject_part in str(m["Subject"])]
    assert len(found) <= 1, [str(m["Subject"]) for m in found]
    return found[0] if found else None


def rows(session: Session, entry: Entry, kind: str | None = None) -> list[OutboxMessage]:
    session.expire_all()
    query = select(OutboxMessage).where(OutboxMessage.user_id == entry.owner_id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(session.scalars(query.order_by(OutboxMessage.id)))


def upload(client: FlaskClient, entry: Entry, data: bytes) -> None:
    response = client.post(
        f"/submit/{entry.id}/video",
        data={"video": (io.BytesIO(data), "我们的故事.mp4")},
        content_type="multipart/form-data",
    )
    assert response.status_code in (200, 302), response.get_data(as_text=True)[:500]


def entry_link(settings: Settings, entry: Entry) -> str:
    return f"{settings.public_base_url.rstrip('/')}/submit/{entry.id}"


def test_a_processed_upload_tells_received_ready_and_the_quality_warning(
    session: Session,
    client: FlaskClient,
    auth: Any,
    settings: Settings,
    worker: Any,
    mail_catcher: Catcher,
    tmp_path: Path,
) -> None:
    entry, address = contestant_entry(session)
    auth.login(entry.owner.username)
    # 320×180 is below 480 lines: the report says so, and that is worth fixing.
    upload(client, entry, make_clip(tmp_path / "clip.mp4", 320, 180, 1.0, fps=10).read_bytes())

    mails = wait_for(lambda: len(m := mail_catcher.to(address)) >= 3 and m, 90, "three mails")
    number = f"No.{entry.number:04d}"
    received, ready, quality = (mail_of(mails, s) for s in ("已收到", "已处理完成", "质量提醒"))
    assert received and ready and quality, [str(m["Subject"]) for m in mails]
    assert all(number in str(m["Subject"]) and entry.title in str(m["Subject"]) for m in mails)
    assert number in text_of(received) and "List-Unsubscribe" in ready
    assert "分辨率偏低" in text_of(quality) and "更换视频" in text_of(quality)
    link = entry_link(settings, entry)
    for mail in (received, ready):
        assert link in text_of(mail)
        assert link in mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    # The link opens the entry page, which shows the video ready.
    page = client.get(link.removeprefix(settings.public_base_url.rstrip("/")))
    assert page.status_code == 200 and "已就绪" in page.get_data(as_text=True)
    assert [r.kind for r in rows(session, entry)] == [
        "entry_received",
        "video_ready",
        "quality_warning",
    ]


def test_a_refused_file_tells_the_chinese_reason_by_mail_and_sms(
    session: Session,
    client: FlaskClient,
    auth: Any,
    settings: Settings,
    worker: Any,
    mail_catcher: Catcher,
    tmp_path: Path,
) -> None:
    entry, address = contestant_entry(session)
    auth.login(entry.owner.username)
    # A real file cut off after 1500 bytes: it looks like MP4 to the form, the probe refuses it.
    whole = make_clip(tmp_path / "whole.mp4", 160, 90, 1.0, fps=10).read_bytes()
    upload(client, entry, whole[:1500])

    wait_for(lambda: mail_of(mail_catcher.to(address), "未通过检查"), 60, "the refusal mail")
    session.expire_all()
    job = session.get_one(Entry, entry.id).latest_job()
    assert job is not None and job.state is JobState.REJECTED
    sentence, detail = reasons.contestant_reason(job.reason), reasons.detail_of(job.reason)
    refused = mail_of(mail_catcher.to(address), "视频未通过检查")
    assert refused is not None
    text = text_of(refused)
    assert sentence in text and detail not in text and "(" not in text.split("--")[0]
    assert f"{entry_link(settings, entry)}#video-form" in text
    assert entry.contest.closes_at is not None and "截止时间" in text
    assert "List-Unsubscribe" not in refused  # it cannot be turned off

    def sms_sent() -> OutboxMessage | None:
        [row] = [r for r in rows(session, entry, "video_refused") if r.channel == "sms"]
        return row if row.state == OutboxState.SENT else None

    sms_row = wait_for(sms_sent, 30, "the SMS sent")
    assert sms_row.address == entry.contact_phone
    sms = (Path(settings.sms_file_dir) / sms_row.message_id).read_text(encoding="utf-8")
    assert "【青春足迹】" in sms and sentence in sms and detail not in sms


def finished(
    session: Session, factory: sessionmaker[Session], entry: Entry, state: JobState, **kw: Any
) -> Job:
    """A job of `entry` ended in `state` by finish_job, as the worker ends it."""
    job = Job(entry=entry, source_key=f"originals/{entry.id}/{unique('job')}")
    session.add(job)
    session.commit()
    finish_job(factory, job.id, state, **kw)
    return job


def keys_of(session: Session, job: Job) -> int:
    session.expire_all()
    return session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.key.like(f"%:job-{job.id}:%"))
    )


def test_a_redelivered_end_tells_nobody_twice(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    entry, _address = contestant_entry(session)
    reason = reasons.job_reason("视频时长超过 10 分钟，请剪短后重新上传", "too long")
    job = finished(session, session_factory, entry, JobState.REJECTED, reason=reason)
    assert keys_of(session, job) == 2  # e-mail and SMS
    finish_job(session_factory, job.id, JobState.REJECTED, reason)
    assert tell_outcome(session, session.get_one(Job, job.id)) == []
    session.rollback()
    assert keys_of(session, job) == 2


def test_ready_turned_off_is_not_sent_but_a_refusal_still_is(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    entry, _address = contestant_entry(session)
    set_preferences(session, entry.owner, [])
    session.commit()
    ready = finished(session, session_factory, entry, JobState.READY, media_seconds=1.0)
    assert keys_of(session, ready) == 0
    refused = finished(session, session_factory, entry, JobState.REJECTED, reason="无法识别")
    assert {r.kind for r in rows(session, entry)} == {"video_refused"}
    assert keys_of(session, refused) == 2


def test_failures_replaced_jobs_and_imports_tell_the_contestant_nothing(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    entry, _address = contestant_entry(session)
    failed = finished(session, session_factory, entry, JobState.FAILED, reason="x")
    assert keys_of(session, failed) == 0  # the organizers' job_failed, not the contestant's
    older = Job(entry=entry, source_key="originals/a", state=JobState.RUNNING)
    session.add_all([older, Job(entry=entry, source_key="originals/b")])
    session.commit()
    finish_job(session_factory, older.id, JobState.REJECTED, "无法识别")
    assert keys_of(session, older) == 0  # a newer upload replaced it already
    organizer = make_user(session, Role.ORGANIZER)
    organizer.email = "importer@example.org"
    imported = make_entry(session, organizer)
    assert tell_owner(session, "video_ready", imported, "job-0", {}) == []
    session.rollback()


def queued(session: Session, entry: Entry, job: Job) -> list[int]:
    """The job's messages queued but not published: the test delivers them."""
    ids = tell_outcome(session, job)
    session.info.clear()
    session.commit()
    return ids


def ready_job(session: Session, entry: Entry, qc: list[dict[str, Any]]) -> Job:
    job = Job(entry=entry, source_key=f"originals/{entry.id}/q", state=JobState.READY)
    job.media_seconds = 30.0
    entry.qc = qc
    entry.status = EntryStatus.READY
    session.add(job)
    session.commit()
    return job


FINDINGS = [
    {"kind": "black", "start": 0.0, "end": 1.0, "message": "开头 1 秒为黑屏"},  # a fade in
    {"kind": "frozen", "start": 10.0, "end": 14.0, "message": "第 10秒 起有 4 秒画面静止不动"},
    {"kind": "loud", "start": None, "end": None, "message": "原声音量偏大，已自动降低"},
    {"kind": "low_resolution", "start": None, "end": None, "message": "分辨率偏低（320×180）"},
]


def test_the_quality_warning_lists_the_findings_worth_fixing(
    session: Session, app: Flask, settings: Settings, mail_catcher: Catcher
) -> None:
    assert worth_fixing(FINDINGS, 30.0) == [FINDINGS[1]["message"], FINDINGS[3]["message"]]
    entry, address = contestant_entry(session)
    job = ready_job(session, entry, FINDINGS)
    ids = queued(session, entry, job)
    assert [r.kind for r in rows(session, entry)] == ["video_ready", "quality_warning"]
    for message_id in ids:
        assert deliver(app, session, message_id, settings) is None
    mail = wait_for(lambda: mail_of(mail_catcher.to(address), "质量提醒"), 10, "the mail")
    text = text_of(mail)
    assert "画面静止不动" in text and "分辨率偏低" in text
    assert "黑屏" not in text and "音量偏大" not in text  # a fade, and what was corrected
    assert "截止时间" in text and f"{entry_link(settings, entry)}#quality" in text

    plain = ready_job(session, contestant_entry(session)[0], FINDINGS[:1] + FINDINGS[2:3])
    assert [r.kind for r in rows(session, plain.entry)] == []
    queued(session, plain.entry, plain)
    assert [r.kind for r in rows(session, plain.entry)] == ["video_ready"]


def test_an_english_reader_gets_the_refusal_in_english_only(
    session: Session, app: Flask, settings: Settings, mail_catcher: Catcher, tmp_path: Path
) -> None:
    entry, address = contestant_entry(session, language="en")
    entry.title, entry.owner.display_name = "Our Footprints", "Li Lei"
    path = tmp_path / "long.mp4"
    make_clip(path, 160, 90, 2.0, fps=10, audio=False)
    with pytest.raises(MediaRefused) as refused:
        probe(str(path), MediaLimits(max_duration=1.0))
    reason = refused.value.reason
    job = Job(entry=entry, source_key="originals/long", state=JobState.REJECTED, reason=reason)
    entry.status = EntryStatus.REJECTED
    session.add(job)
    session.commit()
    ids = queued(session, entry, job)
    assert len(ids) == 2
    for message_id in ids:
        deliver(app, session, message_id, settings)
    [mail] = wait_for(lambda: mail_catcher.to(address), 10, "the refusal mail")
    text = text_of(mail).split("--")[0]
    assert str(mail["Subject"]).startswith("The video of") and "did not pass" in text
    assert reasons.english_refusal(reason) in text and not CJK.search(text)
    assert [r.state for r in rows(session, entry)] == [OutboxState.SENT, OutboxState.SENT]


def test_a_withdrawn_entry_is_not_told_its_video_is_ready(
    session: Session, app: Flask, settings: Settings
) -> None:
    entry, _address = contestant_entry(session)
    job = ready_job(session, entry, [])
    [message_id] = queued(session, entry, job)
    entry.status = EntryStatus.WITHDRAWN
    session.commit()
    deliver(app, session, message_id, settings)
    row = session.get_one(OutboxMessage, message_id, populate_existing=True)
    assert row.state == OutboxState.SKIPPED and row.last_error == "作品已撤回"
