"""The ops page's outbox: counts and the newest messages with masked addresses, a filter by
state, and 重新发送 (operators only, CSRF-checked) that really sends a failed message."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from storage.models import Role, User
from storage.outbox import OutboxMessage, OutboxState
from storage.settings import Settings
from tests.browser import PHONE, fits_width, log_in, open_page, screenshot, small_tap_targets
from tests.factories import make_entry, make_user, unique
from tests.fleet import wait_for
from web import create_app
from web.mail_catcher import Catcher
from worker.outbox_report import mask_address


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("abcdef@example.org", "ab***@example.org"),
        ("a@example.org", "a***@example.org"),
        ("13812348000", "138****8000"),
        ("138-1234-8000", "138****8000"),
        ("12345", "1***"),
        ("", ""),
    ],
)
def test_addresses_are_masked(address: str, masked: str) -> None:
    assert mask_address(address) == masked


def _message(session: Session, state: OutboxState, **fields: Any) -> OutboxMessage:
    values: dict[str, Any] = {
        "key": unique("ops-outbox-"),
        "kind": "entry_received",
        "channel": "email",
        "address": f"{unique('box')}@example.org",
        "params": {},
        "state": state,
        "attempts": 1,
        **fields,
    }
    row = OutboxMessage(**values)
    session.add(row)
    session.commit()
    return row


def _operator(session: Session, client: FlaskClient, auth: Any) -> User:
    operator = make_user(session, Role.OPERATOR)
    auth.login(operator.username)
    return operator


def test_the_page_lists_states_and_filters_them(
    session: Session, client: FlaskClient, auth: Any
) -> None:
    failed = _message(session, OutboxState.FAILED, last_error="收件地址被拒绝：550 no such user")
    uncertain = _message(session, OutboxState.UNCERTAIN, channel="sms", address="13812348000")
    sent = _message(session, OutboxState.SENT, kind="judge_invitation", subject="评委邀请：测试")
    _operator(session, client, auth)

    page = client.get("/ops/outbox").get_data(as_text=True)
    assert "发件箱" in page and "作品已收到" in page and "评委邀请" in page
    assert f"{failed.address[:2]}***@example.org" in page and failed.address not in page
    assert "138****8000" in page and "13812348000" not in page
    assert "发送失败" in page and "收件地址被拒绝" in page and "已发送" in page
    assert "可能已发出" in page and "短信" in page
    # 重新发送 for the failed and the uncertain row, never for one sent.
    buttons = set(re.findall(r'name="message_id" value="(\d+)"', page))
    assert {str(failed.id), str(uncertain.id)} <= buttons and str(sent.id) not in buttons

    only_failed = client.get("/ops/outbox?state=failed").get_data(as_text=True)
    assert f'id="message-{failed.id}"' in only_failed
    assert f'id="message-{uncertain.id}"' not in only_failed
    assert f'id="message-{sent.id}"' not in only_failed
    assert "/ops/outbox" in client.get("/ops/").get_data(as_text=True)


def test_sending_a_failed_message_again_sends_it(
    session: Session,
    client: FlaskClient,
    auth: Any,
    app: Flask,
    worker: object,
    mail_catcher: Catcher,
) -> None:
    entry = make_entry(session, make_user(session))
    staff = make_user(session, Role.ORGANIZER)
    staff.email = f"{unique('again')}@example.org"
    row = _message(
        session,
        OutboxState.FAILED,
        kind="job_failed",
        user_id=staff.id,
        address=staff.email,
        params={"job_id": 1, "entry_id": entry.id, "attempts": 1, "reason": "存储不可用"},
        attempts=5,
        last_error="连接邮件服务器失败",
    )
    _operator(session, client, auth)

    answer = client.post("/ops/outbox/resend", data={"message_id": row.id, "state": "failed"})
    assert answer.status_code == 302 and answer.location.endswith("/ops/outbox?state=failed")
    [mail] = wait_for(lambda: mail_catcher.to(staff.email), 30, "the message sent again")
    assert "存储不可用" in mail.get_body(("plain",)).get_content()
    session.expire_all()
    sent = wait_for(
        lambda: (r := session.get_one(OutboxMessage, row.id)).state == OutboxState.SENT and r,
        30,
        "the row recorded as sent",
    )
    assert sent.attempts == 1 and sent.last_error == ""
    flash = client.get("/ops/outbox?state=failed").get_data(as_text=True)
    assert f"消息 #{row.id} 已重新排队发送" in flash
    # Sent now: a second 重新发送 (a double click) sends nothing more.
    client.post("/ops/outbox/resend", data={"message_id": row.id})
    assert "无需重新发送" in client.get("/ops/outbox").get_data(as_text=True)
    assert len(mail_catcher.to(staff.email)) == 1


@pytest.mark.parametrize("role", [Role.CONTESTANT, Role.JUDGE, Role.ORGANIZER])
def test_only_operators_see_or_resend(
    session: Session, client: FlaskClient, auth: Any, role: Role
) -> None:
    row = _message(session, OutboxState.FAILED)
    auth.login(make_user(session, role).username)
    assert client.get("/ops/outbox").status_code == 403
    assert client.post("/ops/outbox/resend", data={"message_id": row.id}).status_code == 403
    session.refresh(row)
    assert row.state == OutboxState.FAILED


def test_resending_needs_the_forms_csrf_token(
    session: Session, settings: Settings, object_store: object
) -> None:
    row = _message(session, OutboxState.FAILED)
    operator = make_user(session, Role.OPERATOR)
    app = create_app({"SETTINGS": settings, "TESTING": True})  # CSRF on, as in production
    try:
        client = app.test_client()
        login = client.get("/auth/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login)
        assert token is not None
        data = {"username": operator.username, "password": "password123"}
        assert client.post("/auth/login", data={**data, "csrf_token": token[1]}).status_code == 302
        assert client.post("/ops/outbox/resend", data={"message_id": row.id}).status_code == 400
    finally:
        app.extensions["footprints.engine"].dispose()
    session.refresh(row)
    assert row.state == OutboxState.FAILED


@pytest.mark.e2e
def test_the_outbox_fits_a_phone(session: Session, live_server: str, browser: Any) -> None:
    for state in (OutboxState.FAILED, OutboxState.UNCERTAIN, OutboxState.SENT):
        _message(
            session,
            state,
            subject="处理失败：作品《一个相当长的作品名称，用来看换行》（No.0001）",
            last_error="程序错误：KeyError('a_rather_long_identifier_without_any_spaces_in_it')",
        )
    operator = make_user(session, Role.OPERATOR)
    page = open_page(browser, PHONE)
    log_in(page, live_server, operator.username)
    page.goto(f"{live_server}/ops/outbox")
    screenshot(page, "ops-outbox-phone")
    assert fits_width(page)
    assert small_tap_targets(page, "main a, main button") == []
    page.once("dialog", lambda dialog: dialog.accept())  # 可能已发出: asked first
    page.locator("tr:has(.badge.processing) button").first.click()
    page.wait_for_load_state()
    assert "已重新排队发送" in page.content()
    page.context.close()
