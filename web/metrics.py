"""`/metrics` in Prometheus's text format: jobs, their durations, queues, workers, refusals.

Built per scrape from the database and the broker (through `worker.ops`, as the ops page
is), so every web process answers the same and nothing needs a multiprocess registry.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, abort, request
from flask_limiter.util import get_remote_address
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from web.extensions import db, limiter, settings_of
from worker.celery_app import celery
from worker.ops.stats import finished_job_seconds, refusals_by_reason
from worker.ops.status import FleetStatus, fleet_status

bp = Blueprint("metrics", __name__)
DURATION_BUCKETS = (10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200)


class FleetCollector(Collector):
    """One scrape's figures as Prometheus metric families."""

    def __init__(self, status: FleetStatus, durations: list[float], refusals: dict[str, int]):
        self.status, self.durations, self.refusals = status, durations, refusals

    def collect(self) -> Iterator[Metric]:
        jobs = GaugeMetricFamily("footprints_jobs", "Media jobs by state.", labels=["state"])
        for state, count in self.status.jobs.counts.items():
            jobs.add_metric([state], count)
        yield jobs
        yield _histogram(self.durations)
        depth = GaugeMetricFamily(
            "footprints_queue_messages", "Messages in a queue.", labels=["queue", "state"]
        )
        consumers = GaugeMetricFamily(
            "footprints_queue_consumers", "Consumers of a queue.", labels=["queue"]
        )
        for q in self.status.queues.queues:
            if q.ready is not None:
                depth.add_metric([q.name, "ready"], q.ready)
            if q.unacked is not None:
                depth.add_metric([q.name, "unacked"], q.unacked)
            if q.consumers is not None:
                consumers.add_metric([q.name], q.consumers)
        yield depth
        yield consumers
        yield GaugeMetricFamily(
            "footprints_broker_up",
            "1 when the broker answered this scrape.",
            value=0 if self.status.queues.source == "unavailable" else 1,
        )
        yield GaugeMetricFamily(
            "footprints_workers_online",
            "Worker nodes that answered a ping.",
            value=len(self.status.workers.online),
        )
        yield GaugeMetricFamily(
            "footprints_worker_slots",
            "Jobs the online workers run at once.",
            value=self.status.workers.slots,
        )
        yield GaugeMetricFamily(
            "footprints_backlog_jobs",
            "Queued and running jobs.",
            value=self.status.jobs.backlog,
        )
        refused = GaugeMetricFamily(
            "footprints_refused_jobs", "Refused media jobs by reason.", labels=["reason"]
        )
        for reason, count in sorted(self.refusals.items()):
            refused.add_metric([reason], count)
        yield refused


def _histogram(durations: list[float]) -> HistogramMetricFamily:
    buckets = [(str(float(le)), sum(1 for d in durations if d <= le)) for le in DURATION_BUCKETS]
    buckets.append(("+Inf", len(durations)))
    return HistogramMetricFamily(
        "footprints_job_duration_seconds",
        "Wall time of finished media jobs.",
        buckets=buckets,
        sum_value=sum(durations),
    )


@bp.route("/metrics")
# A scrape asks the broker and pings every worker; counted before the token is checked, so
# guessing the token is bounded too. Per address: one client cannot starve Prometheus.
@limiter.limit(lambda: settings_of().metrics_rate_limit, key_func=get_remote_address)
def metrics() -> Any:
    token = settings_of().metrics_token
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            abort(401)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(
        FleetCollector(
            fleet_status(db.session, celery, settings_of()),
            finished_job_seconds(db.session),
            refusals_by_reason(db.session),
        )
    )
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
