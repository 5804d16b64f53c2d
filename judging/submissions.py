"""Rules for entries: who may submit, entry numbers, deadlines, and new video uploads."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from judging.messages import N_, Message
from storage.entry_notices import tell_received
from storage.models import (
    AssetKind,
    Contest,
    Entry,
    EntryCategory,
    EntryStatus,
    Job,
    MediaAsset,
    Upload,
    User,
    WorkType,
    utcnow,
)
from storage.objects import StoredObject

# What contestants and organizers call each status (the web translates them).
STATUS_LABELS = {
    EntryStatus.DRAFT: N_("草稿（尚未上传视频）"),
    EntryStatus.SUBMITTED: N_("已提交，排队处理中"),
    EntryStatus.PROCESSING: N_("视频处理中"),
    EntryStatus.READY: N_("已就绪"),
    EntryStatus.REJECTED: N_("视频未通过检查"),
    EntryStatus.FAILED: N_("处理失败"),
    EntryStatus.WITHDRAWN: N_("已撤回"),
}
# Where a photo, comic or story entry's status reads differently (no video in it).
WORK_STATUS_LABELS = {
    EntryStatus.DRAFT: N_("草稿（尚未上传文件）"),
    EntryStatus.PROCESSING: N_("文件处理中"),
    EntryStatus.REJECTED: N_("文件未通过检查"),
}
STORY_DRAFT = N_("草稿（尚未填写正文）")
PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
FIELD_LIMITS = {
    "title": 100,
    "collective": 100,
    "district": 100,
    "industry": 100,
    "contact_name": 50,
    "contact_phone": 30,
    "email": 120,
    "summary": 1000,
}
FIELD_LABELS = {
    "title": N_("作品名称"),
    "collective": N_("集体名称"),
    "category": N_("类别"),
    "district": N_("所属县（市）区或市直单位"),
    "industry": N_("行业"),
    "contact_name": N_("联系人"),
    "contact_phone": N_("联系电话"),
    "email": N_("电子邮箱"),
    "summary": N_("作品简介"),
    "authorized": N_("作品授权声明"),
    "work_type": N_("作品类型"),
}
AUTHORIZATION = N_(
    "本集体保证作品为原创，拥有作品及其中肖像、音乐等素材的使用权；同意主办方在征集、评选、"
    "展播和宣传中以非商业方式使用本作品（包括加注水印、转码、剪辑片段和公开展示）。"
)
REQUIRED = ("title", "collective", "district", "industry", "contact_name", "contact_phone", "email")
YES = {True, "y", "yes", "on", "true", "1"}


def status_label_of(entry: Entry) -> str:
    """The Chinese name of an entry's status, in the words of its work type."""
    if entry.work_type is WorkType.STORY and entry.status is EntryStatus.DRAFT:
        return STORY_DRAFT
    if entry.work_type is not WorkType.VIDEO and entry.status in WORK_STATUS_LABELS:
        return WORK_STATUS_LABELS[entry.status]
    return STATUS_LABELS[entry.status]


class SubmissionError(ValueError):
    """An entry cannot be created or changed; `errors` maps fields to Chinese messages."""

    def __init__(self, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


@dataclass(frozen=True)
class EntryFields:
    title: str
    collective: str
    category: EntryCategory
    district: str
    industry: str
    contact_name: str
    contact_phone: str
    email: str
    summary: str = ""
    work_type: WorkType = WorkType.VIDEO


def read_text_fields(
    data: Mapping[str, object],
    limits: Mapping[str, int],
    labels: Mapping[str, str],
    required: Collection[str],
) -> tuple[dict[str, str], dict[str, str]]:
    """A form's text fields, trimmed, and a Chinese message for each one missing or too
    long; whatever is not text counts as empty."""
    errors: dict[str, str] = {}
    clean: dict[str, str] = {}
    for name, limit in limits.items():
        raw = data.get(name)
        value = raw.strip() if isinstance(raw, str) else ""
        label = labels[name]
        if name in required and not value:
            errors[name] = Message("请填写%(label)s", label=label)
        elif len(value) > limit:
            errors[name] = Message("%(label)s不能超过 %(limit)d 个字", label=label, limit=limit)
        clean[name] = value
    return clean, errors


def contest_work_types(contest: Contest) -> list[WorkType]:
    """The work types the contest accepts, in its order (微视频 when it lists none)."""
    known = {t.value: t for t in WorkType}
    types = [known[v] for v in dict.fromkeys(contest.work_types or []) if v in known]
    return types or [WorkType.VIDEO]


def has_work(entry: Entry) -> bool:
    """Whether the entry holds media or story text, so that its work type is fixed."""
    return bool(entry.jobs or entry.pieces or entry.story_body.strip())


def read_work_type(data: Mapping[str, object], contest: Contest, entry: Entry | None) -> WorkType:
    """The work type a form chose, or SubmissionError (field "work_type") with the reason.

    Absent: the entry's own type, else the contest's only one. A type the contest does not
    take is refused (an entry keeps its type if the contest dropped it later), and an entry
    with media or text keeps its type.
    """
    types = contest_work_types(contest)
    raw = data.get("work_type")
    if not raw:
        if entry is not None:
            return entry.work_type
        if len(types) == 1:
            return types[0]
        raise _type_error(Message("请选择作品类型"))
    chosen = next((t for t in WorkType if t.value == raw), None)
    if chosen is None or (chosen not in types and (entry is None or chosen is not entry.work_type)):
        raise _type_error(Message("本次征集不接受这种作品类型，请从列表中选择"))
    if entry is not None and chosen is not entry.work_type and has_work(entry):
        raise _type_error(
            Message(
                "作品已上传文件或填写了正文，不能再更改作品类型；如需提交其他类型的作品，"
                "请另外提交一件新作品"
            )
        )
    return chosen


def _type_error(message: str) -> SubmissionError:
    return SubmissionError(Message("请修改标红的项目后再提交"), {"work_type": message})


def validate_fields(
    data: dict[str, object], contest: Contest | None = None, entry: Entry | None = None
) -> EntryFields:
    """Check the entry form's fields; raise SubmissionError naming every wrong one.

    With a contest, the district and industry must be among its choices (when it has any),
    the work type among its types (`read_work_type`, given the `entry` being edited) and
    the authorisation statement must be accepted.
    """
    clean, errors = read_text_fields(data, FIELD_LIMITS, FIELD_LABELS, REQUIRED)
    phone = clean["contact_phone"].replace(" ", "")
    if "contact_phone" not in errors and not PHONE.match(phone):
        errors["contact_phone"] = Message("联系电话格式不正确，请填写 11 位手机号或带区号的座机号")
    clean["contact_phone"] = phone
    if "email" not in errors and not EMAIL.match(clean["email"]):
        errors["email"] = Message("电子邮箱格式不正确")
    try:
        category = EntryCategory(str(data.get("category") or ""))
    except ValueError:
        errors["category"] = Message("请选择类别：青年文明号集体或争创集体")
        category = EntryCategory.COLLECTIVE
    if contest is not None:
        for name, choices in (("district", contest.districts), ("industry", contest.industries)):
            if choices and name not in errors and clean[name] not in choices:
                errors[name] = Message("请从列表中选择%(label)s", label=FIELD_LABELS[name])
        if data.get("authorized") not in YES:
            errors["authorized"] = Message("请阅读并同意作品授权声明")
        try:
            work_type = read_work_type(data, contest, entry)
        except SubmissionError as exc:
            errors.update(exc.errors)
    else:
        work_type = entry.work_type if entry is not None else WorkType.VIDEO
    if errors:
        raise SubmissionError(Message("请修改标红的项目后再提交"), errors)
    return EntryFields(category=category, work_type=work_type, **clean)


def current_contest(session: Session) -> Contest | None:
    """The contest that takes submissions now: the newest one."""
    return session.scalar(select(Contest).order_by(Contest.id.desc()).limit(1))


def check_open(contest: Contest, now: datetime | None = None) -> None:
    """Raise SubmissionError unless `contest` takes submissions at `now`."""
    now = now or datetime.now(UTC)
    if contest.opens_at and now < _aware(contest.opens_at):
        raise SubmissionError(Message("征集尚未开始，请在开始后提交"))
    if contest.closes_at and now >= _aware(contest.closes_at):
        raise SubmissionError(Message("征集已截止，作品不能再提交或修改"))


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything we store is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def create_entry(session: Session, contest: Contest, owner: User, fields: EntryFields) -> Entry:
    """Add a draft entry with the next free number, authorisation accepted now; commits."""
    check_open(contest)
    for _ in range(5):
        number = (
            session.scalar(select(func.max(Entry.number)).where(Entry.contest_id == contest.id))
            or 0
        ) + 1
        entry = Entry(
            contest=contest, owner=owner, number=number, authorized_at=utcnow(), **fields.__dict__
        )
        session.add(entry)
        try:
            session.commit()
            return entry
        except IntegrityError:
            # Two entries took the same number at once; the unique constraint caught it.
            session.rollback()
    raise SubmissionError(Message("系统繁忙，请稍后再试"))


def check_changeable(entry: Entry, now: datetime | None = None) -> None:
    """Raise SubmissionError unless the entry may still be edited, replaced or withdrawn."""
    if entry.status is EntryStatus.WITHDRAWN:
        raise SubmissionError(Message("作品已撤回，不能再修改"))
    check_open(entry.contest, now)


def update_entry(session: Session, entry: Entry, fields: EntryFields) -> Entry:
    """Change an entry's fields before the deadline; commits."""
    check_changeable(entry)
    if fields.work_type is not entry.work_type and has_work(entry):
        raise _type_error(Message("作品已上传文件或填写了正文，不能再更改作品类型"))
    for name, value in fields.__dict__.items():
        setattr(entry, name, value)
    clear_return(entry)
    session.commit()
    return entry


def clear_return(entry: Entry) -> None:
    """A sent-back entry the contestant fixed (before the deadline: callers check it first)
    goes back to the organizers' queue as waiting for review."""
    entry.returned_at = None
    entry.return_reason = ""


def withdraw_entry(session: Session, entry: Entry) -> Entry:
    """Withdraw an entry before the deadline; its files stay stored. Commits."""
    check_changeable(entry)
    entry.status = EntryStatus.WITHDRAWN
    session.commit()
    return entry


def original_asset(entry: Entry, stored: StoredObject) -> MediaAsset:
    """The row of an uploaded original (a video, a photo, a comic page or PDF)."""
    return MediaAsset(
        entry=entry,
        kind=AssetKind.ORIGINAL,
        label="original",
        bucket=stored.bucket,
        object_key=stored.key,
        source_key=stored.key,
        content_type="application/octet-stream",
        bytes=stored.bytes,
        sha256=stored.sha256,
    )


def record_original(session: Session, entry: Entry, stored: StoredObject) -> Job:
    """Record an uploaded original and queue a job for it; commits before anyone publishes."""
    check_changeable(entry)
    session.add(original_asset(entry, stored))
    job = Job(entry=entry, source_key=stored.key)
    session.add(job)
    entry.status = EntryStatus.SUBMITTED
    entry.updated_at = utcnow()
    clear_return(entry)
    tell_received(session, entry, job)
    session.commit()
    return job


@dataclass(frozen=True)
class UnfinishedDraft:
    """A draft entry still waiting for its video, and its upload cut off midway if any."""

    entry: Entry
    upload: Upload | None

    @property
    def percent(self) -> int | None:
        return None if self.upload is None else upload_percent(self.upload)


def upload_percent(upload: Upload) -> int:
    """How much of the file the server holds, rounded down (never 100 before the end)."""
    return upload.offset * 100 // max(upload.length, 1)


def pending_uploads(session: Session, entry_ids: Collection[int]) -> dict[int, Upload]:
    """The latest upload of each entry that never completed (a reload or a cut link)."""
    if not entry_ids:
        return {}
    rows = session.scalars(
        select(Upload)
        .where(Upload.entry_id.in_(entry_ids), Upload.completed_at.is_(None))
        .order_by(Upload.updated_at)
    )
    return {upload.entry_id: upload for upload in rows}  # the latest one wins


def unfinished_drafts(session: Session, owner_id: int, contest_id: int) -> list[UnfinishedDraft]:
    """The owner's drafts of the contest without a video yet, newest first.

    A new entry is saved before its video is sent: a reload midway leaves this draft, which
    the form offers to continue rather than letting a second entry start from 0.
    """
    drafts = session.scalars(
        select(Entry)
        .where(
            Entry.owner_id == owner_id,
            Entry.contest_id == contest_id,
            Entry.status == EntryStatus.DRAFT,
        )
        .order_by(Entry.id.desc())
    ).all()
    uploads = pending_uploads(session, [entry.id for entry in drafts])
    return [UnfinishedDraft(entry, uploads.get(entry.id)) for entry in drafts]
