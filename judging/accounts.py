"""Password logins with a lock-out: repeated wrong passwords lock an account for a while."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from storage.models import User, utcnow


@dataclass(frozen=True)
class LockoutPolicy:
    attempts: int  # wrong passwords in a row that lock the account; 0 never locks
    minutes: float


class AccountLocked(Exception):
    """Too many wrong passwords: the account refuses every password until `until`."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"locked until {until.isoformat()}")
        self.until = until


def check_login(
    session: Session,
    username: str,
    password: str,
    policy: LockoutPolicy,
    now: datetime | None = None,
) -> User | None:
    """The active user with these credentials, or None; raises AccountLocked while locked.

    A locked account refuses even the right password, so guessing on during the lock-out
    learns nothing. Commits the failure count.
    """
    now = now or utcnow()
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        return None
    if user.locked_until is not None and user.locked_until > now:
        raise AccountLocked(user.locked_until)
    if check_password_hash(user.password_hash, password):
        if user.failed_logins:
            user.failed_logins = 0
            session.commit()
        return user
    user.failed_logins += 1
    if policy.attempts and user.failed_logins >= policy.attempts:
        user.locked_until = now + timedelta(minutes=policy.minutes)
        user.failed_logins = 0
        session.commit()
        raise AccountLocked(user.locked_until)
    session.commit()
    return None


def unlock(session: Session, user: User) -> None:
    """Lift a lock-out (an organizer resetting the password does so)."""
    user.locked_until = None
    user.failed_logins = 0
    session.commit()
