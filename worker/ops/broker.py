"""Queue depths and consumers: the RabbitMQ management API, else a passive declare."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import urllib3
from kombu import Connection
from kombu.exceptions import OperationalError as BrokerError

from storage.settings import Settings
from worker.queues import all_queues

BROKER_TIMEOUT = 3.0
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
