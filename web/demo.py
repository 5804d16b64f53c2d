"""The demo contest and one account per role, for `make run`."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Contest, Role, User
from web.auth import hash_password

DEMO_SLUG = "qingchun-zuji-demo"
DEMO_DISTRICTS = [
    "历下区",
    "市中区",
    "槐荫区",
    "天桥区",
    "历城区",
    "长清区",
    "章丘区",
    "济阳区",
    "莱芜区",
    "钢城区",
    "平阴县",
    "商河县",
    "市直单位",
]
DEMO_INDUSTRIES = [
    "交通运输",
    "医疗卫生",
    "金融",
    "教育",
    "公安政法",
    "能源电力",
    "通信",
    "商贸服务",
    "文化旅游",
    "城市建设",
    "其他",
]
DEMO_USERS = {
    Role.CONTESTANT: ("demo-contestant", "示例联系人（团市委青年文明号集体）"),
    Role.ORGANIZER: ("demo-organizer", "示例组委会"),
    Role.OPERATOR: ("demo-operator", "示例运维"),
}
# Enough judges for the default panels of 3, each of another unit and district, so that the
# automatic conflict rules (same unit, same district) still leave every entry 5 judges.
DEMO_JUDGES = [
    # username, name, unit, district, phone
    ("demo-judge", "示例评委", "市广播电视台", "市直单位", "13800000001"),
    ("demo-judge2", "示例评委二", "市艺术学校", "历下区", "13800000002"),
    ("demo-judge3", "示例评委三", "市第一人民医院", "市中区", "13800000003"),
    ("demo-judge4", "示例评委四", "市交通运输局", "槐荫区", "13800000004"),
    ("demo-judge5", "示例评委五", "市文化馆", "天桥区", "13800000005"),
    ("demo-judge6", "示例评委六", "某大学新闻与传播学院", "", "13800000006"),
]


@dataclass(frozen=True)
class DemoAccount:
    role: Role
    username: str
    password: str | None  # None when the account already existed


def seed_demo(session: Session) -> list[DemoAccount]:
    """Create the demo contest and accounts where missing; new passwords are returned once."""
    contest = session.scalar(select(Contest).where(Contest.slug == DEMO_SLUG))
    if contest is not None and not contest.districts:
        # A demo contest made before the form had lists gets them now.
        contest.districts, contest.industries = DEMO_DISTRICTS, DEMO_INDUSTRIES
    if contest is None:
        now = datetime.now(UTC)
        session.add(
            Contest(
                slug=DEMO_SLUG,
                title="“中国梦·青春足迹”青年文明号成长故事微视频征集活动（演示）",
                description="面向全市各县（市）区、各行业青年文明号集体和争创集体，征集记录"
                "集体成长故事的微视频。作品时长不超过 10 分钟，竖屏横屏均可。",
                opens_at=now - timedelta(days=1),
                closes_at=now + timedelta(days=60),
                blind=True,
                districts=DEMO_DISTRICTS,
                industries=DEMO_INDUSTRIES,
            )
        )
    accounts = [
        _account(session, role, username, display_name)
        for role, (username, display_name) in DEMO_USERS.items()
    ]
    for username, display_name, unit, district, phone in DEMO_JUDGES:
        account = _account(session, Role.JUDGE, username, display_name)
        judge = session.scalar(select(User).where(User.username == username))
        if judge is not None and not (judge.unit or judge.district or judge.phone):
            # A demo judge made before judges had a unit and district gets them now.
            judge.unit, judge.district, judge.phone = unit, district, phone
            judge.email = f"{username}@example.org"
        accounts.append(account)
    accounts.append(_district_account(session))
    # Every demo account has an address, so what the demo sends lands in its mailbox.
    for user in session.scalars(select(User).where(User.username.in_(_demo_usernames()))):
        if not user.email:
            user.email = f"{user.username}@example.org"
    session.commit()
    return accounts


DEMO_DISTRICT = ("demo-district", "示例市直机关团工委", "市直单位", 3)


def _district_account(session: Session) -> DemoAccount:
    """A district organizer of 市直单位 (the demo entries' district), with a quota to
    recommend within where the demo contest has none yet."""
    username, name, district, quota = DEMO_DISTRICT
    account = _account(session, Role.DISTRICT, username, name)
    user = session.scalar(select(User).where(User.username == username))
    if user is not None and not user.district:
        user.district, user.email = district, f"{username}@example.org"
    contest = session.scalar(select(Contest).where(Contest.slug == DEMO_SLUG))
    if contest is not None and not contest.district_quotas:
        contest.district_quotas = {district: quota}
    return account


def _demo_usernames() -> list[str]:
    return [username for username, _name in DEMO_USERS.values()] + [
        judge[0] for judge in DEMO_JUDGES
    ]


def _account(session: Session, role: Role, username: str, display_name: str) -> DemoAccount:
    """The demo account, added with a new password where it is missing."""
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        return DemoAccount(role, username, None)
    password = secrets.token_urlsafe(9)
    session.add(
        User(
            username=username,
            display_name=display_name,
            role=role,
            password_hash=hash_password(password),
        )
    )
    session.flush()
    return DemoAccount(role, username, password)
