"""Worker nodes: online if they answer now, else lost (or stopped cleanly), and their tasks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from celery import Celery
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import WorkerNode, utcnow
from worker.ops.broker import BROKER_ERRORS
from worker.queues import job_id_of

# Workers that stopped cleanly stay listed this long; lost ones until they were last seen
# this long ago (a lost node is news; an old one is noise).
STOPPED_SHOWN = timedelta(hours=1)
LOST_SHOWN = timedelta(hours=24)


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
    job_id = job_id_of(task.get("args"))
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
