"""Every entry of a round has a state, the counts add up, short panels get suggestions, and
closing or publishing over what is unresolved needs a confirmed, recorded decision."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from judging.decisions import (
    close_with_decision,
    decisions_of,
    digest_of,
    publish_with_decision,
)
from judging.panels import (
    PanelReport,
    PanelState,
    judge_progress,
    panel_report,
    round_results,
)
from judging.results import results
from judging.rounds import (
    RoundError,
    add_to_panel,
    assign_round,
    declare_conflict,
    eligible_entries,
    remove_from_panel,
)
from judging.scoring import save_score
from storage.models import (
    Assignment,
    Contest,
    Decision,
    Entry,
    EntryStatus,
    Job,
    JobState,
    Role,
    Round,
    Snapshot,
    User,
)
from tests.factories import make_user, ready_round

FULL = {"theme": 25, "story": 25, "production": 20, "appeal": 10}


@dataclass
class Judged:
    contest: Contest
    round: Round
    entries: list[Entry]
    judges: list[User]

    def panel(self, session: Session, entry: Entry) -> list[User]:
        ids = set(
            session.scalars(
                select(Assignment.judge_id).where(
                    Assignment.round_id == self.round.id, Assignment.entry_id == entry.id
                )
            )
        )
        return [j for j in self.judges if j.id in ids]


def judged_round(session: Session, entries: int = 4, judges: int = 4, per: int = 2) -> Judged:
    """A contest with ready entries and an open first round of its own invited judges."""
    world = ready_round(
        session, entries, judges, judges_per_entry=per, award_tiers=[{"name": "一等奖", "count": 1}]
    )
    return Judged(*world)


def assigned(session: Session, world: Judged) -> None:
    assign_round(session, world.round, eligible_entries(session, world.contest, world.round), 1)


def submit_all(session: Session, world: Judged) -> None:
    for entry in world.entries:
        for judge in world.panel(session, entry):
            save_score(session, world.round, judge, entry, FULL, "", submit=True)


def state_of(report: PanelReport, entry: Entry) -> PanelState:
    row = report.of(entry.id)
    assert row is not None, f"No.{entry.number} is missing from the report"
    return row.state


def never_assigned(session: Session, w: Judged) -> None:
    pass


def fully_assigned(session: Session, w: Judged) -> None:
    assigned(session, w)


def all_submitted(session: Session, w: Judged) -> None:
    assigned(session, w)
    submit_all(session, w)


def conflict_after_assignment(session: Session, w: Judged) -> None:
    assigned(session, w)
    declare_conflict(session, w.panel(session, w.entries[0])[0], w.entries[0], "declared")


def judge_removed_and_deactivated(session: Session, w: Judged) -> None:
    """Each judge has two entries: taken off one, then deactivated, they leave both short."""
    assigned(session, w)
    removed = w.panel(session, w.entries[1])[0]
    remove_from_panel(session, w.round, removed, w.entries[1])
    removed.active = False
    session.commit()


def withdrawn_and_reprocessing(session: Session, w: Judged) -> None:
    all_submitted(session, w)
    w.entries[0].status = EntryStatus.WITHDRAWN
    w.entries[1].status = EntryStatus.PROCESSING
    session.commit()


SHAPES: dict[str, tuple[Callable[[Session, Judged], None], dict[str, int]]] = {
    "never assigned": (never_assigned, {"assigned": 0, "short": 4, "excluded": 0}),
    "assigned": (fully_assigned, {"assigned": 4, "waiting": 4, "short": 0, "excluded": 0}),
    "all submitted": (all_submitted, {"assigned": 4, "complete": 4, "short": 0}),
    "a conflict": (conflict_after_assignment, {"assigned": 3, "short": 1, "excluded": 0}),
    "removed, deactivated": (judge_removed_and_deactivated, {"assigned": 2, "short": 2}),
    "withdrawn, reprocessing": (withdrawn_and_reprocessing, {"assigned": 2, "excluded": 2}),
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_the_counts_add_up_on_every_shape_of_round(session: Session, shape: str) -> None:
    world = judged_round(session)
    build, expected = SHAPES[shape]
    build(session, world)
    report = panel_report(session, world.round)
    totals = report.totals()
    assert totals["assigned"] + totals["short"] + totals["excluded"] == totals["entries"] == 4
    assert totals["complete"] + totals["waiting"] == totals["assigned"]
    assert {k: totals[k] for k in expected} == expected
    assert [r.entry.id for r in report.entries] == [e.id for e in world.entries]


def reasons_of(session: Session, world: Judged) -> dict[int, list[str]]:
    """Entry index -> the reasons of its state, for the entries that have any."""
    report = panel_report(session, world.round)
    found = {}
    for n, entry in enumerate(world.entries):
        row = report.of(entry.id)
        if row is not None and row.reasons:
            found[n] = [str(r) for r in row.reasons]
    return found


def test_each_short_or_excluded_entry_says_why(session: Session) -> None:
    fresh = judged_round(session)
    assert reasons_of(session, fresh) == {n: ["评委 0 / 2 位", "尚未分配评委"] for n in range(4)}

    declared = judged_round(session)
    assigned(session, declared)
    judge = declared.panel(session, declared.entries[0])[0]
    declare_conflict(session, judge, declared.entries[0], "declared")
    name = f"{judge.display_name}（{judge.username}）"
    assert reasons_of(session, declared) == {0: ["评委 1 / 2 位", f"回避：{name}"]}

    removed = judged_round(session)
    assigned(session, removed)
    judge = removed.panel(session, removed.entries[1])[0]
    remove_from_panel(session, removed.round, judge, removed.entries[1])
    assert reasons_of(session, removed) == {1: ["评委 1 / 2 位"]}  # no row says more
    judge.active = False
    session.commit()
    name = f"{judge.display_name}（{judge.username}）"
    found = reasons_of(session, removed)
    [other] = set(found) - {1}
    assert found == {1: ["评委 1 / 2 位"], other: ["评委 1 / 2 位", f"评委已停用：{name}"]}

    withdrawn_and_reprocessing(session, fresh)
    assert reasons_of(session, fresh) == {0: ["作品已撤回"], 1: ["视频正在重新处理"]}


def test_suggestions_are_free_unconflicted_judges_with_the_lightest_load(
    session: Session,
) -> None:
    world = judged_round(session, entries=3, judges=5, per=2)
    one, two, three, four, five = world.judges
    entry, other, third = world.entries
    # Loads: one 2, two 1, three 1, four 0, five 0.
    for judge, target in [(one, other), (one, third), (two, other), (three, third)]:
        add_to_panel(session, world.round, judge, target)
    add_to_panel(session, world.round, one, entry)
    declare_conflict(session, four, entry, "declared")  # free, but conflicted
    five.unit = entry.collective  # conflicted automatically: same unit
    world.contest.auto_conflicts = ["unit"]
    outsider = make_user(session, Role.JUDGE)  # an active judge, not invited to the round
    session.commit()
    row = panel_report(session, world.round).of(entry.id)
    assert row is not None and row.state is PanelState.SHORT
    offered = [(s.judge.id, s.load) for s in row.suggestions]
    assert offered == [(two.id, 1), (three.id, 1)]  # equal loads: in account order
    assert outsider.id not in {j for j, _ in offered}
    add_to_panel(session, world.round, two, entry)
    assert state_of(panel_report(session, world.round), entry) is PanelState.WAITING


def test_an_entry_whose_judge_declares_a_conflict_stays_in_the_results(
    session: Session,
) -> None:
    world = judged_round(session, entries=3, judges=3, per=1)
    assigned(session, world)
    gone, scored, kept = world.entries
    declare_conflict(session, world.panel(session, gone)[0], gone, "declared")
    judge = world.panel(session, scored)[0]
    save_score(session, world.round, judge, scored, FULL, "", submit=True)
    remove_from_panel(session, world.round, judge, scored)  # scored, then taken off
    save_score(session, world.round, world.panel(session, kept)[0], kept, FULL, "", submit=True)
    # The score of a judge taken off the panel stays on record but no longer counts.
    assert {r.number for r in results(session, world.round)} == {kept.number}
    rows = {r.number: r for r in round_results(session, world.round)}
    assert set(rows) == {e.number for e in world.entries}
    for short in (gone, scored):
        assert rows[short.number].flags == ["unscored", "short_panel"]
        assert rows[short.number].rank == 0 and rows[short.number].score is None
    assert "short_panel" not in rows[kept.number].flags and rows[kept.number].rank == 1


def test_closing_over_unresolved_panels_needs_the_current_list_confirmed(
    session: Session,
) -> None:
    world = judged_round(session, entries=2, judges=3, per=2)
    organizer = make_user(session, Role.ORGANIZER)
    assigned(session, world)
    first, second = world.entries
    late = world.panel(session, first)[0]
    for entry in world.entries:
        for judge in world.panel(session, entry):
            if (judge, entry) != (late, first):
                save_score(session, world.round, judge, entry, FULL, "", submit=True)
    asked = close_with_decision(session, world.round, organizer, None)
    assert asked is not None and world.round.closed_at is None
    label = panel_report(session, world.round).entries[0].label
    assert [str(i) for i in asked.items] == [
        f"{label} 尚有 1 份评分未提交：{late.display_name}（{late.username}）"
    ]
    assert close_with_decision(session, world.round, organizer, "0" * 32) is not None
    # Between the page and the confirmation a new conflict comes in: the old list is stale.
    declare_conflict(session, world.panel(session, second)[0], second, "declared")
    again = close_with_decision(session, world.round, organizer, asked.digest)
    assert again is not None and again.digest != asked.digest and len(again.items) == 2
    assert world.round.closed_at is None
    assert close_with_decision(session, world.round, organizer, again.digest, " 开会决定 ") is None
    session.expire_all()
    assert world.round.closed_at is not None
    [(decision, who, round_name)] = decisions_of(session, world.contest.id)
    assert (decision.kind, decision.subject, who.id, round_name) == (
        "close_round",
        f"round:{world.round.id}",
        organizer.id,
        "初评",
    )
    assert decision.unresolved == [str(i) for i in again.items] and decision.note == "开会决定"


def test_nothing_unresolved_closes_and_publishes_at_once_without_a_decision(
    session: Session,
) -> None:
    world = judged_round(session, entries=2, judges=2, per=2)
    world.contest.award_tiers = []
    session.commit()
    all_submitted(session, world)
    organizer = make_user(session, Role.ORGANIZER)
    assert close_with_decision(session, world.round, organizer, None) is None
    assert isinstance(publish_with_decision(session, world.round, organizer, None), Snapshot)
    assert decisions_of(session, world.contest.id) == []


def test_publishing_over_a_boundary_tie_is_asked_once_and_recorded(session: Session) -> None:
    world = judged_round(session, entries=3, judges=2, per=2)
    all_submitted(session, world)  # equal scores: a tie across the one 一等奖
    organizer = make_user(session, Role.ORGANIZER)
    asked = publish_with_decision(session, world.round, organizer, "")
    assert not isinstance(asked, Snapshot)
    tied = "、".join(f"No.{e.number:04d}（一等奖）" for e in world.entries)
    assert [str(i) for i in asked.items] == [f"第 1 名并列跨奖项线：{tied}"]
    published = publish_with_decision(session, world.round, organizer, asked.digest, "按规则")
    assert isinstance(published, Snapshot)
    # The same confirmation sent again (a double click) publishes nothing more: it asks.
    twice = publish_with_decision(session, world.round, organizer, asked.digest)
    assert not isinstance(twice, Snapshot) and twice.digest != asked.digest
    snapshots = session.scalars(select(Snapshot).where(Snapshot.round_id == world.round.id))
    assert len(snapshots.all()) == 1
    kinds = session.scalars(select(Decision.kind).where(Decision.round_id == world.round.id))
    assert kinds.all() == ["publish"]


def test_publishing_leaves_out_unscored_entries_only_when_told_so(session: Session) -> None:
    world = judged_round(session, entries=3, judges=2, per=2)
    assigned(session, world)
    scored, *unscored = world.entries
    for judge in world.panel(session, scored):
        save_score(session, world.round, judge, scored, FULL, "", submit=True)
    organizer = make_user(session, Role.ORGANIZER)
    close_with_decision(session, world.round, organizer, None)  # asks: scores missing
    asked = publish_with_decision(session, world.round, organizer, None)
    assert not isinstance(asked, Snapshot)
    missing = "、".join(f"No.{e.number:04d}" for e in unscored)
    assert f"2 件作品没有计入的评分，不会列入公示：{missing}" in [str(i) for i in asked.items]
    published = publish_with_decision(session, world.round, organizer, asked.digest)
    assert isinstance(published, Snapshot)
    assert [row["number"] for row in published.content] == [scored.number]


def test_the_digest_depends_on_every_item_and_its_order() -> None:
    assert digest_of(["a", "b"]) != digest_of(["b", "a"]) != digest_of(["a"])
    assert digest_of(["a"], 1) != digest_of(["a"], 2)
    assert digest_of(["a"]) == digest_of(["a"])


def test_only_organizers_close_or_publish_and_only_operators_cancel(
    client: FlaskClient, auth: Any, session: Session
) -> None:
    world = judged_round(session, entries=2, judges=2, per=2)
    assigned(session, world)  # nothing submitted: closing would ask
    job = Job(entry=world.entries[0], source_key="k", state=JobState.QUEUED)
    session.add(job)
    session.commit()
    for role in (Role.CONTESTANT, Role.JUDGE, Role.OPERATOR):
        auth.login(make_user(session, role).username)
        for url in ("/admin/judging/close", "/admin/judging/publish"):
            assert client.post(url, data={"digest": "0" * 32}).status_code == 403
        if role is not Role.OPERATOR:
            assert client.post(f"/ops/jobs/{job.id}/cancel").status_code == 403
        auth.logout()
    auth.login(make_user(session, Role.ORGANIZER).username)
    assert client.post(f"/ops/jobs/{job.id}/cancel").status_code == 403
    forged = client.post("/admin/judging/close", data={"digest": "f" * 32, "confirm": "1"})
    assert "待确认的事项已有变化" in forged.get_data(as_text=True)  # asked again, not closed
    session.expire_all()
    assert session.get_one(Round, world.round.id).closed_at is None
    assert session.get_one(Job, job.id).state is JobState.QUEUED
    assert session.scalars(select(Decision).where(Decision.round_id == world.round.id)).all() == []


def test_only_the_panels_scores_count_and_a_deactivated_judges_work_stands(
    session: Session,
) -> None:
    w = judged_round(session, entries=1, judges=4, per=3)
    assigned(session, w)
    entry = w.entries[0]
    first, second, third = w.panel(session, entry)
    for judge, total in ((first, FULL), (second, {**FULL, "theme": 5}), (third, FULL)):
        save_score(session, w.round, judge, entry, total, "", submit=True)
    assert [len(r.judges) for r in results(session, w.round)] == [3]
    # A conflict declared after submitting, and a judge taken off the panel: neither counts.
    declare_conflict(session, second, entry, "declared")
    remove_from_panel(session, w.round, third, entry)
    rows = results(session, w.round)
    assert [sorted(r.judges.values()) for r in rows] == [[80.0]]
    # Nor are they counted as done on the desk's per-judge progress.
    progress = {
        j.id: (n, done) for j, n, done in judge_progress(panel_report(session, w.round), w.judges)
    }
    assert progress[second.id] == progress[third.id] == (0, 0) and progress[first.id] == (1, 1)
    # A judge deactivated after submitting still counts, and the panel does not call for
    # a replacement of work that is done.
    add_to_panel(session, w.round, third, entry)
    first.active = False
    session.commit()
    row = panel_report(session, w.round).of(entry.id)
    assert row is not None and first in row.panel and len(results(session, w.round)[0].judges) == 2


def test_a_deactivated_judge_cannot_be_added_by_hand(session: Session) -> None:
    w = judged_round(session, entries=1, judges=3, per=2)
    idle = w.judges[0]
    idle.active = False
    session.commit()
    with pytest.raises(RoundError) as refused:
        add_to_panel(session, w.round, idle, w.entries[0])
    assert "已停用" in refused.value.message
    assert not w.panel(session, w.entries[0])
