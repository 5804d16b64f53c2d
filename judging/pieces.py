"""The pieces of a photo, comic or story entry: add, remove, reorder and caption them.

A piece is one stored original (a photo, a comic page or a comic PDF). Every change to which
pieces an entry holds queues one job for the entry: the worker makes the images of each
current piece that has none yet (pieces already done are skipped), so the newest job says
whether the entry as a whole is ready, as a video's job does. Reordering and captions change
no file and queue nothing. Callers publish the returned job after the commit.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from judging.messages import Message
from judging.submissions import SubmissionError, check_changeable, clear_return, original_asset
from storage.entry_notices import tell_owner
from storage.models import (
    Entry,
    EntryPiece,
    EntryStatus,
    Job,
    MediaAsset,
    WorkType,
    utcnow,
)
from storage.objects import StoredObject
from storage.settings import Settings

CAPTION_LIMIT = 200


class PieceError(SubmissionError):
    """A piece was not added, moved or removed; nothing stored changed."""


def piece_limit(work_type: WorkType, settings: Settings) -> int:
    """How many pieces an entry of `work_type` may hold (a PDF's pages are checked later)."""
    if work_type is WorkType.COMIC:
        return settings.comic_max_pages
    return settings.photo_max_per_entry


def check_room(entry: Entry, settings: Settings) -> None:
    """Raise PieceError when the entry cannot take one more piece (before storing a byte)."""
    if not entry.work_type.has_pieces:
        raise PieceError(Message("微视频作品请上传视频文件"))
    limit = piece_limit(entry.work_type, settings)
    if len(entry.pieces) >= limit:
        raise PieceError(Message("最多上传 %(n)d 个文件，请先删除不需要的再添加", n=limit))


def add_piece(
    session: Session,
    entry: Entry,
    stored: StoredObject,
    settings: Settings,
    filename: str = "",
    caption: str = "",
) -> Job:
    """Record a stored original as the entry's last piece and queue the entry's job; commits.

    The entry's row is locked first and its pieces read again, so two uploads finishing at
    once take turns: the second one sees the first one's piece and the limit holds.
    """
    lock_entry(session, entry)
    check_changeable(entry)
    check_room(entry, settings)
    first = not entry.pieces
    # The same file stored again under its deterministic key (an import re-run after the
    # piece was removed) takes its old row back.
    asset = session.scalar(
        select(MediaAsset).where(
            MediaAsset.entry_id == entry.id, MediaAsset.object_key == stored.key
        )
    )
    if asset is None:
        session.add(original_asset(entry, stored))
    else:
        asset.bytes, asset.sha256 = stored.bytes, stored.sha256
    entry.pieces.append(
        EntryPiece(
            position=len(entry.pieces) + 1,
            caption=_caption(caption),
            source_key=stored.key,
            filename=filename[:255],
        )
    )
    job = _queue(session, entry)
    if first:
        session.flush()
        tell_owner(
            session,
            "entry_received",
            entry,
            f"pieces-{entry.id}",
            {"entry_id": entry.id, "job_id": job.id, "number": entry.number},
        )
    session.commit()
    return job


def lock_entry(session: Session, entry: Entry) -> None:
    """Lock the entry's row until the commit and read its pieces afresh (PostgreSQL)."""
    session.execute(select(Entry.id).where(Entry.id == entry.id).with_for_update())
    session.refresh(entry, attribute_names=["pieces"])


def remove_piece(session: Session, entry: Entry, piece_id: int) -> Job | None:
    """Remove a piece (its files go with the storage clean-up); the job to publish, if any.

    Commits. With pieces left a job checks them again (one may have been the refused one);
    with none left the entry is a draft again, or a story that stands on its text.
    """
    lock_entry(session, entry)
    check_changeable(entry)
    piece = _piece(entry, piece_id)
    entry.pieces.remove(piece)
    for position, rest in enumerate(entry.pieces, start=1):
        rest.position = position
    job = _queue(session, entry) if entry.pieces else None
    if job is None:
        entry.status = story_status(entry)
    session.commit()
    return job


def move_piece(session: Session, entry: Entry, piece_id: int, position: int) -> None:
    """Put a piece at `position` (1-based, clamped); the others keep their order. Commits."""
    lock_entry(session, entry)
    check_changeable(entry)
    piece = _piece(entry, piece_id)
    order = [p for p in entry.pieces if p is not piece]
    order.insert(max(0, min(position - 1, len(order))), piece)
    for number, item in enumerate(order, start=1):
        item.position = number
    entry.updated_at = utcnow()
    session.commit()


def set_caption(session: Session, entry: Entry, piece_id: int, caption: str) -> None:
    """Change a piece's caption; commits."""
    check_changeable(entry)
    _piece(entry, piece_id).caption = _caption(caption)
    entry.updated_at = utcnow()
    session.commit()


def story_status(entry: Entry) -> EntryStatus:
    """A story with no pieces needs no processing: ready once it has text, else a draft."""
    if entry.work_type is WorkType.STORY and entry.story_body.strip():
        return EntryStatus.READY
    return EntryStatus.DRAFT


def _queue(session: Session, entry: Entry) -> Job:
    # The job's source is the newest piece: the retention rule for pieces keeps every
    # current piece's original whatever the job says (storage/retention.py).
    job = Job(entry=entry, source_key=entry.pieces[-1].source_key)
    session.add(job)
    entry.status = EntryStatus.SUBMITTED
    entry.updated_at = utcnow()
    clear_return(entry)
    return job


def _piece(entry: Entry, piece_id: int) -> EntryPiece:
    for piece in entry.pieces:
        if piece.id == piece_id:
            return piece
    raise PieceError(Message("找不到这个文件，可能已被删除，请刷新页面"))


def clean_caption(text: str) -> str:
    """A caption on one line, or PieceError when it is too long."""
    return _caption(text)


def _caption(text: str) -> str:
    caption = " ".join(text.split())
    if len(caption) > CAPTION_LIMIT:
        raise PieceError(Message("说明最多 %(n)d 个字", n=CAPTION_LIMIT))
    return caption
