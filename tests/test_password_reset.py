"""A forgotten password: a one-time link by mail (and SMS), asked for by the person, that
tells nobody whether an account exists and cannot flood an inbox."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from judging.accounts import LockoutPolicy, check_login
from judging.judge_invitations import (
    ActivationError,
    JudgeFields,
    activate,
    create_judges,
    find_token,
    judge_rows,
)
from judging.password_reset import MAX_PER_HOUR, RESET_HOURS, reachable_at, request_reset
from storage.models import ActivationToken, Role, TokenPurpose, User, utcnow
from storage.outbox import OutboxMessage, OutboxState
from tests.browser import PHONE, SIZES, fits_width, open_page, screenshot
from tests.factories import PASSWORD, make_entry, make_user, unique
from tests.fleet import wait_for
from web.mail_catcher import Catcher

NEW_PASSWORD = "春风又绿江南岸-2026"
POLICY = LockoutPolicy(5, timedelta(minutes=15))
LINK = re.compile(r"https?://[^\s<>\"]+/auth/activate/[\w-]+")


def _user(session: Session, role: Role = Role.CONTESTANT, **fields: str) -> User:
    user = make_user(session, role, password=PASSWORD)
    user.email = fields.get("email", f"{user.username}@example.org")
    user.phone = fields.get("phone", "")
    session.commit()
    return user


def _link(catcher: Catcher, address: str, count: int = 1) -> str:
    mails = wait_for(lambda: len(catcher.to(address)) >= count and catcher.to(address), 30, "mail")
    text = mails[count - 1].get_body(("plain",)).get_content()
    [url] = LINK.findall(text)
    return url


def _token(url: str) -> str:
    return url.rsplit("/", 1)[1]


def test_a_link_by_mail_sets_a_new_password_once_and_ends_other_sessions(
    session: Session, mail_catcher: Catcher, worker: Any
) -> None:
    user = _user(session)
    version = user.session_version
    assert request_reset(session, user.username) == 1
    url = _link(mail_catcher, user.email)
    [mail] = mail_catcher.to(user.email)
    assert str(mail["Subject"]) == "重置密码" and "List-Unsubscribe" not in mail
    row = find_token(session, _token(url))
    assert row.purpose == TokenPurpose.RESET
    assert (
        timedelta(hours=RESET_HOURS - 1) < row.expires_at - utcnow() <= timedelta(hours=RESET_HOURS)
    )
    activate(session, _token(url), NEW_PASSWORD, generate_password_hash)
    session.refresh(user)
    assert check_login(session, user.username, NEW_PASSWORD, POLICY) == user
    assert user.session_version == version + 1
    with pytest.raises(ActivationError) as again:
        activate(session, _token(url), "另一个足够长的密码-2027", generate_password_hash)
    assert again.value.reason == "used" and "重置密码链接已使用过" in again.value.message
    # The outbox keeps neither the token nor the link.
    message = wait_for(
        lambda: (
            (
                m := session.scalars(
                    select(OutboxMessage).where(
                        OutboxMessage.user_id == user.id, OutboxMessage.kind == "password_reset"
                    )
                ).one()
            ).state
            == OutboxState.SENT
            and m
        ),
        30,
        "the row recorded as sent",
    )
    session.refresh(message)
    assert "token" not in message.params and _token(url) not in message.body


def test_an_e_mail_address_names_the_account_in_any_case_and_sms_carries_it_too(
    session: Session, mail_catcher: Catcher, settings: Any, worker: Any
) -> None:
    address = f"{unique('Mixed.Case')}@Example.org"
    user = _user(session, email=address, phone=f"139{int(unique('')) % 10**8:08d}")
    assert request_reset(session, address.lower()) == 1
    _link(mail_catcher, address)
    sms = wait_for(
        lambda: [
            p
            for p in Path(settings.sms_file_dir).iterdir()
            if user.phone in p.read_text(encoding="utf-8")
        ],
        30,
        "the SMS",
    )
    assert "/auth/activate/" in sms[0].read_text(encoding="utf-8")


def test_nobody_learns_whether_an_account_exists_and_nobody_is_flooded(
    session: Session, client: FlaskClient, mail_catcher: Catcher
) -> None:
    user = _user(session)
    unknown = client.post("/auth/forgot", data={"identifier": f"nobody-{unique('')}"})
    known = client.post("/auth/forgot", data={"identifier": user.username})
    assert unknown.status_code == known.status_code == 200

    def said(page: Any) -> str:
        return page.get_data(as_text=True).split('id="reset-asked"')[1].split("</div>")[0]

    assert said(unknown) == said(known) and "重置密码的链接已经发出" in said(known)
    for _ in range(MAX_PER_HOUR + 2):
        request_reset(session, user.username)
    sent = session.scalars(
        select(ActivationToken).where(
            ActivationToken.user_id == user.id, ActivationToken.purpose == TokenPurpose.RESET
        )
    ).all()
    assert len(sent) == MAX_PER_HOUR
    # Only the newest link works.
    open_links = [t for t in sent if t.revoked_at is None]
    assert len(open_links) == 1 and open_links[0].created_at == max(t.created_at for t in sent)
    empty = client.post("/auth/forgot", data={"identifier": "  "})
    assert "请输入用户名或注册时填写的电子邮箱" in empty.get_data(as_text=True)


def test_a_contestant_without_an_address_is_reached_at_their_newest_entrys_contact(
    session: Session,
) -> None:
    user = _user(session, email="")
    assert reachable_at(session, user) == ("", "")
    entry = make_entry(session, user)
    entry.email, entry.contact_phone = "contact@example.org", "13900001111"
    session.commit()
    assert reachable_at(session, user) == ("contact@example.org", "13900001111")
    judge = _user(session, Role.JUDGE, email="")
    make_entry(session, user)  # another's entry says nothing of a judge
    assert reachable_at(session, judge) == ("", "")


def test_inactive_accounts_and_accounts_without_an_address_get_nothing(session: Session) -> None:
    quiet = _user(session, email="")
    gone = _user(session)
    gone.active = False
    session.commit()
    assert request_reset(session, quiet.username) == 0
    assert request_reset(session, gone.username) == 0
    assert request_reset(session, gone.email) == 0


def test_a_judges_reset_link_says_nothing_of_their_invitation(session: Session) -> None:
    n = unique("")
    fields = JudgeFields(f"评委{n}", "市文明办", "市直", f"137{int(n):08d}", f"j{n}@example.org")
    [link] = create_judges(session, [fields], None)
    activate(session, link.token, NEW_PASSWORD, generate_password_hash)
    assert request_reset(session, link.user.username) == 1
    [row] = [r for r in judge_rows(session) if r.user.id == link.user.id]
    assert row.state == "active"  # an unused reset link is not an invitation waiting


@pytest.mark.parametrize("size", SIZES)
def test_a_contestant_resets_a_forgotten_password_in_the_browser(
    live_server: str,
    browser: Any,
    session: Session,
    mail_catcher: Catcher,
    worker: Any,
    size: str,
) -> None:
    user = _user(session)
    page = open_page(browser, SIZES[size])
    page.goto(f"{live_server}/auth/login")
    page.click("text=忘记密码？")
    page.fill("input[name=identifier]", user.username)
    page.click("form.card button.button")
    page.wait_for_selector("#reset-asked")
    assert fits_width(page)
    screenshot(page, f"password-reset-asked-{size}")
    url = _link(mail_catcher, user.email)
    page.goto(live_server + url[url.index("/auth/activate/") :])
    assert page.locator("h1").inner_text() == "重置密码"
    page.fill("input[name=password]", NEW_PASSWORD)
    page.fill("input[name=confirm]", "不一样的密码-2026")
    page.click("form.card button.button")
    assert "两次输入的密码不一致" in page.content()
    screenshot(page, f"password-reset-mismatch-{size}")
    page.fill("input[name=password]", NEW_PASSWORD)
    page.fill("input[name=confirm]", NEW_PASSWORD)
    page.click("form.card button.button")
    page.wait_for_load_state()
    assert "密码已重置" in page.content()
    assert fits_width(page) or SIZES[size] != PHONE
    # The link is used up: opening it again (from the mail) is refused in words.
    page.goto(live_server + url[url.index("/auth/activate/") :])
    screenshot(page, f"password-reset-used-{size}")
    assert "已使用过" in page.content()  # and, logged in now, the way to their desk
    assert page.locator("a.button", has_text="进入我的工作台").count() == 1
    screenshot(page, f"password-reset-used-{size}")
    page.context.close()
