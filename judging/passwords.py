"""What makes a password acceptable: long enough and not one that attackers try first."""

from __future__ import annotations

from functools import cache
from importlib import resources

from judging.messages import Message

MIN_LENGTH = 10
MAX_LENGTH = 128


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of passwords leaked lists show most often (lower case)."""
    text = resources.files("judging").joinpath("data/common-passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def password_problem(password: str, username: str = "") -> Message | None:
    """Why `password` may not be used, or None when it may."""
    if len(password) < MIN_LENGTH:
        return Message("密码至少 %(n)d 位", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return Message("密码最多 %(n)d 位", n=MAX_LENGTH)
    lowered = password.lower()
    if (
        lowered in common_passwords()
        or len(set(lowered)) <= 2  # aaaaaaaaaa, ababababab
        or (username and username.lower() in lowered)
    ):
        return Message("这个密码太常见或太容易被猜到，请换一个（可以用几个词加数字组成）")
    return None
