"""Organizers' judging desk: rounds, assignment, progress, results, exports, 公示."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from judging.assignment import AssignmentError
from judging.decisions import (
    DECISION_LABELS,
    NOTE_LENGTH,
    Pending,
    close_with_decision,
    decisions_of,
    publish_with_decision,
)
from judging.exports import scores_table
from judging.numbers import ascii_int
from judging.panels import STATE_LABELS, judge_progress, panel_report, round_results
from judging.results import MIMETYPES, RENDERERS
from judging.round_due import DueError, input_value, parse_due, set_due
from judging.rounds import (
    RoundError,
    add_to_panel,
    assign_round,
    current_round,
    declare_conflict,
    eligible_entries,
    invite,
    judges_of,
    open_round,
    parse_advance,
    remove_from_panel,
    uneven_panels,
)
from judging.rubric import scale_warning
from judging.scoring import unlock_score
from judging.submissions import current_contest
from storage.models import (
    WORK_TYPE_LABELS,
    Contest,
    Entry,
    Role,
    Round,
    Score,
    Snapshot,
    User,
    WorkType,
)
from web.auth import roles_required
from web.downloads import spreadsheet_response
from web.extensions import db
from web.i18n import translate
from web.template_helpers import beijing

bp = Blueprint("judging", __name__, url_prefix="/admin/judging")
organizer_only = roles_required(Role.ORGANIZER)


def contest_and_round() -> tuple[Contest, Round | None]:
    contest = current_contest(db.session)
    if contest is None:
        abort(404)
    return contest, current_round(db.session, contest)


@bp.route("/invitations", methods=["POST"])
@organizer_only
def invitations() -> Any:
    _contest, rnd = contest_and_round()
    if rnd is None:
        abort(404)
    chosen = {n for v in request.form.getlist("judge") if (n := ascii_int(v)) is not None}
    invite(db.session, rnd, chosen)
    flash(_("本轮评委名单已更新"), "success")
    return redirect(url_for(".index"))


@bp.route("/")
@organizer_only
def index() -> Any:
    return desk()


def desk(status: int = 200, typed: dict[str, str] | None = None, due_error: str = "") -> Any:
    """The desk; after a refused due date, with what was typed and the reason by the field."""
    contest, rnd = contest_and_round()
    snapshots = db.session.scalars(
        select(Snapshot).where(Snapshot.contest_id == contest.id).order_by(Snapshot.id.desc())
    ).all()
    report = panel_report(db.session, rnd) if rnd else None
    rows = round_results(db.session, rnd, report) if rnd and report else []
    return render_template(
        "admin/judging.html",
        contest=contest,
        round=rnd,
        progress=judge_progress(report, judges_of(db.session, rnd)) if report else [],
        report=report,
        totals=report.totals() if report else None,
        rows=rows,
        scale_warning=scale_warning(contest, {WorkType(r.work_type) for r in rows} or None),
        work_type_labels=WORK_TYPE_LABELS,
        eligible=len(eligible_entries(db.session, contest, rnd)),
        snapshots=snapshots,
        judges=judges_of(db.session),
        invited={j.id for j in judges_of(db.session, rnd)} if rnd else set(),
        decisions=decisions_of(db.session, contest.id),
        state_labels=STATE_LABELS,
        decision_labels=DECISION_LABELS,
        typed=typed or {"due_at": input_value(rnd.due_at) if rnd else ""},
        due_error=due_error,
    ), status


@bp.route("/rounds", methods=["POST"])
@organizer_only
def new_round() -> Any:
    contest, _rnd = contest_and_round()
    typed = {k: request.form.get(k, "") for k in ("name", "advance", "due_at")}
    try:
        due_at = parse_due(typed["due_at"])
        advance = parse_advance(typed["advance"])
        name = typed["name"].strip()[:50] or _("初评")
        open_round(db.session, contest, name, advance, due_at)
    except DueError as exc:
        return desk(422, typed, translate(exc.message))
    except RoundError as exc:
        flash(translate(exc.message), "error")
    return redirect(url_for(".index"))


@bp.route("/due", methods=["POST"])
@organizer_only
def due() -> Any:
    """Change or remove the open round's due date (评审截止时间)."""
    _contest, rnd = contest_and_round()
    if rnd is None:
        abort(404)
    typed = {"due_at": request.form.get("due_at", "")}
    try:
        set_due(db.session, rnd, typed["due_at"])
    except DueError as exc:
        if rnd.closed_at is not None:  # closed in another tab: the field is gone from the desk
            flash(translate(exc.message), "error")
            return redirect(url_for(".index"))
        return desk(422, typed, translate(exc.message))
    if rnd.due_at:
        flash(_("评审截止时间已改为 %(time)s（北京时间）", time=beijing(rnd.due_at)), "success")
    else:
        flash(_("已取消本轮的评审截止时间"), "success")
    return redirect(url_for(".index"))


@bp.route("/assign", methods=["POST"])
@organizer_only
def assign() -> Any:
    contest, rnd = contest_and_round()
    if rnd is None:
        abort(404)
    seed = request.form.get("seed", "0")
    try:
        count = assign_round(
            db.session,
            rnd,
            eligible_entries(db.session, contest, rnd),
            ascii_int(seed) or 0,
        )
    except (AssignmentError, RoundError) as exc:
        flash(translate(exc.message), "error")
    else:
        flash(_("已分配 %(n)d 个评审任务", n=count), "success")
    return redirect(url_for(".index"))


@bp.route("/panels", methods=["POST"])
@organizer_only
def panel() -> Any:
    contest, rnd = contest_and_round()
    if rnd is None:
        abort(404)
    number = request.form.get("entry", "")
    entry = db.session.scalar(
        select(Entry).where(
            Entry.contest_id == contest.id,
            Entry.number == (ascii_int(number) or -1),
        )
    )
    judge = db.session.scalar(
        select(User).where(User.username == request.form.get("judge", ""), User.role == Role.JUDGE)
    )
    if entry is None or judge is None:
        flash(_("没有这个作品编号或评委用户名"), "error")
        return redirect(url_for(".index"))
    try:
        action = request.form.get("action")
        if action == "remove":
            remove_from_panel(db.session, rnd, judge, entry)
        elif action == "conflict":
            declare_conflict(db.session, judge, entry, "organizer")
        else:
            add_to_panel(db.session, rnd, judge, entry)
    except RoundError as exc:
        flash(translate(exc.message), "error")
        return redirect(url_for(".index"))
    uneven = uneven_panels(db.session, rnd)
    if uneven:
        listed = "、".join(f"No.{n:04d}（{size}）" for n, size in sorted(uneven.items()))
        flash(_("注意：以下作品的评委人数与设定不同：%(list)s", list=listed), "error")
    else:
        flash(_("评委安排已更新"), "success")
    return redirect(url_for(".index"))


def ask(pending: Pending, action: str, confirm_label: str) -> Any:
    """The confirmation page: what is unresolved, and the organizer's explicit choice."""
    stale = bool(request.form.get("digest"))  # a confirmation of a list that has changed
    return render_template(
        "admin/confirm.html",
        title=_("请确认"),
        message=_("以下事项尚未解决。确认后将照常执行，并记录您的决定。"),
        stale=stale,
        items=[translate(item) for item in pending.items],
        action=action,
        fields={"digest": pending.digest},
        note=request.form.get("note", "")[:NOTE_LENGTH],
        confirm_label=confirm_label,
        back_url=url_for(".index"),
        back_label=_("返回评审管理"),
    )


@bp.route("/close", methods=["POST"])
@organizer_only
def close() -> Any:
    _contest, rnd = contest_and_round()
    if rnd is None:
        abort(404)
    if rnd.closed_at is not None:  # a second click, a reload, another tab
        flash(_("本轮评审已结束，分数已锁定"), "info")
        return redirect(url_for(".index"))
    pending = close_with_decision(
        db.session, rnd, me(), request.form.get("digest"), request.form.get("note", "")
    )
    if pending is not None:
        return ask(pending, url_for(".close"), _("确认结束"))
    flash(_("本轮评审已结束，分数已锁定"), "success")
    return redirect(url_for(".index"))


@bp.route("/unlock", methods=["POST"])
@organizer_only
def unlock() -> Any:
    """Reopen one judge's score for one entry in a closed round, on the record."""
    contest, rnd = contest_and_round()
    if rnd is None:
        abort(404)
    number = request.form.get("entry", "")
    score = db.session.scalar(
        select(Score)
        .join(Entry, Entry.id == Score.entry_id)
        .join(User, User.id == Score.judge_id)
        .where(
            Score.round_id == rnd.id,
            Entry.contest_id == contest.id,
            Entry.number == (ascii_int(number) or -1),
            User.username == request.form.get("judge", ""),
        )
    )
    if score is None:
        flash(_("这位评委没有这件作品的评分"), "error")
    else:
        unlock_score(db.session, score, me(), request.remote_addr or "")
        flash(_("已解锁这份评分，修改会记录在案"), "success")
    return redirect(url_for(".index"))


@bp.route("/results.<fmt>")
@organizer_only
def export(fmt: str) -> Any:
    _contest, rnd = contest_and_round()
    if rnd is None or fmt not in RENDERERS:
        abort(404)
    return Response(
        RENDERERS[fmt](round_results(db.session, rnd)),
        mimetype=MIMETYPES[fmt],
        headers={"Content-Disposition": f"attachment; filename=results-round{rnd.position}.{fmt}"},
    )


@bp.route("/scores.<fmt>")
@organizer_only
def scores_download(fmt: str) -> Any:
    """Every judge's scores of the round, criterion by criterion."""
    _contest, rnd = contest_and_round()
    if rnd is None:
        abort(404)
    return spreadsheet_response(scores_table(db.session, rnd), fmt, f"scores-round{rnd.position}")


@bp.route("/publish", methods=["POST"])
@organizer_only
def publish() -> Any:
    _contest, rnd = contest_and_round()
    if rnd is None:
        abort(404)
    outcome = publish_with_decision(
        db.session, rnd, me(), request.form.get("digest"), request.form.get("note", "")
    )
    if isinstance(outcome, Pending):
        return ask(outcome, url_for(".publish"), _("确认发布"))
    flash(_("公示已发布，校验码 %(hash)s", hash=outcome.sha256[:16]), "success")
    return redirect(url_for(".index"))


def me() -> User:
    return db.session.get_one(User, current_user.id)
