"""Store an activity report's uploaded photo or video: sniff it, stream it to S3 within its
limit, record it, then publish its processing (after the commit) — judging.accept's steps."""

from __future__ import annotations

import uuid

from werkzeug.datastructures import FileStorage

from judging.accept import (
    STORE_DOWN_FILE,
    UploadError,
    cut_to_room,
    keep_or_discard,
    put_original,
    room_for,
)
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
from storage.models import ActivityReport, ReportFile
from storage.sniff import HEAD_BYTES, looks_like_video, original_kind
from web.extensions import db, settings_of, store
from worker.report_files import publish_report_file


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
    key = report_key(report.id, uuid.uuid4().hex)
    try:
        # The same steps as an entry's original (judging.accept): the reporter's storage cap,
        # the stream cut where it is full, no connection held while the file streams.
        room = room_for(db.session, report.owner_id, None, settings)
        # too_large is a Message, translated where it is shown.
        limit, refusal = cut_to_room(
            room, size_limit(kind, settings), too_large(kind, settings, name), settings
        )
        db.session.commit()
        stored = put_original(
            store(), settings, key, head, upload.stream, limit, refusal, Message(STORE_DOWN_FILE)
        )
    except UploadError as exc:
        raise ReportError(exc.message) from exc
    # Refused now (another upload took the last place), the stored file is deleted.
    file = keep_or_discard(
        db.session,
        store(),
        stored,
        lambda: add_file(db.session, report, stored, kind, settings, name, caption),
    )
    publish_report_file(db.session, file)  # after the commit; the sweep sends it if this fails
    return file
