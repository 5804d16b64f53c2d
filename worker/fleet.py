"""What the operators see: queue depths, worker nodes, jobs, throughput and the dead letters.

Plain functions over a session, the settings and a Celery app, shared by the ops page,
`/metrics` and `footprints ops status`, so all three report the same numbers. Every call to
the broker or the workers has a short timeout: a dead worker or broker never hangs a page.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import urllib3
from celery import Celery
from kombu import Connection, Queue
from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Job, JobState, WorkerNode, utcnow
from storage.settings import Settings
from worker.dispatch import requeue_job
from worker.queues import all_queues, dead_letter_queue, dead_queue_name

log = logging.getLogger(__name__)
BROKER_TIMEOUT = 3.0
# Workers that stopped cleanly stay listed this long; lost ones until they were last seen
# this long ago (a lost node is news; an old one is noise).
STOPPED_SHOWN = timedelta(hours=1)
LOST_SHOWN = timedelta(hours=24)
THROUGHPUT_WINDOW = timedelta(hours=1)
RECENT_FAILURES = 50
BROKER_ERRORS = (BrokerError, OSError, TimeoutError)


@dataclass
class QueueStat:
    """One queue as the broker sees it; counts are None when the broker could not say."""

    name: str
    role: str  # transcode, short or dead
    ready: int | None = None
    unacked: int | None = None
    consumers: int | None = None


@dataclass
class QueueReport:
    queues: list[QueueStat]
    source: str  # "api" (management HTTP API), "amqp" (passive declare) or "unavailable"
    error: str = ""


def queue_report(settings: Settings) -> QueueReport:
    """Depth and consumers of every queue: the management API, else a passive declare."""
    roles = ["transcode", "short", "dead"]
    stats = [QueueStat(q.name, role) for q, role in zip(all_queues(settings), roles, strict=True)]
    api_error = ""
    if settings.rabbitmq_api_url:
        try:
            _from_management_api(settings, stats)
            return QueueReport(stats, "api")
        except (urllib3.exceptions.HTTPError, ValueError, KeyError) as exc:
            api_error = f"management API: {exc}"
    try:
        _from_passive_declare(settings, stats)
    except BROKER_ERRORS as exc:
        return QueueReport(stats, "unavailable", f"{api_error}; broker: {exc}".lstrip("; "))
    return QueueReport(stats, "amqp", api_error)


def _management_auth(settings: Settings) -> tuple[str, dict[str, str]]:
    parts = urlsplit(settings.rabbitmq_api_url)
    broker = Connection(settings.broker_url)
    user = parts.username or broker.userid or "guest"
    password = parts.password or broker.password or "guest"
    base = f"{parts.scheme}://{parts.hostname}:{parts.port or 15672}{parts.path.rstrip('/')}"
    headers = urllib3.make_headers(basic_auth=f"{user}:{password}")
    vhost = broker.virtual_host or "/"
    return f"{base}/api/queues/{quote(vhost, safe='')}", headers


def _from_management_api(settings: Settings, stats: list[QueueStat]) -> None:
    url, headers = _management_auth(settings)
    http = urllib3.PoolManager(timeout=urllib3.Timeout(total=BROKER_TIMEOUT), retries=False)
    for stat in stats:
        response = http.request("GET", f"{url}/{quote(stat.name, safe='')}", headers=headers)
        if response.status == 404:  # not declared yet: nothing waits there
            stat.ready, stat.unacked, stat.consumers = 0, 0, 0
            continue
        if response.status != 200:
            raise ValueError(f"HTTP {response.status} for queue {stat.name}")
        data = json.loads(response.data)
        stat.ready = int(data.get("messages_ready", 0))
        stat.unacked = int(data.get("messages_unacknowledged", 0))
        stat.consumers = int(data.get("consumers", 0))


def _from_passive_declare(settings: Settings, stats: list[QueueStat]) -> None:
    with Connection(settings.broker_url, connect_timeout=BROKER_TIMEOUT) as conn:
        conn.ensure_connection(max_retries=1)
        for stat in stats:
            channel = conn.channel()
            try:
                _, ready, consumers = channel.queue_declare(stat.name, passive=True)
                stat.ready, stat.consumers = int(ready), int(consumers)
            except conn.channel_errors:  # 404: not declared yet
                stat.ready, stat.consumers = 0, 0
            finally:
                try:
                    channel.close()
                except conn.connection_errors + conn.channel_errors:
                    pass


@dataclass
class RunningTask:
    task_id: str
    job_id: int | None
    started: float | None


@dataclass
class WorkerStat:
    name: str
    state: str  # online, lost or stopped
    concurrency: int
    queues: str
    pid: int | None
    started_at: datetime | None
    last_seen_at: datetime | None
    running: list[RunningTask] = field(default_factory=list)


@dataclass
class WorkerReport:
    workers: list[WorkerStat]
    error: str = ""

    @property
    def online(self) -> list[WorkerStat]:
        return [w for w in self.workers if w.state == "online"]

    @property
    def slots(self) -> int:
        """Jobs the online workers can run at once."""
        return sum(w.concurrency for w in self.online)


def ping_workers(
    app: Celery, timeout: float, nodes: Sequence[str] = ()
) -> dict[str, list[dict[str, Any]]]:
    """Each answering worker's running tasks: of `nodes` only, and no longer than it takes
    them all to answer; with no nodes named, of every worker that answers within `timeout`.

    Naming the nodes matters where other workers share the broker (another deployment on the
    vhost, the test suite's other processes): stopping after N replies of anyone could stop
    before the nodes asked about had answered."""
    if nodes:
        inspect = app.control.inspect(timeout=timeout, destination=list(nodes), limit=len(nodes))
    else:
        inspect = app.control.inspect(timeout=timeout)
    return inspect.active() or {}


def worker_report(
    session: Session, app: Celery, timeout: float, now: datetime | None = None
) -> WorkerReport:
    """Every known worker node: online if it answers now, else lost (or stopped cleanly)."""
    now = now or utcnow()
    nodes = {
        node.name: node
        for node in session.scalars(select(WorkerNode).order_by(WorkerNode.name))
        if (node.stopped_at or node.last_seen_at) > now - LOST_SHOWN
    }
    # Nodes record themselves as they start (worker/signals.py), before they can answer.
    live = [name for name, node in nodes.items() if node.stopped_at is None]
    error = ""
    try:
        replies = ping_workers(app, timeout, live)
    except BROKER_ERRORS as exc:
        replies, error = {}, f"broker: {exc}"
    workers = []
    for name in sorted(set(nodes) | set(replies)):
        node = nodes.get(name)
        if name in replies:
            state = "online"
        elif node is not None and node.stopped_at is not None:
            if node.stopped_at < now - STOPPED_SHOWN:
                continue
            state = "stopped"
        else:
            state = "lost"
        workers.append(
            WorkerStat(
                name=name,
                state=state,
                concurrency=node.concurrency if node else 1,
                queues=node.queues if node else "",
                pid=node.pid if node else None,
                started_at=node.started_at if node else None,
                last_seen_at=now if name in replies else (node.last_seen_at if node else None),
                running=[_running(task) for task in replies.get(name, [])],
            )
        )
    return WorkerReport(workers, error)


def _running(task: dict[str, Any]) -> RunningTask:
    args = task.get("args") or []
    if isinstance(args, str):  # some Celery versions send the repr
        args = args.strip("()[], ").split(",")
    try:
        job_id = int(args[0]) if args else None
    except (TypeError, ValueError):
        job_id = None
    return RunningTask(str(task.get("id", "")), job_id, task.get("time_start"))


def record_seen(session: Session, app: Celery, timeout: float) -> list[str]:
    """Note which workers answer now (the sweeper calls this), so lost ones show since when."""
    replies = ping_workers(app, timeout)
    now = utcnow()
    for name in replies:
        node = session.get(WorkerNode, name) or WorkerNode(name=name, started_at=now)
        node.last_seen_at = now
        node.stopped_at = None
        session.add(node)
    session.commit()
    return sorted(replies)


@dataclass
class JobReport:
    counts: dict[str, int]
    running: list[Job]
    failures: list[Job]
    ready_last_hour: int
    video_minutes_last_hour: float
    average_job_seconds: float | None
    backlog: int
    backlog_clears_in: float | None  # seconds; None when there is no history or no worker


def job_report(session: Session, slots: int, now: datetime | None = None) -> JobReport:
    """Jobs by state, the running ones, recent failures, throughput and the backlog's end."""
    now = now or utcnow()
    counts = {state.value: 0 for state in JobState}
    for state, count in session.execute(select(Job.state, func.count()).group_by(Job.state)):
        counts[state.value] = count
    running = list(
        session.scalars(select(Job).where(Job.state == JobState.RUNNING).order_by(Job.started_at))
    )
    failures = list(
        session.scalars(
            select(Job)
            .where(Job.state.in_([JobState.FAILED, JobState.REJECTED, JobState.CANCELLED]))
            .order_by(Job.finished_at.desc(), Job.id.desc())
            .limit(RECENT_FAILURES)
        )
    )
    since = now - THROUGHPUT_WINDOW
    ready_count, media_seconds = session.execute(
        select(func.count(), func.coalesce(func.sum(Job.media_seconds), 0.0)).where(
            Job.state == JobState.READY, Job.finished_at >= since
        )
    ).one()
    # Before any job has finished, the running ones' pace is the best guess there is.
    average = average_job_seconds(session, now) or projected_job_seconds(running, now)
    return JobReport(
        counts=counts,
        running=running,
        failures=failures,
        ready_last_hour=int(ready_count),
        video_minutes_last_hour=round(float(media_seconds) / 60, 1),
        average_job_seconds=average,
        backlog=counts[JobState.QUEUED.value] + counts[JobState.RUNNING.value],
        backlog_clears_in=backlog_eta(
            counts[JobState.QUEUED.value], [job.eta_seconds for job in running], average, slots
        ),
    )


def average_job_seconds(
    session: Session, now: datetime, sample: int = 50, window: timedelta = timedelta(days=1)
) -> float | None:
    """Mean wall time of the newest jobs made ready within `window` before `now`."""
    rows = session.execute(
        select(Job.started_at, Job.finished_at)
        .where(
            Job.state == JobState.READY,
            Job.started_at.is_not(None),
            Job.finished_at.between(now - window, now),
        )
        .order_by(Job.finished_at.desc())
        .limit(sample)
    ).all()
    spans = [(end - start).total_seconds() for start, end in rows if start and end]
    return sum(spans) / len(spans) if spans else None


def projected_job_seconds(running: list[Job], now: datetime) -> float | None:
    """Mean total time of running jobs, projected from their progress so far."""
    totals = [
        (now - job.started_at).total_seconds() * 100 / job.percent
        for job in running
        if job.started_at is not None and job.percent >= 5
    ]
    return sum(totals) / len(totals) if totals else None


def backlog_eta(
    queued: int, running_etas: list[float | None], average: float | None, slots: int
) -> float | None:
    """Seconds until queued and running jobs are all done, with `slots` jobs at a time.

    Running jobs count their own time left (or a whole average when they have not said);
    queued ones an average each. None when nothing tells how long a job takes, or when no
    worker is there to do it.
    """
    if queued == 0 and not running_etas:
        return 0.0
    if average is None or slots <= 0:
        return None
    left = sum(average if eta is None else eta for eta in running_etas) + queued * average
    return left / slots


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
        args = message.decode()[0]
        job_id = int(args[0]) if args else None
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


@dataclass
class FleetStatus:
    queues: QueueReport
    workers: WorkerReport
    jobs: JobReport
    dead_queue: str

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON: queues, workers, jobs by state and the throughput figures."""
        jobs = self.jobs
        return {
            "queues": {
                "source": self.queues.source,
                "error": self.queues.error,
                "items": [asdict(q) for q in self.queues.queues],
            },
            "workers": {
                "online": len(self.workers.online),
                "slots": self.workers.slots,
                "error": self.workers.error,
                "items": [
                    {
                        "name": w.name,
                        "state": w.state,
                        "concurrency": w.concurrency,
                        "queues": w.queues,
                        "pid": w.pid,
                        "last_seen_at": w.last_seen_at.isoformat() if w.last_seen_at else None,
                        "running": [asdict(r) for r in w.running],
                    }
                    for w in self.workers.workers
                ],
            },
            "jobs": {
                "counts": jobs.counts,
                "running": [
                    {
                        "id": j.id,
                        "entry": j.entry_id,
                        "percent": round(j.percent, 1),
                        "eta_seconds": j.eta_seconds,
                        "worker": j.worker,
                    }
                    for j in jobs.running
                ],
                "ready_last_hour": jobs.ready_last_hour,
                "video_minutes_last_hour": jobs.video_minutes_last_hour,
                "average_job_seconds": jobs.average_job_seconds,
                "backlog": jobs.backlog,
                "backlog_clears_in_seconds": jobs.backlog_clears_in,
            },
        }


def fleet_status(session: Session, app: Celery, settings: Settings) -> FleetStatus:
    """Everything the ops page shows, gathered once."""
    workers = worker_report(session, app, settings.inspect_timeout_seconds)
    return FleetStatus(
        queues=queue_report(settings),
        workers=workers,
        jobs=job_report(session, workers.slots),
        dead_queue=dead_queue_name(settings),
    )


def finished_job_seconds(session: Session) -> list[float]:
    """Wall time of every finished job that ran (for the duration histogram)."""
    rows = session.execute(
        select(Job.started_at, Job.finished_at).where(
            Job.state.in_([JobState.READY, JobState.REJECTED, JobState.FAILED]),
            Job.started_at.is_not(None),
            Job.finished_at.is_not(None),
        )
    ).all()
    return [max(0.0, (end - start).total_seconds()) for start, end in rows]


def refusals_by_reason(session: Session) -> dict[str, int]:
    """Refused (rejected) jobs counted by their reason code."""
    rows = session.execute(
        select(Job.reason_code, func.count())
        .where(Job.state == JobState.REJECTED)
        .group_by(Job.reason_code)
    ).all()
    return {code or "unknown": count for code, count in rows}
