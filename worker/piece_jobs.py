"""The job of a photo, comic or story entry: make the images of every piece that has none.

One job per change of an entry's pieces (judging/pieces.py). It walks the entry's current
pieces in order and skips those whose images are recorded already, so a redelivered job or
the next change's job repeats nothing; a piece's images are recorded together once all are
stored, so "has images" means "done". Keys are deterministic (derived_key of the piece's
original), so a run cut short and run again overwrites, never duplicates.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from storage.database import session_scope
from storage.models import (
    AssetKind,
    Entry,
    EntryPiece,
    EntryStatus,
    Job,
    JobState,
    MediaAsset,
    WorkType,
)
from storage.objects import ObjectMissing, ObjectStore, derived_key, file_sha256
from storage.settings import Settings
from storage.sniff import original_kind
from worker.media.images import ImageOutput, process_image
from worker.media.pdf_pages import check_pdf, render_pdf
from worker.media.refusal import MediaRefused

log = logging.getLogger(__name__)
HEAD_BYTES = 64
ProgressFn = Callable[[float], None]
PageDone = Callable[[int, int], None]


@dataclass(frozen=True)
class Piece:
    """What the job needs of one current piece, read once at its start."""

    position: int
    source_key: str
    done_pages: int  # pages recorded already (0: still to be made)


@dataclass(frozen=True)
class PieceWork:
    """A piece entry's job as read at its start."""

    work_type: WorkType
    number: int | None  # the entry number burned into the images; None in a blind contest
    pieces: list[Piece]
    story: bool  # a story with text stands without pieces

    @property
    def todo(self) -> list[Piece]:
        return [piece for piece in self.pieces if not piece.done_pages]


class PieceRefused(MediaRefused):
    """A refusal that names the piece it is about: "第 3 张照片：…"."""


def read_work(entry: Entry) -> PieceWork:
    """What an entry's pieces need (read in the session that starts its job)."""
    pieces = [
        Piece(piece.position, piece.source_key, _pages(entry, piece.source_key))
        for piece in sorted(entry.pieces, key=lambda piece: piece.position)
    ]
    number = None if entry.contest.blind else entry.number
    story = bool(entry.story_body and entry.story_body.strip())
    return PieceWork(entry.work_type, number, pieces, story)


def still_to_do(factory: sessionmaker[Session], entry_id: int, source_key: str) -> bool:
    """Whether a piece is still the entry's and still has no images (checked before each
    piece: another job of the entry may have made it since this one started)."""
    with session_scope(factory) as session:
        current = session.scalar(
            select(EntryPiece.id).where(
                EntryPiece.entry_id == entry_id, EntryPiece.source_key == source_key
            )
        )
        made = session.scalar(
            select(MediaAsset.id)
            .where(MediaAsset.source_key == source_key, MediaAsset.kind == AssetKind.IMAGE)
            .limit(1)
        )
        return current is not None and made is None


def _pages(entry: Entry, source_key: str) -> int:
    labels = {asset.label for asset in entry.assets_from(source_key, AssetKind.IMAGE)}
    return len({label.partition("_")[0] for label in labels})


def process_pieces(
    factory: sessionmaker[Session],
    store: ObjectStore,
    settings: Settings,
    job_id: int,
    entry_id: int,
    work: PieceWork,
    on_progress: ProgressFn,
) -> None:
    """Make and record the images of every piece still to do; raises PieceRefused."""
    todo = work.todo
    known = {piece.source_key: piece.done_pages or 1 for piece in work.pieces}
    with tempfile.TemporaryDirectory(
        prefix=f"footprints-job{job_id}-", dir=settings.work_dir or None
    ) as tmp:
        for index, piece in enumerate(todo):
            if not still_to_do(factory, entry_id, piece.source_key):
                continue  # made by another job of the entry meanwhile, or removed
            source = os.path.join(tmp, "source")
            try:
                store.get_file(settings.bucket_originals, piece.source_key, source)
            except ObjectMissing as exc:
                raise _named(work, piece, _missing(), "") from exc
            record_original_hash(factory, piece.source_key, source)
            out_dir = os.path.join(tmp, f"out{index}")
            os.mkdir(out_dir)

            def page_done(page: int, pages: int, index: int = index) -> None:
                on_progress(100.0 * (index + page / pages) / len(todo))

            used = sum(count for key, count in known.items() if key != piece.source_key)
            outputs = _make(work, piece, source, out_dir, settings, used, page_done)
            known[piece.source_key] = len(outputs)
            store_piece(factory, store, settings, entry_id, piece.source_key, out_dir, outputs)
            shutil.rmtree(out_dir)
            os.remove(source)


def _make(
    work: PieceWork,
    piece: Piece,
    source: str,
    out_dir: str,
    settings: Settings,
    used_pages: int,
    page_done: PageDone,
) -> list[list[ImageOutput]]:
    """Every page of one piece at every size (a photo is one page); refusals name the piece."""
    with open(source, "rb") as fh:
        kind = original_kind(fh.read(HEAD_BYTES))
    pdf = kind == "pdf"
    try:
        if pdf and work.work_type is not WorkType.COMIC:
            raise MediaRefused(
                "not_image",
                "这里只接受照片（JPEG、PNG、WebP 或 HEIC），PDF 只能作为漫画上传",
                "a PDF is accepted for comics only",
            )
        if not pdf:
            if work.work_type is WorkType.COMIC and used_pages + 1 > settings.comic_max_pages:
                raise MediaRefused(
                    "too_many_pages",
                    f"漫画总页数超过上限 {settings.comic_max_pages} 页，请删减后重新上传",
                    f"the comic has more than {settings.comic_max_pages} pages",
                )
            pages = [process_image(source, out_dir, settings, work.number, page=1)]
            page_done(1, 1)
            return pages
        info = check_pdf(source, settings, used_pages)
        return render_pdf(source, out_dir, settings, work.number, info, on_page=page_done)
    except PieceRefused:
        raise
    except MediaRefused as refusal:
        raise _named(work, piece, refusal, "PDF" if pdf else "") from refusal


def _named(work: PieceWork, piece: Piece, refusal: MediaRefused, what: str) -> PieceRefused:
    if work.work_type is WorkType.COMIC:
        kind_zh, kind_en = ("PDF", "PDF") if what == "PDF" else ("图片", "image")
        zh = f"第 {piece.position} 个文件（{kind_zh}）：{refusal.reason_zh}"
        en = f"file {piece.position} ({kind_en}): {refusal.reason_en}"
    else:
        zh = f"第 {piece.position} 张照片：{refusal.reason_zh}"
        en = f"photo {piece.position}: {refusal.reason_en}"
    return PieceRefused(refusal.code, zh, en)


def _missing() -> MediaRefused:
    return MediaRefused(
        "missing_original",
        "原文件已不存在，请删除后重新上传",
        "the original is not stored",
    )


def record_original_hash(factory: sessionmaker[Session], source_key: str, path: str) -> None:
    """Store the original's SHA-256 on its row (resumable uploads arrive in parts)."""
    digest = file_sha256(path)
    with session_scope(factory) as session:
        session.execute(
            update(MediaAsset)
            .where(MediaAsset.object_key == source_key, MediaAsset.sha256 == "")
            .values(sha256=digest)
        )
        session.commit()


def store_piece(
    factory: sessionmaker[Session],
    store: ObjectStore,
    settings: Settings,
    entry_id: int,
    source_key: str,
    out_dir: str,
    pages: list[list[ImageOutput]],
) -> None:
    """Upload a piece's images under their deterministic keys, then record them in one go."""
    stored = []
    for output in (output for page in pages for output in page):
        key = derived_key(source_key, output.name)
        path = os.path.join(out_dir, output.name)
        stored.append(
            (output, key, store.put_file(settings.bucket_assets, key, path, "image/jpeg"))
        )
    with session_scope(factory) as session:
        # Two jobs of one entry may make the same piece at once (photos uploaded in a burst,
        # two workers): the entry's row lock lets one record while the other waits, then
        # finds the rows and updates them instead of inserting them twice.
        session.execute(select(Entry.id).where(Entry.id == entry_id).with_for_update())
        for output, key, obj in stored:
            asset = session.scalar(select(MediaAsset).where(MediaAsset.object_key == key))
            if asset is None:
                asset = MediaAsset(entry_id=entry_id, object_key=key, source_key=source_key)
                session.add(asset)
            asset.kind = AssetKind.IMAGE
            asset.label = os.path.splitext(output.name)[0]
            asset.bucket = settings.bucket_assets
            asset.content_type = "image/jpeg"
            asset.bytes = obj.bytes
            asset.sha256 = obj.sha256
            asset.width, asset.height = output.width, output.height
            asset.duration = None
        session.commit()


def finish_empty(factory: sessionmaker[Session], job_id: int, story: bool) -> JobState:
    """A job whose entry has no pieces left (all removed since it was queued)."""
    with session_scope(factory) as session:
        job = session.get_one(Job, job_id)
        status = EntryStatus.READY if story else EntryStatus.DRAFT
        job.finish(JobState.READY, entry_status=status)
        session.commit()
    return JobState.READY
