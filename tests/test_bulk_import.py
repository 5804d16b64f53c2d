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


WORK_HEADINGS = [*HEADINGS[:-1], "作品类型", "图片文件", "图片说明", "正文文件"]


def work_row(
    title: str, work_type: str, files: str = "", captions: str = "", story: str = ""
) -> list[str]:
    head = [title, "市中心医院护理部青年文明号", "青年文明号集体", "市直单位", "医疗卫生", "王五"]
    return [*head, "13900139000", "care@example.org", "", work_type, files, captions, story]


def picture(path: Path, fmt: str = "JPEG", color: str = "red") -> None:
    from PIL import Image

    Image.new("RGB", (80, 60), color).save(path, fmt)


@pytest.fixture()
def all_types(session: Session) -> Any:
    contest = open_contest(session)
    before = list(contest.work_types)
    contest.work_types = ["video", "photo", "comic", "story"]
    session.commit()
    yield contest
    session.refresh(contest)
    contest.work_types = before
    session.commit()


def test_import_takes_photo_comic_and_story_rows_through_the_upload_checks(
    runner: Any,
    session: Session,
    object_store: ObjectStore,
    settings: Settings,
    tmp_path: Path,
    all_types: Any,
) -> None:
    from PIL import Image

    from judging.pieces import remove_piece
    from storage.models import EntryStatus, WorkType

    organizer = make_user(session, Role.ORGANIZER)
    folder = tmp_path / "usb"
    folder.mkdir()
    picture(folder / "a.jpg")
    picture(folder / "b.png", "PNG", "blue")
    picture(folder / "c.jpg", color="green")
    pages = [Image.new("RGB", (60, 80), c) for c in ("white", "gray")]
    pages[0].save(folder / "book.pdf", "PDF", save_all=True, append_images=pages[1:])
    (folder / "logo.jpg").write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg"/>')
    (folder / "story.txt").write_bytes("第一段：清晨的病房。\r\n\r\n第二段。".encode("gbk"))
    (folder / "html.txt").write_text("<p>带标签的正文</p>", encoding="utf-8")
    titles = [unique(t) for t in ("组照", "漫画", "故事", "假图", "标签", "类型", "无图", "多说明")]
    photo, comic, story, fake, tagged, odd, bare, extra = titles
    with open(folder / "manifest.csv", "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(WORK_HEADINGS)
        writer.writerows(
            [
                work_row(photo, "摄影", "a.jpg; b.png", "晨光；交班"),
                work_row(comic, "漫画", "book.pdf"),
                work_row(story, "职业故事", "c.jpg", "合影", "story.txt"),
                work_row(fake, "摄影", "a.jpg;logo.jpg"),
                work_row(tagged, "职业故事", "", "", "html.txt"),
                work_row(odd, "动画", "a.jpg"),
                work_row(bare, "photo"),
                work_row(extra, "摄影", "a.jpg", "一;二"),
            ]
        )
    args = ["import", str(folder), "--contest", all_types.slug, "--owner", organizer.username]
    out = runner.invoke(args=args).output
    assert "导入 3 件，已存在跳过 0 件，未导入 5 件" in out, out
    assert "第 5 行：logo.jpg 不是照片" in out
    assert "第 6 行：正文不能包含 HTML 标签" in out
    assert "第 7 行：本次征集不接受这种作品类型" in out
    assert "第 8 行：请在“图片文件”一列填写文件名" in out
    assert "第 9 行：“图片说明”有 2 条" in out
    for title in (fake, tagged, odd, bare, extra):
        assert entries_titled(session, all_types.id, title) == []  # nothing half-made

    (photo_entry,) = entries_titled(session, all_types.id, photo)
    assert photo_entry.work_type is WorkType.PHOTO
    assert [(p.filename, p.caption) for p in photo_entry.pieces] == [
        ("a.jpg", "晨光"),
        ("b.png", "交班"),
    ]
    for piece in photo_entry.pieces:
        assert object_store.exists(settings.bucket_originals, piece.source_key)
    assert all(job.published_at is not None for job in photo_entry.jobs)
    (comic_entry,) = entries_titled(session, all_types.id, comic)
    assert [p.filename for p in comic_entry.pieces] == ["book.pdf"]
    (story_entry,) = entries_titled(session, all_types.id, story)
    assert story_entry.story_body == "第一段：清晨的病房。\n\n第二段。"
    assert [p.caption for p in story_entry.pieces] == ["合影"]
    assert story_entry.status is EntryStatus.SUBMITTED

    def counts() -> tuple[int, int, int]:
        session.expire_all()
        return (
            session.scalar(select(func.count()).select_from(Entry)) or 0,
            session.scalar(select(func.count()).select_from(MediaAsset)) or 0,
            session.scalar(select(func.count()).select_from(Job)) or 0,
        )

    before = counts()
    again = runner.invoke(args=args).output
    assert "导入 0 件，已存在跳过 3 件，未导入 5 件" in again
    assert counts() == before
    # A photo removed since (or a run that stopped before it): the next run adds only it.
    remove_piece(session, photo_entry, photo_entry.pieces[1].id)
    resumed = runner.invoke(args=args).output
    assert "导入 1 件，已存在跳过 2 件" in resumed
    session.refresh(photo_entry)
    assert [p.filename for p in photo_entry.pieces] == ["a.jpg", "b.png"]
    assert len(entries_titled(session, all_types.id, photo)) == 1
