"""District organizers' accounts: created by the city organizer (or the command line), each
bound to one district or city-level organisation of the contest's list."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from judging.messages import Message
from storage.models import Contest, Role, User

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,32}$")
NAME_LIMIT = 100


class AccountError(ValueError):
    """An account the rules refuse; `errors` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, Message]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class DistrictAccount:
    username: str
    display_name: str
    district: str


def check_account(session: Session, contest: Contest | None, fields: DistrictAccount) -> None:
    """AccountError naming every field that is wrong: the user name (format, taken), the
    name, and the district (one of the contest's list, where it has one)."""
    errors: dict[str, Message] = {}
    if not USERNAME.match(fields.username):
        errors["username"] = Message("用户名为 3 到 32 位字母、数字、下划线、点或减号")
    elif session.scalar(select(User.id).where(User.username == fields.username)) is not None:
        errors["username"] = Message("该用户名已被使用，请换一个")
    if not fields.display_name or len(fields.display_name) > NAME_LIMIT:
        errors["display_name"] = Message(
            "请填写单位名称（不超过 %(limit)d 个字），如“历下区团委”", limit=NAME_LIMIT
        )
    listed = (contest.districts or []) if contest else []
    if not fields.district:
        errors["district"] = Message("请选择账号所属的县（市）区或市直单位")
    elif listed and fields.district not in listed:
        errors["district"] = Message("“%(name)s”不在本次活动的县区名单中", name=fields.district)
    elif len(fields.district) > NAME_LIMIT:
        errors["district"] = Message("县区名称太长")
    if errors:
        raise AccountError(errors)


def create_district_account(
    session: Session, contest: Contest | None, fields: DistrictAccount, password_hash: str
) -> User:
    """A new district organizer bound to `fields.district`; commits. AccountError when a
    field is wrong (nothing is stored then)."""
    fields = DistrictAccount(
        fields.username.strip(), fields.display_name.strip(), fields.district.strip()
    )
    check_account(session, contest, fields)
    user = User(
        username=fields.username,
        display_name=fields.display_name,
        role=Role.DISTRICT,
        district=fields.district,
        password_hash=password_hash,
    )
    session.add(user)
    session.commit()
    return user


def district_accounts(session: Session) -> list[User]:
    """Every district organizer's account, by district then user name."""
    return list(
        session.scalars(
            select(User).where(User.role == Role.DISTRICT).order_by(User.district, User.username)
        )
    )


def rebind(session: Session, contest: Contest | None, user: User, district: str) -> User:
    """Bind a district organizer to another district of the contest's list; commits.
    AccountError when the district is not one of them (nothing changes then)."""
    district = district.strip()
    listed = (contest.districts or []) if contest else []
    if user.role is not Role.DISTRICT:
        raise AccountError({"district": Message("只有县区账号才能绑定县区")})
    if not district or (listed and district not in listed):
        raise AccountError({"district": Message("请选择本次活动名单中的县（市）区或市直单位")})
    user.district = district
    session.commit()
    return user
