"""Photo, comic and story works on every page that shows them (templates/_work.html): the
gallery, the review queue and work page, the judge's desk and the owner's page; the images
read through the site by place and size only; a story's text escaped and its .txt export.

Images are stored as the worker stores them (tests/work_media.py), without the worker.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from judging.codes import codes_of
from judging.review import QueueQuery, queue_page
from judging.rounds import assign_round
from judging.story_text import paragraphs, story_text
from judging.works import all_pages, cover
from storage.models import Contest, Entry, EntryStatus, Job, MediaAsset, Role, User, WorkType
from storage.objects import ObjectStore
from storage.settings import Settings
from tests.factories import make_entry, make_user, open_contest, ready_round
from tests.test_gallery_voting import public_contest
from tests.test_review_queue import counted_queries
from tests.work_media import Piece, store_work
from worker.jobs import process_job

pytestmark = pytest.mark.integration

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
STORY = f"第一段第一行\n第一段第二行\n\n   \n第二段 {HOSTILE}\n\n\n第三段"


def log_in(client: FlaskClient, user: User) -> None:
    client.post("/auth/logout")
    answer = client.post("/auth/login", data={"username": user.username, "password": "password123"})
    assert answer.status_code == 302


def text(answer: Any) -> str:
    assert answer.status_code == 200, answer.status_code
    return str(answer.get_data(as_text=True))


def image_urls(html: str) -> list[str]:
    return re.findall(r'src="([^"]+/pages/[^"]+)"', html)


def gallery_works(
    session: Session, store: ObjectStore, settings: Settings
) -> tuple[Contest, Entry, Entry, Entry, Entry]:
    """A public contest accepting all four types: a video, a 3-photo set, a 3-page comic,
    a story with a photo."""
    video, photo, comic, story = public_contest(session, 4, vote=False)
    contest = video.contest
    contest.work_types = ["video", "photo", "comic", "story"]
    session.commit()
    captions = ["清晨的站台", f"夜班 {HOSTILE}", "合影"]
    store_work(
        session,
        store,
        settings,
        photo,
        WorkType.PHOTO,
        [Piece(c) for c in captions],
        sizes=(480, 1080),
    )
    store_work(
        session,
        store,
        settings,
        comic,
        WorkType.COMIC,
        [Piece("", pages=3, width=3, height=4)],
        sizes=(480, 1080),
    )
    store_work(
        session,
        store,
        settings,
        story,
        WorkType.STORY,
        [Piece("志愿者")],
        story=STORY,
        sizes=(480, 1080),
    )
    return contest, video, photo, comic, story


def test_paragraphs_split_on_blank_lines_and_keep_line_breaks() -> None:
    assert paragraphs(STORY) == [
        ["第一段第一行", "第一段第二行"],
        [f"第二段 {HOSTILE}"],
        ["第三段"],
    ]
    assert paragraphs("a\r\n\r\nb\rc") == [["a"], ["b", "c"]]
    assert paragraphs(" \n\n ") == []


def test_the_gallery_shows_each_type_and_serves_its_images(
    client: FlaskClient, session: Session, object_store: ObjectStore, settings: Settings
) -> None:
    _contest, video, photo, comic, story = gallery_works(session, object_store, settings)

    page = text(client.get(f"/gallery/{photo.id}"))
    grid = page[page.index('class="photo-grid"') :]
    assert grid.count("data-lightbox-item") == 3
    assert grid.index("清晨的站台") < grid.index("夜班") < grid.index("合影")  # in order
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page  # captions escaped
    assert 'srcset="' in grid and " 480w" in grid and " 1080w" in grid
    assert "IMG_1.jpg" not in page and "originals" not in page and "entries/" not in page
    # Without JS each image links to its largest file (here 1080: no 2048 was made).
    first = re.search(r'<a href="([^"]+)" data-lightbox-item', grid)
    assert first and first.group(1).split("?")[0].endswith("/pages/1_2048.jpg")
    answer = client.get(first.group(1))
    assert answer.status_code == 200 and answer.mimetype == "image/jpeg"
    assert answer.data[:3] == b"\xff\xd8\xff"
    assert "public" in answer.headers["Cache-Control"]
    assert 'property="og:image"' in page
    assert client.get(f"/gallery/{photo.id}/poster.jpg").mimetype == "image/jpeg"

    page = text(client.get(f"/gallery/{comic.id}"))
    assert page.count('class="comic-page"') == 3 and "第 3 / 3 页" in page and "data-comic" in page

    page = text(client.get(f"/gallery/{story.id}"))
    body = page[page.index('<article class="story"') : page.index("</article>")]
    assert "<p>第一段第一行<br>第一段第二行</p>" in body
    assert "&lt;script&gt;" in body and "<script>alert" not in body and "<img src=x" not in body
    assert body.count("<p>") == 3  # three paragraphs (the 字数 line has a class)
    words = sum(1 for c in STORY if not c.isspace())
    assert f"字数：{words}" in body
    assert "story.txt" not in page  # the text file is for judges and staff
    assert "data-lightbox-item" in page  # its photo

    page = text(client.get(f"/gallery/{video.id}"))
    assert 'class="work' not in page and "data-lightbox" not in page


@pytest.mark.parametrize(
    "name",
    ["0_480.jpg", "4_480.jpg", "1_999.jpg", "1_480.png", "..%2F1_480.jpg", "1_480.jpg.jpg", "x"],
)
def test_forged_image_names_find_nothing(
    client: FlaskClient, session: Session, object_store: ObjectStore, settings: Settings, name: str
) -> None:
    _contest, video, photo, _comic, _story = gallery_works(session, object_store, settings)
    assert client.get(f"/gallery/{photo.id}/pages/{name}").status_code == 404
    assert client.get(f"/gallery/{video.id}/pages/1_480.jpg").status_code == 404


def test_an_entry_not_public_shows_no_images(
    client: FlaskClient, session: Session, object_store: ObjectStore, settings: Settings
) -> None:
    _contest, _video, photo, _comic, _story = gallery_works(session, object_store, settings)
    assert client.get(f"/gallery/{photo.id}/pages/1_480.jpg").status_code == 200
    photo.approved_at = None
    session.commit()
    assert client.get(f"/gallery/{photo.id}/pages/1_480.jpg").status_code == 404
    assert client.get(f"/gallery/{photo.id}").status_code == 404


def test_the_gallery_filters_and_counts_by_type_and_ignores_forged_values(
    client: FlaskClient, session: Session, object_store: ObjectStore, settings: Settings
) -> None:
    _contest, video, photo, comic, story = gallery_works(session, object_store, settings)
    page = text(client.get("/gallery/"))
    start = page.index('class="type-filter"')
    nav = page[start : page.index("</nav>", start)]
    for label in ("全部 4", "微视频 1", "摄影 1", "漫画 1", "职业故事 1"):
        assert label in nav
    assert f'id="tile-{photo.id}"' in page
    tile = page[page.index(f'id="tile-{comic.id}"') :]
    assert re.search(r'<img src="[^"]+/pages/1_480\.jpg', tile[:600])  # its cover

    page = text(client.get("/gallery/?type=photo"))
    assert f'id="tile-{photo.id}"' in page and f'id="tile-{video.id}"' not in page
    assert 'name="type" value="photo"' in page  # a search keeps the type
    assert '<strong aria-current="page">摄影 1</strong>' in page

    for forged in ("<script>", "PHOTO", "photo'", "1", "vid", ""):
        page = text(client.get("/gallery/", query_string={"type": forged}))
        assert all(f'id="tile-{e.id}"' in page for e in (video, photo, comic, story)), forged
        assert "<script>" not in page.split("</header>", 1)[1].split("<script", 1)[0]


def test_a_piece_being_processed_shows_a_placeholder(
    client: FlaskClient, session: Session, object_store: ObjectStore, settings: Settings
) -> None:
    owner = make_user(session)
    entry = make_entry(session, owner)
    store_work(
        session,
        object_store,
        settings,
        entry,
        WorkType.PHOTO,
        [Piece("一"), Piece("二", ready=False)],
        sizes=(480,),
    )
    log_in(client, owner)
    page = text(client.get(f"/submit/{entry.id}"))
    assert "第 2 个文件处理中" in page and page.count("data-lightbox-item") == 1
    urls = image_urls(page)
    assert urls and all(u.startswith(f"/works/{entry.id}/pages/") for u in urls)
    assert client.get(urls[0].replace("&amp;", "&")).status_code == 200


def test_the_review_queue_filters_by_type_and_opens_the_work(
    client: FlaskClient, session: Session, object_store: ObjectStore, settings: Settings
) -> None:
    contest, video, photo, comic, story = gallery_works(session, object_store, settings)
    organizer = make_user(session, Role.ORGANIZER)
    log_in(client, organizer)
    page = text(client.get("/admin/"))
    assert 'name="type"' in page and f'href="/works/{photo.id}"' in page
    page = text(client.get("/admin/?type=comic"))
    assert f'id="entry-{comic.id}"' in page and f'id="entry-{photo.id}"' not in page
    assert '<option value="comic" selected>' in page
    for forged in ("x", "<b>", "Comic"):
        page = text(client.get("/admin/", query_string={"type": forged}))
        assert f'id="entry-{comic.id}"' in page and f'id="entry-{photo.id}"' in page

    page = text(client.get(f"/works/{comic.id}"))
    assert page.count('class="comic-page"') == 3
    assert client.get(f"/works/{comic.id}/pages/2_1080.jpg").mimetype == "image/jpeg"
    export = client.get(f"/works/{story.id}/story.txt")
    assert export.status_code == 200 and export.data.startswith(b"\xef\xbb\xbf")
    assert story.collective in export.data.decode("utf-8-sig")  # staff's own file names it
    assert client.get(f"/works/{photo.id}/story.txt").status_code == 404

    stranger = make_user(session)
    log_in(client, stranger)
    for path in (
        f"/works/{photo.id}",
        f"/works/{photo.id}/pages/1_480.jpg",
        f"/works/{story.id}/story.txt",
    ):
        assert client.get(path).status_code == 404, path


def blind_story_round(
    session: Session, store: ObjectStore, settings: Settings
) -> tuple[Entry, Entry, str, str, list[User]]:
    """A blind round's story and photo entries, assigned to both of its judges; their codes."""
    contest, rnd, (story, photo), judges = ready_round(
        session, 2, 2, blind=True, judges_per_entry=2, auto_conflicts=[]
    )
    contest.work_types = ["photo", "story"]
    store_work(session, store, settings, story, WorkType.STORY, [], story=STORY)
    store_work(
        session, store, settings, photo, WorkType.PHOTO, [Piece("检修现场")], sizes=(480, 1080)
    )
    assign_round(session, rnd, [story, photo])
    codes = codes_of(session, rnd)
    return story, photo, codes[story.id], codes[photo.id], judges


def test_a_blind_judge_sees_the_work_under_its_code_only(
    client: FlaskClient, session: Session, object_store: ObjectStore, settings: Settings
) -> None:
    story, photo, story_code, photo_code, (judge, _other) = blind_story_round(
        session, object_store, settings
    )
    log_in(client, judge)
    desk = text(client.get("/judge/"))
    assert "职业故事" in desk and "摄影" in desk

    page = text(client.get(f"/judge/entries/{photo_code}"))
    assert "检修现场" in page  # the caption is the contestant's work, shown as the title is
    for hidden in (
        photo.collective,
        f"No.{photo.number:04d}",
        "IMG_1.jpg",
        f"/{photo.id}/",
        "/originals/",
    ):
        assert hidden not in page, hidden
    urls = image_urls(page)
    assert urls and all(u.startswith(f"/judge/entries/{photo_code}/pages/") for u in urls)
    answer = client.get(urls[0].replace("&amp;", "&"))
    assert answer.status_code == 200 and answer.mimetype == "image/jpeg"

    page = text(client.get(f"/judge/entries/{story_code}"))
    assert "&lt;script&gt;" in page and "<script>alert" not in page
    assert f'href="/judge/entries/{story_code}/story.txt"' in page
    export = client.get(f"/judge/entries/{story_code}/story.txt")
    assert export.status_code == 200 and export.mimetype == "text/plain"
    assert export.headers["Content-Disposition"] == f"attachment; filename={story_code}.txt"
    assert export.data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Notepad
    body = export.data.decode("utf-8-sig")
    assert body.startswith(story.title + "\r\n") and f"作品编码：{story_code}" in body
    assert f"字数：{sum(1 for c in STORY if not c.isspace())}" in body
    assert HOSTILE in body  # plain text as written: nothing to escape in a .txt
    for hidden in (
        story.collective,
        story.contact_name,
        story.contact_phone,
        story.email,
        f"{story.number:04d}",
    ):
        assert hidden not in body, hidden
    assert client.get(f"/judge/entries/{photo_code}/story.txt").status_code == 404


def test_only_assigned_judges_read_a_story_or_its_images(
    client: FlaskClient, session: Session, object_store: ObjectStore, settings: Settings
) -> None:
    story, photo, story_code, photo_code, _judges = blind_story_round(
        session, object_store, settings
    )
    paths = [
        f"/judge/entries/{story_code}/story.txt",
        f"/judge/entries/{photo_code}/pages/1_480.jpg",
    ]
    log_in(client, make_user(session, Role.JUDGE))  # a judge of no round
    assert [client.get(p).status_code for p in paths] == [404, 404]
    log_in(client, story.owner)  # the contestant: the judges' pages are not theirs
    assert [client.get(p).status_code for p in paths] == [403, 403]
    # Nor does the judge's code open another entry's images through the owner's pages.
    assert client.get(f"/works/{photo.id}/pages/1_480.jpg").status_code == 200


def test_a_story_export_names_the_entry_only_by_its_code() -> None:
    entry = Entry(
        title="标题", number=7, collective="某集体", contact_name="李四", story_body="甲乙\n\n丙 丁"
    )
    judge = story_text(entry, "K7Q2")
    assert judge == "\ufeff标题\r\n作品编码：K7Q2\r\n字数：4\r\n\r\n甲乙\r\n\r\n丙 丁\r\n"
    staff = story_text(entry)
    assert "No.0007 · 某集体" in staff and "李四" not in staff


def test_an_image_of_a_removed_piece_is_not_served(
    client: FlaskClient, session: Session, object_store: ObjectStore, settings: Settings
) -> None:
    owner = make_user(session)
    entry = make_entry(session, owner)
    store_work(
        session,
        object_store,
        settings,
        entry,
        WorkType.PHOTO,
        [Piece("一"), Piece("二")],
        sizes=(480,),
    )
    log_in(client, owner)
    assert client.get(f"/works/{entry.id}/pages/2_480.jpg").status_code == 200
    entry.pieces.remove(entry.pieces[1])
    session.commit()
    assert session.scalars(select(MediaAsset).where(MediaAsset.entry_id == entry.id)).all()
    assert client.get(f"/works/{entry.id}/pages/2_480.jpg").status_code == 404


def test_a_queue_page_of_photo_sets_reads_their_pieces_at_once(
    session: Session, object_store: ObjectStore, settings: Settings
) -> None:
    owner = make_user(session)
    contest = open_contest(session)
    made = [make_entry(session, owner, contest) for _ in range(3)]
    for entry in made:
        store_work(
            session, object_store, settings, entry, WorkType.PHOTO, [Piece("一")], sizes=(480,)
        )
    session.expire_all()
    assert contest.id  # loaded again before counting
    with counted_queries(session) as statements:
        page = queue_page(session, contest, QueueQuery(work_type=WorkType.PHOTO))
        covers = [cover(entry) for entry in page.entries]
    assert len(page.entries) >= 3 and all(covers)
    assert len(statements) <= 6  # count, page, jobs, assets, entries and their pieces


def test_the_demo_seeds_a_photo_comic_and_story_entry_that_the_fleet_processes(
    session: Session,
    session_factory: sessionmaker[Session],
    object_store: ObjectStore,
    settings: Settings,
) -> None:
    from web.demo import DEMO_SLUG, seed_demo
    from web.demo_works import DEMO_WORKS, seed_demo_works

    seed_demo(session)
    published: list[int] = []

    def publish(_session: Session, job: Job) -> bool:
        published.append(job.id)
        return True

    added = seed_demo_works(session, object_store, publish)
    contest = session.scalar(select(Contest).where(Contest.slug == DEMO_SLUG))
    assert contest is not None and set(contest.work_types) == {"video", "photo", "comic", "story"}
    assert seed_demo_works(session, object_store, publish) == []  # a second run adds nothing
    assert added == [w.title for w in DEMO_WORKS]  # each run's database is a fresh one
    assert len(published) == 3 + 1 + 1  # a job per photo, the comic's PDF, the story's photo
    for job_id in published:
        process_job(session_factory, object_store, settings, job_id)
    session.expire_all()
    entries = {
        e.work_type: e
        for e in session.scalars(
            select(Entry).where(Entry.contest_id == contest.id, Entry.title.in_(added))
        )
    }
    assert set(entries) == {WorkType.PHOTO, WorkType.COMIC, WorkType.STORY}
    photo, comic, story = entries[WorkType.PHOTO], entries[WorkType.COMIC], entries[WorkType.STORY]
    assert [p.caption for p in photo.pieces][:1] == ["清晨五点，第一班车出站"]
    assert photo.status is EntryStatus.READY and comic.status is EntryStatus.READY
    assert len(all_pages(photo)) == 3 and len(all_pages(comic)) == 3  # the PDF's 3 pages
    assert len(all_pages(story)) == 1 and story.status is EntryStatus.READY
    assert story.story_body.startswith("凌晨四点半") and len(story.pieces) == 1


def test_a_photo_entrys_share_poster_is_made_around_its_first_photo(
    session: Session, object_store: ObjectStore, settings: Settings
) -> None:
    from worker.share import frame_asset

    _contest, video, photo, comic, _story = gallery_works(session, object_store, settings)
    frame = frame_asset(photo)
    assert frame is not None and frame.label == "001_1080"
    assert frame.source_key == photo.pieces[0].source_key
    assert frame_asset(comic) is not None and frame_asset(video) is None  # no video poster here


def test_the_viewers_speak_english_on_request(
    client: FlaskClient, session: Session, object_store: ObjectStore, settings: Settings
) -> None:
    _contest, _video, photo, comic, story = gallery_works(session, object_store, settings)
    client.get("/lang/en?next=/")
    page = text(client.get(f"/gallery/{photo.id}"))
    assert "Photo {n} of {total}" in page and "Previous photo" in page
    page = text(client.get(f"/gallery/{comic.id}"))
    assert "Page {n} of {total}" in page and "Zoom in" in page and "Page 3 of 3" in page
    page = text(client.get(f"/gallery/{story.id}"))
    assert "Characters: " in page and "Photos" in page
