"""Settings: defaults, parsing from the environment, and the README's table."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from storage.settings import Settings, SettingsError, settings_table

README = Path(__file__).resolve().parent.parent / "README.md"


def test_defaults_suit_a_developer_machine() -> None:
    s = Settings.from_env({})
    assert s.database_url == "sqlite:///var/footprints.db"
    assert s.sqlite_path == "var/footprints.db"
    assert s.broker_url.startswith("amqp://")
    assert s.s3_endpoint == "127.0.0.1:8333"
    assert s.s3_secure is False
    assert s.max_upload_bytes == 4 * 1024**3
    assert s.ladder == (1080, 720, 480)


def test_environment_values_are_typed() -> None:
    s = Settings.from_env(
        {
            "DATABASE_URL": "postgresql+psycopg://u@h/db",
            "MAX_UPLOAD_BYTES": "1048576",
            "MAX_DURATION_SECONDS": "90.5",
            "S3_SECURE": "yes",
            "WATERMARK_TEXT": "青春",
        }
    )
    assert s.sqlite_path is None
    assert s.max_upload_bytes == 1048576
    assert s.max_duration_seconds == 90.5
    assert s.s3_secure is True
    assert s.watermark_text == "青春"


def test_empty_variables_keep_the_default() -> None:
    assert Settings.from_env({"S3_ENDPOINT": ""}).s3_endpoint == "127.0.0.1:8333"


def test_overrides_win_over_the_environment() -> None:
    s = Settings.from_env({"S3_ENDPOINT": "a:1"}, s3_endpoint="b:2")
    assert s.s3_endpoint == "b:2"


@pytest.mark.parametrize(
    ("name", "value"),
    [("MAX_UPLOAD_BYTES", "4GB"), ("S3_SECURE", "maybe"), ("PRESIGN_SECONDS", "1.5")],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_every_setting_has_its_own_variable_and_a_description() -> None:
    fields = dataclasses.fields(Settings)
    names = [f.metadata["env"] for f in fields]
    assert len(names) == len(set(names))
    assert all(f.metadata["doc"] for f in fields)


def test_readme_lists_every_setting() -> None:
    readme = README.read_text(encoding="utf-8")
    for line in settings_table().splitlines()[2:]:
        variable = line.split("|")[1].strip()
        assert variable in readme, f"{variable} is missing from the README's settings table"


@pytest.mark.parametrize("ladder", ["", "720,abc", "720,32"])
def test_a_bad_ladder_is_explained(ladder: str) -> None:
    with pytest.raises(SettingsError, match="RENDITION_LADDER"):
        _ = Settings.from_env({}, rendition_ladder=ladder).ladder


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LOUDNESS_TARGET_LUFS", "-60"),
        ("LOUDNESS_TARGET_LUFS", "0"),
        ("LOUDNESS_TRUE_PEAK_DB", "3"),
    ],
)
def test_loudness_targets_ffmpeg_cannot_reach_are_refused(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})
