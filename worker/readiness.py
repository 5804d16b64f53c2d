"""Whether the services the app needs answer: the database, the broker and S3."""

from __future__ import annotations

from kombu import Connection
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from storage.objects import ObjectStore, ObjectStoreError
from worker.ops.broker import BROKER_ERRORS, BROKER_TIMEOUT


def readiness(session: Session, store: ObjectStore, broker_url: str) -> dict[str, str]:
    """ "ok" or the error, per service; never raises."""
    checks: dict[str, str] = {}
    try:
        session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except SQLAlchemyError as exc:
        session.rollback()
        checks["database"] = f"error: {type(exc).__name__}: {str(exc).splitlines()[0]}"
    try:
        with Connection(broker_url, connect_timeout=BROKER_TIMEOUT) as conn:
            conn.ensure_connection(max_retries=1)
        checks["broker"] = "ok"
    except BROKER_ERRORS as exc:
        checks["broker"] = f"error: {exc}"
    try:
        store.check_buckets()
        checks["s3"] = "ok"
    except ObjectStoreError as exc:
        checks["s3"] = f"error: {exc}"
    return checks
