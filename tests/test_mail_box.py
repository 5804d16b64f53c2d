"""The demo mailbox (/admin/mail): what the local catcher kept, for organizers and operators."""

from __future__ import annotations

import dataclasses
import os
import re
import smtplib
from collections.abc import Iterator
from email.message import EmailMessage
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound

from storage.models import Role, User
from storage.objects import ObjectStore
from storage.settings import Settings
from tests.factories import PASSWORD, make_user, queued_invitation, unique
from tests.fleet import wait_for
from web import create_app
from web.mail_box import linked, read_message
from web.mail_catcher import Catcher
from web.mail_catcher import start as start_catcher
from web.outbox_task import deliver

pytestmark = pytest.mark.integration


@pytest.fixture()
def folder_catcher(tmp_path: Path) -> Iterator[Catcher]:
    """The catcher as `make run` starts it: every message kept as a file in a folder."""
    catcher = Catcher(tmp_path / "mail")
    controller = start_catcher("127.0.0.1", 0, catcher)
    yield catcher
    controller.stop()


@pytest.fixture()
def demo(settings: Settings, folder_catcher: Catcher, tmp_path: Path) -> Settings:
    return dataclasses.replace(
        settings,
        mail_port=folder_catcher.port,
        mail_catcher_dir=str(folder_catcher.folder),
        sms_file_dir=str(tmp_path / "sms"),
        inspect_timeout_seconds=0.1,
    )


def _app(settings: Settings) -> Flask:
    return create_app({"SETTINGS": settings, "TESTING": True, "WTF_CSRF_ENABLED": False})


@pytest.fixture()
def demo_app(demo: Settings, object_store: ObjectStore) -> Iterator[Flask]:
    app = _app(demo)
    yield app
    app.extensions["footprints.engine"].dispose()


def _as(app: Flask, user: User | None) -> FlaskClient:
    client = app.test_client()
    if user is not None:
        client.post("/auth/login", data={"username": user.username, "password": PASSWORD})
    return client


def _invite(session: Session, app: Flask, settings: Settings) -> tuple[User, str]:
    """A judge's invitation, sent through the catcher; the judge and the activation token."""
    invitation = queued_invitation(session, email=f"{unique('box')}@example.org")
    deliver(app, session, invitation.message_id, settings)
    return invitation.judge, invitation.token


class Tags(HTMLParser):
    """The scripts and event-handler attributes a page itself has (not its escaped text)."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "script" and named.get("type") != "application/json":
            self.scripts.append(named.get("src") or "inline")
        self.handlers += [name for name in named if name.startswith("on")]


def _send(port: int, subject: str, text: str, html: str, to: str = "x@example.org") -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.org", to, subject
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(message)


def test_organizers_read_the_demos_mail_with_working_links(
    session: Session, demo_app: Flask, demo: Settings, folder_catcher: Catcher
) -> None:
    judge, token = _invite(session, demo_app, demo)
    organizer = make_user(session, Role.ORGANIZER)
    client = _as(demo_app, organizer)
    assert 'href="/admin/mail/"' in client.get("/admin/").get_data(as_text=True)

    listing = client.get("/admin/mail/").get_data(as_text=True)
    assert judge.email in listing and "评委邀请" in listing  # the decoded Chinese subject
    [name] = re.findall(r'href="/admin/mail/([^"/]+\.eml)"', listing)
    page = client.get(f"/admin/mail/{name}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    link = f"http://127.0.0.1:5000/auth/activate/{token}"
    # The plain text's link is a link; the HTML part is in a frame that runs nothing.
    assert f'<a href="{link}">{link}</a>' in body
    [frame] = re.findall(r"<iframe [^>]*>", body)
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in frame
    assert "allow-scripts" not in frame and "allow-same-origin" not in frame
    srcdoc = unescape(re.search(r'srcdoc="([^"]*)"', frame).group(1))  # type: ignore[union-attr]
    assert srcdoc.startswith('<base target="_blank">') and link in srcdoc
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    # The link works: it opens the judge's activation page.
    opened = demo_app.test_client().get(link.removeprefix("http://127.0.0.1:5000"))
    assert opened.status_code == 200 and judge.username in opened.get_data(as_text=True)


def test_nothing_in_a_message_runs_on_the_site(
    session: Session, demo_app: Flask, folder_catcher: Catcher
) -> None:
    evil = '"><script>alert(1)</script>'
    _send(
        folder_catcher.port,
        evil,
        f"text {evil}",
        f"<p>{evil}</p><img src=x onerror=alert(2)>",
        to=f"{unique('evil')}@example.org",
    )
    wait_for(lambda: list(folder_catcher.folder.glob("*.eml")), 10, "the file")  # type: ignore[union-attr]
    client = _as(demo_app, make_user(session, Role.OPERATOR))
    listing = client.get("/admin/mail/").get_data(as_text=True)
    [name] = re.findall(r'href="/admin/mail/([^"/]+\.eml)"', listing)
    body = client.get(f"/admin/mail/{name}").get_data(as_text=True)
    for page in (listing, body):
        tags = Tags()
        tags.feed(page)
        # Only our own script files, and no element with an event handler, on our origin.
        assert all(src.startswith("/static/") for src in tags.scripts), tags.scripts
        assert not tags.handlers and "&lt;script&gt;alert(1)" in page


def test_filenames_cannot_leave_the_folder(
    session: Session, demo_app: Flask, demo: Settings, folder_catcher: Catcher
) -> None:
    folder = Path(demo.mail_catcher_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder.parent / "secret.eml").write_text("Subject: kept-out\n\nkept-out\n")
    (folder / "link.eml").symlink_to(folder.parent / "secret.eml")
    (folder / ".hidden.eml").write_text("Subject: kept-out\n\nkept-out\n")
    client = _as(demo_app, make_user(session, Role.ORGANIZER))
    for url in (
        "/admin/mail/..%2Fsecret.eml",
        "/admin/mail/%2E%2E%2Fsecret.eml",
        "/admin/mail/../secret.eml",
        "/admin/mail/link.eml",
        "/admin/mail/.hidden.eml",
        "/admin/mail/secret",
    ):
        answer = client.get(url)
        assert answer.status_code == 404 and b"kept-out" not in answer.data, url
    for name in ("../secret.eml", "..", "link.eml", ".hidden.eml", "/etc/passwd"):
        with pytest.raises(NotFound):
            read_message(folder, name)


def test_only_organizers_and_operators_and_only_with_a_catcher(
    session: Session, demo_app: Flask, settings: Settings, object_store: ObjectStore
) -> None:
    assert _as(demo_app, None).get("/admin/mail/").status_code == 302  # to the login page
    for role in (Role.CONTESTANT, Role.JUDGE):
        assert _as(demo_app, make_user(session, role)).get("/admin/mail/").status_code == 403
    for role in (Role.ORGANIZER, Role.OPERATOR):
        assert _as(demo_app, make_user(session, role)).get("/admin/mail/").status_code == 200
    operator = make_user(session, Role.OPERATOR)
    assert 'href="/admin/mail/"' in _as(demo_app, operator).get("/ops/").get_data(as_text=True)

    production = _app(
        dataclasses.replace(settings, mail_catcher_dir="", inspect_timeout_seconds=0.1)
    )
    try:
        organizer = _as(production, make_user(session, Role.ORGANIZER))
        assert organizer.get("/admin/mail/").status_code == 404
        assert organizer.get("/admin/mail/20260101-000000-00001.eml").status_code == 404
        assert "/admin/mail/" not in organizer.get("/admin/").get_data(as_text=True)
        ops = _as(production, make_user(session, Role.OPERATOR)).get("/ops/")
        assert "/admin/mail/" not in ops.get_data(as_text=True)
    finally:
        production.extensions["footprints.engine"].dispose()


def test_the_newest_mail_comes_first_fifty_a_page_and_file_sms_beside_it(
    session: Session, demo_app: Flask, demo: Settings
) -> None:
    folder = Path(demo.mail_catcher_dir)
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(51):
        path = folder / f"20260101-000000-{n:05d}.eml"
        path.write_text(f"To: n{n}@example.org\nSubject: =?utf-8?b?5L2c5ZOB?= {n}\n\nbody\n")
        os.utime(path, (1_700_000_000 + n, 1_700_000_000 + n))
    sms = Path(demo.sms_file_dir)
    sms.mkdir(parents=True)
    (sms / "00000007.txt").write_text("To: 13800138000\n\n【青春足迹】您的作品已退回修改\n")
    client = _as(demo_app, make_user(session, Role.ORGANIZER))
    first = client.get("/admin/mail/").get_data(as_text=True)
    assert first.index("作品 50") < first.index("作品 49")  # decoded, newest first
    assert "作品 0<" not in first and 'href="/admin/mail/?page=2"' in first
    assert "作品 0<" in client.get("/admin/mail/?page=2").get_data(as_text=True)
    assert "13800138000" in first and "【青春足迹】您的作品已退回修改" in first
    for query in ("?page=0", "?page=-3", "?page=abc"):
        assert "作品 50<" in client.get(f"/admin/mail/{query}").get_data(as_text=True)
    assert "作品 0<" in client.get("/admin/mail/?page=99999999999").get_data(as_text=True)
    plain = client.get("/admin/mail/20260101-000000-00007.eml").get_data(as_text=True)
    assert "作品 7" in plain and "<iframe" not in plain  # no HTML part, no frame


def test_plain_text_links_end_where_the_address_does() -> None:
    text = "打开：http://x.example/a?b=1。或 <http://y.example/c>，谢谢 <script>"
    assert str(linked(text)) == (
        '打开：<a href="http://x.example/a?b=1">http://x.example/a?b=1</a>。或 '
        '&lt;<a href="http://y.example/c">http://y.example/c</a>&gt;，谢谢 &lt;script&gt;'
    )
