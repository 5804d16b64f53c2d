"""Rows for tests, with unique names so tests share one database without clashing."""

from __future__ import annotations

import io
import itertools
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from judging.judge_invitations import token_digest
from judging.rounds import invite, open_round
from storage.models import (
    ActivationToken,
    AssetKind,
    Contest,
    Entry,
    EntryStatus,
    Job,
    JobState,
    MediaAsset,
    Role,
    Round,
    User,
    utcnow,
)
from storage.notifications import notify
from storage.objects import ObjectStore, derived_key, original_key
from storage.settings import Settings
from web.auth import hash_password

_counter = itertools.count(1)
PASSWORD = "password123"
_HASH = hash_password(PASSWORD)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_counter)}"


def make_user(session: Session, role: Role = Role.CONTESTANT, password: str | None = None) -> User:
    user = User(
        username=unique(role.value),
        display_name=f"测试{role.value}",
        password_hash=hash_password(password) if password else _HASH,
        role=role,
        # A district organizer sees ENTRY_FIELDS' district (make_entry's) unless rebound.
        district="市直单位" if role is Role.DISTRICT else "",
    )
    session.add(user)
    session.commit()
    return user


# The contest `open_contest` made for the test now running: (test id, contest id).
_test_contest: dict[str, int] = {}


def _current_test() -> str:
    # pytest sets it to "path::name (setup)", "(call)", "(teardown)" around each test.
    return os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]


def open_contest(session: Session) -> Contest:
    """This test's open contest, made on its first call and the same on later ones while it is
    the newest (the site's `current_contest`) and still open; never one another test made."""
    test = _current_test()
    newest = session.scalar(select(Contest.id).order_by(Contest.id.desc()).limit(1))
    mine = _test_contest.get(test)
    contest = session.get(Contest, mine) if mine is not None and mine == newest else None
    now = datetime.now(UTC)
    if (
        contest is not None
        and (contest.closes_at is None or contest.closes_at > now)
        and (contest.opens_at is None or contest.opens_at <= now)
        and "市直单位" in (contest.districts or [])
        and "医疗卫生" in (contest.industries or [])
    ):
        return contest
    now = datetime.now(UTC)
    contest = Contest(
        slug=unique("contest-"),
        title="测试征集活动",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=30),
        districts=["历下区", "市中区", "市直单位"],
        industries=["医疗卫生", "交通运输"],
    )
    session.add(contest)
    session.commit()
    _test_contest.clear()  # one test runs at a time in a process: forget the finished ones
    _test_contest[test] = contest.id
    return contest


ENTRY_FIELDS: dict[str, Any] = {
    "title": "我们的青春足迹",
    "collective": "市第一医院急诊科青年文明号",
    "category": "collective",
    "email": "youth@example.org",
    "authorized": "y",
    "district": "市直单位",
    "industry": "医疗卫生",
    "contact_name": "张三",
    "contact_phone": "13800138000",
    "summary": "记录急诊科青年十年成长。",
}


def make_entry(
    session: Session, owner: User, contest: Contest | None = None, **fields: Any
) -> Entry:
    """An entry of `contest` (this test's open one if None) numbered after its last, with
    ENTRY_FIELDS and `fields` on top (`number=` forces a number)."""
    contest = contest or open_contest(session)
    number = (
        fields.pop("number", None)
        or (
            session.scalar(
                select(Entry.number)
                .where(Entry.contest_id == contest.id)
                .order_by(Entry.number.desc())
                .limit(1)
            )
            or 0
        )
        + 1
    )
    fields = {k: v for k, v in ENTRY_FIELDS.items() if k != "authorized"} | fields
    entry = Entry(contest=contest, owner=owner, number=number, **fields)
    session.add(entry)
    session.commit()
    return entry


def make_entries(
    session: Session, owner: User, contest: Contest, count: int, **fields: Any
) -> list[Entry]:
    """`count` entries of `contest` numbered after its last, inserted at once (no video)."""
    last = (
        session.scalar(
            select(Entry.number)
            .where(Entry.contest_id == contest.id)
            .order_by(Entry.number.desc())
            .limit(1)
        )
        or 0
    )
    base = {k: v for k, v in ENTRY_FIELDS.items() if k != "authorized"} | fields
    entries = [
        Entry(contest=contest, owner=owner, number=last + i, **base) for i in range(1, count + 1)
    ]
    session.add_all(entries)
    session.commit()
    return entries


def stored_job(session: Session, store: ObjectStore, settings: Settings, clip: Path) -> Job:
    """A queued job of a new entry whose original (`clip`) is in S3; not yet published."""
    entry = make_entry(session, make_user(session))
    key = original_key(entry.id, f"upload{entry.id}")
    store.put_file(settings.bucket_originals, key, str(clip), "video/mp4")
    job = Job(entry=entry, source_key=key)
    session.add(job)
    session.commit()
    return job


NUMERALS = "一二三四五六七八九十"


def ready_round(
    session: Session, entries: int = 3, judges: int = 2, **contest_fields: Any
) -> tuple[Contest, Round, list[Entry], list[User]]:
    """A contest of its own (`contest_fields` on top of an open deadline) with ready entries
    titled 足迹一, 足迹二 … and new judges invited to its open first round; not assigned."""
    contest = Contest(
        **{
            "slug": unique("round-"),
            "title": "评审",
            "closes_at": datetime.now(UTC) + timedelta(days=1),
            **contest_fields,
        }
    )
    session.add(contest)
    owner = make_user(session)
    made = []
    for i in range(entries):
        entry = make_entry(session, owner, contest)
        entry.title = f"足迹{NUMERALS[i] if i < len(NUMERALS) else i + 1}"
        entry.status = EntryStatus.READY
        made.append(entry)
    session.commit()
    people = [make_user(session, Role.JUDGE) for _ in range(judges)]
    rnd = open_round(session, contest, "初评")
    invite(session, rnd, {j.id for j in people})
    return contest, rnd, made, people


@dataclass(frozen=True)
class Made:
    """One file the worker would make of an original, for `store_media`."""

    kind: AssetKind
    data: bytes
    content_type: str
    width: int | None = None
    height: int | None = None
    duration: float | None = None


def store_media(
    session: Session, store: ObjectStore, settings: Settings, entry: Entry, files: dict[str, Made]
) -> None:
    """Store `files` (name -> what it is) as the worker stores what it made of the entry's
    original, with a finished job, without running ffmpeg."""
    source = original_key(entry.id, f"upload{entry.id}")
    for name, made in files.items():
        key = derived_key(source, name)
        stored = store.put_stream(
            settings.bucket_assets, key, io.BytesIO(made.data), made.content_type
        )
        session.add(
            MediaAsset(
                entry=entry,
                kind=made.kind,
                label=name.rsplit(".", 1)[0],
                bucket=settings.bucket_assets,
                object_key=key,
                source_key=source,
                content_type=made.content_type,
                bytes=stored.bytes,
                sha256=stored.sha256,
                width=made.width,
                height=made.height,
                duration=made.duration,
            )
        )
    session.add(Job(entry=entry, source_key=source, state=JobState.READY, percent=100.0))
    session.commit()


def post_confirmed(client: Any, url: str, data: dict[str, str] | None = None) -> Any:
    """POST to an action that may first ask for confirmation (closing, publishing,
    cancelling: web/templates/admin/confirm.html), confirm what it lists, follow redirects."""
    answer = client.post(url, data=data or {})
    found = re.search(r'name="digest" value="([0-9a-f]+)"', answer.get_data(as_text=True))
    if answer.status_code == 200 and found:
        answer = client.post(url, data={**(data or {}), "digest": found.group(1), "confirm": "1"})
    if answer.status_code in (301, 302, 303):
        answer = client.get(answer.headers["Location"])
    return answer


@dataclass(frozen=True)
class QueuedInvitation:
    judge: User
    token: str
    message_id: int


def queued_invitation(
    session: Session,
    *,
    email: str | None = None,
    phone: str = "",
    language: str = "zh_CN",
    publish: bool = False,
) -> QueuedInvitation:
    """A judge with an open activation link and its invitation queued on one channel (e-mail,
    or SMS when `email` is ""), committed; kept from the worker unless `publish`, so the test
    sends it itself."""
    judge = make_user(session, Role.JUDGE)
    judge.email = f"{judge.username}@example.org" if email is None else email
    judge.language = language
    token = secrets.token_urlsafe(16)
    expires = utcnow() + timedelta(days=7)
    session.add(
        ActivationToken(user_id=judge.id, token_sha256=token_digest(token), expires_at=expires)
    )
    [message_id] = notify(
        session,
        "judge_invitation",
        judge,
        f"token-{token[:8]}",
        {"token": token, "expires_at": expires.isoformat()},
        email=judge.email,
        phone=phone,
    )
    if not publish:
        session.info.clear()
    session.commit()
    return QueuedInvitation(judge, token, message_id)
