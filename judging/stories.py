"""The text of a 职业故事: plain text with blank-line paragraphs, never HTML, within a limit.

The body is stored as the contestant typed it, with line endings made uniform, trailing
spaces dropped and runs of blank lines made one; every page escapes it when it shows it.
Text with HTML tags in it is refused rather than cleaned: pasted from a web editor, its tags
would show as text, and silently cutting them could cut the story's own words.
"""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from judging.messages import Message
from judging.pieces import lock_entry, story_status
from judging.submissions import SubmissionError, check_changeable, clear_return
from judging.works import word_count
from storage.models import Entry, EntryStatus, WorkType, utcnow

# An opening or closing tag, a comment or a doctype: "<p>", "</div >", "<br/>", "<!-- -->";
# not "a<b 且 b>c": a tag's attributes are never Chinese text.
TAG = re.compile(r"<\s*/?\s*[A-Za-z][\w-]*(\s[^<>\u0080-\U0010ffff]*)?/?\s*>|<!--|<![A-Za-z]")


class StoryError(SubmissionError):
    """The story's text was not saved; the message says why."""


def clean_story(text: str, limit: int) -> str:
    """The body as stored, or StoryError: too long (counted as `word_count`) or with tags."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    if TAG.search(body):
        raise StoryError(
            Message(
                "正文不能包含 HTML 标签（如 %(tag)s）：请只填写纯文字，段落之间空一行",
                tag=TAG.search(body).group(0)[:30],  # type: ignore[union-attr]
            ),
            {"story_body": Message("请删除 HTML 标签，只保留纯文字")},
        )
    count = word_count(body)
    if count > limit:
        raise StoryError(
            Message(
                "正文共 %(count)d 字，超过了 %(limit)d 字的上限，请删减后再保存",
                count=count,
                limit=limit,
            ),
            {"story_body": Message("正文不能超过 %(limit)d 字", limit=limit)},
        )
    return body


def paragraphs(body: str) -> list[str]:
    """The story's paragraphs: split at blank lines."""
    return [part.strip() for part in re.split(r"\n\s*\n", body) if part.strip()]


def save_story(session: Session, entry: Entry, text: str, limit: int) -> None:
    """Store a story's body before the deadline; commits.

    Without pieces the story needs no processing: ready with text, a draft without. With
    pieces its status stays its job's.
    """
    if entry.work_type is not WorkType.STORY:
        raise StoryError(Message("只有职业故事作品有正文"))
    body = clean_story(text, limit)
    lock_entry(session, entry)
    check_changeable(entry)
    if body != entry.story_body:
        entry.story_body = body
        entry.updated_at = utcnow()
        clear_return(entry)
    if not entry.pieces and entry.status is not EntryStatus.WITHDRAWN:
        entry.status = story_status(entry)
    session.commit()
