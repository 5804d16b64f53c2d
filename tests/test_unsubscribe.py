"""One-click unsubscribe (RFC 8058): the signed link turns off one kind for one user, and
nothing else can be done with it."""

from __future__ import annotations

import re

from flask import Flask
from itsdangerous import URLSafeSerializer
from sqlalchemy.orm import Session

from storage.models import User
from storage.notifications import opted_out
from tests.factories import make_user
from web.unsubscribe import SALT, unsubscribe_url


def _path(app: Flask, user: User, kind: str) -> str:
    with app.test_request_context(base_url="http://127.0.0.1:5000"):
        return unsubscribe_url(user.id, kind).removeprefix("http://127.0.0.1:5000")


def test_opening_the_link_asks_and_only_the_post_turns_the_kind_off(
    app: Flask, session: Session
) -> None:
    user = make_user(session)
    path = _path(app, user, "video_ready")
    client = app.test_client()
    page = client.get(path)
    assert page.status_code == 200 and "退订此类通知" in page.get_data(as_text=True)
    assert opted_out(session, user.id) == set()  # a link scanner's GET changes nothing
    done = client.post(path)
    assert done.status_code == 200 and "已退订" in done.get_data(as_text=True)
    session.expire_all()
    assert opted_out(session, user.id) == {"video_ready"}


def test_a_mail_clients_one_click_post_needs_no_session_or_form_token(
    settings, object_store, session: Session
) -> None:  # type: ignore[no-untyped-def]
    from web import create_app

    app = create_app({"SETTINGS": settings, "TESTING": True})  # CSRF on, as in production
    try:
        user = make_user(session)
        path = _path(app, user, "round_opened")
        client = app.test_client()
        first = client.post(path, data={"List-Unsubscribe": "One-Click"})
        again = client.post(path, data={"List-Unsubscribe": "One-Click"})
        assert (first.status_code, again.status_code) == (204, 204)
        session.expire_all()
        assert opted_out(session, user.id) == {"round_opened"}
    finally:
        app.extensions["footprints.engine"].dispose()


def test_a_link_cannot_be_bent_to_another_user_kind_or_key(app: Flask, session: Session) -> None:
    user, other = make_user(session), make_user(session)
    token = _path(app, user, "video_ready").rsplit("/", 1)[1]
    payload, _dot, signature = token.partition(".")
    forged = URLSafeSerializer("test-secret", salt=SALT).dumps([other.id, "video_ready"])
    elsewhere = URLSafeSerializer("another-secret", salt=SALT).dumps([other.id, "video_ready"])
    required = URLSafeSerializer("test-secret", salt=SALT).dumps([user.id, "video_refused"])
    client = app.test_client()
    assert client.post(f"/unsubscribe/{payload}x.{signature}").status_code == 404
    assert client.post(f"/unsubscribe/{elsewhere}").status_code == 404  # another key
    assert client.post(f"/unsubscribe/{forged}").status_code == 200  # our key: a real link
    # A kind that cannot be turned off has no link, and a made-up one does nothing.
    assert client.get(f"/unsubscribe/{required}").status_code == 404
    assert client.post(f"/unsubscribe/{required}").status_code == 404
    session.expire_all()
    assert opted_out(session, user.id) == set()
    assert re.fullmatch(r"[\w-]+\.[\w-]+", token)
