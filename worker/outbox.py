"""The outbox's life: publish after commit, claim, record the outcome, sweep what was lost.

A message is sent at most once. A worker claims a row (queued → sending) in a committed
transaction before it talks to the mail server; a redelivered task, or a second worker,
finds the row no longer queued and does nothing. A worker that dies mid-send leaves the row
`sending`; the sweep marks it uncertain after OUTBOX_SENDING_TIMEOUT_SECONDS, and only an
operator sends it again. Passing faults (the server is down, a 4xx answer) put the row back
in the queue with a growing wait; lasting ones (an address refused) fail it with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, event, or_, select, update
from sqlalchemy.orm import Session

from storage.models import utcnow
from storage.outbox import PENDING, OutboxMessage, OutboxState
from storage.settings import Settings

log = logging.getLogger(__name__)
FIRST_WAIT = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=1)
# Queued rows this old were not published after their commit (the broker was down); the
# sweep publishes them. Younger ones are still on their way.
UNPUBLISHED_AFTER = timedelta(seconds=30)


class PassingFault(Exception):
    """Sending failed in a way that may pass (the server is down, a 4xx answer)."""


class LastingFault(Exception):
    """Sending failed in a way that will not pass by waiting (the address was refused)."""


class Skip(Exception):  # noqa: N818 - it is an outcome, not an error
    """The message is no longer due: turned off, no address, its entry gone."""


def install_publisher(publish: Callable[[int], None]) -> None:
    """After every commit, publish the outbox rows that transaction added (once per process).

    A row whose publishing fails stays queued; the sweep publishes it later.
    """
    global _publish
    if _publish is None:
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
    _publish = publish


_publish: Callable[[int], None] | None = None


def _after_commit(session: Session) -> None:
    pending = session.info.pop(PENDING, None)
    if not pending or _publish is None:
        return
    for message_id in pending:
        try:
            _publish(message_id)
        except Exception as exc:  # noqa: BLE001 - the sweep publishes it later
            log.warning("outbox %s: not published now (%s); the sweep will", message_id, exc)


def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING, None)


def claim(session: Session, message_id: int, now: datetime | None = None) -> OutboxMessage | None:
    """Take the message for sending, committed; None when it is not (or not yet) due."""
    now = now or utcnow()
    claimed = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.state == OutboxState.QUEUED,
            or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
        )
        .values(state=OutboxState.SENDING, claimed_at=now, attempts=OutboxMessage.attempts + 1)
    ).rowcount  # type: ignore[attr-defined]
    session.commit()
    if not claimed:
        return None
    return session.get(OutboxMessage, message_id, populate_existing=True)


def record_sent(session: Session, message: OutboxMessage, message_id: str) -> None:
    """The server took it."""
    message.state = OutboxState.SENT
    message.sent_at = utcnow()
    message.message_id = message_id[:200]
    message.last_error = ""
    session.commit()


def record_skipped(session: Session, message: OutboxMessage, reason: str) -> None:
    """Not sent, and not to be: say why."""
    message.state = OutboxState.SKIPPED
    message.last_error = reason
    session.commit()


def record_failure(
    session: Session, message: OutboxMessage, reason: str, settings: Settings, *, lasting: bool
) -> timedelta | None:
    """Put the message back in the queue for later, or fail it; the wait, or None if failed."""
    message.last_error = reason
    if lasting or message.attempts >= settings.outbox_max_attempts:
        message.state = OutboxState.FAILED
        message.next_attempt_at = None
        session.commit()
        return None
    wait = min(LONGEST_WAIT, FIRST_WAIT * 2 ** (message.attempts - 1))
    message.state = OutboxState.QUEUED
    message.next_attempt_at = utcnow() + wait
    session.commit()
    return wait


def requeue(session: Session, message_id: int) -> bool:
    """An operator's 重新发送 of a failed, uncertain or skipped message; not committed."""
    return bool(
        session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.state.in_(
                    [OutboxState.FAILED, OutboxState.UNCERTAIN, OutboxState.SKIPPED]
                ),
            )
            .values(state=OutboxState.QUEUED, next_attempt_at=None, attempts=0)
        ).rowcount  # type: ignore[attr-defined]
    )


def sweep_outbox(session: Session, settings: Settings, now: datetime | None = None) -> list[int]:
    """Mark messages stuck mid-send uncertain; return the due queued ones to publish again."""
    now = now or utcnow()
    stuck = now - timedelta(seconds=settings.outbox_sending_timeout_seconds)
    uncertain = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.state == OutboxState.SENDING, OutboxMessage.claimed_at < stuck)
        .values(
            state=OutboxState.UNCERTAIN,
            last_error="发送途中工作进程中断，可能已经发出；确认未收到后再重新发送",
        )
    ).rowcount  # type: ignore[attr-defined]
    due = list(
        session.scalars(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.state == OutboxState.QUEUED,
                OutboxMessage.created_at < now - UNPUBLISHED_AFTER,
                or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
            )
            .order_by(OutboxMessage.id)
            .limit(1000)
        )
    )
    session.commit()
    if uncertain:
        log.warning("outbox: %s message(s) stopped mid-send, marked uncertain", uncertain)
    return due


ENDED = (OutboxState.SENT, OutboxState.SKIPPED, OutboxState.FAILED, OutboxState.UNCERTAIN)


def prune_outbox(session: Session, keep: timedelta, now: datetime | None = None) -> int:
    """Delete the messages that ended and were queued longer than `keep` ago; commits.

    Their keys made the events they told of happen once; `keep` (OUTBOX_KEEP_DAYS, at least
    30) outlives every window in which a scan could tell the same occasion again.
    """
    cutoff = (now or utcnow()) - keep
    deleted = session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.state.in_(ENDED), OutboxMessage.created_at < cutoff
        )
    ).rowcount  # type: ignore[attr-defined]
    session.commit()
    return int(deleted or 0)
