"""The demo's activity report, for `footprints demo` (after `seed_demo`): an adopted 为民服务
report of the demo collective with two drawn photos, so 风采展示 and the office's pages have
something to show. Its photos go through the same path as an upload (stored, recorded, then
processed by the fleet); a report already there (by title) is left alone."""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from judging.reports import (
    ReportError,
    add_file,
    adopt_report,
    create_report,
    report_key,
    submit_report,
    today_in_beijing,
)
from storage.models import ActivityReport, Contest, ReportFile, Role, User
from storage.objects import ObjectStore, ObjectStoreError
from web.demo import DEMO_SLUG, DEMO_USERS
from web.demo_works import jpeg, scene
from worker.report_files import publish_report_file

log = logging.getLogger(__name__)
TITLE = "“青春暖夕阳”为民服务统一行动"
BODY = (
    "枢纽站青年文明号集体的十二名团员青年走进文化路社区，为独居老人测量血压、讲解"
    "公交出行小知识，并帮助老人在手机上设置乘车码。\n\n"
    "活动持续半天，服务老人六十余人次。"
)
CAPTIONS = ("为社区老人测量血压", "教老人使用手机乘车码")


def seed_demo_report(
    session: Session,
    store: ObjectStore | None = None,
    publish: Callable[[Session, ReportFile], bool] | None = None,
) -> str | None:
    """Add the demo's adopted activity report where missing; its title when added."""
    if store is None:
        from web.extensions import store as app_store

        store = app_store()
    send = publish or publish_report_file
    contest = session.scalar(select(Contest).where(Contest.slug == DEMO_SLUG))
    owner = session.scalar(select(User).where(User.username == DEMO_USERS[Role.CONTESTANT][0]))
    office = session.scalar(select(User).where(User.username == DEMO_USERS[Role.ORGANIZER][0]))
    if contest is None or owner is None or office is None:
        return None
    there = select(ActivityReport.id).where(
        ActivityReport.contest_id == contest.id, ActivityReport.title == TITLE
    )
    if session.scalar(there) is not None:
        return None
    form = {
        "title": TITLE,
        "held_on": today_in_beijing().isoformat(),
        "place": "文化路社区服务中心",
        "activity_type": store.settings.required_activity_type or "为民服务",
        "participants": "12",
        "body": BODY,
        "district": "市直单位",
        "unit": "市公交集团枢纽站青年文明号",
        "industry": "交通运输",
    }
    try:
        report = create_report(session, owner, contest, form, store.settings)
        for index, caption in enumerate(CAPTIONS):
            data = jpeg(scene(index + 6))
            key = report_key(report.id, uuid.uuid4().hex)
            stored = store.put_stream(
                store.settings.bucket_originals, key, io.BytesIO(data), "image/jpeg"
            )
            file = add_file(
                session, report, stored, "photo", store.settings, f"photo{index + 1}.jpg", caption
            )
            send(session, file)
        submit_report(session, report)
        adopt_report(session, report, office)
    except (ReportError, ObjectStoreError) as exc:
        session.rollback()
        log.warning("demo activity report not added: %s", exc)
        return None
    return TITLE
