"""The organizers' review queue: search, filters, sort and pages in SQL; approving (one or
many) and sending back with a reason; the contestant's fix bringing the entry back; and how
a contestant, judge or operator, a forged id or a double submit fare against it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from judging.review import (
    BULK_LIMIT,
    PAGE_SIZE,
    QueueQuery,
    ReviewError,
    approve,
    entries_by_ids,
    escape_like,
    parse_ids,
    queue_page,
    send_back,
)
from judging.rounds import open_round
from judging.submissions import SubmissionError, record_original, update_entry, validate_fields
from storage.models import Contest, Entry, EntryStatus, Role
from storage.objects import ObjectStore, StoredObject
from storage.settings import Settings
from tests.factories import ENTRY_FIELDS, make_entries, make_entry, make_user, unique
from tests.test_blind_judging import give_media

pytestmark = pytest.mark.integration


def new_contest(session: Session, **fields: Any) -> Contest:
    """A contest of its own, the newest, so the organizer's pages act on it."""
    contest = Contest(
        slug=unique("review-"),
        title="审核测试",
        opens_at=datetime.now(UTC) - timedelta(days=1),
        closes_at=datetime.now(UTC) + timedelta(days=10),
        districts=["历下区", "市中区", "市直单位"],
        industries=["医疗卫生", "交通运输"],
        **fields,
    )
    session.add(contest)
    session.commit()
    return contest


@contextmanager
def counted_queries(session: Session) -> Iterator[list[str]]:
    """The SQL statements run on the session's connection meanwhile."""
    statements: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", note)


def numbers(page: Any) -> list[int]:
    return [e.number for e in page.entries]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({}, QueueQuery()),
        ({"status": "nonsense", "sort": "id; drop", "review": "x"}, QueueQuery()),
        ({"page": "-3"}, QueueQuery()),
        ({"page": "²"}, QueueQuery()),
        ({"page": "99999999999999999999"}, QueueQuery()),
        ({"q": "  青春  ", "warnings": "1"}, QueueQuery(q="青春", warnings=True)),
        (
            {"status": "ready", "review": "waiting", "sort": "title", "page": "3"},
            QueueQuery(status=EntryStatus.READY, review="waiting", sort="title", page=3),
        ),
    ],
)
def test_a_query_string_is_read_leniently(args: dict[str, str], expected: QueueQuery) -> None:
    assert QueueQuery.from_args(args) == expected


def test_a_query_asks_for_itself_again_without_defaults() -> None:
    query = QueueQuery(q="a", district="历下区", warnings=True, page=2)
    assert query.args() == {"q": "a", "district": "历下区", "warnings": "1", "page": "2"}
    assert query.args(page=1) == {"q": "a", "district": "历下区", "warnings": "1"}
    assert QueueQuery.from_args(query.args()) == query
    assert not QueueQuery(sort="title", page=4).filtered and query.filtered


def test_like_wildcards_are_literal() -> None:
    assert escape_like("100%_\\") == "100\\%\\_\\\\"


def test_search_filters_sort_and_pages_run_in_sql(session: Session) -> None:
    contest = new_contest(session)
    owner = make_user(session)
    entries = make_entries(session, owner, contest, PAGE_SIZE + 12)
    first, second, third, fourth = entries[:4]
    first.title, first.collective = "Youth Story", "交警支队青年文明号"
    second.title = "100%的青春"
    third.title = "a_b 之歌"
    fourth.title = "axb 之歌"
    first.status = second.status = third.status = EntryStatus.READY
    second.approved_at = datetime.now(UTC)
    third.returned_at, third.return_reason = datetime.now(UTC), "片头有误"
    first.qc = [{"kind": "black", "message": "开头黑屏"}]
    fourth.district, fourth.industry = "历下区", "交通运输"
    session.commit()

    def find(**args: str) -> list[int]:
        return numbers(queue_page(session, contest, QueueQuery.from_args(args)))

    assert find(q=f"{first.number:04d}")[0] == first.number  # leading zeros
    assert first.number in find(q=f"No.{first.number:04d}")
    assert find(q="youth STORY") == [first.number]  # case-insensitive
    assert find(q="交警支队") == [first.number]  # the collective
    assert find(q="%") == [second.number]  # a literal %, not "anything"
    assert find(q="a_b") == [third.number]  # a literal _, not "any one character"
    assert find(q="无此作品") == []
    assert find(status="ready", sort="number") == [first.number, second.number, third.number]
    assert find(review="waiting") == [first.number]
    assert find(review="approved") == [second.number]
    assert find(review="returned") == [third.number]
    assert find(warnings="1") == [first.number]
    assert find(district="历下区") == [fourth.number]
    assert find(industry="交通运输", district="历下区") == [fourth.number]
    assert find(sort="title")[0] == second.number  # digits before letters, in any collation
    assert find(q="之歌", sort="title") == [third.number, fourth.number]

    with counted_queries(session) as statements:
        page_one = queue_page(session, contest, QueueQuery(sort="number"))
    # A count, the page, and the page's jobs and assets: never one query per entry.
    assert len(statements) <= 4
    assert len(page_one.entries) == PAGE_SIZE and page_one.total == len(entries)
    assert page_one.pages == 2 and numbers(page_one)[0] == entries[0].number
    last = queue_page(session, contest, QueueQuery(sort="number", page=99))
    assert last.page == 2 and numbers(last) == [e.number for e in entries[PAGE_SIZE:]]
    newest = queue_page(session, contest, QueueQuery())
    assert numbers(newest)[0] == entries[-1].number


def test_sorting_by_length_puts_entries_without_video_last(
    session: Session, object_store: ObjectStore, settings: Settings
) -> None:
    contest = new_contest(session)
    short, long, none = make_entries(session, make_user(session), contest, 3)
    give_media(session, object_store, settings, long)  # 10 s
    give_media(session, object_store, settings, short)
    for asset in short.assets:
        asset.duration = 4.0 if asset.duration else None
    session.commit()
    page = queue_page(session, contest, QueueQuery(sort="duration"))
    assert numbers(page) == [short.number, long.number, none.number]
    assert page.durations == {short.id: 4.0, long.id: 10.0, none.id: None}


def test_approving_many_follows_the_gallery_rule_in_one_commit(session: Session) -> None:
    contest = new_contest(session)
    organizer = make_user(session, Role.ORGANIZER)
    ready, approved_before, returned, draft = make_entries(session, make_user(session), contest, 4)
    for entry in (ready, approved_before, returned):
        entry.status = EntryStatus.READY
    earlier = datetime(2026, 1, 1, tzinfo=UTC)
    approved_before.approved_at = earlier
    returned.returned_at, returned.return_reason = datetime.now(UTC), "请补充字幕"
    other = make_entry(session, make_user(session), new_contest(session))
    session.commit()

    found = entries_by_ids(session, contest, [ready.id, approved_before.id, returned.id, draft.id])
    assert entries_by_ids(session, contest, [other.id, 2**31 - 1]) == []
    with counted_queries(session) as statements:
        result = approve(session, found, organizer)
    assert result.approved == [ready.number, approved_before.number, returned.number]
    assert [(r.number, str(r.message)) for r in result.refused] == [
        (draft.number, "只有视频已就绪的作品才能进入公开展示")
    ]
    # Updates grouped by what changes (approved; approved and no longer sent back), no reads.
    assert sum(s.startswith("UPDATE entries") for s in statements) == 2
    assert not any("FROM entries" in s for s in statements)
    assert approved_before.approved_at == earlier  # approving twice changes nothing
    assert returned.returned_at is None and returned.return_reason == ""
    assert draft.approved_at is None


def test_ids_from_a_form(session: Session) -> None:
    assert parse_ids(["3", "1,2", " 4 ,"]) == [1, 2, 3, 4]
    for values, message in [
        ([], "请先勾选"),
        (["1", "x"], "所选作品有误"),
        (["٣"], "所选作品有误"),
        ([",".join(str(i) for i in range(1, BULK_LIMIT + 2))], "一次最多"),
    ]:
        with pytest.raises(ReviewError, match=message):
            parse_ids(values)
    assert len(parse_ids([",".join(str(i) for i in range(1, BULK_LIMIT + 1))])) == BULK_LIMIT


def test_sending_back_needs_a_reason_and_takes_the_entry_out_of_the_gallery(
    session: Session,
) -> None:
    contest = new_contest(session)
    organizer = make_user(session, Role.ORGANIZER)
    entry, withdrawn = make_entries(session, make_user(session), contest, 2)
    entry.status, entry.approved_at = EntryStatus.READY, datetime.now(UTC)
    withdrawn.status = EntryStatus.WITHDRAWN
    session.commit()
    for reason, message in [
        ("", "请写明退回原因"),
        (" \n ", "请写明退回原因"),
        ("字" * 501, "500"),
    ]:
        with pytest.raises(ReviewError, match=message):
            send_back(session, entry, reason, organizer)
    session.refresh(entry)
    assert entry.returned_at is None and entry.approved_at is not None  # nothing changed
    send_back(session, entry, "  " + "字" * 500 + "\n", organizer)
    assert entry.return_reason == "字" * 500 and entry.returned_at is not None
    assert entry.approved_at is None
    with pytest.raises(ReviewError, match="已撤回"):
        send_back(session, withdrawn, "片尾缺少授权说明", organizer)


def test_the_contestants_fix_brings_the_entry_back_only_before_the_deadline(
    session: Session,
) -> None:
    contest = new_contest(session)
    organizer = make_user(session, Role.ORGANIZER)
    edited, replaced = make_entries(session, make_user(session), contest, 2)
    for entry in (edited, replaced):
        entry.status = EntryStatus.READY
        send_back(session, entry, "集体名称有误", organizer)
    fields = validate_fields({**ENTRY_FIELDS, "collective": "市第一医院急诊科"}, contest)
    update_entry(session, edited, fields)
    assert edited.returned_at is None and edited.return_reason == ""
    record_original(session, replaced, StoredObject("b", f"k{replaced.id}", 10, "0" * 64))
    assert replaced.returned_at is None and replaced.status is EntryStatus.SUBMITTED
    assert queue_page(session, contest, QueueQuery(review="returned")).total == 0

    send_back(session, edited, "仍有错字", organizer)
    contest.closes_at = datetime.now(UTC) - timedelta(minutes=1)
    session.commit()
    with pytest.raises(SubmissionError, match="已截止"):
        update_entry(session, edited, fields)
    session.refresh(edited)
    assert edited.return_reason == "仍有错字"


# Through the web.


def ready_entries(session: Session, contest: Contest, count: int) -> list[Entry]:
    entries = make_entries(session, make_user(session), contest, count)
    for entry in entries:
        entry.status = EntryStatus.READY
    session.commit()
    return entries


def test_the_queue_page_shows_rows_and_keeps_its_filters(
    client: FlaskClient,
    auth: Any,
    session: Session,
    object_store: ObjectStore,
    settings: Settings,
) -> None:
    contest = new_contest(session)
    plain, with_media = ready_entries(session, contest, 2)
    give_media(session, object_store, settings, with_media)
    plain.return_reason, plain.returned_at = "<script>alert(1)</script>", datetime.now(UTC)
    session.commit()
    auth.login(make_user(session, Role.ORGANIZER).username)
    page = client.get("/admin/?q=&district=%E5%8E%86%E4%B8%8B%E5%8C%BA&sort=number&page=7")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "共 0 件" in text and "没有符合条件的作品" in text
    assert "<option selected>历下区</option>" in text and 'value="number" selected' in text

    text = client.get("/admin/").get_data(as_text=True)
    assert f'id="entry-{with_media.id}"' in text and "0:10" in text
    poster_url = f"/admin/entries/{with_media.id}/poster?v="
    assert poster_url in text and 'loading="lazy"' in text and 'preload="none"' in text
    assert "无视频" in text  # the entry without a video gets a placeholder of the same size
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;alert(1)" in text
    assert "待审核" in text and "已退回" in text

    poster = client.get(f"/admin/entries/{with_media.id}/poster")
    assert poster.status_code == 200 and poster.data == b"\xff\xd8poster"
    video = client.get(f"/admin/entries/{with_media.id}/video", headers={"Range": "bytes=0-99"})
    assert video.status_code == 206 and len(video.data) == 100
    assert client.get(f"/admin/entries/{plain.id}/poster").status_code == 404
    assert client.get(f"/admin/entries/{plain.id}/video").status_code == 404


def test_approving_and_sending_back_come_back_to_the_row(
    client: FlaskClient, auth: Any, session: Session
) -> None:
    contest = new_contest(session)
    entry, other = ready_entries(session, contest, 2)
    auth.login(make_user(session, Role.ORGANIZER).username)
    query = "?q=%E6%88%91%E4%BB%AC&sort=title&page=1"
    done = client.post(f"/admin/entries/{entry.id}/approval{query}", data={"approved": "1"})
    assert done.status_code == 302
    location = urlsplit(done.headers["Location"])
    assert location.path == "/admin/" and location.fragment == f"entry-{entry.id}"
    assert parse_qs(location.query) == {"q": ["我们"], "sort": ["title"]}
    session.refresh(entry)
    first_approval = entry.approved_at
    assert first_approval is not None
    # A double submit (or the back button and submit again) changes nothing.
    client.post(f"/admin/entries/{entry.id}/approval{query}", data={"approved": "1"})
    session.refresh(entry)
    assert entry.approved_at == first_approval

    too_long = "<b>字</b>" * 100
    refused = client.post(f"/admin/entries/{entry.id}/return{query}", data={"reason": too_long})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "退回原因不能超过 500 个字" in text
    assert "&lt;b&gt;字&lt;/b&gt;" * 100 in text  # what was typed, kept (and escaped)
    assert 'class="send-back" open' in text and 'value="title" selected' in text
    session.refresh(entry)
    assert entry.returned_at is None and entry.approved_at == first_approval

    sent = client.post(
        f"/admin/entries/{entry.id}/return{query}", data={"reason": "片头缺少集体名称"}
    )
    assert urlsplit(sent.headers["Location"]).fragment == f"entry-{entry.id}"
    session.refresh(entry)
    assert entry.return_reason == "片头缺少集体名称" and entry.approved_at is None

    bulk = client.post(
        f"/admin/entries/approve{query}", data={"ids": [str(entry.id), str(other.id)]}
    )
    assert bulk.status_code == 302 and parse_qs(urlsplit(bulk.headers["Location"]).query)
    session.refresh(entry)
    session.refresh(other)
    assert entry.approved_at and other.approved_at and entry.returned_at is None
    # Undoing an approval still works, and comes back to the row.
    undo = client.post(f"/admin/entries/{other.id}/approval", data={"approved": "0"})
    assert urlsplit(undo.headers["Location"]).fragment == f"entry-{other.id}"
    session.refresh(other)
    assert other.approved_at is None


def test_bulk_approval_of_a_thousand_ids_and_of_nothing(
    client: FlaskClient, auth: Any, session: Session
) -> None:
    contest = new_contest(session)
    entries = ready_entries(session, contest, 3)
    auth.login(make_user(session, Role.ORGANIZER).username)
    forged = [str(e.id) for e in entries] + [str(i) for i in range(2**31 - 997, 2**31)]
    assert len(forged) == BULK_LIMIT
    done = client.post("/admin/entries/approve", data={"ids": forged}, follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "已通过 3 件作品" in text and "997 件所选作品不在本次活动中" in text
    for entry in entries:
        session.refresh(entry)
        assert entry.approved_at is not None
    nothing = client.post("/admin/entries/approve", data={}, follow_redirects=True)
    assert "请先勾选要通过的作品" in nothing.get_data(as_text=True)
    garbage = client.post("/admin/entries/approve", data={"ids": "1;2"}, follow_redirects=True)
    assert "所选作品有误" in garbage.get_data(as_text=True)


def test_bulk_approval_asks_first_while_a_blind_round_holds_the_entries(
    client: FlaskClient, auth: Any, session: Session
) -> None:
    contest = new_contest(session, blind=True, gallery_published_at=datetime.now(UTC))
    held = ready_entries(session, contest, 2)
    open_round(session, contest, "初评")
    auth.login(make_user(session, Role.ORGANIZER).username)
    ids = [str(e.id) for e in held]
    asked = client.post("/admin/entries/approve?sort=title", data={"ids": ids})
    text = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "所选作品中有 2 件也在其中" in text
    assert f'name="ids" value="{held[0].id},{held[1].id}"' in text
    assert 'action="/admin/entries/approve?sort=title"' in text
    for entry in held:
        session.refresh(entry)
        assert entry.approved_at is None
    client.post("/admin/entries/approve", data={"ids": ",".join(ids), "confirm": "1"})
    for entry in held:
        session.refresh(entry)
        assert entry.approved_at is not None


@pytest.mark.parametrize("role", [Role.CONTESTANT, Role.JUDGE, Role.OPERATOR])
def test_only_organizers_review(
    client: FlaskClient, auth: Any, session: Session, role: Role
) -> None:
    contest = new_contest(session)
    (entry,) = ready_entries(session, contest, 1)
    auth.login(make_user(session, role).username)
    for url, data in [
        (f"/admin/entries/{entry.id}/approval", {"approved": "1"}),
        (f"/admin/entries/{entry.id}/return", {"reason": "不符合主题"}),
        ("/admin/entries/approve", {"ids": str(entry.id)}),
    ]:
        assert client.post(url, data=data).status_code == 403
    for url in ("/admin/", f"/admin/entries/{entry.id}/poster", f"/admin/entries/{entry.id}/video"):
        assert client.get(url).status_code == 403
    session.refresh(entry)
    assert entry.approved_at is None and entry.returned_at is None


def test_entries_of_another_contest_and_unknown_ids_are_not_found(
    client: FlaskClient, auth: Any, session: Session
) -> None:
    old_contest = new_contest(session)
    (old,) = ready_entries(session, old_contest, 1)
    new_contest(session)  # the current contest now
    auth.login(make_user(session, Role.ORGANIZER).username)
    for entry_id in (old.id, 2**31 - 1):
        assert (
            client.post(f"/admin/entries/{entry_id}/approval", data={"approved": "1"}).status_code
            == 404
        )
        assert (
            client.post(f"/admin/entries/{entry_id}/return", data={"reason": "x"}).status_code
            == 404
        )
    session.refresh(old)
    assert old.approved_at is None and old.returned_at is None
    assert f'id="entry-{old.id}"' not in client.get("/admin/").get_data(as_text=True)


def test_the_contestant_reads_the_reason_and_fixes_the_entry(
    client: FlaskClient, auth: Any, session: Session
) -> None:
    contest = new_contest(session)
    (entry,) = ready_entries(session, contest, 1)
    send_back(session, entry, "请在片尾注明<拍摄单位>", make_user(session, Role.ORGANIZER))
    auth.login(entry.owner.username)
    listing = client.get("/submit/").get_data(as_text=True)
    assert "退回修改" in listing
    page = client.get(f"/submit/{entry.id}").get_data(as_text=True)
    assert "组委会退回了这件作品" in page and "请在片尾注明&lt;拍摄单位&gt;" in page
    assert "请根据意见修改后重新保存，截止时间前有效" in page
    api = client.get(f"/api/v1/entries/{entry.id}").get_json()
    assert api["returned"]["reason"] == "请在片尾注明<拍摄单位>" and api["approved"] is False
    form = {**ENTRY_FIELDS, "title": "我们的青春足迹（修改版）"}
    assert client.post(f"/submit/{entry.id}/edit", data=form).status_code == 302
    session.refresh(entry)
    assert entry.returned_at is None and entry.title == "我们的青春足迹（修改版）"
    assert "退回修改" not in client.get("/submit/").get_data(as_text=True)
    assert client.get(f"/api/v1/entries/{entry.id}").get_json()["returned"] is None

    send_back(session, entry, "仍需修改", make_user(session, Role.ORGANIZER))
    contest.closes_at = datetime.now(UTC) - timedelta(minutes=1)
    session.commit()
    closed = client.get(f"/submit/{entry.id}").get_data(as_text=True)
    assert "仍需修改" in closed and "征集已截止，退回的作品不能再修改" in closed
    assert "请根据意见修改后重新保存" not in closed
