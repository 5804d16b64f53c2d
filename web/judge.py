"""Judges: their assigned entries and the score form."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from judging.rounds import (
    RoundError,
    assigned_entries,
    current_round,
    declare_conflict,
    is_assigned,
    rubric_of,
)
from judging.rubric import ScoreError
from judging.scoring import locked, others_visible, save_score, score_of
from judging.submissions import current_contest
from storage.models import Entry, Role, User
from web.auth import roles_required
from web.entry_view import public_view
from web.extensions import db
from web.i18n import translate

bp = Blueprint("judge", __name__, url_prefix="/judge")
judge_only = roles_required(Role.JUDGE)


@bp.route("/")
@judge_only
def index() -> Any:
    contest = current_contest(db.session)
    rnd = current_round(db.session, contest) if contest else None
    entries = assigned_entries(db.session, rnd, current_user.id) if rnd else []
    scores = (
        {e.id: score_of(db.session, rnd, current_user.id, e.id) for e in entries} if rnd else {}
    )
    done = sum(1 for s in scores.values() if s is not None and s.submitted_at is not None)
    return render_template(
        "judge/index.html", contest=contest, round=rnd, entries=entries, scores=scores, done=done
    )


@bp.route("/entries/<int:entry_id>/conflict", methods=["POST"])
@judge_only
def conflict(entry_id: int) -> Any:
    """A judge declares a conflict: the entry leaves their list at once."""
    contest = current_contest(db.session)
    rnd = current_round(db.session, contest) if contest else None
    if rnd is None or not is_assigned(db.session, rnd, current_user.id, entry_id):
        abort(404)
    declare_conflict(
        db.session,
        db.session.get_one(User, current_user.id),
        db.session.get_one(Entry, entry_id),
        "declared",
    )
    flash(_("已申报回避，这件作品将由组委会另行安排评委"), "success")
    return redirect(url_for(".index"))


@bp.route("/entries/<int:entry_id>", methods=["GET", "POST"])
@judge_only
def score(entry_id: int) -> Any:
    contest = current_contest(db.session)
    rnd = current_round(db.session, contest) if contest else None
    # Unassigned and conflicted entries do not exist for a judge.
    if rnd is None or not is_assigned(db.session, rnd, current_user.id, entry_id):
        abort(404)
    entry = db.session.get_one(Entry, entry_id)
    rubric = rubric_of(rnd.contest)
    errors: dict[str, str] = {}
    sheet = {c.key: request.form.get(c.key, "") for c in rubric.criteria}
    if request.method == "POST":
        submit = request.form.get("action") == "submit"
        try:
            save_score(
                db.session,
                rnd,
                db.session.get_one(User, current_user.id),
                entry,
                sheet,
                request.form.get("comment", ""),
                submit,
                request.remote_addr or "",
            )
        except ScoreError as exc:
            errors = {k: translate(v) for k, v in exc.errors.items()}
            flash(_("请修改标红的分数后再保存"), "error")
        except RoundError as exc:
            flash(translate(exc.message), "error")
        else:
            flash(_("评分已提交") if submit else _("草稿已保存"), "success")
            return redirect(url_for(".score", entry_id=entry.id))
    own = score_of(db.session, rnd, current_user.id, entry.id)
    if request.method == "GET" and own is not None:
        sheet = {k: f"{v:g}" for k, v in (own.values or {}).items()}
    return render_template(
        "judge/score.html",
        entry=public_view(entry),
        identity=None if rnd.contest.blind else entry,
        rubric=rubric,
        sheet=sheet,
        errors=errors,
        comment=request.form.get("comment", own.comment if own else ""),
        own=own,
        others=others_visible(db.session, rnd, current_user.id, entry.id),
        locked=locked(rnd, own),
        round=rnd,
    )
