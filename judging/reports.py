"""活动信息报送: activity reports, their photos and short video, and the office's review.

A collective (a contestant account) reports for itself; a district organizer reports for its
own district, which it cannot change. A report is a draft until submitted; the committee
office adopts it (then it is locked, public and in the monthly export) or returns it with a
reason, after which the reporter may change it and submit again. Every function that changes
something commits; callers publish the files it returns after that.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from judging.messages import Message
from judging.numbers import ascii_int
from judging.submissions import SubmissionError
from storage.models import (
    ActivityReport,
    Contest,
    JobState,
    ReportFile,
    ReportStatus,
    Role,
    User,
    utcnow,
)
from storage.notifications import notify
from storage.objects import StoredObject
from storage.settings import Settings

BEIJING = ZoneInfo("Asia/Shanghai")
TITLE_LIMIT = 100
PLACE_LIMIT = 200
UNIT_LIMIT = 100
BODY_LIMIT = 3000
CAPTION_LIMIT = 200
PARTICIPANTS_LIMIT = 100_000
REASON_LIMIT = 1000
PHOTO, VIDEO = "photo", "video"
# What the sniffer may call a photo (storage.sniff.original_kind); PDFs are not photos.
PHOTO_KINDS = frozenset({"jpeg", "png", "webp", "heif"})
EDITABLE = frozenset({ReportStatus.DRAFT, ReportStatus.RETURNED})
STAFF = frozenset({Role.ORGANIZER, Role.OPERATOR})
REPORTERS = frozenset({Role.CONTESTANT, Role.DISTRICT})
FIELDS = ("title", "held_on", "place", "activity_type", "participants", "body", "district")
FIELDS_MORE = ("unit", "industry")


class ReportError(SubmissionError):
    """A report or file was not created or changed; nothing stored changed."""


def today_in_beijing() -> date:
    """The campaign's calendar day now."""
    return datetime.now(BEIJING).date()


def report_key(report_id: int, upload_id: str) -> str:
    """Where a report file's original is stored (derived_key puts its outputs beside it)."""
    return f"reports/{report_id}/originals/{upload_id}"


# Who may see and change what.


def can_read(user: User, report: ActivityReport) -> bool:
    """The reporter, its district's organizer and the office read a report of any status."""
    if report.owner_id == user.id or user.role in STAFF:
        return True
    return user.role is Role.DISTRICT and bool(user.district) and report.district == user.district


def can_edit(user: User, report: ActivityReport) -> bool:
    """Only the reporter changes a report."""
    return report.owner_id == user.id


def readable_reports(user: User, contest: Contest) -> Select[tuple[ActivityReport]]:
    """The reports of `contest` that `user` sees in their own list, newest first."""
    query = select(ActivityReport).where(ActivityReport.contest_id == contest.id)
    if user.role is Role.DISTRICT and user.district:
        query = query.where(
            (ActivityReport.owner_id == user.id) | (ActivityReport.district == user.district)
        )
    elif user.role not in STAFF:
        query = query.where(ActivityReport.owner_id == user.id)
    return query.order_by(ActivityReport.held_on.desc(), ActivityReport.id.desc())


# The form.


def defaults_for(user: User) -> dict[str, str]:
    """What a new report's form starts with: the reporter's own unit and district."""
    return {
        "unit": user.unit or user.display_name,
        "district": user.district,
        "participants": "0",
    }


def form_of(report: ActivityReport) -> dict[str, str]:
    """A stored report as form values."""
    return {
        "title": report.title,
        "held_on": report.held_on.isoformat(),
        "place": report.place,
        "activity_type": report.activity_type,
        "participants": str(report.participants),
        "body": report.body,
        "district": report.district,
        "unit": report.unit,
        "industry": report.industry,
    }


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def _body(text: str | None) -> str:
    # Plain text with paragraphs: line ends kept, other control characters dropped.
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cleaned = ["".join(c for c in line if c == "\t" or c >= " ").rstrip() for line in lines]
    return "\n".join(cleaned).strip()


def _held_on(text: str, contest: Contest, today: date, errors: dict[str, str]) -> date | None:
    try:
        held = date.fromisoformat(text.strip())
    except ValueError:
        errors["held_on"] = Message("请填写活动日期，格式如 2026-05-04")
        return None
    opens = contest.opens_at.astimezone(BEIJING).date() if contest.opens_at else None
    closes = contest.closes_at.astimezone(BEIJING).date() if contest.closes_at else None
    if held > today:
        errors["held_on"] = Message("活动日期不能晚于今天")
    elif opens and held < opens:
        errors["held_on"] = Message("活动日期不能早于活动开始日 %(day)s", day=opens.isoformat())
    elif closes and held > closes:
        errors["held_on"] = Message("活动日期不能晚于活动截止日 %(day)s", day=closes.isoformat())
    return held


def validate(
    form: Mapping[str, str],
    user: User,
    contest: Contest,
    settings: Settings,
    today: date | None = None,
) -> tuple[dict[str, object], dict[str, str]]:
    """The cleaned values of a report form and the errors by field (empty when valid)."""
    errors: dict[str, str] = {}
    get = form.get
    title = _one_line(get("title"))
    if not title:
        errors["title"] = Message("请填写活动名称")
    elif len(title) > TITLE_LIMIT:
        errors["title"] = Message("活动名称最多 %(n)d 个字", n=TITLE_LIMIT)
    held = _held_on(get("held_on") or "", contest, today or today_in_beijing(), errors)
    place = _one_line(get("place"))
    if not place:
        errors["place"] = Message("请填写活动地点")
    elif len(place) > PLACE_LIMIT:
        errors["place"] = Message("活动地点最多 %(n)d 个字", n=PLACE_LIMIT)
    kind = (get("activity_type") or "").strip()
    if kind not in settings.activity_type_list:
        errors["activity_type"] = Message("请选择活动类型")
    participants = ascii_int(get("participants") or "0", PARTICIPANTS_LIMIT)
    if participants is None:
        errors["participants"] = Message(
            "参与青年人数请填写 0 到 %(n)d 之间的整数", n=PARTICIPANTS_LIMIT
        )
    body = _body(get("body"))
    if not body:
        errors["body"] = Message("请填写活动简介")
    elif len(body) > BODY_LIMIT:
        errors["body"] = Message(
            "活动简介最多 %(n)d 个字，现在 %(count)d 个字", n=BODY_LIMIT, count=len(body)
        )
    district = _district(get("district"), user, contest, errors)
    unit = _one_line(get("unit")) or user.unit or user.display_name
    if len(unit) > UNIT_LIMIT:
        errors["unit"] = Message("报送单位最多 %(n)d 个字", n=UNIT_LIMIT)
    industry = _one_line(get("industry"))
    if industry and contest.industries and industry not in contest.industries:
        errors["industry"] = Message("请从列表中选择行业")
    values: dict[str, object] = {
        "title": title,
        "held_on": held,
        "place": place,
        "activity_type": kind,
        "participants": participants or 0,
        "body": body,
        "district": district,
        "unit": unit[:UNIT_LIMIT],
        "industry": industry[:100],
    }
    return values, errors


def _district(text: str | None, user: User, contest: Contest, errors: dict[str, str]) -> str:
    if user.role is Role.DISTRICT:
        return user.district  # a district organizer reports for its own district only
    district = _one_line(text)
    if not district:
        errors["district"] = Message("请选择所属县（市）区或市直单位")
    elif contest.districts and district not in contest.districts:
        errors["district"] = Message("请从列表中选择所属县（市）区或市直单位")
    elif len(district) > 100:
        errors["district"] = Message("所属县（市）区最多 100 个字")
    return district


def create_report(
    session: Session,
    user: User,
    contest: Contest,
    form: Mapping[str, str],
    settings: Settings,
    today: date | None = None,
) -> ActivityReport:
    """A new draft report from a form; raises ReportError with the errors by field."""
    if user.role not in REPORTERS:
        raise ReportError(Message("只有参赛集体和县区团委可以报送活动"))
    if user.role is Role.DISTRICT and not user.district:
        raise ReportError(Message("您的账号尚未绑定县（市）区，请联系组委会"))
    values, errors = validate(form, user, contest, settings, today)
    if errors:
        raise ReportError(Message("请检查标红的内容"), errors)
    report = ActivityReport(contest_id=contest.id, owner_id=user.id, **values)
    session.add(report)
    session.commit()
    return report


def same_report(
    session: Session, user: User, contest: Contest, form: Mapping[str, str]
) -> ActivityReport | None:
    """The user's report of the same title and date, if any: a form sent again (the back
    button restores what was typed, under a new one-time token) opens it instead of a copy."""
    try:
        held = date.fromisoformat((form.get("held_on") or "").strip())
    except ValueError:
        return None
    return session.scalar(
        select(ActivityReport)
        .where(
            ActivityReport.contest_id == contest.id,
            ActivityReport.owner_id == user.id,
            ActivityReport.title == _one_line(form.get("title")),
            ActivityReport.held_on == held,
        )
        .limit(1)
    )


def check_editable(report: ActivityReport) -> None:
    """Raise ReportError unless the reporter may change the report now."""
    if report.status is ReportStatus.ADOPTED:
        raise ReportError(Message("报送已被采用，不能再修改"))
    if report.status is ReportStatus.SUBMITTED:
        raise ReportError(Message("报送正在审核中；如需修改，请先撤回"))


def update_report(
    session: Session,
    report: ActivityReport,
    user: User,
    form: Mapping[str, str],
    settings: Settings,
    today: date | None = None,
) -> None:
    """Change a draft or returned report; raises ReportError with the errors by field."""
    check_editable(report)
    values, errors = validate(form, user, _contest(session, report), settings, today)
    if errors:
        raise ReportError(Message("请检查标红的内容"), errors)
    for name, value in values.items():
        setattr(report, name, value)
    report.updated_at = utcnow()
    session.commit()


def _contest(session: Session, report: ActivityReport) -> Contest:
    return session.get_one(Contest, report.contest_id)


def submit_report(session: Session, report: ActivityReport) -> None:
    """Send a draft or returned report to the office."""
    check_editable(report)
    refused = [f for f in report.files if f.state in (JobState.REJECTED, JobState.FAILED)]
    if refused:
        raise ReportError(Message("有文件未通过检查，请先删除后再提交"))
    report.status = ReportStatus.SUBMITTED
    report.submitted_at = utcnow()
    session.commit()


def withdraw_report(session: Session, report: ActivityReport) -> None:
    """Take a submitted report back into a draft (to change it before the office decides)."""
    if report.status is not ReportStatus.SUBMITTED:
        raise ReportError(Message("只有审核中的报送可以撤回"))
    report.status = ReportStatus.DRAFT
    session.commit()


# Photos and the video.


def file_kind(sniffed: str | None, looks_like_video: bool, head: bytes = b"") -> str | None:
    """The kind ("photo", "video"; None: refused) of a file's sniffed content and first bytes."""
    if sniffed in PHOTO_KINDS:
        return PHOTO
    # A GIF's "G" is also MPEG-TS's sync byte, all the video sniffer can check of TS.
    if sniffed is None and looks_like_video and not head.startswith(b"GIF8"):
        return VIDEO
    return None


def check_room(report: ActivityReport, kind: str, settings: Settings) -> None:
    """Raise ReportError when the report cannot take one more file of `kind`."""
    check_editable(report)
    if kind == VIDEO and any(f.kind == VIDEO for f in report.files):
        raise ReportError(Message("每份报送只能有一个视频，请先删除原视频"))
    photos = sum(1 for f in report.files if f.kind == PHOTO)
    if kind == PHOTO and photos >= settings.report_max_photos:
        raise ReportError(
            Message("照片最多 %(n)d 张，请先删除不需要的再添加", n=settings.report_max_photos)
        )


def size_limit(kind: str, settings: Settings) -> int:
    """The most bytes a file of `kind` may have."""
    return settings.image_max_bytes if kind == PHOTO else settings.max_upload_bytes


def too_large(kind: str, settings: Settings, name: str) -> Message:
    """The message for a file over its limit."""
    limit = size_limit(kind, settings) // 1024**2
    if kind == PHOTO:
        return Message("「%(name)s」过大：每张照片上限为 %(mb)d MB", name=name, mb=limit)
    return Message("「%(name)s」过大：视频上限为 %(mb)d MB", name=name, mb=limit)


def add_file(
    session: Session,
    report: ActivityReport,
    stored: StoredObject,
    kind: str,
    settings: Settings,
    filename: str = "",
    caption: str = "",
) -> ReportFile:
    """Record a stored original as the report's newest file, queued for processing; commits.

    The report's row is locked first, so two uploads at once cannot both take the last place.
    """
    session.execute(
        select(ActivityReport.id).where(ActivityReport.id == report.id).with_for_update()
    )
    session.refresh(report)
    check_room(report, kind, settings)
    file = ReportFile(
        position=max((f.position for f in report.files), default=0) + 1,
        kind=kind,
        caption=_caption(caption),
        filename=filename[:255],
        bucket=stored.bucket,
        source_key=stored.key,
        bytes=stored.bytes,
        state=JobState.QUEUED,
    )
    report.files.append(file)
    report.updated_at = utcnow()
    session.commit()
    return file


def remove_file(session: Session, report: ActivityReport, file_id: int) -> None:
    """Remove one of the report's files (its objects go with the storage clean-up); commits."""
    check_editable(report)
    file = _file(report, file_id)
    report.files.remove(file)
    report.updated_at = utcnow()
    session.commit()


def set_captions(session: Session, report: ActivityReport, captions: Mapping[int, str]) -> None:
    """Change the captions of the report's files by id (ids not of this report are refused)."""
    check_editable(report)
    for file_id, caption in captions.items():
        _file(report, file_id).caption = _caption(caption)
    report.updated_at = utcnow()
    session.commit()


def _file(report: ActivityReport, file_id: int) -> ReportFile:
    for file in report.files:
        if file.id == file_id:
            return file
    raise ReportError(Message("找不到这个文件，可能已被删除，请刷新页面"))


def _caption(text: str) -> str:
    caption = _one_line(text)
    if len(caption) > CAPTION_LIMIT:
        raise ReportError(Message("照片说明最多 %(n)d 个字", n=CAPTION_LIMIT))
    return caption


# The office's review.


def _check_reviewable(reviewer: User, report: ActivityReport) -> None:
    if reviewer.role is not Role.ORGANIZER:
        raise ReportError(Message("只有组委会办公室可以审核报送"))
    if report.status is not ReportStatus.SUBMITTED:
        raise ReportError(Message("这份报送不在审核中（可能已被处理或已撤回），请刷新页面"))


def adopt_report(session: Session, report: ActivityReport, reviewer: User) -> None:
    """采用: the report is locked, shown on the public timeline and exported; tells the reporter."""
    _check_reviewable(reviewer, report)
    _decide(session, report, reviewer, ReportStatus.ADOPTED, "")
    _tell(session, report, "report_adopted")
    session.commit()


def return_report(session: Session, report: ActivityReport, reviewer: User, reason: str) -> None:
    """退回 with a reason: the reporter may change and submit again; tells the reporter."""
    _check_reviewable(reviewer, report)
    text = _body(reason)
    if not text:
        raise ReportError(Message("请填写退回原因"), {"reason": Message("请填写退回原因")})
    if len(text) > REASON_LIMIT:
        message = Message("退回原因最多 %(n)d 个字", n=REASON_LIMIT)
        raise ReportError(message, {"reason": message})
    _decide(session, report, reviewer, ReportStatus.RETURNED, text)
    _tell(session, report, "report_returned")
    session.commit()


def _decide(
    session: Session, report: ActivityReport, reviewer: User, status: ReportStatus, reason: str
) -> None:
    report.status = status
    report.review_reason = reason
    report.reviewed_by_id = reviewer.id
    report.reviewed_at = utcnow()
    session.flush()


def _tell(session: Session, report: ActivityReport, kind: str) -> None:
    owner = session.get_one(User, report.owner_id)
    reviewed = report.reviewed_at.isoformat() if report.reviewed_at else ""
    notify(
        session,
        kind,
        owner,
        f"report-{report.id}-{reviewed}",
        {"report_id": report.id, "reviewed_at": reviewed},
    )
