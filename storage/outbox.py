"""The outbox: every message the service owes a person, and what became of it.

A row is written in the same transaction as the event it tells of (an entry refused, a judge
invited), so a message exists exactly when its event does. Its `key` names the event and the
recipient once: writing the same event twice finds the row already there, which makes the
periodic reminders and redelivered tasks safe. The short-task worker sends it
(web/outbox_task.py) and records the outcome here.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models import Base, User, UtcDateTime, utcnow

# session.info key: ids of the rows a transaction added, published once it commits.
PENDING = "footprints.outbox_pending"


class OutboxState(enum.StrEnum):
    QUEUED = "queued"  # waiting for its first or next attempt
    SENDING = "sending"  # claimed by a worker, which is talking to the server now
    SENT = "sent"
    FAILED = "failed"  # will not be tried again without an operator (reason kept)
    # The worker stopped between handing the message over and recording it: it may have
    # gone out. Never resent by itself (at most once); an operator can send it again.
    UNCERTAIN = "uncertain"
    SKIPPED = "skipped"  # turned off, or no address, by the time it was due


class Channel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"


class OutboxMessage(Base):
    """One message to one person on one channel."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        UniqueConstraint("key"),
        Index("ix_outbox_messages_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # kind:subject:recipient:channel, e.g. video_refused:job-12:user-7:email
    key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # Where it goes (an e-mail address or a phone number), as it was when the event happened.
    address: Mapped[str] = mapped_column(String(120))
    # What the templates need besides the user: ids, numbers, reasons, one-time links.
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(12), default=OutboxState.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # What was sent, kept for the ops page (set when rendered).
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    user: Mapped[User | None] = relationship()


class NotificationOptOut(Base):
    """A kind of message a user turned off (from the account page or an unsubscribe link)."""

    __tablename__ = "notification_opt_outs"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
