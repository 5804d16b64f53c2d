"""Judging per work type: an entry is scored with its type's own rubric or the shared one
(rubric_for), a sheet of another type's criteria is refused, and with results by type the
ranking, awards (quotas per type), ties, advancement, exports and the 公示 go per type."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from judging.aggregation import aggregate
from judging.contest_setup import ContestConfigError, apply_config, check_config, checked_config
from judging.exports import scores_table, snapshot_table
from judging.panels import round_results
from judging.ranking import TIE_AT_BOUNDARY
from judging.results import publish_snapshot, results, to_csv, to_xlsx
from judging.rounds import assign_round, close_round, eligible_entries, open_round
from judging.rubric import DEFAULT_RUBRIC, ScoreError, rubric_for, scale_warning
from judging.score_import import import_scores
from judging.scoring import save_score, score_of
from storage.models import Contest, Entry, Role, Round, User, WorkType
from tests.factories import make_user, ready_round

SHARED = [
    {"key": "theme", "name": "主题", "max_points": 60.0, "step": 1.0, "weight": 1.0},
    {"key": "craft", "name": "制作", "max_points": 40.0, "step": 1.0, "weight": 1.0},
]
PHOTO = [
    {"key": "idea", "name": "立意", "max_points": 50.0, "step": 1.0, "weight": 1.0},
    {"key": "light", "name": "光影", "max_points": 50.0, "step": 1.0, "weight": 1.0},
]
TYPES = ["video", "photo", "story"]
Judged = tuple[Contest, Round, list[Entry], list[User]]


def judged_round(
    session: Session, types: list[str], photo: list[dict[str, Any]] | None = None, **fields: Any
) -> Judged:
    """A contest of video, photo and story entries (entry i of type types[i]), the shared
    rubric SHARED and a photo rubric of its own; two judges who score every entry."""
    contest, rnd, entries, judges = ready_round(
        session,
        entries=len(types),
        judges=2,
        judges_per_entry=2,
        rubric=SHARED,
        work_types=TYPES,
        rubrics_by_type={"photo": photo if photo is not None else PHOTO},
        **fields,
    )
    for entry, work_type in zip(entries, types, strict=True):
        entry.work_type = WorkType(work_type)
    session.commit()
    assign_round(session, rnd, entries, seed=3)
    return contest, rnd, entries, judges


def sheet_for(contest: Contest, entry: Entry, total: int) -> dict[str, str]:
    """A sheet of the entry's rubric summing to `total`, each criterion filled in turn."""
    sheet, rest = {}, total
    for c in rubric_for(contest, entry).criteria:
        value = min(int(c.max_points), rest)
        sheet[c.key], rest = str(value), rest - value
    assert rest == 0
    return sheet


def score_all(session: Session, judged: Judged, totals: list[int]) -> None:
    contest, rnd, entries, judges = judged
    for entry, total in zip(entries, totals, strict=True):
        for judge in judges:
            save_score(session, rnd, judge, entry, sheet_for(contest, entry, total), "", True)


# --- rubric_for -------------------------------------------------------------------------


def test_a_type_without_its_own_rubric_uses_the_shared_one(session: Session) -> None:
    contest, _rnd, entries, _judges = judged_round(session, ["video", "photo", "story"])
    video, photo, story = entries
    assert [c.key for c in rubric_for(contest, video).criteria] == ["theme", "craft"]
    assert [c.key for c in rubric_for(contest, photo).criteria] == ["idea", "light"]
    assert [c.key for c in rubric_for(contest, "photo").criteria] == ["idea", "light"]
    assert [c.key for c in rubric_for(contest, story).criteria] == ["theme", "craft"]
    assert rubric_for(contest).criteria == rubric_for(contest, WorkType.COMIC).criteria
    bare = Contest(slug="x", title="x", rubric=[], rubrics_by_type={"photo": []})
    assert rubric_for(bare, "photo") == DEFAULT_RUBRIC


def test_a_sheet_of_another_types_criteria_is_refused_and_nothing_saved(
    session: Session,
) -> None:
    contest, rnd, entries, judges = judged_round(session, ["video", "photo"])
    video, photo = entries
    judge = judges[0]
    # The shared rubric's keys on a photo entry: refused by name, no draft left behind.
    with pytest.raises(ScoreError) as refused:
        save_score(session, rnd, judge, photo, {"theme": "30", "craft": "20"}, "", True)
    assert set(refused.value.errors) == {"theme", "craft"}
    assert "主题" in refused.value.errors["theme"] and "请留空" in refused.value.errors["theme"]
    assert score_of(session, rnd, judge.id, photo.id) is None
    # Its own criteria plus one of the shared rubric's (a forged extra field): refused too.
    forged = {"idea": "40", "light": "40", "craft": "10"}
    with pytest.raises(ScoreError):
        save_score(session, rnd, judge, photo, forged, "", True)
    # Its own criteria: saved, the total on its own scale; blank extras are not values.
    score = save_score(session, rnd, judge, photo, {"idea": "45", "light": "40", "x": ""}, "", True)
    assert score.total == 85 and set(score.values) == {"idea", "light"}
    assert save_score(session, rnd, judge, video, {"theme": "50", "craft": "30"}, "", True).total
    with pytest.raises(ScoreError):
        save_score(session, rnd, judges[1], video, {"idea": "45", "light": "40"}, "", True)


# --- ranking, awards, ties --------------------------------------------------------------


TIERS = [{"name": "一等奖", "count": 1}, {"name": "二等奖", "share": 0.5}]


def test_results_by_type_rank_and_award_within_each_type(session: Session) -> None:
    judged = judged_round(
        session,
        ["video", "photo", "video", "photo", "photo", "video"],
        results_by_type=True,
        award_tiers=TIERS,
    )
    contest, rnd, entries, _judges = judged
    score_all(session, judged, [90, 70, 80, 95, 60, 50])
    rows = results(session, rnd)
    by_type = {t: [r for r in rows if r.work_type == t] for t in ("video", "photo")}
    # The contest's order of types (video first), ranks within each type.
    assert [r.work_type for r in rows] == ["video"] * 3 + ["photo"] * 3
    assert [(r.number, r.rank, r.award) for r in by_type["video"]] == [
        (entries[0].number, 1, "一等奖"),
        (entries[2].number, 2, "二等奖"),
        (entries[5].number, 3, "二等奖"),  # 50 % of 3 is 1.5: two places
    ]
    assert [(r.number, r.rank, r.award) for r in by_type["photo"]] == [
        (entries[3].number, 1, "一等奖"),
        (entries[1].number, 2, "二等奖"),
        (entries[4].number, 3, "二等奖"),
    ]
    # All together (the switch off): one 一等奖 for the whole contest.
    contest.results_by_type = False
    session.commit()
    together = results(session, rnd)
    assert [r.rank for r in together] == [1, 2, 3, 4, 5, 6]
    assert [r.award for r in together].count("一等奖") == 1


def test_zscores_are_worked_out_within_each_type(session: Session) -> None:
    types = ["video", "photo", "video", "photo", "video", "photo"]
    judged = judged_round(session, types, results_by_type=True, aggregation="zscore")
    contest, rnd, entries, judges = judged
    # The first judge is harsh on photos only: normalised over all six entries, that
    # harshness would move the videos' scores too.
    for entry, total in zip(entries, [90, 40, 80, 30, 70, 20], strict=True):
        save_score(session, rnd, judges[0], entry, sheet_for(contest, entry, total), "", True)
    for entry, total in zip(entries, [88, 85, 79, 75, 72, 65], strict=True):
        save_score(session, rnd, judges[1], entry, sheet_for(contest, entry, total), "", True)
    by_type = {r.entry: r.score for r in results(session, rnd)}
    for work_type in ("video", "photo"):
        group = [e for e in entries if e.work_type == work_type]
        sheet = {
            e.id: {j.id: score_of(session, rnd, j.id, e.id).total for j in judges}  # type: ignore[union-attr]
            for e in group
        }
        alone = aggregate("zscore", sheet, min_scored=3)
        assert {e.id: by_type[e.id] for e in group} == {e: round(v, 3) for e, v in alone.items()}


def test_ties_at_a_boundary_are_flagged_within_their_type(session: Session) -> None:
    judged = judged_round(
        session,
        ["photo", "photo", "photo", "video"],
        results_by_type=True,
        award_tiers=[{"name": "一等奖", "count": 1}],
    )
    _contest, rnd, entries, _judges = judged
    # Two photos tie for the one 一等奖; the video alone takes its type's.
    score_all(session, judged, [88, 88, 70, 60])
    rows = {r.number: r for r in results(session, rnd)}
    for entry in entries[:2]:
        assert rows[entry.number].rank == 1 and rows[entry.number].award == "一等奖"
        assert TIE_AT_BOUNDARY in rows[entry.number].flags
    assert rows[entries[2].number].award == "" and not rows[entries[2].number].flags
    video = rows[entries[3].number]
    assert (video.rank, video.award, video.flags) == (1, "一等奖", [])


def test_unscored_entries_follow_their_own_types_ranked_ones(session: Session) -> None:
    judged = judged_round(session, ["video", "photo", "video", "photo"], results_by_type=True)
    contest, rnd, entries, judges = judged
    for entry, total in ((entries[0], 80), (entries[1], 70)):
        for judge in judges:
            save_score(session, rnd, judge, entry, sheet_for(contest, entry, total), "", True)
    rows = round_results(session, rnd)
    assert [(r.work_type, r.rank) for r in rows] == [
        ("video", 1),
        ("video", 0),
        ("photo", 1),
        ("photo", 0),
    ]


def test_advancement_takes_the_top_of_each_type(session: Session) -> None:
    judged = judged_round(
        session, ["video", "photo", "video", "photo", "video"], results_by_type=True
    )
    contest, rnd, entries, _judges = judged
    score_all(session, judged, [90, 60, 80, 70, 85])
    close_round(session, rnd)
    final = open_round(session, contest, "复评", {"top": 1})
    chosen = {e.id for e in eligible_entries(session, contest, final)}
    assert chosen == {entries[0].id, entries[3].id}
    # All together, the top one of the contest alone.
    contest.results_by_type = False
    session.commit()
    assert {e.id for e in eligible_entries(session, contest, final)} == {entries[0].id}


def test_a_share_advances_per_type_and_keeps_ties(session: Session) -> None:
    judged = judged_round(
        session, ["photo", "photo", "photo", "photo", "video", "video"], results_by_type=True
    )
    contest, rnd, entries, _judges = judged
    score_all(session, judged, [90, 80, 80, 50, 70, 60])
    close_round(session, rnd)
    final = open_round(session, contest, "复评", {"share": 0.5})
    chosen = {e.id for e in eligible_entries(session, contest, final)}
    # Photos: two places, the tie at the second place goes on too; videos: one.
    assert chosen == {entries[0].id, entries[1].id, entries[2].id, entries[4].id}


# --- scales ------------------------------------------------------------------------------


def test_ranking_mixed_scales_together_is_warned_about(session: Session) -> None:
    small = [{"key": "idea", "name": "立意", "max_points": 50.0, "step": 1.0, "weight": 1.0}]
    contest, _rnd, _entries, _judges = judged_round(session, ["video", "photo"], photo=small)
    warning = scale_warning(contest, {WorkType.VIDEO, WorkType.PHOTO})
    assert warning is not None and "微视频 100 分" in warning and "摄影 50 分" in warning
    # Only videos and stories among the results (both on the shared rubric): no warning.
    assert scale_warning(contest, {WorkType.VIDEO, WorkType.STORY}) is None
    contest.results_by_type = True
    assert scale_warning(contest, {WorkType.VIDEO, WorkType.PHOTO}) is None
    # The same maximum (the photo rubric of 50 + 50): totals on one scale, nothing to say.
    same, *_ = judged_round(session, ["video", "photo"])
    assert scale_warning(same) is None


# --- exports and the 公示 -----------------------------------------------------------------


def test_exports_have_a_sheet_or_section_per_type_and_stay_formula_safe(
    session: Session,
) -> None:
    judged = judged_round(
        session, ["video", "photo", "photo"], results_by_type=True, award_tiers=TIERS
    )
    contest, rnd, entries, _judges = judged
    entries[1].title = '=HYPERLINK("http://x/?"&C2)'
    session.commit()
    score_all(session, judged, [80, 70, 90])
    rows = round_results(session, rnd)
    book = load_workbook(io.BytesIO(to_xlsx(rows)))
    assert book.sheetnames == ["微视频", "摄影", "说明"]
    about = {line[0]: line[1] for line in book["说明"].iter_rows(min_row=2, values_only=True)}
    assert "按作品类型（微视频、摄影、职业故事）分别排名、评奖" in about["排名与奖项"]
    photo = list(book["摄影"].iter_rows(values_only=True))
    assert photo[0][:2] == ("名次", "编号") and [line[0] for line in photo[1:]] == [1, 2]
    hostile = book["摄影"].cell(row=3, column=4)
    assert hostile.value == entries[1].title and hostile.data_type == "s"
    lines = list(csv.reader(io.StringIO(to_csv(rows).lstrip("\ufeff"))))
    assert lines[0] == ["作品类型", "微视频"] and lines[1][:2] == ["名次", "编号"]
    start = lines.index(["作品类型", "摄影"])
    assert [line[0] for line in lines[start + 2 : start + 4]] == ["1", "2"]
    assert "'" + entries[1].title in lines[start + 3]
    # All together with several types: one table with a 作品类型 column.
    contest.results_by_type = False
    session.commit()
    header, *body = list(csv.reader(io.StringIO(to_csv(round_results(session, rnd))[1:])))
    assert header[4] == "作品类型" and {line[4] for line in body} == {"微视频", "摄影"}
    # Judges' scores: every type's criteria, blank where the entry's rubric has none.
    header, body = scores_table(session, rnd)
    assert header[:4] == ["编号", "作品名称", "作品类型", "评委"]
    assert {"主题", "制作", "立意", "光影"} <= set(header)
    photo_row = next(line for line in body if line[2] == "摄影")
    assert photo_row[header.index("主题")] == "" and photo_row[header.index("立意")] != ""


def test_the_announcement_groups_by_type(session: Session) -> None:
    judged = judged_round(session, ["photo", "video", "photo"], results_by_type=True)
    _contest, rnd, entries, _judges = judged
    score_all(session, judged, [60, 80, 90])
    close_round(session, rnd)
    snapshot = publish_snapshot(session, rnd)
    assert [(row["work_type"], row["rank"]) for row in snapshot.content] == [
        ("video", 1),
        ("photo", 1),
        ("photo", 2),
    ]
    header, body = snapshot_table(snapshot.content)
    assert header[2] == "作品类型" and [line[2] for line in body] == ["微视频", "摄影", "摄影"]
    assert body[1][1] == f"{entries[2].number:04d}"


# --- scores import ------------------------------------------------------------------------


def test_imported_scores_are_checked_against_each_entrys_rubric(session: Session) -> None:
    contest, rnd, entries, judges = judged_round(session, ["video", "photo"])
    video, photo = entries
    organizer = make_user(session, Role.ORGANIZER)
    head = "作品编号,评委,主题,制作,立意,光影"
    wrong = [head, f"{photo.number},{judges[0].username},30,20,40,40"]
    outcome = import_scores(session, rnd, "\n".join(wrong).encode(), organizer)
    assert outcome.saved == 0
    assert any("第 2 行" in p and "主题" in p and "请留空" in p for p in outcome.problems)
    missing = [head, f"{photo.number},{judges[0].username},,,40,"]
    outcome = import_scores(session, rnd, "\n".join(missing).encode(), organizer)
    assert outcome.saved == 0 and any("光影" in p for p in outcome.problems)
    right = [
        head,
        f"{video.number},{judges[0].username},50,30,,",
        f"{photo.number},{judges[0].username},,,40,45",
    ]
    outcome = import_scores(session, rnd, "\n".join(right).encode(), organizer)
    assert outcome.problems == [] and outcome.saved == 2
    score = score_of(session, rnd, judges[0].id, photo.id)
    assert score is not None and score.total == 85


# --- the configuration --------------------------------------------------------------------


def problems_of(data: dict[str, Any], session: Session | None = None) -> dict[str, str]:
    try:
        if session is None:
            check_config(data)
        else:
            checked_config(session, data)
    except ContestConfigError as exc:
        return {p.where: str(p.message) for p in exc.problems}
    return {}


@pytest.mark.parametrize(
    ("types", "where", "words"),
    [
        ([], "work_types", "至少选择一种"),
        (["video", "poem"], "work_types", "不认识的作品类型：poem"),
        (["photo", "photo"], "work_types", "重复"),
        ("video", "work_types", "列表"),
    ],
)
def test_work_types_are_checked(types: Any, where: str, words: str) -> None:
    found = problems_of({"slug": "x", "work_types": types})
    assert words in found[where]


def test_a_types_own_rubric_is_checked_as_the_shared_one_is() -> None:
    bad = [{"key": "idea", "name": "立意", "max_points": 50, "step": 3}]
    found = problems_of(
        {"slug": "x", "rubrics_by_type": {"photo": bad, "poem": PHOTO, "story": []}}
    )
    assert "步长" in found["rubrics_by_type.photo[0].step"]
    assert "不认识的作品类型" in found["rubrics_by_type.poem"]
    assert check_config({"slug": "x", "rubrics_by_type": {"photo": PHOTO, "story": []}})[
        "rubrics_by_type"
    ] == {"photo": [{**c, "description": ""} for c in PHOTO]}
    assert "rubrics_by_type" in problems_of({"slug": "x", "rubrics_by_type": ["photo"]})


def test_a_type_entries_have_cannot_be_removed(session: Session) -> None:
    contest, _rnd, _entries, _judges = judged_round(session, ["video", "photo", "photo"])
    found = problems_of({"slug": contest.slug, "work_types": ["video", "story"]}, session)
    assert found["work_types"] == "已有 2 件“摄影”作品，不能取消这一作品类型"
    # Reordered and one without entries (story) taken off: saved, in the order given.
    apply_config(session, {"slug": contest.slug, "work_types": ["photo", "video"]})
    assert contest.work_types == ["photo", "video"]


def test_a_scored_types_rubric_keeps_its_scoring_rules(session: Session) -> None:
    judged = judged_round(session, ["video", "photo"])
    contest, rnd, entries, judges = judged
    save_score(session, rnd, judges[0], entries[1], {"idea": "40"}, "", False)  # a draft
    changed = [{**PHOTO[0], "max_points": 60.0}, PHOTO[1]]
    found = problems_of({"slug": contest.slug, "rubrics_by_type": {"photo": changed}}, session)
    assert "“摄影”作品的评委已打分（1 份）" in found["rubrics_by_type.photo"]
    # Going back to the shared rubric would change its criteria too: refused.
    found = problems_of({"slug": contest.slug, "rubrics_by_type": {"photo": []}}, session)
    assert "rubrics_by_type.photo" in found
    # The shared rubric is not what photos are scored by: it may still change.
    shared = [{**SHARED[0], "max_points": 70.0}, {**SHARED[1], "max_points": 30.0}]
    assert problems_of({"slug": contest.slug, "rubric": shared}, session) == {}
    # Names may change; a story gaining a rubric of its own (nothing scored) is fine.
    renamed = [{**PHOTO[0], "name": "创意"}, PHOTO[1]]
    apply_config(
        session, {"slug": contest.slug, "rubrics_by_type": {"photo": renamed, "story": PHOTO}}
    )
    assert rubric_for(contest, "photo").criteria[0].name == "创意"
    assert rubric_for(contest, "story").max_total == 100
    # Once a video is scored, the shared rubric keeps its rules as before.
    save_score(session, rnd, judges[0], entries[0], {"theme": "40"}, "", False)
    found = problems_of({"slug": contest.slug, "rubric": shared}, session)
    assert "评委已打分（1 份）" in found["rubric"]
