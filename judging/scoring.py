"""Score sheets: drafts, submission, locking and unlocking, with every change kept."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from judging.messages import Message
from judging.rounds import RoundError, is_assigned, rubric_of
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
    rubric = rubric_of(rnd.contest)
    existing = score_of(session, rnd, judge.id, entry.id)
    if locked(rnd, existing):
        raise RoundError(Message("本轮评审已结束，分数已锁定"))
    if final(existing):
        raise RoundError(
            Message("您已看过其他评委的评分，已提交的评分不能再修改；如确需修改，请联系组委会解锁")
        )
    # Checked before any row exists: a refused sheet leaves no empty draft behind.
    values = rubric.check(sheet, partial=not submit)
    score = _get_or_create(session, rnd, judge, entry)
    old = _snapshot(score)
    score.values = values
    score.total = rubric.total(values) if len(values) == len(rubric.criteria) else None
    score.comment = comment.strip()[:5000]
    # Saving a draft takes a submitted score back to draft: it counts again once resubmitted.
    score.submitted_at = (score.submitted_at or utcnow()) if submit else None
    if submit:
        score.unlocked = False  # an unlock allows one correction, then the score is final
    session.add(
        ScoreChange(
            score_id=score.id,
            user_id=judge.id,
            address=address[:64],
            action="submit" if submit else "draft",
            old=old,
            new=_snapshot(score),
        )
    )
    session.commit()
    return score


def unlock_score(session: Session, score: Score, organizer: User, address: str = "") -> None:
    """Reopen one score, locked by the round's close or final after the judge saw the
    others' scores, for one more submission; on the record; commits."""
    old = _snapshot(score)
    score.unlocked = True
    session.add(
        ScoreChange(
            score_id=score.id,
            user_id=organizer.id,
            address=address[:64],
            action="unlock",
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


def history(session: Session, score: Score) -> list[ScoreChange]:
    return list(
        session.scalars(
            select(ScoreChange).where(ScoreChange.score_id == score.id).order_by(ScoreChange.id)
        )
    )
