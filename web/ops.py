"""Operators: the media jobs, their states and reasons; republish what never reached a worker."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from storage.models import Job, JobState, Role
from web.auth import roles_required
from web.entry_view import JOB_LABELS
from web.extensions import db
from web.uploads import publish
from worker.dispatch import requeue_job

bp = Blueprint("ops", __name__, url_prefix="/ops")
operator_only = roles_required(Role.OPERATOR)


@bp.route("/")
@operator_only
def index() -> Any:
    jobs = db.session.scalars(select(Job).order_by(Job.id.desc()).limit(200)).all()
    counts = dict(
        db.session.execute(select(Job.state, func.count()).group_by(Job.state)).tuples().all()
    )
    return render_template("ops/index.html", jobs=jobs, counts=counts, labels=JOB_LABELS)


def unpublished_jobs() -> list[Job]:
    """Queued jobs that never reached the broker (it was down when they were created)."""
    query = select(Job).where(Job.state == JobState.QUEUED, Job.published_at.is_(None))
    return list(db.session.scalars(query.order_by(Job.id)))


@bp.route("/jobs/<int:job_id>/retry", methods=["POST"])
@operator_only
def retry(job_id: int) -> Any:
    job = db.session.get(Job, job_id)
    if job is None:
        abort(404)
    if job.state is JobState.QUEUED:
        flash(_("任务 #%(id)d 已在队列中", id=job.id), "info")
    elif requeue_job(db.session, job):
        flash(_("任务 #%(id)d 已重新排队", id=job.id), "success")
    else:
        flash(_("任务 #%(id)d 已重置，但消息队列暂时不可用，稍后自动发送", id=job.id), "error")
    return redirect(url_for(".index"))


@bp.route("/republish", methods=["POST"])
@operator_only
def republish() -> Any:
    jobs = unpublished_jobs()
    sent = sum(publish(job) for job in jobs)
    flash(
        _("已重新发送 %(sent)d / %(total)d 个任务", sent=sent, total=len(jobs)),
        "success" if sent == len(jobs) else "error",
    )
    return redirect(url_for(".index"))
