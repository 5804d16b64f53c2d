"""Every page of every role on a 390 px phone: nothing scrolls sideways, every tap target of
the header and the page is at least 44x44 px.

The world (a contest with a published gallery, entries, an open round with assignments, a
user of every role) is test_form_fuzz's, in a database of its own. The pages are found as
the form fuzz finds them: every GET route of the URL map, then the links those pages show
(a judge's entries by their codes), one page per endpoint.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException
from werkzeug.serving import make_server

from storage.database import make_engine, make_session_factory
from storage.models import Contest, Role
from storage.objects import ObjectStore
from storage.settings import Settings
from tests.browser import PHONE, log_in, open_page, screenshot
from tests.factories import PASSWORD, make_user, open_contest, unique
from tests.test_form_fuzz import World, build_world, client_as, fuzz_settings, urls
from web import create_app

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
__all__ = ["fuzz_settings"]  # the module's own database (a fixture)

# Not pages: a language switch changes the session, logging out ends it.
NOT_PAGES = {"auth.logout", "i18n.switch", "static"}
# What a finger taps: links and buttons, and the labels that hold a checkbox.
TAP_TARGETS = (
    "header a, header button, main a, main button, main summary,"
    " main label:has(> input[type=checkbox])"
)
CHECK = """(selector) => ({
  wide: document.documentElement.scrollWidth - window.innerWidth,
  small: [...document.querySelectorAll(selector)]
    .filter(el => el.offsetParent !== null && !el.closest('[hidden]'))
    .map(el => [el, el.getBoundingClientRect()])
    .filter(([el, r]) => r.width > 0 && (r.width < 43.5 || r.height < 43.5))
    .map(([el, r]) => `${el.outerHTML.slice(0, 90)} ${Math.round(r.width)}x${Math.round(r.height)}`)
})"""


class Links(HTMLParser):
    """The site's own links of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href") or ""
        if tag == "a" and href.startswith("/") and not href.startswith(("//", "/static/")):
            self.links.add(href.split("#")[0])


def endpoint_of(app: Flask, url: str) -> str:
    try:
        endpoint, _args = app.url_map.bind("localhost").match(url.split("?")[0])
    except HTTPException:
        return ""
    return str(endpoint)


def pages_of(app: Flask, world: World, role: Role | None) -> dict[str, str]:
    """One HTML page per endpoint that this role may open: endpoint -> URL."""
    client = client_as(app, world.users[role] if role else None)
    queue = [url for endpoint, method, url in urls(app, world.values) if method == "GET"]
    seen, pages = set(queue), {}
    while queue:
        url = queue.pop(0)
        endpoint = endpoint_of(app, url)
        if endpoint in NOT_PAGES or endpoint in pages or not endpoint:
            continue
        answer = client.get(url)
        if answer.status_code != 200 or "text/html" not in answer.content_type:
            continue
        pages[endpoint] = url
        parser = Links()
        parser.feed(answer.get_data(as_text=True))
        for link in sorted(parser.links - seen):
            seen.add(link)
            queue.append(link)
    return pages


@pytest.fixture(scope="module")
def site(
    fuzz_settings: Settings, object_store: ObjectStore, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Flask, World, str]]:
    # The ops page asks the workers (none here) and waits: briefly, for a quick walk. The
    # demo mailbox exists with a catcher's folder only: one with a message in it.
    fuzz_settings = dataclasses.replace(
        fuzz_settings,
        inspect_timeout_seconds=0.3,
        mail_catcher_dir=str(_caught_mail(tmp_path_factory.mktemp("mail"))),
    )
    engine = make_engine(fuzz_settings.database_url)
    with make_session_factory(engine)() as session:
        world = build_world(session)
        _set_office(session)
    engine.dispose()
    # The crawler logs in without a form (no CSRF); the browser's server is as in production.
    app = create_app({"SETTINGS": fuzz_settings, "TESTING": True, "WTF_CSRF_ENABLED": False})
    served = create_app({"SETTINGS": fuzz_settings})
    server = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, world, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    for each in (app, served):
        each.extensions["footprints.engine"].dispose()


def _caught_mail(folder: Path) -> Path:
    # As the catcher keeps it: a long subject and address, a long link in both parts.
    mail = EmailMessage()
    mail["From"] = "青春足迹 <noreply@footprints.invalid>"
    mail["To"] = "a-rather-long-address-of-a-collective@example.org"
    mail["Subject"] = "评委邀请：“中国梦·青春足迹”青年文明号成长故事微视频征集活动"
    mail["Date"] = formatdate()
    link = "http://127.0.0.1:5000/auth/activate/" + "x" * 43
    mail.set_content(f"您好：\n请打开下面的链接激活账号：\n{link}\n")
    mail.add_alternative(f'<p>您好：</p><p><a href="{link}">{link}</a></p>', subtype="html")
    (folder / "20260101-080000-00001.eml").write_bytes(bytes(mail))
    return folder


def _set_office(session: Session) -> None:
    # The forgot-password page then shows the office's contact, its longest form.
    contest = session.query(Contest).one()
    contest.objection_office = "团市委青年发展部"
    contest.objection_phone = "0571-87000000"
    contest.objection_email = "qingnian-office@example.org"
    session.commit()


@pytest.mark.parametrize("role", [None, *Role], ids=lambda r: r.value if r else "public")
def test_every_page_fits_a_phone_with_fingertip_targets(
    site: tuple[Flask, World, str], browser: Any, role: Role | None
) -> None:
    app, world, base = site
    pages = pages_of(app, world, role)
    assert len(pages) >= 4, pages
    page = open_page(browser, PHONE)
    if role is not None:
        log_in(page, base, world.users[role].username, PASSWORD)
    problems = []
    for endpoint, url in sorted(pages.items()):
        page.goto(base + url, wait_until="domcontentloaded")
        found = page.evaluate(CHECK, TAP_TARGETS)
        if found["wide"] > 1 or found["small"]:
            screenshot(page, f"every-page-{role.value if role else 'public'}-{endpoint}")
            problems.append(f"{url}: {found['wide']} px too wide; small: {found['small'][:6]}")
    page.context.close()
    assert not problems, "\n".join(problems)


HOMES = {
    Role.CONTESTANT: ("我的作品", "/submit/"),
    Role.JUDGE: ("评审工作台", "/judge/"),
    Role.ORGANIZER: ("组委会工作台", "/admin/"),
    Role.OPERATOR: ("运维", "/ops/"),
    Role.DISTRICT: ("县区工作台", "/district/"),
}


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_the_header_links_each_role_home(
    client: FlaskClient, auth: Any, session: Session, role: Role
) -> None:
    user = make_user(session, role)
    assert b'class="home"' not in client.get("/gallery/").data
    auth.login(user.username)
    label, url = HOMES[role]
    # On a page far from home too: the gallery.
    assert f'<a class="home" href="{url}">{label}</a>' in client.get("/gallery/").get_data(
        as_text=True
    )


def test_a_forgotten_password_is_asked_of_the_committee_office(
    client: FlaskClient, session: Session
) -> None:
    login = client.get("/auth/login").get_data(as_text=True)
    assert 'href="/auth/forgot"' in login and "忘记密码？" in login
    # The newest contest is the current one: ours, open as the run's open contest is.
    base, now = open_contest(session), datetime.now(UTC)
    contest = Contest(
        slug=unique("forgot-"),
        title="忘记密码测试",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=30),
        districts=base.districts,
        industries=base.industries,
    )
    session.add(contest)
    session.commit()
    generic = client.get("/auth/forgot").get_data(as_text=True)
    assert "请联系组委会办公室重置密码" in generic and "征集通知" in generic
    contest.objection_office, contest.objection_phone = "团市委青年发展部", "0571-87000000"
    contest.objection_email = "office@example.org"
    session.commit()
    page = client.get("/auth/forgot").get_data(as_text=True)
    assert "团市委青年发展部" in page and 'href="tel:0571-87000000"' in page
    assert 'href="mailto:office@example.org"' in page and "征集通知" not in page
    contest.objection_office = contest.objection_phone = contest.objection_email = ""
    session.commit()
