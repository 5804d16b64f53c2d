"""Hypothesis over every HTML form and every route, as every role: no input answers 500.

Pages are fetched as each role; each <form> found there (and every POST route of the URL
map, with the field names the forms use) is sent generated values: superscript and other
scripts' digits, huge and negative numbers, Chinese numerals, control characters, formulas,
long text. The run has a database of its own, because the fuzzed forms open rounds, change
settings and close contests.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from judging.judge_invitations import JudgeFields, create_judges
from judging.rounds import assign_round, eligible_entries, invite, open_round
from storage.database import make_engine, make_session_factory, upgrade
from storage.models import (
    ActivityReport,
    Contest,
    Entry,
    EntryStatus,
    Job,
    JobState,
    ReportFile,
    Role,
    User,
    utcnow,
)
from storage.objects import ObjectStore
from storage.settings import Settings
from tests.conftest import ADMIN_URL
from tests.factories import PASSWORD, make_entry, make_user
from web import create_app

pytestmark = pytest.mark.integration
EXAMPLES = 6  # per form and role: enough to reach every parser, bounded for the suite
# Logging out would leave the rest of the run anonymous; the login forms are fuzzed logged out.
SKIPPED = {"auth.logout"}
NASTY = [
    "",
    "¹",
    "²",
    "٣",
    "١٢",
    "一",
    "三十",
    "-1",
    "0",
    "00",
    "1.5",
    "1e400",
    "nan",
    "inf",
    "9" * 30,
    " 7 ",
    "\x00",
    "\r\n",
    "=1+1",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "x" * 5000,
    "//evil.example",
    "2026-02-30T25:61",
    "top:¹",
    "pick:1,²",
    "a|b|c|d|e|f",
]
VALUE = st.one_of(
    st.sampled_from(NASTY),
    st.integers(-(2**70), 2**70).map(str),
    st.text(max_size=30),
)


class Forms(HTMLParser):
    """The forms of a page: (method, action, field names), and the page's local links."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, str, set[str]]] = []
        self.links: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        href = named.get("href") or ""
        if tag == "a" and href.startswith("/") and not href.startswith(("//", "/static/")):
            self.links.add(href.split("#")[0])
        if tag == "form":
            method = (named.get("method") or "get").upper()
            self.forms.append((method, named.get("action") or "", set()))
        elif tag in {"input", "select", "textarea", "button"} and self.forms and named.get("name"):
            self.forms[-1][2].add(str(named["name"]))


@pytest.fixture(scope="module")
def fuzz_settings(settings: Settings) -> Iterator[Settings]:
    name = f"footprints_fuzz_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield dataclasses.replace(settings, database_url=url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@dataclasses.dataclass
class World:
    users: dict[Role, User]
    values: dict[str, Any]


def build_world(session: Session) -> World:
    users = {role: make_user(session, role) for role in Role}
    contest = Contest(
        slug="fuzz",
        title="模糊测试征集",
        opens_at=utcnow() - timedelta(days=1),
        closes_at=utcnow() + timedelta(days=10),
        districts=["市直单位"],
        industries=["医疗卫生"],
        public_vote=True,
        gallery_published_at=utcnow(),
    )
    session.add(contest)
    session.commit()
    entries: list[Entry] = []
    for _ in range(3):
        entry = make_entry(session, users[Role.CONTESTANT], contest)
        entry.status = EntryStatus.READY
        entry.approved_at = utcnow()
        entries.append(entry)
    job = Job(entry=entries[0], source_key="k", state=JobState.FAILED)
    session.add(job)
    judges = [users[Role.JUDGE], *(make_user(session, Role.JUDGE) for _ in range(3))]
    session.commit()
    # An open round with assignments: the judging forms parse their input only then.
    rnd = open_round(session, contest, "初评")
    invite(session, rnd, {j.id for j in judges})
    assign_round(session, rnd, eligible_entries(session, contest, rnd), 0)
    [invited] = create_judges(session, [JudgeFields("模糊评委", "", "", "13900000000", "")], None)
    values = {
        "entry_id": entries[0].id,
        "user_id": users[Role.CONTESTANT].id,
        "job_id": job.id,
        "snapshot_id": 1,
        "upload_id": "0" * 32,
        "fmt": "csv",
        "code": "en",
        "filename": "app.css",
        "token": invited.token,  # a link that works, so the activation form is fuzzed too
        "piece_id": 1,
        "report_id": _report(session, users[Role.CONTESTANT], contest).id,
        "n": 1,
    }
    return World(users, values)


def _report(session: Session, owner: User, contest: Contest) -> ActivityReport:
    """The contestant's activity report, a draft with one processed photo: its forms are
    fuzzed, and its pages walked."""
    report = ActivityReport(
        contest_id=contest.id,
        owner_id=owner.id,
        unit="模糊测试集体",
        district="市直单位",
        title="模糊测试活动",
        held_on=utcnow().date(),
        place="社区",
        activity_type="为民服务",
        body="活动简介",
    )
    report.files.append(
        ReportFile(
            position=1,
            kind="photo",
            bucket="b",
            source_key="reports/0/originals/fuzz",
            state=JobState.READY,
            outputs={"480": "k", "1080": "k", "2048": "k"},
        )
    )
    session.add(report)
    session.commit()
    return report


@pytest.fixture(scope="module")
def fuzz_app(fuzz_settings: Settings, object_store: ObjectStore) -> Iterator[tuple[Flask, World]]:
    engine = make_engine(fuzz_settings.database_url)
    with make_session_factory(engine)() as session:
        world = build_world(session)
    engine.dispose()
    app = create_app({"SETTINGS": fuzz_settings, "TESTING": True, "WTF_CSRF_ENABLED": False})
    # Exceptions become 500 answers, as in production, so that one run lists them all.
    app.config["PROPAGATE_EXCEPTIONS"] = False
    yield app, world
    app.extensions["footprints.engine"].dispose()


def client_as(app: Flask, user: User | None) -> FlaskClient:
    client = app.test_client()
    if user is not None:
        answer = client.post("/auth/login", data={"username": user.username, "password": PASSWORD})
        assert answer.status_code == 302
    return client


def urls(app: Flask, values: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(endpoint, method, url) for every route, path parameters filled from the world."""
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED or rule.endpoint == "static":
            continue
        for method in sorted(set(rule.methods or ()) - {"OPTIONS", "HEAD"}):
            yield rule.endpoint, method, adapter.build(rule.endpoint, values, method=method)


def discover(client: FlaskClient, app: Flask, world: World) -> dict[tuple[str, str], set[str]]:
    """Every form this client sees, by (method, action)."""
    found: dict[tuple[str, str], set[str]] = {}
    pages = [url for _endpoint, method, url in urls(app, world.values) if method == "GET"]
    seen = set(pages)
    while pages and len(seen) < 200:
        url = pages.pop(0)
        page = client.get(url)
        if page.status_code != 200 or "text/html" not in page.content_type:
            continue
        parser = Forms()
        parser.feed(page.get_data(as_text=True))
        for form_method, action, fields in parser.forms:
            key = (form_method, action or url)
            found.setdefault(key, set()).update(fields - {"csrf_token"})
        # Pages reached only by links (a judge's entries by their codes) are followed too.
        for link in sorted(parser.links - seen):
            if not link.startswith("/auth/logout"):
                seen.add(link)
                pages.append(link)
    return found


def refused(client: FlaskClient, method: str, url: str) -> bool:
    """Does the role check turn this client away before any input is read?"""
    answer = client.open(url, method=method)
    return answer.status_code in (401, 403) or (
        answer.status_code == 302 and "/auth/login" in answer.headers.get("Location", "")
    )


def fuzz(
    client: FlaskClient, method: str, url: str, fields: set[str], failures: list[str], examples: int
) -> None:
    names = sorted(fields) or ["value"]

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.fixed_dictionaries({name: VALUE for name in names}))
    def send(data: dict[str, str]) -> None:
        if method == "GET":
            path, _sep, query = url.partition("?")
            answer = client.get(path, query_string={**dict(parse_qsl(query)), **data})
        else:
            answer = client.open(url, method=method, data=data)
        if answer.status_code >= 500:
            failures.append(f"{method} {url} {data!r} -> {answer.status_code}")

    send()


def test_no_form_input_answers_500_for_any_role(fuzz_app: tuple[Flask, World]) -> None:
    app, world = fuzz_app
    failures: list[str] = []
    sent = 0
    # Staff last: their account pages' forms reset the others' passwords.
    for role in [None, *sorted(Role, key=lambda r: r in (Role.ORGANIZER, Role.OPERATOR))]:
        client = client_as(app, world.users[role] if role else None)
        forms = discover(client, app, world)
        every_field = set().union(*forms.values()) if forms else set()
        targets = dict(forms)
        for _endpoint, method, url in urls(app, world.values):
            # Routes no page of this role links to are still reachable by hand; pages read
            # few query parameters, so a plain GET gets a few tries only.
            targets.setdefault((method, url), set() if method == "GET" else every_field)
        for (method, url), fields in sorted(targets.items()):
            if url.startswith(("/auth/logout", "/static/")) or refused(client, method, url):
                continue
            fuzz(client, method, url, fields, failures, EXAMPLES if fields else 2)
            sent += 1
    assert sent > 100
    assert not failures, "\n".join(failures[:30])
