"""Anonymous entry codes: what judges see of an entry instead of its id and number.

An entry's id names its public gallery page (`/gallery/<id>`, with the collective and
district) and its number is printed there, in the 公示 and in the exports. Judges get a code
per round instead (`A-017`: the round's letter, then a number drawn at random from the ones
still free), so nothing a judge reads or types leads from their entry to its identity. A code
never changes within its round; a later round draws new ones.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import BlindCode, Entry, Round

# No I or O: judges read codes aloud and copy them by hand.
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
# At least this many numbers to draw from, and four times the entries: a code says nothing
# about how many entries there are, and guessing one is rarely right.
MIN_SPACE = 999
SHAPE = re.compile(r"[A-Z]-[0-9]{3,6}")


def letter_of(rnd: Round) -> str:
    """The round's letter: A for the first round, B for the second…"""
    return LETTERS[(rnd.position - 1) % len(LETTERS)]


def codes_of(session: Session, rnd: Round) -> dict[int, str]:
    """Entry id -> code, for the entries that have one in the round."""
    rows = session.execute(
        select(BlindCode.entry_id, BlindCode.code).where(BlindCode.round_id == rnd.id)
    )
    return dict(rows.tuples().all())


def ensure_codes(session: Session, rnd: Round, entry_ids: Iterable[int]) -> dict[int, str]:
    """Give every entry without a code in the round one; commits. Returns every code."""
    for _attempt in range(3):
        known = codes_of(session, rnd)
        missing = sorted(set(entry_ids) - set(known))
        if not missing:
            return known
        space = max(MIN_SPACE, 4 * (len(known) + len(missing)))
        width = len(str(space))
        taken = {int(code.split("-")[1]) for code in known.values()}
        free = [n for n in range(1, space + 1) if n not in taken]
        drawn = secrets.SystemRandom().sample(free, len(missing))
        letter = letter_of(rnd)
        session.add_all(
            BlindCode(round_id=rnd.id, entry_id=entry, code=f"{letter}-{n:0{width}d}")
            for entry, n in zip(missing, drawn, strict=True)
        )
        try:
            session.commit()
        except IntegrityError:
            # Another request drew codes for the same round at the same moment: draw again
            # for whatever is still missing.
            session.rollback()
    return codes_of(session, rnd)


def entry_by_code(session: Session, rnd: Round, code: str) -> Entry | None:
    """The entry behind a code of this round, or None (also for anything not code-shaped)."""
    if not SHAPE.fullmatch(code):
        return None
    return session.scalar(
        select(Entry)
        .join(BlindCode, BlindCode.entry_id == Entry.id)
        .where(BlindCode.round_id == rnd.id, BlindCode.code == code)
    )
