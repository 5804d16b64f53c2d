"""What judges are told: the invitation, rounds opening and closing, their list changing."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from judging.submissions import current_contest
from storage.outbox import OutboxMessage
from web.mail_account import open_link
from web.mail_render import Content, builds


def contest_title(session: Session) -> str:
    contest = current_contest(session)
    return contest.title if contest else _("青春足迹")


@builds("judge_invitation")
def invitation(session: Session, message: OutboxMessage) -> Content:
    url, expires = open_link(session, message, "邀请链接已从发件箱清除；请在评委页重新发送邀请")
    title = contest_title(session)
    return Content(
        _("评委邀请：%(contest)s", contest=title),
        {"contest_title": title, "activation_url": url, "expires": expires},
    )
