"""Import entries collected offline: a CSV manifest of entry fields plus the video files.

Organizers receive entries on USB sticks and by e-mail; `footprints import DIR` brings them in
through the same rules as the web form (fields, contest lists, deadline, video sniffing).
Re-running is safe: an entry whose video is already stored is skipped, and an entry created
by a run that stopped before its video was stored is picked up again, never duplicated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from judging.submissions import (
    SubmissionError,
    create_entry,
    record_original,
    validate_fields,
)
from judging.text_files import TableFileError, read_table
from storage.models import AssetKind, Contest, Entry, EntryStatus, Job, MediaAsset, User
from storage.objects import ObjectStore, ObjectStoreError, file_sha256, original_key
from storage.settings import Settings
from worker.media.sniff import looks_like_video

MANIFEST = "manifest.csv"
# Each field accepts its English name or the Chinese heading of the paper form.
HEADINGS = {
    "title": ("title", "作品名称"),
    "collective": ("collective", "集体名称"),
    "category": ("category", "类别"),
    "district": ("district", "所属县（市）区或市直单位", "所属县(市)区或市直单位", "所属区县"),
    "industry": ("industry", "行业"),
    "contact_name": ("contact_name", "联系人"),
    "contact_phone": ("contact_phone", "联系电话"),
    "email": ("email", "电子邮箱"),
    "summary": ("summary", "作品简介", "简介"),
    "video": ("video", "视频文件", "视频"),
}
CATEGORY_NAMES = {
    "青年文明号集体": "collective",
    "争创集体": "aspiring",
    "青年文明号争创集体": "aspiring",
}
HEAD_BYTES = 64


class ManifestError(ValueError):
    """The manifest cannot be read at all (missing, not CSV, no video column)."""


@dataclass(frozen=True)
class ManifestRow:
    line: int  # the CSV line, as organizers see it in a spreadsheet
    fields: dict[str, str]


@dataclass(frozen=True)
class Outcome:
    line: int
    status: str  # imported, skipped or refused
    message: str
    entry_number: int | None = None


def read_manifest(directory: Path) -> list[ManifestRow]:
    """The manifest's rows with fields under their English names. The CSV may be saved as
    UTF-8 (with or without BOM) or GBK/GB18030, as Excel and WPS save it (`judging.text_files`)."""
    path = directory / MANIFEST
    if not path.is_file():
        raise ManifestError(f"{path} 不存在：请把作品清单保存为 CSV 文件 {MANIFEST}")
    try:
        table = read_table(path.read_bytes())
    except TableFileError as exc:
        raise ManifestError(f"{path} 无法读取：{exc.message}") from exc
    names = _columns(table[0].cells if table else [])

    def cell(cells: list[str], index: int) -> str:
        return cells[index] if index < len(cells) else ""

    return [
        ManifestRow(row.line, {name: cell(row.cells, index) for name, index in names.items()})
        for row in table[1:]
    ]


def _columns(headings: Sequence[str]) -> dict[str, int]:
    """Which column holds each field."""
    found = {}
    for name, aliases in HEADINGS.items():
        for index, heading in enumerate(headings):
            if heading and heading.strip().lower() in aliases:
                found[name] = index
                break
    if "video" not in found:
        raise ManifestError("作品清单缺少“视频文件”（video）一列")
    return found


@dataclass
class Importer:
    """Import manifest rows into one contest, owned by one organizer account."""

    session: Session
    store: ObjectStore
    settings: Settings
    contest: Contest
    owner: User
    directory: Path
    publish: Callable[[Session, Job], bool]

    def run(self, row: ManifestRow) -> Outcome:
        """Import one row; every refusal says what to fix, and nothing stored is lost."""
        try:
            return self._import(row)
        except SubmissionError as exc:
            # The form's "fix the fields marked red" means nothing here: name the fields.
            return Outcome(row.line, "refused", "；".join(exc.errors.values()) or exc.message)
        except _Refused as exc:
            return Outcome(row.line, "refused", str(exc))

    def _import(self, row: ManifestRow) -> Outcome:
        data: dict[str, object] = {**row.fields, "authorized": "yes"}
        category = row.fields.get("category", "").strip()
        data["category"] = CATEGORY_NAMES.get(category, category or "collective")
        fields = validate_fields(data, self.contest)
        video = self._video(row.fields.get("video", ""))
        digest = file_sha256(video)
        same_video = self.session.scalar(
            select(Entry)
            .join(MediaAsset, MediaAsset.entry_id == Entry.id)
            .where(
                Entry.contest_id == self.contest.id,
                Entry.status != EntryStatus.WITHDRAWN,
                MediaAsset.kind == AssetKind.ORIGINAL,
                MediaAsset.sha256 == digest,
            )
        )
        if same_video is not None:
            return Outcome(
                row.line,
                "skipped",
                f"已导入过（作品编号 {same_video.number:04d}）",
                same_video.number,
            )
        entry = self._unfinished_entry(fields.title, fields.collective) or create_entry(
            self.session, self.contest, self.owner, fields
        )
        key = original_key(entry.id, f"import-{digest[:32]}")
        try:
            with open(video, "rb") as fh:
                stored = self.store.put_stream(
                    self.settings.bucket_originals, key, fh, "application/octet-stream"
                )
        except ObjectStoreError as exc:
            raise _Refused(f"存储服务暂时不可用，视频未保存，请稍后重新运行导入：{exc}") from exc
        job = record_original(self.session, entry, stored)
        queued = self.publish(self.session, job)
        note = "" if queued else "（消息队列暂不可用，任务稍后自动发送）"
        return Outcome(
            row.line, "imported", f"已导入，作品编号 {entry.number:04d}{note}", entry.number
        )

    def _video(self, name: str) -> Path:
        if not name:
            raise _Refused("请在“视频文件”一列填写视频的文件名")
        path = (self.directory / name).resolve()
        # The manifest names files inside its own folder, never elsewhere on the disk.
        if not path.is_relative_to(self.directory.resolve()):
            raise _Refused(f"视频文件 {name} 不在导入目录中")
        if not path.is_file():
            raise _Refused(f"找不到视频文件 {name}")
        size = path.stat().st_size
        if size == 0:
            raise _Refused(f"视频文件 {name} 是空的")
        if size > self.settings.max_upload_bytes:
            limit = self.settings.max_upload_bytes // 1024**2
            raise _Refused(f"视频文件 {name} 过大：上限为 {limit} MB")
        with open(path, "rb") as fh:
            if not looks_like_video(fh.read(HEAD_BYTES)):
                raise _Refused(f"{name} 不是视频文件，请提供 MP4、MOV 等格式的视频")
        return path

    def _unfinished_entry(self, title: str, collective: str) -> Entry | None:
        """An entry a stopped run created for this row but stored no video for."""
        candidates = self.session.scalars(
            select(Entry).where(
                Entry.contest_id == self.contest.id,
                Entry.owner_id == self.owner.id,
                Entry.title == title,
                Entry.collective == collective,
                Entry.status == EntryStatus.DRAFT,
            )
        )
        return next((entry for entry in candidates if not entry.jobs), None)


class _Refused(Exception):
    """One row cannot be imported; the message says why, in Chinese."""


def summary(outcomes: list[Outcome]) -> str:
    """Counts, then every refused row with its reason (for the terminal)."""
    counts = {
        status: sum(o.status == status for o in outcomes)
        for status in ("imported", "skipped", "refused")
    }
    imported, skipped, refused = counts["imported"], counts["skipped"], counts["refused"]
    lines = [
        f"导入 {imported} 件，已存在跳过 {skipped} 件，未导入 {refused} 件"
        f" (imported {imported}, skipped {skipped}, refused {refused})"
    ]
    lines += [f"  第 {o.line} 行：{o.message}" for o in outcomes if o.status == "refused"]
    return "\n".join(lines)
