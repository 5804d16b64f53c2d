"""The channels a message goes out on: e-mail over SMTP (Flask-Mailman) and SMS.

Each channel sends one rendered message and returns the id the other side knows it by, or
raises PassingFault (try again later) or LastingFault (this message will never go). SMS has
one interface and two providers: an HTTP gateway, and a folder of text files for demos and
tests; with SMS_PROVIDER empty it is off and SMS messages are skipped.
"""

from __future__ import annotations

import hashlib
import json
import smtplib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.header import Header
from pathlib import Path
from typing import Any, Protocol

from flask import Flask
from flask_mailman import EmailMultiAlternatives, Mail

from storage.outbox import Channel, OutboxMessage
from storage.settings import Settings
from web.mail_render import Rendered
from worker.outbox import LastingFault, PassingFault, Skip

mail = Mail()


class Sender(Protocol):
    def send(self, message: OutboxMessage, rendered: Rendered) -> str: ...


def mail_config(settings: Settings) -> dict[str, object]:
    """Flask-Mailman's configuration from our settings."""
    return {
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": settings.mail_server,
        "MAIL_PORT": settings.mail_port,
        "MAIL_USERNAME": settings.mail_username or None,
        "MAIL_PASSWORD": settings.mail_password or None,
        "MAIL_USE_TLS": settings.mail_use_tls,
        "MAIL_USE_SSL": settings.mail_use_ssl,
        "MAIL_TIMEOUT": settings.mail_timeout_seconds,
        "MAIL_DEFAULT_SENDER": settings.mail_default_sender,
    }


def init_mail(app: Flask, settings: Settings) -> None:
    app.config.update(mail_config(settings))
    mail.init_app(app)


class _Email(EmailMultiAlternatives):
    """Flask-Mailman's message with a Subject that starts on its own line.

    Its encoder folds a long non-ASCII subject right after `Subject:`, which readers parse
    as a subject starting with a space; encoding it for the header's own name does not.
    """

    def message(self) -> Any:
        msg = super().message()
        subject = str(self.subject)
        if not subject.isascii():
            msg.replace_header("Subject", Header(subject, "utf-8", header_name="Subject").encode())
        return msg


@dataclass
class EmailSender:
    settings: Settings

    def send(self, message: OutboxMessage, rendered: Rendered) -> str:
        if not self.settings.mail_server:
            raise Skip("未配置邮件服务器（MAIL_SERVER）")
        domain = self.settings.mail_default_sender.rpartition("@")[2].strip(" >") or "localhost"
        # The same row always has the same Message-ID: a copy sent again by an operator is
        # recognisably the same message.
        digest = hashlib.sha256(message.key.encode()).hexdigest()[:16]
        message_id = f"<outbox-{message.id}.{digest}@{domain}>"
        email = _Email(
            subject=rendered.subject,
            body=rendered.text,
            to=[message.address],
            headers={"Message-ID": message_id, **rendered.headers},
            connection=self._connection(),
        )
        email.attach_alternative(rendered.html, "text/html")
        try:
            email.send()
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            fault = LastingFault if codes and min(codes) >= 500 else PassingFault
            raise fault(f"收件地址被拒绝：{_smtp_reasons(exc.recipients)}") from exc
        except smtplib.SMTPResponseException as exc:
            error = exc.smtp_error
            text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
            if exc.smtp_code >= 500 and not isinstance(exc, smtplib.SMTPAuthenticationError):
                raise LastingFault(f"邮件服务器拒绝：{exc.smtp_code} {text}") from exc
            raise PassingFault(f"邮件服务器暂时拒绝：{exc.smtp_code} {text}") from exc
        except (TimeoutError, smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            raise PassingFault(f"连接邮件服务器失败：{exc}") from exc
        return message_id

    def _connection(self) -> Any:
        # From these settings, not the app's config: one source for the web and the worker.
        s = self.settings
        return mail.get_connection(
            host=s.mail_server,
            port=s.mail_port,
            username=s.mail_username or None,
            password=s.mail_password or None,
            use_tls=s.mail_use_tls,
            use_ssl=s.mail_use_ssl,
            timeout=s.mail_timeout_seconds,
        )


def _smtp_reasons(recipients: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{address} {code} {text.decode('utf-8', 'replace')}"
        for address, (code, text) in recipients.items()
    )


@dataclass
class FileSms:
    """Writes each SMS to a text file: the demo's and the tests' provider."""

    folder: Path

    def send(self, message: OutboxMessage, rendered: Rendered) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{message.id:08d}.txt"
        # Exclusive creation: the same row never writes two messages.
        with path.open("x", encoding="utf-8") as out:
            out.write(f"To: {message.address}\n\n{rendered.text}\n")
        return path.name


@dataclass
class HttpSms:
    """An SMS gateway that takes a JSON POST: {"to", "text", "id"}; any 2xx is success.

    Providers with a signed API (Aliyun, Tencent Cloud) sit behind such a gateway or get a
    class of their own with this `send`.
    """

    url: str
    token: str
    timeout: float

    def send(self, message: OutboxMessage, rendered: Rendered) -> str:
        body = json.dumps(
            {"to": message.address, "text": rendered.text, "id": message.key}, ensure_ascii=False
        ).encode()
        # The gateway's address is the operator's setting, not user input.
        request = urllib.request.Request(self.url, data=body, method="POST")  # noqa: S310
        request.add_header("Content-Type", "application/json; charset=utf-8")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                return answer.headers.get("X-Message-Id", "") or f"http-{answer.status}"
        except urllib.error.HTTPError as exc:
            fault = PassingFault if exc.code >= 500 or exc.code == 429 else LastingFault
            raise fault(f"短信网关拒绝：HTTP {exc.code}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise PassingFault(f"连接短信网关失败：{exc}") from exc


@dataclass
class SmsOff:
    def send(self, message: OutboxMessage, rendered: Rendered) -> str:
        raise Skip("短信未启用（SMS_PROVIDER）")


def sender_for(channel: str, settings: Settings) -> Sender:
    """The sender of `channel` as the settings configure it."""
    if channel == Channel.EMAIL:
        return EmailSender(settings)
    if settings.sms_provider == "file":
        return FileSms(Path(settings.sms_file_dir))
    if settings.sms_provider == "http":
        return HttpSms(
            settings.sms_gateway_url, settings.sms_gateway_token, settings.mail_timeout_seconds
        )
    return SmsOff()
