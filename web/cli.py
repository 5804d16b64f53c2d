"""The `footprints` command: Flask's CLI plus our own commands."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup, FlaskGroup, with_appcontext

from storage.database import upgrade
from storage.objects import ObjectStore, ObjectStoreError
from storage.settings import Settings, settings_table
from web.demo import seed_demo
from web.demo_report import seed_demo_report
from web.demo_works import seed_demo_works
from web.district_cli import districts_cli
from web.extensions import db, settings_of
from web.judges_cli import judges_cli
from worker.ops.report import format_status, orphan_status, size_text

EXIT_REFUSED = 3

db_cli = AppGroup("db", help="Database migrations.")
storage_cli = click.Group("storage", help="The S3 object store.")
ops_cli = AppGroup("ops", help="The worker fleet: queues, workers, jobs.")
media_cli = click.Group("media", help="Run the media pipeline on local files.")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema."""
    upgrade(settings_of().database_url)
    click.echo("database is up to date")


@storage_cli.command("init")
def storage_init() -> None:
    """Create the S3 buckets where missing."""
    try:
        ObjectStore(Settings.from_env()).ensure_buckets()
    except ObjectStoreError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo("buckets are ready")


@click.command("demo", help="Create the demo contest and one account per role.")
@with_appcontext
@click.option(
    "--accounts-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write new demo passwords to this file (mode 600).",
)
def demo(accounts_file: str | None) -> None:
    accounts = seed_demo(db.session)
    click.echo("".join(f"Demo work queued: {t}\n" for t in seed_demo_works(db.session)), nl=False)
    if report := seed_demo_report(db.session):
        click.echo(f"Demo activity report adopted: {report}")
    new = [a for a in accounts if a.password]
    lines = [f"  {a.role.value:<11} {a.username:<18} {a.password}" for a in new]
    if lines:
        click.echo("Demo accounts (role, username, password); shown this once:")
        click.echo("\n".join(lines))
        if accounts_file:
            fd = os.open(accounts_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as fh:
                fh.write("\n".join(lines) + "\n")
    else:
        where = f" (passwords in {accounts_file})" if accounts_file else ""
        click.echo(
            f"Demo accounts already exist{where}: " + ", ".join(a.username for a in accounts)
        )


@click.command("settings", help="Print every setting as a Markdown table.")
def settings_cmd() -> None:
    click.echo(settings_table())


@ops_cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def ops_status(as_json: bool) -> None:
    """Queues, workers and jobs by state, as the ops page shows them."""
    from web.extensions import store
    from worker.celery_app import celery
    from worker.ops.status import fleet_status

    data = fleet_status(db.session, celery, settings_of()).as_dict()
    data["orphans"] = orphan_status(db.session, store())
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(format_status(data))


@ops_cli.command("sweep")
@click.option("--dry-run", is_flag=True, help="Only say what would be removed.")
def ops_sweep(dry_run: bool) -> None:
    """Remove replaced originals, and stored objects no row names once a day old."""
    from storage.retention import prune_all, sweep_orphans
    from web.extensions import store

    pruned = 0 if dry_run else prune_all(db.session, store())
    try:
        report = sweep_orphans(db.session, store(), dry_run=dry_run)
    except ObjectStoreError as exc:
        raise click.ClickException(f"S3: {exc}") from exc
    verb = "would remove" if dry_run else "removed"
    kept = report.orphans - report.removable
    click.echo(
        f"{verb} {report.removed} objects ({size_text(report.removed_bytes)}) that no row names "
        f"and {report.removed_parts} abandoned multipart uploads; {kept} younger than a day kept"
        + ("" if dry_run else f"; {pruned} objects of replaced originals removed")
    )
    for error in report.errors:
        click.echo(f"! {error}", err=True)
    if report.errors:
        sys.exit(1)


@ops_cli.command("retry")
@click.argument("job_id", type=int)
def ops_retry(job_id: int) -> None:
    """Run a failed, rejected, cancelled or stuck job again from the start."""
    from worker.dispatch import requeue_job

    sent = requeue_job(db.session, _job(job_id))
    click.echo(f"job {job_id} requeued" + ("" if sent else "; the broker is down, it stays queued"))


@ops_cli.command("cancel")
@click.argument("job_id", type=int)
def ops_cancel(job_id: int) -> None:
    """Cancel a queued or running job (revokes its task and kills its ffmpeg)."""
    from worker.celery_app import celery
    from worker.dispatch import cancel_job

    if not cancel_job(db.session, _job(job_id), celery.control):
        raise click.ClickException(f"job {job_id} has already finished")
    click.echo(f"job {job_id} cancelled")


@ops_cli.command("republish")
def ops_republish() -> None:
    """Send queued jobs that never reached the broker."""
    from web.ops import unpublished_jobs
    from web.uploads import publish

    jobs = unpublished_jobs()
    sent = sum(publish(job) for job in jobs)
    click.echo(f"republished {sent} of {len(jobs)} jobs")


def _job(job_id: int) -> Any:
    from storage.models import Job

    job = db.session.get(Job, job_id)
    if job is None:
        raise click.ClickException(f"no job {job_id}")
    return job


contest_cli = AppGroup("contest", help="Contests.")


@contest_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def contest_import(path: str) -> None:
    """Create or update a contest from a YAML or JSON file (see README)."""
    from judging.contest_setup import ContestConfigError, apply_config

    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    try:
        if path.endswith((".yaml", ".yml")):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except (ValueError, ImportError) as exc:
        raise click.ClickException(f"{path}: {exc}") from exc
    if not isinstance(data, dict):
        raise click.ClickException(f"{path}: expected a mapping of settings")
    try:
        contest = apply_config(db.session, data)
    except ContestConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"contest {contest.slug} saved")


scores_cli = AppGroup("scores", help="Judges' scores.")


@scores_cli.command("import")
@click.argument("contest_slug")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def scores_import(contest_slug: str, path: str) -> None:
    """Submit paper scores from a CSV (UTF-8 or GBK) or XLSX file, all rows or none (README)."""
    from sqlalchemy import select

    from judging.rounds import current_round
    from judging.score_import import import_scores
    from storage.models import Contest, Role, User

    contest = db.session.scalar(select(Contest).where(Contest.slug == contest_slug))
    rnd = current_round(db.session, contest) if contest else None
    if rnd is None:
        raise click.ClickException(f"no contest {contest_slug!r} with a judging round")
    importer = db.session.scalar(select(User).where(User.role == Role.ORGANIZER))
    if importer is None:
        raise click.ClickException("an organizer account must exist to sign the import")
    with open(path, "rb") as fh:
        outcome = import_scores(db.session, rnd, fh.read(), importer)
    for problem in outcome.problems:
        click.echo(problem, err=True)
    if outcome.problems:
        click.echo(
            f"未导入任何评分：{len(outcome.problems)} 处问题，改正后请重新导入整个文件"
            f" (nothing imported: {len(outcome.problems)} problems)"
        )
        sys.exit(1)
    click.echo(f"已导入 {outcome.saved} 条评分 ({outcome.saved} scores imported)")


@click.command("results", help="Print or write a contest's results (its current round).")
@click.argument("contest_slug")
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "xlsx"]), default="csv")
@click.option("--out", type=click.Path(dir_okay=False), default=None)
@with_appcontext
def results_cmd(contest_slug: str, fmt: str, out: str | None) -> None:
    from sqlalchemy import select

    from judging.panels import round_results
    from judging.results import RENDERERS
    from judging.rounds import current_round
    from storage.models import Contest

    contest = db.session.scalar(select(Contest).where(Contest.slug == contest_slug))
    if contest is None:
        raise click.ClickException(f"no contest {contest_slug!r}")
    rnd = current_round(db.session, contest)
    if rnd is None:
        raise click.ClickException("the contest has no judging round yet")
    rows = round_results(db.session, rnd)  # unscored and short entries too, flagged
    data = RENDERERS[fmt](rows)
    if out:
        payload = data if isinstance(data, bytes) else data.encode("utf-8")
        with open(out, "wb") as fh:
            fh.write(payload)
        click.echo(f"{len(rows)} entries written to {out}")
    elif isinstance(data, bytes):
        raise click.ClickException("xlsx needs --out FILE")
    else:
        click.echo(data)


@click.command(
    "import",
    help="Import entries collected offline: DIR/manifest.csv and its files (videos; photos, "
    "comic pages or PDFs separated by ';'; a story's text file), by the column 作品类型.",
)
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--contest", "contest_slug", default=None, help="Contest slug (default: newest).")
@click.option(
    "--owner", default=None, help="Organizer account that owns the entries (default: first)."
)
@with_appcontext
def import_cmd(directory: Path, contest_slug: str | None, owner: str | None) -> None:
    from sqlalchemy import select

    from judging.bulk_import import Importer, ManifestError, read_manifest, summary
    from judging.submissions import current_contest
    from storage.models import Contest, Role, User
    from web.extensions import store
    from worker.dispatch import publish_job

    try:
        rows = read_manifest(directory)
    except ManifestError as exc:
        raise click.ClickException(str(exc)) from exc
    if contest_slug:
        contest = db.session.scalar(select(Contest).where(Contest.slug == contest_slug))
    else:
        contest = current_contest(db.session)
    if contest is None:
        raise click.ClickException(f"no contest {contest_slug or ''!r}; create it first")
    query = select(User).where(User.role == Role.ORGANIZER).order_by(User.id)
    if owner:
        query = query.where(User.username == owner)
    account = db.session.scalar(query.limit(1))
    if account is None:
        raise click.ClickException(f"no organizer account {owner or ''!r} to own the entries")
    importer = Importer(
        db.session, store(), settings_of(), contest, account, directory, publish_job
    )
    outcomes = []
    with click.progressbar(
        rows,
        label=f"导入作品 ({len(rows)} rows)",
        item_show_func=lambda row: f"line {row.line}" if row else None,
    ) as bar:
        for row in bar:
            outcomes.append(importer.run(row))
    click.echo(summary(outcomes))
    if any(outcome.status == "refused" for outcome in outcomes):
        sys.exit(1)


@media_cli.command("probe")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def media_probe(path: str) -> None:
    """Probe a file and say whether the pipeline accepts it (exit 3 when refused)."""
    from worker.media.limits import MediaLimits
    from worker.media.probe import probe
    from worker.media.refusal import MediaRefused

    settings = Settings.from_env()
    try:
        info = probe(path, MediaLimits.from_settings(settings), settings.ffprobe_bin)
    except MediaRefused as refusal:
        click.echo(json.dumps(_refusal(refusal), ensure_ascii=False))
        sys.exit(EXIT_REFUSED)
    click.echo(json.dumps({"ok": True, **info.as_dict()}, ensure_ascii=False))


@media_cli.command("process")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
@click.option("--entry-number", type=int, default=None)
def media_process(path: str, out_dir: str, entry_number: int | None) -> None:
    """Run the worker's pipeline on a local file, writing assets and manifest.json."""
    from worker.media.pipeline import process_file
    from worker.media.refusal import MediaRefused

    os.makedirs(out_dir, exist_ok=True)
    try:
        manifest = process_file(path, out_dir, Settings.from_env(), entry_number)
    except MediaRefused as refusal:
        click.echo(json.dumps(_refusal(refusal), ensure_ascii=False))
        sys.exit(EXIT_REFUSED)
    manifest.write(out_dir)
    click.echo(json.dumps({"ok": True, **manifest.as_dict()}, ensure_ascii=False))


def _refusal(refusal: object) -> dict[str, object]:
    return {
        "ok": False,
        "code": getattr(refusal, "code", ""),
        "reason": getattr(refusal, "reason", str(refusal)),
    }


def register_commands(app: Flask) -> None:
    """Add our commands to the app's CLI (and so to `footprints` and `flask`)."""
    for command in (
        judges_cli,
        districts_cli,
        db_cli,
        storage_cli,
        ops_cli,
        media_cli,
        contest_cli,
        scores_cli,
        demo,
        settings_cmd,
        results_cmd,
        import_cmd,
    ):
        app.cli.add_command(command)


def _create_app() -> Flask:
    from web import create_app

    return create_app()


cli = FlaskGroup(create_app=_create_app, help="Footprints (青春足迹) command line.")


def main() -> None:
    """Entry point of the `footprints` console script."""
    # Temporary files of the CLI's own runs go where workers put theirs.
    tempfile.tempdir = Settings.from_env().work_dir or None
    cli.main()


if __name__ == "__main__":
    main()
