"""Where `?next=` may send a user: back to a page of this site, never to another one."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from flask import abort

# Browsers drop tabs and newlines inside URLs and read a backslash as a slash, so
# `/%09/evil.example` and `/\\evil.example` both lead to another host.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_next(target: str | None, default: str) -> str:
    """`target` when it is a path of this site, else `default`.

    CR or LF would split the Location header: that request is malformed (400), not an error
    of ours.
    """
    if not target:
        return default
    if "\r" in target or "\n" in target:
        abort(400)
    cleaned = _CONTROL.sub("", target).replace("\\", "/")
    parts = urlsplit(cleaned)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or cleaned.startswith("//"):
        return default
    return urlunsplit(("", "", parts.path, parts.query, parts.fragment))
