"""Judges invited from the site: their accounts, one-time activation links, resend and revoke.

An organizer adds a judge (name, unit, district, phone, e-mail); the account exists at once,
takes part in assignment like any active judge, and has a password nobody knows until the
judge opens the activation link and sets their own. Only the SHA-256 of a link's token is
stored; the link itself is shown to the organizer once, and mailed to the judge.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from judging.accounts import open_tokens_of, set_password
from judging.messages import N_, Message
from judging.passwords import password_problem
from judging.submissions import EMAIL, PHONE, read_text_fields
from storage.models import ActivationToken, Role, TokenPurpose, User, utcnow
from storage.notifications import notify

ACTIVATION_DAYS = 7
_CREATION_LOCK = 0x6A756467  # "judg": the advisory lock that adds judges one at a time
USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,32}$")
FIELD_LABELS = {
    "display_name": N_("姓名"),
    "unit": N_("单位"),
    "district": N_("所属区县"),
    "phone": N_("手机"),
    "email": N_("邮箱"),
    "username": N_("用户名"),
}
FIELD_LIMITS = {
    "display_name": 50,
    "unit": 100,
    "district": 100,
    "phone": 30,
    "email": 120,
    "username": 32,
}
REQUIRED = ("display_name", "phone")
# What the organizer's list says about each judge.
STATE_LABELS = {
    "pending": N_("未激活"),
    "active": N_("已激活"),
    "revoked": N_("邀请已撤销"),
    "expired": N_("链接已过期"),
    "inactive": N_("已停用"),
}


class JudgeError(ValueError):
    """A judge cannot be added or changed; `errors` maps fields to Chinese messages."""

    def __init__(self, message: str, errors: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = dict(errors or {})


class ActivationError(ValueError):
    """An activation link that cannot be used; `reason` is unknown, used, revoked, expired,
    inactive or password (the new password is refused, the link still works)."""

    def __init__(self, reason: str, message: str, purpose: str = TokenPurpose.ACTIVATE) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.purpose = purpose  # what the link was for: the page's heading says it


@dataclass(frozen=True)
class JudgeFields:
    display_name: str
    unit: str
    district: str
    phone: str
    email: str
    username: str = ""


@dataclass(frozen=True)
class IssuedLink:
    """A new activation token, in clear: shown once, never stored."""

    user: User
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class JudgeRow:
    user: User
    state: str  # a key of STATE_LABELS
    invited_at: datetime | None  # the latest invitation
    activated: bool


def validate_judge(data: Mapping[str, object], districts: Sequence[str] = ()) -> JudgeFields:
    """Check a judge's fields; raise JudgeError naming every wrong one.

    The district must be one of the contest's (when it lists any): the automatic conflict
    rule compares it with entries' districts letter by letter, so "历下" would never match
    "历下区" and the judge would silently be given entries of their own district.
    """
    clean, errors = read_text_fields(data, FIELD_LIMITS, FIELD_LABELS, REQUIRED)
    phone = normalize_phone(clean["phone"])
    if "phone" not in errors and not (phone.isascii() and PHONE.match(phone)):
        errors["phone"] = Message("手机号格式不正确，请填写 11 位手机号或带区号的座机号")
    clean["phone"] = phone
    if clean["email"] and "email" not in errors and not EMAIL.match(clean["email"]):
        errors["email"] = Message("邮箱格式不正确")
    if clean["username"] and "username" not in errors and not USERNAME.match(clean["username"]):
        errors["username"] = Message("用户名为 3 到 32 位字母、数字、下划线、点或减号")
    if districts and clean["district"] and clean["district"] not in districts:
        errors["district"] = Message(
            "所属区县应为本次活动的区县之一：%(names)s", names="、".join(districts)
        )
    if errors:
        raise JudgeError(Message("请修改标红的项目后再提交"), errors)
    return JudgeFields(**clean)


def normalize_phone(text: str) -> str:
    """A phone number written one way: no spaces, no +86, ASCII digits."""
    # Chinese input methods type full-width digits (１３８…): NFKC makes them ASCII.
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", text)).removeprefix("+86")


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@cache
def nobodys_password_hash() -> str:
    """A real hash of a random secret that is thrown away: logging in to an account that was
    never activated takes as long to refuse as a wrong password, and nothing opens it."""
    return generate_password_hash(secrets.token_urlsafe(32))


def create_judges(
    session: Session, judges: Sequence[JudgeFields], by: User | None, now: datetime | None = None
) -> list[IssuedLink]:
    """Add judge accounts, each with an activation link, all or none; commits.

    One creation at a time (on PostgreSQL), checked again inside: a double click or two
    organizers adding the same judge at once never make two accounts of one phone.
    """
    now = now or utcnow()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_CREATION_LOCK)))
    phones = [f.phone for f in judges]
    there = session.scalar(
        select(User).where(User.role == Role.JUDGE, User.phone.in_(phones)).limit(1)
    )
    if there is not None:
        session.rollback()
        raise JudgeError(
            Message("请修改标红的项目后再提交"),
            {"phone": _phone_taken(there)},
        )
    taken = _usernames_in_use(session, judges)
    links = []
    try:
        for fields in judges:
            username = fields.username or _free_username(_username_base(fields), taken)
            taken.add(username)
            user = User(
                username=username,
                display_name=fields.display_name,
                unit=fields.unit,
                district=fields.district,
                phone=fields.phone,
                email=fields.email,
                role=Role.JUDGE,
                password_hash=nobodys_password_hash(),
            )
            session.add(user)
            session.flush()
            links.append(_new_token(session, user, by, now))
        session.commit()
    except IntegrityError as exc:
        # Someone took one of the user names meanwhile: nothing was added.
        session.rollback()
        raise JudgeError(Message("用户名刚被占用，请重新提交")) from exc
    return links


def check_new_judge(session: Session, fields: JudgeFields) -> None:
    """Refuse a judge already on the list (same phone or e-mail) or a taken user name."""
    errors = {}
    same_phone = existing_judge(session, "phone", fields.phone)
    if same_phone is not None:
        errors["phone"] = _phone_taken(same_phone)
    same_email = fields.email and existing_judge(session, "email", fields.email)
    if same_email:
        errors["email"] = Message(
            "该邮箱已是评委 %(name)s（%(user)s）的邮箱",
            name=same_email.display_name,
            user=same_email.username,
        )
    if fields.username and session.scalar(select(User.id).where(User.username == fields.username)):
        errors["username"] = Message("该用户名已被使用，请换一个")
    if errors:
        raise JudgeError(Message("请修改标红的项目后再提交"), errors)


def existing_judge(session: Session, field: str, value: str) -> User | None:
    """The judge whose phone (or email, case aside) is `value`."""
    if field == "email":
        match = func.lower(User.email) == value.lower()
    else:
        match = User.phone == value
    return session.scalar(select(User).where(User.role == Role.JUDGE, match).limit(1))


def resend(
    session: Session, user: User, by: User | None, now: datetime | None = None
) -> IssuedLink:
    """A new link for a judge who has not activated; earlier links stop working. Commits.

    A judge whose invitation was revoked is back in future assignments."""
    now = now or utcnow()
    _check_not_activated(session, user)
    _revoke_open_tokens(session, user, now)
    user.active = True
    link = _new_token(session, user, by, now)
    session.commit()
    return link


def revoke(session: Session, user: User, now: datetime | None = None) -> None:
    """Stop a judge's unused links; the never-activated account can then never be logged in
    to, so it also leaves future assignments. Commits."""
    _check_not_activated(session, user)
    _revoke_open_tokens(session, user, now or utcnow())
    user.active = False
    session.commit()


def set_active(session: Session, user: User, active: bool) -> None:
    """Deactivate (out of future assignments, cannot log in) or reactivate a judge. Commits.

    Existing assignments and scores stay where they are, for the organizer to see."""
    if user.role is not Role.JUDGE:
        raise JudgeError(Message("只能停用或启用评委账号"))
    user.active = active
    session.commit()


def activated(session: Session, user: User) -> bool:
    """Whether the judge has a password of their own: a used link, or no link at all (an
    account made with a password, like the demo's)."""
    tokens = _tokens(session, [user.id]).get(user.id, [])
    return not tokens or any(t.used_at for t in tokens)


def judge_rows(session: Session, now: datetime | None = None) -> list[JudgeRow]:
    """Every judge with the state of their invitation, in the order they were added."""
    now = now or utcnow()
    judges = list(session.scalars(select(User).where(User.role == Role.JUDGE).order_by(User.id)))
    tokens = _tokens(session, [j.id for j in judges])
    rows = []
    for judge in judges:
        own = tokens.get(judge.id, [])
        latest = own[-1] if own else None
        done = not own or any(t.used_at for t in own)
        if done:
            state = "active" if judge.active else "inactive"
        elif latest is not None and latest.revoked_at is not None:
            state = "revoked"
        elif latest is not None and latest.expires_at <= now:
            state = "expired"
        else:
            state = "pending" if judge.active else "inactive"
        rows.append(JudgeRow(judge, state, latest.created_at if latest else None, done))
    return rows


# What a link that cannot be used says, by its purpose (an unknown link has none).
REFUSALS: dict[str, dict[str, str]] = {
    TokenPurpose.ACTIVATE: {
        "used": N_("此激活链接已使用过，账号已激活，请直接登录"),
        "revoked": N_("此激活链接已作废（组委会已撤销或重新发送了邀请），请使用最新的链接"),
        "expired": N_("此激活链接已过期，请联系组委会重新发送邀请"),
        "inactive": N_("该评委账号已停用，请联系组委会"),
    },
    TokenPurpose.RESET: {
        "used": N_("此重置密码链接已使用过，请用新密码登录"),
        "revoked": N_(
            "此重置密码链接已作废（之后又申请了新的链接），请使用最新一封邮件或短信中的链接"
        ),
        "expired": N_("此重置密码链接已过期，请重新申请"),
        "inactive": N_("该账号已停用，请联系组委会"),
    },
}


def find_token(session: Session, token: str, now: datetime | None = None) -> ActivationToken:
    """The usable token of a link; ActivationError says why it is not."""
    now = now or utcnow()
    row = session.scalar(
        select(ActivationToken).where(ActivationToken.token_sha256 == token_digest(token))
    )
    if row is None:
        raise ActivationError(
            "unknown",
            Message("链接无效：请检查链接是否完整；激活链接请组委会重新发送，重置密码可重新申请"),
        )
    refusals = REFUSALS.get(row.purpose, REFUSALS[TokenPurpose.ACTIVATE])
    for reason, refused in (
        ("used", row.used_at is not None),
        ("revoked", row.revoked_at is not None),
        ("expired", row.expires_at <= now),
        ("inactive", not row.user.active),
    ):
        if refused:
            raise ActivationError(reason, Message(refusals[reason]), row.purpose)
    return row


def activate(
    session: Session,
    token: str,
    password: str,
    hash_password: Callable[[str], str],
    now: datetime | None = None,
) -> User:
    """Set the judge's own password through a link, which is then used up. Commits.

    The link is marked used by one conditional UPDATE: of two tabs sending the same link at
    once, exactly one sets the password; the other is told the link is used.
    """
    now = now or utcnow()
    row = find_token(session, token, now)
    user = row.user
    problem = password_problem(password, user.username)
    if problem:
        raise ActivationError("password", problem, row.purpose)
    password_hash = hash_password(password)  # slow by design: before taking the row lock
    won = session.execute(
        update(ActivationToken)
        .where(
            ActivationToken.id == row.id,
            ActivationToken.used_at.is_(None),
            ActivationToken.revoked_at.is_(None),
            ActivationToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(ActivationToken.id)
    ).scalar_one_or_none()
    if won is None:
        session.rollback()
        find_token(session, token, now)  # raises with what happened meanwhile
        used = REFUSALS[row.purpose]["used"]
        raise ActivationError("used", Message(used), row.purpose)
    # Ends any session signed in before and lifts a lock-out; commits with the used mark.
    set_password(session, user, password_hash)
    return user


def _phone_taken(judge: User) -> Message:
    return Message(
        "该手机号已是评委 %(name)s（%(user)s）的号码", name=judge.display_name, user=judge.username
    )


# The message each kind of link goes out in.
LINK_KINDS = {TokenPurpose.ACTIVATE: "judge_invitation", TokenPurpose.RESET: "password_reset"}


def issue_link(
    session: Session,
    user: User,
    purpose: TokenPurpose,
    lifetime: timedelta,
    now: datetime,
    by: User | None = None,
    email: str | None = None,
    phone: str | None = None,
) -> IssuedLink:
    """A new one-time link for `user`, queued for mail (and SMS) in this transaction; not
    committed. Only its digest is stored; its token leaves the outbox once the message is
    sent (web/outbox_task.py)."""
    token = secrets.token_urlsafe(32)
    expires = now + lifetime
    session.add(
        ActivationToken(
            user_id=user.id,
            token_sha256=token_digest(token),
            purpose=purpose,
            created_by_id=by.id if by else None,
            created_at=now,
            expires_at=expires,
        )
    )
    notify(
        session,
        LINK_KINDS[purpose],
        user,
        f"token-{token_digest(token)[:16]}",
        {"token": token, "expires_at": expires.isoformat()},
        email=email,
        phone=phone,
    )
    return IssuedLink(user, token, expires)


def _new_token(session: Session, user: User, by: User | None, now: datetime) -> IssuedLink:
    lifetime = timedelta(days=ACTIVATION_DAYS)
    return issue_link(session, user, TokenPurpose.ACTIVATE, lifetime, now, by)


def _revoke_open_tokens(session: Session, user: User, now: datetime) -> None:
    session.execute(open_tokens_of(user).values(revoked_at=now))


def _check_not_activated(session: Session, user: User) -> None:
    if user.role is not Role.JUDGE:
        raise JudgeError(Message("只能邀请评委账号"))
    if activated(session, user):
        raise JudgeError(
            Message(
                "%(name)s 已激活账号，无需邀请；忘记密码可在账号管理中重置", name=user.display_name
            )
        )


def _tokens(session: Session, user_ids: list[int]) -> dict[int, list[ActivationToken]]:
    found: dict[int, list[ActivationToken]] = {}
    if not user_ids:
        return found
    # Invitations only: a reset link asked for by a judge says nothing of the invitation.
    for token in session.scalars(
        select(ActivationToken)
        .where(
            ActivationToken.user_id.in_(user_ids),
            ActivationToken.purpose == TokenPurpose.ACTIVATE,
        )
        .order_by(ActivationToken.created_at, ActivationToken.id)
    ):
        found.setdefault(token.user_id, []).append(token)
    return found


def _username_base(fields: JudgeFields) -> str:
    local = fields.email.partition("@")[0].lower()
    return local if USERNAME.match(local) and not local.isdigit() else "judge"


def _usernames_in_use(session: Session, judges: Sequence[JudgeFields]) -> set[str]:
    bases = {_username_base(f) for f in judges}
    taken: set[str] = set()
    for base in bases:
        taken.update(session.scalars(select(User.username).where(User.username.like(f"{base}%"))))
    return taken


def _free_username(base: str, taken: set[str]) -> str:
    if base != "judge" and base not in taken:
        return base
    n = 1
    while f"{base}{n}" in taken:
        n += 1
    return f"{base}{n}"
