"""Operators: queues, worker nodes, jobs and dead letters on one page, and what steers them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from judging.decisions import NOTE_LENGTH, cancel_items, cancel_pending, record_cancel
from judging.messages import N_
from judging.numbers import ascii_int
from storage.models import Job, JobState, Role, User
from storage.notifications import KINDS
from storage.outbox import Channel, OutboxState
from web.account_admin import accounts_page, lift_lockout, reset_password
from web.auth import roles_required
from web.entry_view import JOB_LABELS
from web.extensions import db, settings_of
from web.i18n import translate
from web.outbox_task import publish as publish_message
from web.uploads import publish
from worker.celery_app import celery
from worker.dispatch import cancel_job, requeue_failed, requeue_job
from worker.ops.broker import BROKER_ERRORS
from worker.ops.dead_letters import peek_dead_letters, purge_dead_letters, retry_dead_letters
from worker.ops.status import fleet_status
from worker.outbox import requeue
from worker.outbox_report import (
    DEFAULT_FILTER,
    FILTERS,
    RETRYABLE,
    SHOWN,
    filter_counts,
    mask_address,
    newest,
    state_counts,
)

bp = Blueprint("ops", __name__, url_prefix="/ops")
operator_only = roles_required(Role.OPERATOR)
QUEUED_SHOWN = 50
OUTBOX_STATE_LABELS = {
    OutboxState.QUEUED: N_("排队中"),
    OutboxState.SENDING: N_("发送中"),
    OutboxState.SENT: N_("已发送"),
    OutboxState.FAILED: N_("发送失败"),
    OutboxState.UNCERTAIN: N_("不确定"),
    OutboxState.SKIPPED: N_("已跳过"),
}
OUTBOX_STATE_CLASSES = {"sent": "ready", "failed": "failed", "uncertain": "processing"}
OUTBOX_FILTER_LABELS = {
    "all": N_("全部"),
    "failed": N_("发送失败"),
    "uncertain": N_("不确定"),
    "queued": N_("排队中"),
}
CHANNEL_LABELS = {Channel.EMAIL: N_("邮件"), Channel.SMS: N_("短信")}


@bp.route("/")
@operator_only
def index() -> Any:
    settings = settings_of()
    status = fleet_status(db.session, celery, settings)
    try:
        dead_letters, dead_error = peek_dead_letters(settings), ""
    except BROKER_ERRORS as exc:
        dead_letters, dead_error = [], str(exc)
    queued = db.session.scalars(
        select(Job).where(Job.state == JobState.QUEUED).order_by(Job.id).limit(QUEUED_SHOWN)
    ).all()
    return render_template(
        "ops/index.html",
        status=status,
        queued=queued,
        dead_letters=dead_letters,
        dead_error=dead_error,
        labels=JOB_LABELS,
        flower_url=settings.flower_url,
    )


@bp.route("/accounts")
@operator_only
def accounts() -> Any:
    return accounts_page("ops.accounts")


@bp.route("/accounts/<int:user_id>/password", methods=["POST"])
@operator_only
def accounts_reset(user_id: int) -> Any:
    return reset_password("ops.accounts", user_id)


@bp.route("/accounts/<int:user_id>/unlock", methods=["POST"])
@operator_only
def accounts_unlock(user_id: int) -> Any:
    return lift_lockout("ops.accounts", user_id)


@bp.route("/status.json")
@operator_only
def status_json() -> Any:
    """The same figures as `footprints ops status --json`."""
    return jsonify(fleet_status(db.session, celery, settings_of()).as_dict())


def unpublished_jobs() -> list[Job]:
    """Queued jobs that never reached the broker (it was down when they were created)."""
    query = select(Job).where(Job.state == JobState.QUEUED, Job.published_at.is_(None))
    return list(db.session.scalars(query.order_by(Job.id)))


def _job(job_id: int) -> Job:
    job = db.session.get(Job, job_id)
    if job is None:
        abort(404)
    return job


@bp.route("/jobs/<int:job_id>/retry", methods=["POST"])
@operator_only
def retry(job_id: int) -> Any:
    job = _job(job_id)
    if job.state in (JobState.QUEUED, JobState.RUNNING):
        flash(_("任务 #%(id)d 正在排队或处理中，无需重试", id=job.id), "info")
    elif requeue_job(db.session, job):
        flash(_("任务 #%(id)d 已重新排队", id=job.id), "success")
    else:
        flash(_("任务 #%(id)d 已重置，但消息队列暂时不可用，稍后自动发送", id=job.id), "error")
    return redirect(url_for(".index"))


@bp.route("/jobs/<int:job_id>/cancel", methods=["POST"])
@operator_only
def cancel(job_id: int) -> Any:
    """Ask first (the entry and the job's state), then cancel on the record."""
    job = _job(job_id)
    if job.state.finished:
        flash(_("任务 #%(id)d 已经结束，无法取消", id=job.id), "info")
        return redirect(url_for(".index"))
    pending = cancel_pending(job, JOB_LABELS[job.state], request.form.get("digest"))
    if pending is not None:
        return render_template(
            "admin/confirm.html",
            title=_("取消任务"),
            message=_("取消后正在运行的转码会停止，作品将显示为处理失败，可稍后重试。"),
            stale=bool(request.form.get("digest")),
            items=[translate(item) for item in pending.items],
            items_title=_("将要取消的任务"),
            action=url_for(".cancel", job_id=job.id),
            fields={"digest": pending.digest},
            note=request.form.get("note", "")[:NOTE_LENGTH],
            confirm_label=_("确认取消任务"),
            back_url=url_for(".index"),
            back_label=_("运维控制台"),
        )
    operator = db.session.get_one(User, current_user.id)
    record_cancel(
        db.session,
        job,
        cancel_items(job, JOB_LABELS[job.state]),
        operator,
        request.form.get("note", ""),
    )
    if cancel_job(db.session, job, celery.control):
        flash(_("任务 #%(id)d 已取消，正在运行的转码已停止", id=job.id), "success")
    else:
        db.session.rollback()  # it finished meanwhile: nothing was cancelled, nothing recorded
        flash(_("任务 #%(id)d 已经结束，无法取消", id=job.id), "info")
    return redirect(url_for(".index"))


@bp.route("/jobs/requeue-failed", methods=["POST"])
@operator_only
def requeue_all_failed() -> Any:
    total, sent = requeue_failed(db.session)
    flash(
        _("已重新排队 %(total)d 个失败任务（%(sent)d 个已送达队列）", total=total, sent=sent),
        "success" if sent == total else "error",
    )
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


@bp.route("/dead-letters/retry", methods=["POST"])
@operator_only
def dead_letters_retry() -> Any:
    try:
        jobs, dropped = retry_dead_letters(db.session, settings_of())
    except BROKER_ERRORS as exc:
        flash(_("消息队列暂时不可用：%(error)s", error=str(exc)), "error")
    else:
        flash(
            _(
                "死信已清空：%(jobs)d 个任务重新排队，%(dropped)d 条丢弃",
                jobs=jobs,
                dropped=dropped,
            ),
            "success",
        )
    return redirect(url_for(".index"))


@bp.route("/dead-letters/purge", methods=["POST"])
@operator_only
def dead_letters_purge() -> Any:
    try:
        count = purge_dead_letters(settings_of())
    except BROKER_ERRORS as exc:
        flash(_("消息队列暂时不可用：%(error)s", error=str(exc)), "error")
    else:
        flash(_("已删除 %(count)d 条死信", count=count), "success")
    return redirect(url_for(".index"))


@bp.route("/outbox")
@operator_only
def outbox() -> Any:
    """The outbox: counts by state, the newest messages, 重新发送 for those that did not go."""
    choice = request.args.get("state", DEFAULT_FILTER)
    choice = choice if choice in FILTERS else DEFAULT_FILTER
    counts = state_counts(db.session)
    return render_template(
        "ops/outbox.html",
        choice=choice,
        counts=counts,
        filter_counts=filter_counts(counts),
        messages=newest(db.session, choice),
        shown=SHOWN,
        mask=mask_address,
        retryable={state.value for state in RETRYABLE},
        state_labels=OUTBOX_STATE_LABELS,
        state_classes=OUTBOX_STATE_CLASSES,
        filter_labels=OUTBOX_FILTER_LABELS,
        channel_labels=CHANNEL_LABELS,
        kind_labels={name: kind.label for name, kind in KINDS.items()},
    )


@bp.route("/outbox/resend", methods=["POST"])
@operator_only
def outbox_resend() -> Any:
    """Send a failed, uncertain or skipped message again: queued, committed, then published."""
    choice = request.form.get("state", DEFAULT_FILTER)
    back = url_for(".outbox", state=choice if choice in FILTERS else DEFAULT_FILTER)
    message_id = ascii_int(request.form.get("message_id"))
    if message_id is None or not requeue(db.session, message_id):
        db.session.rollback()
        flash(_("这条消息已在发送或已经发出，无需重新发送"), "info")
        return redirect(back)
    db.session.commit()
    try:
        publish_message(message_id)
    except BROKER_ERRORS:
        # It stays queued: the outbox sweep publishes it within a few minutes.
        flash(
            _("消息 #%(id)d 已重新排队，但消息队列暂时不可用，稍后自动发送", id=message_id), "error"
        )
    else:
        flash(_("消息 #%(id)d 已重新排队发送", id=message_id), "success")
    return redirect(back)
