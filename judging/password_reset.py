"""Forgotten passwords: a one-time link by mail (or SMS) that lets the account set a new one.

Anyone may ask for a link by user name or e-mail address; the page answers the same whether
or not an account matched, so it cannot be used to find out who has one. The link is an
activation token of purpose `reset` (judging/judge_invitations.py keeps the rules of using
one): valid RESET_HOURS, the newest one only, and at most MAX_PER_HOUR asked for an account
in an hour, so the form cannot be used to flood someone's inbox.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from judging.accounts import open_tokens_of
from judging.judge_invitations import issue_link
from storage.models import ActivationToken, Entry, Role, TokenPurpose, User, utcnow

RESET_HOURS = 2
MAX_PER_HOUR = 3
IDENTIFIER_LIMIT = 120


def accounts_named(session: Session, identifier: str) -> list[User]:
    """The active accounts a user name or e-mail address names (an address may name several)."""
    identifier = identifier.strip()[:IDENTIFIER_LIMIT]
    if not identifier:
        return []
    names = [User.username == identifier]
    if "@" in identifier:
        names.append(func.lower(User.email) == identifier.lower())
    query = select(User).where(or_(*names), User.active.is_(True)).order_by(User.id)
    return list(session.scalars(query))


def reachable_at(session: Session, user: User) -> tuple[str, str]:
    """Where a reset link goes: the account's e-mail and phone; for a contestant who gave
    none, the contact e-mail and phone of their newest entry (the form asks every entry)."""
    email, phone = user.email.strip(), user.phone.strip()
    if user.role is Role.CONTESTANT and not (email or phone):
        entry = session.scalars(
            select(Entry).where(Entry.owner_id == user.id).order_by(Entry.id.desc()).limit(1)
        ).first()
        if entry is not None:
            email, phone = entry.email.strip(), entry.contact_phone.strip()
    return email, phone


def request_reset(session: Session, identifier: str, now: datetime | None = None) -> int:
    """Send a reset link to each account `identifier` names that has somewhere to send it;
    commits. Returns how many links were sent: for the tests and the log, never for the page.
    """
    now = now or utcnow()
    sent = 0
    for user in accounts_named(session, identifier):
        email, phone = reachable_at(session, user)
        if not (email or phone):
            continue
        if _asked_lately(session, user, now) >= MAX_PER_HOUR:
            continue
        # Only the newest link works: an older one in a mailbox is a key nobody needs.
        session.execute(
            open_tokens_of(user)
            .where(ActivationToken.purpose == TokenPurpose.RESET)
            .values(revoked_at=now)
        )
        lifetime = timedelta(hours=RESET_HOURS)
        issue_link(session, user, TokenPurpose.RESET, lifetime, now, email=email, phone=phone)
        sent += 1
    session.commit()
    return sent


def _asked_lately(session: Session, user: User, now: datetime) -> int:
    return (
        session.scalar(
            select(func.count(ActivationToken.id)).where(
                ActivationToken.user_id == user.id,
                ActivationToken.purpose == TokenPurpose.RESET,
                ActivationToken.created_at > now - timedelta(hours=1),
            )
        )
        or 0
    )
