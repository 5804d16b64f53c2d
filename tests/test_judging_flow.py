"""Rounds, conflicts, scoring, locking, results and the 公示 snapshot, on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from judging.results import publish_snapshot, results, to_csv, to_json, to_xlsx
from judging.rounds import (
    RoundError,
    assign_round,
    assigned_entries,
    close_round,
    declare_conflict,
    eligible_entries,
    invite,
    open_round,
    parse_advance,
)
from judging.rubric import ScoreError
from judging.scoring import history, others_visible, save_score, score_of, unlock_score
from storage.models import Contest, EntryStatus, Role, Round, Score, User
from tests.factories import make_entry, make_user, unique

FULL = {"theme": 25, "story": 25, "production": 20, "appeal": 10}


@pytest.fixture()
def judged(session: Session) -> tuple[Contest, Round, list[User]]:
    """A contest with 6 ready entries and its first round, to which this test's 4 judges (and
    no other judge of the database) are invited."""
    contest = Contest(
        slug=unique("judged-"),
        title="评审测试",
        closes_at=datetime.now(UTC) + timedelta(days=1),
        award_tiers=[{"name": "一等奖", "count": 1}, {"name": "二等奖", "count": 2}],
    )
    owner = make_user(session)
    for i in range(6):
        entry = make_entry(session, owner, contest)
        entry.status = EntryStatus.READY
        entry.district = "历下区" if i == 0 else "市中区"
    session.commit()
    judges = [make_user(session, Role.JUDGE) for _ in range(4)]
    judges[0].district = "历下区"  # conflicts with the first entry automatically
    session.commit()
    rnd = open_round(session, contest, "初评")
    invite(session, rnd, {j.id for j in judges})
    return contest, rnd, judges


def test_assignment_respects_conflicts_and_panel_size(
    session: Session, judged: tuple[Contest, Round, list[User]]
) -> None:
    contest, rnd, judges = judged
    entries = eligible_entries(session, contest)
    assert assign_round(session, rnd, entries, seed=1) == 6 * 3
    first = entries[0]
    assert first not in assigned_entries(session, rnd, judges[0].id)
    declare_conflict(session, judges[1], entries[1], "declared")
    assert entries[1] not in assigned_entries(session, rnd, judges[1].id)
    with pytest.raises(RoundError, match="请先结束"):
        open_round(session, contest, "复评")


def test_drafts_submission_visibility_locking_and_history(
    session: Session, judged: tuple[Contest, Round, list[User]]
) -> None:
    contest, rnd, judges = judged
    entries = eligible_entries(session, contest)
    assign_round(session, rnd, entries, seed=2)
    judge = next(j for j in judges if assigned_entries(session, rnd, j.id))
    entry = assigned_entries(session, rnd, judge.id)[0]
    others = [j for j in judges if j is not judge and entry in assigned_entries(session, rnd, j.id)]

    draft = save_score(session, rnd, judge, entry, {"theme": "20"}, "初稿", submit=False)
    assert draft.total is None and draft.submitted_at is None
    with pytest.raises(ScoreError) as caught:
        save_score(session, rnd, judge, entry, {"theme": "20"}, "", submit=True)
    assert set(caught.value.errors) == {"story", "production", "appeal"}
    for other in others:
        save_score(session, rnd, other, entry, FULL, "好", submit=True)
    assert others_visible(session, rnd, judge.id, entry.id) == []  # not before submitting
    save_score(session, rnd, judge, entry, FULL, "不错", submit=True, address="10.0.0.9")
    assert len(others_visible(session, rnd, judge.id, entry.id)) == len(others)
    stranger = make_user(session, Role.JUDGE)
    with pytest.raises(RoundError, match="没有被分配"):
        save_score(session, rnd, stranger, entry, FULL, "", submit=True)

    close_round(session, rnd)
    with pytest.raises(RoundError, match="已锁定"):
        save_score(session, rnd, judge, entry, FULL, "改", submit=True)
    score = score_of(session, rnd, judge.id, entry.id)
    assert score is not None
    unlock_score(session, score, make_user(session, Role.ORGANIZER), "10.0.0.1")
    save_score(session, rnd, judge, entry, {**FULL, "appeal": 15}, "改", submit=True)
    actions = [(c.action, c.new["total"]) for c in history(session, score)]
    assert actions == [("draft", None), ("submit", 80.0), ("unlock", 80.0), ("submit", 85.0)]
    assert history(session, score)[1].address == "10.0.0.9"


def test_results_exports_and_a_frozen_snapshot(
    session: Session, judged: tuple[Contest, Round, list[User]]
) -> None:
    contest, rnd, judges = judged
    entries = eligible_entries(session, contest)
    assign_round(session, rnd, entries, seed=3)
    for judge in judges:
        for n, entry in enumerate(assigned_entries(session, rnd, judge.id)):
            base = 80 - entry.number % 10 * 5
            save_score(
                session,
                rnd,
                judge,
                entry,
                {**FULL, "theme": base % 30, "story": 20 + n % 2},
                "",
                submit=True,
            )
    rows = results(session, rnd)
    assert len(rows) == 6 and [r.rank for r in rows] == sorted(r.rank for r in rows)
    assert sum(1 for r in rows if r.award == "一等奖") >= 1
    assert all(len(r.judges) == 3 for r in rows)
    assert to_csv(rows).startswith("\ufeff名次,编号,匿名编号,作品名称")
    assert '"rank": 1' in to_json(rows)
    assert to_xlsx(rows)[:2] == b"PK"
    snapshot = publish_snapshot(session, rnd)
    frozen = (snapshot.sha256, list(snapshot.content))
    score = session.scalars(select(Score).where(Score.round_id == rnd.id)).first()
    assert score is not None
    score.total = 1.0  # a later change
    session.commit()
    session.refresh(snapshot)
    assert (snapshot.sha256, list(snapshot.content)) == frozen


def test_concurrent_saves_of_one_score_keep_one_row_and_every_change(
    session: Session,
    session_factory: sessionmaker[Session],
    judged: tuple[Contest, Round, list[User]],
) -> None:
    contest, rnd, judges = judged
    assign_round(session, rnd, eligible_entries(session, contest), seed=4)
    judge = next(j for j in judges if assigned_entries(session, rnd, j.id))
    entry_id = assigned_entries(session, rnd, judge.id)[0].id
    errors: list[BaseException] = []

    def save(theme: int) -> None:
        with session_factory() as own:
            try:
                save_score(
                    own,
                    own.get_one(Round, rnd.id),
                    own.get_one(User, judge.id),
                    own.get_one(type(assigned_entries(own, rnd, judge.id)[0]), entry_id),
                    {**FULL, "theme": theme},
                    "",
                    submit=True,
                )
            except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)

    threads = [threading.Thread(target=save, args=(t,)) for t in (10, 20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = session.scalars(
        select(Score).where(
            Score.round_id == rnd.id, Score.entry_id == entry_id, Score.judge_id == judge.id
        )
    ).all()
    assert len(rows) == 1
    assert len(history(session, rows[0])) == 2


def test_paper_scores_import_from_a_spreadsheet(
    session: Session, judged: tuple[Contest, Round, list[User]], runner: Any, tmp_path: Any
) -> None:
    contest, rnd, judges = judged
    assign_round(session, rnd, eligible_entries(session, contest), seed=5)
    judge = next(j for j in judges if assigned_entries(session, rnd, j.id))
    entry = assigned_entries(session, rnd, judge.id)[0]
    make_user(session, Role.ORGANIZER)
    sheet = tmp_path / "paper.csv"
    sheet.write_text(
        "entry,judge,theme,story,production,appeal,comment\n"
        f"{entry.number},{judge.username},25,25,20,10,纸质评分\n"
        f"{entry.number},nobody,25,25,20,10,\n"
        f"{entry.number},{judge.username},99,25,20,10,\n",
        encoding="utf-8-sig",
    )
    result = runner.invoke(args=["scores", "import", contest.slug, str(sheet)])
    assert result.exit_code == 1
    assert "未导入任何评分：2 处问题" in result.output  # the good line waits for the others
    assert score_of(session, rnd, judge.id, entry.id) is None
    sheet.write_text(
        "entry,judge,theme,story,production,appeal,comment\n"
        f"{entry.number},{judge.username},25,25,20,10,纸质评分\n",
        encoding="utf-8-sig",
    )
    result = runner.invoke(args=["scores", "import", contest.slug, str(sheet)])
    assert result.exit_code == 0 and "已导入 1 条评分" in result.output
    score = score_of(session, rnd, judge.id, entry.id)
    assert score is not None and score.total == 80 and score.comment == "纸质评分"


def test_entries_advance_by_rank_without_cutting_a_tie(
    session: Session, judged: tuple[Contest, Round, list[User]]
) -> None:
    contest, first, judges = judged
    entries = eligible_entries(session, contest)
    assign_round(session, first, entries, seed=6)
    for judge in judges:
        for entry in assigned_entries(session, first, judge.id):
            theme = {1: 30, 2: 28, 3: 28}.get(entries.index(entry) + 1, 10)
            save_score(session, first, judge, entry, {**FULL, "theme": theme}, "", submit=True)
    close_round(session, first)
    second = open_round(session, contest, "复评", parse_advance("top:2"))
    advancing = eligible_entries(session, contest, second)
    assert [e.number for e in advancing] == [e.number for e in entries[:3]]  # 2nd and 3rd tie
    close_round(session, second)
    third = open_round(session, contest, "终评", parse_advance(f"pick:{entries[4].number}"))
    assert eligible_entries(session, contest, third) == [entries[4]]
    for bad in ("top:0", "share:2", "best:3", "pick:a"):
        with pytest.raises(RoundError, match="晋级规则"):
            parse_advance(bad)


def test_hand_edits_of_panels_refuse_conflicts_and_warn_of_uneven_panels(
    session: Session, judged: tuple[Contest, Round, list[User]]
) -> None:
    from judging.rounds import add_to_panel, remove_from_panel, uneven_panels

    contest, rnd, judges = judged
    entries = eligible_entries(session, contest)
    assign_round(session, rnd, entries, seed=8)
    assert uneven_panels(session, rnd) == {}
    with pytest.raises(RoundError, match="回避关系"):
        add_to_panel(session, rnd, judges[0], entries[0])  # same district
    on_panel = next(j for j in judges if entries[1] in assigned_entries(session, rnd, j.id))
    remove_from_panel(session, rnd, on_panel, entries[1])
    assert uneven_panels(session, rnd) == {entries[1].number: 2}
    add_to_panel(session, rnd, on_panel, entries[1])
    add_to_panel(session, rnd, on_panel, entries[1])  # twice changes nothing
    assert uneven_panels(session, rnd) == {}


def test_tie_breaks_and_awards_per_category(
    session: Session, judged: tuple[Contest, Round, list[User]]
) -> None:
    from storage.models import EntryCategory

    contest, rnd, judges = judged
    entries = eligible_entries(session, contest)
    for entry in entries[3:]:
        entry.category = EntryCategory.ASPIRING
    contest.tie_break = ["appeal"]
    contest.award_tiers = [
        {"name": "一等奖", "count": 1, "category": "collective"},
        {"name": "一等奖", "count": 1, "category": "aspiring"},
    ]
    session.commit()
    assign_round(session, rnd, entries, seed=9)
    for judge in judges:
        for entry in assigned_entries(session, rnd, judge.id):
            index = entries.index(entry)
            # Entries 0 and 1 tie on the total; entry 1 scores higher on appeal.
            sheet = {
                0: {**FULL, "appeal": 10, "production": 20},
                1: {**FULL, "appeal": 15, "production": 15},
            }.get(index, {**FULL, "theme": 5})
            save_score(session, rnd, judge, entry, sheet, "", submit=True)
    rows = {r.entry: r for r in results(session, rnd)}
    assert rows[entries[1].id].rank < rows[entries[0].id].rank
    awarded = {r.entry for r in rows.values() if r.award == "一等奖"}
    assert entries[1].id in awarded
    assert any(entries[i].id in awarded for i in (3, 4, 5))  # one aspiring entry too


def test_only_invited_judges_take_part_in_a_round(
    session: Session, judged: tuple[Contest, Round, list[User]]
) -> None:
    from judging.rounds import judges_of

    contest, rnd, judges = judged
    assert judges_of(session, rnd) == judges
    invite(session, rnd, {judges[1].id, judges[2].id, judges[3].id})
    assert judges_of(session, rnd) == judges[1:]
    assign_round(session, rnd, eligible_entries(session, contest), seed=10)
    assert assigned_entries(session, rnd, judges[0].id) == []
    invite(session, rnd, set())  # none invited: every active judge, other tests' ones too
    everyone = judges_of(session, rnd)
    assert set(judges) <= set(everyone)
    assert all(j.active and j.role is Role.JUDGE for j in everyone)


@pytest.mark.parametrize(
    ("reveal", "before_close", "after_close"),
    [("after_submit", True, True), ("after_close", False, True), ("never", False, False)],
)
def test_when_judges_see_each_others_scores(
    session: Session,
    judged: tuple[Contest, Round, list[User]],
    reveal: str,
    before_close: bool,
    after_close: bool,
) -> None:
    contest, rnd, judges = judged
    contest.reveal_scores = reveal
    session.commit()
    entries = eligible_entries(session, contest)
    assign_round(session, rnd, entries, seed=11)
    entry = entries[2]
    panel = [j for j in judges if entry in assigned_entries(session, rnd, j.id)]
    for judge in panel:
        save_score(session, rnd, judge, entry, FULL, "", submit=True)
    assert bool(others_visible(session, rnd, panel[0].id, entry.id)) is before_close
    close_round(session, rnd)
    assert bool(others_visible(session, rnd, panel[0].id, entry.id)) is after_close


def test_automatic_conflict_rules_are_the_contests_choice(
    session: Session, judged: tuple[Contest, Round, list[User]]
) -> None:
    from judging.rounds import conflicts_of

    contest, rnd, judges = judged
    entries = eligible_entries(session, contest)
    assert (judges[0].id, entries[0].id) in conflicts_of(session, judges, entries)
    contest.auto_conflicts = ["unit"]  # same district no longer counts
    session.commit()
    assert (judges[0].id, entries[0].id) not in conflicts_of(session, judges, entries)
