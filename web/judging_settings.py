"""Organizers' judging settings: rubric, aggregation, panels, award tiers, the 公示期."""

from __future__ import annotations

from typing import Any

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from judging.aggregation import METHOD_HELP
from judging.contest_form import form_data, save_settings
from judging.contest_setup import scores_given
from judging.rubric import scale_warning
from web.extensions import db
from web.judging_admin import bp, contest_and_round, organizer_only
from web.settings_form import SettingsForm


@bp.route("/settings", methods=["GET", "POST"])
@organizer_only
def settings() -> Any:
    contest, _rnd = contest_and_round()
    form = SettingsForm() if request.method == "POST" else SettingsForm(data=form_data(contest))
    if form.validate_on_submit():
        problems = form.row_limit_problems() or save_settings(db.session, contest.slug, form.data)
        if not problems:
            flash(_("评审设置已保存"), "success")
            return redirect(url_for(".settings"))
        form.show_problems(problems)
        flash(_("设置未保存：请修改标红的项目后再保存"), "error")
    elif form.errors:  # only the CSRF token can fail here: the rules check the rest
        flash(_("页面已过期，请重新保存"), "error")
    page = make_response(
        render_template(
            "admin/contest_settings.html",
            form=form,
            contest=contest,
            help=METHOD_HELP,
            scored=scores_given(db.session, contest),
            scale_warning=scale_warning(contest),
        )
    )
    # The back button fetches the page again, showing what is saved, not an older copy.
    page.headers["Cache-Control"] = "no-store"
    return page
