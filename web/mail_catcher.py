"""A local SMTP server that keeps every message instead of delivering it (aiosmtpd).

`make run` starts it (`python -m web.mail_catcher`) and points MAIL_SERVER at it, so the
demo's mail lands in var/mail/ as .eml files, which organizers read at /admin/mail. The
tests start the same catcher inside the test process and read what it caught.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import itertools
import signal
import socket
import threading
import time
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

_counter = itertools.count(1)


class Catcher:
    """Keeps each message: in `messages`, and as a file in `folder` when there is one."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder
        self.port = 0  # where `start` serves it
        self.messages: list[EmailMessage] = []
        self.envelopes: list[Envelope] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.original_content or b""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        with self._lock:
            self.messages.append(parsed)  # type: ignore[arg-type]
            self.envelopes.append(envelope)
            if self.folder is not None:
                self.folder.mkdir(parents=True, exist_ok=True)
                name = f"{time.strftime('%Y%m%d-%H%M%S')}-{next(_counter):05d}.eml"
                (self.folder / name).write_bytes(raw)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        """The messages caught for `address`, oldest first."""
        with self._lock:
            return [m for m in self.messages if address in str(m.get("To", ""))]


def start(host: str, port: int, catcher: Catcher) -> Controller:
    """Serve `catcher` on host:port (port 0: a free port, kept in `catcher.port`) in a
    thread; returns the server."""
    if port == 0:
        # The controller checks itself by connecting to its port, so it needs the number.
        with socket.socket() as probe:
            probe.bind((host, 0))
            port = probe.getsockname()[1]
    controller = Controller(catcher, hostname=host, port=port)
    controller.start()
    catcher.port = port
    return controller


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default="var/mail", help="where messages are kept")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    args = parser.parse_args()
    catcher = Catcher(Path(args.dir))
    controller = start(args.host, args.port, catcher)
    print(f"mail catcher on {args.host}:{catcher.port}, keeping mail in {args.dir}")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
