"""SMS behind the one channel interface: an HTTP gateway (a real local server), off, files."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from storage.outbox import OutboxMessage, OutboxState
from storage.settings import Settings
from tests.factories import queued_invitation, unique
from web.mail_render import Rendered
from web.notify_channels import FileSms, HttpSms, SmsOff, sender_for
from web.outbox_task import deliver
from worker.outbox import LastingFault, PassingFault, Skip

pytestmark = pytest.mark.integration


class Gateway(BaseHTTPRequestHandler):
    """An SMS gateway: the path says how it answers (/ok, /status/500, …); keeps requests."""

    seen: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append({"path": self.path, "headers": dict(self.headers), "body": body})
        status = int(self.path.rsplit("/", 1)[1]) if self.path.startswith("/status/") else 202
        self.send_response(status)
        if status < 300:
            self.send_header("X-Message-Id", f"gw-{len(self.seen)}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet in tests
        pass


@pytest.fixture(scope="module")
def gateway() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def _row(key: str = "judge_invitation:t:u1:sms", row_id: int = 1) -> OutboxMessage:
    return OutboxMessage(id=row_id, key=key, address="13800138000", channel="sms", params={})


RENDERED = Rendered("评委邀请", "【青春足迹】请激活评委账号：http://x/a", "", {})


def test_the_gateway_gets_json_with_the_bearer_token_and_gives_an_id(gateway: str) -> None:
    Gateway.seen.clear()
    sender = HttpSms(f"{gateway}/ok", "secret-token", 5)
    provider_id = sender.send(_row("k:1:u7:sms"), RENDERED)
    [request] = Gateway.seen
    assert provider_id == "gw-1"
    assert request["headers"]["Authorization"] == "Bearer secret-token"
    assert request["headers"]["Content-Type"].startswith("application/json")
    assert json.loads(request["body"]) == {
        "to": "13800138000",
        "text": "【青春足迹】请激活评委账号：http://x/a",
        "id": "k:1:u7:sms",  # the row's key: a gateway may drop a duplicate by it
    }
    assert "\\u" not in request["body"].decode()  # Chinese as UTF-8, not escapes


@pytest.mark.parametrize(
    ("status", "fault"), [(500, PassingFault), (503, PassingFault), (429, PassingFault)]
)
def test_a_busy_gateway_means_later(gateway: str, status: int, fault: type[Exception]) -> None:
    with pytest.raises(fault, match=f"HTTP {status}"):
        HttpSms(f"{gateway}/status/{status}", "t", 5).send(_row(), RENDERED)


@pytest.mark.parametrize("status", [400, 401, 404])
def test_a_refused_message_is_failed(gateway: str, status: int) -> None:
    with pytest.raises(LastingFault, match=f"HTTP {status}"):
        HttpSms(f"{gateway}/status/{status}", "t", 5).send(_row(), RENDERED)


def test_an_unreachable_gateway_means_later() -> None:
    with pytest.raises(PassingFault, match="连接短信网关失败"):
        HttpSms("http://127.0.0.1:1/sms", "t", 2).send(_row(), RENDERED)


def test_no_provider_skips_with_the_reason(settings: Settings) -> None:
    off = dataclasses.replace(settings, sms_provider="")
    assert isinstance(sender_for("sms", off), SmsOff)
    with pytest.raises(Skip, match="短信未启用"):
        SmsOff().send(_row(), RENDERED)


def test_the_file_provider_writes_one_file_per_row_and_never_two(tmp_path: Path) -> None:
    sender = FileSms(tmp_path / "sms")
    assert sender.send(_row(row_id=41), RENDERED) == "00000041.txt"
    again = Rendered("", "第二条", "", {})
    with pytest.raises(FileExistsError):
        sender.send(_row(row_id=41), again)  # exclusive creation: the first one stays
    [written] = (tmp_path / "sms").iterdir()
    assert written.read_text(encoding="utf-8") == f"To: 13800138000\n\n{RENDERED.text}\n"


def _invitation_sms(session: Session) -> int:
    """A judge's invitation by SMS only, queued and not published (the test delivers it)."""
    phone = f"139{int(unique('')) % 10**8:08d}"
    return queued_invitation(session, email="", phone=phone).message_id


@pytest.mark.parametrize(
    ("path", "state", "error"),
    [
        ("/ok", OutboxState.SENT, ""),
        ("/status/500", OutboxState.QUEUED, "短信网关拒绝：HTTP 500"),
        ("/status/429", OutboxState.QUEUED, "短信网关拒绝：HTTP 429"),
        ("/status/400", OutboxState.FAILED, "短信网关拒绝：HTTP 400"),
    ],
)
def test_the_outbox_records_what_the_gateway_answered(
    session: Session,
    app: Flask,
    settings: Settings,
    gateway: str,
    path: str,
    state: str,
    error: str,
) -> None:
    http = dataclasses.replace(
        settings, sms_provider="http", sms_gateway_url=gateway + path, sms_gateway_token="tok"
    )
    message_id = _invitation_sms(session)
    Gateway.seen.clear()
    wait = deliver(app, session, message_id, http)
    row = session.get_one(OutboxMessage, message_id, populate_existing=True)
    assert row.state == state and row.last_error == error and len(Gateway.seen) == 1
    if state == OutboxState.SENT:
        assert row.message_id.startswith("gw-") and wait is None
        assert "token" not in row.params  # the link's secret goes once the message is out
    elif state == OutboxState.QUEUED:
        assert wait == timedelta(seconds=30) and row.next_attempt_at is not None
        assert "token" in row.params  # still needed for the next attempt
    else:
        assert wait is None and "token" not in row.params


def test_sms_turned_off_is_kept_as_skipped_with_the_reason(
    session: Session, app: Flask, settings: Settings
) -> None:
    message_id = _invitation_sms(session)
    deliver(app, session, message_id, dataclasses.replace(settings, sms_provider=""))
    row = session.get_one(OutboxMessage, message_id, populate_existing=True)
    assert row.state == OutboxState.SKIPPED and row.last_error == "短信未启用（SMS_PROVIDER）"


def test_a_file_sms_is_delivered_once(session: Session, app: Flask, settings: Settings) -> None:
    message_id = _invitation_sms(session)
    deliver(app, session, message_id, settings)
    deliver(app, session, message_id, settings)  # a redelivered task: nothing more
    row = session.get_one(OutboxMessage, message_id, populate_existing=True)
    path = Path(settings.sms_file_dir) / f"{message_id:08d}.txt"
    assert row.state == OutboxState.SENT and row.message_id == path.name
    text = path.read_text(encoding="utf-8")
    assert text.startswith(f"To: {row.address}\n\n【青春足迹】")
