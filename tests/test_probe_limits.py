"""`/metrics` and `/readyz` do real work per request (the broker, workers, the database, S3),
so each client address gets only so many a minute; `/healthz` does none and stays open."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from flask import Flask

from storage.objects import ObjectStore
from storage.settings import Settings, SettingsError
from web import create_app

ELSEWHERE = {"REMOTE_ADDR": "192.0.2.7"}


@pytest.fixture()
def tight_app(settings: Settings, object_store: ObjectStore) -> Iterator[Flask]:
    tight = dataclasses.replace(
        settings, metrics_rate_limit="3/minute", readyz_rate_limit="2/minute"
    )
    app = create_app({"SETTINGS": tight, "TESTING": True})
    yield app
    app.extensions["footprints.engine"].dispose()


@pytest.mark.parametrize(("path", "allowed"), [("/metrics", 3), ("/readyz", 2)])
def test_probes_answer_429_past_their_limit(tight_app: Flask, path: str, allowed: int) -> None:
    client = tight_app.test_client()
    answers = [client.get(path).status_code for _ in range(allowed + 1)]
    assert answers == [200] * allowed + [429]
    # Counted per address: another client is not held up by this one.
    assert client.get(path, environ_base=ELSEWHERE).status_code == 200
    assert all(client.get("/healthz").status_code == 200 for _ in range(allowed + 1))


def test_guessing_the_metrics_token_is_limited_too(
    settings: Settings, object_store: ObjectStore
) -> None:
    guarded = dataclasses.replace(settings, metrics_token="s3cret", metrics_rate_limit="3/minute")
    app = create_app({"SETTINGS": guarded, "TESTING": True})
    try:
        client = app.test_client()
        guesses = [
            client.get("/metrics", headers={"Authorization": f"Bearer guess{n}"}).status_code
            for n in range(4)
        ]
        assert guesses == [401, 401, 401, 429]
        right = {"Authorization": "Bearer s3cret"}
        assert client.get("/metrics", headers=right).status_code == 429
        assert client.get("/metrics", headers=right, environ_base=ELSEWHERE).status_code == 200
    finally:
        app.extensions["footprints.engine"].dispose()


@pytest.mark.parametrize("variable", ["METRICS_RATE_LIMIT", "READYZ_RATE_LIMIT"])
def test_a_bad_probe_limit_is_named(variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env({variable: "often"})
