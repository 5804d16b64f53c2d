"""What a photo, comic or story entry shows: its pieces' images, page by page, size by size.

The worker stores each page of a piece at the long sides in IMAGE_SIZES as MediaAsset rows of
kind IMAGE, labelled "<page>_<long side>" ("001_1080"); this module reads them back in order
for every page that shows a work (contestant, review, judges, gallery).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from storage.models import AssetKind, Entry, EntryPiece, MediaAsset, WorkType

# Long sides made of every page: the lightbox, the page itself, the grid and lists.
IMAGE_SIZES = (2048, 1080, 480)


def image_label(page: int, size: int) -> str:
    """The label (and, with ".jpg", the file name) of a page's image at one size."""
    return f"{page:03d}_{size}"


@dataclass
class PageImages:
    """One page (a photo is one page) at every size made of it."""

    number: int
    sizes: dict[int, MediaAsset] = field(default_factory=dict)

    def best(self, wanted: int) -> MediaAsset | None:
        """The image closest to `wanted` without being smaller, else the largest there is."""
        bigger = [size for size in self.sizes if size >= wanted]
        if bigger:
            return self.sizes[min(bigger)]
        return self.sizes[max(self.sizes)] if self.sizes else None


@dataclass
class PieceView:
    """A piece with its caption and its pages (none yet while it is being processed)."""

    piece: EntryPiece
    pages: list[PageImages]

    @property
    def ready(self) -> bool:
        return bool(self.pages)


def piece_views(entry: Entry) -> list[PieceView]:
    """The entry's pieces in order, each with the images made of it so far."""
    views = []
    for piece in entry.pieces:
        pages: dict[int, PageImages] = {}
        for asset in entry.assets_from(piece.source_key, AssetKind.IMAGE):
            page, _, size = asset.label.partition("_")
            if page.isdigit() and size.isdigit():
                number = int(page)
                pages.setdefault(number, PageImages(number)).sizes[int(size)] = asset
        views.append(PieceView(piece, [pages[number] for number in sorted(pages)]))
    return views


def all_pages(entry: Entry) -> list[PageImages]:
    """Every page of every piece in reading order (a comic's reader turns through these)."""
    return [page for view in piece_views(entry) for page in view.pages]


def cover(entry: Entry, wanted: int = 480) -> MediaAsset | None:
    """The image that stands for a photo, comic or story entry in lists: its first page."""
    if entry.work_type is WorkType.VIDEO:
        return None
    for page in all_pages(entry):
        if (image := page.best(wanted)) is not None:
            return image
    return None


def word_count(text: str) -> int:
    """Characters a Chinese reader counts (字数): everything but white space."""
    return sum(1 for char in text if not char.isspace())
