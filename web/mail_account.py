"""Mail about the account itself: a forgotten password's reset link.

A link's token travels in the outbox row only until the message goes (web/outbox_task.py);
`open_link` is shared with the judge's invitation, which is sent the same way.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from judging.judge_invitations import token_digest
from storage.models import ActivationToken, utcnow
from storage.outbox import OutboxMessage
from web.mail_render import Content, builds, external
from web.template_helpers import beijing
from worker.outbox import Skip


def open_link(session: Session, message: OutboxMessage, gone: str) -> tuple[str, str]:
    """The message's one-time link and when it expires (Beijing time), or Skip: `gone` when
    the outbox no longer holds the token, else that the link was used, revoked or expired."""
    token = message.params.get("token", "")
    if not token:
        raise Skip(gone)
    row = session.scalar(
        select(ActivationToken).where(ActivationToken.token_sha256 == token_digest(token))
    )
    if row is None or row.used_at or row.revoked_at or row.expires_at <= utcnow():
        raise Skip("链接已使用、撤销或过期")
    expires = datetime.fromisoformat(message.params["expires_at"])
    return external("auth.activate", token=token), beijing(expires)


@builds("password_reset")
def password_reset(session: Session, message: OutboxMessage) -> Content:
    url, expires = open_link(session, message, "重置链接已从发件箱清除；请重新申请")
    return Content(_("重置密码"), {"reset_url": url, "expires": expires})
