"""What judges are told: the invitation, rounds opening and closing, their list changing."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from judging.judge_invitations import token_digest
from judging.submissions import current_contest
from storage.models import ActivationToken, utcnow
from storage.outbox import OutboxMessage
from web.mail_render import Content, builds, external
from web.template_helpers import beijing
from worker.outbox import Skip


def contest_title(session: Session) -> str:
    contest = current_contest(session)
    return contest.title if contest else _("青春足迹")


@builds("judge_invitation")
def invitation(session: Session, message: OutboxMessage) -> Content:
    token = message.params.get("token", "")
    if not token:
        raise Skip("邀请链接已从发件箱清除；请在评委页重新发送邀请")
    row = session.scalar(
        select(ActivationToken).where(ActivationToken.token_sha256 == token_digest(token))
    )
    if row is None or row.used_at or row.revoked_at or row.expires_at <= utcnow():
        raise Skip("邀请链接已使用、撤销或过期")
    expires = datetime.fromisoformat(message.params["expires_at"])
    title = contest_title(session)
    return Content(
        _("评委邀请：%(contest)s", contest=title),
        {
            "contest_title": title,
            "activation_url": external("auth.activate", token=token),
            "expires": beijing(expires),
        },
    )
