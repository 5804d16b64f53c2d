"""A 职业故事 as people read it: paragraphs for the page, a plain-text file for judges.

The body is plain text (never HTML): paragraphs are separated by blank lines, a single line
break stays a line break. The page escapes every line; the text file is the text itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from judging.messages import Message
from judging.works import word_count
from storage.models import Entry

# A blank line (spaces and tabs allowed on it) ends a paragraph.
_BLANK_LINE = re.compile(r"\n[ \t\u3000]*\n")
# The file starts with a byte-order mark: Windows' Notepad and office suites then read it as
# UTF-8 rather than the local code page (GBK), which is what judges open it with.
BOM = "\ufeff"


def paragraphs(text: str) -> list[list[str]]:
    """The body's paragraphs, each a list of its lines (empty ones left out)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    found = []
    for block in _BLANK_LINE.split(text):
        lines = [line.strip() for line in block.split("\n")]
        lines = [line for line in lines if line]
        if lines:
            found.append(lines)
    return found


def story_text(entry: Entry, code: str | None = None, translate: Callable[[str], str] = str) -> str:
    """The story as a plain-text file: title, 字数, then the body paragraph by paragraph.

    With `code` (a judge's file) it names the entry only by that code: no number, no
    collective, no contact, whatever the contest's blindness. Without it (an organizer's or
    the owner's file) the number and collective head it. Lines end CRLF for Notepad.
    `translate` turns the labels (Messages) into the reader's language.
    """
    head = [entry.title]
    if code is None:
        head.append(f"No.{entry.number:04d} · {entry.collective}")
    else:
        head.append(translate(Message("作品编码：%(code)s", code=code)))
    head.append(translate(Message("字数：%(n)d", n=word_count(entry.story_body))))
    body = ["\n".join(lines) for lines in paragraphs(entry.story_body)]
    text = "\n\n".join(["\n".join(head), *body]) + "\n"
    return BOM + text.replace("\n", "\r\n")


def story_filename(entry: Entry, code: str | None = None) -> str:
    """An ASCII file name for the story's text file (the code, else the entry's number)."""
    stem = re.sub(r"[^A-Za-z0-9_-]", "", code) if code else f"No.{entry.number:04d}"
    return f"{stem or 'story'}.txt"
