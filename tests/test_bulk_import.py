"""`footprints import DIR`: offline entries in bulk, refusals explained, safe to re-run."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from judging.submissions import EntryFields, create_entry
from storage.models import AssetKind, Entry, EntryCategory, Job, MediaAsset, Role
from storage.objects import ObjectStore
from storage.settings import Settings
from tests.factories import make_user, open_contest, unique
from tests.media import make_clip

pytestmark = pytest.mark.integration

HEADINGS = [
    "作品名称",
    "集体名称",
    "类别",
    "所属县（市）区或市直单位",
    "行业",
    "联系人",
    "联系电话",
]
HEADINGS += ["电子邮箱", "作品简介", "视频文件"]


def row(
    title: str, video: str, phone: str = "13800138000", category: str = "争创集体"
) -> list[str]:
    head = [title, "市交通运输局青年突击队", category, "市直单位", "交通运输", "李四", phone]
    return [*head, "team@example.org", "十年坚守。", video]


def write_manifest(directory: Path, rows: list[list[str]]) -> None:
    with open(directory / "manifest.csv", "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADINGS)
        writer.writerows(rows)


def entries_titled(session: Session, contest_id: int, title: str) -> list[Entry]:
    session.expire_all()
    query = select(Entry).where(Entry.contest_id == contest_id, Entry.title == title)
    return list(session.scalars(query))


def test_import_brings_in_good_rows_explains_the_rest_and_reruns_safely(
    runner: Any, session: Session, object_store: ObjectStore, settings: Settings, tmp_path: Path
) -> None:
    contest = open_contest(session)
    organizer = make_user(session, Role.ORGANIZER)
    folder = tmp_path / "usb"
    (folder / "videos").mkdir(parents=True)
    make_clip(folder / "videos" / "a.mp4", 320, 568, 0.5)
    make_clip(folder / "b.mov", 320, 568, 0.7)
    (folder / "notes.mp4").write_text("这不是视频")
    (tmp_path / "secret.mp4").write_bytes((folder / "b.mov").read_bytes())
    first, second = unique("路上的光"), unique("守护")
    # A run that stopped after creating the entry of `second`, before storing its video.
    fields = EntryFields(
        title=second,
        collective="市交通运输局青年突击队",
        category=EntryCategory.ASPIRING,
        district="市直单位",
        industry="交通运输",
        contact_name="李四",
        contact_phone="13800138000",
        email="team@example.org",
    )
    create_entry(session, contest, organizer, fields)
    write_manifest(
        folder,
        [
            row(first, "videos/a.mp4"),
            row(unique("错号"), "b.mov", phone="12345"),
            row(second, "b.mov"),
            row(unique("缺片"), "missing.mp4"),
            row(unique("假片"), "notes.mp4"),
            row(unique("越界"), "../secret.mp4"),
            row(unique("类别"), "b.mov", category="其他"),
        ],
    )
    args = ["import", str(folder), "--contest", contest.slug, "--owner", organizer.username]
    result = runner.invoke(args=args)
    assert result.exit_code == 1, result.output
    out = result.output
    assert "导入 2 件，已存在跳过 0 件，未导入 5 件" in out
    assert "第 3 行" in out and "联系电话格式不正确" in out
    assert "第 5 行：找不到视频文件 missing.mp4" in out
    assert "第 6 行：notes.mp4 不是视频文件" in out
    assert "第 7 行：视频文件 ../secret.mp4 不在导入目录中" in out
    assert "第 8 行" in out and "请选择类别" in out

    (imported,) = entries_titled(session, contest.id, first)
    assert imported.category is EntryCategory.ASPIRING and imported.owner_id == organizer.id
    assert imported.authorized_at is not None
    (resumed,) = entries_titled(session, contest.id, second)  # the stopped run's entry, reused
    for entry in (imported, resumed):
        (original,) = [a for a in entry.assets if a.kind is AssetKind.ORIGINAL]
        assert object_store.exists(settings.bucket_originals, original.object_key)
        assert len(entry.jobs) == 1 and entry.jobs[0].published_at is not None

    def counts() -> tuple[int, int, int]:
        session.expire_all()
        return (
            session.scalar(select(func.count()).select_from(Entry)) or 0,
            session.scalar(select(func.count()).select_from(MediaAsset)) or 0,
            session.scalar(select(func.count()).select_from(Job)) or 0,
        )

    before = counts()
    again = runner.invoke(args=args)
    assert "导入 0 件，已存在跳过 2 件，未导入 5 件" in again.output
    assert counts() == before


def test_import_says_what_is_wrong_with_the_manifest_itself(
    runner: Any, session: Session, tmp_path: Path
) -> None:
    open_contest(session)
    make_user(session, Role.ORGANIZER)
    result = runner.invoke(args=["import", str(tmp_path)])
    assert result.exit_code != 0 and "manifest.csv" in result.output
    (tmp_path / "manifest.csv").write_text("title,collective\n标题,集体\n", encoding="utf-8")
    result = runner.invoke(args=["import", str(tmp_path)])
    assert result.exit_code != 0 and "视频文件" in result.output
    # Excel on Chinese Windows saves GBK: its headings and row are read (and the row checked).
    (tmp_path / "manifest.csv").write_bytes("作品名称,视频文件\n标题,视频一.mp4\n".encode("gbk"))
    result = runner.invoke(args=["import", str(tmp_path)])
    assert result.exit_code != 0 and "第 2 行：请填写集体名称" in result.output
    (tmp_path / "manifest.csv").write_bytes(b"\x81\xff,\xfe\n")  # neither UTF-8 nor GB18030
    result = runner.invoke(args=["import", str(tmp_path)])
    assert result.exit_code != 0 and "编码无法识别" in result.output and "UTF-8" in result.output
