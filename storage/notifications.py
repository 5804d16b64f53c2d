"""Who is told what: the kinds of message, the outbox rows that events write, opt-outs.

It lives in storage so that every package may tell of its events in its own transaction:
the worker (a video refused) as well as the rules (an entry approved).

An event calls `notify()` in its own transaction; the rows it adds commit or roll back with
the event. A row's key names the event and the recipient, so telling of the same event again
(a reminder scan that runs every few minutes, a redelivered task) adds nothing. Sending is
the short-task worker's (web/outbox_task.py); the texts are templates in web/templates/mail.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import Role, User, utcnow
from storage.outbox import PENDING, Channel, NotificationOptOut, OutboxMessage, OutboxState


def N_(text: str) -> str:  # noqa: N802 - the gettext marker (storage imports nothing of ours)
    """Mark a label for the catalog's extractor; translated where it is shown."""
    return text


@dataclass(frozen=True)
class Kind:
    """One kind of message: who gets it, whether they may turn it off, whether SMS carries it."""

    name: str
    label: str  # as the account page lists it
    roles: frozenset[Role]
    optional: bool = True
    sms: bool = False


def _kind(name: str, label: str, *roles: Role, optional: bool = True, sms: bool = False) -> Kind:
    return Kind(name, label, frozenset(roles), optional, sms)


CONTESTANT, JUDGE, ORGANIZER, OPERATOR = Role.CONTESTANT, Role.JUDGE, Role.ORGANIZER, Role.OPERATOR
KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        _kind("entry_received", N_("作品已收到"), CONTESTANT),
        _kind("video_ready", N_("视频处理完成"), CONTESTANT),
        # What needs doing before the deadline cannot be turned off.
        _kind("video_refused", N_("视频未通过检查"), CONTESTANT, optional=False, sms=True),
        _kind("entry_approved", N_("作品审核通过"), CONTESTANT),
        _kind("entry_returned", N_("作品被退回修改"), CONTESTANT, optional=False, sms=True),
        # 逐级推荐: the district organizer chose to tell why an entry was not recommended.
        _kind("entry_not_recommended", N_("作品未获县区推荐"), CONTESTANT, sms=True),
        _kind("quality_warning", N_("视频质量提醒"), CONTESTANT),
        _kind("deadline_reminder", N_("截止前 24 小时提醒"), CONTESTANT, sms=True),
        _kind("results_published", N_("评审结果公示"), CONTESTANT),
        _kind("judge_invitation", N_("评委邀请"), JUDGE, optional=False, sms=True),
        _kind("round_opened", N_("评审轮次开始"), JUDGE),
        _kind("round_reminder", N_("评审截止提醒"), JUDGE, sms=True),
        _kind("assignment_changed", N_("评审作品增减"), JUDGE),
        # 活动信息报送: what the committee office decided of a report.
        _kind("report_adopted", N_("活动报送被采用"), CONTESTANT, Role.DISTRICT),
        _kind("report_returned", N_("活动报送被退回"), CONTESTANT, Role.DISTRICT, optional=False),
        _kind("daily_digest", N_("每日汇总"), ORGANIZER),
        _kind("job_failed", N_("处理任务失败（非文件原因）"), ORGANIZER, OPERATOR),
        # Asked for by the person themselves on /auth/forgot: never turned off.
        _kind("password_reset", N_("重置密码链接"), *Role, optional=False, sms=True),
    )
}


class UnknownKind(ValueError):
    """A kind of message that is not in KINDS (a programming error, not a user's)."""


def kind_of(name: str) -> Kind:
    """The kind called `name`."""
    try:
        return KINDS[name]
    except KeyError:
        raise UnknownKind(name) from None


def kinds_for(role: Role) -> list[Kind]:
    """The kinds a user of `role` can receive, in catalog order."""
    return [k for k in KINDS.values() if role in k.roles]


def opted_out(session: Session, user_id: int) -> set[str]:
    """The kinds `user_id` turned off."""
    rows = session.scalars(
        select(NotificationOptOut.kind).where(NotificationOptOut.user_id == user_id)
    )
    return set(rows)


def is_turned_off(session: Session, user_id: int, kind: str) -> bool:
    """Whether `user_id` turned `kind` off (never true of a kind that cannot be)."""
    return kind_of(kind).optional and kind in opted_out(session, user_id)


def set_preferences(session: Session, user: User, wanted: Iterable[str]) -> None:
    """Keep exactly the optional kinds in `wanted` on for `user` (the rest off); not committed."""
    wanted = set(wanted)
    optional = {k.name for k in kinds_for(user.role) if k.optional}
    off = optional - wanted
    session.execute(
        delete(NotificationOptOut).where(
            NotificationOptOut.user_id == user.id, NotificationOptOut.kind.not_in(off)
        )
    )
    for name in off - opted_out(session, user.id):
        session.add(NotificationOptOut(user_id=user.id, kind=name))


def turn_off(session: Session, user_id: int, kind: str) -> bool:
    """Turn `kind` off for `user_id` (an unsubscribe link); False when it cannot be. Not
    committed; doing it twice is harmless."""
    if not kind_of(kind).optional:
        return False
    if kind not in opted_out(session, user_id):
        session.add(NotificationOptOut(user_id=user_id, kind=kind))
    return True


def notify(
    session: Session,
    kind: str,
    user: User,
    subject: str,
    params: Mapping[str, Any] | None = None,
    *,
    email: str | None = None,
    phone: str | None = None,
) -> list[int]:
    """Queue `kind` for `user` about `subject` (e.g. "entry-12"), once per channel.

    `email` and `phone` default to the user's own. A kind the user turned off, an inactive
    account or a missing address queues nothing. Returns the ids of the rows added now (none
    when this event was already told); they are published once the session commits.
    """
    spec = kind_of(kind)
    if not user.active and kind != "judge_invitation":
        return []
    if spec.optional and kind in opted_out(session, user.id):
        return []
    addresses = {Channel.EMAIL: (email if email is not None else user.email).strip()}
    if spec.sms:
        addresses[Channel.SMS] = (phone if phone is not None else user.phone).strip()
    added = []
    for channel, address in addresses.items():
        if not address:
            continue
        key = f"{kind}:{subject}:u{user.id}:{channel}"
        row_id = _insert_once(session, key, kind, channel, user.id, address, dict(params or {}))
        if row_id is not None:
            added.append(row_id)
    session.info.setdefault(PENDING, []).extend(added)
    return added


def _insert_once(
    session: Session,
    key: str,
    kind: str,
    channel: str,
    user_id: int,
    address: str,
    params: dict[str, Any],
) -> int | None:
    # INSERT … ON CONFLICT DO NOTHING: a second telling neither fails the event's
    # transaction nor adds a row, even when two transactions tell it at once.
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(OutboxMessage)
        .values(
            key=key[:200],
            kind=kind,
            channel=channel,
            user_id=user_id,
            address=address[:120],
            params=params,
            state=OutboxState.QUEUED,
            attempts=0,
            last_error="",
            subject="",
            body="",
            message_id="",
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(OutboxMessage.id)
    )
    return session.execute(statement).scalar_one_or_none()


def staff(session: Session, *roles: Role) -> list[User]:
    """The active users of `roles` (organizers for the digest, and so on), by id."""
    return list(
        session.scalars(
            select(User).where(User.role.in_(roles), User.active.is_(True)).order_by(User.id)
        )
    )
