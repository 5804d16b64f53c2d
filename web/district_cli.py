"""`footprints districts ...`: district organizers' accounts from a terminal, as the city
organizer's 县区推荐 page makes them (`judging.district_accounts`)."""

from __future__ import annotations

import secrets

import click
from flask.cli import AppGroup

from judging.district_accounts import (
    AccountError,
    DistrictAccount,
    create_district_account,
    district_accounts,
)
from judging.submissions import current_contest
from web.auth import hash_password
from web.extensions import db

districts_cli = AppGroup("districts", help="District organizers (县区团委): add, list.")
FIELDS = {"username": "用户名", "display_name": "单位名称", "district": "所属县区"}


@districts_cli.command("add")
@click.argument("username")
@click.option("--district", required=True, help="One of the current contest's districts.")
@click.option("--name", "display_name", required=True, help="The organisation, e.g. 历下区团委.")
def districts_add(username: str, district: str, display_name: str) -> None:
    """Add a district organizer's account bound to DISTRICT and print its password once."""
    password = secrets.token_urlsafe(12)
    fields = DistrictAccount(username, display_name, district)
    try:
        user = create_district_account(
            db.session, current_contest(db.session), fields, hash_password(password)
        )
    except AccountError as exc:
        problems = [f"{FIELDS[k]}：{v}" for k, v in exc.errors.items()]
        raise click.ClickException("；".join(problems)) from exc
    click.echo("District account (user name, district, password); shown this once:")
    click.echo(f"  {user.username}\t{user.district}\t{password}")


@districts_cli.command("list")
def districts_list() -> None:
    """Every district organizer's account: user name, district, organisation."""
    for user in district_accounts(db.session):
        click.echo(f"{user.username}\t{user.district or '-'}\t{user.display_name}")
