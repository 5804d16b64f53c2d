"""The dead-letter queue: peek at its oldest letters, run their jobs again, or drop them all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kombu import Connection, Queue
from sqlalchemy.orm import Session

from storage.models import Job, JobState
from storage.settings import Settings
from worker.dispatch import requeue_job
from worker.ops.broker import BROKER_TIMEOUT
from worker.queues import dead_letter_queue, job_id_of


@dataclass
class DeadLetter:
    task: str
    job_id: int | None
    reason: str
    count: int
    died_at: str


@contextmanager
def _dead_letters(settings: Settings) -> Iterator[Queue]:
    """The dead-letter queue, declared, on a channel of its own that closes afterwards."""
    with Connection(settings.broker_url, connect_timeout=BROKER_TIMEOUT) as conn:
        channel = conn.channel()
        queue = dead_letter_queue(settings)(channel)
        queue.declare()
        try:
            yield queue
        finally:
            # Closing the channel puts back every message taken and not acknowledged.
            channel.close()


def peek_dead_letters(settings: Settings, limit: int = 20) -> list[DeadLetter]:
    """The oldest dead letters, left in their queue."""
    letters = []
    with _dead_letters(settings) as queue:
        for _ in range(limit):
            message = queue.get(no_ack=False)
            if message is None:
                break
            letters.append(_dead_letter(message))
    return letters


def retry_dead_letters(session: Session, settings: Settings) -> tuple[int, int]:
    """Empty the dead letters: each one's job runs again from the start; returns (jobs, dropped).

    A letter whose job is gone or already ready is dropped.
    """
    jobs = dropped = 0
    with _dead_letters(settings) as queue:
        while (message := queue.get(no_ack=False)) is not None:
            job_id = _dead_letter(message).job_id
            job = session.get(Job, job_id) if job_id is not None else None
            if job is not None and job.state is not JobState.READY:
                requeue_job(session, job)
                jobs += 1
            else:
                dropped += 1
            message.ack()
    return jobs, dropped


def purge_dead_letters(settings: Settings) -> int:
    """Drop every dead letter; returns how many there were."""
    with _dead_letters(settings) as queue:
        return int(queue.purge() or 0)


def _dead_letter(message: Any) -> DeadLetter:
    headers = message.headers or {}
    deaths = headers.get("x-death") or [{}]
    try:
        job_id = job_id_of(message.decode()[0])
    except (ValueError, TypeError, IndexError, KeyError):
        job_id = None
    first = deaths[0]
    died = first.get("time")
    return DeadLetter(
        task=str(headers.get("task", "?")),
        job_id=job_id,
        reason=f"{first.get('reason', '?')} from {first.get('queue', '?')}",
        count=int(first.get("count", 1)),
        died_at=died.isoformat() if isinstance(died, datetime) else str(died or ""),
    )
