"""The settings page's work types (accepted types, results by type, a rubric per type) and
the results and 公示 pages per type, through the web as an organizer and the public."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from judging.codes import codes_of
from judging.results import publish_snapshot
from judging.rounds import close_round
from judging.scoring import save_score, score_of
from storage.models import Role, WorkType
from tests.factories import make_entry, make_user
from tests.test_judging_by_type import PHOTO, judged_round, sheet_for
from tests.test_judging_settings import URL, errors_of, new_contest, rows, valid_form, value_of


@pytest.fixture()
def organizer(client: FlaskClient, auth: Any, session: Session) -> Any:
    user = make_user(session, Role.ORGANIZER)
    auth.login(user.username)
    return user


def typed_form(**changes: str) -> dict[str, Any]:
    """The settings as the page posts them with its work-type section."""
    form: dict[str, Any] = {
        **valid_form(),
        "types_shown": "1",
        "work_types": ["video", "photo"],
        "rubric_types": "video,photo",
        "own_rubric_photo": "1",
        **rows("rubric_photo", [{k: str(v) for k, v in c.items()} for c in PHOTO]),
    }
    return {**form, **changes}


def test_the_page_saves_types_results_by_type_and_a_types_own_rubric(
    client: FlaskClient, session: Session, organizer: Any
) -> None:
    contest = new_contest(session, work_types=["photo", "video"])
    page = client.get(URL).get_data(as_text=True)
    # The types in one fixed order (the browser restores boxes by place); the shared rubric
    # as each type's starting rows, its own box unticked.
    boxes = re.findall(r'name="work_types" type="checkbox" value="(\w+)"', page)
    assert boxes == ["video", "photo", "comic", "story"]
    assert value_of(page, "rubric_photo-0-key") == "theme"
    assert 'name="own_rubric_photo"' in page and 'name="own_rubric_comic"' not in page
    saved = client.post(URL, data=typed_form(results_by_type="1"), follow_redirects=True)
    assert "评审设置已保存" in saved.get_data(as_text=True)
    session.refresh(contest)
    # The order the contest had is kept.
    assert contest.work_types == ["photo", "video"] and contest.results_by_type is True
    assert [c["key"] for c in contest.rubrics_by_type["photo"]] == ["idea", "light"]
    # Unticked again: photos use the shared rubric; the other settings untouched by a post
    # without the section (the marker missing).
    client.post(URL, data=typed_form(own_rubric_photo="", results_by_type="1"))
    session.refresh(contest)
    assert "photo" not in contest.rubrics_by_type
    client.post(URL, data=valid_form())
    session.refresh(contest)
    assert contest.work_types == ["photo", "video"] and contest.results_by_type is True


def test_wrong_input_is_named_and_everything_typed_stays(
    client: FlaskClient, session: Session, organizer: Any
) -> None:
    contest = new_contest(session, work_types=["video", "photo"])
    make_entry(session, make_user(session), contest).work_type = WorkType.PHOTO
    session.commit()
    bad = typed_form(
        **{"work_types": ["video", "story"], "rubric_photo-0-max_points": "五十"},
        results_by_type="1",
        objection_contact="王老师",
    )
    answer = client.post(URL, data=bad)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "设置未保存" in page
    errors = errors_of(page)
    assert errors["work_types"] == "已有 1 件“摄影”作品，不能取消这一作品类型"
    assert errors["rubric_photo-0-max_points"] == "请填写数字"
    assert value_of(page, "rubric_photo-0-max_points") == "五十"
    assert value_of(page, "objection_contact") == "王老师"
    assert re.search(r'checked[^>]*name="results_by_type"', page)
    assert re.search(r'checked[^>]*name="own_rubric_photo"', page)
    assert re.search(r'checked[^>]*name="work_types" type="checkbox" value="story"', page)
    assert not re.search(r'checked[^>]*name="work_types" type="checkbox" value="photo"', page)
    session.refresh(contest)
    assert contest.work_types == ["video", "photo"] and contest.rubrics_by_type == {}
    # No type at all, a type made up, an own rubric left empty: each named.
    empty = {k: v for k, v in typed_form().items() if not k.startswith("rubric_photo-")}
    page = client.post(URL, data={**empty, "work_types": []}).get_data(as_text=True)
    assert 'data-error-for="work_types">请至少选择一种作品类型<' in page
    page = client.post(URL, data={**empty, "work_types": ["video", "photo", "poem"]}).get_data(
        as_text=True
    )
    assert "不认识的作品类型：poem" in errors_of(page)["work_types"]
    assert "请填写这一类型的评分标准" in page


def test_forged_type_fields_change_nothing_else(
    client: FlaskClient, session: Session, organizer: Any
) -> None:
    contest = new_contest(session, work_types=["video", "photo"], rubrics_by_type={"comic": PHOTO})
    # A rubric section the page never showed (poem), too many rows for a type: refused or
    # ignored, and the comic rubric (not shown, the type not accepted) stays stored.
    forged = typed_form(rubric_types="video,photo,poem", own_rubric_poem="1")
    assert client.post(URL, data=forged).status_code == 302
    session.refresh(contest)
    assert set(contest.rubrics_by_type) == {"comic", "photo"}
    many = typed_form(**rows("rubric_photo", [{"key": f"k{i}"} for i in range(40)]))
    page = client.post(URL, data=many).get_data(as_text=True)
    assert "评分标准最多 20 项" in page


def test_the_results_page_warns_of_mixed_scales_and_the_announcement_groups_by_type(
    client: FlaskClient, session: Session, organizer: Any
) -> None:
    small = [{"key": "idea", "name": "立意", "max_points": 50.0, "step": 1.0, "weight": 1.0}]
    judged = judged_round(session, ["video", "photo"], photo=small)
    contest, rnd, entries, judges = judged
    for entry in entries:
        for judge in judges:
            save_score(session, rnd, judge, entry, sheet_for(contest, entry, 40), "", True)
    desk = client.get("/admin/judging/").get_data(as_text=True)
    assert 'id="scale-warning"' in desk and "总分不在同一尺度上" in desk
    settings = client.get(URL).get_data(as_text=True)
    assert 'id="scale-warning"' in settings and "摄影 50 分" in settings
    contest.results_by_type = True
    session.commit()
    desk = client.get("/admin/judging/").get_data(as_text=True)
    assert 'id="scale-warning"' not in desk
    # Each row names its type, videos first (the contest's order), each ranked 1.
    typed = re.findall(r'data-work-type="(\w+)">([^<]+)</td>', desk)
    assert typed == [("video", "微视频"), ("photo", "摄影")]
    close_round(session, rnd)
    snapshot = publish_snapshot(session, rnd)
    page = client.get(f"/announcements/{snapshot.id}").get_data(as_text=True)
    headings = re.findall(r'<h2 class="announced-type" data-work-type="(\w+)">([^<]+)</h2>', page)
    assert headings == [("video", "微视频"), ("photo", "摄影")]
    assert page.count('<table class="cards announced">') == 2
    sheet = client.get(f"/announcements/{snapshot.id}.csv").get_data(as_text=True)
    assert sheet.splitlines()[0].lstrip("\ufeff").startswith("名次,编号,作品类型")


def test_a_judge_scores_each_entry_with_its_types_rubric(
    client: FlaskClient, auth: Any, session: Session
) -> None:
    _contest, rnd, entries, judges = judged_round(session, ["video", "photo"], auto_conflicts=[])
    video, photo = entries
    codes = codes_of(session, rnd)
    auth.login(judges[0].username)
    page = client.get(f"/judge/entries/{codes[photo.id]}").get_data(as_text=True)
    assert 'name="idea"' in page and 'name="light"' in page and 'name="theme"' not in page
    assert "光影" in page and "/ 100" in page
    page = client.get(f"/judge/entries/{codes[video.id]}").get_data(as_text=True)
    assert 'name="theme"' in page and 'name="idea"' not in page
    # A forged field of the other rubric is not read; the entry's own criteria are.
    sheet = {"theme": "59", "idea": "40", "light": "45", "action": "submit"}
    client.post(f"/judge/entries/{codes[photo.id]}", data=sheet)
    score = score_of(session, rnd, judges[0].id, photo.id)
    assert score is not None and score.values == {"idea": 40.0, "light": 45.0}
    assert score.total == 85
    # The photo's criteria on the video: each one missing is named, nothing saved.
    answer = client.post(f"/judge/entries/{codes[video.id]}", data=sheet)
    assert answer.status_code == 422 and "请为“制作”打分" in answer.get_data(as_text=True)
    assert score_of(session, rnd, judges[0].id, video.id) is None


def test_the_work_type_settings_read_in_english(
    client: FlaskClient, session: Session, organizer: Any
) -> None:
    contest = new_contest(session, work_types=["video", "photo"])
    make_entry(session, make_user(session), contest).work_type = WorkType.PHOTO
    session.commit()
    client.get("/lang/en")
    page = client.get(URL).get_data(as_text=True)
    assert "Work types accepted" in page and "“Photography” has a rubric of its own" in page
    refused = client.post(URL, data=typed_form(work_types=["video"])).get_data(as_text=True)
    assert errors_of(refused)["work_types"] == (
        "There are entries of type “Photography” (1), so this work type cannot be removed"
    )
    client.get("/lang/zh_CN")
