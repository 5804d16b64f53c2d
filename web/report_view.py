"""How pages show an activity report's files and status (reporter, office and public pages)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from judging.messages import N_
from storage.models import ActivityReport, JobState, ReportStatus
from storage.objects import ObjectStoreError
from web.extensions import settings_of, store
from worker.reasons import contestant_reason

STATUS_LABELS = {
    ReportStatus.DRAFT: N_("草稿"),
    ReportStatus.SUBMITTED: N_("审核中"),
    ReportStatus.ADOPTED: N_("已采用"),
    ReportStatus.RETURNED: N_("已退回"),
}
STATE_LABELS = {
    JobState.QUEUED: N_("排队处理中"),
    JobState.RUNNING: N_("处理中"),
    JobState.READY: N_("已完成"),
    JobState.REJECTED: N_("未通过检查"),
    JobState.FAILED: N_("处理失败"),
    JobState.CANCELLED: N_("已取消"),
}


def status_labels() -> dict[str, str]:
    """Each report status's name in the page's language, by value."""
    return {status.value: _(label) for status, label in STATUS_LABELS.items()}


def file_views(report: ActivityReport, urls: bool = True) -> list[dict[str, Any]]:
    """The report's files as pages show them: state, reason, and (ready) presigned links."""
    s3 = store() if urls else None
    assets = settings_of().bucket_assets
    views = []
    for file in report.files:
        view: dict[str, Any] = {
            "id": file.id,
            "kind": file.kind,
            "caption": file.caption,
            "filename": file.filename,
            "state": file.state.value,
            "state_label": _(STATE_LABELS[file.state]),
            "percent": round(file.percent),
            "finished": file.state.finished,
            "ready": file.state is JobState.READY,
            "reason": contestant_reason(file.reason) if file.state.finished else "",
            "links": {},
        }
        if s3 is not None and file.state is JobState.READY:
            try:
                view["links"] = {
                    name: s3.presigned_url(assets, key) for name, key in file.outputs.items()
                }
            except ObjectStoreError:
                view["links"] = {}
        views.append(view)
    return views


def photos_of(views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ready photos of `file_views`."""
    return [v for v in views if v["kind"] == "photo" and v["ready"] and v["links"]]


def video_of(views: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The ready video of `file_views`, if any."""
    return next((v for v in views if v["kind"] == "video" and v["ready"] and v["links"]), None)
