"""Sharing a gallery entry: the share card, the QR code and the share poster.

The drawing is checked on its own (size, the QR code's modules where they belong); the
poster is made by the real short-task worker, once per content (repeated clicks and a
redelivered task make no second image); nothing of it answers for an entry that is not
public. A phone and a laptop walk the 分享 section and the poster page.
"""

from __future__ import annotations

import io
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import segno
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from judging.gallery import set_approved
from storage.models import AssetKind, Contest, Entry, EntryStatus, MediaAsset
from storage.objects import ObjectStore
from storage.settings import Settings
from tests.browser import LAPTOP, PHONE, fits_width, open_page, screenshot, small_tap_targets
from tests.factories import Made, make_entry, make_user, store_media, unique
from worker.media.share_poster import QR_BOX, QR_SIZE, SIZE, ShareCard, draw_share_poster, wrap
from worker.media.share_poster import _font as poster_font
from worker.ops.broker import queue_report
from worker.share import find_share_poster, make_share_poster, share_poster_key

FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
CARD = ShareCard(
    7,
    "青春在岗位上闪光：一名公交司机的十年",
    "市公交集团 18 路车队",
    "中国梦·青春足迹",
    "https://example.org/gallery/7",
)


def jpeg(width: int, height: int) -> bytes:
    data = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(data, "JPEG")
    return data.getvalue()


def public_entry_with_poster(
    session: Session, store: ObjectStore, settings: Settings, public: bool = True
) -> Entry:
    contest = Contest(
        slug=unique("share-"),
        title="中国梦·青春足迹 分享测试",
        closes_at=datetime.now(UTC) + timedelta(days=1),
        gallery_published_at=datetime.now(UTC) if public else None,
    )
    entry = make_entry(session, make_user(session), contest)
    entry.title, entry.collective = "青春在岗位上闪光", "市公交集团 18 路车队"
    entry.summary = "十年如一日，" * 40
    entry.status = EntryStatus.READY
    session.commit()
    files = {
        "720p.mp4": Made(AssetKind.RENDITION, b"not played here", "video/mp4", 720, 1280, 30.0),
        "poster_large.jpg": Made(AssetKind.POSTER, jpeg(720, 1280), "image/jpeg", 720, 1280),
    }
    store_media(session, store, settings, entry, files)
    set_approved(session, entry, True)
    return entry


def share_posters(session: Session, entry: Entry) -> list[MediaAsset]:
    session.expire_all()
    query = select(MediaAsset).where(
        MediaAsset.entry_id == entry.id, MediaAsset.kind == AssetKind.SHARE_POSTER
    )
    return list(session.scalars(query))


def address(entry: Entry) -> str:
    return f"http://localhost/gallery/{entry.id}"


def test_the_poster_is_tall_with_the_qr_code_of_the_address_in_its_corner() -> None:
    frame = Image.new("RGB", (1920, 1080), (30, 120, 200))
    poster = draw_share_poster(CARD, frame, FONT)
    assert poster.size == SIZE
    # Every module of the QR code is where segno puts it: dark modules black, light ones white.
    rows = list(segno.make(CARD.url, error="m", micro=False).matrix_iter(scale=1, border=4))
    step = QR_SIZE / len(rows)
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            pixel = poster.getpixel(
                (int(QR_BOX[0] + (x + 0.5) * step), int(QR_BOX[1] + (y + 0.5) * step))
            )
            assert pixel == ((0, 0, 0) if dark else (255, 255, 255)), (x, y)
    # The frame fills its box (cropped, not letterboxed), and the title is drawn below it.
    assert poster.getpixel((SIZE[0] // 2, 700)) == (30, 120, 200)
    below = poster.crop((0, 1200, SIZE[0], 1300)).convert("L")
    assert below.getextrema()[0] < 80  # dark text on the paper


def test_long_chinese_text_wraps_within_the_poster() -> None:
    font = poster_font(FONT, 68)
    lines = wrap("青春" * 40, font, 936)
    assert len(lines) > 1 and "".join(lines) == "青春" * 40
    assert all(font.getlength(line) <= 936 for line in lines)
    poster = draw_share_poster(ShareCard(1, "长" * 300, "集" * 200, "赛" * 100, "x"), None, FONT)
    assert poster.size == SIZE


def test_one_poster_per_content_and_a_new_one_when_the_title_changes(
    session: Session, object_store: ObjectStore, settings: Settings
) -> None:
    entry = public_entry_with_poster(session, object_store, settings)
    first = make_share_poster(session, object_store, FONT, entry.id, address(entry))
    assert first is not None and first.object_key == share_poster_key(entry, address(entry))
    data = object_store.get_bytes(first.bucket, first.object_key, 16 * 1024 * 1024)
    assert Image.open(io.BytesIO(data)).size == SIZE
    again = make_share_poster(session, object_store, FONT, entry.id, address(entry))
    assert again is not None and again.id == first.id
    assert len(share_posters(session, entry)) == 1
    old_key = first.object_key
    entry.title = "新的标题"
    session.commit()
    assert find_share_poster(session, entry, address(entry)) is None
    new = make_share_poster(session, object_store, FONT, entry.id, address(entry))
    assert new is not None and new.object_key != old_key
    assert [a.object_key for a in share_posters(session, entry)] == [new.object_key]
    assert not object_store.exists(settings.bucket_assets, old_key)


def test_a_task_redelivered_after_storing_records_the_same_image_once(
    session: Session, object_store: ObjectStore, settings: Settings
) -> None:
    entry = public_entry_with_poster(session, object_store, settings)
    # A worker died after the upload, before its commit: the object is there, no row.
    key = share_poster_key(entry, address(entry))
    object_store.put_stream(settings.bucket_assets, key, io.BytesIO(b"half"), "image/png")
    asset = make_share_poster(session, object_store, FONT, entry.id, address(entry))
    assert asset is not None and asset.object_key == key
    data = object_store.get_bytes(settings.bucket_assets, key, 16 * 1024 * 1024)
    assert Image.open(io.BytesIO(data)).size == SIZE and asset.sha256 != ""
    assert len(share_posters(session, entry)) == 1
    assert make_share_poster(session, object_store, FONT, 10**9, address(entry)) is None


def wait_for(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def short_queue_empty(settings: Settings) -> bool:
    stat = next(q for q in queue_report(settings).queues if q.role == "short")
    return stat.ready == 0 and stat.unacked == 0


def test_the_worker_makes_the_poster_once_however_often_it_is_asked(
    client: FlaskClient,
    session: Session,
    object_store: ObjectStore,
    settings: Settings,
    worker: Any,
) -> None:
    entry = public_entry_with_poster(session, object_store, settings)
    page = client.get(f"/gallery/{entry.id}/share-poster")
    assert page.status_code == 200 and "海报生成中，请稍候" in page.get_data(as_text=True)
    assert client.get(f"/gallery/{entry.id}/share-poster.png").status_code == 404
    for _ in range(3):  # impatient clicks
        client.get(f"/gallery/{entry.id}/share-poster")
    wait_for(lambda: share_posters(session, entry), 60, "the share poster")
    ready = client.get(f"/gallery/{entry.id}/share-poster?waiting=1").get_data(as_text=True)
    assert "下载分享海报" in ready and "海报生成中" not in ready
    image = client.get(f"/gallery/{entry.id}/share-poster.png?download=1")
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert "attachment" in image.headers["Content-Disposition"]
    assert Image.open(io.BytesIO(image.data)).size == SIZE
    # Once the short queue is empty, every other task has run: they found the poster made.
    wait_for(lambda: short_queue_empty(settings), 60, "the short queue to empty")
    assert len(share_posters(session, entry)) == 1


def test_the_share_card_names_the_entry_and_its_stable_image(
    client: FlaskClient, session: Session, object_store: ObjectStore, settings: Settings
) -> None:
    entry = public_entry_with_poster(session, object_store, settings)
    html = client.get(f"/gallery/{entry.id}").get_data(as_text=True)
    meta = dict(re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)"', html))
    assert meta["og:title"] == "青春在岗位上闪光" and meta["og:type"] == "video.other"
    assert meta["og:url"] == f"http://localhost/gallery/{entry.id}"
    assert meta["og:image"] == f"http://localhost/gallery/{entry.id}/poster.jpg"
    assert meta["twitter:card"] == "summary_large_image"
    assert 0 < len(meta["og:description"]) <= 121 and meta["og:description"].endswith("…")
    # The QR code and the link: the entry's own address.
    assert "<svg" in html and f'value="http://localhost/gallery/{entry.id}"' in html
    image = client.get(f"/gallery/{entry.id}/poster.jpg")
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(image.data)).size == (720, 1280)


def test_nothing_is_shared_of_an_entry_that_is_not_public(
    client: FlaskClient, session: Session, object_store: ObjectStore, settings: Settings
) -> None:
    hidden = public_entry_with_poster(session, object_store, settings, public=False)
    shown = public_entry_with_poster(session, object_store, settings)
    make_share_poster(session, object_store, FONT, shown.id, address(shown))
    set_approved(session, shown, False)  # taken back after its poster was made
    for entry in (hidden, shown):
        for suffix in ("", "/poster.jpg", "/share-poster", "/share-poster.png"):
            answer = client.get(f"/gallery/{entry.id}{suffix}")
            assert answer.status_code == 404, (entry.id, suffix)
            assert b"og:title" not in answer.data
    assert share_posters(session, hidden) == []


@pytest.mark.integration
@pytest.mark.e2e
def test_sharing_walked_on_a_phone_and_a_laptop(
    live_server: str,
    browser: Any,
    session: Session,
    object_store: ObjectStore,
    settings: Settings,
) -> None:
    entry = public_entry_with_poster(session, object_store, settings)
    base = live_server
    # Made beforehand for the address the browser sees: the walk needs no worker.
    make_share_poster(session, object_store, FONT, entry.id, f"{base}/gallery/{entry.id}")
    for name, size in (("phone", PHONE), ("laptop", LAPTOP)):
        page = open_page(browser, size)
        page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        page.goto(f"{base}/gallery/{entry.id}")
        share = page.locator("#share")
        share.scroll_into_view_if_needed()
        page.click("[data-copy-link]")
        page.wait_for_selector("[data-copied]:not([hidden])")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == f"{base}/gallery/{entry.id}"
        assert fits_width(page), name
        assert small_tap_targets(page, "#share a, #share button, header a, header button") == []
        assert share.locator("svg").bounding_box()["width"] >= 150
        screenshot(page, f"share-entry-{name}")
        page.click("text=下载分享海报")
        page.wait_for_selector("img.share-poster")
        page.wait_for_load_state("load")
        assert page.locator("img.share-poster").evaluate("img => img.naturalWidth") == SIZE[0]
        assert fits_width(page), name
        screenshot(page, f"share-poster-{name}")
        page.go_back()
        page.wait_for_selector("#share")
        page.context.close()


def test_a_task_for_an_entry_that_changed_since_makes_nothing(
    session: Session, object_store: ObjectStore, settings: Settings
) -> None:
    entry = public_entry_with_poster(session, object_store, settings)
    asked = share_poster_key(entry, address(entry))
    entry.title = "点击之后改过的标题"
    session.commit()
    assert make_share_poster(session, object_store, FONT, entry.id, address(entry), asked) is None
    assert share_posters(session, entry) == []
    now = share_poster_key(entry, address(entry))
    made = make_share_poster(session, object_store, FONT, entry.id, address(entry), now)
    assert made is not None and made.object_key == now
