"""The judge's desk: a submitted score is read-only until reopened under the reveal rule,
saving answers in place (JSON) for the page's script, and the desk shows what is left.

The rules are called directly; the forms are posted as a judge (or someone forging a judge's
post) would.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from judging.codes import codes_of
from judging.results import results
from judging.rounds import (
    RoundError,
    assign_round,
    close_round,
    declare_conflict,
    invite,
    open_round,
)
from judging.scoring import (
    DeskRow,
    by_progress,
    desk,
    history,
    next_to_score,
    reopen_score,
    reveal_others,
    save_score,
    score_of,
    unlock_score,
)
from storage.models import Entry, Role, Round, Score, User
from tests.factories import make_user, ready_round

pytestmark = pytest.mark.integration

FULL = {"theme": "25", "story": "25", "production": "20", "appeal": "10"}
JSON = {"Accept": "application/json"}


def world(session: Session, **fields: Any) -> tuple[Round, list[User], list[Entry]]:
    """The newest contest: two judges who both score the same three ready entries, in an
    open round."""
    _contest, rnd, entries, judges = ready_round(
        session, 3, 2, **{"judges_per_entry": 2, "auto_conflicts": [], **fields}
    )
    assign_round(session, rnd, entries)
    return rnd, judges, entries


def next_code(rows: list[DeskRow], current: DeskRow) -> str | None:
    """The code 下一件 leads to from `current`."""
    row = next_to_score(rows, current.entry.id)
    return row.code if row else None


def stored(session: Session, score: Score) -> Score:
    session.expire_all()
    return session.get_one(Score, score.id)


def test_a_submitted_score_takes_no_draft_and_reopens_on_the_record(session: Session) -> None:
    rnd, (judge, other), (entry, *_rest) = world(session, reveal_scores="never")
    score = save_score(session, rnd, judge, entry, FULL, "好", submit=True)
    save_score(session, rnd, other, entry, FULL, "", submit=True)
    first = score.submitted_at
    with pytest.raises(RoundError, match="请先点击“修改评分”"):
        save_score(session, rnd, judge, entry, {"theme": "1"}, "改", submit=False)
    score = stored(session, score)
    assert score.submitted_at == first and score.values["theme"] == 25 and score.comment == "好"
    assert len(results(session, rnd)[0].judges) == 2

    reopen_score(session, rnd, judge, entry, "10.0.0.7")
    score = stored(session, score)
    assert score.submitted_at is None and score.values["theme"] == 25  # nothing lost
    # Reopened: it no longer counts, on the judge's desk and in the results.
    assert len(results(session, rnd)[0].judges) == 1
    row = next(r for r in desk(session, rnd, judge.id) if r.entry.id == entry.id)
    assert row.state == "draft" and row.reopened
    with pytest.raises(RoundError, match="还没有提交"):
        reopen_score(session, rnd, judge, entry)
    save_score(session, rnd, judge, entry, {"theme": "20"}, "改", submit=False)
    save_score(session, rnd, judge, entry, {**FULL, "theme": "20"}, "改", submit=True)
    assert len(results(session, rnd)[0].judges) == 2
    changes = history(session, score)
    assert [c.action for c in changes] == ["submit", "reopen", "draft", "submit"]
    assert changes[1].address == "10.0.0.7" and changes[1].user_id == judge.id
    assert changes[1].old["submitted"] and not changes[1].new["submitted"]
    assert not next(r for r in desk(session, rnd, judge.id) if r.entry.id == entry.id).reopened


def test_reopening_follows_the_reveal_rule_and_the_round(session: Session) -> None:
    rnd, (judge, other), (entry, second, third) = world(session, reveal_scores="after_submit")
    save_score(session, rnd, other, entry, FULL, "", submit=True)
    save_score(session, rnd, judge, entry, FULL, "", submit=True)
    assert reveal_others(session, rnd, judge.id, entry.id)  # shown: the score is final
    for attempt in (
        lambda: reopen_score(session, rnd, judge, entry),
        lambda: save_score(session, rnd, judge, entry, FULL, "", submit=False),
        lambda: save_score(session, rnd, judge, entry, FULL, "", submit=True),
    ):
        with pytest.raises(RoundError, match="已看过其他评委的评分"):
            attempt()
    score = score_of(session, rnd, judge.id, entry.id)
    assert score is not None
    unlock_score(session, score, make_user(session, Role.ORGANIZER))
    reopen_score(session, rnd, judge, entry)  # the organizer's unlock allows it once
    save_score(session, rnd, judge, entry, {**FULL, "appeal": "11"}, "", submit=True)
    with pytest.raises(RoundError, match="已看过其他评委的评分"):
        reopen_score(session, rnd, judge, entry)
    # A score never shown the others reopens while the round is open, never once it closed.
    save_score(session, rnd, judge, second, FULL, "", submit=True)
    close_round(session, rnd)
    with pytest.raises(RoundError, match="已锁定"):
        reopen_score(session, rnd, judge, second)
    # Someone not on the panel, or conflicted, has nothing to reopen.
    with pytest.raises(RoundError, match="没有被分配"):
        reopen_score(session, rnd, make_user(session, Role.JUDGE), second)
    declare_conflict(session, judge, third, "declared")
    with pytest.raises(RoundError, match="没有被分配"):
        reopen_score(session, rnd, judge, third)


def test_the_desk_orders_by_progress_and_finds_the_next_entry_to_score(
    session: Session,
) -> None:
    rnd, (judge, _other), _entries = world(session)
    rows = desk(session, rnd, judge.id)
    assert [r.code for r in rows] == sorted(r.code for r in rows)  # code order, not numbers
    first, second, third = rows
    assert next_code(rows, first) == second.code
    assert next_code(rows, third) == first.code
    save_score(session, rnd, judge, second.entry, FULL, "", submit=True)
    save_score(session, rnd, judge, first.entry, {"theme": "3"}, "", submit=False)
    rows = desk(session, rnd, judge.id)
    assert [r.state for r in rows] == ["draft", "submitted", "unscored"]
    assert [r.code for r in by_progress(rows)] == [third.code, first.code, second.code]
    # Past the submitted one, wrapping around; never the entry itself.
    assert next_code(rows, first) == third.code
    assert next_code(rows, third) == first.code
    save_score(session, rnd, judge, first.entry, FULL, "", submit=True)
    save_score(session, rnd, judge, third.entry, FULL, "", submit=True)
    assert next_code(desk(session, rnd, judge.id), first) is None


def test_the_desk_page_shows_progress_with_unscored_entries_first(
    client: FlaskClient, auth: Any, session: Session
) -> None:
    rnd, (judge, _other), _entries = world(session)
    first, second, third = desk(session, rnd, judge.id)
    auth.login(judge.username)
    page = client.get("/judge/")
    assert page.headers["Cache-Control"] == "no-store"  # the back button shows it afresh
    text = page.get_data(as_text=True)
    assert "已评 0 / 3" in text and '<progress max="3" value="0"' in text
    client.post(f"/judge/entries/{first.code}", data={**FULL, "action": "submit"})
    client.post(f"/judge/entries/{second.code}", data={"theme": "5", "action": "draft"})
    text = client.get("/judge/").get_data(as_text=True)
    assert "已评 1 / 3" in text
    order = [text.index(f"/judge/entries/{row.code}") for row in (third, second, first)]
    assert order == sorted(order)  # unscored, draft, submitted
    client.post(f"/judge/entries/{first.code}/reopen")
    text = client.get("/judge/").get_data(as_text=True)
    assert "已评 0 / 3" in text and "已重新打开，待再次提交" in text


def test_the_score_form_answers_in_place_for_the_script_and_plainly_without_it(
    client: FlaskClient, auth: Any, session: Session
) -> None:
    rnd, (judge, _other), _entries = world(session, reveal_scores="never")
    first, second, _third = desk(session, rnd, judge.id)
    url = f"/judge/entries/{first.code}"
    auth.login(judge.username)
    page = client.get(url).get_data(as_text=True)
    assert 'inputmode="decimal"' in page and "novalidate" in page and "score-rubric" in page
    assert f'href="/judge/entries/{second.code}"' in page  # 下一件
    # A wrong value: the reasons next to the field, in Chinese, and what was typed kept.
    bad = client.post(url, data={**FULL, "theme": "31", "action": "draft"}, headers=JSON)
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"theme"}
    html = bad.get_json()["html"]
    assert html.strip().startswith('<div id="sheet">') and "<video" not in html
    assert "分数应在 0 到 30 之间" in html and 'value="31"' in html and 'value="20"' in html
    assert score_of(session, rnd, judge.id, first.entry.id) is None  # nothing half-saved
    draft = client.post(url, data={**FULL, "action": "draft"}, headers=JSON)
    assert draft.status_code == 200 and "草稿已保存" in draft.get_json()["html"]
    assert draft.headers["Cache-Control"] == "no-store"
    done = client.post(url, data={**FULL, "action": "submit"}, headers=JSON).get_json()["html"]
    assert "评分已提交" in done and "已提交于" in done and '<strong id="total">80</strong>' in done
    assert "修改评分" in done and 'name="theme"' not in done  # read-only
    assert f'href="/judge/entries/{second.code}"' in done
    # A second tab still showing the form: its draft is refused and it is shown the truth.
    stale = client.post(url, data={**FULL, "theme": "1", "action": "draft"}, headers=JSON)
    assert stale.status_code == 409 and "请先点击“修改评分”" in stale.get_json()["message"]
    assert "已提交于" in stale.get_json()["html"]
    kept = score_of(session, rnd, judge.id, first.entry.id)
    assert kept is not None and stored(session, kept).values["theme"] == 25
    # Without the script: a plain post, then the page again (a reload repeats nothing).
    again = client.post(f"{url}/reopen")
    assert again.status_code == 302 and again.headers["Location"] == url
    page = client.get(url).get_data(as_text=True)
    assert "这份评分已重新打开" in page and 'name="theme"' in page and 'value="25"' in page
    refused = client.post(f"{url}/reopen", headers=JSON)
    assert refused.status_code == 409 and "还没有提交" in refused.get_json()["message"]


def test_forged_posts_change_nothing(client: FlaskClient, auth: Any, session: Session) -> None:
    rnd, (judge, other), (entry, second, third) = world(session, reveal_scores="after_submit")
    codes = codes_of(session, rnd)
    save_score(session, rnd, other, entry, FULL, "", submit=True)
    score = save_score(session, rnd, judge, entry, FULL, "", submit=True)
    save_score(session, rnd, other, second, FULL, "", submit=True)
    auth.login(judge.username)
    seen = client.get(f"/judge/entries/{codes[entry.id]}").get_data(as_text=True)
    assert "<h2>其他评委的评分</h2>" in seen and "修改评分" not in seen  # final now
    for path, data in (
        ("", {**FULL, "theme": "1", "action": "draft"}),
        ("", {**FULL, "theme": "1", "action": "submit"}),
        ("/reopen", {}),
    ):
        answer = client.post(f"/judge/entries/{codes[entry.id]}{path}", data=data)
        assert answer.status_code == 409, path
        assert "已看过其他评委的评分" in answer.get_data(as_text=True)
    assert stored(session, score).values["theme"] == 25
    # Another judge's score is reached only through one's own: the other judge's submitted
    # score of `second` stays as it is whatever this judge posts.
    theirs = score_of(session, rnd, other.id, second.id)
    assert theirs is not None
    client.post(f"/judge/entries/{codes[second.id]}/reopen")
    assert stored(session, theirs).submitted_at is not None
    auth.logout()
    # Not on the panel, conflicted, or a code of another round: no such entry.
    auth.login(make_user(session, Role.JUDGE).username)
    assert client.post(f"/judge/entries/{codes[entry.id]}/reopen").status_code == 404
    auth.logout()
    conflicted = save_score(session, rnd, other, third, FULL, "", submit=True)
    declare_conflict(session, other, third, "declared")
    auth.login(other.username)
    assert client.post(f"/judge/entries/{codes[third.id]}/reopen").status_code == 404
    assert stored(session, conflicted).submitted_at is not None
    auth.logout()
    close_round(session, rnd)
    later = open_round(session, rnd.contest, "复评")
    invite(session, later, {judge.id, other.id})
    assign_round(session, later, [entry])
    auth.login(judge.username)
    for path in ("/reopen", ""):
        assert client.post(f"/judge/entries/{codes[entry.id]}{path}").status_code == 404
    assert stored(session, score).submitted_at is not None
    # A contestant or an organizer posting to a judge's URL is turned away.
    auth.logout()
    auth.login(make_user(session, Role.CONTESTANT).username)
    assert client.post(f"/judge/entries/{codes[entry.id]}/reopen").status_code == 403


def test_a_closed_round_refuses_drafts_submissions_and_reopening(
    client: FlaskClient, auth: Any, session: Session
) -> None:
    rnd, (judge, _other), (entry, *_rest) = world(session, reveal_scores="never")
    code = codes_of(session, rnd)[entry.id]
    score = save_score(session, rnd, judge, entry, FULL, "", submit=True)
    close_round(session, rnd)
    auth.login(judge.username)
    page = client.get(f"/judge/entries/{code}").get_data(as_text=True)
    assert "分数已锁定" in page and "修改评分" not in page and "提交评分" not in page
    for path, data in (("", {**FULL, "action": "draft"}), ("/reopen", {})):
        answer = client.post(f"/judge/entries/{code}{path}", data=data, headers=JSON)
        assert answer.status_code == 409 and "分数已锁定" in answer.get_json()["message"]
    assert stored(session, score).submitted_at is not None
    assert [c.action for c in history(session, score)] == ["submit"]
