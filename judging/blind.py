"""Blind judging against the rest of the site: the gallery and the 公示.

Judges read titles; the public gallery and a published 公示 pair titles with collectives and
districts. While a blind round is open, the organizer is asked to confirm before the gallery
shows an entry that the round holds, and a 公示 leaves out the collectives of those entries
(saying why) until the round ends. A contest may also keep its gallery empty until judging
ends (`judging.gallery.waits_for_judging`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from judging.codes import codes_of
from judging.gallery import shows_gallery, waits_for_judging
from judging.messages import Message
from judging.rounds import current_round, eligible_entries
from storage.models import Contest, Entry, Round, Snapshot

# What a 公示 row may hold that names who made an entry.
IDENTITY = ("collective", "district", "industry")


def open_blind_round(session: Session, contest: Contest) -> Round | None:
    """The contest's round being judged blind now, if any."""
    rnd = current_round(session, contest)
    if rnd is None or rnd.closed_at is not None or not contest.blind:
        return None
    return rnd


def held_entries(session: Session, rnd: Round) -> set[int]:
    """Ids of the entries a round judges: those it gave a code (assigned), or before any
    assignment, every entry eligible for it."""
    coded = set(codes_of(session, rnd))
    return coded or {e.id for e in eligible_entries(session, rnd.contest, rnd)}


def approval_warning(session: Session, entry: Entry) -> Message | None:
    """Why approving this entry now would unblind it, or None."""
    rnd = open_blind_round(session, entry.contest)
    if rnd is None or entry.approved_at is not None or not shows_gallery(session, entry.contest):
        return None
    if entry.id not in held_entries(session, rnd):
        return None
    return Message(
        "“%(round)s”正在匿名评审，这件作品也在其中。现在公开，评委就能在作品展示中看到它的"
        "集体名称和县区。建议该轮评审结束后再公开；确需现在公开，请确认。",
        round=rnd.name,
    )


def gallery_warning(session: Session, contest: Contest) -> Message | None:
    """Why publishing the gallery now would unblind entries, or None."""
    rnd = open_blind_round(session, contest)
    if rnd is None or contest.gallery_published_at is not None:
        return None
    if waits_for_judging(session, contest):
        return None  # publishing is refused outright (judging.gallery.set_gallery)
    approved = set(
        session.scalars(
            select(Entry.id).where(Entry.contest_id == contest.id, Entry.approved_at.is_not(None))
        )
    )
    exposed = approved & held_entries(session, rnd)
    if not exposed:
        return None
    return Message(
        "“%(round)s”正在匿名评审，其中 %(n)d 件作品已审核通过。现在公开作品展示，评委就能在其中"
        "看到这些作品的集体名称和县区。建议该轮评审结束后再公开；确需现在公开，请确认。",
        round=rnd.name,
        n=len(exposed),
    )


def announced_rows(session: Session, snapshot: Snapshot) -> tuple[list[dict[str, Any]], str]:
    """A 公示's rows as the public may read them now, and the name of the blind round they
    wait for ("" when nothing is withheld). Rows of entries in an open blind round lose
    their collective (and any district or industry) and get `withheld`; the frozen content
    and its hash stay as they were."""
    contest = session.get_one(Contest, snapshot.contest_id)
    rnd = open_blind_round(session, contest)
    if rnd is None:
        return [dict(row) for row in snapshot.content], ""
    held = held_entries(session, rnd)
    numbers = set(session.scalars(select(Entry.number).where(Entry.id.in_(held))) if held else [])
    rows = []
    for row in snapshot.content:
        shown = dict(row)
        if row.get("number") in numbers:
            shown.update(dict.fromkeys((k for k in IDENTITY if k in shown), ""), withheld=True)
        rows.append(shown)
    withheld = any(r.get("withheld") for r in rows)
    return rows, rnd.name if withheld else ""
