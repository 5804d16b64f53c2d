"""The demo mailbox: the mail (and file SMS) the local catcher kept, for organizers to read.

It exists only where MAIL_CATCHER_DIR is set (`make run`), so that a newcomer trying the demo
sees the messages it sends; in production that setting is empty and every page here is 404.
A message's HTML is shown in a sandboxed frame: no script in it runs, and the frame has an
origin of its own, so nothing in a message can act on the site.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, render_template, request
from markupsafe import Markup, escape

from storage.models import Role
from storage.settings import Settings
from web.auth import roles_required
from web.extensions import settings_of

bp = Blueprint("mail_box", __name__, url_prefix="/admin/mail")
staff_only = roles_required(Role.ORGANIZER, Role.OPERATOR)
PER_PAGE = 50
# What the catcher and FileSms name their files; nothing else is ever opened (no ../).
MAIL_NAME = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,80}\.eml")
# A link ends at white space, quotes or Chinese punctuation written right after it.
URL = re.compile(r"https?://[^\s<>\"'）。，；、]+")


@dataclass(frozen=True)
class Summary:
    name: str
    date: datetime | None
    to: str
    subject: str


@dataclass(frozen=True)
class Sms:
    name: str
    date: datetime
    to: str
    text: str


def _settings() -> Settings:
    settings = settings_of()
    if not settings.mail_catcher_dir:
        abort(404)  # no catcher, no mailbox: production never shows this
    return settings


def _newest_first(folder: Path, suffix: str) -> list[Path]:
    if not folder.is_dir():
        return []
    files = [p for p in folder.iterdir() if p.suffix == suffix and p.is_file()]
    # The catcher's names start with the time, but its counter restarts with the process.
    return sorted(files, key=lambda p: (p.stat().st_mtime, p.name), reverse=True)


def _date(message: Any) -> datetime | None:
    header = message.get("Date")
    moment = getattr(header, "datetime", None)
    return moment.astimezone(UTC) if moment else None


def summaries(folder: Path, page: int) -> tuple[list[Summary], int, int]:
    """One page of the caught mail, newest first (past the last: the last), its number and
    the number of pages."""
    files = _newest_first(folder, ".eml")
    pages = max(1, -(-len(files) // PER_PAGE))
    page = min(max(page, 1), pages)
    parser = BytesHeaderParser(policy=email.policy.default)
    found = []
    for path in files[(page - 1) * PER_PAGE : page * PER_PAGE]:
        with path.open("rb") as raw:
            headers = parser.parse(raw)
        found.append(
            Summary(
                path.name, _date(headers), str(headers["To"] or ""), str(headers["Subject"] or "")
            )
        )
    return found, page, pages


def text_messages(settings: Settings) -> list[Sms]:
    """The newest SMS that SMS_PROVIDER=file wrote (none for other providers)."""
    if settings.sms_provider != "file":
        return []
    found = []
    for path in _newest_first(Path(settings.sms_file_dir), ".txt")[:PER_PAGE]:
        head, _sep, text = path.read_text(encoding="utf-8", errors="replace").partition("\n\n")
        when = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        found.append(Sms(path.name, when, head.removeprefix("To: ").strip(), text.strip()))
    return found


def read_message(folder: Path, name: str) -> EmailMessage:
    """The caught message `name`; 404 for any name the catcher would not have written."""
    path = folder / name
    if not MAIL_NAME.fullmatch(name) or path.resolve().parent != folder.resolve():
        abort(404)
    try:
        data = path.read_bytes()
    except OSError:
        abort(404)
    return email.message_from_bytes(data, policy=email.policy.default)  # type: ignore[return-value]


def linked(text: str) -> Markup:
    """Plain text, escaped, with its web addresses made into links."""
    out, last = [], 0
    for match in URL.finditer(text):
        url = match.group(0)
        out += [escape(text[last : match.start()]), Markup('<a href="%s">%s</a>') % (url, url)]
        last = match.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def framed(html: str) -> str:
    """A message's HTML for the sandboxed frame: its links open in a tab of their own
    (a framed page of ours would refuse to show: frame-ancestors 'none')."""
    return '<base target="_blank">' + html


def _part(message: EmailMessage, kind: str) -> str:
    body = message.get_body((kind,))
    return body.get_content() if body is not None else ""


@bp.route("/")
@staff_only
def index() -> Any:
    settings = _settings()
    asked = request.args.get("page", 1, type=int) or 1
    mails, page, pages = summaries(Path(settings.mail_catcher_dir), asked)
    return render_template(
        "admin/mail_box.html",
        mails=mails,
        page=page,
        pages=pages,
        sms=text_messages(settings),
        sms_on=settings.sms_provider == "file",
        folder=settings.mail_catcher_dir,
    )


@bp.route("/<filename>")
@staff_only
def message(filename: str) -> Any:
    settings = _settings()
    mail = read_message(Path(settings.mail_catcher_dir), filename)
    html = _part(mail, "html")
    return render_template(
        "admin/mail_message.html",
        name=filename,
        mail=mail,
        date=_date(mail),
        text=linked(_part(mail, "plain")),
        html=framed(html) if html else "",
    )


# The frame inherits this page's policy: the message's own inline styles may apply (the
# mail looks as sent), scripts stay our own files only, and the sandbox stops even those.
message.talisman_view_options = {  # type: ignore[attr-defined]
    "content_security_policy": {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self' 'unsafe-inline'",
        "img-src": "'self' data:",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
}
