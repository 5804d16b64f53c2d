"""Every setting of the service, read from the environment in this one place.

Each field names its environment variable and says what it is for; the README's settings
table is made from the same list (`footprints settings`), and a test checks they agree.
It lives in `storage/` because every other package may import `storage` and nothing lower.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from limits import parse_many


class SettingsError(ValueError):
    """A setting has a value that cannot be used."""


def _setting(env: str, default: Any, doc: str) -> Any:
    return field(default=default, metadata={"env": env, "doc": doc})


@dataclass(frozen=True)
class Settings:
    """Typed settings with safe defaults for a developer's machine."""

    secret_key: str = _setting(
        "FOOTPRINTS_SECRET_KEY",
        "",
        "Signs sessions and CSRF tokens. Required in production; `make run` keeps one in "
        "`var/secret_key`.",
    )
    database_url: str = _setting(
        "DATABASE_URL",
        "sqlite:///var/footprints.db",
        "SQLAlchemy URL of the database (PostgreSQL in production: "
        "`postgresql+psycopg://user:pass@host/db`).",
    )
    broker_url: str = _setting(
        "CELERY_BROKER_URL",
        "amqp://guest:guest@127.0.0.1:5672//",
        "RabbitMQ URL of the task broker.",
    )
    media_queue: str = _setting(
        "FOOTPRINTS_MEDIA_QUEUE",
        "footprints.transcode",
        "RabbitMQ queue of the long media jobs; its dead letters go to `<name>.dead`.",
    )
    short_queue: str = _setting(
        "FOOTPRINTS_SHORT_QUEUE",
        "footprints.short",
        "RabbitMQ queue of short tasks (the sweeper), so they never wait behind transcodes.",
    )
    rabbitmq_api_url: str = _setting(
        "RABBITMQ_API_URL",
        "http://guest:guest@127.0.0.1:15672",
        "RabbitMQ management HTTP API, for queue depths with unacknowledged counts (empty or "
        "unreachable: a passive declare over AMQP, which counts ready messages only).",
    )
    inspect_timeout_seconds: float = _setting(
        "INSPECT_TIMEOUT_SECONDS",
        1.0,
        "How long the ops page and /metrics wait for workers to answer a ping.",
    )
    flower_url: str = _setting(
        "FLOWER_URL", "", "Address of Celery Flower, linked from the ops page (empty: no link)."
    )
    metrics_token: str = _setting(
        "METRICS_TOKEN",
        "",
        "Bearer token that /metrics requires (empty: /metrics is open, so serve it on a "
        "private network only; docker-compose.yml requires one).",
    )
    metrics_rate_limit: str = _setting(
        "METRICS_RATE_LIMIT",
        "60/minute",
        "Scrapes of /metrics allowed per client address (each asks the broker and the workers; "
        "Prometheus scrapes every 15 s or so).",
    )
    readyz_rate_limit: str = _setting(
        "READYZ_RATE_LIMIT",
        "60/minute",
        "Requests to /readyz allowed per client address (each checks the database, the broker "
        "and S3; /healthz is not limited).",
    )
    log_format: str = _setting(
        "LOG_FORMAT",
        "text",
        "`text` or `json` (one JSON object per line; a task's lines carry job_id and entry_id).",
    )
    s3_endpoint: str = _setting(
        "S3_ENDPOINT", "127.0.0.1:8333", "host:port of the S3 server (MinIO, SeaweedFS, any S3)."
    )
    s3_public_endpoint: str = _setting(
        "S3_PUBLIC_ENDPOINT",
        "",
        "host:port browsers use for presigned media URLs, when it differs from S3_ENDPOINT "
        "(empty: the same).",
    )
    s3_access_key: str = _setting(
        "S3_ACCESS_KEY", "", "S3 access key (empty: the one in S3_KEYS_FILE)."
    )
    s3_secret_key: str = _setting(
        "S3_SECRET_KEY", "", "S3 secret key (empty: the one in S3_KEYS_FILE)."
    )
    s3_keys_file: str = _setting(
        "S3_KEYS_FILE",
        "var/s3-keys",
        "`S3_ACCESS_KEY=…` and `S3_SECRET_KEY=…` lines for the keys the environment leaves "
        "unset; `make run` and `make test` write random ones there once (mode 0600) and give "
        "them to the local S3 server.",
    )
    s3_secure: bool = _setting("S3_SECURE", False, "Use HTTPS to reach the S3 server.")
    s3_region: str = _setting("S3_REGION", "us-east-1", "S3 region name (signatures need one).")
    bucket_originals: str = _setting(
        "S3_BUCKET_ORIGINALS", "footprints-originals", "Private bucket for uploaded originals."
    )
    bucket_assets: str = _setting(
        "S3_BUCKET_ASSETS",
        "footprints-assets",
        "Private bucket for renditions, posters and other derived assets.",
    )
    rate_limit_storage: str = _setting(
        "RATE_LIMIT_STORAGE",
        "memory://",
        "Where the login, registration and vote counters live (Flask-Limiter storage URI; "
        "memory:// counts per process).",
    )
    login_rate_limit: str = _setting(
        "LOGIN_RATE_LIMIT", "10/minute", "Login and registration attempts allowed per address."
    )
    upload_rate_limit: str = _setting(
        "UPLOAD_RATE_LIMIT",
        "30/hour",
        "New uploads (not their parts) allowed per user: form, API and resumable; counted in "
        "the database, so every web process shares the budget.",
    )
    login_lockout_attempts: int = _setting(
        "LOGIN_LOCKOUT_ATTEMPTS",
        5,
        "Wrong passwords in a row that lock an account for LOGIN_LOCKOUT_MINUTES (0: never).",
    )
    login_lockout_minutes: float = _setting(
        "LOGIN_LOCKOUT_MINUTES", 15.0, "How long an account stays locked after them."
    )
    cookie_secure: bool = _setting(
        "COOKIE_SECURE",
        False,
        "Send the session cookie over HTTPS only and ask browsers to keep to HTTPS (HSTS); "
        "set it when the web sits behind TLS, as it should in production.",
    )
    vote_rate_limit: str = _setting(
        "VOTE_RATE_LIMIT", "20/minute", "Public votes allowed per user (or address)."
    )
    presign_seconds: int = _setting(
        "PRESIGN_SECONDS", 3600, "Lifetime of presigned media URLs, in seconds."
    )
    max_upload_bytes: int = _setting(
        "MAX_UPLOAD_BYTES", 4 * 1024**3, "Largest accepted video upload, in bytes."
    )
    upload_chunk_bytes: int = _setting(
        "UPLOAD_CHUNK_BYTES",
        8 * 1024**2,
        "Size of each part of a resumable upload (at least 5 MiB, S3's smallest part).",
    )
    upload_expiry_hours: float = _setting(
        "UPLOAD_EXPIRY_HOURS", 24.0, "Unfinished resumable uploads are dropped after this long."
    )
    user_storage_limit_mb: int = _setting(
        "USER_STORAGE_LIMIT_MB",
        20480,
        "Most MiB of original videos one user may keep, unfinished uploads included (the "
        "default holds four entries at MAX_UPLOAD_BYTES and a replacement of one of them).",
    )
    user_uploads_in_flight_mb: int = _setting(
        "USER_UPLOADS_IN_FLIGHT_MB",
        8192,
        "Most MiB of uploads one user may have started and not finished (the default: two at "
        "MAX_UPLOAD_BYTES).",
    )
    orphan_sweep_interval_seconds: int = _setting(
        "ORPHAN_SWEEP_INTERVAL_SECONDS",
        3600,
        "How often the sweeper removes stored objects that no row names, once a day old, and "
        "replaced originals.",
    )
    max_duration_seconds: float = _setting(
        "MAX_DURATION_SECONDS", 600.0, "Longest accepted video, in seconds."
    )
    min_duration_seconds: float = _setting(
        "MIN_DURATION_SECONDS", 0.2, "Shortest accepted video, in seconds."
    )
    max_dimension: int = _setting(
        "MAX_DIMENSION", 4096, "Largest accepted width or height of a video, in pixels."
    )
    max_fps: float = _setting(
        "MAX_FPS", 240.0, "Highest accepted frame rate of a source (output is capped at 30)."
    )
    max_streams: int = _setting(
        "MAX_STREAMS", 10, "Most audio, video and data streams a source may have."
    )
    probe_timeout_seconds: float = _setting(
        "PROBE_TIMEOUT_SECONDS", 30.0, "Time limit of one ffprobe run, in seconds."
    )
    transcode_timeout_factor: float = _setting(
        "TRANSCODE_TIMEOUT_FACTOR",
        10.0,
        "An ffmpeg run may take this many times the video's duration (plus 60 s) before it is "
        "killed.",
    )
    consumer_timeout_seconds: int = _setting(
        "BROKER_CONSUMER_TIMEOUT_SECONDS",
        7200,
        "RabbitMQ's consumer_timeout as configured on the broker; every ffmpeg run is kept "
        "shorter, so a long transcode is never cut off by the broker.",
    )
    rendition_ladder: str = _setting(
        "RENDITION_LADDER",
        "1080,720,480",
        "Short sides of the renditions, in pixels; never upscaled, the smallest always made.",
    )
    storyboard_max_tiles: int = _setting(
        "STORYBOARD_MAX_TILES", 100, "Most thumbnails in the scrubbing-preview sprite sheet."
    )
    watermark_text: str = _setting(
        "WATERMARK_TEXT",
        "中国梦·青春足迹",
        "Text drawn on every rendition, beside the entry number unless the contest is blind.",
    )
    watermark_logo: str = _setting(
        "WATERMARK_LOGO", "", "Image file of the contest logo drawn before the text (empty: none)."
    )
    watermark_position: str = _setting(
        "WATERMARK_POSITION",
        "bottom-right",
        "Corner of the watermark: top-left, top-right, bottom-left or bottom-right.",
    )
    watermark_opacity: float = _setting(
        "WATERMARK_OPACITY", 0.75, "Opacity of the watermark, from 0 to 1."
    )
    watermark_font: str = _setting(
        "WATERMARK_FONT",
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
        "Font file with CJK glyphs for the watermark (Debian package fonts-wqy-zenhei).",
    )
    ffmpeg_memory_limit_mb: int = _setting(
        "FFMPEG_MEMORY_LIMIT_MB",
        2048,
        "An ffmpeg run whose resident memory passes this many MiB is stopped and its job failed "
        "with reason `out_of_memory` (0: no limit but the kernel's).",
    )
    loudness_target_lufs: float = _setting(
        "LOUDNESS_TARGET_LUFS",
        -16.0,
        "Integrated loudness (EBU R128) every rendition's sound is brought to, in LUFS.",
    )
    loudness_true_peak_db: float = _setting(
        "LOUDNESS_TRUE_PEAK_DB", -1.5, "True-peak ceiling of the normalised sound, in dBTP."
    )
    ffmpeg_bin: str = _setting("FFMPEG_BIN", "ffmpeg", "The ffmpeg program.")
    ffprobe_bin: str = _setting("FFPROBE_BIN", "ffprobe", "The ffprobe program.")
    work_dir: str = _setting(
        "WORKER_TMP_DIR",
        "",
        "Folder for a worker's temporary files (empty: the system's temporary folder).",
    )
    task_max_retries: int = _setting(
        "TASK_MAX_RETRIES", 5, "Retries of a media job after a passing fault (S3, broker)."
    )
    max_attempts: int = _setting(
        "MAX_ATTEMPTS",
        3,
        "Starts of one media job (crashed or killed workers included) before it is failed.",
    )
    stale_job_seconds: int = _setting(
        "STALE_JOB_SECONDS",
        600,
        "A running job with no progress for this long is requeued by the sweeper.",
    )
    sweep_interval_seconds: int = _setting(
        "SWEEP_INTERVAL_SECONDS", 60, "How often the sweeper looks for stuck or unsent jobs."
    )

    public_base_url: str = _setting(
        "PUBLIC_BASE_URL",
        "http://127.0.0.1:5000",
        "The site's address as people reach it: links in mail and SMS start with it.",
    )
    mail_server: str = _setting(
        "MAIL_SERVER",
        "",
        "SMTP server that sends the service's mail (empty: no mail is sent; each message is "
        "kept in the outbox as skipped). `make run` points it at its local mail catcher.",
    )
    mail_port: int = _setting("MAIL_PORT", 25, "Port of MAIL_SERVER.")
    mail_use_tls: bool = _setting(
        "MAIL_USE_TLS", False, "STARTTLS after connecting to MAIL_SERVER (usually port 587)."
    )
    mail_use_ssl: bool = _setting(
        "MAIL_USE_SSL", False, "Connect to MAIL_SERVER over TLS from the start (usually 465)."
    )
    mail_username: str = _setting("MAIL_USERNAME", "", "SMTP login (empty: none).")
    mail_password: str = _setting("MAIL_PASSWORD", "", "SMTP password.")
    mail_default_sender: str = _setting(
        "MAIL_DEFAULT_SENDER",
        "青春足迹 <noreply@footprints.invalid>",
        "The From of every message.",
    )
    mail_timeout_seconds: int = _setting(
        "MAIL_TIMEOUT_SECONDS", 30, "How long one SMTP conversation may take."
    )
    mail_catcher_dir: str = _setting(
        "MAIL_CATCHER_DIR",
        "",
        "Folder where the local mail catcher keeps every message (`make run`: var/mail). When "
        "set, organizers see those messages at /admin/mail; leave empty in production.",
    )
    sms_provider: str = _setting(
        "SMS_PROVIDER",
        "",
        "How SMS is sent: empty (off; SMS messages are kept as skipped), `http` (POST to "
        "SMS_GATEWAY_URL) or `file` (written to SMS_FILE_DIR, for demos and tests).",
    )
    sms_gateway_url: str = _setting(
        "SMS_GATEWAY_URL", "", "The SMS gateway's address for `SMS_PROVIDER=http`."
    )
    sms_gateway_token: str = _setting(
        "SMS_GATEWAY_TOKEN", "", "Bearer token sent to SMS_GATEWAY_URL."
    )
    sms_file_dir: str = _setting(
        "SMS_FILE_DIR", "var/sms", "Folder of `SMS_PROVIDER=file`: one text file per message."
    )
    outbox_max_attempts: int = _setting(
        "OUTBOX_MAX_ATTEMPTS",
        8,
        "Attempts at one message before it is marked failed (waits double from 30 s, at most "
        "an hour).",
    )
    outbox_sending_timeout_seconds: int = _setting(
        "OUTBOX_SENDING_TIMEOUT_SECONDS",
        300,
        "A message claimed this long ago and never recorded is marked uncertain (the worker "
        "stopped mid-send); it is never resent by itself.",
    )
    outbox_keep_days: int = _setting(
        "OUTBOX_KEEP_DAYS",
        180,
        "Outbox messages that ended (sent, skipped, failed, uncertain) are deleted this many "
        "days after they were queued, by the storage sweep (at least 30).",
    )
    digest_hour: int = _setting(
        "DIGEST_HOUR",
        8,
        "Hour of the day (Beijing time) after which organizers get the daily digest.",
    )
    notify_scan_interval_seconds: int = _setting(
        "NOTIFY_SCAN_INTERVAL_SECONDS",
        300,
        "How often reminders (deadline, judging) and the daily digest are looked for.",
    )
    photo_max_per_entry: int = _setting(
        "PHOTO_MAX_PER_ENTRY",
        6,
        "Most photos of one 摄影 entry (a 组照), and of a 职业故事's optional photos.",
    )
    image_max_bytes: int = _setting(
        "IMAGE_MAX_BYTES",
        40 * 1024**2,
        "Largest photo or comic page file accepted, in bytes.",
    )
    image_max_pixels: int = _setting(
        "IMAGE_MAX_PIXELS",
        100_000_000,
        "Most pixels (width × height) of a photo or page; larger ones (decompression bombs) "
        "are refused before they are decoded.",
    )
    comic_max_pages: int = _setting(
        "COMIC_MAX_PAGES",
        40,
        "Most pages of one 漫画 entry (images, or the pages of its PDF).",
    )
    pdf_max_bytes: int = _setting(
        "PDF_MAX_BYTES",
        100 * 1024**2,
        "Largest comic PDF accepted, in bytes.",
    )
    story_max_chars: int = _setting(
        "STORY_MAX_CHARS",
        5000,
        "Most characters of a 职业故事's text.",
    )
    activity_types: str = _setting(
        "ACTIVITY_TYPES",
        "学习引航,技能比赛,创新创效,为民服务,文化创建,风采展示",
        "The types an activity report can have, comma-separated, in the order forms show them.",
    )
    required_activity_type: str = _setting(
        "REQUIRED_ACTIVITY_TYPE",
        "为民服务",
        "The activity every district must hold (为民服务统一行动); the office's report page "
        "lists districts with no adopted report of this type.",
    )
    report_max_photos: int = _setting(
        "REPORT_MAX_PHOTOS",
        9,
        "Most photos of one activity report.",
    )
    report_video_max_seconds: int = _setting(
        "REPORT_VIDEO_MAX_SECONDS",
        300,
        "Longest short video of an activity report, in seconds.",
    )

    def __post_init__(self) -> None:
        for env, limit in (
            ("METRICS_RATE_LIMIT", self.metrics_rate_limit),
            ("READYZ_RATE_LIMIT", self.readyz_rate_limit),
        ):
            try:
                parse_many(limit)
            except ValueError as exc:
                raise SettingsError(
                    f"{env}={limit!r}: use a count per time, e.g. 60/minute"
                ) from exc
        largest = -(-self.max_upload_bytes // 1024**2)  # MiB, rounded up
        for env, cap in (
            ("USER_STORAGE_LIMIT_MB", self.user_storage_limit_mb),
            ("USER_UPLOADS_IN_FLIGHT_MB", self.user_uploads_in_flight_mb),
        ):
            if cap < largest:
                raise SettingsError(
                    f"{env}={cap}: at least MAX_UPLOAD_BYTES ({largest} MiB), or no file of the "
                    "largest accepted size could ever be uploaded"
                )
        try:
            parse_many(self.upload_rate_limit)
        except ValueError as exc:
            raise SettingsError(
                f"UPLOAD_RATE_LIMIT={self.upload_rate_limit!r}: use a count per time, e.g. 30/hour"
            ) from exc
        if self.orphan_sweep_interval_seconds < 60:
            raise SettingsError(
                f"ORPHAN_SWEEP_INTERVAL_SECONDS={self.orphan_sweep_interval_seconds}: at least 60"
            )
        # What ffmpeg's loudness filters accept; outside it every job with sound would fail.
        if not -40 <= self.loudness_target_lufs <= -5:
            raise SettingsError(
                f"LOUDNESS_TARGET_LUFS={self.loudness_target_lufs}: use -40 to -5 (LUFS)"
            )
        if self.sms_provider not in {"", "http", "file"}:
            raise SettingsError(f"SMS_PROVIDER={self.sms_provider!r}: use http, file or nothing")
        if self.sms_provider == "http" and not self.sms_gateway_url:
            raise SettingsError("SMS_PROVIDER=http needs SMS_GATEWAY_URL")
        if self.outbox_keep_days < 30:
            # Reminder keys must outlive every window they could be scanned again in.
            raise SettingsError(f"OUTBOX_KEEP_DAYS={self.outbox_keep_days}: at least 30")
        if not 0 <= self.digest_hour <= 23:
            raise SettingsError(f"DIGEST_HOUR={self.digest_hour}: use 0 to 23")
        if not self.public_base_url.startswith(("http://", "https://")):
            raise SettingsError(
                f"PUBLIC_BASE_URL={self.public_base_url!r}: a full address, e.g. https://example.org"
            )
        if not self.activity_type_list:
            raise SettingsError("ACTIVITY_TYPES is empty: list at least one type")
        if self.required_activity_type and self.required_activity_type not in (
            self.activity_type_list
        ):
            raise SettingsError(
                f"REQUIRED_ACTIVITY_TYPE={self.required_activity_type!r}: not in ACTIVITY_TYPES"
            )
        for env, count in (
            ("PHOTO_MAX_PER_ENTRY", self.photo_max_per_entry),
            ("COMIC_MAX_PAGES", self.comic_max_pages),
            ("REPORT_MAX_PHOTOS", self.report_max_photos),
            ("STORY_MAX_CHARS", self.story_max_chars),
        ):
            if count < 1:
                raise SettingsError(f"{env}={count}: at least 1")
        if not -9 <= self.loudness_true_peak_db <= 0:
            raise SettingsError(
                f"LOUDNESS_TRUE_PEAK_DB={self.loudness_true_peak_db}: use -9 to 0 (dBTP)"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from environment variables, then apply keyword overrides."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(f.metadata["env"])
            if raw is not None and raw != "":
                values[f.name] = _parse(f.name, f.metadata["env"], raw, type(f.default))
        if not (values.get("s3_access_key") and values.get("s3_secret_key")):
            path = values.get("s3_keys_file", cls.s3_keys_file)
            for name, value in _read_keys_file(path).items():
                values.setdefault(name, value)
        values.update(overrides)
        return cls(**values)

    @property
    def ladder(self) -> tuple[int, ...]:
        """The rendition short sides, largest first."""
        try:
            sides = {int(part) for part in self.rendition_ladder.split(",") if part.strip()}
        except ValueError as exc:
            raise SettingsError(f"RENDITION_LADDER={self.rendition_ladder!r}") from exc
        if not sides or min(sides) < 64:
            raise SettingsError(f"RENDITION_LADDER={self.rendition_ladder!r}: sides below 64")
        return tuple(sorted(sides, reverse=True))

    @property
    def activity_type_list(self) -> list[str]:
        """ACTIVITY_TYPES as a list, blanks dropped."""
        return [part.strip() for part in self.activity_types.split(",") if part.strip()]

    @property
    def upload_rate_window(self) -> timedelta:
        """The longest time over which UPLOAD_RATE_LIMIT counts upload starts."""
        limits = parse_many(self.upload_rate_limit)
        return max(timedelta(seconds=limit.get_expiry()) for limit in limits)

    @property
    def sqlite_path(self) -> str | None:
        """The file of a SQLite database URL, or None for other databases."""
        prefix = "sqlite:///"
        return self.database_url[len(prefix) :] if self.database_url.startswith(prefix) else None


def _read_keys_file(path: str) -> dict[str, str]:
    """The S3 keys a keys file holds, by field name (none when the file does not exist)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise SettingsError(f"S3_KEYS_FILE={path!r} cannot be read: {exc.strerror}") from exc
    fields = {"S3_ACCESS_KEY": "s3_access_key", "S3_SECRET_KEY": "s3_secret_key"}
    keys = {}
    for line in text.splitlines():
        name, _, value = line.strip().partition("=")
        if name in fields and value:
            keys[fields[name]] = value
    return keys


def _parse(name: str, env: str, raw: str, kind: type) -> Any:
    try:
        if kind is bool:
            lowered = raw.strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        return kind(raw)
    except ValueError as exc:
        raise SettingsError(f"{env}={raw!r} is not a valid {kind.__name__} for {name}") from exc


def settings_table() -> str:
    """The Markdown table of every setting, for the README."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for f in dataclasses.fields(Settings):
        default = f.default if f.default != "" else "(empty)"
        rows.append(f"| `{f.metadata['env']}` | `{default}` | {f.metadata['doc']} |")
    return "\n".join(rows)
