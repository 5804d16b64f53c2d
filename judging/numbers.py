"""Numbers from headers, query strings and form fields: ASCII digits only.

`str.isdigit()` is true for superscripts and other scripts' digits ("¹", "٣") that `int()`
refuses or reads differently, so checking with it and then converting gave 500s.
"""

from __future__ import annotations

import re

_ASCII_INT = re.compile(r"[0-9]{1,19}")
# The database's INTEGER: ids, numbers and counts beyond it are simply not there.
DATABASE_INT = 2**31 - 1


def ascii_int(text: str | None, maximum: int = DATABASE_INT) -> int | None:
    """The integer 0..maximum that `text` spells in ASCII digits, else None (never raises)."""
    if text is None or not _ASCII_INT.fullmatch(text.strip()):
        return None
    value = int(text.strip())
    return value if value <= maximum else None
