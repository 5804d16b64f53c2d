"""Run one media job: load its rows, call the pipeline, store and record the assets.

Plain Python over a session factory and an object store, so tests can run it without a queue.
Running the same job twice gives the same object keys and one set of asset rows.
"""

from __future__ import annotations

import logging
import os
import tempfile

from PIL import Image
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from storage.database import session_scope
from storage.models import AssetKind, Entry, EntryStatus, Job, JobState, MediaAsset, utcnow
from storage.objects import ObjectMissing, ObjectStore, derived_key
from storage.retention import prune_entry
from storage.settings import Settings
from worker import log_context, reasons
from worker.contestant_notices import tell_outcome
from worker.job_notices import tell_failed
from worker.media.ffmpeg_run import FfmpegFailed, FfmpegOutOfMemory
from worker.media.pipeline import Manifest, process_file
from worker.media.refusal import MediaRefused
from worker.media.subprocesses import SubprocessTimeout
from worker.piece_jobs import (
    PieceRefused,
    finish_empty,
    process_pieces,
    read_entry_id,
    record_original_hash,
)

log = logging.getLogger(__name__)
MIB = 1024**2
CONTENT_TYPES = {".mp4": "video/mp4", ".jpg": "image/jpeg", ".vtt": "text/vtt"}


MISSING_ORIGINAL = (
    "原视频文件已不存在（已被之后上传的视频替换），如需处理请重新上传 (original not stored)"
)


class JobGone(LookupError):
    """The job's row does not exist."""


class GaveUp(RuntimeError):
    """The job has been started too often (its file keeps killing workers); it is now failed."""


def start_job(
    factory: sessionmaker[Session], job_id: int, max_attempts: int, worker: str = ""
) -> bool:
    """Mark a job running on `worker`; False when it is already finished (or cancelled).

    A file that kills its worker (out of memory, a decoder crash) comes back again and again
    through late acknowledgement; after `max_attempts` starts it is failed and GaveUp raised.
    """
    with session_scope(factory) as session:
        job = session.get(Job, job_id)
        if job is None:
            raise JobGone(job_id)
        log_context.bind(entry_id=job.entry_id)
        if job.state.finished:
            return False
        if job.attempts >= max_attempts:
            job.end(JobState.FAILED, reasons.gave_up(job.attempts), "gave_up", EntryStatus.FAILED)
            tell_failed(session, job)
            session.commit()
            raise GaveUp(job_id)
        job.state = JobState.RUNNING
        job.attempts += 1
        job.percent = 0.0
        job.eta_seconds = None
        job.reason = ""
        job.reason_code = ""
        job.worker = worker
        job.started_at = utcnow()
        job.entry.follow(job, EntryStatus.PROCESSING)
        session.commit()
        return True


def finish_job(
    factory: sessionmaker[Session],
    job_id: int,
    state: JobState,
    reason: str = "",
    code: str = "",
    media_seconds: float | None = None,
) -> None:
    """Record a job's final (or, for a retry, queued) state and its entry's status.

    A job an operator cancelled meanwhile stays cancelled.
    """
    entry_status = {
        JobState.READY: EntryStatus.READY,
        JobState.REJECTED: EntryStatus.REJECTED,
        JobState.FAILED: EntryStatus.FAILED,
        JobState.QUEUED: EntryStatus.PROCESSING,
    }[state]
    with session_scope(factory) as session:
        job = session.get(Job, job_id)
        if job is None:
            raise JobGone(job_id)
        if job.state is JobState.CANCELLED:
            return
        job.state = state
        job.reason = reason
        job.reason_code = code
        job.media_seconds = media_seconds
        job.eta_seconds = None
        if state.finished:
            job.finished_at = utcnow()
        elif state is JobState.QUEUED and job.attempts > 0:
            # Retried after a passing fault (S3 or the database away): that start did not
            # crash, so it does not use up one of MAX_ATTEMPTS; TASK_MAX_RETRIES bounds these.
            job.attempts -= 1
        if state is JobState.READY:
            job.percent = 100.0
        elif state is JobState.FAILED:
            tell_failed(session, job)  # not the file's fault: the staff are told at once
        job.entry.follow(job, entry_status)
        tell_outcome(session, job)
        session.commit()


def report_progress(
    factory: sessionmaker[Session], job_id: int, percent: float, eta: float | None
) -> None:
    """Store a running job's progress."""
    with session_scope(factory) as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == JobState.RUNNING)
            .values(percent=percent, eta_seconds=eta, updated_at=utcnow())
        )
        session.commit()


def process_job(
    factory: sessionmaker[Session],
    store: ObjectStore,
    settings: Settings,
    job_id: int,
    worker: str = "",
) -> JobState:
    """Process one job to its end state. Passing faults (S3, database) propagate for a retry."""
    if not start_job(factory, job_id, settings.max_attempts, worker):
        log.info("job %s already finished; nothing to do", job_id)
        with session_scope(factory) as session:
            job = session.get_one(Job, job_id)
            state, entry_id = job.state, job.entry_id
        # Redelivered after a crash that came between "ready" and the clean-up: finish it.
        _prune(factory, store, entry_id)
        return state
    with session_scope(factory) as session:
        job = session.get_one(Job, job_id)
        source_key, entry_id = job.source_key, job.entry_id
        has_pieces = job.entry.work_type.has_pieces
        # Judges of a blind contest watch these renditions: a number burned into the picture
        # would lead them to the gallery page that names the collective.
        number = None if job.entry.contest.blind else job.entry.number
    if has_pieces:
        return _process_pieces(factory, store, settings, job_id)
    with tempfile.TemporaryDirectory(
        prefix=f"footprints-job{job_id}-", dir=settings.work_dir or None
    ) as tmp:
        source = os.path.join(tmp, "source")
        try:
            store.get_file(settings.bucket_originals, source_key, source)
        except ObjectMissing:
            # An operator ran an old job again whose original a newer upload replaced.
            log.warning("job %s: original %s is not stored", job_id, source_key)
            finish_job(factory, job_id, JobState.FAILED, MISSING_ORIGINAL, "missing_original")
            return JobState.FAILED
        # Resumable uploads arrive in parts, so nobody saw the whole file before the worker.
        record_original_hash(factory, source_key, source)
        out_dir = os.path.join(tmp, "out")
        os.mkdir(out_dir)
        try:
            manifest = process_file(
                source,
                out_dir,
                settings,
                entry_number=number,
                on_progress=lambda pct, eta: report_progress(factory, job_id, pct, eta),
            )
        except MediaRefused as refusal:
            log.info("job %s refused: %s", job_id, refusal.reason_en)
            finish_job(factory, job_id, JobState.REJECTED, refusal.reason, refusal.code)
            _prune(factory, store, entry_id)
            return JobState.REJECTED
        except (FfmpegFailed, SubprocessTimeout) as exc:
            log.warning("job %s failed: %s", job_id, exc)
            code = "timeout" if isinstance(exc, SubprocessTimeout) else exc.code
            finish_job(factory, job_id, JobState.FAILED, failure_reason(exc), code)
            return JobState.FAILED
        _store_assets(factory, store, settings, entry_id, source_key, out_dir, manifest)
    finish_job(factory, job_id, JobState.READY, media_seconds=manifest.source.length)
    # Only now, with the new original's assets recorded, may the one it replaces go.
    _prune(factory, store, entry_id)
    if (run := manifest.run) is not None:
        log.info("job %s: ffmpeg %.1f s, peak %.0f MiB", job_id, run.seconds, run.peak_bytes / MIB)
    log.info("job %s ready", job_id)
    return JobState.READY


def _process_pieces(
    factory: sessionmaker[Session], store: ObjectStore, settings: Settings, job_id: int
) -> JobState:
    """A photo, comic or story entry's job: every piece still without images (piece_jobs)."""
    try:
        entry_id, work = process_pieces(
            factory,
            store,
            settings,
            job_id,
            lambda percent: report_progress(factory, job_id, percent, None),
        )
    except PieceRefused as refusal:
        log.info("job %s refused: %s", job_id, refusal.reason_en)
        finish_job(factory, job_id, JobState.REJECTED, refusal.reason, refusal.code)
        _prune(factory, store, read_entry_id(factory, job_id))
        return JobState.REJECTED
    if not work.pieces:
        state = finish_empty(factory, job_id, work.story)
    else:
        finish_job(factory, job_id, JobState.READY)
        state = JobState.READY
    # Removed pieces' originals and images go once nothing of the entry is being processed.
    _prune(factory, store, entry_id)
    log.info("job %s ready: %s pieces made", job_id, len(work.todo))
    return state


def _prune(factory: sessionmaker[Session], store: ObjectStore, entry_id: int) -> None:
    # The job's outcome is recorded already; a clean-up that fails now is done again by the
    # next job of the entry, a redelivery or the storage sweep, and must not undo it.
    try:
        with session_scope(factory) as session:
            prune_entry(session, store, entry_id)
    except OperationalError as exc:
        log.warning("entry %s: replaced originals not removed now: %s", entry_id, exc)


def failure_reason(exc: Exception) -> str:
    """What ffmpeg failing or running out of time says: to contestants, the sentence alone."""
    if isinstance(exc, SubprocessTimeout):
        zh = "视频处理超时，组委会将协助处理；也可尝试压缩或剪短后重新上传"
    elif isinstance(exc, FfmpegOutOfMemory):
        zh = "视频处理时内存不足，组委会将协助处理；也可尝试降低分辨率（如 1080p）后重新上传"
    else:
        zh = "视频处理失败，组委会将协助处理；也可尝试用手机或剪辑软件重新导出后上传"
    return reasons.job_reason(zh, f"ffmpeg: {str(exc)[-500:]}")


def _outputs(manifest: Manifest) -> list[tuple[AssetKind, str, int | None, int | None]]:
    """Every file of a manifest with its kind and frame size."""
    largest = manifest.renditions[0]
    board = manifest.storyboard
    return [
        *((AssetKind.RENDITION, r.file, r.width, r.height) for r in manifest.renditions),
        *((AssetKind.POSTER, name, None, None) for name in manifest.poster),
        (AssetKind.STORYBOARD, board.image, board.tile_width, board.tile_height),
        (AssetKind.STORYBOARD_VTT, board.vtt, largest.width, largest.height),
    ]


def _store_assets(
    factory: sessionmaker[Session],
    store: ObjectStore,
    settings: Settings,
    entry_id: int,
    source_key: str,
    out_dir: str,
    manifest: Manifest,
) -> None:
    """Upload every output under its deterministic key and record it, once."""
    with session_scope(factory) as session:
        for kind, name, width, height in _outputs(manifest):
            key = derived_key(source_key, name)
            content_type = CONTENT_TYPES.get(os.path.splitext(name)[1], "application/octet-stream")
            path = os.path.join(out_dir, name)
            if kind is AssetKind.POSTER:
                width, height = _image_size(path)
            stored = store.put_file(settings.bucket_assets, key, path, content_type)
            asset = session.scalar(select(MediaAsset).where(MediaAsset.object_key == key))
            if asset is None:
                asset = MediaAsset(entry_id=entry_id, object_key=key, source_key=source_key)
                session.add(asset)
            asset.kind = kind
            asset.label = os.path.splitext(name)[0]
            asset.bucket = settings.bucket_assets
            asset.content_type = content_type
            asset.bytes = stored.bytes
            asset.sha256 = stored.sha256
            asset.width, asset.height = width, height
            asset.duration = manifest.source.length if kind is AssetKind.RENDITION else None
        entry = session.get_one(Entry, entry_id)
        entry.qc = [finding.as_dict() for finding in manifest.qc]
        entry.loudness = manifest.loudness.as_dict() if manifest.loudness else {}
        session.commit()


def _image_size(path: str) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size
