"""The short-task worker's side of the outbox: send one message, sweep, scan for reminders.

These tasks render the site's mail templates and build links with its URL map, so they
live with the web code and run in the worker with an app of their own (`mail_app()`).
"""

from __future__ import annotations

import functools
import logging
from datetime import timedelta

from celery import Task
from flask import Flask
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from judging.notification_scan import scan
from storage.database import session_scope
from storage.notifications import is_turned_off
from storage.outbox import OutboxMessage
from storage.settings import Settings
from worker.celery_app import celery
from worker.outbox import (
    LastingFault,
    PassingFault,
    Skip,
    claim,
    install_publisher,
    record_failure,
    record_sent,
    record_skipped,
    sweep_outbox,
)
from worker.queues import NOTIFY_SCAN_TASK, OUTBOX_SWEEP_TASK, SEND_MESSAGE_TASK

log = logging.getLogger(__name__)
# Params that hold a secret (a one-time activation link's token): kept only until the
# message reaches an end state, and never in the stored copy of the text.
SECRET_PARAMS = ("token",)
REDACTED = "[已隐去]"


def deliver(app: Flask, session: Session, message_id: int, settings: Settings) -> timedelta | None:
    """Send outbox row `message_id` once, if it is due; the wait before the next attempt when
    a passing fault put it back in the queue, else None."""
    from web.mail_render import render
    from web.notify_channels import sender_for

    message = claim(session, message_id)
    if message is None:
        return None  # sent, being sent, or not due: a redelivery or a second publish
    try:
        if message.user_id is not None and is_turned_off(session, message.user_id, message.kind):
            raise Skip("收件人已关闭此类通知")
        with app.test_request_context(base_url=settings.public_base_url):
            rendered = render(session, message)
            provider_id = sender_for(message.channel, settings).send(message, rendered)
    except Skip as exc:
        _forget_secrets(message)
        record_skipped(session, message, str(exc))
        return None
    except PassingFault as exc:
        wait = record_failure(session, message, str(exc), settings, lasting=False)
        if wait is None:
            _end(session, message)
        log.warning("outbox %s: not sent (%s); next attempt in %s", message.id, exc, wait)
        return wait
    except LastingFault as exc:
        _forget_secrets(message)
        record_failure(session, message, str(exc), settings, lasting=True)
        log.warning("outbox %s: failed: %s", message.id, exc)
        return None
    except OperationalError:
        raise  # the database: the task retries, the sweep marks the row uncertain if need be
    except Exception as exc:
        # A bug (a template, a builder): fail this message with the reason, send the others.
        log.exception("outbox %s: cannot be rendered or sent", message.id)
        session.rollback()
        message = session.get_one(OutboxMessage, message_id)
        _forget_secrets(message)
        record_failure(session, message, f"程序错误：{exc!r}", settings, lasting=True)
        return None
    message.subject = rendered.subject[:300]
    message.body = _redacted(message, rendered.text)
    _forget_secrets(message)
    record_sent(session, message, provider_id)
    return None


def _redacted(message: OutboxMessage, text: str) -> str:
    for name in SECRET_PARAMS:
        secret = message.params.get(name)
        if secret:
            text = text.replace(str(secret), REDACTED)
    return text


def _forget_secrets(message: OutboxMessage) -> None:
    if any(name in message.params for name in SECRET_PARAMS):
        message.params = {k: v for k, v in message.params.items() if k not in SECRET_PARAMS}


def _end(session: Session, message: OutboxMessage) -> None:
    _forget_secrets(message)
    session.commit()


@functools.cache
def mail_app() -> Flask:
    """The app the worker renders mail with (one per process, made on first use)."""
    from web import create_app

    return create_app({"FOOTPRINTS_WORKER": True})


def publish(message_id: int) -> None:
    """Queue the sending of outbox row `message_id` on the short queue."""
    send_message.apply_async(args=[message_id])


@celery.task(bind=True, name=SEND_MESSAGE_TASK, max_retries=None)
def send_message(self: Task, message_id: int) -> None:
    """Send outbox row `message_id` (at most once; passing faults retry with backoff)."""
    from worker.tasks import _resources

    settings, factory, _store = _resources()
    try:
        with session_scope(factory) as session:
            wait = deliver(mail_app(), session, message_id, settings)
    except OperationalError as exc:
        countdown = min(300, 5 * 2**self.request.retries)
        log.warning("outbox %s: database unavailable, retry in %s s", message_id, countdown)
        raise self.retry(exc=exc, countdown=countdown) from exc
    if wait is not None:
        raise self.retry(countdown=wait.total_seconds())


@celery.task(name=OUTBOX_SWEEP_TASK)
def sweep_messages() -> int:
    """Publish queued messages whose publishing was lost; mark stuck ones uncertain."""
    from worker.tasks import _resources

    settings, factory, _store = _resources()
    with session_scope(factory) as session:
        due = sweep_outbox(session, settings)
    for message_id in due:
        publish(message_id)
    return len(due)


@celery.task(name=NOTIFY_SCAN_TASK)
def scan_notifications() -> dict[str, int]:
    """Queue the reminders and digests that are due (every NOTIFY_SCAN_INTERVAL_SECONDS)."""
    from worker.tasks import _resources

    settings, factory, _store = _resources()
    with session_scope(factory) as session:
        return scan(session, settings.digest_hour)


# Whatever process imports this module (the web, the worker) publishes the messages its
# transactions add, once they commit.
install_publisher(publish)
