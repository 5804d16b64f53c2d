"""Score sheets: drafts, submission, reopening, locking and unlocking, with every change
kept; and a judge's desk (their entries by state, the next one to score)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from judging.codes import ensure_codes
from judging.messages import Message
from judging.rounds import RoundError, assigned_entries, is_assigned
from judging.rubric import Rubric, ScoreError, all_criteria, rubric_for
from storage.models import Entry, Round, Score, ScoreChange, User, utcnow


def _snapshot(score: Score) -> dict[str, Any]:
    return {
        "values": dict(score.values or {}),
        "total": score.total,
        "comment": score.comment,
        "submitted": score.submitted_at is not None,
        "others_seen": score.others_seen_at is not None,
        "unlocked": bool(score.unlocked),
    }


def score_of(session: Session, rnd: Round, judge_id: int, entry_id: int) -> Score | None:
    return session.scalar(
        select(Score).where(
            Score.round_id == rnd.id, Score.judge_id == judge_id, Score.entry_id == entry_id
        )
    )


def _get_or_create(session: Session, rnd: Round, judge: User, entry: Entry) -> Score:
    found = score_of(session, rnd, judge.id, entry.id)
    if found is not None:
        return found
    session.add(Score(round_id=rnd.id, judge_id=judge.id, entry_id=entry.id, values={}))
    try:
        session.commit()
    except IntegrityError:
        # The same judge saved from another tab at the same moment: use that row.
        session.rollback()
    found = score_of(session, rnd, judge.id, entry.id)
    assert found is not None  # noqa: S101 - created just above, by us or the other tab
    return found


def locked(rnd: Round, score: Score | None) -> bool:
    """Scores lock when the round closes, unless an organizer unlocked this one."""
    return rnd.closed_at is not None and not (score is not None and score.unlocked)


def final(score: Score | None) -> bool:
    """A submitted score is final once its judge has been shown the others' scores: else a
    judge could submit a placeholder, read the others and bring theirs into line. An
    organizer's unlock allows one more submission."""
    return (
        score is not None
        and score.submitted_at is not None
        and score.others_seen_at is not None
        and not score.unlocked
    )


FINAL_MESSAGE = Message(
    "您已看过其他评委的评分，已提交的评分不能再修改；如确需修改，请联系组委会解锁"
)


def foreign_criteria(
    rubric: Rubric, sheet: dict[str, Any], names: dict[str, str] | None = None
) -> dict[str, str]:
    """Values given for criteria the entry's rubric does not have (another work type's):
    such a sheet is refused, not saved with its extra values dropped."""
    keys = {c.key for c in rubric.criteria}
    names = names or {}
    return {
        key: Message("这件作品的评分标准中没有“%(name)s”一项，请留空", name=names.get(key, key))
        for key, value in sheet.items()
        if key not in keys and str(value if value is not None else "").strip()
    }


def save_score(
    session: Session,
    rnd: Round,
    judge: User,
    entry: Entry,
    sheet: dict[str, Any],
    comment: str,
    submit: bool,
    address: str = "",
) -> Score:
    """Save a draft (each given value checked) or submit (every criterion checked); commits."""
    if not is_assigned(session, rnd, judge.id, entry.id):
        raise RoundError(Message("您没有被分配这件作品"))
    rubric = rubric_for(rnd.contest, entry)
    names = {c.key: c.name for c in all_criteria(rnd.contest)}
    foreign = foreign_criteria(rubric, sheet, names)
    if foreign:
        raise ScoreError(foreign)
    existing = score_of(session, rnd, judge.id, entry.id)
    if locked(rnd, existing):
        raise RoundError(Message("本轮评审已结束，分数已锁定"))
    if final(existing):
        raise RoundError(FINAL_MESSAGE)
    if not submit and existing is not None and existing.submitted_at is not None:
        # A draft would quietly take a counted score out of the results: reopening is an
        # action of its own (`reopen_score`), on the record.
        raise RoundError(Message("这份评分已提交。如需修改，请先点击“修改评分”重新打开"))
    # Checked before any row exists: a refused sheet leaves no empty draft behind.
    values = rubric.check(sheet, partial=not submit)
    score = _get_or_create(session, rnd, judge, entry)
    old = _snapshot(score)
    score.values = values
    score.total = rubric.total(values) if len(values) == len(rubric.criteria) else None
    score.comment = comment.strip()[:5000]
    # A resubmission (allowed until the score is final) keeps the first submission's time.
    score.submitted_at = (score.submitted_at or utcnow()) if submit else None
    if submit:
        score.unlocked = False  # an unlock allows one correction, then the score is final
    _record(session, score, judge, "submit" if submit else "draft", old, address)
    return score


def can_reopen(rnd: Round, score: Score | None) -> bool:
    """Whether the judge may take their submitted score back to a draft: while the round is
    open (or an organizer unlocked it) and before they have seen the others' scores."""
    return (
        score is not None
        and score.submitted_at is not None
        and not locked(rnd, score)
        and not final(score)
    )


def reopen_score(
    session: Session, rnd: Round, judge: User, entry: Entry, address: str = ""
) -> Score:
    """Take the judge's submitted score back to a draft, on the record; commits. It counts
    as unsubmitted (results, progress) until the judge submits it again."""
    if not is_assigned(session, rnd, judge.id, entry.id):
        raise RoundError(Message("您没有被分配这件作品"))
    score = score_of(session, rnd, judge.id, entry.id)
    if score is None or score.submitted_at is None:
        raise RoundError(Message("这份评分还没有提交，可以直接修改"))
    if locked(rnd, score):
        raise RoundError(Message("本轮评审已结束，分数已锁定"))
    if final(score):
        raise RoundError(FINAL_MESSAGE)
    old = _snapshot(score)
    score.submitted_at = None
    _record(session, score, judge, "reopen", old, address)
    return score


def unlock_score(session: Session, score: Score, organizer: User, address: str = "") -> None:
    """Reopen one score, locked by the round's close or final after the judge saw the
    others' scores, for one more submission; on the record; commits."""
    old = _snapshot(score)
    score.unlocked = True
    _record(session, score, organizer, "unlock", old, address)


def _record(
    session: Session, score: Score, by: User, action: str, old: dict[str, Any], address: str
) -> None:
    """Put the change on the score's record (who, from where, before and after); commits."""
    session.add(
        ScoreChange(
            score_id=score.id,
            user_id=by.id,
            address=address[:64],
            action=action,
            old=old,
            new=_snapshot(score),
        )
    )
    session.commit()


REVEAL = ("after_submit", "after_close", "never")


def others_visible(session: Session, rnd: Round, judge_id: int, entry_id: int) -> list[Score]:
    """Other judges' submitted scores for an entry: never before this judge has submitted,
    and later still as the contest's `reveal_scores` says."""
    own = score_of(session, rnd, judge_id, entry_id)
    reveal = rnd.contest.reveal_scores
    if own is None or own.submitted_at is None or reveal == "never":
        return []
    if reveal == "after_close" and rnd.closed_at is None:
        return []
    return list(
        session.scalars(
            select(Score).where(
                Score.round_id == rnd.id,
                Score.entry_id == entry_id,
                Score.judge_id != judge_id,
                Score.submitted_at.is_not(None),
            )
        )
    )


def reveal_others(session: Session, rnd: Round, judge_id: int, entry_id: int) -> list[Score]:
    """The other judges' scores to show this judge (`others_visible`), noting the first time
    any are shown: from then on the judge's own submitted score is final. Commits."""
    others = others_visible(session, rnd, judge_id, entry_id)
    own = score_of(session, rnd, judge_id, entry_id)
    if others and own is not None and own.others_seen_at is None:
        own.others_seen_at = utcnow()
        session.commit()
    return others


# A judge's desk lists unscored entries first, then drafts, then submitted ones.
STATES = ("unscored", "draft", "submitted")


@dataclass(frozen=True)
class DeskRow:
    """One entry on a judge's desk: its code in the round and the judge's score, if any."""

    entry: Entry
    code: str
    score: Score | None
    # A draft that was submitted once and reopened: it counts again only once resubmitted.
    reopened: bool = False

    @property
    def state(self) -> str:
        if self.score is None:
            return "unscored"
        return "submitted" if self.score.submitted_at is not None else "draft"


def desk(session: Session, rnd: Round, judge_id: int) -> list[DeskRow]:
    """The judge's entries in the round with their scores, in code order (the order of
    numbers would say something about the entries)."""
    entries = assigned_entries(session, rnd, judge_id)
    # Codes are drawn when entries are assigned; this covers rounds assigned before that.
    codes = ensure_codes(session, rnd, [e.id for e in entries])
    scores = {
        s.entry_id: s
        for s in session.scalars(
            select(Score).where(Score.round_id == rnd.id, Score.judge_id == judge_id)
        )
    }
    reopened = set(
        session.scalars(
            select(ScoreChange.score_id).where(
                ScoreChange.action == "reopen",
                ScoreChange.score_id.in_([s.id for s in scores.values()]),
            )
        )
    )
    rows = []
    for entry in entries:
        score = scores.get(entry.id)
        again = score is not None and score.submitted_at is None and score.id in reopened
        rows.append(DeskRow(entry, codes[entry.id], score, again))
    return sorted(rows, key=lambda row: row.code)


def by_progress(rows: list[DeskRow]) -> list[DeskRow]:
    """Unscored entries first, then drafts, then submitted ones; in code order within each."""
    return sorted(rows, key=lambda row: (STATES.index(row.state), row.code))


def next_to_score(rows: list[DeskRow], entry_id: int) -> DeskRow | None:
    """The first entry after `entry_id` in code order, wrapping around, that the judge has
    not submitted; None when every other entry is submitted."""
    ids = [row.entry.id for row in rows]
    start = ids.index(entry_id) + 1 if entry_id in ids else 0
    for row in rows[start:] + rows[:start]:
        if row.entry.id != entry_id and row.state != "submitted":
            return row
    return None


def history(session: Session, score: Score) -> list[ScoreChange]:
    return list(
        session.scalars(
            select(ScoreChange).where(ScoreChange.score_id == score.id).order_by(ScoreChange.id)
        )
    )
