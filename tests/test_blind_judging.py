"""Blind judging against the rest of the site, walked as judges and organizers would.

A judge must find no way from their pages to an entry's identity: no public id or number in
any link, text, player or storyboard URL (the gallery is `/gallery/<id>` and shows the
collective and district); a 公示 does not name the collectives of entries still in a blind
round; the gallery warns or waits; and a judge who has read the others' scores cannot go
back on their own.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import worker.jobs
from judging.rounds import assigned_entries, current_round
from storage.models import (
    AssetKind,
    Contest,
    Entry,
    EntryStatus,
    JobState,
    Role,
    Round,
    Score,
    ScoreChange,
    User,
)
from storage.objects import ObjectStore
from storage.settings import Settings
from tests.factories import (
    Made,
    make_entry,
    make_user,
    post_confirmed,
    store_media,
    stored_job,
    unique,
)
from tests.media import make_clip

pytestmark = pytest.mark.integration

FULL = {"theme": "25", "story": "25", "production": "20", "appeal": "10"}
VTT = b"WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nstoryboard.jpg#xywh=0,0,160,90\n"
# Far from any id and never a substring of one another: a page showing one is caught.
NUMBERS = [8101, 8213, 8327, 8439]
URL_ATTRIBUTES = re.compile(r'(?:href|src|poster|action|data-[\w-]+)="([^"]*)"')
CODE_LINK = re.compile(r'href="/judge/entries/([^"/]+)"')


def give_media(session: Session, store: ObjectStore, settings: Settings, entry: Entry) -> bytes:
    """Store a small rendition, poster and storyboard under the worker's keys; the video."""
    video = bytes(range(256)) * 40  # 10 KiB, each byte at a known place
    files = {
        "720p.mp4": Made(AssetKind.RENDITION, video, "video/mp4", 720, 1280, 10.0),
        "poster_large.jpg": Made(AssetKind.POSTER, b"\xff\xd8poster", "image/jpeg", 720, 1280),
        "storyboard.jpg": Made(AssetKind.STORYBOARD, b"\xff\xd8sheet", "image/jpeg", 160, 90),
        "storyboard.vtt": Made(AssetKind.STORYBOARD_VTT, VTT, "text/vtt", 720, 1280),
    }
    store_media(session, store, settings, entry, files)
    return video


def blind_contest(
    session: Session, store: ObjectStore, settings: Settings, **fields: Any
) -> tuple[Contest, list[Entry], list[User], User]:
    """A blind contest (the newest, so the pages act on it) with 4 ready entries that have
    media, 3 judges of its own and an organizer."""
    contest = Contest(
        slug=unique("blind-"),
        title="匿名评审",
        blind=True,
        closes_at=datetime.now(UTC) + timedelta(days=1),
        award_tiers=[{"name": "一等奖", "count": 1}],
        **{"judges_per_entry": 2, **fields},
    )
    owner = make_user(session)
    entries = []
    for i, number in enumerate(NUMBERS):
        entry = make_entry(session, owner, contest)
        entry.number = number
        entry.title = f"青春足迹之{'一二三四'[i]}"
        entry.status = EntryStatus.READY
        entry.collective = f"保密集体{i}号"
        entry.district = f"保密区{i}"
        session.commit()
        give_media(session, store, settings, entry)
        entries.append(entry)
    judges = [make_user(session, Role.JUDGE) for _ in range(3)]
    return contest, entries, judges, make_user(session, Role.ORGANIZER)


def invite_own(client: FlaskClient, judges: list[User]) -> None:
    """Invite the test's judges to the open round (without invitations a round takes every
    active judge of the database, other tests' too)."""
    client.post("/admin/judging/invitations", data={"judge": [str(j.id) for j in judges]})


def start_round(
    client: FlaskClient,
    auth: Any,
    session: Session,
    contest: Contest,
    organizer: User,
    judges: list[User],
    **form: str,
) -> Round:
    """The organizer opens a round, invites the contest's judges and assigns it, on the web."""
    auth.login(organizer.username)
    client.post("/admin/judging/rounds", data={"name": "初评", **form})
    invite_own(client, judges)
    client.post("/admin/judging/assign", data={"seed": "4"})
    auth.logout()
    rnd = current_round(session, contest)
    assert rnd is not None
    return rnd


def desk_codes(client: FlaskClient) -> list[str]:
    """The entry links on the judge's desk, as the judge follows them."""
    return CODE_LINK.findall(client.get("/judge/").get_data(as_text=True))


def code_of(client: FlaskClient, entry: Entry) -> str:
    """The link on the current judge's desk that leads to `entry` (found by its title)."""
    desk = client.get("/judge/").get_data(as_text=True)
    for code in CODE_LINK.findall(desk):
        if entry.title in client.get(f"/judge/entries/{code}").get_data(as_text=True):
            return code
    raise AssertionError(f"{entry.title} is not on the desk")


def leaks(text: str, entries: list[Entry]) -> list[str]:
    """Every place in a page or file where an entry's id or number shows through."""
    found = []
    text = re.sub(r'name="csrf_token" value="[^"]*"', "", text)  # random, may hold digits
    for url in URL_ATTRIBUTES.findall(text) + re.findall(r"https?://\S+", text):
        path = urlparse(url).path
        segments = re.split(r"[/.#?]", path)
        if re.search(r"/gallery/[^/]", path):
            found.append(f"gallery link {url}")
        for entry in entries:
            if str(entry.id) in segments or f"entries/{entry.id}/" in url:
                found.append(f"id {entry.id} in {url}")
    for entry in entries:
        if str(entry.number) in text:
            found.append(f"number {entry.number}")
        if entry.collective in text or entry.district in text:
            found.append(f"identity of {entry.number}")
    return found


def test_a_judges_pages_player_and_storyboard_never_lead_to_the_gallery(
    client: FlaskClient,
    auth: Any,
    session: Session,
    object_store: ObjectStore,
    settings: Settings,
) -> None:
    contest, entries, judges, organizer = blind_contest(session, object_store, settings)
    rnd = start_round(client, auth, session, contest, organizer, judges)
    judge = judges[0]
    mine = assigned_entries(session, rnd, judge.id)
    others = [e for e in entries if e not in mine]
    auth.login(judge.username)
    desk = client.get("/judge/").get_data(as_text=True)
    assert all(e.title in desk for e in mine)
    assert leaks(desk, entries) == []
    codes = desk_codes(client)
    assert len(codes) == len(mine) and all(re.fullmatch(r"A-\d{3}", c) for c in codes)
    for code in codes:
        page = client.get(f"/judge/entries/{code}").get_data(as_text=True)
        assert "主题立意" in page and code in page
        assert leaks(page, entries) == [], code
        video = re.search(r"<video [^>]*>", page)
        assert video is not None
        media = dict(re.findall(r'(src|poster)="([^"]+)"', video.group(0)))
        media.update(re.findall(r'(data-storyboard-url)="([^"]+)"', page))
        assert set(media) == {"src", "poster", "data-storyboard-url"}
        vtt = client.get(media["data-storyboard-url"])
        assert vtt.status_code == 200 and leaks(vtt.get_data(as_text=True), entries) == []
        sprite = vtt.get_data(as_text=True).split("\n")[3].split("#")[0]
        assert client.get(sprite).data == b"\xff\xd8sheet"
        assert client.get(media["poster"]).data == b"\xff\xd8poster"
        # The player reads the video in ranges, through the site: no S3 key to read an id from.
        part = client.get(media["src"], headers={"Range": "bytes=100-199"})
        assert part.status_code == 206 and part.data == bytes(range(100, 200))
        assert part.headers["Content-Range"] == "bytes 100-199/10240"
        assert "entries/" not in (part.headers.get("Location") or "")
        assert client.get(media["src"]).data == bytes(range(256)) * 40
    # Guessing: the real ids and numbers, of the judge's entries and others, lead nowhere.
    for entry in entries:
        for guess in (str(entry.id), str(entry.number), f"{entry.number:04d}"):
            assert client.get(f"/judge/entries/{guess}").status_code == 404
            assert client.post(f"/judge/entries/{guess}/conflict").status_code == 404
            assert client.get(f"/judge/entries/{guess}/video").status_code == 404
        assert client.get(f"/media/{entry.id}/storyboard.vtt").status_code == 404
        assert client.get(f"/api/v1/entries/{entry.id}").status_code == 404
    for bad in ("A-0%00", "a-001", "A-" + "9" * 40, "%FF"):
        assert client.get(f"/judge/entries/{bad}").status_code == 404
    # Another judge's code for an entry this judge does not have is no way in either.
    auth.logout()
    assert others, "with panels of 2 of 3 judges, some entries are another judge's"
    other_judge = next(j for j in judges if set(assigned_entries(session, rnd, j.id)) - set(mine))
    auth.login(other_judge.username)
    theirs = [
        code_of(client, e) for e in assigned_entries(session, rnd, other_judge.id) if e in others
    ]
    auth.logout()
    auth.login(judge.username)
    assert theirs
    for code in theirs:
        assert client.get(f"/judge/entries/{code}").status_code == 404
        assert client.get(f"/judge/entries/{code}/video").status_code == 404


def test_codes_are_stable_per_round_and_organizers_see_both(
    client: FlaskClient,
    auth: Any,
    session: Session,
    object_store: ObjectStore,
    settings: Settings,
) -> None:
    contest, entries, judges, organizer = blind_contest(session, object_store, settings)
    rnd = start_round(client, auth, session, contest, organizer, judges)
    judge = judges[1]
    mine = assigned_entries(session, rnd, judge.id)
    auth.login(judge.username)
    before = {e.id: code_of(client, e) for e in mine}
    auth.logout()
    auth.login(organizer.username)
    client.post("/admin/judging/assign", data={"seed": "4"})  # assigned again: same codes
    desk = client.get("/admin/judging/").get_data(as_text=True)
    for entry in mine:
        assert re.search(rf"{entry.number:04d}</td><td[^>]*>{before[entry.id]}</td>", desk), desk
    auth.logout()
    auth.login(judge.username)
    assert {e.id: code_of(client, e) for e in mine} == before
    for entry in mine:
        client.post(f"/judge/entries/{before[entry.id]}", data={**FULL, "action": "submit"})
    auth.logout()
    auth.login(organizer.username)
    exported = client.get("/admin/judging/results.csv").get_data(as_text=True)
    assert "匿名编号" in exported and all(code in exported for code in before.values())
    rows = client.get("/admin/judging/results.json").get_json()
    scored = {(r["number"], r["code"]) for r in rows if "unscored" not in r["flags"]}
    assert scored == {(e.number, before[e.id]) for e in mine}
    assert {r["number"] for r in rows} == {e.number for e in entries}  # none left out


def test_the_organizer_is_warned_before_the_gallery_shows_an_entry_in_a_blind_round(
    client: FlaskClient,
    auth: Any,
    session: Session,
    object_store: ObjectStore,
    settings: Settings,
) -> None:
    contest, entries, judges, organizer = blind_contest(session, object_store, settings)
    outside = make_entry(session, make_user(session), contest)  # not ready: not in the round
    start_round(client, auth, session, contest, organizer, judges)
    auth.login(organizer.username)
    # Nothing approved yet: publishing shows nothing of the round, so no question is asked.
    assert client.post("/admin/gallery", data={"published": "1"}).status_code == 302
    held = entries[0]
    asked = client.post(f"/admin/entries/{held.id}/approval", data={"approved": "1"})
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "正在匿名评审" in page and 'name="confirm"' in page
    session.refresh(held)
    assert held.approved_at is None  # nothing happens until the organizer confirms
    client.post(f"/admin/entries/{held.id}/approval", data={"approved": "1", "confirm": "1"})
    session.refresh(held)
    assert held.approved_at is not None
    client.post("/admin/gallery", data={})  # hidden again
    asked = client.post("/admin/gallery", data={"published": "1", "public_vote": "1"})
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "其中 1 件作品已审核通过" in page
    assert 'name="public_vote" value="1"' in page  # the confirmation keeps what was asked
    session.refresh(contest)
    assert contest.gallery_published_at is None
    client.post("/admin/gallery", data={"published": "1", "confirm": "1"})
    session.refresh(contest)
    assert contest.gallery_published_at is not None
    # Approving an entry that the round does not hold needs no warning.
    outside.status = EntryStatus.READY
    session.commit()
    plain = client.post(f"/admin/entries/{outside.id}/approval", data={"approved": "1"})
    assert plain.status_code == 302
    # Once the round is over, the warning is gone.
    post_confirmed(client, "/admin/judging/close")
    later = client.post(f"/admin/entries/{entries[1].id}/approval", data={"approved": "1"})
    assert later.status_code == 302


def test_no_public_gallery_until_judging_ends(
    client: FlaskClient,
    auth: Any,
    session: Session,
    object_store: ObjectStore,
    settings: Settings,
) -> None:
    contest, entries, judges, organizer = blind_contest(session, object_store, settings)
    auth.login(organizer.username)
    form = {
        "blind": "1",
        "gallery_after_judging": "1",
        "aggregation": "mean",
        "trim_min_panel": "5",
        "judges_per_entry": "3",
        "jury_weight": "1",
        "disagreement": "20",
        "reveal_scores": "after_submit",
        "award_tiers-0-name": "一等奖",
        "award_tiers-0-amount": "1",
        **{
            f"rubric-{i}-{name}": value
            for i, row in enumerate(
                [
                    ("theme", "主题立意", "30"),
                    ("story", "故事", "30"),
                    ("production", "制作", "25"),
                    ("appeal", "感染力", "15"),
                ]
            )
            for name, value in zip(("key", "name", "max_points"), row, strict=True)
        },
    }
    saved = client.post("/admin/judging/settings", data=form, follow_redirects=True)
    assert "评审设置已保存" in saved.get_data(as_text=True)
    session.refresh(contest)
    assert contest.gallery_after_judging is True
    settings_page = client.get("/admin/judging/settings").get_data(as_text=True)
    assert re.search(r'<input checked [^>]*name="gallery_after_judging"', settings_page)
    for entry in entries:
        client.post(f"/admin/entries/{entry.id}/approval", data={"approved": "1", "confirm": "1"})
    refused = client.post(
        "/admin/gallery", data={"published": "1", "confirm": "1"}, follow_redirects=True
    )
    assert "评审结束后才公开作品展示" in refused.get_data(as_text=True)
    session.refresh(contest)
    assert contest.gallery_published_at is None
    # Published before the setting was chosen: the gallery still shows nothing meanwhile.
    contest.gallery_published_at = datetime.now(UTC)
    session.commit()
    auth.logout()
    start_round(client, auth, session, contest, organizer, judges)
    gallery = client.get("/gallery/").get_data(as_text=True)
    assert "评审结束后开放" in gallery and not any(e.title in gallery for e in entries)
    assert client.get(f"/gallery/{entries[0].id}").status_code == 404
    assert client.get(f"/gallery/{entries[0].id}/storyboard.vtt").status_code == 404
    for judge in judges:
        auth.login(judge.username)
        for code in desk_codes(client):
            client.post(f"/judge/entries/{code}", data={**FULL, "action": "submit"})
        auth.logout()
    auth.login(organizer.username)
    post_confirmed(client, "/admin/judging/close")
    assert client.get(f"/gallery/{entries[0].id}").status_code == 404  # closed, not yet 公示
    post_confirmed(client, "/admin/judging/publish")
    assert client.get(f"/gallery/{entries[0].id}").status_code == 200
    client.post("/admin/gallery", data={"published": "1"})
    session.refresh(contest)
    assert contest.gallery_published_at is not None


def test_a_published_announcement_does_not_unblind_a_later_round(
    client: FlaskClient,
    auth: Any,
    session: Session,
    object_store: ObjectStore,
    settings: Settings,
) -> None:
    contest, entries, judges, organizer = blind_contest(session, object_store, settings)
    rnd = start_round(client, auth, session, contest, organizer, judges)
    for judge in judges:
        auth.login(judge.username)
        for entry in assigned_entries(session, rnd, judge.id):
            code = code_of(client, entry)
            points = str(10 + NUMBERS.index(entry.number) * 5)  # later entries score higher
            client.post(
                f"/judge/entries/{code}", data={**FULL, "theme": points, "action": "submit"}
            )
        auth.logout()
    auth.login(organizer.username)
    post_confirmed(client, "/admin/judging/close")
    published = post_confirmed(client, "/admin/judging/publish").get_data(as_text=True)
    link = "/announcements/" + published.split('href="/announcements/')[1].split('"')[0]
    before = client.get(link).get_data(as_text=True)
    assert all(e.collective in before for e in entries)
    client.post("/admin/judging/rounds", data={"name": "复评", "advance": "top:2"})
    invite_own(client, judges)
    client.post("/admin/judging/assign", data={"seed": "1"})
    auth.logout()
    advancing, stayed = entries[2:], entries[:2]
    public = client.get(link).get_data(as_text=True)
    assert all(e.title in public for e in entries)
    assert not any(e.collective in public for e in advancing), "the later round is blind"
    assert all(e.collective in public for e in stayed)
    assert "复评" in public and "暂不公开" in public
    # A judge of the later round sees the later round's codes (B-…) and nothing more.
    later = current_round(session, contest)
    assert later is not None
    judge = next(j for j in judges if assigned_entries(session, later, j.id))
    auth.login(judge.username)
    codes = desk_codes(client)
    assert codes and all(code.startswith("B-") for code in codes)
    page = client.get(f"/judge/entries/{codes[0]}").get_data(as_text=True)
    assert leaks(page, entries) == []
    auth.logout()
    auth.login(organizer.username)
    post_confirmed(client, "/admin/judging/close")
    auth.logout()
    assert all(e.collective in client.get(link).get_data(as_text=True) for e in entries)


def test_a_judge_who_has_read_the_others_scores_cannot_go_back_on_their_own(
    client: FlaskClient,
    auth: Any,
    session: Session,
    object_store: ObjectStore,
    settings: Settings,
) -> None:
    contest, entries, judges, organizer = blind_contest(
        session, object_store, settings, reveal_scores="after_submit"
    )
    rnd = start_round(client, auth, session, contest, organizer, judges)
    entry = entries[0]
    panel = [j for j in judges if entry in assigned_entries(session, rnd, j.id)]
    cheat, honest = panel[0], panel[1]
    auth.login(cheat.username)
    code = code_of(client, entry)
    # Nobody else has scored yet: submitting and looking shows nothing, so it stays open.
    client.post(f"/judge/entries/{code}", data={**FULL, "action": "submit"})
    assert "<h2>其他评委的评分</h2>" not in client.get(f"/judge/entries/{code}").get_data(
        as_text=True
    )
    fixed = client.post(
        f"/judge/entries/{code}",
        data={**FULL, "appeal": "11", "action": "submit"},
        follow_redirects=True,
    )
    assert "评分已提交" in fixed.get_data(as_text=True)
    auth.logout()
    auth.login(honest.username)
    client.post(
        f"/judge/entries/{code_of(client, entry)}",
        data={**FULL, "theme": "29", "comment": "立意很好", "action": "submit"},
    )
    auth.logout()
    auth.login(cheat.username)
    seen = client.get(f"/judge/entries/{code}").get_data(as_text=True)
    assert "<h2>其他评委的评分</h2>" in seen and "立意很好" in seen
    assert "已看过其他评委的评分" in seen and "提交评分" not in seen
    for action in ("draft", "submit"):
        refused = client.post(
            f"/judge/entries/{code}",
            data={**FULL, "theme": "29", "action": action},
            follow_redirects=True,
        )
        assert "已看过其他评委的评分" in refused.get_data(as_text=True), action
    score = session.scalar(
        select(Score)
        .where(Score.round_id == rnd.id, Score.judge_id == cheat.id)
        .where(Score.entry_id == entry.id)
    )
    assert score is not None
    session.refresh(score)
    assert score.values["theme"] == 25 and score.submitted_at is not None
    assert score.others_seen_at is not None
    auth.logout()
    # The organizer unlocks it, on the record, while the round is still open: one revision.
    auth.login(organizer.username)
    assert "解锁这份评分" in client.get("/admin/judging/").get_data(as_text=True)
    done = client.post(
        "/admin/judging/unlock",
        data={"entry": str(entry.number), "judge": cheat.username},
        follow_redirects=True,
    )
    assert "已解锁这份评分" in done.get_data(as_text=True)
    auth.logout()
    auth.login(cheat.username)
    again = client.post(
        f"/judge/entries/{code}",
        data={**FULL, "theme": "28", "action": "submit"},
        follow_redirects=True,
    )
    assert "评分已提交" in again.get_data(as_text=True)
    refused = client.post(
        f"/judge/entries/{code}",
        data={**FULL, "theme": "30", "action": "submit"},
        follow_redirects=True,
    )
    assert "已看过其他评委的评分" in refused.get_data(as_text=True)
    session.expire_all()
    changes = session.scalars(
        select(ScoreChange).where(ScoreChange.score_id == score.id).order_by(ScoreChange.id)
    ).all()
    assert [c.action for c in changes][-2:] == ["unlock", "submit"]
    assert changes[-2].user_id == organizer.id
    assert session.get_one(Score, score.id).values["theme"] == 28


def test_rounds_have_letters_and_codes_do_not_follow_numbers(
    client: FlaskClient,
    auth: Any,
    session: Session,
    object_store: ObjectStore,
    settings: Settings,
) -> None:
    """Codes are drawn at random: over a few rounds their order is not the numbers' order."""
    contest, entries, judges, organizer = blind_contest(session, object_store, settings)
    orders = set()
    for letter in "ABCDE":
        auth.login(organizer.username)
        post_confirmed(client, "/admin/judging/close")
        client.post("/admin/judging/rounds", data={"name": f"第{letter}轮"})
        invite_own(client, judges)
        client.post("/admin/judging/assign", data={"seed": "4"})
        page = client.get("/admin/judging/").get_data(as_text=True)
        auth.logout()
        progress = page.split('id="entry-progress"')[1].split("</table>")[0]
        pairs = re.findall(rf">(\d{{4}})</td><td[^>]*>({letter}-\d{{3}})</td>", progress)
        assert sorted(int(n) for n, _c in pairs) == NUMBERS
        orders.add(tuple(n for n, _c in sorted(pairs, key=lambda p: p[1])))
    assert len(orders) > 1  # all five in the numbers' order: about 1 chance in 190 000


@pytest.mark.parametrize("blind", [True, False])
def test_renditions_of_a_blind_contest_carry_no_entry_number(
    session: Session,
    session_factory: sessionmaker[Session],
    object_store: ObjectStore,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    blind: bool,
) -> None:
    # Judges watch the renditions: "No.0012" in the picture would lead to the gallery page.
    job = stored_job(session, object_store, settings, make_clip(tmp_path / "clip.mp4", seconds=1))
    contest = job.entry.contest  # the run's shared open contest: put back as it was
    was = contest.blind
    contest.blind = blind
    session.commit()
    numbers: list[int | None] = []
    real = worker.jobs.process_file

    def spy(*args: Any, **kwargs: Any) -> Any:
        numbers.append(kwargs["entry_number"])
        return real(*args, **kwargs)

    monkeypatch.setattr(worker.jobs, "process_file", spy)
    try:
        assert worker.jobs.process_job(session_factory, object_store, settings, job.id) is (
            JobState.READY
        )
        assert numbers == [None if blind else job.entry.number]
    finally:
        contest.blind = was
        session.commit()
