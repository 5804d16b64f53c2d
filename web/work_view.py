"""What the work partial (templates/_work.html) shows of a photo, comic or story entry.

Every page that shows a work builds its view here with its own address for the images: the
owner and staff read them under the entry's id (`works.page_image`), judges under their
anonymous code (`judge.page_image`), the public under the gallery (`gallery.page_image`).
An image is named by its page's place in the entry's reading order and the size wanted
(`3_1080.jpg`), never by an object key (which holds the entry's id) or a file name; `v` is a
piece of the image's hash, so a reordered or replaced page is not taken from a cache.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Response, abort

from judging.story_text import paragraphs
from judging.works import IMAGE_SIZES, PageImages, all_pages, piece_views, word_count
from storage.models import Contest, Entry, JobState, MediaAsset, WorkType
from web.media import send_asset

# (page number in reading order, long side wanted, the image) -> its URL
ImageUrl = Callable[[int, int, MediaAsset], str]
GRID, PAGE, ZOOM = 480, 1080, 2048
_NAME = re.compile(r"([0-9]{1,4})_([0-9]{3,4})\.jpg")


def page_name(number: int, size: int) -> str:
    """The file name an image is asked for by (`3_1080.jpg`)."""
    return f"{number}_{size}.jpg"


def find_page_image(entry: Entry, filename: str) -> MediaAsset | None:
    """The image `filename` (`<page>_<size>.jpg`) names among the entry's current pieces."""
    found = _NAME.fullmatch(filename)
    if found is None or not entry.work_type.has_pieces:
        return None
    number, size = int(found.group(1)), int(found.group(2))
    pages = all_pages(entry)
    if size not in IMAGE_SIZES or not 1 <= number <= len(pages):
        return None
    return pages[number - 1].best(size)


def send_page_image(entry: Entry | None, filename: str, public: bool = False) -> Response:
    """The image `filename` of `entry` read through the site, or 404."""
    asset = find_page_image(entry, filename) if entry is not None else None
    if asset is None:
        abort(404)
    answer = send_asset(asset, None)
    if public:  # the gallery's watermarked images, the same for everyone
        answer.headers["Cache-Control"] = "public, max-age=3600"
    return answer


def _page(page: PageImages, number: int, caption: str, url: ImageUrl) -> dict[str, Any]:
    images: dict[int, dict[str, Any] | None] = {}
    srcset: dict[int, str] = {}  # by asset: a size not made falls back to another, listed once
    large: dict[int, str] = {}  # the lightbox's: 1080 and 2048 only
    for size in (GRID, PAGE, ZOOM):
        asset = page.best(size)
        if asset is None:
            images[size] = None
            continue
        link = url(number, size, asset)
        images[size] = {"url": link, "width": asset.width, "height": asset.height}
        srcset.setdefault(asset.id, f"{link} {asset.width or size}w")
        if size != GRID:
            large.setdefault(asset.id, f"{link} {asset.width or size}w")
    return {
        "number": number,
        "caption": caption,
        "grid": images[GRID],
        "page": images[PAGE],
        "zoom": images[ZOOM],
        "srcset": ", ".join(srcset.values()),
        "srcset_large": ", ".join(large.values()),
    }


def work_view(entry: Entry, url: ImageUrl, text_url: str | None = None) -> dict[str, Any]:
    """The partial's view of an entry: its type, pieces with their pages (numbered in
    reading order), and a story's paragraphs and 字数. A video's view holds its type only:
    each page passes its own player's media beside it."""
    view: dict[str, Any] = {"type": entry.work_type.value, "label": entry.work_type.label}
    if not entry.work_type.has_pieces:
        return view
    job = entry.latest_job()
    failed = job is not None and job.state in (
        JobState.REJECTED,
        JobState.FAILED,
        JobState.CANCELLED,
    )
    pieces, pages, number = [], [], 0
    for piece_view in piece_views(entry):
        shown = []
        for page in piece_view.pages:
            number += 1
            shown.append(_page(page, number, piece_view.piece.caption, url))
        pieces.append(
            {
                "position": piece_view.piece.position,
                "caption": piece_view.piece.caption,
                "ready": piece_view.ready,
                "failed": failed and not piece_view.ready,
                "pages": shown,
            }
        )
        pages.extend(shown)
    view.update(pieces=pieces, pages=pages, waiting=sum(1 for p in pieces if not p["ready"]))
    if entry.work_type is WorkType.STORY:
        view["story"] = {
            "paragraphs": paragraphs(entry.story_body),
            "words": word_count(entry.story_body),
            "text_url": text_url,
        }
    return view


def cover_url(entry: Entry, url: ImageUrl, size: int = GRID) -> str | None:
    """The URL of the image that stands for a photo, comic or story entry in lists."""
    pages = all_pages(entry) if entry.work_type.has_pieces else []
    asset = pages[0].best(size) if pages else None
    return url(1, size, asset) if asset is not None else None


def accepted_types(contest: Contest) -> list[WorkType]:
    """The work types a contest accepts, in its order (unknown stored values left out)."""
    known = {t.value: t for t in WorkType}
    return [known[t] for t in contest.work_types or [] if t in known]
