"""Languages: Chinese by default, English on request, and a complete English catalog."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.conftest import ROOT
from tests.factories import ENTRY_FIELDS, PASSWORD, make_user, open_contest

CATALOG = ROOT / "web" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")


def english(client: FlaskClient) -> None:
    response = client.get("/lang/en?next=/auth/login")
    assert response.status_code == 302 and response.location.endswith("/auth/login")


def test_chinese_is_the_default(client: FlaskClient) -> None:
    page = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "用户名" in page and "English" in page


def test_english_on_request_for_pages_forms_and_rules(
    client: FlaskClient, auth: Any, session: Session
) -> None:
    open_contest(session)
    english(client)
    page = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "Username" in page and "中文" in page
    assert "用户名" not in page
    user = make_user(session)
    auth.login(user.username)
    form = client.post("/submit/new", data={**ENTRY_FIELDS, "contact_phone": "1", "title": ""})
    text = form.get_data(as_text=True)
    assert "The phone number is not valid" in text and "Please fill in Title" in text
    api = client.post(
        "/api/v1/entries", json={**ENTRY_FIELDS, "district": "别处"}, auth=(user.username, PASSWORD)
    )
    assert api.get_json()["errors"] == {
        "district": "Please choose County, district or city unit from the list"
    }
    client.get("/lang/zh_CN")
    assert "用户名" in client.get("/auth/login").get_data(as_text=True)


def test_the_language_switch_stays_on_this_site(client: FlaskClient) -> None:
    assert client.get("/lang/en?next=//elsewhere.example").location == "/"
    assert client.get("/lang/xx?next=/").location == "/"


def test_every_message_has_an_english_translation_with_its_placeholders(tmp_path: Path) -> None:
    template = tmp_path / "messages.pot"
    subprocess.run(
        [
            Path(sys.executable).parent / "pybabel",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "N_",
            "-k",
            "Message",
            "--no-location",
            "-o",
            str(template),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    with open(template, "rb") as fh:
        wanted = {m.id for m in read_po(fh) if m.id}
    with open(CATALOG, "rb") as fh:
        catalog = {m.id: m.string for m in read_po(fh, locale="en") if m.id}
    untranslated = sorted(i for i in wanted if not catalog.get(i))
    assert untranslated == [], "run pybabel update and translate these"
    for msgid, text in catalog.items():
        if msgid in wanted:
            assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(text)), msgid
