"""What a reporter is told of the committee office's decision on an activity report: adopted
(with its public page) or returned with the reason. A message the decision no longer stands
behind (the report changed or was decided again since) is skipped."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from storage.models import ActivityReport, ReportStatus
from storage.outbox import OutboxMessage
from web.mail_render import Content, builds, external
from worker.outbox import Skip


def _decided(session: Session, message: OutboxMessage, status: ReportStatus) -> ActivityReport:
    report = session.get(ActivityReport, message.params.get("report_id", 0))
    if report is None:
        raise Skip("报送已删除")
    told = message.params.get("reviewed_at", "")
    if (
        report.status is not status
        or report.reviewed_at is None
        or not told
        or report.reviewed_at != datetime.fromisoformat(told)
    ):
        raise Skip("报送已修改或已重新审核")
    return report


@builds("report_adopted")
def adopted(session: Session, message: OutboxMessage) -> Content:
    report = _decided(session, message, ReportStatus.ADOPTED)
    return Content(
        _("活动报送《%(title)s》已被采用", title=report.title),
        {
            "report": report,
            "public_url": external("activities.report", report_id=report.id),
            "report_url": external("reports.view", report_id=report.id),
        },
    )


@builds("report_returned")
def returned(session: Session, message: OutboxMessage) -> Content:
    report = _decided(session, message, ReportStatus.RETURNED)
    return Content(
        _("活动报送《%(title)s》被退回修改", title=report.title),
        {
            "report": report,
            "reason": report.review_reason,
            "report_url": external("reports.view", report_id=report.id),
        },
    )
