"""Judges: their assigned entries and the score form.

Judges know an entry only by its anonymous code in the round (`judging.codes`): the URLs,
pages and player below never carry its id (the gallery's `/gallery/<id>`) or its number.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from judging.codes import ensure_codes, entry_by_code
from judging.rounds import (
    RoundError,
    assigned_entries,
    current_round,
    declare_conflict,
    is_assigned,
    rubric_of,
)
from judging.rubric import ScoreError
from judging.scoring import final, locked, reveal_others, save_score, score_of
from judging.submissions import current_contest
from storage.models import AssetKind, Entry, MediaAsset, Role, Round, User
from web.auth import roles_required
from web.extensions import db
from web.i18n import translate
from web.media import (
    default_rendition,
    send_asset,
    shown_assets,
    shown_poster,
    shown_renditions,
    storyboard_vtt,
)

bp = Blueprint("judge", __name__, url_prefix="/judge")
judge_only = roles_required(Role.JUDGE)


@bp.route("/")
@judge_only
def index() -> Any:
    contest = current_contest(db.session)
    rnd = current_round(db.session, contest) if contest else None
    entries = assigned_entries(db.session, rnd, current_user.id) if rnd else []
    # Codes are drawn when entries are assigned; this covers rounds assigned before that.
    codes = ensure_codes(db.session, rnd, [e.id for e in entries]) if rnd else {}
    # In code order: the order of numbers would say something about them.
    entries = sorted((e for e in entries if e.id in codes), key=lambda e: codes[e.id])
    scores = (
        {e.id: score_of(db.session, rnd, current_user.id, e.id) for e in entries} if rnd else {}
    )
    done = sum(1 for s in scores.values() if s is not None and s.submitted_at is not None)
    return render_template(
        "judge/index.html",
        contest=contest,
        round=rnd,
        entries=entries,
        codes=codes,
        scores=scores,
        done=done,
    )


def assigned(code: str) -> tuple[Round, Entry]:
    """The current round and the entry behind `code`, if the judge scores it; else 404."""
    contest = current_contest(db.session)
    rnd = current_round(db.session, contest) if contest else None
    entry = entry_by_code(db.session, rnd, code) if rnd else None
    # Unassigned, conflicted and unknown entries do not exist for a judge.
    if rnd is None or entry is None or not is_assigned(db.session, rnd, current_user.id, entry.id):
        abort(404)
    return rnd, entry


@bp.route("/entries/<code>/conflict", methods=["POST"])
@judge_only
def conflict(code: str) -> Any:
    """A judge declares a conflict: the entry leaves their list at once."""
    _rnd, entry = assigned(code)
    declare_conflict(db.session, db.session.get_one(User, current_user.id), entry, "declared")
    flash(_("已申报回避，这件作品将由组委会另行安排评委"), "success")
    return redirect(url_for(".index"))


@bp.route("/entries/<code>", methods=["GET", "POST"])
@judge_only
def score(code: str) -> Any:
    rnd, entry = assigned(code)
    rubric = rubric_of(rnd.contest)
    errors: dict[str, str] = {}
    sheet = {c.key: request.form.get(c.key, "") for c in rubric.criteria}
    if request.method == "POST":
        submit = request.form.get("action") == "submit"
        comment = request.form.get("comment", "")
        judge = db.session.get_one(User, current_user.id)
        address = request.remote_addr or ""
        try:
            save_score(db.session, rnd, judge, entry, sheet, comment, submit, address)
        except ScoreError as exc:
            errors = {k: translate(v) for k, v in exc.errors.items()}
            flash(_("请修改标红的分数后再保存"), "error")
        except RoundError as exc:
            flash(translate(exc.message), "error")
        else:
            flash(_("评分已提交") if submit else _("草稿已保存"), "success")
            return redirect(url_for(".score", code=code))
    own = score_of(db.session, rnd, current_user.id, entry.id)
    if request.method == "GET" and own is not None:
        sheet = {k: f"{v:g}" for k, v in (own.values or {}).items()}
    others = reveal_others(db.session, rnd, current_user.id, entry.id)
    return render_template(
        "judge/score.html",
        entry=judge_view(entry, code),
        identity=None if rnd.contest.blind else entry,
        rubric=rubric,
        sheet=sheet,
        errors=errors,
        comment=request.form.get("comment", own.comment if own else ""),
        own=own,
        others=others,
        locked=locked(rnd, own),
        final=final(own),
        round=rnd,
    )


def judge_view(entry: Entry, code: str) -> dict[str, Any]:
    """What a judge sees of an entry: its code, title, summary and the player's URLs, all
    under the code."""
    media = None
    if default_rendition(shown_renditions(entry)) is not None:
        has_storyboard = bool(shown_assets(entry, AssetKind.STORYBOARD_VTT))
        media = {
            "video_url": url_for(".video", code=code),
            "poster_url": url_for(".poster", code=code) if shown_poster(entry) else None,
            "storyboard_url": url_for(".storyboard", code=code) if has_storyboard else None,
        }
    return {"code": code, "title": entry.title, "summary": entry.summary, "media": media}


def _found(asset: MediaAsset | None) -> MediaAsset:
    if asset is None:
        abort(404)
    return asset


@bp.route("/entries/<code>/video")
@judge_only
def video(code: str) -> Any:
    _rnd, entry = assigned(code)
    return send_asset(
        _found(default_rendition(shown_renditions(entry))), request.headers.get("Range")
    )


@bp.route("/entries/<code>/poster")
@judge_only
def poster(code: str) -> Any:
    _rnd, entry = assigned(code)
    return send_asset(_found(shown_poster(entry)), None)


@bp.route("/entries/<code>/storyboard.vtt")
@judge_only
def storyboard(code: str) -> Any:
    _rnd, entry = assigned(code)
    return storyboard_vtt(entry, url_for(".storyboard_sheet", code=code))


@bp.route("/entries/<code>/storyboard.jpg")
@judge_only
def storyboard_sheet(code: str) -> Any:
    _rnd, entry = assigned(code)
    sheets = shown_assets(entry, AssetKind.STORYBOARD)
    return send_asset(_found(sheets[0] if sheets else None), None)
