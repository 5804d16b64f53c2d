"""What the operators see: queue depths, worker nodes, jobs, throughput and the dead letters.

Plain functions over a session, the settings and a Celery app, shared by the ops page,
`/metrics` and `footprints ops status`, so all three report the same numbers. Every call to
the broker or the workers has a short timeout: a dead worker or broker never hangs a page.

- `broker`: queue depths, from the RabbitMQ management API or a passive declare.
- `dead_letters`: peek at, retry and purge the dead-letter queue.
- `nodes`: worker nodes, online, lost or stopped, and what each runs.
- `stats`: jobs by state, throughput, the backlog's end, the metrics' figures.
- `status`: all of it gathered once (`fleet_status`), as plain data for JSON.
- `report`: `footprints ops status` as plain-text tables.
"""
