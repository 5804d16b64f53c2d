"""Unfinished drafts: found for the new-entry form, marked in the entry list with their percent,
and named on the entry page so the same file resumes; the page's file checks speak the
worker's own sentences."""

from __future__ import annotations

import html
import uuid
from dataclasses import replace
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from judging.submissions import unfinished_drafts
from storage.models import Contest, Entry, EntryStatus, Upload, User, utcnow
from tests.factories import make_entry, make_user, open_contest, unique
from tests.test_media_unit import source
from worker.media.limits import MediaLimits
from worker.media.probe import check, format_duration_zh
from worker.media.refusal import MediaRefused

MB = 1024**2


def cut_upload(session: Session, entry: Entry, offset: int, length: int = 12 * MB) -> Upload:
    """An upload of `entry` that stopped at `offset` (a reload, a dropped link)."""
    upload = Upload(
        id=uuid.uuid4().hex,
        entry=entry,
        owner_id=entry.owner_id,
        length=length,
        offset=offset,
        chunk_bytes=5 * MB,
        filename="我们的故事.mp4",
        bucket="originals",
        object_key=f"originals/{entry.id}/x",
        s3_upload_id="s3-id",
        etags=[],
    )
    session.add(upload)
    session.commit()
    return upload


@pytest.fixture()
def owner(session: Session) -> User:
    return make_user(session)


@pytest.fixture()
def contest(session: Session) -> Contest:
    return open_contest(session)


def test_drafts_without_a_video_are_found_with_the_servers_percent(
    session: Session, owner: User, contest: Contest
) -> None:
    empty = make_entry(session, owner, contest)
    halfway = make_entry(session, owner, contest)
    cut_upload(session, halfway, 0)
    cut_upload(session, halfway, 5 * MB)  # the later attempt is the one that counts
    sent = make_entry(session, owner, contest)
    sent.status = EntryStatus.SUBMITTED
    done = cut_upload(session, sent, 12 * MB)
    done.completed_at = utcnow()
    session.commit()
    make_entry(session, make_user(session), contest)  # someone else's draft
    found = unfinished_drafts(session, owner.id, contest.id)
    assert [(d.entry.id, d.percent) for d in found] == [(halfway.id, 41), (empty.id, None)]


def test_a_draft_of_another_contest_is_not_offered(session: Session, owner: User) -> None:
    old = open_contest(session)
    make_entry(session, owner, old)
    new = Contest(
        slug=unique("next"), title="下一届", districts=old.districts, industries=old.industries
    )
    session.add(new)
    session.commit()
    try:
        assert unfinished_drafts(session, owner.id, new.id) == []
        assert len(unfinished_drafts(session, owner.id, old.id)) == 1
    finally:
        # The newest contest is every later test's current one: this one must not stay.
        session.delete(new)
        session.commit()


def test_the_new_form_offers_to_continue_an_unfinished_draft(
    client: FlaskClient, auth: Any, session: Session, owner: User, contest: Contest
) -> None:
    draft = make_entry(session, owner, contest)
    cut_upload(session, draft, 5 * MB)
    other = make_entry(session, make_user(session), contest)
    other.title = "别人的作品"
    session.commit()
    auth.login(owner.username)
    page = client.get("/submit/new").get_data(as_text=True)
    assert f"您有一件未完成的作品《{draft.title}》（已上传 41%）" in page
    assert f'href="/submit/{draft.id}#video-form"' in page
    assert "别人的作品" not in page
    # After a refused post the notice is still there, and nothing was merged into the draft.
    refused = client.post("/submit/new", data={"title": ""}).get_data(as_text=True)
    assert "已上传 41%" in refused
    session.refresh(draft)
    assert draft.status is EntryStatus.DRAFT


def test_the_list_marks_an_unfinished_upload_with_its_percent(
    client: FlaskClient, auth: Any, session: Session, owner: User, contest: Contest
) -> None:
    cut = make_entry(session, owner, contest)
    cut_upload(session, cut, 10 * MB, length=20 * MB)
    make_entry(session, owner, contest)  # a draft never started: no percent to show
    auth.login(owner.username)
    page = client.get("/submit/").get_data(as_text=True)
    assert page.count("上传未完成") == 1
    assert "上传未完成（50%）" in page
    assert f'href="/submit/{cut.id}#video-form"' in page


def test_the_entry_page_names_its_unfinished_upload_for_the_same_file(
    client: FlaskClient, auth: Any, session: Session, owner: User, contest: Contest
) -> None:
    draft = make_entry(session, owner, contest)
    upload = cut_upload(session, draft, 5 * MB)
    auth.login(owner.username)
    page = client.get(f"/submit/{draft.id}").get_data(as_text=True)
    assert f'data-resume-url="/api/v1/uploads/{upload.id}"' in page
    assert f'data-resume-length="{12 * MB}"' in page and 'data-resume-name="我们的故事.mp4"' in page
    assert "上次上传未完成（已上传 41%）" in page
    # Another contestant's upload is not theirs to resume, nor its entry to see.
    stranger = make_user(session)
    auth.logout()
    auth.login(stranger.username)
    assert client.get(f"/submit/{draft.id}").status_code == 404


def checks_of(page: str) -> dict[str, str]:
    start = page.index('id="entry-form"')
    tag = page[start : page.index(">", start)]
    return {
        name: html.unescape(tag.split(f'data-{name}="', 1)[1].split('"', 1)[0])
        for name in ("max-bytes", "max-seconds", "too-large", "too-long")
    }


def test_the_form_checks_speak_the_workers_sentences(
    client: FlaskClient, auth: Any, session: Session, owner: User, contest: Contest, app: Any
) -> None:
    auth.login(owner.username)
    checks = checks_of(client.get("/submit/new").get_data(as_text=True))
    settings = app.config["SETTINGS"]
    limits = MediaLimits.from_settings(settings)
    assert int(checks["max-bytes"]) == settings.max_upload_bytes
    assert float(checks["max-seconds"]) == settings.max_duration_seconds
    longest = settings.max_duration_seconds + 75
    with pytest.raises(MediaRefused) as refused:
        check(replace(source(), duration=longest, video_end=longest), limits)
    # What upload.js writes for the same file: the page's sentence with its duration filled.
    assert refused.value.reason.startswith(
        checks["too-long"].replace("{duration}", format_duration_zh(longest))
    )
    limit_mb = settings.max_upload_bytes // MB
    assert checks["too-large"] == f"文件大小 {{size}} MB，超过上限 {limit_mb} MB"
