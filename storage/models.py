"""The database tables: users, contests, entries, their media assets and media jobs, activity
reports and their files."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC time on every database (SQLite hands back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    # Named constraints, so Alembic migrations work the same on PostgreSQL and SQLite.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


def _enum(kind: type[enum.Enum]) -> Enum:
    # Store the readable value ("running"), not the member name, as a plain string column.
    return Enum(kind, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class Role(enum.StrEnum):
    CONTESTANT = "contestant"
    JUDGE = "judge"
    ORGANIZER = "organizer"
    OPERATOR = "operator"
    # A county or district league committee (县区团委) or a city-level league organisation
    # (市直属团组织): bound by `User.district` to the entries and reports of its own collectives.
    DISTRICT = "district"


class EntryStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    PROCESSING = "processing"
    READY = "ready"
    REJECTED = "rejected"
    FAILED = "failed"
    WITHDRAWN = "withdrawn"


CATEGORY_LABELS = {"collective": "青年文明号集体", "aspiring": "争创集体"}


class EntryCategory(enum.StrEnum):
    COLLECTIVE = "collective"  # 青年文明号集体
    ASPIRING = "aspiring"  # 青年文明号争创集体

    @property
    def label(self) -> str:
        """The category's Chinese name (the web translates it)."""
        return CATEGORY_LABELS[self.value]


WORK_TYPE_LABELS = {"video": "微视频", "photo": "摄影", "comic": "漫画", "story": "职业故事"}


class WorkType(enum.StrEnum):
    """What kind of work an entry is; a contest lists the ones it accepts."""

    VIDEO = "video"  # 微视频: one video original
    PHOTO = "photo"  # 摄影: 1 to PHOTO_MAX_PER_ENTRY photos, in order, each with a caption
    COMIC = "comic"  # 漫画: pages (images, or one PDF rasterised page by page)
    STORY = "story"  # 职业故事: a plain-text body, with optional photos

    @property
    def label(self) -> str:
        """The work type's Chinese name (the web translates it)."""
        return WORK_TYPE_LABELS[self.value]

    @property
    def has_pieces(self) -> bool:
        """Its media are pieces (`EntryPiece`, images or PDF pages), not one video."""
        return self is not WorkType.VIDEO


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    READY = "ready"
    REJECTED = "rejected"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self is not JobState.QUEUED and self is not JobState.RUNNING


class AssetKind(enum.StrEnum):
    ORIGINAL = "original"
    RENDITION = "rendition"
    POSTER = "poster"
    STORYBOARD = "storyboard"
    STORYBOARD_VTT = "storyboard_vtt"
    # A gallery entry's share poster (worker/share.py); a plain string column, no migration.
    SHARE_POSTER = "share_poster"
    # A piece's image at one size: label "<page>_<long side>", e.g. "001_1080" (page 1 for a
    # photo; a PDF's pages count from 1), keyed by derived_key(piece key, "001_1080.jpg").
    IMAGE = "image"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum(Role))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A judge's own unit and district: entries from them are conflicts.
    unit: Mapped[str] = mapped_column(String(100), default="", server_default="")
    district: Mapped[str] = mapped_column(String(100), default="", server_default="")
    # How the committee reaches a judge (invitations, reminders); contestants' are on entries.
    phone: Mapped[str] = mapped_column(String(30), default="", server_default="")
    email: Mapped[str] = mapped_column(String(120), default="", server_default="")
    # Wrong passwords in a row, and the lock-out they caused (judging/accounts.py).
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Bumped by logout, password change and reset: sessions signed with an older one end.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The language mail and SMS are written in: the one the user last chose on the site.
    language: Mapped[str] = mapped_column(String(8), default="zh_CN", server_default="zh_CN")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Contest(Base):
    __tablename__ = "contests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    opens_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closes_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    blind: Mapped[bool] = mapped_column(Boolean, default=True)
    # The choices of the entry form; an empty list lets contestants type their own.
    districts: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    industries: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    # When the organizer published the public gallery (None: not public).
    gallery_published_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    public_vote: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Judging: the rubric (a list of criteria), how scores aggregate, panels and awards.
    rubric: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default="[]")
    aggregation: Mapped[str] = mapped_column(
        String(30), default="trimmed_mean", server_default="trimmed_mean"
    )
    trim_min_panel: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    judges_per_entry: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    award_tiers: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, server_default="[]"
    )
    jury_weight: Mapped[float] = mapped_column(Float, default=1.0, server_default="1")
    disagreement: Mapped[float] = mapped_column(Float, default=20.0, server_default="20")
    # When a judge sees the other judges' scores of an entry: after submitting their own
    # ("after_submit"), only once the round closes ("after_close"), or "never".
    reveal_scores: Mapped[str] = mapped_column(
        String(20), default="after_submit", server_default="after_submit"
    )
    # Automatic conflicts: a judge's own "unit" and/or "district" against the entry's.
    auto_conflicts: Mapped[list[str]] = mapped_column(
        JSON, default=lambda: ["unit", "district"], server_default='["unit", "district"]'
    )
    # Criteria keys that break ties in order (higher mean first), before the smaller spread.
    tie_break: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    # The gallery shows nothing until the last round is closed and its 公示 published, so a
    # judge can never look an entry up there (judging/gallery.py).
    gallery_after_judging: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # The 公示期 and who takes objections during it: shown on the 公示 and in its exports.
    publicity_starts_on: Mapped[date | None] = mapped_column(Date)
    publicity_ends_on: Mapped[date | None] = mapped_column(Date)
    objection_office: Mapped[str] = mapped_column(String(100), default="", server_default="")
    objection_contact: Mapped[str] = mapped_column(String(50), default="", server_default="")
    objection_phone: Mapped[str] = mapped_column(String(30), default="", server_default="")
    objection_email: Mapped[str] = mapped_column(String(120), default="", server_default="")
    # The work types the entry form offers (WorkType values), in the order it shows them.
    work_types: Mapped[list[str]] = mapped_column(
        JSON, default=lambda: ["video"], server_default='["video"]'
    )
    # A rubric per work type where one differs from `rubric` ({"photo": [criteria...]}).
    rubrics_by_type: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    # Ranking and awards within each work type instead of across the contest.
    results_by_type: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # 逐级推荐: city review and judging take only entries their district organizer recommended.
    recommendation_required: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default="0"
    )
    # How many entries each district (or city-level organisation) may recommend, by name.
    district_quotas: Mapped[dict[str, int]] = mapped_column(JSON, default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    entries: Mapped[list[Entry]] = relationship(back_populates="contest")


class Entry(Base):
    __tablename__ = "entries"
    __table_args__ = (UniqueConstraint("contest_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The entry number shown in the watermark and to judges; unique within a contest.
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(100))  # 作品名称
    collective: Mapped[str] = mapped_column(String(100))  # 集体名称
    category: Mapped[EntryCategory] = mapped_column(
        _enum(EntryCategory), default=EntryCategory.COLLECTIVE, server_default="collective"
    )  # 类别
    district: Mapped[str] = mapped_column(String(100))  # 所属县（市）区或市直单位
    industry: Mapped[str] = mapped_column(String(100))  # 行业
    contact_name: Mapped[str] = mapped_column(String(50))  # 联系人
    contact_phone: Mapped[str] = mapped_column(String(30))  # 联系电话
    email: Mapped[str] = mapped_column(String(120), default="", server_default="")  # 电子邮箱
    summary: Mapped[str] = mapped_column(Text, default="")  # 简介
    # When the contact person accepted the authorisation statement (作品授权声明).
    authorized_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # When the organizer approved the entry for the public gallery.
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # When the organizer sent the entry back, and why (the contestant sees the reason and may
    # fix the entry before the deadline; fixing it clears both).
    returned_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    return_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    status: Mapped[EntryStatus] = mapped_column(_enum(EntryStatus), default=EntryStatus.DRAFT)
    # The technical quality report of the processed video: warnings with kind, start, end
    # and a Chinese sentence; shown to the contestant and organizers, never to judges.
    qc: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default="[]")
    # Measured and target loudness of the processed video's sound (empty: no sound).
    loudness: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    work_type: Mapped[WorkType] = mapped_column(
        _enum(WorkType), default=WorkType.VIDEO, server_default="video"
    )
    # 职业故事: the text, plain with blank-line paragraphs (never HTML).
    story_body: Mapped[str] = mapped_column(Text, default="", server_default="")
    # 逐级推荐: what the district organizer decided ("", "recommended", "declined"), why,
    # who and when; every change is also a Decision row.
    district_decision: Mapped[str] = mapped_column(String(20), default="", server_default="")
    district_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    district_decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    district_decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)

    contest: Mapped[Contest] = relationship(back_populates="entries")
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    pieces: Mapped[list[EntryPiece]] = relationship(
        back_populates="entry", order_by="EntryPiece.position", cascade="all, delete-orphan"
    )
    assets: Mapped[list[MediaAsset]] = relationship(
        back_populates="entry", order_by="MediaAsset.id"
    )
    jobs: Mapped[list[Job]] = relationship(back_populates="entry", order_by="Job.id")

    def latest_job(self) -> Job | None:
        return self.jobs[-1] if self.jobs else None

    def follow(self, job: Job, status: EntryStatus) -> None:
        """Take `status` from `job` if it is the newest job; a withdrawn entry stays so."""
        if self.status is not EntryStatus.WITHDRAWN and self.latest_job() is job:
            self.status = status

    def assets_from(self, source_key: str, kind: AssetKind) -> list[MediaAsset]:
        """The assets of a kind made from the original at `source_key`."""
        return [a for a in self.assets if a.kind == kind and a.source_key == source_key]


class EntryPiece(Base):
    """One original of a photo, comic or story entry: a photo, a comic page or a comic PDF.

    Its images are MediaAsset rows of kind IMAGE whose source_key is the piece's key.
    """

    __tablename__ = "entry_pieces"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1, 2, ... the order of a 组照 or comic
    caption: Mapped[str] = mapped_column(String(200), default="", server_default="")
    source_key: Mapped[str] = mapped_column(String(512), unique=True)  # its original's key
    filename: Mapped[str] = mapped_column(String(255), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    entry: Mapped[Entry] = relationship(back_populates="pieces")


class MediaAsset(Base):
    __tablename__ = "media_assets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), index=True)
    kind: Mapped[AssetKind] = mapped_column(_enum(AssetKind))
    label: Mapped[str] = mapped_column(String(40), default="")
    bucket: Mapped[str] = mapped_column(String(63))
    # Deterministic keys make a redelivered task overwrite, never duplicate.
    object_key: Mapped[str] = mapped_column(String(512), unique=True)
    # The original an asset was made from (its own key for an original).
    source_key: Mapped[str] = mapped_column(String(512), default="")
    content_type: Mapped[str] = mapped_column(String(100))
    bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    duration: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    entry: Mapped[Entry] = relationship(back_populates="assets")


class Job(Base):
    """One media job: a person can read its state, progress and reason at any time."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), index=True)
    # The original this job processes; the job's outputs are keyed by it.
    source_key: Mapped[str] = mapped_column(String(512))
    state: Mapped[JobState] = mapped_column(_enum(JobState), default=JobState.QUEUED, index=True)
    percent: Mapped[float] = mapped_column(Float, default=0.0)
    eta_seconds: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text, default="")
    # A short stable code for the reason ("too_long", "ffmpeg", "cancelled"), for counting.
    reason_code: Mapped[str] = mapped_column(String(40), default="", server_default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The Celery task id of the newest message sent for this job (to revoke it).
    task_id: Mapped[str | None] = mapped_column(String(64))
    # The worker node that last started the job ("name@host").
    worker: Mapped[str] = mapped_column(String(255), default="", server_default="")
    # Seconds of video the job made ready, for throughput in video minutes per hour.
    media_seconds: Mapped[float | None] = mapped_column(Float)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)

    entry: Mapped[Entry] = relationship(back_populates="jobs")

    # Every change of a job's state is one of these methods; none commits. The entry takes
    # the job's state only when the job is its newest (Entry.follow).

    def start(self, worker: str, max_attempts: int) -> bool:
        """Run on `worker`; False (nothing changed) once it has been started `max_attempts` times.

        A file that kills its worker comes back again and again through late acknowledgement:
        the caller gives such a job up.
        """
        if self.attempts >= max_attempts:
            return False
        self.state = JobState.RUNNING
        self.attempts += 1
        self.percent = 0.0
        self.eta_seconds = None
        self.reason = ""
        self.reason_code = ""
        self.worker = worker
        self.started_at = utcnow()
        self.entry.follow(self, EntryStatus.PROCESSING)
        return True

    def finish(
        self,
        state: JobState,
        reason: str = "",
        code: str = "",
        media_seconds: float | None = None,
        entry_status: EntryStatus | None = None,
    ) -> bool:
        """Record a run's outcome (QUEUED: to be retried after a passing fault).

        False (nothing changed) when an operator cancelled the job meanwhile. The entry takes
        the state's status unless `entry_status` says otherwise.
        """
        if self.state is JobState.CANCELLED:
            return False
        self.state = state
        self.reason = reason
        self.reason_code = code
        self.media_seconds = media_seconds
        self.eta_seconds = None
        if state.finished:
            self.finished_at = utcnow()
        elif state is JobState.QUEUED and self.attempts > 0:
            # Retried after a passing fault (S3 or the database away): that start did not
            # crash, so it does not use up one of MAX_ATTEMPTS; TASK_MAX_RETRIES bounds these.
            self.attempts -= 1
        if state is JobState.READY:
            self.percent = 100.0
        self.entry.follow(self, entry_status or _ENTRY_STATUS_AFTER[state])
        return True

    def requeue(self, reason: str) -> None:
        """Run again from the start (an operator's retry): attempts and progress reset."""
        self.state = JobState.QUEUED
        self.attempts = 0
        self.percent = 0.0
        self.eta_seconds = None
        self.reason = reason
        self.reason_code = ""
        self.finished_at = None
        self.published_at = None
        self.entry.follow(self, EntryStatus.SUBMITTED)

    def requeue_stalled(self, reason: str) -> None:
        """Queue again, unsent, after its worker stopped reporting; the start still counts."""
        self.state = JobState.QUEUED
        self.published_at = None
        self.reason = reason
        self.reason_code = "stalled"

    def cancel(self, reason: str) -> bool:
        """Stop by an operator's decision; False (nothing changed) when already finished."""
        if self.state.finished:
            return False
        self._end(JobState.CANCELLED, reason, "cancelled")
        return True

    def give_up(self, reason: str) -> None:
        """Fail after too many starts (its file keeps killing workers)."""
        self._end(JobState.FAILED, reason, "gave_up")

    def _end(self, state: JobState, reason: str, code: str) -> None:
        self.state = state
        self.reason = reason
        self.reason_code = code
        self.eta_seconds = None
        self.finished_at = utcnow()
        self.entry.follow(self, EntryStatus.FAILED)


# The status an entry takes from its newest job's outcome (Job.finish).
_ENTRY_STATUS_AFTER = {
    JobState.READY: EntryStatus.READY,
    JobState.REJECTED: EntryStatus.REJECTED,
    JobState.FAILED: EntryStatus.FAILED,
    JobState.QUEUED: EntryStatus.PROCESSING,
}


class WorkerNode(Base):
    """A Celery worker node as it last announced itself; the ops page pings it for liveness."""

    __tablename__ = "worker_nodes"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)  # "name@host"
    pid: Mapped[int] = mapped_column(Integer, default=0)
    concurrency: Mapped[int] = mapped_column(Integer, default=1)
    queues: Mapped[str] = mapped_column(String(500), default="")
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # The last time it answered a ping (the sweeper pings every sweep).
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # Set when it shut down cleanly; a node that stops answering without it was lost.
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Upload(Base):
    """A resumable upload in progress: S3 multipart parts arriving chunk by chunk."""

    __tablename__ = "uploads"

    # Random and unguessable: the upload's URL is its only handle.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    length: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    chunk_bytes: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255), default="")
    bucket: Mapped[str] = mapped_column(String(63))
    object_key: Mapped[str] = mapped_column(String(512))
    s3_upload_id: Mapped[str] = mapped_column(String(1024))
    etags: Mapped[list[str]] = mapped_column(JSON, default=list)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime(), default=utcnow, onupdate=utcnow, index=True
    )

    entry: Mapped[Entry] = relationship()


class UploadStart(Base):
    """One upload a user began (form, API or resumable): the upload rate limit counts these.

    Kept in the database so every web process counts the same budget.
    """

    __tablename__ = "upload_starts"
    __table_args__ = (Index("ix_upload_starts_user_id_created_at", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Vote(Base):
    """One public vote: a logged-in user for an entry on one day (Beijing time)."""

    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("entry_id", "voter_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), index=True)
    voter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)


class Round(Base):
    """A judging round (初评, 复评, 终评); scores lock when it closes."""

    __tablename__ = "rounds"
    __table_args__ = (UniqueConstraint("contest_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    position: Mapped[int] = mapped_column(Integer)
    # Which entries of the previous round go on: {"top": N}, {"share": 0.3} or
    # {"pick": [entry numbers]}; empty for the first round (every ready entry).
    advance: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # When judges are asked to finish by (评审截止时间): reminders go out before it. The
    # round still closes only when an organizer closes it.
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    contest: Mapped[Contest] = relationship()


class Invitation(Base):
    """A judge invited to a round; a round with none takes every active judge."""

    __tablename__ = "invitations"
    __table_args__ = (UniqueConstraint("round_id", "judge_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    judge_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class Assignment(Base):
    """A judge assigned to an entry in a round."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("round_id", "judge_id", "entry_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    judge_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"))

    entry: Mapped[Entry] = relationship()


class BlindCode(Base):
    """An entry's anonymous code in one round (`A-017`): judges see and use it instead of the
    entry's id and number, which lead to the public gallery. Drawn at random, kept per round."""

    __tablename__ = "blind_codes"
    __table_args__ = (
        UniqueConstraint("entry_id", "round_id"),
        UniqueConstraint("round_id", "code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"))
    code: Mapped[str] = mapped_column(String(12))


class Conflict(Base):
    """A judge who must never see an entry: declared, set by the organizer, or automatic."""

    __tablename__ = "conflicts"
    __table_args__ = (UniqueConstraint("judge_id", "entry_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    judge_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"))
    reason: Mapped[str] = mapped_column(String(20))  # declared, organizer, automatic


class Score(Base):
    """One judge's scores for one entry in one round: a draft until submitted."""

    __tablename__ = "scores"
    __table_args__ = (UniqueConstraint("round_id", "judge_id", "entry_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    judge_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), index=True)
    values: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    total: Mapped[float | None] = mapped_column(Float)
    comment: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Set when an organizer reopens the score (in a closed round, or after the judge saw the
    # others' scores); the judge's next submission uses it up.
    unlocked: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the judge was first shown the other judges' scores of the entry: from then on the
    # submitted score is final unless an organizer unlocks it (judging/scoring.py).
    others_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)


class ScoreChange(Base):
    """The history of a score: who changed what, when and from where."""

    __tablename__ = "score_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    score_id: Mapped[int] = mapped_column(ForeignKey("scores.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(20))  # draft, submit, unlock
    address: Mapped[str] = mapped_column(String(64), default="")
    old: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    new: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Snapshot(Base):
    """A published 公示: frozen results with their hash; never changed after publishing."""

    __tablename__ = "snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id"), index=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    method: Mapped[str] = mapped_column(String(30))
    content: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class TokenPurpose(enum.StrEnum):
    ACTIVATE = "activate"  # a judge's invitation: the account's first password
    RESET = "reset"  # a forgotten password, asked for on /auth/forgot


class ActivationToken(Base):
    """A one-time link that lets an account set its own password: a judge's invitation, or a
    forgotten password's reset (`purpose`).

    Only the SHA-256 of the token is kept: the link is mailed, and an invitation's is shown
    to the organizer once; a new link of the same purpose revokes the old one.
    """

    __tablename__ = "activation_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(
        String(12), default=TokenPurpose.ACTIVATE, server_default=TokenPurpose.ACTIVATE.value
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class Decision(Base):
    """An organizer's or operator's explicit decision to go on despite what was unresolved:
    closing a round with short panels, publishing over a boundary tie, cancelling a job."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contest_id: Mapped[int | None] = mapped_column(ForeignKey("contests.id"), index=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id"))
    kind: Mapped[str] = mapped_column(String(30))  # close_round, publish, cancel_job
    subject: Mapped[str] = mapped_column(String(100), default="", server_default="")
    # What the confirmation page listed, as Chinese sentences, kept as shown.
    unresolved: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ReportStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"  # waiting for the committee office
    ADOPTED = "adopted"  # 采用: shown on the public timeline, in the monthly export
    RETURNED = "returned"  # 退回, with a reason; the reporter may change and resubmit


class ActivityReport(Base):
    """活动信息报送: an activity a collective or a district organizer reports to the office."""

    __tablename__ = "activity_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    unit: Mapped[str] = mapped_column(String(100))  # the collective (or organisation) reporting
    district: Mapped[str] = mapped_column(String(100), index=True)
    industry: Mapped[str] = mapped_column(String(100), default="", server_default="")
    title: Mapped[str] = mapped_column(String(100))
    held_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(200), default="", server_default="")
    activity_type: Mapped[str] = mapped_column(String(40))  # one of ACTIVITY_TYPES
    participants: Mapped[int] = mapped_column(Integer, default=0)  # young people taking part
    body: Mapped[str] = mapped_column(Text, default="", server_default="")
    status: Mapped[ReportStatus] = mapped_column(
        _enum(ReportStatus), default=ReportStatus.DRAFT, index=True
    )
    review_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    files: Mapped[list[ReportFile]] = relationship(
        back_populates="report", order_by="ReportFile.position", cascade="all, delete-orphan"
    )


class ReportFile(Base):
    """A report's photo or short video: its original, its processing state and its outputs."""

    __tablename__ = "report_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("activity_reports.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))  # "photo" or "video"
    caption: Mapped[str] = mapped_column(String(200), default="", server_default="")
    filename: Mapped[str] = mapped_column(String(255), default="", server_default="")
    bucket: Mapped[str] = mapped_column(String(63))
    source_key: Mapped[str] = mapped_column(String(512), unique=True)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    state: Mapped[JobState] = mapped_column(_enum(JobState), default=JobState.QUEUED)
    percent: Mapped[float] = mapped_column(Float, default=0.0)
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    reason_code: Mapped[str] = mapped_column(String(40), default="", server_default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    task_id: Mapped[str | None] = mapped_column(String(64))
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # What processing made, by name: {"1080": "<key>", "480": "<key>"} for a photo,
    # {"video": "<key>", "poster": "<key>"} for a video (all in the assets bucket).
    outputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)

    report: Mapped[ActivityReport] = relationship(back_populates="files")
