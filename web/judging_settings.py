"""Organizers' judging settings: rubric, aggregation, panels, award tiers, the 公示期."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from judging.aggregation import METHODS
from judging.contest_form import form_to_config, rubric_text, tiers_text
from judging.contest_setup import ContestConfigError, apply_config
from web.extensions import db
from web.judging_admin import bp, contest_and_round, organizer_only


@bp.route("/settings", methods=["GET", "POST"])
@organizer_only
def settings() -> Any:
    contest, _rnd = contest_and_round()
    if request.method == "POST":
        try:
            apply_config(db.session, form_to_config(contest.slug, request.form.to_dict()))
        except ContestConfigError as exc:
            db.session.rollback()
            flash(_("设置有误：%(problem)s", problem=str(exc)), "error")
        else:
            flash(_("评审设置已保存"), "success")
            return redirect(url_for(".index"))
    return render_template(
        "admin/contest_settings.html",
        contest=contest,
        methods=sorted(METHODS),
        tiers=tiers_text(contest.award_tiers),
        rubric=rubric_text(contest),
    )
