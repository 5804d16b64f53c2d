"""Rounds, conflicts and assignments, kept in the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from judging.assignment import Party, assign, automatic_conflicts
from judging.codes import ensure_codes
from judging.judge_notices import ADDED, REMOVED, tell_assignment_changed, tell_round_opened
from judging.messages import Message
from judging.results import result_groups, results
from judging.rubric import Rubric, rubric_for
from storage.models import (
    Assignment,
    Conflict,
    Contest,
    Entry,
    EntryStatus,
    Invitation,
    Role,
    Round,
    User,
    utcnow,
)


class RoundError(ValueError):
    """A judging action the rules refuse; `message` is for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def rubric_of(contest: Contest) -> Rubric:
    """The contest's shared rubric (`judging.rubric.rubric_for` gives an entry's own)."""
    return rubric_for(contest)


def parse_advance(text: str) -> dict[str, Any]:
    """`top:20`, `share:0.3` or `pick:1,5,7` (entry numbers); empty: every entry goes on."""
    kind, _sep, value = text.strip().partition(":")
    try:
        if not kind:
            return {}
        if kind == "top" and int(value) > 0:
            return {"top": int(value)}
        if kind == "share" and 0 < float(value) <= 1:
            return {"share": float(value)}
        if kind == "pick":
            return {"pick": sorted({int(n) for n in value.replace("，", ",").split(",") if n})}
    except ValueError:
        pass
    raise RoundError(Message("晋级规则应为 top:数量、share:比例 或 pick:编号,编号"))


def open_round(
    session: Session,
    contest: Contest,
    name: str,
    advance: dict[str, Any] | None = None,
    due_at: datetime | None = None,
) -> Round:
    """Add the next round of a contest, with how entries advance into it and when judges are
    asked to finish (`judging.round_due.parse_due`); commits."""
    last = session.scalar(
        select(Round).where(Round.contest_id == contest.id).order_by(Round.position.desc())
    )
    if last is not None and last.closed_at is None:
        raise RoundError(Message("请先结束“%(name)s”再开始新一轮", name=last.name))
    rnd = Round(
        contest_id=contest.id,
        name=name,
        position=(last.position + 1) if last else 1,
        advance=(advance or {}) if last else {},
        due_at=due_at,
    )
    session.add(rnd)
    session.commit()
    return rnd


def current_round(session: Session, contest: Contest) -> Round | None:
    return session.scalar(
        select(Round).where(Round.contest_id == contest.id).order_by(Round.position.desc())
    )


def close_round(session: Session, rnd: Round) -> None:
    """Close a round: its scores lock. Commits."""
    rnd.closed_at = rnd.closed_at or utcnow()
    session.commit()


def judges_of(session: Session, rnd: Round | None = None) -> list[User]:
    """The active judges of a round: those invited to it, or every judge if it invited none."""
    query = select(User).where(User.role == Role.JUDGE, User.active).order_by(User.id)
    if rnd is not None:
        invited = select(Invitation.judge_id).where(Invitation.round_id == rnd.id)
        if session.scalar(select(Invitation.id).where(Invitation.round_id == rnd.id).limit(1)):
            query = query.where(User.id.in_(invited))
    return list(session.scalars(query))


def invite(session: Session, rnd: Round, judge_ids: set[int]) -> None:
    """Set who judges a round (an empty set: every active judge); commits."""
    session.execute(delete(Invitation).where(Invitation.round_id == rnd.id))
    judges = {j.id for j in judges_of(session)}
    session.add_all(Invitation(round_id=rnd.id, judge_id=j) for j in sorted(judge_ids & judges))
    session.commit()


def eligible_entries(session: Session, contest: Contest, rnd: Round | None = None) -> list[Entry]:
    """The entries a round judges: every ready entry, or those advancing from the round
    before it by the round's rule."""
    stmt = select(Entry).where(Entry.contest_id == contest.id, Entry.status == EntryStatus.READY)
    if contest.recommendation_required:  # 逐级推荐: only what the districts recommended
        stmt = stmt.where(Entry.district_decision == "recommended")
    ready = list(session.scalars(stmt.order_by(Entry.number)))
    if rnd is None or not rnd.advance:
        return ready
    previous = session.scalar(
        select(Round).where(Round.contest_id == contest.id, Round.position == rnd.position - 1)
    )
    ranked = results(session, previous) if previous else []
    if "pick" in rnd.advance:
        chosen = {row.entry for row in ranked if row.number in set(rnd.advance["pick"])}
        chosen |= {e.id for e in ready if e.number in set(rnd.advance["pick"])}
    else:
        # With results by work type, each type's top N (or share) goes on.
        chosen = set()
        for group in result_groups(contest, ranked, lambda row: row.work_type):
            chosen |= _advancing(group, rnd.advance)
    return [e for e in ready if e.id in chosen]


def _advancing(ranked: list[Any], advance: dict[str, Any]) -> set[int]:
    """The entries of one ranking that go on by `top` or `share`."""
    count = advance.get("top") or round(len(ranked) * advance["share"])
    # Entries tied with the last one to go on go on too: a tie is never cut.
    cutoff = ranked[count - 1].rank if 0 < count <= len(ranked) else None
    return {row.entry for row in ranked if cutoff is not None and row.rank <= cutoff}


def declare_conflict(session: Session, judge: User, entry: Entry, reason: str) -> None:
    """Record that a judge must not see an entry (and drop any assignment of it); commits.

    An organizer's conflict takes the entry off the judge's list in open rounds: the judge
    is told, as for any entry taken off by hand. One the judge declared needs no telling.
    """
    session.add(Conflict(judge_id=judge.id, entry_id=entry.id, reason=reason))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()  # already recorded: nothing to add
    dropped = session.scalars(
        delete(Assignment)
        .where(Assignment.judge_id == judge.id, Assignment.entry_id == entry.id)
        .returning(Assignment.round_id)
    ).all()
    if reason != "declared":
        for rnd in session.scalars(
            select(Round).where(Round.id.in_(dropped), Round.closed_at.is_(None))
        ):
            tell_assignment_changed(session, rnd, judge, entry, REMOVED)
    session.commit()


def conflicts_of(
    session: Session, judges: list[User], entries: list[Entry]
) -> set[tuple[int, int]]:
    """Recorded conflicts plus automatic ones, by the contest's rules (same unit, district)."""
    recorded = {(c.judge_id, c.entry_id) for c in session.scalars(select(Conflict))}
    rules = set(entries[0].contest.auto_conflicts or []) if entries else set()
    automatic = automatic_conflicts(
        [Party(j.id, j.unit, j.district) for j in judges],
        [Party(e.id, e.collective, e.district) for e in entries],
        by_unit="unit" in rules,
        by_district="district" in rules,
    )
    return recorded | automatic


def assign_round(session: Session, rnd: Round, entries: list[Entry], seed: int = 0) -> int:
    """Replace the round's assignments with a fresh balanced one; commits. Returns the count.

    Each judge given entries is told so (`round_opened`), once per round."""
    if rnd.closed_at is not None:
        raise RoundError(Message("本轮评审已结束，不能再分配"))
    judges = judges_of(session, rnd)
    contest = rnd.contest
    conflicts = conflicts_of(session, judges, entries)
    panels = assign(
        [e.id for e in entries], [j.id for j in judges], contest.judges_per_entry, conflicts, seed
    )
    session.execute(delete(Assignment).where(Assignment.round_id == rnd.id))
    pairs = [(judge, entry) for entry, panel in panels.items() for judge in panel]
    session.add_all(Assignment(round_id=rnd.id, judge_id=j, entry_id=e) for j, e in pairs)
    tell_round_opened(session, rnd, pairs)
    session.commit()
    ensure_codes(session, rnd, panels)
    return sum(len(p) for p in panels.values())


def assigned_entries(session: Session, rnd: Round, judge_id: int) -> list[Entry]:
    """The entries a judge scores in a round, never a conflicted one."""
    conflicted = select(Conflict.entry_id).where(Conflict.judge_id == judge_id)
    query = (
        select(Entry)
        .join(Assignment, Assignment.entry_id == Entry.id)
        .where(
            Assignment.round_id == rnd.id,
            Assignment.judge_id == judge_id,
            Entry.id.not_in(conflicted),
        )
        .order_by(Entry.number)
    )
    return list(session.scalars(query))


def is_assigned(session: Session, rnd: Round, judge_id: int, entry_id: int) -> bool:
    """Whether the judge scores this entry in the round (assigned, and no conflict)."""
    # One indexed lookup: every score form asks this, so it must not load the whole list.
    conflicted = select(Conflict.id).where(
        Conflict.judge_id == judge_id, Conflict.entry_id == entry_id
    )
    query = select(Assignment.id).where(
        Assignment.round_id == rnd.id,
        Assignment.judge_id == judge_id,
        Assignment.entry_id == entry_id,
        ~conflicted.exists(),
    )
    return session.scalar(query.limit(1)) is not None


def add_to_panel(session: Session, rnd: Round, judge: User, entry: Entry) -> None:
    """Assign one more judge to an entry by hand; never a conflicted one. Commits.

    The judge is told (`assignment_changed`); the entry's code is drawn first, so the
    message can name it."""
    if rnd.closed_at is not None:
        raise RoundError(Message("本轮评审已结束，不能再分配"))
    if (judge.id, entry.id) in conflicts_of(session, [judge], [entry]):
        raise RoundError(Message("该评委与这件作品有回避关系，不能分配"))
    if not judge.active or judge.role is not Role.JUDGE:
        raise RoundError(Message("%(name)s 的评委账号已停用，不能分配", name=judge.display_name))
    ensure_codes(session, rnd, [entry.id])
    if is_on_list(session, rnd, judge.id, entry.id):
        return  # a second click: already on the panel, nothing to tell
    session.add(Assignment(round_id=rnd.id, judge_id=judge.id, entry_id=entry.id))
    try:
        session.flush()
        tell_assignment_changed(session, rnd, judge, entry, ADDED)
        session.commit()
    except IntegrityError:
        session.rollback()  # added meanwhile by another click: that one tells the judge


def remove_from_panel(session: Session, rnd: Round, judge: User, entry: Entry) -> None:
    """Take a judge off an entry's panel by hand; commits. A judge who was on it is told."""
    if rnd.closed_at is not None:
        raise RoundError(Message("本轮评审已结束，不能再分配"))
    removed = session.execute(
        delete(Assignment)
        .where(
            Assignment.round_id == rnd.id,
            Assignment.judge_id == judge.id,
            Assignment.entry_id == entry.id,
        )
        .returning(Assignment.id)
    ).all()
    if removed:
        tell_assignment_changed(session, rnd, judge, entry, REMOVED)
    session.commit()


def is_on_list(session: Session, rnd: Round, judge_id: int, entry_id: int) -> bool:
    """Whether the judge has an assignment of the entry in the round (conflicted or not)."""
    query = select(Assignment.id).where(
        Assignment.round_id == rnd.id,
        Assignment.judge_id == judge_id,
        Assignment.entry_id == entry_id,
    )
    return session.scalar(query.limit(1)) is not None


def uneven_panels(session: Session, rnd: Round) -> dict[int, int]:
    """Entry number -> panel size, for entries whose panel is not the contest's size."""
    sizes: dict[int, int] = {}
    for assignment in session.scalars(select(Assignment).where(Assignment.round_id == rnd.id)):
        number = assignment.entry.number
        sizes[number] = sizes.get(number, 0) + 1
    return {n: size for n, size in sizes.items() if size != rnd.contest.judges_per_entry}
