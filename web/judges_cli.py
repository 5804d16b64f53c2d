"""`footprints judges ...`: the judges page's add, import and resend, from a terminal.

The links are printed once, as the page shows them; the rules are the page's
(`judging.judge_invitations`, `judging.judge_import`).
"""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from judging.judge_import import JudgeImportError, import_judges
from judging.judge_invitations import (
    FIELD_LABELS,
    IssuedLink,
    JudgeError,
    check_new_judge,
    create_judges,
    resend,
    validate_judge,
)
from judging.submissions import current_contest
from storage.models import Role, User
from web.extensions import db

judges_cli = AppGroup("judges", help="Judges: invite, import, resend invitations.")
BASE_URL = click.option(
    "--base-url",
    default="http://127.0.0.1:5000",
    show_default=True,
    help="The site's address as judges reach it, for the links.",
)


def _districts() -> list[str]:
    contest = current_contest(db.session)
    return list(contest.districts or []) if contest else []


def _print_links(links: list[IssuedLink], base_url: str) -> None:
    click.echo("Activation links (name, user name, phone, link); shown this once:")
    for link in links:
        user = link.user
        url = f"{base_url.rstrip('/')}/auth/activate/{link.token}"
        click.echo(f"  {user.display_name}\t{user.username}\t{user.phone}\t{url}")


@judges_cli.command("invite")
@click.argument("name")
@click.option("--phone", required=True)
@click.option("--unit", default="")
@click.option("--district", default="")
@click.option("--email", default="")
@click.option("--username", default="")
@BASE_URL
def judges_invite(
    name: str, phone: str, unit: str, district: str, email: str, username: str, base_url: str
) -> None:
    """Add one judge and print their activation link."""
    data = {"display_name": name, "phone": phone, "unit": unit, "district": district}
    data |= {"email": email, "username": username}
    try:
        fields = validate_judge(data, _districts())
        check_new_judge(db.session, fields)
        links = create_judges(db.session, [fields], None)
    except JudgeError as exc:
        problems = [f"{FIELD_LABELS[k]}：{v}" for k, v in exc.errors.items()] or [exc.message]
        raise click.ClickException("；".join(problems)) from exc
    _print_links(links, base_url)


@judges_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@BASE_URL
def judges_import(path: str, base_url: str) -> None:
    """Add the judges of a CSV (UTF-8 or GBK) or XLSX file, all or none (see README)."""
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        result = import_judges(db.session, data, None, _districts())
    except JudgeImportError as exc:
        for p in exc.problems:
            click.echo(f"第 {p.line} 行：{p.message}" if p.line else p.message, err=True)
        click.echo(f"未导入任何评委 (nothing imported: {len(exc.problems)} problems)")
        sys.exit(1)
    for line, judge in result.existing:
        click.echo(f"第 {line} 行：{judge.display_name}（{judge.username}）已在名单中，未改动")
    click.echo(f"已导入 {len(result.created)} 位评委 ({len(result.created)} judges imported)")
    if result.created:
        _print_links(result.created, base_url)


@judges_cli.command("resend")
@click.argument("username")
@BASE_URL
def judges_resend(username: str, base_url: str) -> None:
    """A new activation link for a judge who has not activated; the old one stops working."""
    judge = db.session.scalar(
        select(User).where(User.username == username, User.role == Role.JUDGE)
    )
    if judge is None:
        raise click.ClickException(f"no judge {username!r}")
    try:
        link = resend(db.session, judge, None)
    except JudgeError as exc:
        raise click.ClickException(exc.message) from exc
    _print_links([link], base_url)
