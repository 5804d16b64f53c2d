"""Contest set-up from YAML or JSON: every field checked, the contest created or updated."""

from __future__ import annotations

import json
from datetime import date
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
        ({"colour": "red"}, "不认识的设置项：colour"),
        ({"slug": ""}, r"slug: 请填写 slug"),
        ({"closes_at": "2027-01-31 18:00"}, "closes_at: 请写明时区"),
        ({"closes_at": "soon"}, "closes_at: 不是 ISO 8601 时间"),
        ({"aggregation": "best"}, "aggregation: 应为 mean、median、trimmed_mean、zscore 之一"),
        (
            {"rubric": [{"key": "a", "name": "A", "max_points": -1}]},
            r"rubric\[0\]\.max_points: 须大于 0",
        ),
        ({"rubric": [{"key": "a", "name": "A", "max_points": "三十"}]}, "请填写数字"),
        ({"rubric": [{"key": "a", "name": "A", "max_points": True}]}, "请填写数字"),
        ({"rubric": [{"key": "a", "name": "A", "max_points": 25, "step": 2}]}, "整数倍"),
        ({"rubric": [{"key": "a", "name": "A", "max_points": 5}] * 21}, "最多 20 项"),
        ({"rubric": []}, "至少需要一项评分标准"),
        ({"award_tiers": [{"name": "一等奖", "count": 1, "share": 0.1}]}, "二者选一"),
        ({"award_tiers": [{"name": "一等奖", "count": 1, "category": "x"}]}, "collective"),
        ({"award_tiers": [{"name": "a", "share": 0.6}, {"name": "b", "share": 0.6}]}, "100%"),
        ({"tie_break": ["nope"]}, r"tie_break\[0\]: “nope”不是评分标准中的代码"),
        ({"jury_weight": 1.5}, "jury_weight: 须在 0 到 1 之间"),
        ({"jury_weight": float("nan")}, "jury_weight: 请填写数字"),
        ({"judges_per_entry": 10**30}, "judges_per_entry: 须在 1 到 20 之间"),
        ({"publicity_starts_on": "2027-02-10", "publicity_ends_on": "2027-02-01"}, "不能早于"),
        ({"publicity_starts_on": "2027-02-10"}, "publicity_ends_on: 请同时填写"),
        ({"objection_email": "x@"}, "objection_email: 电子邮箱格式不正确"),
        ({"title": "t" * 201}, "title: 不能超过 200 个字"),
    ],
)
def test_bad_configurations_name_the_field(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ContestConfigError, match=message):
        check_config({"slug": "x", **change})


def test_every_problem_is_listed_at_once(runner: Any, tmp_path: Path) -> None:
    path = tmp_path / "wrong.json"
    bad = {"slug": unique("wrong-"), "jury_weight": 2, "aggregation": "best", "colour": 1}
    path.write_text(json.dumps(bad), encoding="utf-8")
    result = runner.invoke(args=["contest", "import", str(path)])
    assert result.exit_code != 0
    for problem in ("jury_weight: 须在 0 到 1 之间", "aggregation: 应为", "不认识的设置项：colour"):
        assert problem in result.output


def test_the_publicity_period_and_objection_contact_import(
    runner: Any, session: Session, tmp_path: Path
) -> None:
    slug = unique("publicity-")
    path = tmp_path / "contest.yaml"
    path.write_text(
        YAML.format(slug=slug)
        + "publicity_starts_on: 2027-03-01\npublicity_ends_on: 2027-03-07\n"
        + "objection_office: 团市委创建青年文明号活动组委会办公室\nobjection_contact: 李老师\n"
        + "objection_phone: 0531-86000000\nobjection_email: wmh@example.org\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["contest", "import", str(path)])
    assert result.exit_code == 0, result.output
    contest = session.scalar(select(Contest).where(Contest.slug == slug))
    assert contest is not None
    assert (contest.publicity_starts_on, contest.publicity_ends_on) == (
        date(2027, 3, 1),
        date(2027, 3, 7),
    )
    assert contest.objection_office == "团市委创建青年文明号活动组委会办公室"
    assert contest.objection_phone == "0531-86000000"


def test_a_broken_file_is_refused_clearly(runner: Any, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json", encoding="utf-8")
    result = runner.invoke(args=["contest", "import", str(path)])
    assert result.exit_code != 0 and "broken.json" in result.output
