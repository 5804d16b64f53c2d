"""`footprints ops status` as plain-text tables, and the orphans line it ends with."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from storage.objects import ObjectStore, ObjectStoreError
from storage.retention import sweep_orphans


def orphan_status(session: Session, store: ObjectStore) -> dict[str, Any]:
    """Stored objects that no row names, as the next sweep would find them (S3 may be down)."""
    try:
        report = sweep_orphans(session, store, dry_run=True)
    except ObjectStoreError as exc:
        return {"count": None, "bytes": None, "removable": None, "error": str(exc)}
    return {
        "count": report.orphans,
        "bytes": report.orphan_bytes,
        "removable": report.removable,
        "removable_bytes": report.removable_bytes,
        "stale_multipart_uploads": report.removed_parts,
        "error": "",
    }


def size_text(n: int) -> str:
    """Bytes for people: 1000 B, 12.5 MiB."""
    value, unit = float(n), "B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            break
        value /= 1024
    return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"


def format_status(data: dict[str, Any]) -> str:
    """`ops status` as plain-text tables."""
    queues, workers, jobs = data["queues"], data["workers"], data["jobs"]

    def count(value: int | None) -> str:
        return "-" if value is None else str(value)

    lines = [f"QUEUES (from {queues['source']})"]
    if queues["error"]:
        lines.append(f"  ! {queues['error']}")
    lines.append(f"  {'name':<40} {'role':<10} {'ready':>6} {'unacked':>8} {'consumers':>10}")
    for q in queues["items"]:
        lines.append(
            f"  {q['name']:<40} {q['role']:<10} {count(q['ready']):>6} "
            f"{count(q['unacked']):>8} {count(q['consumers']):>10}"
        )
    lines.append(f"WORKERS ({workers['online']} online, {workers['slots']} slots)")
    if workers["error"]:
        lines.append(f"  ! {workers['error']}")
    for w in workers["items"]:
        running = ", ".join(f"job {r['job_id']}" for r in w["running"]) or "idle"
        lines.append(f"  {w['name']:<40} {w['state']:<8} x{w['concurrency']:<3} {running}")
    counts = ", ".join(f"{state} {n}" for state, n in jobs["counts"].items())
    lines.append(f"JOBS  {counts}")
    for j in jobs["running"]:
        eta = "?" if j["eta_seconds"] is None else f"{j['eta_seconds']:.0f}s left"
        lines.append(
            f"  job {j['id']:<6} entry {j['entry']:<6} {j['percent']:>5}%  {eta}  {j['worker']}"
        )
    clears = jobs["backlog_clears_in_seconds"]
    lines.append(
        f"THROUGHPUT  {jobs['ready_last_hour']} jobs and {jobs['video_minutes_last_hour']} video "
        f"minutes in the last hour; backlog {jobs['backlog']}, clears in "
        + ("unknown" if clears is None else f"{clears:.0f} s")
    )
    orphans = data.get("orphans")
    if orphans and orphans["error"]:
        lines.append(f"ORPHANS  unknown: {orphans['error']}")
    elif orphans:
        lines.append(
            f"ORPHANS  {orphans['count']} objects, {size_text(orphans['bytes'])} that no row "
            f"names; {orphans['removable']} ({size_text(orphans['removable_bytes'])}) older "
            f"than a day go with the next sweep, and {orphans['stale_multipart_uploads']} "
            "abandoned multipart uploads"
        )
    return "\n".join(lines)
