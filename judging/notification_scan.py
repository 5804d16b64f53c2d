"""The periodic look for what is due to be told: reminders before deadlines, the digest.

Run every NOTIFY_SCAN_INTERVAL_SECONDS by the short-task worker. Each scanner queues
messages whose keys name the occasion (a contest's deadline, a round's day, a digest's date),
so a scan that runs again, or two that run at once, tell nobody twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from storage.models import utcnow


@dataclass(frozen=True)
class ScanContext:
    now: datetime
    digest_hour: int  # Beijing time


Scanner = Callable[[Session, ScanContext], int]
# Filled by the modules that define scanners (imported in `scanners()`).
SCANNERS: dict[str, Scanner] = {}


def scanner(name: str) -> Callable[[Scanner], Scanner]:
    """Register a scanner: a function that queues what is due and returns how many."""

    def register(function: Scanner) -> Scanner:
        SCANNERS[name] = function
        return function

    return register


def scanners() -> dict[str, Scanner]:
    """Every scanner, by name."""
    import judging.digest  # noqa: F401 - registers its scanner
    import judging.reminders_contestant  # noqa: F401 - registers its scanner
    import judging.reminders_judge  # noqa: F401 - registers its scanner

    return dict(SCANNERS)


def scan(session: Session, digest_hour: int, now: datetime | None = None) -> dict[str, int]:
    """Run every scanner and commit; how many messages each queued."""
    context = ScanContext(now or utcnow(), digest_hour)
    counts = {}
    for name, function in scanners().items():
        counts[name] = function(session, context)
        session.commit()
    return counts
