"""The public gallery and vote: what the public sees, one vote a day, bursts flagged."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from judging.gallery import (
    GalleryError,
    cast_vote,
    set_approved,
    set_gallery,
    suspicious_bursts,
    vote_counts,
    vote_day,
)
from judging.gallery_list import GalleryQuery, gallery_page
from storage.models import Contest, Entry, EntryStatus, Role, Vote
from storage.settings import Settings
from tests.factories import PASSWORD, make_entry, make_user, unique
from web import create_app


def contest_with_entries(session: Session) -> tuple[Contest, Entry, Entry, Entry]:
    contest = Contest(
        slug=unique("gallery-"),
        title="展示活动",
        districts=["历下区", "市中区", "市直单位"],
        industries=["医疗卫生", "交通运输"],
        closes_at=datetime.now(UTC) + timedelta(days=1),
    )
    owner = make_user(session)
    shown = make_entry(session, owner, contest)
    other = make_entry(session, owner, contest)
    other.district, other.industry = "市中区", "交通运输"
    hidden = make_entry(session, owner, contest)
    for entry in (shown, other, hidden):
        entry.status = EntryStatus.READY
    session.commit()
    set_approved(session, shown, True)
    set_approved(session, other, True)
    return contest, shown, other, hidden


def test_only_approved_ready_entries_of_a_published_contest_are_public(
    session: Session,
) -> None:
    contest, shown, other, hidden = contest_with_entries(session)

    def public(**query: str) -> list[Entry]:
        return gallery_page(session, contest, GalleryQuery(sort="number", **query)).entries

    assert public() == []  # not published yet
    set_gallery(session, contest, published=True, public_vote=False)
    assert public() == [shown, other]
    assert public(district="市中区") == [other]
    assert public(industry="医疗卫生") == [shown]
    draft = make_entry(session, make_user(session), contest)
    with pytest.raises(GalleryError):
        set_approved(session, draft, True)


def test_one_vote_per_user_entry_and_day(session: Session) -> None:
    contest, shown, other, hidden = contest_with_entries(session)
    voter = make_user(session)
    with pytest.raises(GalleryError, match="没有开放"):
        cast_vote(session, shown, voter)
    set_gallery(session, contest, published=True, public_vote=True)
    # 23:30 in Beijing is 15:30 UTC; 00:30 the next Beijing day is 16:30 UTC.
    evening = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)
    cast_vote(session, shown, voter, evening)
    with pytest.raises(GalleryError, match="今天已经为这件作品投过票"):
        cast_vote(session, shown, voter, evening + timedelta(minutes=20))
    cast_vote(session, shown, voter, evening + timedelta(hours=1))  # a new day in Beijing
    cast_vote(session, other, voter, evening)
    with pytest.raises(GalleryError):
        cast_vote(session, hidden, voter, evening)
    assert vote_counts(session, contest) == {shown.id: 2, other.id: 1}
    assert vote_day(evening) != vote_day(evening + timedelta(hours=1))


def test_bursts_are_flagged(session: Session) -> None:
    contest, shown, other, _hidden = contest_with_entries(session)
    now = datetime.now(UTC)
    for _ in range(5):
        session.add(
            Vote(
                entry_id=shown.id,
                voter_id=make_user(session).id,
                day=vote_day(now),
                created_at=now - timedelta(minutes=2),
            )
        )
    session.add(
        Vote(
            entry_id=other.id,
            voter_id=make_user(session).id,
            day=vote_day(now),
            created_at=now - timedelta(hours=2),
        )
    )
    session.commit()
    bursts = suspicious_bursts(session, contest, now=now, threshold=5)
    assert [(b.entry_id, b.votes) for b in bursts] == [(shown.id, 5)]


def test_the_gallery_pages_and_voting_through_the_web(
    client: FlaskClient, auth: Any, session: Session
) -> None:
    contest, shown, _other, hidden = contest_with_entries(session)
    organizer = make_user(session, Role.ORGANIZER)
    auth.login(organizer.username)
    # The organizer's page acts on the current (newest) contest: this one.
    client.post("/admin/gallery", data={"published": "1", "public_vote": "1"})
    auth.logout()
    page = client.get("/gallery/").get_data(as_text=True)
    assert shown.title in page and f'/gallery/{hidden.id}"' not in page
    assert client.get(f"/gallery/{hidden.id}").status_code == 404
    detail = client.get(f"/gallery/{shown.id}").get_data(as_text=True)
    assert shown.collective in detail and shown.contact_phone not in detail
    assert client.post(f"/gallery/{shown.id}/vote").status_code == 302  # to the login page
    auth.login(make_user(session).username)
    voted = client.post(f"/gallery/{shown.id}/vote", follow_redirects=True)
    assert "投票成功" in voted.get_data(as_text=True)
    again = client.post(f"/gallery/{shown.id}/vote", follow_redirects=True)
    assert "今天已经为这件作品投过票" in again.get_data(as_text=True)


def test_votes_and_logins_are_rate_limited(settings: Settings, session: Session) -> None:
    strict = dataclasses.replace(settings, vote_rate_limit="2/minute", login_rate_limit="3/minute")
    app = create_app({"SETTINGS": strict, "TESTING": True, "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    user = make_user(session)
    answers = [
        client.post("/auth/login", data={"username": user.username, "password": "x"}).status_code
        for _ in range(4)
    ]
    assert answers[-1] == 429 and 429 not in answers[:3]
    client2 = app.test_client()
    contest, shown, other, hidden = contest_with_entries(session)
    set_gallery(session, contest, published=True, public_vote=True)
    voter = make_user(session)
    client2.post(
        "/auth/login",
        data={"username": voter.username, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    )
    codes = [client2.post(f"/gallery/{e.id}/vote").status_code for e in (shown, other, shown)]
    assert codes[:2] == [302, 302] and codes[2] == 429
    app.extensions["footprints.engine"].dispose()
