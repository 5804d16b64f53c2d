"""Process one activity report file (a photo or the short video) on the media fleet.

Plain Python over a session factory and an object store, like worker/jobs.py: the task in
worker/tasks.py is a thin wrapper. Outputs go to deterministic keys (derived_key of the
original), so a redelivered message overwrites its own outputs; a file already finished is
left alone. A photo gets the 2048/1080/480 images of `process_image`; a video goes through
the usual pipeline, of which only the largest rendition and the large poster are kept.
"""

from __future__ import annotations

import logging
import os
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from storage.database import session_scope
from storage.models import JobState, ReportFile, utcnow
from storage.objects import ObjectMissing, ObjectStore, derived_key
from storage.settings import Settings
from worker import log_context, reasons
from worker.celery_app import celery
from worker.jobs import CONTENT_TYPES, failure_reason
from worker.media.ffmpeg_run import FfmpegFailed
from worker.media.images import process_image
from worker.media.pipeline import probe_file, process_file
from worker.media.probe import format_duration_zh
from worker.media.refusal import MediaRefused
from worker.media.subprocesses import SubprocessTimeout
from worker.queues import REPORT_FILE_TASK

log = logging.getLogger(__name__)
# A queued row younger than this may still be on its way to the broker from the web.
UNSENT_GRACE = timedelta(seconds=30)
MISSING = "原文件已不存在，请删除后重新上传 (original not stored)"


class FileGone(LookupError):
    """The report file's row does not exist (deleted with its report, or never committed)."""


def publish_report_file(session: Session, file: ReportFile) -> bool:
    """Send a committed file's id to the media queue; False (left queued) if the broker is down."""
    task_id = uuid.uuid4().hex
    try:
        # By name: the task module imports this one (see worker.dispatch.publish_job).
        celery.send_task(REPORT_FILE_TASK, args=[file.id], task_id=task_id)
    except (BrokerError, OSError) as exc:
        log.error("report file %s not published, broker unavailable: %s", file.id, exc)
        return False
    file.task_id = task_id
    file.published_at = utcnow()
    session.commit()
    return True


def start_file(factory: sessionmaker[Session], file_id: int, max_attempts: int) -> bool:
    """Mark a file running; False when it is finished already (or was started too often)."""
    with session_scope(factory) as session:
        file = session.get(ReportFile, file_id, with_for_update=True)
        if file is None:
            raise FileGone(file_id)
        log_context.bind(report_id=file.report_id)
        if file.state.finished:
            return False
        if file.attempts >= max_attempts:
            _end(file, JobState.FAILED, reasons.gave_up(file.attempts), "gave_up")
            session.commit()
            return False
        file.state = JobState.RUNNING
        file.attempts += 1
        file.percent = 0.0
        file.reason = file.reason_code = ""
        session.commit()
        return True


def finish_file(
    factory: sessionmaker[Session],
    file_id: int,
    state: JobState,
    reason: str = "",
    code: str = "",
    outputs: dict[str, str] | None = None,
) -> None:
    """Record a file's end (or, for a retry, queued) state and what it made."""
    with session_scope(factory) as session:
        file = session.get(ReportFile, file_id, with_for_update=True)
        if file is None:
            raise FileGone(file_id)
        _end(file, state, reason, code)
        if state is JobState.QUEUED and file.attempts > 0:
            file.attempts -= 1  # a passing fault's retry, not a start that crashed
        if outputs is not None:
            file.outputs = outputs
        session.commit()


def _end(file: ReportFile, state: JobState, reason: str, code: str) -> None:
    file.state = state
    file.reason = reason
    file.reason_code = code
    if state is JobState.READY:
        file.percent = 100.0


def _progress(factory: sessionmaker[Session], file_id: int, percent: float) -> None:
    with session_scope(factory) as session:
        session.execute(
            update(ReportFile)
            .where(ReportFile.id == file_id, ReportFile.state == JobState.RUNNING)
            .values(percent=percent, updated_at=utcnow())
        )
        session.commit()


def process_report_file(
    factory: sessionmaker[Session], store: ObjectStore, settings: Settings, file_id: int
) -> JobState:
    """Process one report file to its end state; passing faults (S3, database) propagate."""
    if not start_file(factory, file_id, settings.max_attempts):
        with session_scope(factory) as session:
            return session.get_one(ReportFile, file_id).state
    with session_scope(factory) as session:
        file = session.get_one(ReportFile, file_id)
        kind, bucket, source_key = file.kind, file.bucket, file.source_key
    with tempfile.TemporaryDirectory(
        prefix=f"footprints-report{file_id}-", dir=settings.work_dir or None
    ) as tmp:
        source = os.path.join(tmp, "source")
        try:
            store.get_file(bucket, source_key, source)
        except ObjectMissing:
            finish_file(factory, file_id, JobState.FAILED, MISSING, "missing_original")
            return JobState.FAILED
        out_dir = os.path.join(tmp, "out")
        os.mkdir(out_dir)
        try:
            made = (
                _photo(source, out_dir, settings)
                if kind == "photo"
                else _video(factory, file_id, source, out_dir, settings)
            )
        except MediaRefused as refusal:
            log.info("report file %s refused: %s", file_id, refusal.reason_en)
            finish_file(factory, file_id, JobState.REJECTED, refusal.reason, refusal.code)
            return JobState.REJECTED
        except (FfmpegFailed, SubprocessTimeout) as exc:
            log.warning("report file %s failed: %s", file_id, exc)
            code = "timeout" if isinstance(exc, SubprocessTimeout) else exc.code
            finish_file(factory, file_id, JobState.FAILED, failure_reason(exc), code)
            return JobState.FAILED
        outputs = {}
        for label, name in made.items():
            key = derived_key(source_key, name)
            content_type = CONTENT_TYPES.get(os.path.splitext(name)[1], "application/octet-stream")
            store.put_file(settings.bucket_assets, key, os.path.join(out_dir, name), content_type)
            outputs[label] = key
    finish_file(factory, file_id, JobState.READY, outputs=outputs)
    log.info("report file %s ready", file_id)
    return JobState.READY


def _photo(source: str, out_dir: str, settings: Settings) -> dict[str, str]:
    """{"2048": "001_2048.jpg", ...}: the photo's sizes by long side."""
    images = process_image(source, out_dir, settings)
    return {os.path.splitext(i.name)[0].rpartition("_")[2]: i.name for i in images}


def _video(
    factory: sessionmaker[Session], file_id: int, source: str, out_dir: str, settings: Settings
) -> dict[str, str]:
    """{"video": <largest rendition>, "poster": <large poster>}; a long video is refused."""
    info = probe_file(source, settings)
    limit = settings.report_video_max_seconds
    if info.duration > limit:
        raise MediaRefused(
            "report_video_too_long",
            f"视频时长 {format_duration_zh(info.duration)}，活动报送的短视频最长 "
            f"{format_duration_zh(limit)}，请剪短后重新上传",
            f"{info.duration:.1f} s, longer than the {limit} s a report's video may last",
        )
    manifest = process_file(
        source, out_dir, settings, on_progress=lambda pct, _eta: _progress(factory, file_id, pct)
    )
    return {"video": manifest.renditions[0].file, "poster": manifest.poster[0]}


@dataclass
class FileSweep:
    republished: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def sweep_report_files(
    session: Session, stale_after: timedelta, now: datetime | None = None
) -> FileSweep:
    """Fail files stuck running past `stale_after`, and send queued files the broker never got."""
    now = now or utcnow()
    result = FileSweep()
    stuck = select(ReportFile).where(
        ReportFile.state == JobState.RUNNING, ReportFile.updated_at < now - stale_after
    )
    for file in session.scalars(stuck.with_for_update(skip_locked=True)).all():
        _end(file, JobState.FAILED, reasons.job_reason(STALLED, "stalled"), "stalled")
        result.failed.append(file.id)
    session.commit()
    unsent = select(ReportFile).where(
        ReportFile.state == JobState.QUEUED,
        ReportFile.published_at.is_(None),
        ReportFile.created_at < now - UNSENT_GRACE,
    )
    for file in session.scalars(unsent.with_for_update(skip_locked=True)).all():
        if publish_report_file(session, file):
            result.republished.append(file.id)
    session.commit()
    return result


STALLED = "文件处理时间过长，已停止；请删除后重新上传，如仍失败请联系组委会"
