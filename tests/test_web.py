"""Web pages and the JSON API through the Flask test client."""

from __future__ import annotations

import dataclasses
import io
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Entry, EntryStatus, MediaAsset, Role, User
from storage.settings import Settings
from tests.factories import ENTRY_FIELDS, PASSWORD, make_entry, make_user, open_contest, unique
from web import create_app


def test_home_page_shows_the_contest(client: FlaskClient, session: Session) -> None:
    contest = open_contest(session)
    page = client.get("/").get_data(as_text=True)
    assert contest.title in page and "注册并提交作品" in page


def test_register_logs_in_and_refuses_a_taken_name(client: FlaskClient) -> None:
    name = unique("newcomer")
    form = {
        "username": name,
        "display_name": "李四",
        "password": "longpassword",
        "confirm": "longpassword",
    }
    response = client.post("/auth/register", data=form)
    assert response.status_code == 302 and response.location.endswith("/submit/")
    client.post("/auth/logout")
    again = client.post("/auth/register", data=form).get_data(as_text=True)
    assert "该用户名已被注册" in again


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (
            {
                "username": "ab",
                "display_name": "x",
                "password": "longpassword",
                "confirm": "longpassword",
            },
            "用户名长度为 3 到 32 个字符",
        ),
        (
            {
                "username": "abc def",
                "display_name": "x",
                "password": "longpassword",
                "confirm": "longpassword",
            },
            "用户名只能包含",
        ),
        (
            {"username": "abcdef", "display_name": "x", "password": "short", "confirm": "short"},
            "密码至少 10 位",
        ),
        (
            {
                "username": "abcdef",
                "display_name": "x",
                "password": "longpassword",
                "confirm": "different1",
            },
            "两次输入的密码不一致",
        ),
    ],
)
def test_register_explains_each_wrong_field(
    client: FlaskClient, form: dict[str, str], message: str
) -> None:
    assert message in client.post("/auth/register", data=form).get_data(as_text=True)


def test_wrong_password_is_refused(client: FlaskClient, auth: Any, session: Session) -> None:
    user = make_user(session)
    assert "用户名或密码错误" in auth.login(user.username, "wrong").get_data(as_text=True)
    assert auth.login(user.username).status_code == 302


@pytest.mark.parametrize(
    ("role", "path", "expected"),
    [
        (Role.CONTESTANT, "/submit/", 200),
        (Role.CONTESTANT, "/admin/", 403),
        (Role.JUDGE, "/judge/", 200),
        (Role.JUDGE, "/submit/new", 403),
        (Role.ORGANIZER, "/admin/", 200),
        (Role.ORGANIZER, "/ops/", 403),
        (Role.OPERATOR, "/ops/", 200),
        (Role.OPERATOR, "/judge/", 403),
    ],
)
def test_each_role_reaches_only_its_pages(
    client: FlaskClient, auth: Any, session: Session, role: Role, path: str, expected: int
) -> None:
    open_contest(session)
    auth.login(make_user(session, role).username)
    assert client.get(path).status_code == expected


def test_anonymous_users_are_sent_to_login(client: FlaskClient) -> None:
    response = client.get("/submit/")
    assert response.status_code == 302 and "/auth/login" in response.location


def test_entry_form_reports_every_wrong_field(
    client: FlaskClient, auth: Any, session: Session
) -> None:
    open_contest(session)
    auth.login(make_user(session).username)
    page = client.post(
        "/submit/new", data={**ENTRY_FIELDS, "title": "", "contact_phone": "123"}
    ).get_data(as_text=True)
    assert "请填写作品名称" in page and "联系电话格式不正确" in page


def test_entry_form_without_video_makes_a_draft(
    client: FlaskClient, auth: Any, session: Session
) -> None:
    open_contest(session)
    user = make_user(session)
    auth.login(user.username)
    response = client.post("/submit/new", data=ENTRY_FIELDS)
    entry = session.scalar(select(Entry).where(Entry.owner_id == user.id))
    assert entry is not None and entry.status is EntryStatus.DRAFT
    assert response.location.endswith(f"/submit/{entry.id}")
    page = client.get(f"/submit/{entry.id}").get_data(as_text=True)
    assert ENTRY_FIELDS["title"] in page and "草稿" in page


def test_entry_form_answers_json_for_the_uploader(
    client: FlaskClient, auth: Any, session: Session
) -> None:
    open_contest(session)
    auth.login(make_user(session).username)
    ok = client.post("/submit/new", data=ENTRY_FIELDS, headers={"Accept": "application/json"})
    assert ok.status_code == 201
    assert ok.get_json()["upload_url"].endswith("/uploads")
    bad = client.post(
        "/submit/new",
        data={**ENTRY_FIELDS, "contact_name": ""},
        headers={"Accept": "application/json"},
    )
    assert bad.status_code == 400 and bad.get_json()["errors"] == {"contact_name": "请填写联系人"}


def test_no_one_sees_or_changes_another_contestants_entry(
    client: FlaskClient, auth: Any, session: Session
) -> None:
    owner = make_user(session)
    entry = make_entry(session, owner)
    auth.login(make_user(session).username)
    assert client.get(f"/submit/{entry.id}").status_code == 404
    assert client.post(f"/submit/{entry.id}/video", data={}).status_code == 404
    assert client.get(f"/api/v1/entries/{entry.id}").status_code == 404
    put = client.put(f"/api/v1/entries/{entry.id}/video", data=b"x")
    assert put.status_code == 404
    listed = client.get("/api/v1/entries").get_json()["entries"]
    assert entry.id not in {e["id"] for e in listed}


def test_staff_may_read_any_entry(client: FlaskClient, auth: Any, session: Session) -> None:
    entry = make_entry(session, make_user(session))
    auth.login(make_user(session, Role.ORGANIZER).username)
    assert client.get(f"/api/v1/entries/{entry.id}").get_json()["title"] == ENTRY_FIELDS["title"]


def test_api_needs_a_login_and_the_right_role(client: FlaskClient, session: Session) -> None:
    open_contest(session)
    assert client.get("/api/v1/entries").status_code == 401
    judge = make_user(session, Role.JUDGE)
    response = client.post("/api/v1/entries", json=ENTRY_FIELDS, auth=(judge.username, PASSWORD))
    assert response.status_code == 403 and "没有权限" in response.get_json()["error"]
    wrong = client.get("/api/v1/entries", auth=(judge.username, "nope"))
    assert wrong.status_code == 401


def test_api_validates_entries(client: FlaskClient, session: Session) -> None:
    open_contest(session)
    user = make_user(session)
    creds = (user.username, PASSWORD)
    not_json = client.post("/api/v1/entries", data="x", auth=creds)
    assert not_json.status_code == 400 and "JSON" in not_json.get_json()["error"]
    bad = client.post("/api/v1/entries", json={**ENTRY_FIELDS, "contact_phone": "1"}, auth=creds)
    assert bad.status_code == 400 and set(bad.get_json()["errors"]) == {"contact_phone"}


def test_openapi_document_describes_the_api(client: FlaskClient, app: Flask) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    rules = {
        re.sub(r"<(?:int:)?(\w+)>", r"{\1}", r.rule).removeprefix("/api/v1")
        for r in app.url_map.iter_rules()
        if r.rule.startswith(("/api/v1/entries", "/api/v1/uploads/"))
    }
    assert rules == set(doc["paths"])


def test_forms_need_a_csrf_token(settings: Settings, session: Session) -> None:
    app = create_app({"SETTINGS": settings, "TESTING": True})
    user = make_user(session)
    response = app.test_client().post(
        "/auth/login", data={"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 400
    app.extensions["footprints.engine"].dispose()


def test_upload_over_the_limit_is_refused_before_storing(
    settings: Settings, session: Session
) -> None:
    app = create_app(
        {"SETTINGS": dataclasses.replace(settings, max_upload_bytes=1000), "TESTING": True}
    )
    user = make_user(session)
    entry = make_entry(session, user)
    client = app.test_client()
    response = client.put(
        f"/api/v1/entries/{entry.id}/video", data=b"x" * 5000, auth=(user.username, PASSWORD)
    )
    assert response.status_code == 413
    assert "文件过大" in response.get_json()["error"]
    session.expire_all()
    assert session.scalars(select(MediaAsset).where(MediaAsset.entry_id == entry.id)).all() == []
    app.extensions["footprints.engine"].dispose()


def test_an_unreachable_s3_server_loses_nothing(settings: Settings, session: Session) -> None:
    app = create_app(
        {
            "SETTINGS": dataclasses.replace(settings, s3_endpoint="127.0.0.1:9"),
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
        }
    )
    user = make_user(session)
    entry = make_entry(session, user)
    client = app.test_client()
    client.post("/auth/login", data={"username": user.username, "password": PASSWORD})
    response = client.post(
        f"/submit/{entry.id}/video",
        data={"video": (io.BytesIO(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100), "a.mp4")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "存储服务暂时不可用，视频未保存" in response.get_data(as_text=True)
    session.refresh(entry)
    assert entry.status is EntryStatus.DRAFT
    app.extensions["footprints.engine"].dispose()


def test_demo_command_creates_accounts_once(runner: Any, session: Session, tmp_path) -> None:  # type: ignore[no-untyped-def]
    accounts = tmp_path / "accounts.txt"
    first = runner.invoke(args=["demo", "--accounts-file", str(accounts)])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["demo", "--accounts-file", str(accounts)])
    assert "already exist" in second.output
    for username in ("demo-contestant", "demo-judge", "demo-organizer", "demo-operator"):
        assert session.scalar(select(User).where(User.username == username)) is not None
    if "shown this once" in first.output:
        assert accounts.stat().st_mode & 0o777 == 0o600
        assert "demo-organizer" in accounts.read_text()


def test_settings_command_prints_the_table(runner: Any) -> None:
    out = runner.invoke(args=["settings"]).output
    assert "| `DATABASE_URL` |" in out


def test_contestant_edits_then_withdraws_an_entry(
    client: FlaskClient, auth: Any, session: Session
) -> None:
    user = make_user(session)
    entry = make_entry(session, user)
    auth.login(user.username)
    form = client.get(f"/submit/{entry.id}/edit").get_data(as_text=True)
    assert ENTRY_FIELDS["collective"] in form and "作品授权声明" in form
    saved = client.post(
        f"/submit/{entry.id}/edit",
        data={**ENTRY_FIELDS, "title": "改过的名字"},
        follow_redirects=True,
    )
    assert "作品信息已保存" in saved.get_data(as_text=True)
    bad = client.post(f"/submit/{entry.id}/edit", data={**ENTRY_FIELDS, "district": "别处"})
    assert "请从列表中选择" in bad.get_data(as_text=True)
    page = client.post(f"/submit/{entry.id}/withdraw", follow_redirects=True)
    text = page.get_data(as_text=True)
    assert "作品已撤回" in text and "修改作品信息" not in text
    session.refresh(entry)
    assert entry.title == "改过的名字" and entry.status is EntryStatus.WITHDRAWN
    again = client.get(f"/submit/{entry.id}/edit", follow_redirects=True)
    assert "不能再修改" in again.get_data(as_text=True)


def test_nothing_changes_after_the_deadline(
    client: FlaskClient, auth: Any, session: Session
) -> None:
    from datetime import UTC, datetime, timedelta

    from storage.models import Contest

    closed = Contest(
        slug=unique("closed-"),
        title="已截止的活动",
        closes_at=datetime.now(UTC) - timedelta(hours=1),
    )
    user = make_user(session)
    entry = make_entry(session, user, closed)
    auth.login(user.username)
    page = client.get(f"/submit/{entry.id}").get_data(as_text=True)
    assert "征集已截止" in page and "撤回作品" not in page
    client.post(f"/submit/{entry.id}/withdraw")
    client.post(f"/submit/{entry.id}/edit", data={**ENTRY_FIELDS, "title": "迟到的修改"})
    upload = client.put(
        f"/api/v1/entries/{entry.id}/video", data=b"x" * 10, auth=(user.username, PASSWORD)
    )
    assert upload.status_code == 400 and "已截止" in upload.get_json()["error"]
    session.refresh(entry)
    assert entry.title == ENTRY_FIELDS["title"] and entry.status is EntryStatus.DRAFT


def test_an_organizer_resets_a_contestants_password(
    client: FlaskClient, auth: Any, session: Session
) -> None:
    contestant = make_user(session)
    operator = make_user(session, Role.OPERATOR)
    auth.login(make_user(session, Role.ORGANIZER).username)
    assert contestant.username in client.get("/admin/users").get_data(as_text=True)
    page = client.post(f"/admin/users/{contestant.id}/password")
    match = re.search(r'<code class="secret">(\S+)</code>', page.get_data(as_text=True))
    assert match is not None
    # Organizers look after contestants and judges; staff accounts are the operators'.
    assert client.post(f"/admin/users/{operator.id}/password").status_code == 404
    auth.logout()
    assert auth.login(contestant.username).status_code == 200  # the old password is gone
    assert auth.login(contestant.username, match.group(1)).status_code == 302
