"""What pages and the API show of an entry: status, progress and media URLs."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import get_locale, gettext

from judging.messages import N_
from judging.submissions import status_label_of
from storage.models import AssetKind, Entry, Job, JobState
from web.extensions import store
from web.media import default_rendition, shown_assets, shown_poster, shown_renditions
from worker.reasons import contestant_reason, english_refusal

JOB_LABELS = {
    JobState.QUEUED: N_("排队中"),
    JobState.RUNNING: N_("处理中"),
    JobState.READY: N_("完成"),
    JobState.REJECTED: N_("未通过"),
    JobState.FAILED: N_("失败"),
    JobState.CANCELLED: N_("已取消"),
}

# The fixed sentences of worker/reasons.py a job can end with, for the English catalog; a
# sentence with numbers in it (retry counts, seconds) reads as UNFINISHED in English.
UNFINISHED = N_("处理未完成，组委会将协助处理")
FIXED_REASONS = (
    N_("处理中断（工作进程无响应），已自动重新排队"),
    N_("已由运维人员重新排队"),
    N_("已由运维人员取消，请联系组委会"),
    N_("系统内部错误，组委会将协助处理"),
    N_("视频处理超时，组委会将协助处理；也可尝试压缩或剪短后重新上传"),
    N_("视频处理时内存不足，组委会将协助处理；也可尝试降低分辨率（如 1080p）后重新上传"),
    N_("视频处理失败，组委会将协助处理；也可尝试用手机或剪辑软件重新导出后上传"),
)


def job_reason_shown(job: Job) -> str:
    """A job's reason as its contestant reads it: one language, never an error's text.

    Chinese: the sentence. English: a refusal's English sentence, else the catalog's English
    of the sentence (UNFINISHED where it has none). The detail stays for the ops page.
    """
    sentence = contestant_reason(job.reason)
    if not sentence or str(get_locale()) != "en":
        return sentence
    if job.state is JobState.REJECTED and (english := english_refusal(job.reason)):
        return english
    translated = gettext(sentence)
    return translated if translated != sentence else gettext(UNFINISHED)


def entry_status(entry: Entry) -> dict[str, Any]:
    """A JSON-ready view of an entry, with presigned URLs once its assets are ready."""
    job = entry.latest_job()
    data: dict[str, Any] = {
        "id": entry.id,
        "number": entry.number,
        "title": entry.title,
        "collective": entry.collective,
        "category": entry.category.value,
        "category_label": gettext(entry.category.label),
        "district": entry.district,
        "industry": entry.industry,
        "summary": entry.summary,
        "work_type": entry.work_type.value,
        "work_type_label": gettext(entry.work_type.label),
        "status": entry.status.value,
        "status_label": gettext(status_label_of(entry)),
        "approved": entry.approved_at is not None,
        # Sent back by the organizer, with the reason the contestant fixes it by.
        "returned": (
            {"reason": entry.return_reason, "at": entry.returned_at.isoformat()}
            if entry.returned_at
            else None
        ),
        "job": None,
        "media": None,
    }
    if job is not None:
        data["job"] = {
            "id": job.id,
            "state": job.state.value,
            "state_label": gettext(JOB_LABELS[job.state]),
            "percent": round(job.percent or 0.0, 1),
            "eta_seconds": round(job.eta_seconds) if job.eta_seconds is not None else None,
            # The sentence only: the detail (an error's text) is for the ops page.
            "reason": job_reason_shown(job),
            "attempts": job.attempts,
        }
    data["media"] = _media(entry)
    # The technical quality report of the video being shown: warnings, never refusals. Only
    # owners and staff read this view; judges and the public get public_view, without it.
    data["qc"] = list(entry.qc) if data["media"] else []
    return data


def _media(entry: Entry) -> dict[str, Any] | None:
    renditions = shown_renditions(entry)
    chosen = default_rendition(renditions)
    if chosen is None:
        return None
    s3 = store()
    posters = {a.label: a for a in shown_assets(entry, AssetKind.POSTER)}
    poster = shown_poster(entry)
    has_storyboard = bool(shown_assets(entry, AssetKind.STORYBOARD_VTT))
    return {
        "rendition_url": s3.presigned_url(chosen.bucket, chosen.object_key),
        "poster_url": s3.presigned_url(poster.bucket, poster.object_key) if poster else None,
        "width": chosen.width,
        "height": chosen.height,
        "duration": chosen.duration,
        "renditions": [
            {
                "label": a.label,
                "width": a.width,
                "height": a.height,
                "url": s3.presigned_url(a.bucket, a.object_key),
            }
            for a in reversed(renditions)
        ],
        "posters": {
            label: s3.presigned_url(a.bucket, a.object_key) for label, a in posters.items()
        },
        "storyboard_vtt_url": (
            url_for("media.storyboard", entry_id=entry.id) if has_storyboard else None
        ),
    }


def public_view(entry: Entry) -> dict[str, Any]:
    """What the public sees of an entry: no contact details, the watermarked media only."""
    return {
        "id": entry.id,
        "number": entry.number,
        "title": entry.title,
        "collective": entry.collective,
        "category_label": gettext(entry.category.label),
        "district": entry.district,
        "industry": entry.industry,
        "summary": entry.summary,
        "media": _media(entry),
    }
