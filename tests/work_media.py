"""Photo, comic and story entries with their images stored as the worker stores them
(MediaAsset kind IMAGE, labels "<page>_<size>"), made with Pillow, without the worker."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageDraw
from sqlalchemy.orm import Session

from judging.works import IMAGE_SIZES, image_label
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
from storage.objects import ObjectStore, derived_key, original_key
from storage.settings import Settings

COLOURS = [(200, 16, 46), (30, 90, 160), (40, 140, 70), (230, 160, 20), (110, 60, 150)]


@dataclass(frozen=True)
class Piece:
    """A piece to store: its caption, how many pages it has (a PDF's), its shape."""

    caption: str = ""
    pages: int = 1
    width: int = 4
    height: int = 3
    ready: bool = True


def picture(
    long_side: int, shape: tuple[int, int], colour: tuple[int, int, int], text: str
) -> bytes:
    """A JPEG of `long_side` at the shape `shape` (w, h), in `colour`, with `text` large on it."""
    w, h = shape
    size = (
        (long_side, round(long_side * h / w)) if w >= h else (round(long_side * w / h), long_side)
    )
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle(
        [size[0] // 10, size[1] // 10, size[0] * 9 // 10, size[1] * 9 // 10],
        outline="white",
        width=max(2, long_side // 100),
    )
    draw.text(
        (size[0] // 2, size[1] // 2), text, fill="white", anchor="mm", font_size=long_side // 6
    )
    data = io.BytesIO()
    image.save(data, "JPEG", quality=80)
    return data.getvalue()


def store_work(
    session: Session,
    store: ObjectStore,
    settings: Settings,
    entry: Entry,
    work_type: WorkType,
    pieces: list[Piece],
    story: str = "",
    sizes: tuple[int, ...] = IMAGE_SIZES,
) -> Entry:
    """Make `entry` a `work_type` entry holding `pieces`, each page stored at `sizes`, with a
    finished job (a piece with ready=False has no images yet, and the job still runs)."""
    entry.work_type = work_type
    entry.story_body = story
    page = 0
    for position, spec in enumerate(pieces, start=1):
        key = original_key(entry.id, f"piece{position}-{entry.id}")
        entry.pieces.append(
            EntryPiece(
                position=position,
                caption=spec.caption,
                source_key=key,
                filename=f"IMG_{position}.jpg",
            )
        )
        for number in range(1, spec.pages + 1):
            page += 1
            if not spec.ready:
                continue
            colour = COLOURS[(page - 1) % len(COLOURS)]
            for size in sizes:
                data = picture(size, (spec.width, spec.height), colour, str(page))
                name = image_label(number, size)
                stored = store.put_stream(
                    settings.bucket_assets,
                    derived_key(key, f"{name}.jpg"),
                    io.BytesIO(data),
                    "image/jpeg",
                )
                with Image.open(io.BytesIO(data)) as opened:
                    width, height = opened.size
                session.add(
                    MediaAsset(
                        entry=entry,
                        kind=AssetKind.IMAGE,
                        label=name,
                        bucket=stored.bucket,
                        object_key=stored.key,
                        source_key=key,
                        content_type="image/jpeg",
                        bytes=stored.bytes,
                        sha256=stored.sha256,
                        width=width,
                        height=height,
                    )
                )
    all_ready = all(spec.ready for spec in pieces)
    if pieces:
        state = JobState.READY if all_ready else JobState.RUNNING
        session.add(Job(entry=entry, source_key=entry.pieces[-1].source_key, state=state))
    entry.status = EntryStatus.READY if all_ready else EntryStatus.PROCESSING
    session.commit()
    return entry
