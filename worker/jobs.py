"""Run one media job: start it, call the pipeline, store and record the assets, finish it.

Plain Python over a session factory and an object store, so tests can run it without a queue.
Running the same job twice gives the same object keys and one set of asset rows. The state
changes themselves are Job's methods (storage/models.py); here they get their sessions and
notices, and `after_error` is the task's retry ladder. No session is open while ffmpeg or the
image pipeline runs: the job row is read when the run starts and again when it ends.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass

from PIL import Image
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from storage.database import session_scope
from storage.models import AssetKind, Entry, Job, JobState, MediaAsset, utcnow
from storage.objects import ObjectMissing, ObjectStore, ObjectStoreError, derived_key
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
    PieceWork,
    finish_empty,
    process_pieces,
    read_work,
    record_original_hash,
)

log = logging.getLogger(__name__)
MIB = 1024**2
# Faults that pass (S3 or the database away): the task retries them with backoff.
TRANSIENT = (ObjectStoreError, OperationalError)
CONTENT_TYPES = {".mp4": "video/mp4", ".jpg": "image/jpeg", ".vtt": "text/vtt"}


MISSING_ORIGINAL = (
    "原视频文件已不存在（已被之后上传的视频替换），如需处理请重新上传 (original not stored)"
)


class JobGone(LookupError):
    """The job's row does not exist."""


class GaveUp(RuntimeError):
    """The job has been started too often (its file keeps killing workers); it is now failed."""


@dataclass(frozen=True)
class Run:
    """What one run of a job needs, read in the session that starts it."""

    started: bool  # False: the job had finished already (or was cancelled)
    state: JobState
    entry_id: int
    source_key: str
    # The entry number burned into the renditions; None in a blind contest, whose judges
    # watch them: a number would lead them to the gallery page that names the collective.
    number: int | None
    work: PieceWork | None  # a photo, comic or story entry's pieces; None for a video


def begin(factory: sessionmaker[Session], job_id: int, max_attempts: int, worker: str = "") -> Run:
    """Mark a job running on `worker` and read what its run needs, in one short session.

    After `max_attempts` starts the job is failed instead and GaveUp raised.
    """
    with session_scope(factory) as session:
        job = session.get(Job, job_id)
        if job is None:
            raise JobGone(job_id)
        log_context.bind(entry_id=job.entry_id)
        entry = job.entry
        started = not job.state.finished
        if started and not job.start(worker, max_attempts):
            job.give_up(reasons.gave_up(job.attempts))
            tell_failed(session, job)
            session.commit()
            raise GaveUp(job_id)
        number = None if entry.contest.blind else entry.number
        work = read_work(entry) if started and entry.work_type.has_pieces else None
        run = Run(started, job.state, entry.id, job.source_key, number, work)
        session.commit()
        return run


def start_job(
    factory: sessionmaker[Session], job_id: int, max_attempts: int, worker: str = ""
) -> bool:
    """Mark a job running on `worker`; False when it is already finished (or cancelled)."""
    return begin(factory, job_id, max_attempts, worker).started


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
    with session_scope(factory) as session:
        job = session.get(Job, job_id)
        if job is None:
            raise JobGone(job_id)
        if not job.finish(state, reason, code, media_seconds):
            return
        if state is JobState.FAILED:
            tell_failed(session, job)  # not the file's fault: the staff are told at once
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


@dataclass(frozen=True)
class AfterError:
    """What the task does after `process_job` raised: one of these is set, or it re-raises."""

    state: JobState | None = None  # return this state: the job is failed, no retry
    retry_in: int | None = None  # retry the message in this many seconds
    reject: str = ""  # dead-letter the message, saying why


def after_error(
    factory: sessionmaker[Session], settings: Settings, job_id: int, exc: Exception, retries: int
) -> AfterError:
    """The retry ladder: record what an error means for the job and say what the task does.

    Passing faults (S3, the database) retry with backoff up to TASK_MAX_RETRIES, then fail
    the job; a missing row or a job given up dead-letters; anything else is a bug: the job
    is failed and the error re-raised (the message goes to the dead letters).
    """
    if isinstance(exc, JobGone):
        log.error("job %s: no such job row; dead-lettering the message", job_id)
        return AfterError(reject="no such job")
    if isinstance(exc, GaveUp):
        log.error(
            "job %s: started %s times without finishing; failed", job_id, settings.max_attempts
        )
        return AfterError(reject="gave up")
    if isinstance(exc, TRANSIENT):
        if retries >= settings.task_max_retries:
            log.error("job %s: giving up after %s retries: %s", job_id, retries, exc)
            reason = reasons.unavailable(retries, exc)
            finish_job(factory, job_id, JobState.FAILED, reason, "unavailable")
            return AfterError(state=JobState.FAILED)
        countdown = min(300, 5 * 2**retries)
        log.warning(
            "job %s: passing fault, retry %s in %s s: %s", job_id, retries + 1, countdown, exc
        )
        try:
            reason = reasons.retrying(countdown, exc)
            finish_job(factory, job_id, JobState.QUEUED, reason, "retrying")
        except OperationalError:
            # The database itself is the fault: the retry is all we can do now.
            log.warning("job %s: cannot record the retry while the database is down", job_id)
        return AfterError(retry_in=countdown)
    log.error("job %s: unexpected error", job_id, exc_info=exc)
    finish_job(factory, job_id, JobState.FAILED, reasons.internal(exc), "internal")
    return AfterError()


def process_job(
    factory: sessionmaker[Session],
    store: ObjectStore,
    settings: Settings,
    job_id: int,
    worker: str = "",
) -> JobState:
    """Process one job to its end state. Passing faults (S3, database) propagate for a retry."""
    run = begin(factory, job_id, settings.max_attempts, worker)
    if not run.started:
        log.info("job %s already finished; nothing to do", job_id)
        # Redelivered after a crash that came between "ready" and the clean-up: finish it.
        _prune(factory, store, run.entry_id)
        return run.state
    if run.work is not None:
        return _process_pieces(factory, store, settings, job_id, run.entry_id, run.work)
    with tempfile.TemporaryDirectory(
        prefix=f"footprints-job{job_id}-", dir=settings.work_dir or None
    ) as tmp:
        source = os.path.join(tmp, "source")
        try:
            store.get_file(settings.bucket_originals, run.source_key, source)
        except ObjectMissing:
            # An operator ran an old job again whose original a newer upload replaced.
            log.warning("job %s: original %s is not stored", job_id, run.source_key)
            finish_job(factory, job_id, JobState.FAILED, MISSING_ORIGINAL, "missing_original")
            return JobState.FAILED
        # Resumable uploads arrive in parts, so nobody saw the whole file before the worker.
        record_original_hash(factory, run.source_key, source)
        out_dir = os.path.join(tmp, "out")
        os.mkdir(out_dir)
        try:
            manifest = process_file(
                source,
                out_dir,
                settings,
                entry_number=run.number,
                on_progress=lambda pct, eta: report_progress(factory, job_id, pct, eta),
            )
        except MediaRefused as refusal:
            log.info("job %s refused: %s", job_id, refusal.reason_en)
            finish_job(factory, job_id, JobState.REJECTED, refusal.reason, refusal.code)
            _prune(factory, store, run.entry_id)
            return JobState.REJECTED
        except (FfmpegFailed, SubprocessTimeout) as exc:
            log.warning("job %s failed: %s", job_id, exc)
            code = "timeout" if isinstance(exc, SubprocessTimeout) else exc.code
            finish_job(factory, job_id, JobState.FAILED, failure_reason(exc), code)
            return JobState.FAILED
        _store_assets(factory, store, settings, run.entry_id, run.source_key, out_dir, manifest)
    finish_job(factory, job_id, JobState.READY, media_seconds=manifest.source.length)
    # Only now, with the new original's assets recorded, may the one it replaces go.
    _prune(factory, store, run.entry_id)
    if (ffmpeg := manifest.run) is not None:
        log.info(
            "job %s: ffmpeg %.1f s, peak %.0f MiB", job_id, ffmpeg.seconds, ffmpeg.peak_bytes / MIB
        )
    log.info("job %s ready", job_id)
    return JobState.READY


def _process_pieces(
    factory: sessionmaker[Session],
    store: ObjectStore,
    settings: Settings,
    job_id: int,
    entry_id: int,
    work: PieceWork,
) -> JobState:
    """A photo, comic or story entry's job: every piece still without images (piece_jobs)."""
    try:
        process_pieces(
            factory,
            store,
            settings,
            job_id,
            entry_id,
            work,
            lambda percent: report_progress(factory, job_id, percent, None),
        )
    except PieceRefused as refusal:
        log.info("job %s refused: %s", job_id, refusal.reason_en)
        finish_job(factory, job_id, JobState.REJECTED, refusal.reason, refusal.code)
        _prune(factory, store, entry_id)
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
