"""What the ops page shows of the outbox: counts by state, the newest messages, masked addresses.

Operators see that a message went out or why not, never the whole address: an e-mail keeps
the first two letters and its domain (`ab***@example.org`), a phone its first three and last
four digits (`138****8000`), enough to tell one recipient from another on the telephone.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.outbox import OutboxMessage, OutboxState

SHOWN = 50
# The page's filter: what each choice shows. Queued includes those being sent now.
FILTERS: dict[str, tuple[OutboxState, ...]] = {
    "failed": (OutboxState.FAILED,),
    "uncertain": (OutboxState.UNCERTAIN,),
    "queued": (OutboxState.QUEUED, OutboxState.SENDING),
    "all": (),
}
DEFAULT_FILTER = "all"
# What an operator may send again (worker.outbox.requeue takes exactly these).
RETRYABLE = frozenset({OutboxState.FAILED, OutboxState.UNCERTAIN, OutboxState.SKIPPED})


def state_counts(session: Session) -> dict[str, int]:
    """How many messages are in each state (every state, zero when none)."""
    rows = session.execute(
        select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
    ).tuples()
    found = dict(rows.all())
    return {state.value: found.get(state.value, 0) for state in OutboxState}


def filter_counts(counts: dict[str, int]) -> dict[str, int]:
    """How many messages each filter choice shows, of `state_counts`."""
    return {
        key: sum(counts[state] for state in states) if states else sum(counts.values())
        for key, states in FILTERS.items()
    }


def newest(session: Session, choice: str, limit: int = SHOWN) -> list[OutboxMessage]:
    """The newest messages the filter `choice` shows (unknown choices show all)."""
    query = select(OutboxMessage)
    states = FILTERS.get(choice, ())
    if states:
        query = query.where(OutboxMessage.state.in_(states))
    return list(session.scalars(query.order_by(OutboxMessage.id.desc()).limit(limit)))


def mask_address(address: str) -> str:
    """An e-mail address or phone number with its middle hidden."""
    address = address.strip()
    local, at, domain = address.partition("@")
    if at:
        return f"{local[:2]}***@{domain}"
    digits = address.replace(" ", "").replace("-", "")
    if len(digits) >= 8:
        return f"{digits[:3]}****{digits[-4:]}"
    return f"{digits[:1]}***" if digits else ""
