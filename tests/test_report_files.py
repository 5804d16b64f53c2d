"""Activity report files through the real fleet: a photo and a short video (lavfi) uploaded,
published after their commit, processed by a Celery worker into the assets bucket."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy.orm import Session

from judging.reports import create_report
from storage.models import ActivityReport, JobState, ReportFile
from storage.objects import ObjectStore
from storage.settings import Settings
from tests.factories import make_user, open_contest
from tests.fleet import wait_for
from tests.media import make_clip
from tests.test_reports import FORM, log_in
from worker.report_files import process_report_file

pytestmark = pytest.mark.integration


def photo_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (3000, 2000), (30, 120, 200)).save(out, "JPEG", quality=85)
    return out.getvalue()


def finished(session: Session, report: ActivityReport) -> list[ReportFile] | None:
    session.expire_all()
    files = session.get_one(ActivityReport, report.id).files
    return files if files and all(f.state.finished for f in files) else None


def test_a_photo_and_a_short_video_are_processed_by_the_fleet(
    client: FlaskClient,
    session: Session,
    settings: Settings,
    object_store: ObjectStore,
    worker: Any,
    tmp_path: Path,
    session_factory: Any,
) -> None:
    owner = make_user(session)
    report = create_report(
        session,
        owner,
        open_contest(session),
        FORM | {"held_on": date.today().isoformat()},
        settings,
    )
    clip = make_clip(tmp_path / "clip.mp4", 640, 360, seconds=2.0)
    log_in(client, owner)
    response = client.post(
        f"/reports/{report.id}/files",
        data={
            "files": [
                (io.BytesIO(photo_bytes()), "photo.jpg"),
                (io.BytesIO(clip.read_bytes()), "clip.mp4"),
            ]
        },
    )
    assert response.status_code == 302
    files = wait_for(lambda: finished(session, report), 180, "the report's files")
    photo, video = files
    assert (photo.kind, video.kind) == ("photo", "video")
    assert photo.state is JobState.READY, photo.reason
    assert video.state is JobState.READY, video.reason
    assert sorted(photo.outputs) == ["1080", "2048", "480"]
    big = object_store.get_bytes(settings.bucket_assets, photo.outputs["2048"], 16 * 1024**2)
    with Image.open(io.BytesIO(big)) as image:
        assert max(image.size) == 2048
    assert sorted(video.outputs) == ["poster", "video"]  # the largest rendition alone
    for key in video.outputs.values():
        assert object_store.exists(settings.bucket_assets, key)
    assert video.outputs["video"].startswith(f"reports/{report.id}/derived/")
    # Redelivered: the same keys, nothing run again.
    before = dict(photo.outputs)
    state = process_report_file(session_factory, object_store, settings, photo.id)
    assert state is JobState.READY
    session.refresh(photo)
    assert photo.outputs == before
    page = client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "已完成" in page and "<video" in page


def test_the_reporter_is_mailed_the_return_and_the_adoption(
    session: Session, settings: Settings, worker: Any, mail_catcher: Any, app: Any
) -> None:
    from email.message import EmailMessage

    from judging.reports import adopt_report, return_report, submit_report
    from storage.models import Role
    from tests.factories import unique

    def parts(mail: EmailMessage) -> tuple[str, str, str]:
        plain, html = mail.get_body(("plain",)), mail.get_body(("html",))
        assert plain is not None and html is not None
        return str(mail["Subject"]), plain.get_content(), html.get_content()

    owner = make_user(session)
    owner.email = to = f"{unique('reporter')}@example.org"
    session.commit()
    report = create_report(
        session,
        owner,
        open_contest(session),
        FORM | {"held_on": date.today().isoformat()},
        settings,
    )
    submit_report(session, report)
    office = make_user(session, Role.ORGANIZER)
    reason = '请补充照片 <script>alert("x")</script>'
    return_report(session, report, office, reason)
    [mail] = wait_for(lambda: mail_catcher.to(to), 30, "the return mail")
    subject, text, html = parts(mail)
    assert subject == f"活动报送《{report.title}》被退回修改"
    assert reason in text and "<script>" not in html and "&lt;script&gt;" in html
    base = settings.public_base_url.rstrip("/")
    assert f"{base}/reports/{report.id}" in html
    submit_report(session, report)
    adopt_report(session, report, office)
    wait_for(lambda: len(mail_catcher.to(to)) == 2, 30, "the adoption mail")
    subject, text, html = parts(mail_catcher.to(to)[1])
    assert subject == f"活动报送《{report.title}》已被采用"
    assert f"{base}/activities/{report.id}" in text
