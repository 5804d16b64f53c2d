"""Sessions end when they should, guesses are counted and limited, `next` stays on this site."""

from __future__ import annotations

import base64
import dataclasses
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from judging import accounts
from judging.accounts import AccountLocked, LockoutPolicy, check_login
from judging.passwords import password_problem
from storage.models import Role, User
from storage.settings import Settings
from tests.factories import PASSWORD, make_user
from web import create_app

pytestmark = pytest.mark.integration


def logged_in(app: Flask, user: User, password: str = PASSWORD) -> FlaskClient:
    client = app.test_client()
    answer = client.post("/auth/login", data={"username": user.username, "password": password})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return client


def signed_in(client: FlaskClient) -> bool:
    """Does this client's session still open a signed-in page?"""
    return client.get("/auth/password").status_code == 200


def test_logout_ends_every_session_of_the_user(app: Flask, session: Session) -> None:
    user = make_user(session)
    phone, laptop = logged_in(app, user), logged_in(app, user)
    stolen = app.test_client()
    cookie = phone.get_cookie("session")
    assert cookie is not None
    stolen.set_cookie("session", cookie.value)  # a copy of the cookie, as a thief keeps it
    assert signed_in(stolen) and signed_in(laptop)
    phone.post("/auth/logout")
    assert not signed_in(stolen) and not signed_in(laptop) and not signed_in(phone)
    assert signed_in(logged_in(app, user))  # logging in again works


def test_a_reset_ends_sessions_and_shows_the_password_once_in_the_body(
    app: Flask, session: Session
) -> None:
    contestant = make_user(session)
    victim_session = logged_in(app, contestant)
    organizer = logged_in(app, make_user(session, Role.ORGANIZER))
    page = organizer.post(f"/admin/users/{contestant.id}/password")
    assert page.headers["Cache-Control"] == "no-store"
    new = re.search(r'<code class="secret">(\S+)</code>', page.get_data(as_text=True))
    assert new is not None
    # Not in the (signed, readable) session cookie, and not on the next page.
    cookie = organizer.get_cookie("session")
    assert cookie is None or new.group(1) not in decoded_session(cookie.value)
    assert new.group(1) not in organizer.get("/admin/users").get_data(as_text=True)
    assert not signed_in(victim_session)
    assert signed_in(logged_in(app, contestant, new.group(1)))


def decoded_session(value: str) -> str:
    payload = value.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    if value.startswith("."):  # itsdangerous compresses long sessions
        import zlib

        raw = zlib.decompress(raw)
    return raw.decode()


def test_changing_ones_password_ends_the_other_sessions(app: Flask, session: Session) -> None:
    user = make_user(session)
    here, elsewhere = logged_in(app, user), logged_in(app, user)
    new = "绿水青山就是金山银山2026"
    form = {"current": "wrong-password", "password": new, "confirm": ""}
    assert "两次输入的密码不一致" in here.post("/auth/password", data=form).get_data(as_text=True)
    form["confirm"] = new
    assert "当前密码不正确" in here.post("/auth/password", data=form).get_data(as_text=True)
    weak = here.post(
        "/auth/password", data={"current": PASSWORD, "password": "1qaz2wsx3edc", "confirm": ""}
    ).get_data(as_text=True)
    assert "这个密码太常见" in weak
    done = here.post("/auth/password", data={"current": PASSWORD, "password": new, "confirm": new})
    assert done.status_code == 302
    assert signed_in(here) and not signed_in(elsewhere)
    assert signed_in(logged_in(app, user, new))


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short1", "至少 10 位"),
        ("1234567890", "太常见"),
        ("Password123", "太常见"),  # case does not help
        ("aaaaaaaaaaaa", "太常见"),
        ("abababababab", "太常见"),
        ("zhangsan2026!", "太常见"),  # holds the user name
        ("x" * 129, "最多 128 位"),
        ("春眠不觉晓处处闻啼鸟", None),
        ("tuanshi-qingnian-7", None),
    ],
)
def test_password_rules(password: str, problem: str | None) -> None:
    found = password_problem(password, "zhangsan")
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_registration_refuses_a_common_password_in_chinese(client: FlaskClient) -> None:
    form = {"username": "newcomer1", "display_name": "新人", "password": "qwertyuiop"}
    page = client.post("/auth/register", data={**form, "confirm": "qwertyuiop"})
    assert page.status_code == 200 and "这个密码太常见" in page.get_data(as_text=True)


def test_guesses_sent_at_once_are_all_counted(
    session_factory: sessionmaker[Session], session: Session
) -> None:
    user = make_user(session)
    policy = LockoutPolicy(attempts=5, minutes=15)
    guesses = 8
    start = threading.Barrier(guesses)
    outcomes: list[str] = []

    def guess() -> None:
        with session_factory() as own:
            start.wait()
            try:
                outcomes.append(repr(check_login(own, user.username, "wrong", policy)))
            except AccountLocked:
                outcomes.append("locked")

    threads = [threading.Thread(target=guess) for _ in range(guesses)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("locked") >= 1, outcomes
    # The right password, right after, finds the account locked.
    with pytest.raises(AccountLocked):
        check_login(session, user.username, PASSWORD, policy)


def test_unknown_names_cost_a_hash_check_like_known_ones(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    real = accounts.check_password_hash

    def counting(pwhash: str, password: str) -> bool:
        checked.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(accounts, "check_password_hash", counting)
    policy = LockoutPolicy(attempts=0, minutes=1)
    user = make_user(session)
    assert check_login(session, user.username, "wrong", policy) is None
    assert check_login(session, "nobody-has-this-name", "wrong", policy) is None
    user.active = False
    session.commit()
    assert check_login(session, user.username, "wrong", policy) is None
    assert len(checked) == 3
    # The dummy hash is as costly as a real one: the same method and parameters.
    assert checked[1].split("$")[0] == checked[0].split("$")[0] == checked[2].split("$")[0]


@pytest.fixture()
def tight_app(settings: Settings, object_store: Any) -> Iterator[Flask]:
    tight = dataclasses.replace(settings, login_rate_limit="5/minute")
    app = create_app({"SETTINGS": tight, "TESTING": True, "WTF_CSRF_ENABLED": False})
    yield app
    app.extensions["footprints.engine"].dispose()


def basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_http_basic_guesses_meet_the_login_limit(tight_app: Flask, session: Session) -> None:
    client = tight_app.test_client()
    user = make_user(session)
    # A client that knows its password is never slowed by the limit ...
    for _ in range(8):
        ok = client.get("/api/v1/entries", headers=basic(user.username, PASSWORD))
        assert ok.status_code == 200
    # ... guessing is: after the budget of failures, every Basic attempt answers 429.
    statuses = [
        client.get("/api/v1/entries", headers=basic(f"guess{i}", "x")).status_code for i in range(7)
    ]
    assert statuses[:5] == [401] * 5 and statuses[5:] == [429, 429], statuses
    refused = client.get("/api/v1/entries", headers=basic(user.username, PASSWORD))
    assert refused.status_code == 429 and "操作太频繁" in refused.get_json()["error"]


def test_http_basic_guesses_lock_the_account(client: FlaskClient, session: Session) -> None:
    user = make_user(session)
    for _ in range(5):
        client.get("/api/v1/entries", headers=basic(user.username, "wrong"))
    session.refresh(user)
    assert user.locked_until is not None
    assert client.get("/api/v1/entries", headers=basic(user.username, PASSWORD)).status_code == 401


def test_operators_see_and_lift_lockouts_of_staff(app: Flask, session: Session) -> None:
    organizer = make_user(session, Role.ORGANIZER)
    plain = app.test_client()
    for _ in range(5):
        plain.post("/auth/login", data={"username": organizer.username, "password": "wrong"})
    operator = logged_in(app, make_user(session, Role.OPERATOR))
    page = operator.get("/ops/accounts").get_data(as_text=True)
    assert organizer.username in page and "锁定至" in page
    lifted = operator.post(f"/ops/accounts/{organizer.id}/unlock", follow_redirects=True)
    assert "已解除" in lifted.get_data(as_text=True)
    assert signed_in(logged_in(app, organizer))
    # An organizer's list holds contestants and judges only.
    listing = logged_in(app, organizer).get("/admin/users").get_data(as_text=True)
    assert "运维" not in listing.split("<tbody>")[1]


@pytest.mark.parametrize(
    "target",  # as sent in the query string, percent-encoded
    [
        "/%09/evil.example",  # browsers drop the tab: //evil.example
        "/%01/evil.example",
        "/%7F/evil.example",
        "//evil.example",
        "/%5Cevil.example",  # browsers read \ as /
        "%5C%5Cevil.example",
        "https://evil.example/",
        "HTTPS:evil.example",
        "javascript:alert(1)",
        "evil.example",
    ],
)
def test_next_never_leaves_the_site(client: FlaskClient, session: Session, target: str) -> None:
    switched = client.get(f"/lang/en?next={target}")
    assert switched.status_code == 302 and switched.headers["Location"] == "/"
    user = make_user(session)
    login = client.post(
        f"/auth/login?next={target}", data={"username": user.username, "password": PASSWORD}
    )
    assert login.status_code == 302 and login.headers["Location"] == "/submit/"


@pytest.mark.parametrize("target", ["/gallery/%0D%0ASet-Cookie:%20a=b", "/%0A/evil.example"])
def test_a_newline_in_next_is_a_bad_request(client: FlaskClient, target: str) -> None:
    assert client.get(f"/lang/en?next={target}").status_code == 400


def test_a_local_next_is_kept(client: FlaskClient) -> None:
    switched = client.get("/lang/en", query_string={"next": "/gallery/?q=青春#top"})
    assert switched.headers["Location"].startswith("/gallery/?q=")
