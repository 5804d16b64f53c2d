"""Everything the ops page shows, gathered once, and as plain data for JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from celery import Celery
from sqlalchemy.orm import Session

from storage.settings import Settings
from worker.ops.broker import QueueReport, queue_report
from worker.ops.nodes import WorkerReport, worker_report
from worker.ops.stats import JobReport, job_report
from worker.queues import dead_queue_name


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
