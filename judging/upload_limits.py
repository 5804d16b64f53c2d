"""What one user may upload: how often they start uploads, and how many bytes they hold.

Counted in the database, so every web process sees the same budget: a limit counted in each
process's memory let 60 of 80 starts through a 30/hour limit under four gunicorn processes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from limits import parse_many
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from judging.messages import Message
from judging.submissions import SubmissionError
from storage.models import (
    ActivityReport,
    AssetKind,
    Entry,
    MediaAsset,
    ReportFile,
    Upload,
    UploadStart,
    User,
    utcnow,
)
from storage.settings import Settings

MIB = 1024**2


class QuotaExceeded(SubmissionError):
    """An upload would take the user past a storage cap; nothing was stored."""


class TooManyUploads(SubmissionError):
    """The user started too many uploads lately; `retry_after` seconds until the next may."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Usage:
    stored: int  # bytes of original videos of the user's entries
    in_flight: int  # bytes announced by resumable uploads started and not finished


def _mib(n: int) -> int:
    return math.ceil(n / MIB)


def _lock_user(session: Session, user_id: int) -> None:
    # One user's checks and inserts take turns, so two requests at once cannot both pass on
    # the same last unit of budget (PostgreSQL; SQLite writes one at a time anyway).
    session.execute(select(User.id).where(User.id == user_id).with_for_update())


def usage(session: Session, user_id: int) -> Usage:
    """The bytes the user's originals (entries' and activity reports') take and those of
    their unfinished uploads."""
    stored = session.scalar(
        select(func.coalesce(func.sum(MediaAsset.bytes), 0))
        .join(Entry, Entry.id == MediaAsset.entry_id)
        .where(Entry.owner_id == user_id, MediaAsset.kind == AssetKind.ORIGINAL)
    )
    # Activity reports' photos and videos take the same storage as entries' originals.
    reports = session.scalar(
        select(func.coalesce(func.sum(ReportFile.bytes), 0))
        .join(ActivityReport, ActivityReport.id == ReportFile.report_id)
        .where(ActivityReport.owner_id == user_id)
    )
    in_flight = session.scalar(
        select(func.coalesce(func.sum(Upload.length), 0)).where(
            Upload.owner_id == user_id, Upload.completed_at.is_(None)
        )
    )
    return Usage(int(stored or 0) + int(reports or 0), int(in_flight or 0))


def check_quota(
    session: Session, user_id: int, length: int | None, settings: Settings, resumable: bool
) -> int:
    """Raise QuotaExceeded unless `length` more bytes fit the user's caps; the bytes left.

    `length` is None when the client did not say. Only resumable uploads are in flight
    between requests; the user's row stays locked until the caller commits, so a
    resumable upload recorded before that commit is counted by the next check.
    """
    _lock_user(session, user_id)
    used = usage(session, user_id)
    size = length or 0
    in_flight_cap = settings.user_uploads_in_flight_mb * MIB
    if resumable and used.in_flight + size > in_flight_cap:
        raise QuotaExceeded(
            Message(
                "未完成的上传太多：已开始但尚未完成的上传共 %(used)d MB，每位用户同时最多 "
                "%(limit)d MB。请先完成或取消其他上传，中断的上传会在 %(hours)d 小时后自动清除",
                used=_mib(used.in_flight),
                limit=settings.user_uploads_in_flight_mb,
                hours=math.ceil(settings.upload_expiry_hours),
            )
        )
    held = used.stored + used.in_flight
    left = settings.user_storage_limit_mb * MIB - held
    if size > left or left <= 0:
        raise QuotaExceeded(storage_full(held, settings))
    return left


def storage_full(held: int, settings: Settings) -> str:
    """The refusal of an upload that does not fit the user's storage cap."""
    return Message(
        "存储空间不足：您上传的文件已占用 %(used)d MB（含未完成的上传），每位用户最多 %(limit)d "
        "MB，放不下这个文件。替换视频或照片时，旧文件会在新文件处理完成后自动删除；"
        "如需更多空间，请联系组委会",
        used=_mib(held),
        limit=settings.user_storage_limit_mb,
    )


def count_upload_start(
    session: Session, user_id: int, rule: str, now: datetime | None = None
) -> None:
    """Record that the user starts an upload; raise TooManyUploads past `rule` ("30/hour").

    A sliding window: the starts within the last hour (or whatever each rule says) count.
    Commits.
    """
    now = now or utcnow()
    _lock_user(session, user_id)
    for limit in parse_many(rule):
        window = timedelta(seconds=limit.get_expiry())
        count, oldest = session.execute(
            select(func.count(), func.min(UploadStart.created_at)).where(
                UploadStart.user_id == user_id, UploadStart.created_at > now - window
            )
        ).one()
        if count >= limit.amount:
            session.rollback()
            wait = max(1, math.ceil((oldest + window - now).total_seconds()))
            raise TooManyUploads(
                Message(
                    "开始上传的次数太多，请 %(minutes)d 分钟后再试", minutes=math.ceil(wait / 60)
                ),
                wait,
            )
    session.add(UploadStart(user_id=user_id, created_at=now))
    session.commit()
