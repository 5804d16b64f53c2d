"""Contest set-up from YAML or JSON: every field checked, the contest created or updated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from judging.contest_setup import ContestConfigError, check_config
from judging.rounds import rubric_of
from storage.models import Contest
from tests.factories import unique

YAML = """
slug: {slug}
title: 2026年“中国梦·青春足迹”微视频征集
opens_at: 2026-11-01T00:00:00+08:00
closes_at: 2027-01-31T18:00:00+08:00
blind: true
districts: [历下区, 市中区, 市直单位]
industries: [交通运输, 医疗卫生]
rubric:
  - {{key: theme, name: 主题立意, max_points: 40, step: 1}}
  - {{key: craft, name: 制作, max_points: 60, step: 0.5, weight: 2}}
aggregation: zscore
judges_per_entry: 5
award_tiers:
  - {{name: 一等奖, count: 3}}
  - {{name: 二等奖, share: 0.1}}
jury_weight: 0.7
"""


def test_import_creates_then_updates_a_contest(
    runner: Any, session: Session, tmp_path: Path
) -> None:
    slug = unique("imported-")
    path = tmp_path / "contest.yaml"
    path.write_text(YAML.format(slug=slug), encoding="utf-8")
    result = runner.invoke(args=["contest", "import", str(path)])
    assert result.exit_code == 0, result.output
    contest = session.scalar(select(Contest).where(Contest.slug == slug))
    assert contest is not None and contest.aggregation == "zscore"
    assert contest.judges_per_entry == 5 and contest.jury_weight == 0.7
    assert rubric_of(contest).max_total == 100
    assert contest.closes_at is not None and contest.closes_at.utcoffset() is not None
    again = tmp_path / "update.json"
    again.write_text(json.dumps({"slug": slug, "aggregation": "mean"}), encoding="utf-8")
    assert runner.invoke(args=["contest", "import", str(again)]).exit_code == 0
    session.expire_all()
    assert session.scalar(select(Contest).where(Contest.slug == slug)).aggregation == "mean"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"colour": "red"}, "unknown fields: colour"),
        ({"slug": ""}, "slug: required"),
        ({"closes_at": "2027-01-31 18:00"}, "give a time zone"),
        ({"closes_at": "soon"}, "not an ISO 8601 time"),
        ({"aggregation": "best"}, "aggregation: one of"),
        ({"rubric": [{"key": "a", "name": "A", "max_points": -1}]}, "rubric:"),
        ({"award_tiers": [{"name": "一等奖", "count": 1, "share": 0.1}]}, "either count or share"),
        ({"jury_weight": 1.5}, "jury_weight"),
    ],
)
def test_bad_configurations_name_the_field(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ContestConfigError, match=message):
        check_config({"slug": "x", **change})


def test_a_broken_file_is_refused_clearly(runner: Any, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json", encoding="utf-8")
    result = runner.invoke(args=["contest", "import", str(path)])
    assert result.exit_code != 0 and "broken.json" in result.output
