"""Judges: their assigned entries and the score form.

Judges know an entry only by its anonymous code in the round (`judging.codes`): the URLs,
pages and player below never carry its id (the gallery's `/gallery/<id>`) or its number.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from judging.access import Context, can_judge, can_view_identity, entry_view
from judging.codes import entry_by_code
from judging.rounds import RoundError, current_round, declare_conflict, is_assigned
from judging.rubric import ScoreError, rubric_for
from judging.scoring import (
    by_progress,
    can_reopen,
    desk,
    final,
    locked,
    next_to_score,
    reopen_score,
    reveal_others,
    save_score,
    score_of,
)
from judging.story_text import story_filename, story_text
from judging.submissions import current_contest
from storage.models import AssetKind, Entry, MediaAsset, Role, Round, User, WorkType
from web.auth import roles_required
from web.errors import wants_json
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
from web.work_view import page_name, send_page_image, work_view
from web.works import text_file

bp = Blueprint("judge", __name__, url_prefix="/judge")
judge_only = roles_required(Role.JUDGE)


@bp.after_request
def no_copies(response: Response) -> Response:
    """The desk and the score form change with every save: the back button must show them
    as they are now, never a kept copy (the player's media keep their own caching)."""
    if response.mimetype in ("text/html", "application/json"):
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/")
@judge_only
def index() -> Any:
    contest = current_contest(db.session)
    rnd = current_round(db.session, contest) if contest else None
    rows = desk(db.session, rnd, current_user.id) if rnd else []
    return render_template(
        "judge/index.html",
        contest=contest,
        round=rnd,
        rows=by_progress(rows),
        done=sum(1 for row in rows if row.state == "submitted"),
    )


def assigned(code: str) -> tuple[Round, Entry]:
    """The current round and the entry behind `code`, if the judge scores it; else 404."""
    contest = current_contest(db.session)
    rnd = current_round(db.session, contest) if contest else None
    entry = entry_by_code(db.session, rnd, code) if rnd else None
    # Unassigned, conflicted and unknown entries do not exist for a judge.
    if rnd is None or entry is None or not is_assigned(db.session, rnd, current_user.id, entry.id):
        abort(404)
    if not can_judge(entry_view(current_user, entry, Context(judging=rnd))):
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
    """The score form. A POST saves a draft or submits; the page's script posts it in the
    background (asking for JSON) so the video keeps playing, and swaps in the new sheet."""
    rnd, entry = assigned(code)
    if request.method == "GET":
        return render_template("judge/score.html", **sheet_context(rnd, entry, code))
    submit = request.form.get("action") == "submit"
    sheet = {c.key: request.form.get(c.key, "") for c in rubric_for(rnd.contest, entry).criteria}
    comment = request.form.get("comment", "")
    try:
        save_score(
            db.session,
            rnd,
            db.session.get_one(User, current_user.id),
            entry,
            sheet,
            comment,
            submit,
            request.remote_addr or "",
        )
    except ScoreError as exc:
        errors = {k: translate(v) for k, v in exc.errors.items()}
        notice = _("请修改标红的分数后再保存")
        return answer(rnd, entry, code, notice, 422, sheet=sheet, comment=comment, errors=errors)
    except RoundError as exc:
        return answer(rnd, entry, code, translate(exc.message), 409)
    return saved(rnd, entry, code, _("评分已提交") if submit else _("草稿已保存"))


@bp.route("/entries/<code>/reopen", methods=["POST"])
@judge_only
def reopen(code: str) -> Any:
    """修改评分: the judge takes their submitted score back to a draft, where the rules allow."""
    rnd, entry = assigned(code)
    judge = db.session.get_one(User, current_user.id)
    try:
        reopen_score(db.session, rnd, judge, entry, request.remote_addr or "")
    except RoundError as exc:
        return answer(rnd, entry, code, translate(exc.message), 409)
    return saved(rnd, entry, code, _("评分已重新打开，可以修改了"))


def saved(rnd: Round, entry: Entry, code: str, message: str) -> Any:
    """After a change: the new sheet for the script, else the page again (a reload then
    repeats nothing)."""
    if wants_json():
        context = sheet_context(rnd, entry, code, notice=(message, "success"))
        return jsonify(html=render_template("judge/_sheet.html", **context), message=message)
    flash(message, "success")
    return redirect(url_for(".score", code=code))


def answer(rnd: Round, entry: Entry, code: str, message: str, status: int, **typed: Any) -> Any:
    """A refused change: the sheet with what was typed and the reasons next to the fields."""
    context = sheet_context(rnd, entry, code, notice=(message, "error"), **typed)
    if wants_json():
        html = render_template("judge/_sheet.html", **context)
        return jsonify(html=html, message=message, errors=typed.get("errors", {})), status
    return render_template("judge/score.html", **context), status


def sheet_context(
    rnd: Round,
    entry: Entry,
    code: str,
    notice: tuple[str, str] | None = None,
    sheet: dict[str, str] | None = None,
    comment: str | None = None,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    """What the score page shows: the sheet as stored (or as typed), its state, the next
    entry to score and, where the reveal rule allows, the other judges' scores."""
    rubric = rubric_for(rnd.contest, entry)
    own = score_of(db.session, rnd, current_user.id, entry.id)
    if sheet is None:
        sheet = {k: f"{v:g}" for k, v in (own.values or {}).items()} if own else {}
    # First: showing the others' scores is what makes a submitted score final.
    others = reveal_others(db.session, rnd, current_user.id, entry.id)
    rows = desk(db.session, rnd, current_user.id)
    # Called for an entry `assigned` found: the user judges it in `rnd`.
    view = entry_view(current_user, entry, Context(judging=rnd))
    this = next((row for row in rows if row.entry.id == entry.id), None)
    return {
        "entry": judge_view(entry, code),
        "identity": entry if can_view_identity(view) else None,
        "rubric": rubric,
        "weights": {
            "max_total": rubric.max_total,
            "criteria": [
                {"key": c.key, "max": c.max_points, "weight": c.weight} for c in rubric.criteria
            ],
            "texts": {
                "missing": _("（还有 {n} 项未打分）"),
                "failed": _("保存失败，请检查网络后重试；已填写的内容仍在页面上"),
                "signed_out": _("登录已失效，未能保存：请在新标签页中重新登录，再回到这里保存"),
            },
        },
        "sheet": sheet,
        "errors": errors or {},
        "comment": own.comment if comment is None and own else (comment or ""),
        "own": own,
        "reopened": bool(this and this.reopened),
        "others": others,
        "locked": locked(rnd, own),
        "final": final(own),
        "reopenable": can_reopen(rnd, own),
        "next_row": next_to_score(rows, entry.id),
        "done": sum(1 for row in rows if row.state == "submitted"),
        "total": len(rows),
        "round": rnd,
        "notice": notice,
    }


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
    return {
        "code": code,
        "title": entry.title,
        "summary": entry.summary,
        "media": media,
        "work": judge_work(entry, code),
    }


def judge_work(entry: Entry, code: str) -> dict[str, Any]:
    """The work partial's view for a judge: images and the story's text under the code."""

    def url(number: int, size: int, asset: MediaAsset) -> str:
        name = page_name(number, size)
        return url_for(".page_image", code=code, filename=name, v=asset.sha256[:12])

    text = url_for(".story", code=code) if entry.work_type is WorkType.STORY else None
    return work_view(entry, url, text)


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


@bp.route("/entries/<code>/pages/<filename>")
@judge_only
def page_image(code: str, filename: str) -> Any:
    """A photo's or comic page's watermarked image, named by its place, never by its key."""
    _rnd, entry = assigned(code)
    return send_page_image(entry, filename)


@bp.route("/entries/<code>/story.txt")
@judge_only
def story(code: str) -> Any:
    """A story's plain text (title, 字数, body) named by the code alone, whatever the blind."""
    _rnd, entry = assigned(code)
    if entry.work_type is not WorkType.STORY:
        abort(404)
    return text_file(story_text(entry, code, translate), story_filename(entry, code))
