"""schemathesis against our OpenAPI document: no generated request makes the server fail."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode
from sqlalchemy.orm import Session

from tests.factories import PASSWORD, make_entry, make_user
from tests.test_form_fuzz import NASTY

pytestmark = pytest.mark.integration
# tus chunks are raw bytes like any octet stream.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")
EXAMPLES = 25  # per operation and mode; enough to find 500s, bounded for a 15-minute suite


def test_no_generated_request_causes_a_server_error(app: Flask, session: Session) -> None:
    user = make_user(session)
    entry = make_entry(session, user)
    token = base64.b64encode(f"{user.username}:{PASSWORD}".encode()).decode()
    auth = {"Authorization": f"Basic {token}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    calls = 0
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6
    for operation in operations:
        # Random ids mostly miss; a real one reaches the code behind the lookup as well.
        fixed = {"entry_id": entry.id} if "{entry_id}" in operation.path else None
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for path_parameters in (None, fixed) if fixed else (None,):
                strategy = operation.as_strategy(
                    generation_mode=mode, path_parameters=path_parameters
                )

                @settings(
                    max_examples=EXAMPLES,
                    deadline=None,
                    database=None,
                    derandomize=True,
                    suppress_health_check=list(HealthCheck),
                )
                @given(case=strategy)
                def call(case: Any) -> None:
                    nonlocal calls
                    calls += 1
                    response = case.call(headers={**auth, **(case.headers or {})})
                    if response.status_code >= 500:
                        failures.append(
                            f"{case.method} {case.formatted_path} -> {response.status_code}: "
                            f"{response.text[:300]}"
                        )

                call()
    assert calls > 100
    assert not failures, "\n".join(failures)


def test_nasty_header_values_cause_no_server_error(app: Flask, session: Session) -> None:
    """Every header the document names, sent each value generation rarely reaches."""
    user = make_user(session)
    entry = make_entry(session, user)
    client = app.test_client()
    # Signed in by the session cookie: a password check per request would dominate the run.
    client.post("/auth/login", data={"username": user.username, "password": PASSWORD})
    start = client.post(
        f"/api/v1/entries/{entry.id}/uploads",
        headers={"Tus-Resumable": "1.0.0", "Upload-Length": "9"},
    )
    upload = start.headers["Location"].rsplit("/", 1)[1]
    document = client.get("/api/v1/openapi.json").get_json()
    failures = []
    for path, item in document["paths"].items():
        url = "/api/v1" + path.replace("{entry_id}", str(entry.id)).replace("{upload_id}", upload)
        for method, operation in item.items():
            if method == "parameters":
                continue
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
            for name in names:
                for value in NASTY:
                    if "\r" in value or "\n" in value or "\x00" in value:
                        continue  # not a header value a client can send
                    answer = client.open(
                        url,
                        method=method.upper(),
                        headers={"Tus-Resumable": "1.0.0", name: value},
                        data=b"x",
                    )
                    if answer.status_code >= 500:
                        failures.append(f"{method} {url} {name}: {value!r} -> {answer.status_code}")
    assert not failures, "\n".join(failures)
