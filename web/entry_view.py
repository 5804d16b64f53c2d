"""What pages and the API show of an entry: status, progress and media URLs."""

from __future__ import annotations

from typing import Any

from storage.models import AssetKind, Entry, EntryStatus, JobState
from web.extensions import store

STATUS_LABELS = {
    EntryStatus.DRAFT: "草稿（尚未上传视频）",
    EntryStatus.SUBMITTED: "已提交，排队处理中",
    EntryStatus.PROCESSING: "视频处理中",
    EntryStatus.READY: "已就绪",
    EntryStatus.REJECTED: "视频未通过检查",
    EntryStatus.FAILED: "处理失败",
    EntryStatus.WITHDRAWN: "已撤回",
}
JOB_LABELS = {
    JobState.QUEUED: "排队中",
    JobState.RUNNING: "处理中",
    JobState.READY: "完成",
    JobState.REJECTED: "未通过",
    JobState.FAILED: "失败",
}


def entry_status(entry: Entry) -> dict[str, Any]:
    """A JSON-ready view of an entry, with presigned URLs once its assets are ready."""
    job = entry.latest_job()
    data: dict[str, Any] = {
        "id": entry.id,
        "number": entry.number,
        "title": entry.title,
        "collective": entry.collective,
        "district": entry.district,
        "industry": entry.industry,
        "summary": entry.summary,
        "status": entry.status.value,
        "status_label": STATUS_LABELS[entry.status],
        "job": None,
        "media": None,
    }
    if job is not None:
        data["job"] = {
            "id": job.id,
            "state": job.state.value,
            "state_label": JOB_LABELS[job.state],
            "percent": round(job.percent or 0.0, 1),
            "eta_seconds": round(job.eta_seconds) if job.eta_seconds is not None else None,
            "reason": job.reason,
            "attempts": job.attempts,
        }
    data["media"] = _media(entry)
    return data


def _media(entry: Entry) -> dict[str, Any] | None:
    # Show the newest set of assets that is complete, whichever upload it came from.
    rendition = entry.asset(AssetKind.RENDITION)
    if rendition is None:
        return None
    poster = entry.asset(AssetKind.POSTER, rendition.source_key)
    s3 = store()
    return {
        "rendition_url": s3.presigned_url(rendition.bucket, rendition.object_key),
        "poster_url": s3.presigned_url(poster.bucket, poster.object_key) if poster else None,
        "width": rendition.width,
        "height": rendition.height,
        "duration": rendition.duration,
    }
