"""Store an activity report's uploaded photo or video: sniff it, stream it to S3 within its
limit, record it, then publish its processing (after the commit)."""

from __future__ import annotations

import logging
import uuid

from werkzeug.datastructures import FileStorage

from judging.messages import Message
from judging.reports import (
    ReportError,
    add_file,
    check_room,
    file_kind,
    report_key,
    size_limit,
    too_large,
)
from judging.upload_limits import QuotaExceeded, check_quota, storage_full
from storage.models import ActivityReport, ReportFile
from storage.objects import ObjectStoreError, PrefixedReader, TooLargeError
from storage.sniff import HEAD_BYTES, looks_like_video, original_kind
from web.extensions import db, settings_of, store
from worker.report_files import publish_report_file

log = logging.getLogger(__name__)


def accept_file(report: ActivityReport, upload: FileStorage, caption: str = "") -> ReportFile:
    """Store one uploaded file as the report's photo or video; raises ReportError."""
    settings = settings_of()
    name = (upload.filename or "")[:255]
    head = upload.stream.read(HEAD_BYTES)
    if not head:
        raise ReportError(Message("「%(name)s」是空文件，请重新选择", name=name))
    kind = file_kind(original_kind(head), looks_like_video(head), head)
    if kind is None:
        raise ReportError(
            Message(
                "「%(name)s」不是可接受的照片（JPEG、PNG、WebP、HEIC）或视频（MP4、MOV 等）文件",
                name=name,
            )
        )
    check_room(report, kind, settings)  # before storing a byte
    limit = size_limit(kind, settings)
    too_big: str = too_large(kind, settings, name)  # a Message, translated where it is shown
    try:
        room = check_quota(db.session, report.owner_id, None, settings, resumable=False)
    except QuotaExceeded as exc:
        raise ReportError(exc.message) from exc
    if room < limit:
        # Cut off where the reporter's storage is full, as an entry's upload is.
        held = settings.user_storage_limit_mb * 1024**2 - room
        limit, too_big = room, storage_full(held, settings)
    key = report_key(report.id, uuid.uuid4().hex)
    db.session.commit()  # no connection held while the file streams
    try:
        stored = store().put_stream(
            settings.bucket_originals,
            key,
            PrefixedReader(head, upload.stream),
            "application/octet-stream",
            limit=limit,
        )
    except TooLargeError as exc:
        raise ReportError(too_big) from exc
    except ObjectStoreError as exc:
        log.error("report %s: file not stored: %s", report.id, exc)
        raise ReportError(Message("存储服务暂时不可用，文件未保存，请稍后重新上传")) from exc
    file = add_file(db.session, report, stored, kind, settings, name, caption)
    publish_report_file(db.session, file)  # after the commit; the sweep sends it if this fails
    return file
