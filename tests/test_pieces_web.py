"""Photo, comic and story entries from the contestant's side: the work type on the entry form,
pieces uploaded (one accept path with videos), captioned, reordered and removed, a story's
text; forged fields, other users' ids, limits, hostile files, races, reloads."""

from __future__ import annotations

import dataclasses
import io
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from judging.accept import accepted_kinds, kind_of
from judging.pieces import PieceError, add_piece
from judging.stories import StoryError, clean_story, paragraphs
from judging.submissions import SubmissionError, read_work_type
from storage.models import Contest, Entry, EntryPiece, EntryStatus, MediaAsset, User, WorkType
from storage.objects import ObjectStore, StoredObject
from storage.settings import Settings
from tests.factories import ENTRY_FIELDS, PASSWORD, make_entry, make_user, open_contest
from web import create_app

SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
)
ALL_TYPES = ["video", "photo", "comic", "story"]


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (64, 48), color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt)
    return out.getvalue()


def pdf_bytes(pages: int = 2) -> bytes:
    out = io.BytesIO()
    first, *rest = [Image.new("RGB", (60, 80), c) for c in ("white", "blue", "green")[:pages]]
    first.save(out, "PDF", save_all=True, append_images=rest)
    return out.getvalue()


def work_entry(session: Session, owner: User, work_type: WorkType) -> Entry:
    entry = make_entry(session, owner)
    entry.work_type = work_type
    session.commit()
    return entry


@pytest.fixture()
def campaign(session: Session) -> Iterator[Contest]:
    """The run's open contest taking all four work types, put back afterwards."""
    contest = open_contest(session)
    before = list(contest.work_types)
    contest.work_types = ALL_TYPES
    session.commit()
    yield contest
    session.refresh(contest)
    contest.work_types = before
    session.commit()


def login(client: FlaskClient, user: User) -> None:
    client.post("/auth/login", data={"username": user.username, "password": PASSWORD})


def upload(client: FlaskClient, entry: Entry, *files: tuple[bytes, str], **kw: Any) -> Any:
    data = {"files": [(io.BytesIO(body), name) for body, name in files]}
    return client.post(
        f"/submit/{entry.id}/pieces",
        data=data,
        content_type="multipart/form-data",
        follow_redirects=True,
        **kw,
    )


def pieces_of(session: Session, entry: Entry) -> list[EntryPiece]:
    session.expire_all()
    return list(
        session.scalars(
            select(EntryPiece).where(EntryPiece.entry_id == entry.id).order_by(EntryPiece.position)
        )
    )


def originals_of(session: Session, entry: Entry) -> list[MediaAsset]:
    session.expire_all()
    return list(session.scalars(select(MediaAsset).where(MediaAsset.entry_id == entry.id)))


# --- rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (image_bytes("JPEG"), "jpeg"),
        (image_bytes("PNG"), "png"),
        (image_bytes("WEBP"), "webp"),
        (b"%PDF-1.7\n%\xe2\xe3", "pdf"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00", "video"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "heif"),
        (SVG, None),
        (b"GIF89a\x01\x00\x01\x00", "gif"),
        (b"hello, this is text", None),
    ],
)
def test_files_are_known_by_their_first_bytes(head: bytes, kind: str | None) -> None:
    assert kind_of(head[:16]) == kind


def test_pdfs_are_for_comics_only() -> None:
    assert "pdf" in accepted_kinds(WorkType.COMIC)
    assert "pdf" not in accepted_kinds(WorkType.PHOTO) | accepted_kinds(WorkType.STORY)
    assert accepted_kinds(WorkType.VIDEO) == {"video"}


def test_a_story_is_plain_text_within_its_limit() -> None:
    body = clean_story("第一段。\r\n\r\n\r\n\r\n第二段  \n续行。\n\n", 100)
    assert body == "第一段。\n\n第二段\n续行。"
    assert paragraphs(body) == ["第一段。", "第二段\n续行。"]
    assert clean_story("温度 <5 度，a<b 且 b>c", 100)  # a lone "<" is text, not a tag
    assert clean_story("一二三 四五\n\n六", 6)  # white space is not counted
    with pytest.raises(StoryError, match="不能超过 6 字|超过了 6 字"):
        clean_story("一二三四五六七", 6)


@pytest.mark.parametrize(
    "html",
    ["<p>第一段</p>", "文字<br>换行", "<script>alert(1)</script>", "<!-- 注释 -->", "< img src=x>"],
)
def test_html_in_a_story_is_refused_with_the_tag_named(html: str) -> None:
    with pytest.raises(StoryError) as refused:
        clean_story(html, 1000)
    assert "HTML" in refused.value.message and "story_body" in refused.value.errors


def test_the_work_type_comes_from_the_contest(session: Session) -> None:
    contest = Contest(slug="x", title="x", work_types=["photo", "story"])
    only = Contest(slug="y", title="y", work_types=["comic"])
    assert read_work_type({}, only, None) is WorkType.COMIC
    assert read_work_type({"work_type": "story"}, contest, None) is WorkType.STORY
    for forged in ("video", "admin", "PHOTO", "1"):
        with pytest.raises(SubmissionError) as refused:
            read_work_type({"work_type": forged}, contest, None)
        assert "不接受" in refused.value.errors["work_type"]
    with pytest.raises(SubmissionError) as missing:
        read_work_type({}, contest, None)
    assert missing.value.errors["work_type"] == "请选择作品类型"


def test_the_work_type_is_fixed_once_there_is_work(session: Session) -> None:
    user = make_user(session)
    entry = work_entry(session, user, WorkType.STORY)
    contest = Contest(slug="z", title="z", work_types=["photo", "story"])
    assert read_work_type({"work_type": "photo"}, contest, entry) is WorkType.PHOTO
    entry.story_body = "已经写好的正文"
    with pytest.raises(SubmissionError) as refused:
        read_work_type({"work_type": "photo"}, contest, entry)
    assert "不能再更改作品类型" in refused.value.errors["work_type"]
    # A type the contest dropped later stays the entry's own.
    entry.work_type = WorkType.COMIC
    assert read_work_type({"work_type": "comic"}, contest, entry) is WorkType.COMIC
    session.rollback()


# --- the entry form ----------------------------------------------------------------------------


def test_the_form_offers_the_contests_types_and_refuses_a_forged_one(
    client: FlaskClient, session: Session, campaign: Contest
) -> None:
    user = make_user(session)
    login(client, user)
    page = client.get("/submit/new").get_data(as_text=True)
    assert 'name="work_type"' in page
    for label in ("微视频", "摄影", "漫画", "职业故事"):
        assert label in page
    campaign.work_types = ["video", "photo"]
    session.commit()
    forged = client.post("/submit/new", data={**ENTRY_FIELDS, "work_type": "story"})
    assert "本次征集不接受这种作品类型" in forged.get_data(as_text=True)
    assert session.scalars(select(Entry).where(Entry.owner_id == user.id)).all() == []
    made = client.post("/submit/new", data={**ENTRY_FIELDS, "work_type": "photo"})
    entry = session.scalars(select(Entry).where(Entry.owner_id == user.id)).one()
    assert entry.work_type is WorkType.PHOTO and entry.status is EntryStatus.DRAFT
    assert made.headers["Location"].endswith(f"/submit/{entry.id}#work")
    listing = client.get("/submit/").get_data(as_text=True)
    assert "摄影" in listing and "草稿（尚未上传文件）" in listing
    page = client.get(f"/submit/{entry.id}").get_data(as_text=True)
    assert 'id="work-type">摄影' in page and 'id="pieces-form"' in page
    assert 'id="video-form"' not in page
    assert 'type="file" name="files" id="piece-files" multiple' in page


def test_a_contest_of_one_type_shows_no_choice(
    client: FlaskClient, session: Session, campaign: Contest
) -> None:
    campaign.work_types = ["story"]
    session.commit()
    user = make_user(session)
    login(client, user)
    page = client.get("/submit/new").get_data(as_text=True)
    assert 'name="work_type"' not in page and 'id="work-type-only"' in page
    assert 'name="video"' not in page
    client.post("/submit/new", data=ENTRY_FIELDS)
    entry = session.scalars(select(Entry).where(Entry.owner_id == user.id)).one()
    assert entry.work_type is WorkType.STORY


def test_the_type_cannot_change_once_files_exist(
    client: FlaskClient, session: Session, campaign: Contest
) -> None:
    user = make_user(session)
    entry = work_entry(session, user, WorkType.PHOTO)
    login(client, user)
    edit = client.post(f"/submit/{entry.id}/edit", data={**ENTRY_FIELDS, "work_type": "comic"})
    assert edit.status_code == 302  # no work yet: it may change
    upload(client, entry, (image_bytes(), "a.jpg"))
    page = client.get(f"/submit/{entry.id}/edit").get_data(as_text=True)
    assert 'id="work-type-fixed"' in page and "作品类型不能再更改" in page
    forged = client.post(f"/submit/{entry.id}/edit", data={**ENTRY_FIELDS, "work_type": "story"})
    assert "不能再更改作品类型" in forged.get_data(as_text=True)
    session.refresh(entry)
    assert entry.work_type is WorkType.COMIC and len(entry.pieces) == 1


# --- pieces ------------------------------------------------------------------------------------


def test_photos_are_stored_in_order_each_with_a_job(
    client: FlaskClient, session: Session, object_store: ObjectStore, settings: Settings
) -> None:
    user = make_user(session)
    entry = work_entry(session, user, WorkType.PHOTO)
    login(client, user)
    page = upload(client, entry, (image_bytes(), "一.jpg"), (image_bytes("PNG"), "二.png"))
    assert "已上传 2 个文件，正在处理" in page.get_data(as_text=True)
    pieces = pieces_of(session, entry)
    assert [(p.position, p.filename) for p in pieces] == [(1, "一.jpg"), (2, "二.png")]
    session.refresh(entry)
    # Submitted, or further on where a worker of this run took the jobs already.
    assert entry.status is not EntryStatus.DRAFT and len(entry.jobs) == 2
    assert entry.jobs[-1].source_key == pieces[-1].source_key
    for piece in pieces:
        assert object_store.exists(settings.bucket_originals, piece.source_key)
    shown = client.get(f"/submit/{entry.id}").get_data(as_text=True)
    assert shown.count('<li class="piece ') == 2 and "一.jpg" in shown


@pytest.mark.parametrize(
    ("work_type", "body", "name", "reason"),
    [
        (WorkType.PHOTO, SVG, "logo.svg", "logo.svg 不是照片"),
        (WorkType.PHOTO, SVG, "logo.jpg", "logo.jpg 不是照片"),  # the name does not count
        (WorkType.PHOTO, pdf_bytes(), "pages.pdf", "PDF 只用于漫画作品"),
        (WorkType.STORY, pdf_bytes(), "pages.pdf", "PDF 只用于漫画作品"),
        (WorkType.COMIC, SVG, "p.svg", "p.svg 不是漫画页面"),
        (WorkType.PHOTO, b"\x00\x00\x00\x18ftypmp42" + b"\0" * 64, "v.mp4", "是视频"),
        (WorkType.PHOTO, b"", "empty.jpg", "empty.jpg 是空文件"),
        (WorkType.COMIC, b"GIF89a" + b"\0" * 40, "a.gif", "不是漫画页面"),
    ],
)
def test_files_that_are_not_pictures_are_refused_before_storing(
    client: FlaskClient, session: Session, work_type: WorkType, body: bytes, name: str, reason: str
) -> None:
    user = make_user(session)
    entry = work_entry(session, user, work_type)
    login(client, user)
    page = upload(client, entry, (body, name)).get_data(as_text=True)
    assert reason in page
    assert originals_of(session, entry) == [] and pieces_of(session, entry) == []
    session.refresh(entry)
    assert entry.status is EntryStatus.DRAFT and entry.jobs == []


def test_a_comic_takes_a_pdf(client: FlaskClient, session: Session) -> None:
    user = make_user(session)
    entry = work_entry(session, user, WorkType.COMIC)
    login(client, user)
    page = client.get(f"/submit/{entry.id}").get_data(as_text=True)
    assert "application/pdf" in page
    upload(client, entry, (pdf_bytes(3), "连环画.pdf"), (image_bytes(), "封底.jpg"))
    assert [p.filename for p in pieces_of(session, entry)] == ["连环画.pdf", "封底.jpg"]


def test_a_video_entry_takes_no_picture_and_a_photo_entry_no_video(
    client: FlaskClient, session: Session
) -> None:
    user = make_user(session)
    video = work_entry(session, user, WorkType.VIDEO)
    photo = work_entry(session, user, WorkType.PHOTO)
    login(client, user)
    page = client.post(
        f"/submit/{video.id}/video",
        data={"video": (io.BytesIO(image_bytes()), "a.jpg")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "微视频作品请上传视频文件" in page.get_data(as_text=True)
    refused = upload(client, video, (image_bytes(), "a.jpg"))
    assert "微视频作品请上传视频文件" in refused.get_data(as_text=True)
    page = client.post(
        f"/submit/{photo.id}/video",
        data={"video": (io.BytesIO(b"\x00\x00\x00\x18ftypmp42" + b"\0" * 64), "v.mp4")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "不能上传视频" in page.get_data(as_text=True)
    tus = client.post(
        f"/api/v1/entries/{photo.id}/uploads",
        headers={"Tus-Resumable": "1.0.0", "Upload-Length": "100"},
    )
    assert tus.status_code == 409 and "不能上传视频" in tus.get_json()["error"]
    assert originals_of(session, video) == [] and originals_of(session, photo) == []


@pytest.fixture()
def small_app(settings: Settings, object_store: ObjectStore) -> Iterator[Flask]:
    tight = dataclasses.replace(
        settings, photo_max_per_entry=2, image_max_bytes=20_000, story_max_chars=20
    )
    app = create_app({"SETTINGS": tight, "TESTING": True, "WTF_CSRF_ENABLED": False})
    yield app
    app.extensions["footprints.engine"].dispose()


def test_limits_on_count_and_bytes_hold_before_storing(small_app: Flask, session: Session) -> None:
    client = small_app.test_client()
    user = make_user(session)
    entry = work_entry(session, user, WorkType.PHOTO)
    login(client, user)
    big = image_bytes("PNG", (400, 400)) + b"\0" * 30_000  # a PNG with junk after its end
    page = upload(client, entry, (big, "big.png")).get_data(as_text=True)
    assert "big.png 过大：上限为 1 MB" in page
    assert originals_of(session, entry) == []
    three = [(image_bytes(), f"{n}.jpg") for n in range(3)]
    page = upload(client, entry, *three).get_data(as_text=True)
    assert "已上传 2 个文件" in page and "最多上传 2 个文件" in page
    assert len(pieces_of(session, entry)) == 2 and len(originals_of(session, entry)) == 2
    assert 'id="pieces-full"' in client.get(f"/submit/{entry.id}").get_data(as_text=True)


def test_two_uploads_at_once_cannot_pass_the_limit(
    session_factory: sessionmaker[Session], session: Session, settings: Settings
) -> None:
    """The second of two uploads that both passed the early check waits for the first one's
    commit, then sees the entry full: the limit holds, the second file is not recorded."""
    limit = dataclasses.replace(settings, photo_max_per_entry=1)
    user = make_user(session)
    entry = work_entry(session, user, WorkType.PHOTO)
    first, second = session_factory(), session_factory()
    try:
        entry_a = first.get_one(Entry, entry.id)
        entry_b = second.get_one(Entry, entry.id)
        assert entry_a.pieces == [] and entry_b.pieces == []  # both pass check_room
        # The first upload holds the entry's lock (as add_piece does) ...
        first.execute(select(Entry.id).where(Entry.id == entry.id).with_for_update())
        pid = second.scalar(text("select pg_backend_pid()"))
        outcome: list[object] = []

        def second_upload() -> None:
            try:
                add_piece(
                    second, entry_b, StoredObject("b", f"race-b-{entry.id}", 9, "0" * 64), limit
                )
                outcome.append("added")
            except PieceError as exc:
                outcome.append(exc.message)

        thread = threading.Thread(target=second_upload)
        thread.start()
        # ... while the second one waits for it (asked of PostgreSQL, not timed).
        with session_factory() as watcher:
            while not watcher.scalar(
                text("select wait_event_type = 'Lock' from pg_stat_activity where pid = :p"),
                {"p": pid},
            ):
                watcher.rollback()
                thread.join(0.05)
        add_piece(first, entry_a, StoredObject("b", f"race-a-{entry.id}", 9, "0" * 64), limit)
        thread.join()
        assert outcome == ["最多上传 1 个文件，请先删除不需要的再添加"]
        assert [p.source_key for p in pieces_of(session, entry)] == [f"race-a-{entry.id}"]
    finally:
        second.rollback()
        first.close()
        second.close()


def test_captions_order_and_removal(client: FlaskClient, session: Session) -> None:
    user = make_user(session)
    entry = work_entry(session, user, WorkType.PHOTO)
    login(client, user)
    upload(client, entry, *[(image_bytes(), f"{n}.jpg") for n in (1, 2, 3)])
    one, two, three = pieces_of(session, entry)
    base = f"/submit/{entry.id}/pieces"
    saved = client.post(f"{base}/{two.id}/caption", data={"caption": "  清晨的  急诊科\n走廊 "})
    assert saved.status_code == 302 and saved.headers["Location"].endswith(f"#piece-{two.id}")
    assert pieces_of(session, entry)[1].caption == "清晨的 急诊科 走廊"
    too_long = client.post(
        f"{base}/{two.id}/caption", data={"caption": "字" * 201}, follow_redirects=True
    )
    assert "说明最多 200 个字" in too_long.get_data(as_text=True)
    assert pieces_of(session, entry)[1].caption == "清晨的 急诊科 走廊"
    client.post(f"{base}/{three.id}/move", data={"direction": "up"})
    assert [p.filename for p in pieces_of(session, entry)] == ["1.jpg", "3.jpg", "2.jpg"]
    client.post(f"{base}/{one.id}/move", data={"direction": "up"})  # already first
    client.post(f"{base}/{two.id}/move", data={"direction": "down"})  # already last
    assert [p.filename for p in pieces_of(session, entry)] == ["1.jpg", "3.jpg", "2.jpg"]
    bad = client.post(f"{base}/{one.id}/move", data={"direction": "0"}, follow_redirects=True)
    assert "请用“上移”“下移”按钮调整顺序" in bad.get_data(as_text=True)
    session.refresh(entry)
    jobs = len(entry.jobs)
    client.post(f"{base}/{three.id}/delete")
    again = client.post(f"{base}/{three.id}/delete", follow_redirects=True)  # a reload re-posts
    assert "找不到这个文件，可能已被删除" in again.get_data(as_text=True)
    assert [(p.position, p.filename) for p in pieces_of(session, entry)] == [
        (1, "1.jpg"),
        (2, "2.jpg"),
    ]
    session.refresh(entry)
    assert len(entry.jobs) == jobs + 1  # one job for the removal, none for the re-post


def test_others_ids_are_not_found_and_other_entries_pieces_refused(
    client: FlaskClient, session: Session
) -> None:
    owner, other = make_user(session), make_user(session)
    theirs = work_entry(session, other, WorkType.PHOTO)
    mine = work_entry(session, owner, WorkType.PHOTO)
    my_other = work_entry(session, owner, WorkType.PHOTO)
    login(client, other)
    upload(client, theirs, (image_bytes(), "theirs.jpg"))
    client.post("/auth/logout")
    login(client, owner)
    upload(client, my_other, (image_bytes(), "other.jpg"))
    upload(client, mine, (image_bytes(), "mine.jpg"))
    their_piece = pieces_of(session, theirs)[0]
    other_piece = pieces_of(session, my_other)[0]
    for action, data in (
        ("caption", {"caption": "x"}),
        ("move", {"direction": "up"}),
        ("delete", {}),
    ):
        url = f"/submit/{theirs.id}/pieces/{their_piece.id}/{action}"
        assert client.post(url, data=data).status_code == 404
        # Their piece through my entry, my other entry's piece through this one: refused.
        for piece in (their_piece, other_piece):
            page = client.post(
                f"/submit/{mine.id}/pieces/{piece.id}/{action}", data=data, follow_redirects=True
            )
            assert "找不到这个文件" in page.get_data(as_text=True)
    assert upload(client, theirs, (image_bytes(), "x.jpg")).status_code == 404
    assert client.post(f"/submit/{theirs.id}/story", data={"story_body": "x"}).status_code == 404
    assert [p.caption for p in pieces_of(session, theirs)] == [""]
    assert len(pieces_of(session, my_other)) == 1 and len(pieces_of(session, mine)) == 1


def test_changes_need_the_form_token(settings: Settings, session: Session) -> None:
    app = create_app({"SETTINGS": settings, "TESTING": True})
    client = app.test_client()
    user = make_user(session)
    entry = work_entry(session, user, WorkType.STORY)
    # Without the form's token every change is refused, nothing is saved.
    for url, data in (
        (f"/submit/{entry.id}/story", {"story_body": "正文"}),
        (f"/submit/{entry.id}/pieces", {}),
    ):
        assert client.post(url, data=data).status_code == 400
    session.refresh(entry)
    assert entry.story_body == ""
    app.extensions["footprints.engine"].dispose()


# --- stories -----------------------------------------------------------------------------------


def test_a_story_with_text_is_ready_without_a_job(client: FlaskClient, session: Session) -> None:
    user = make_user(session)
    entry = work_entry(session, user, WorkType.STORY)
    login(client, user)
    page = client.get(f"/submit/{entry.id}").get_data(as_text=True)
    assert (
        'id="story_body"' in page and "不支持 HTML 标签" in page and "草稿（尚未填写正文）" in page
    )
    saved = client.post(f"/submit/{entry.id}/story", data={"story_body": "第一段。\n\n第二段。"})
    assert saved.status_code == 302
    session.refresh(entry)
    assert entry.story_body == "第一段。\n\n第二段。"
    assert entry.status is EntryStatus.READY and entry.jobs == []
    assert "已写 8 / 5000 字" in client.get(f"/submit/{entry.id}").get_data(as_text=True)
    # Optional photos: with one, the story follows its job; without, it stands on its text.
    upload(client, entry, (image_bytes(), "配图.jpg"))
    session.refresh(entry)
    assert entry.status is not EntryStatus.DRAFT and len(entry.jobs) == 1  # its job's status
    client.post(f"/submit/{entry.id}/pieces/{entry.pieces[0].id}/delete")
    session.refresh(entry)
    assert entry.status is EntryStatus.READY
    client.post(f"/submit/{entry.id}/story", data={"story_body": "  \n "})
    session.refresh(entry)
    assert entry.status is EntryStatus.DRAFT


def test_html_or_too_long_a_story_is_refused_and_kept_in_the_box(
    small_app: Flask, session: Session
) -> None:
    client = small_app.test_client()
    user = make_user(session)
    entry = work_entry(session, user, WorkType.STORY)
    login(client, user)
    client.post(f"/submit/{entry.id}/story", data={"story_body": "原来的正文"})
    hostile = '<p onclick="x">新的</p><script>alert("x")</script>'
    page = client.post(f"/submit/{entry.id}/story", data={"story_body": hostile})
    html = page.get_data(as_text=True)
    assert page.status_code == 400 and "正文不能包含 HTML 标签" in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html  # kept, escaped
    assert "<script>alert" not in html
    long = "字" * 21
    page = client.post(f"/submit/{entry.id}/story", data={"story_body": long})
    html = page.get_data(as_text=True)
    assert "正文共 21 字，超过了 20 字的上限" in html and long in html
    session.refresh(entry)
    assert entry.story_body == "原来的正文" and entry.status is EntryStatus.READY


def test_only_stories_have_text(client: FlaskClient, session: Session) -> None:
    user = make_user(session)
    entry = work_entry(session, user, WorkType.PHOTO)
    login(client, user)
    page = client.post(
        f"/submit/{entry.id}/story", data={"story_body": "正文"}, follow_redirects=True
    )
    assert "只有职业故事作品有正文" in page.get_data(as_text=True)
    session.refresh(entry)
    assert entry.story_body == ""


def test_each_piece_shows_its_state_thumbnail_or_reason(
    client: FlaskClient, session: Session, settings: Settings
) -> None:
    from storage.models import AssetKind, JobState

    user = make_user(session)
    entry = work_entry(session, user, WorkType.PHOTO)
    login(client, user)
    for name in (
        "good.jpg",
        "bad.jpg",
    ):  # recorded, never published: no worker of the run sees them
        stored = StoredObject("b", f"entries/{entry.id}/originals/{name}", 9, "0" * 64)
        add_piece(session, entry, stored, settings, name)
    good, bad = pieces_of(session, entry)
    session.add(
        MediaAsset(
            entry_id=entry.id,
            kind=AssetKind.IMAGE,
            label="001_480",
            bucket="derived",
            object_key=f"{good.source_key}/001_480.jpg",
            source_key=good.source_key,
            content_type="image/jpeg",
            bytes=10,
            sha256="0" * 64,
        )
    )
    session.commit()
    session.refresh(entry)
    job = entry.latest_job()
    assert job is not None
    job.state, job.reason = JobState.REJECTED, "第 2 张照片：图片尺寸过大（30000×30000）"
    session.commit()
    page = client.get(f"/submit/{entry.id}").get_data(as_text=True)
    ready, refused = page.split(f'id="piece-{bad.id}"')
    assert 'data-state="ready"' in ready and f"{good.source_key}/001_480.jpg" in ready
    assert 'data-state="refused"' in refused and "未通过检查" in refused
    assert "第 2 张照片：图片尺寸过大（30000×30000）" in refused
