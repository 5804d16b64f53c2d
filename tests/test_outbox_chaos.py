"""A worker killed between handing a message to the SMTP server and recording it.

The server has the message; the worker's row still says `sending`. The task is redelivered
to a new worker, which must not send it again (at most once); the sweep then marks the row
uncertain, for an operator to decide. Exactly one copy reaches the mailbox.
"""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import time
from collections.abc import Iterator

import pytest
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession
from sqlalchemy.orm import Session

from storage.outbox import OutboxMessage, OutboxState
from tests.factories import queued_invitation, unique
from tests.fleet import Fleet, wait_for
from web.mail_catcher import Catcher
from web.mail_catcher import start as start_catcher
from worker.outbox import sweep_outbox

pytestmark = [pytest.mark.integration, pytest.mark.chaos]
SENT_TASK = "footprints.send_message["


class KillingCatcher(Catcher):
    """Keeps the first message, then SIGKILLs the sending worker before it hears 250."""

    def __init__(self) -> None:
        super().__init__()
        self.victim: int | None = None  # the process group to kill, once

    async def handle_DATA(  # noqa: N802 - aiosmtpd's name
        self, server: SMTP, session: SmtpSession, envelope: Envelope
    ) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        if self.victim is not None:
            os.killpg(self.victim, signal.SIGKILL)
            self.victim = None
        return answer


@pytest.fixture()
def killer() -> Iterator[KillingCatcher]:
    catcher = KillingCatcher()
    controller = start_catcher("127.0.0.1", 0, catcher)
    yield catcher
    controller.stop()


def test_a_worker_killed_mid_send_sends_nothing_twice(
    fleet: Fleet, session: Session, killer: KillingCatcher
) -> None:
    # The fleet's workers send to the killing catcher (they read settings at start).
    fleet.settings = dataclasses.replace(
        fleet.settings, mail_server="127.0.0.1", mail_port=killer.port
    )
    fleet.start_worker(f"outbox-victim-{time.monotonic_ns()}")
    victim = fleet.workers[-1]
    killer.victim = victim.pid  # start_new_session: its pid is its process group's id

    # Published after its commit, to the fleet's queue.
    invitation = queued_invitation(session, email=f"{unique('killed')}@example.org", publish=True)
    judge, message_id = invitation.judge, invitation.message_id

    wait_for(lambda: killer.to(judge.email), 30, "the message at the server")
    assert victim.wait(timeout=30) == -signal.SIGKILL
    session.expire_all()
    assert session.get_one(OutboxMessage, message_id).state == OutboxState.SENDING

    # The unacknowledged task goes back to the queue; a new worker takes it and sends nothing.
    task_id = _task_ids(fleet)[0]
    fleet.start_worker(f"outbox-heir-{time.monotonic_ns()}")
    wait_for(
        lambda: f"{task_id}] succeeded".encode() in fleet.log.read_bytes(),
        30,
        "the redelivered task to run on the new worker",
    )
    session.expire_all()
    assert session.get_one(OutboxMessage, message_id).state == OutboxState.SENDING

    # The sweep cannot know whether it went: uncertain, never resent by itself.
    sweep_outbox(session, dataclasses.replace(fleet.settings, outbox_sending_timeout_seconds=0))
    row = session.get_one(OutboxMessage, message_id, populate_existing=True)
    assert row.state == OutboxState.UNCERTAIN and "可能已经发出" in row.last_error
    assert len(killer.to(judge.email)) == 1


def _task_ids(fleet: Fleet) -> list[str]:
    """The ids of the send_message tasks the fleet's workers logged, in order."""
    log = fleet.log.read_bytes().decode(errors="replace")
    return re.findall(re.escape(SENT_TASK) + r"([0-9a-f-]{36})\]", log)
