"""An outbox row made into what its recipient reads: subject, plain text, HTML and SMS text.

Each kind has a builder (registered with `@builds`, in web/mail_*.py) that loads what the
message tells of and returns its subject and template values, or raises `Skip` when that is
gone. The templates are web/templates/mail/<kind>.txt, .html and, for kinds SMS carries,
.sms.txt; they are rendered in the recipient's language, with links to PUBLIC_BASE_URL.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import render_template, url_for
from flask_babel import force_locale
from sqlalchemy.orm import Session

from storage.notifications import kind_of
from storage.outbox import Channel, OutboxMessage
from web.i18n import DEFAULT, LANGUAGES


@dataclass(frozen=True)
class Content:
    """What a builder finds: the subject (already in the reader's language) and the values
    the templates need."""

    subject: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    headers: dict[str, str]


Builder = Callable[[Session, OutboxMessage], Content]
BUILDERS: dict[str, Builder] = {}
# The modules whose builders register themselves (imported on first render).
BUILDER_MODULES = (
    "web.mail_judge",
    "web.mail_contestant",
    "web.mail_review",
    "web.mail_rounds",
    "web.mail_staff",
    "web.mail_account",
    "web.mail_reports",
)


def builds(kind: str) -> Callable[[Builder], Builder]:
    """Register the builder of `kind`'s messages."""
    kind_of(kind)  # a typo fails at import, not at the first message

    def register(builder: Builder) -> Builder:
        BUILDERS[kind] = builder
        return builder

    return register


def external(endpoint: str, **values: Any) -> str:
    """A link to `endpoint` as the recipient reaches the site (PUBLIC_BASE_URL)."""
    return url_for(endpoint, _external=True, **values)


def language_of(message: OutboxMessage) -> str:
    """The recipient's language, Chinese when unknown."""
    language = message.user.language if message.user else DEFAULT
    return language if language in LANGUAGES else DEFAULT


def render(session: Session, message: OutboxMessage) -> Rendered:
    """The message as its recipient reads it; raises Skip when it is no longer due."""
    from web.unsubscribe import unsubscribe_url  # its routes import this module

    for module in BUILDER_MODULES:
        importlib.import_module(module)
    builder = BUILDERS.get(message.kind)
    if builder is None:
        raise LookupError(f"no builder for outbox messages of kind {message.kind!r}")
    with force_locale(language_of(message)):
        content = builder(session, message)
        # A subject is one line: a title typed with line breaks (the API takes any text) must
        # neither fail the message nor add a header.
        content = Content(" ".join(content.subject.split()), content.values)
        spec = kind_of(message.kind)
        unsubscribe = ""
        if spec.optional and message.user_id is not None:
            unsubscribe = unsubscribe_url(message.user_id, message.kind)
        values = {
            **content.values,
            "message": message,
            "language": language_of(message),
            "user": message.user,
            "subject": content.subject,
            "unsubscribe_url": unsubscribe,
            "account_url": external("account.view"),
            "site_url": external("pages.index"),
        }
        if message.channel == Channel.SMS:
            text = render_template(f"mail/{message.kind}.sms.txt", **values).strip()
            return Rendered(content.subject, text, "", {})
        text = render_template(f"mail/{message.kind}.txt", **values)
        html = render_template(f"mail/{message.kind}.html", **values)
    headers = {}
    if unsubscribe:
        # RFC 8058: mail clients offer one-click unsubscribe with a POST to this address.
        headers["List-Unsubscribe"] = f"<{unsubscribe}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return Rendered(content.subject, text, html, headers)
