"""Uploads in a phone's browser that never duplicate or mislead (issue 14).

A reload midway through a new entry's upload leaves a draft that the form offers to continue,
and the same file goes on from the server's offset; leaving mid-upload asks first; a file the
worker would refuse is refused before a byte is sent, in the worker's words; and a replacement's
progress never touches the player someone is watching.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from storage.models import AssetKind, Entry, EntryStatus, Job, JobState, MediaAsset
from storage.objects import ObjectStore, derived_key, original_key
from storage.settings import Settings
from tests.browser import (
    LAPTOP,
    PHONE,
    fits_width,
    log_in,
    open_page,
    screenshot,
    small_tap_targets,
)
from tests.factories import ENTRY_FIELDS, Made, make_entry, make_user, open_contest, store_media
from tests.media import make_clip
from web import create_app

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

MB = 1024**2


@pytest.fixture()
def small_limits(settings: Settings) -> Settings:
    """Limits a test file can cross: 8 MB, 2 seconds, and the smallest chunk S3 takes."""
    return replace(
        settings, max_upload_bytes=8 * MB, max_duration_seconds=2.0, upload_chunk_bytes=5 * MB
    )


class Link:
    """The line between browser and server: notes every upload API request as the server
    gets it, and can leave chunks after the first `hang_after` unanswered (a mobile link
    that stops carrying data), until the test is over."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.base = ""  # the server's URL, once it listens
        self.seen: list[tuple[str, str | None]] = []  # method, Upload-Offset
        self.hang_after: int | None = None
        self.hanging = threading.Event()
        self.over = threading.Event()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ["PATH_INFO"].startswith("/api/v1/"):
            method = environ["REQUEST_METHOD"]
            self.seen.append((method, environ.get("HTTP_UPLOAD_OFFSET")))
            chunks = [m for m, _offset in self.seen if m == "PATCH"]
            if method == "PATCH" and self.hang_after is not None and len(chunks) > self.hang_after:
                self.hanging.set()
                self.over.wait(60)
                start_response("503 Service Unavailable", [("Content-Length", "0")])
                return [b""]
        return self.app(environ, start_response)


@pytest.fixture()
def link(small_limits: Settings, object_store: ObjectStore) -> Iterator[Link]:
    """The app with those limits, CSRF on, behind a Link, on a real HTTP server."""
    app = create_app({"SETTINGS": small_limits})
    line = Link(app.wsgi_app)
    app.wsgi_app = line  # type: ignore[method-assign]
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    line.base = f"http://127.0.0.1:{httpd.server_port}"
    yield line
    line.over.set()
    httpd.shutdown()
    thread.join(timeout=10)
    app.extensions["footprints.engine"].dispose()


@pytest.fixture()
def server(link: Link) -> str:
    """The base URL of that server."""
    return link.base


def padded(clip: Path, path: Path, size: int) -> Path:
    """`clip` grown to `size` bytes with an MP4 `free` box: still a video every reader opens."""
    data = clip.read_bytes()
    filler = size - len(data)
    path.write_bytes(data + filler.to_bytes(4, "big") + b"free" + bytes(filler - 8))
    return path


@pytest.fixture()
def clip(tmp_path: Path) -> Path:
    return make_clip(tmp_path / "clip.mp4", 160, 90, 1, fps=10, audio=False)


def fill_entry_form(page: Any) -> None:
    for name in ("title", "collective", "contact_name", "contact_phone", "email", "summary"):
        page.fill(f"[name={name}]", ENTRY_FIELDS[name])
    for name in ("category", "district", "industry"):
        page.select_option(f"select[name={name}]", ENTRY_FIELDS[name])
    page.check("input[name=authorized]")


def test_a_cut_upload_resumes_from_the_servers_offset_after_a_reload(
    server: str, link: Link, browser: Any, session: Session, clip: Path, tmp_path: Path
) -> None:
    open_contest(session)
    user = make_user(session)
    video = padded(clip, tmp_path / "我们的故事.mp4", 7 * MB)  # two chunks: 5 MB and 2 MB
    page = open_page(browser, PHONE)
    log_in(page, server, user.username)
    page.goto(f"{server}/submit/new")
    fill_entry_form(page)
    page.set_input_files("input[name=video]", str(video))

    link.hang_after = 1  # the server takes the first 5 MB; the rest hangs
    page.click("#submit-button")
    assert link.hanging.wait(30)
    # Leaving now asks first; the user leaves anyway.
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.accept()))
    with page.expect_event("close"):
        page.close(run_before_unload=True)
    assert dialogs == ["beforeunload"]

    # Back on the form (in a browser that remembers nothing: the server knows where it stands).
    page = page.context.new_page()
    page.goto(f"{server}/submit/new")
    page.evaluate("localStorage.clear()")
    notice = page.locator(".flash.unfinished")
    title = ENTRY_FIELDS["title"]
    assert notice.inner_text().startswith(f"您有一件未完成的作品《{title}》（已上传 71%）")
    assert fits_width(page) and not small_tap_targets(page, ".flash.unfinished a")
    screenshot(page, "uploads-draft-notice-phone")
    page.goto(f"{server}/submit/")
    assert "上传未完成（71%）" in page.inner_text("ul.entries")
    assert fits_width(page) and not small_tap_targets(page, "ul.entries a.continue")
    screenshot(page, "uploads-list-phone")
    page.set_viewport_size(LAPTOP)
    assert fits_width(page)
    screenshot(page, "uploads-list-laptop")
    page.go_back()
    assert fits_width(page)
    screenshot(page, "uploads-draft-notice-laptop")
    page.set_viewport_size(PHONE)
    page.click(".flash.unfinished a")
    page.wait_for_url(re.compile(r"/submit/\d+#video-form$"))
    assert "71%" in page.inner_text("#resume-note")
    screenshot(page, "uploads-resume-phone")

    link.hang_after = None
    before = len(link.seen)
    page.set_input_files("#video-form input[type=file]", str(video))
    with page.expect_navigation(timeout=30_000):
        page.click("#video-form button")
    sent = link.seen[before:]
    assert "POST" not in [method for method, _offset in sent]  # no new upload was started
    offsets = [offset for method, offset in sent if method == "PATCH"]
    assert offsets and offsets[0] == str(5 * MB)  # resumed, not started again from 0
    # Submitted; a worker of this test process may already be processing it.
    label = page.inner_text("#status-label")
    assert any(state in label for state in ("已提交", "处理中", "已就绪")), label
    entries = session.scalars(select(Entry).where(Entry.owner_id == user.id)).all()
    # One entry, not two; a worker of this test process may already have taken its job.
    assert len(entries) == 1 and entries[0].status is not EntryStatus.DRAFT


def test_a_file_the_worker_would_refuse_is_refused_at_once(
    server: str, link: Link, browser: Any, session: Session, clip: Path, tmp_path: Path
) -> None:
    open_contest(session)
    user = make_user(session)
    big = padded(clip, tmp_path / "太大.mp4", 9 * MB)
    long = make_clip(tmp_path / "太长.mp4", 160, 90, 3, fps=10, audio=False)
    page = open_page(browser, PHONE)
    log_in(page, server, user.username)
    page.goto(f"{server}/submit/new")
    fill_entry_form(page)
    error = page.locator('[data-error-for="video"]')

    page.set_input_files("input[name=video]", str(big))
    page.wait_for_function(
        "() => document.querySelector('[data-error-for=video]').textContent.length > 0"
    )
    assert error.inner_text() == "文件大小 9 MB，超过上限 8 MB"
    page.set_input_files("input[name=video]", str(long))
    page.wait_for_function(
        "() => document.querySelector('[data-error-for=video]').textContent.includes('时长')"
    )
    assert error.inner_text() == "视频时长 3秒，超过上限 2秒"
    page.click("#submit-button")  # sending anyway is refused the same way, and nothing is sent
    page.wait_for_function("() => !document.getElementById('submit-button').disabled")
    assert error.inner_text() == "视频时长 3秒，超过上限 2秒"
    assert page.input_value("[name=title]") == ENTRY_FIELDS["title"]
    assert link.seen == []  # not an upload started, not a byte sent
    assert fits_width(page)
    screenshot(page, "uploads-refused-at-once-phone")
    assert session.scalars(select(Entry).where(Entry.owner_id == user.id)).all() == []


def store_rendition(
    session: Session, store: ObjectStore, settings: Settings, entry: Entry, source: str, clip: Path
) -> None:
    """A finished rendition of the upload `source` (as the worker stores one)."""
    key = derived_key(source, "360p.mp4")
    stored = store.put_stream(
        settings.bucket_assets, key, io.BytesIO(clip.read_bytes()), "video/mp4"
    )
    session.add(
        MediaAsset(
            entry=entry,
            kind=AssetKind.RENDITION,
            label="360p",
            bucket=settings.bucket_assets,
            object_key=key,
            source_key=source,
            content_type="video/mp4",
            bytes=stored.bytes,
            sha256=stored.sha256,
            width=320,
            height=180,
            duration=40.0,
        )
    )


def test_a_replacements_progress_leaves_the_playing_video_alone(
    server: str,
    browser: Any,
    session: Session,
    object_store: ObjectStore,
    settings: Settings,
    tmp_path: Path,
) -> None:
    user = make_user(session)
    entry = make_entry(session, user)
    # Long enough to be still playing when the new one is ready, polls 2 s apart.
    old = make_clip(tmp_path / "old.mp4", 320, 180, 40, fps=5, audio=False)
    store_media(
        session,
        object_store,
        settings,
        entry,
        {"360p.mp4": Made(AssetKind.RENDITION, old.read_bytes(), "video/mp4", 320, 180, 40.0)},
    )
    replacement = Job(
        entry=entry, source_key=original_key(entry.id, "replacement"), state=JobState.RUNNING
    )
    replacement.percent = 10.0
    session.add(replacement)
    entry.status = EntryStatus.PROCESSING
    session.commit()

    page = open_page(browser, PHONE)
    log_in(page, server, user.username)
    page.goto(f"{server}/submit/{entry.id}")
    page.evaluate(
        """() => { const v = document.querySelector('#player video');
                   v.dataset.watched = 'yes'; v.muted = true; return v.play(); }"""
    )
    page.wait_for_function("() => document.querySelector('#player video').currentTime > 0.3")
    replacement.percent = 60.0
    session.commit()
    page.wait_for_function(
        "() => document.getElementById('progress-text').textContent.includes('60')"
    )
    with page.expect_response(re.compile(r"/api/v1/entries/\d+$")):
        pass  # one more poll
    watched = page.evaluate(
        """() => { const v = document.querySelector('#player video');
                   return [v.dataset.watched, v.paused, v.currentTime]; }"""
    )
    assert watched[0] == "yes" and watched[1] is False and watched[2] > 0.3

    # The new video is ready while the old one plays: offered, not forced.
    store_rendition(session, object_store, settings, entry, replacement.source_key, old)
    replacement.state = JobState.READY
    replacement.percent = 100.0
    entry.status = EntryStatus.READY
    session.commit()
    page.wait_for_selector("#switch-video")
    assert page.inner_text("#switch-video") == "新视频已就绪，点击切换"
    assert page.evaluate("document.querySelector('#player video').dataset.watched") == "yes"
    screenshot(page, "uploads-replacement-ready-phone")
    page.click("#switch-video")
    src = page.get_attribute("#player video", "src") or ""
    assert "/derived/replacement/" in src and page.locator("#switch-video").count() == 0
