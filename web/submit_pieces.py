"""Contestants' photo, comic and story entries: add, caption, reorder and remove pieces, and
write a story's text. Every change is a POST (with the form token) answered by a redirect."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from judging.accept import accepted_kinds
from judging.pieces import CAPTION_LIMIT, move_piece, piece_limit, remove_piece, set_caption
from judging.stories import save_story
from judging.submissions import SubmissionError
from judging.works import piece_views, word_count
from storage.models import Entry, JobState, WorkType
from web.entry_view import job_reason_shown
from web.extensions import db, settings_of, store, upload_limit
from web.forms import CaptionForm, PiecesForm, StoryForm
from web.i18n import translate
from web.submit import bp, contestant_only, own_entry, wants_json
from web.uploads import accept_piece, publish

ENDED = (JobState.REJECTED, JobState.FAILED, JobState.CANCELLED)


@dataclass(frozen=True)
class PieceRow:
    """A piece as its owner manages it: its state, its thumbnail, its number of pages."""

    id: int
    position: int
    caption: str
    filename: str
    state: str  # processing, ready or refused
    thumbnail_url: str | None
    pages: int
    reason: str


def piece_rows(entry: Entry) -> list[PieceRow]:
    """The entry's pieces in order; a piece without images is refused if the job ended so."""
    job = entry.latest_job()
    refused = job is not None and job.state in ENDED
    rows = []
    for view in piece_views(entry):
        thumb = view.pages[0].best(480) if view.pages else None
        state = "ready" if view.ready else "refused" if refused else "processing"
        rows.append(
            PieceRow(
                id=view.piece.id,
                position=view.piece.position,
                caption=view.piece.caption,
                filename=view.piece.filename,
                state=state,
                thumbnail_url=store().presigned_url(thumb.bucket, thumb.object_key)
                if thumb
                else None,
                pages=len(view.pages),
                reason=job_reason_shown(job) if state == "refused" and job else "",
            )
        )
    return rows


def pieces_page(entry: Entry) -> dict[str, Any]:
    """What the entry page needs to manage a photo, comic or story entry's work."""
    if not entry.work_type.has_pieces:
        return {"pieces": []}
    settings = settings_of()
    accept = PiecesForm().files.render_kw["accept"]
    if WorkType.COMIC is entry.work_type:
        accept += ",application/pdf,.pdf"
    story = StoryForm(story_body=entry.story_body)
    return {
        "pieces": piece_rows(entry),
        "pieces_form": PiecesForm(),
        "caption_form": CaptionForm(),
        "story_form": story,
        "piece_accept": accept,
        "piece_limit": piece_limit(entry.work_type, settings),
        "image_mb": settings.image_max_bytes // 1024**2,
        "pdf_mb": settings.pdf_max_bytes // 1024**2,
        "takes_pdf": "pdf" in accepted_kinds(entry.work_type),
        "story_limit": settings.story_max_chars,
        "story_count": word_count(entry.story_body),
        "caption_limit": CAPTION_LIMIT,
    }


def _back(entry: Entry, anchor: str = "pieces") -> Any:
    return redirect(url_for(".entry", entry_id=entry.id, _anchor=anchor))


def _size(upload: FileStorage) -> int:
    stream = upload.stream
    size = stream.seek(0, 2)
    stream.seek(0)
    return size


@bp.route("/<int:entry_id>/pieces", methods=["POST"])
@upload_limit
@contestant_only
def add_pieces(entry_id: int) -> Any:
    item = own_entry(entry_id)
    files = [f for f in request.files.getlist("files") if f and f.filename]
    added, problems = 0, []
    if not files:
        problems.append(_("请先选择要上传的文件"))
    for upload in files:
        try:
            accept_piece(item, upload.stream, upload.filename or "", _size(upload))
        except SubmissionError as exc:
            problems.append(translate(exc.message))
        else:
            added += 1
    if added:
        flash(_("已上传 %(n)d 个文件，正在处理", n=added), "success")
    for problem in dict.fromkeys(problems):
        flash(problem, "error")
    if wants_json():  # the page's script reloads it, and the messages above show there
        return jsonify(added=added, errors=list(dict.fromkeys(problems))), 200 if added else 400
    return _back(item)


@bp.route("/<int:entry_id>/pieces/<int:piece_id>/caption", methods=["POST"])
@contestant_only
def caption(entry_id: int, piece_id: int) -> Any:
    item = own_entry(entry_id)
    form = CaptionForm()
    try:
        set_caption(db.session, item, piece_id, form.caption.data or "")
    except SubmissionError as exc:
        flash(translate(exc.message), "error")
    else:
        flash(_("说明已保存"), "success")
    return _back(item, f"piece-{piece_id}")


@bp.route("/<int:entry_id>/pieces/<int:piece_id>/move", methods=["POST"])
@contestant_only
def move(entry_id: int, piece_id: int) -> Any:
    item = own_entry(entry_id)
    step = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    current = next((p.position for p in item.pieces if p.id == piece_id), None)
    try:
        if step is None:
            raise SubmissionError(_("请用“上移”“下移”按钮调整顺序"))
        move_piece(db.session, item, piece_id, (current or 0) + step)
    except SubmissionError as exc:
        flash(translate(exc.message), "error")
    return _back(item, f"piece-{piece_id}")


@bp.route("/<int:entry_id>/pieces/<int:piece_id>/delete", methods=["POST"])
@contestant_only
def delete(entry_id: int, piece_id: int) -> Any:
    item = own_entry(entry_id)
    try:
        job = remove_piece(db.session, item, piece_id)
    except SubmissionError as exc:
        flash(translate(exc.message), "error")
    else:
        if job is not None:
            publish(job)
        flash(_("文件已删除"), "success")
    return _back(item)


@bp.route("/<int:entry_id>/story", methods=["POST"])
@contestant_only
def story(entry_id: int) -> Any:
    item = own_entry(entry_id)
    form = StoryForm()
    try:
        save_story(db.session, item, form.story_body.data or "", settings_of().story_max_chars)
    except SubmissionError as exc:
        db.session.rollback()
        flash(translate(exc.message), "error")
        form.story_body.errors = [translate(m) for m in exc.errors.values()]
        # The text stays in the box to be fixed: nothing typed is lost.
        return _story_again(item, form)
    flash(_("正文已保存"), "success")
    return _back(item, "story")


def _story_again(item: Entry, form: StoryForm) -> Any:
    from web.submit import entry_page  # the entry page, with the text as typed

    page = pieces_page(item)
    page["story_form"] = form
    page["story_count"] = word_count(form.story_body.data or "")
    return entry_page(item, page), 400
