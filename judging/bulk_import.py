"""Import entries collected offline: a CSV manifest of entry fields plus their files.

Organizers receive entries on USB sticks and by e-mail; `footprints import DIR` brings them in
through the same rules as the web form (fields, contest lists and work types, deadline) and
the same accept path as uploads (`judging.accept`: sniffing by content, limits, store, record,
publish). A row's work type (作品类型) is 微视频 unless it says otherwise; 摄影 and 漫画 rows name
their files in one cell separated by ";" (in that order) with optional captions likewise, and
a 职业故事 row names a text file for its body (UTF-8 or GBK) with optional photos.
Re-running is safe: an entry whose video is already stored is skipped, an entry created by a
run that stopped before its files were stored is picked up again, never duplicated, and a
photo entry gets only the files it does not hold yet.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from judging.accept import Original, StoreUnavailable, accept_original, check_head
from judging.pieces import piece_limit
from judging.stories import StoryError, clean_story, save_story
from judging.submissions import EntryFields, SubmissionError, create_entry, validate_fields
from judging.text_files import TableFileError, decode_text, read_table
from storage.models import AssetKind, Contest, Entry, EntryStatus, Job, MediaAsset, User, WorkType
from storage.objects import ObjectStore, file_sha256, original_key
from storage.settings import Settings
from storage.sniff import HEAD_BYTES

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
    "work_type": ("work_type", "作品类型", "类型"),
    "files": ("files", "图片文件", "图片", "文件"),
    "captions": ("captions", "图片说明", "说明"),
    "story": ("story", "正文文件", "正文"),
}
WORK_TYPE_NAMES = {t.label: t.value for t in WorkType} | {"视频": "video", "照片": "photo"}
# Files and captions in one cell: ";" or "；" between them.
SEPARATOR = re.compile(r"[;；]")
CATEGORY_NAMES = {
    "青年文明号集体": "collective",
    "争创集体": "aspiring",
    "青年文明号争创集体": "aspiring",
}


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
    if not {"video", "files", "story"} & found.keys():
        raise ManifestError(
            "作品清单缺少“视频文件”（video）一列（摄影、漫画作品用“图片文件”，职业故事用“正文文件”）"
        )
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
        work_type = row.fields.get("work_type", "").strip()
        data["work_type"] = WORK_TYPE_NAMES.get(work_type, work_type or "video")
        fields = validate_fields(data, self.contest)
        if fields.work_type.has_pieces:
            return self._import_pieces(row, fields)
        name = row.fields.get("video", "")
        if not name:
            raise _Refused("请在“视频文件”一列填写视频的文件名")
        video = self._file(name, "视频文件 ")
        self._check(video, name, fields.work_type)
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
        queued = self._accept(entry, video, name, digest)
        return self._imported(row, entry, queued)

    def _import_pieces(self, row: ManifestRow, fields: EntryFields) -> Outcome:
        """A 摄影, 漫画 or 职业故事 row: its files (and a story's text) checked before anything
        is created, then stored in the manifest's order, those already stored skipped."""
        names = _split(row.fields.get("files", ""))
        captions = _split(row.fields.get("captions", ""), keep_empty=True)
        if len(captions) > len(names):
            raise _Refused(f"“图片说明”有 {len(captions)} 条，比图片文件（{len(names)} 个）多")
        story = self._story_text(row, fields.work_type)
        if not names and fields.work_type is not WorkType.STORY:
            raise _Refused("请在“图片文件”一列填写文件名，多个文件之间用“;”隔开")
        limit = piece_limit(fields.work_type, self.settings)
        if len(names) > limit:
            raise _Refused(f"文件太多：{len(names)} 个，最多 {limit} 个")
        files = [self._file(name) for name in names]
        for path, name in zip(files, names, strict=True):
            self._check(path, name, fields.work_type)
        entry = self._same_entry(fields) or create_entry(
            self.session, self.contest, self.owner, fields
        )
        held = {piece.source_key for piece in entry.pieces}
        digests = [file_sha256(path) for path in files]
        missing = [
            (path, name, digest, captions[i] if i < len(captions) else "")
            for i, (path, name, digest) in enumerate(zip(files, names, digests, strict=True))
            if self._key(entry, digest) not in held
        ]
        if not missing and story in (None, entry.story_body):
            return Outcome(
                row.line, "skipped", f"已导入过（作品编号 {entry.number:04d}）", entry.number
            )
        if story is not None and story != entry.story_body:
            save_story(self.session, entry, story, self.settings.story_max_chars)
        queued = True
        for path, name, digest, caption in missing:
            queued = self._accept(entry, path, name, digest, caption) and queued
        return self._imported(row, entry, queued)

    def _accept(self, entry: Entry, path: Path, name: str, digest: str, caption: str = "") -> bool:
        with open(path, "rb") as fh:
            original = Original(
                fh, self._key(entry, digest), path.stat().st_size, filename=name, caption=caption
            )
            try:
                _, queued = accept_original(
                    self.session, self.store, self.settings, entry, original, self.publish
                )
            except StoreUnavailable as exc:
                raise _Refused(f"{exc.message}（请稍后重新运行导入）") from exc
        return queued

    @staticmethod
    def _key(entry: Entry, digest: str) -> str:
        return original_key(entry.id, f"import-{digest[:32]}")

    @staticmethod
    def _imported(row: ManifestRow, entry: Entry, queued: bool) -> Outcome:
        note = "" if queued else "（消息队列暂不可用，任务稍后自动发送）"
        return Outcome(
            row.line, "imported", f"已导入，作品编号 {entry.number:04d}{note}", entry.number
        )

    def _file(self, name: str, what: str = "文件 ") -> Path:
        path = (self.directory / name).resolve()
        # The manifest names files inside its own folder, never elsewhere on the disk.
        if not path.is_relative_to(self.directory.resolve()):
            raise _Refused(f"{what}{name} 不在导入目录中")
        if not path.is_file():
            raise _Refused(f"找不到{what.strip()} {name}")
        return path

    def _check(self, path: Path, name: str, work_type: WorkType) -> None:
        """The upload's own checks (empty, kind by content, size), before anything is stored."""
        with open(path, "rb") as fh:
            check_head(fh.read(HEAD_BYTES), name, path.stat().st_size, work_type, self.settings)

    def _story_text(self, row: ManifestRow, work_type: WorkType) -> str | None:
        name = row.fields.get("story", "").strip()
        if work_type is not WorkType.STORY:
            if name:
                raise _Refused(
                    "只有职业故事作品有正文：请清空“正文文件”一列或把作品类型改为职业故事"
                )
            return None
        if not name:
            raise _Refused("职业故事请在“正文文件”一列填写正文的文本文件名（UTF-8 或 GBK 编码）")
        path = self._file(name, "正文文件 ")
        if path.stat().st_size > 1024**2:
            raise _Refused(f"正文文件 {name} 过大：纯文本正文不超过 1 MB")
        try:
            text = decode_text(path.read_bytes())
        except TableFileError as exc:
            raise _Refused(f"正文文件 {name} {exc.message}") from exc
        try:
            body = clean_story(text, self.settings.story_max_chars)
        except StoryError as exc:
            raise _Refused(f"{exc.message}（正文文件 {name}）") from exc
        if not body:
            raise _Refused(f"正文文件 {name} 是空的")
        return body

    def _same_entry(self, fields: EntryFields) -> Entry | None:
        """This row's entry from an earlier run: same owner, title, collective and type."""
        return self.session.scalar(
            select(Entry)
            .where(
                Entry.contest_id == self.contest.id,
                Entry.owner_id == self.owner.id,
                Entry.title == fields.title,
                Entry.collective == fields.collective,
                Entry.work_type == fields.work_type,
                Entry.status != EntryStatus.WITHDRAWN,
            )
            .order_by(Entry.id)
            .limit(1)
        )

    def _unfinished_entry(self, title: str, collective: str) -> Entry | None:
        """An entry a stopped run created for this row but stored no video for."""
        candidates = self.session.scalars(
            select(Entry).where(
                Entry.contest_id == self.contest.id,
                Entry.owner_id == self.owner.id,
                Entry.title == title,
                Entry.collective == collective,
                Entry.status == EntryStatus.DRAFT,
                Entry.work_type == WorkType.VIDEO,
            )
        )
        return next((entry for entry in candidates if not entry.jobs), None)


def _split(cell: str, keep_empty: bool = False) -> list[str]:
    parts = [part.strip() for part in SEPARATOR.split(cell)] if cell.strip() else []
    if keep_empty:
        while parts and not parts[-1]:
            parts.pop()
        return parts
    return [part for part in parts if part]


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
