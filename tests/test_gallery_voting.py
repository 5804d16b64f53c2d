"""The gallery's list (search, sort, pages) and the vote's way through logging in.

An anonymous 投票 leads to the login page and back to the entry, which offers the vote
(a GET never casts it); registering on the way keeps the intent; a GET on the vote URL goes
to the entry instead of a 405; a vote given shows 已投票; counts show only while the vote is
open, and so does sorting by them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from judging.gallery import cast_vote, set_gallery, voted_today
from judging.gallery_list import PAGE_SIZE, GalleryQuery, gallery_page
from storage.models import Contest, Entry, EntryStatus, User
from tests.factories import PASSWORD, make_entries, make_user, unique

pytestmark = pytest.mark.integration


def public_contest(session: Session, count: int = 3, vote: bool = True) -> list[Entry]:
    """A newest contest with `count` approved, ready entries and a published gallery."""
    contest = Contest(
        slug=unique("votes-"),
        title="投票活动",
        districts=["历下区", "市中区"],
        industries=["医疗卫生"],
        closes_at=datetime.now(UTC) + timedelta(days=1),
    )
    session.add(contest)
    session.commit()
    entries = make_entries(session, make_user(session), contest, count)
    start = datetime.now(UTC) - timedelta(days=1)
    for i, entry in enumerate(entries):
        entry.status = EntryStatus.READY
        entry.approved_at = start
        entry.created_at = start + timedelta(minutes=i)
        entry.title = f"青春足迹第{i + 1}集"
        entry.collective = f"第{i + 1}中队"
    session.commit()
    set_gallery(session, contest, published=True, public_vote=vote)
    return entries


def give_votes(session: Session, entry: Entry, count: int) -> None:
    for _ in range(count):
        cast_vote(session, entry, make_user(session))


def page_ids(session: Session, contest: Contest, **args: str) -> list[int]:
    query = GalleryQuery.from_args(args, counts_shown=contest.public_vote)
    return [e.id for e in gallery_page(session, contest, query).entries]


def test_search_escapes_like_and_finds_titles_and_collectives(session: Session) -> None:
    entries = public_contest(session, 4)
    contest = entries[0].contest
    entries[0].title = "百分之100%_青春"
    entries[1].title = "100分青春"  # a bare % or _ would match this one too
    entries[2].collective = "历下区青年文明号"
    entries[3].approved_at = None  # not public: never found
    entries[3].title = "100%_未公开"
    session.commit()
    assert page_ids(session, contest, q="100%_") == [entries[0].id]
    assert page_ids(session, contest, q="%") == [entries[0].id]
    assert page_ids(session, contest, q="_") == [entries[0].id]
    assert page_ids(session, contest, q="\\") == []
    assert page_ids(session, contest, q="文明号") == [entries[2].id]
    assert page_ids(session, contest, q="  100 ") == [entries[1].id, entries[0].id]


def test_sorts_are_whitelisted_and_votes_sort_only_where_counts_show(session: Session) -> None:
    entries = public_contest(session, 3)
    contest = entries[0].contest
    give_votes(session, entries[1], 2)
    give_votes(session, entries[0], 1)
    ids = [e.id for e in entries]
    assert page_ids(session, contest) == ids[::-1]  # newest first
    assert page_ids(session, contest, sort="number") == ids
    assert page_ids(session, contest, sort="votes") == [ids[1], ids[0], ids[2]]
    assert page_ids(session, contest, sort="title; drop table") == ids[::-1]
    set_gallery(session, contest, published=True, public_vote=False)
    # A closed vote's ranking is not to be read off the order either.
    assert page_ids(session, contest, sort="votes") == ids[::-1]


def test_pages_of_24_and_past_the_end_the_last(client: FlaskClient, session: Session) -> None:
    entries = public_contest(session, PAGE_SIZE + 6)
    contest = entries[0].contest
    first = gallery_page(session, contest, GalleryQuery(sort="number"))
    assert (first.total, first.pages, len(first.entries)) == (30, 2, PAGE_SIZE)
    last = gallery_page(session, contest, GalleryQuery(sort="number", page=99))
    assert last.query.page == 2 and [e.id for e in last.entries] == [e.id for e in entries[24:]]
    page = client.get("/gallery/", query_string={"q": "青春", "sort": "number", "page": "2"})
    text = page.get_data(as_text=True)
    assert "共 30 件，第 2 / 2 页" in text and 'value="青春"' in text
    assert f"/gallery/{entries[-1].id}" in text and f'/gallery/{entries[0].id}"' not in text
    assert "/gallery/?q=%E9%9D%92%E6%98%A5&amp;sort=number" in text  # page 1 keeps the query
    assert client.get("/gallery/", query_string={"page": "x"}).status_code == 200


def test_tiles_show_counts_only_while_the_vote_is_open(
    client: FlaskClient, session: Session
) -> None:
    entries = public_contest(session, 2)
    give_votes(session, entries[0], 3)
    shown = client.get("/gallery/").get_data(as_text=True)
    assert "3 票" in shown and 'value="votes"' in shown
    assert 'id="votes">3<' in client.get(f"/gallery/{entries[0].id}").get_data(as_text=True)
    set_gallery(session, entries[0].contest, published=True, public_vote=False)
    hidden = client.get("/gallery/").get_data(as_text=True)
    assert "3 票" not in hidden and 'value="votes"' not in hidden
    detail = client.get(f"/gallery/{entries[0].id}").get_data(as_text=True)
    assert 'id="votes"' not in detail and 'id="vote"' not in detail


def login_answer(client: FlaskClient, user: User, next_url: str) -> str:
    answer = client.post(
        "/auth/login",
        query_string={"next": next_url},
        data={"username": user.username, "password": PASSWORD},
    )
    assert answer.status_code == 302
    return str(answer.location)


def test_anonymous_vote_logs_in_and_comes_back_to_offer_it(
    client: FlaskClient, session: Session
) -> None:
    (entry,) = public_contest(session, 1)
    page = client.get(f"/gallery/{entry.id}").get_data(as_text=True)
    assert f'action="/gallery/{entry.id}/vote"' not in page  # no form an anonymous post fails
    login_link = f"/auth/login?next=/gallery/{entry.id}?vote%3D1%23vote"
    assert login_link in page
    next_url = parse_qs(urlsplit(login_link).query)["next"][0]
    voter = make_user(session)
    back = login_answer(client, voter, next_url)
    assert back == f"/gallery/{entry.id}?vote=1#vote"
    offered = client.get(back).get_data(as_text=True)
    assert "登录成功，点击投票" in offered and f'action="/gallery/{entry.id}/vote"' in offered
    assert not voted_today(session, entry, voter.id)  # the GET cast nothing
    voted = client.post(f"/gallery/{entry.id}/vote", follow_redirects=True)
    text = voted.get_data(as_text=True)
    assert "投票成功" in text and "已投票" in text and "明天 0:00（北京时间）可再投" in text
    assert "登录成功，点击投票" not in text and 'id="votes">1<' in text
    # A reload of the offer after voting shows the vote given, not a second button.
    reloaded = client.get(back)
    assert "no-store" in reloaded.headers["Cache-Control"]  # nor a stale copy on "back"
    again = reloaded.get_data(as_text=True)
    assert "已投票" in again and f'action="/gallery/{entry.id}/vote"' not in again


def test_registering_on_the_way_keeps_the_vote(client: FlaskClient, session: Session) -> None:
    (entry,) = public_contest(session, 1)
    back = f"/gallery/{entry.id}?vote=1#vote"
    login_page = client.get("/auth/login", query_string={"next": back}).get_data(as_text=True)
    assert "/auth/register?next=/gallery/" in login_page
    fields = {
        "username": unique("voter_")[:32],
        "display_name": "投票人",
        "password": "a-long-enough-pass",
        "confirm": "a-long-enough-pass",
    }
    answer = client.post("/auth/register", query_string={"next": back}, data=fields)
    assert answer.status_code == 302 and answer.location == back
    assert "登录成功，点击投票" in client.get(back).get_data(as_text=True)
    # A forged next leads home, not away.
    other = {**fields, "username": unique("voter_")[:32]}
    client.post("/auth/logout")
    forged = client.post("/auth/register", query_string={"next": "//evil.example/"}, data=other)
    assert forged.location == "/submit/"


def test_a_get_on_the_vote_url_leads_to_the_entry(client: FlaskClient, session: Session) -> None:
    (entry,) = public_contest(session, 1)
    anonymous = client.get(f"/gallery/{entry.id}/vote")
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.location
    voter = make_user(session)
    back = login_answer(client, voter, f"/gallery/{entry.id}/vote")
    followed = client.get(back)  # the old POST URL, now a GET after logging in
    assert followed.status_code == 302
    assert followed.location == f"/gallery/{entry.id}?vote=1#vote"
    assert not voted_today(session, entry, voter.id)
    assert client.get("/gallery/999999999/vote").status_code == 404
