"""Password logins with a lock-out: repeated wrong passwords lock an account for a while."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Update, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from storage.models import ActivationToken, Role, User, utcnow

# Whose lock-outs and passwords each role may lift and reset: organizers look after the
# contest's people, operators after every account (staff included).
MANAGES: dict[Role, frozenset[Role]] = {
    Role.ORGANIZER: frozenset({Role.CONTESTANT, Role.JUDGE, Role.DISTRICT}),
    Role.OPERATOR: frozenset(Role),
}


@dataclass(frozen=True)
class LockoutPolicy:
    attempts: int  # wrong passwords in a row that lock the account; 0 never locks
    minutes: float


class AccountLocked(Exception):
    """Too many wrong passwords: the account refuses every password until `until`."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"locked until {until.isoformat()}")
        self.until = until


# Checked when no account matches, so that unknown names take as long to refuse as wrong
# passwords: the answer time must not tell which user names exist.
_DUMMY_HASH = generate_password_hash("not-a-password-anyone-has")


def check_login(
    session: Session,
    username: str,
    password: str,
    policy: LockoutPolicy,
    now: datetime | None = None,
) -> User | None:
    """The active user with these credentials, or None; raises AccountLocked while locked.

    A locked account refuses even the right password, so guessing on during the lock-out
    learns nothing. Failures are counted by one atomic UPDATE, so guesses sent at once are
    each counted. Commits the failure count.
    """
    now = now or utcnow()
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if user.locked_until is not None and user.locked_until > now:
        raise AccountLocked(user.locked_until)
    if check_password_hash(user.password_hash, password):
        # A lock set by guesses that finished while this hash was computed still holds.
        session.refresh(user)
        if user.locked_until is not None and user.locked_until > now:
            raise AccountLocked(user.locked_until)
        if user.failed_logins:
            user.failed_logins = 0
            session.commit()
        return user
    failures = session.execute(
        update(User)
        .where(User.id == user.id)
        .values(failed_logins=User.failed_logins + 1)
        .returning(User.failed_logins)
    ).scalar_one()
    if policy.attempts and failures >= policy.attempts:
        until = now + timedelta(minutes=policy.minutes)
        session.execute(
            update(User).where(User.id == user.id).values(locked_until=until, failed_logins=0)
        )
        session.commit()
        raise AccountLocked(until)
    session.commit()
    return None


def lock_state(user: User, now: datetime | None = None) -> datetime | None:
    """Until when the account is locked, or None."""
    now = now or utcnow()
    return user.locked_until if user.locked_until and user.locked_until > now else None


def unlock(session: Session, user: User) -> None:
    """Lift a lock-out (an organizer resetting the password does so)."""
    user.locked_until = None
    user.failed_logins = 0
    session.commit()


def set_password(session: Session, user: User, password_hash: str) -> None:
    """A new password: it lifts any lock-out and ends every session signed in before.

    It also ends an invitation still open (an organizer reset the password of a judge who
    had not activated): the account now has a password, so its links count as used."""
    user.password_hash = password_hash
    user.session_version += 1
    session.execute(open_tokens_of(user).values(used_at=utcnow()))
    unlock(session, user)  # commits


def open_tokens_of(user: User) -> Update:
    """An UPDATE of the user's activation tokens neither used nor revoked; add `.values()`."""
    return update(ActivationToken).where(
        ActivationToken.user_id == user.id,
        ActivationToken.used_at.is_(None),
        ActivationToken.revoked_at.is_(None),
    )


def end_sessions(session: Session, user_id: int) -> None:
    """Every session of the user ends (logout): the session version moves on; commits."""
    session.execute(
        update(User).where(User.id == user_id).values(session_version=User.session_version + 1)
    )
    session.commit()


def manageable(session: Session, manager_role: Role) -> list[User]:
    """The accounts `manager_role` looks after, staff first, then by user name."""
    roles = MANAGES.get(manager_role, frozenset())
    users = session.scalars(select(User).where(User.role.in_(roles)).order_by(User.username))
    return sorted(users, key=lambda u: u.role is Role.CONTESTANT)


def may_manage(manager: User, user: User) -> bool:
    """One's own account is changed on the password page, never from a list."""
    return user.id != manager.id and user.role in MANAGES.get(manager.role, frozenset())
