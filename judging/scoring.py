"""Score sheets: drafts, submission, locking and unlocking, with every change kept."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from judging.messages import Message
from judging.numbers import ascii_int
from judging.rounds import RoundError, is_assigned, rubric_of
from judging.rubric import ScoreError
from storage.models import Entry, Round, Score, ScoreChange, User, utcnow


def _snapshot(score: Score) -> dict[str, Any]:
    return {
        "values": dict(score.values or {}),
        "total": score.total,
        "comment": score.comment,
        "submitted": score.submitted_at is not None,
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
    if locked(rnd, score_of(session, rnd, judge.id, entry.id)):
        raise RoundError(Message("本轮评审已结束，分数已锁定"))
    # Checked before any row exists: a refused sheet leaves no empty draft behind.
    values = rubric.check(sheet, partial=not submit)
    score = _get_or_create(session, rnd, judge, entry)
    old = _snapshot(score)
    score.values = values
    score.total = rubric.total(values) if len(values) == len(rubric.criteria) else None
    score.comment = comment.strip()[:5000]
    # Saving a draft takes a submitted score back to draft: it counts again once resubmitted.
    score.submitted_at = (score.submitted_at or utcnow()) if submit else None
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
    """Reopen one score in a closed round, on the record; commits."""
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


def history(session: Session, score: Score) -> list[ScoreChange]:
    return list(
        session.scalars(
            select(ScoreChange).where(ScoreChange.score_id == score.id).order_by(ScoreChange.id)
        )
    )


def import_scores(
    session: Session, rnd: Round, rows: list[dict[str, str]], importer: User
) -> tuple[int, list[str]]:
    """Submit paper scores: rows with `entry` (number), `judge` (username), one column per
    criterion key, optional `comment`. Returns (saved, problems); a bad row saves nothing."""
    entries = {
        e.number: e
        for e in session.scalars(select(Entry).where(Entry.contest_id == rnd.contest_id))
    }
    judges = {u.username: u for u in session.scalars(select(User))}
    saved, problems = 0, []
    for line, row in enumerate(rows, start=2):
        entry = entries.get(ascii_int(str(row.get("entry", ""))) or -1)
        judge = judges.get(str(row.get("judge", "")).strip())
        if entry is None or judge is None:
            problems.append(
                f"line {line}: unknown entry {row.get('entry')!r} or judge {row.get('judge')!r}"
            )
            continue
        try:
            save_score(
                session,
                rnd,
                judge,
                entry,
                row,
                row.get("comment", ""),
                submit=True,
                address=f"import by {importer.username}",
            )
        except (RoundError, ScoreError) as exc:
            session.rollback()
            problems.append(f"line {line}: {exc}")
        else:
            saved += 1
    return saved, problems
