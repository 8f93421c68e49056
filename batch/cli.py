"""``eduscribe-batch``: turn a course CSV into study notes. Thin: the work is in batch.runner."""

from __future__ import annotations

import functools
import logging
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from eduscribe_sdk import Client, EduscribeError, InvalidInputError, JobRecord, JobStatus, Tier

from . import runner
from .display import open_display
from .rows import BatchInvalidError, type_alias

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])
EXIT_INVALID = 2
EXIT_INTERRUPTED = 130


class InvalidUsage(click.ClickException):
    exit_code = EXIT_INVALID


def _handle_errors(command: F) -> F:
    """Library errors become messages and the SPEC's exit codes, never tracebacks."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except BatchInvalidError as exc:
            click.echo(f"Error: {exc}", err=True)
            click.echo("Nothing was enqueued.", err=True)
            raise SystemExit(EXIT_INVALID) from None
        except (InvalidInputError, runner.BatchNotFoundError) as exc:
            raise InvalidUsage(str(exc)) from None
        except EduscribeError as exc:
            raise click.ClickException(str(exc)) from None
        except ValueError as exc:  # settings from the environment (e.g. WORKER_MAX_CONCURRENT_JOBS=x)
            raise click.ClickException(str(exc)) from None
        except OSError as exc:  # e.g. an --out folder that cannot be written
            where = f"{exc.filename}: " if exc.filename else ""
            raise click.ClickException(f"{where}{exc.strerror or exc}") from None

    return cast(F, wrapper)


redis_option = click.option(
    "--redis",
    "redis_url",
    envvar="EDUSCRIBE_REDIS_URL",
    metavar="URL",
    help="Redis of a deployment (redis://, rediss://, unix://). Default: $EDUSCRIBE_REDIS_URL, "
    "else the embedded Redis in $EDUSCRIBE_HOME.",
)
user_option = click.option(
    "--user", "user_id", metavar="USER", help="Owner of the jobs (default: your login)."
)
rows_option = click.option(
    "--row", "row_ids", multiple=True, metavar="ID", help="Only this row (repeatable)."
)


@contextmanager
def _client(
    redis_url: str | None, *, workers: int | None = 0, user_id: str | None = None
) -> Iterator[Client]:
    if redis_url is None and workers is None:
        client = Client(user_id=user_id)  # embedded: WORKER_MAX_CONCURRENT_JOBS slots
    else:
        client = Client(redis_url, user_id=user_id, workers=workers or 0)
    with client:
        yield client


def _echo_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows, strict=True)]
    for line in [header, *rows]:
        click.echo(
            "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="eduscribe-sdk")
@click.option("-v", "--verbose", is_flag=True, help="Show the workers' logs (tracebacks of failed attempts).")
def main(verbose: bool) -> None:
    """Turn a course CSV into study notes, in dependency order.

    \b
    Example:
      eduscribe-batch validate course.csv
      eduscribe-batch run course.csv --out notes/
      eduscribe-batch status course.csv
    """
    if not verbose:
        # A failed attempt is reported in the summary and in results.csv; dramatiq's
        # traceback for each one would bury the progress view.
        logging.getLogger("dramatiq").setLevel(logging.CRITICAL)


@main.command()
@click.argument("csv_path", metavar="CSV", type=click.Path(dir_okay=False, path_type=Path))
@redis_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where notes go [default: ./<csv stem>-notes/].",
)
@user_option
@click.option(
    "--workers",
    type=click.IntRange(0, 64),
    help="In-process job slots. Default: $WORKER_MAX_CONCURRENT_JOBS (3) when embedded, "
    "0 with --redis (the deployment's workers run the jobs).",
)
@click.option("--no-wait", is_flag=True, help="Enqueue, print the batch id and return.")
@click.option("--dry-run", is_flag=True, help="Check everything and show the plan; enqueue nothing.")
@click.option(
    "--fresh",
    is_flag=True,
    help="Start a new batch instead of resuming (cancels the old one's unfinished jobs).",
)
@click.option("--allow-outside", is_flag=True, help="Accept source paths outside the CSV's folder.")
@click.option(
    "--max-retries",
    type=click.IntRange(0, 100),
    help="Retries per job after a transient error (network, rate limit) [default: 3].",
)
@click.option(
    "--progress/--no-progress", "live", default=None, help="Live progress view [default: on a terminal]."
)
@click.pass_context
@_handle_errors
def run(
    ctx: click.Context,
    csv_path: Path,
    redis_url: str | None,
    out_dir: Path | None,
    user_id: str | None,
    workers: int | None,
    no_wait: bool,
    dry_run: bool,
    fresh: bool,
    allow_outside: bool,
    max_retries: int | None,
    live: bool | None,
) -> None:
    """Run every row of CSV as a job; re-running the same CSV resumes it.

    Completed rows whose content did not change are not redone; failed, skipped and
    cancelled rows are retried. Exit code: 0 all rows completed, 1 some failed or were
    skipped, 2 invalid CSV (nothing enqueued), 130 interrupted (run again to resume).

    \b
    Example:
      eduscribe-batch run batch/examples/course.csv --out course-notes/
      eduscribe-batch run course.csv --redis redis://queue.internal:6379/0 --no-wait
    """
    if redis_url is not None and workers is None:
        workers = 0
    if dry_run or no_wait:
        workers = 0
    out_dir = out_dir or Path(f"{csv_path.stem}-notes")
    with _client(redis_url, workers=workers, user_id=user_id) as client:
        plan = runner.plan_batch(
            client,
            csv_path,
            user_id=user_id,
            allow_outside=allow_outside,
            fresh=fresh,
            max_retries=max_retries,
        )
        if dry_run:
            _show_plan(plan, runner.preview(client, plan))
            return
        started = time.monotonic()
        result = runner.enqueue(client, plan)
        click.echo(
            f"batch {plan.batch_id}: {len(plan.rows)} rows; new {len(result.created)}, "
            f"done already {len(result.reused)}, retried {len(result.retried)}, "
            f"in progress {len(result.pending)}"
        )
        if no_wait:
            click.echo(plan.batch_id)
            return
        if not client.worker_id:
            click.echo("waiting for the deployment's workers (this process runs none)", err=True)
        display = open_display([r.row_id for r in plan.rows], sys.stderr, live=live)
        try:
            records = runner.wait_for(client, plan.job_ids, on_update=display.update)
        except KeyboardInterrupt:
            display.close()
            click.echo(
                f"\ninterrupted: batch {plan.batch_id} stays in the queue; "
                f"run `eduscribe-batch run {csv_path}` again to resume",
                err=True,
            )
            ctx.exit(EXIT_INTERRUPTED)
        display.close()
        outcome = runner.write_outputs(out_dir, plan.rows, records)
        _echo_outcome(plan.batch_id, outcome, time.monotonic() - started)
        ctx.exit(outcome.exit_code)


def _show_plan(plan: runner.Plan, statuses: Sequence[JobRecord | None]) -> None:
    by_job = {spec.id: spec for spec in plan.specs.values()}
    row_of = {row.job_id: row.row_id for row in plan.rows}
    lines = []
    for row, record in zip(plan.rows, statuses, strict=True):
        deps = ";".join(row_of[d] for d in by_job[row.job_id].depends_on)
        action = "create" if record is None else f"reuse ({record.status.value})"
        if record is not None and record.status in runner.RETRYABLE:
            action = f"retry ({record.status.value})"
        lines.append([str(row.line), row.row_id, type_alias(row.job_type), deps, action])
    _echo_table(["line", "id", "type", "depends_on", "action"], lines)
    click.echo(f"dry run: {len(plan.rows)} rows are valid; batch {plan.batch_id}; nothing was enqueued")


def _echo_outcome(batch_id: str, outcome: runner.Outcome, seconds: float) -> None:
    counts = ", ".join(f"{status} {n}" for status, n in sorted(outcome.counts.items()))
    click.echo(f"batch {batch_id} finished in {seconds:.1f} s: {counts}")
    for row_id, status, error in outcome.unfinished:
        click.echo(f"  {row_id}: {status}" + (f": {error}" if error else ""))
    click.echo(f"notes in {outcome.out_dir}/ (results.csv lists every row)")


@main.command()
@click.argument("csv_path", metavar="CSV", type=click.Path(dir_okay=False, path_type=Path))
@redis_option
@user_option
@click.option("--allow-outside", is_flag=True, help="Accept source paths outside the CSV's folder.")
@_handle_errors
def validate(csv_path: Path, redis_url: str | None, user_id: str | None, allow_outside: bool) -> None:
    """Check CSV without enqueueing anything; every problem is listed with its line number.

    Exit code 0 when the CSV is valid, 2 when it is not. Redis is consulted only for the
    user's tier (priorities) and the batch id.

    \b
    Example:
      eduscribe-batch validate batch/examples/course.csv
    """
    with _client(redis_url, user_id=user_id) as client:
        plan = runner.plan_batch(client, csv_path, user_id=user_id, allow_outside=allow_outside)
    click.echo(f"{csv_path}: {len(plan.rows)} rows, no problems")


@main.command()
@click.argument("ref", metavar="BATCH_OR_CSV")
@redis_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write the notes and results.csv here.",
)
@_handle_errors
def status(ref: str, redis_url: str | None, out_dir: Path | None) -> None:
    """Show each row of a batch (by batch id or CSV path).

    \b
    Example:
      eduscribe-batch status batch/examples/course.csv
      eduscribe-batch status 0c8a3f6e-... --out notes/
    """
    with _client(redis_url) as client:
        info = runner.load_batch(client, ref)
        records = client.get_jobs(info.job_ids)
    lines = []
    for row, record in zip(info.rows, records, strict=True):
        if record is None:
            lines.append([row.row_id, type_alias(row.job_type), "missing", "", "", ""])
            continue
        seconds = record.actual_duration_seconds
        lines.append(
            [
                row.row_id,
                type_alias(row.job_type),
                record.status.value,
                f"{record.progress}%",
                "" if seconds is None else f"{seconds:.1f}",
                (record.error_message or "")[:80],
            ]
        )
    click.echo(f"batch {info.batch_id} ({info.csv})")
    _echo_table(["id", "type", "status", "progress", "seconds", "error"], lines)
    finished = sum(1 for r in records if r is not None and r.finished)
    completed = sum(1 for r in records if r is not None and r.status is JobStatus.COMPLETED)
    click.echo(f"{finished}/{len(records)} finished, {completed} completed")
    if out_dir is not None:
        outcome = runner.write_outputs(out_dir, info.rows, records)
        click.echo(f"notes in {outcome.out_dir}/")


@main.command()
@click.argument("ref", metavar="BATCH_OR_CSV")
@redis_option
@rows_option
@_handle_errors
def cancel(ref: str, redis_url: str | None, row_ids: tuple[str, ...]) -> None:
    """Cancel the unfinished rows of a batch (their dependents are skipped).

    \b
    Example:
      eduscribe-batch cancel course.csv
      eduscribe-batch cancel course.csv --row lecture-3
    """
    with _client(redis_url) as client:
        info = runner.load_batch(client, ref)
        cancelled = runner.cancel_batch(client, info, row_ids)
    click.echo(f"cancelled {len(cancelled)} row(s)" + (f": {', '.join(cancelled)}" if cancelled else ""))


@main.command()
@click.argument("ref", metavar="BATCH_OR_CSV")
@redis_option
@rows_option
@_handle_errors
def retry(ref: str, redis_url: str | None, row_ids: tuple[str, ...]) -> None:
    """Put failed, cancelled and skipped rows of a batch back in line.

    Workers of a deployment pick them up. In embedded mode no worker runs after this command
    returns: `eduscribe-batch run CSV` retries and runs them in one go.

    \b
    Example:
      eduscribe-batch retry course.csv --redis redis://queue.internal:6379/0
    """
    with _client(redis_url) as client:
        info = runner.load_batch(client, ref)
        reset = runner.retry_batch(client, info, row_ids)
    click.echo(f"re-queued {len(reset)} row(s)" + (f": {', '.join(reset)}" if reset else ""))


@main.group()
def users() -> None:
    """Subscription tiers: they cap the priority of a user's jobs.

    \b
    Example:
      eduscribe-batch users set-tier alice premium
      eduscribe-batch users list
    """


@users.command("set-tier")
@click.argument("user")
@click.argument("tier", type=click.Choice([t.value for t in Tier], case_sensitive=False))
@redis_option
@_handle_errors
def set_tier(user: str, tier: str, redis_url: str | None) -> None:
    """Give USER the subscription TIER (enterprise, premium, basic or free).

    \b
    Example:
      eduscribe-batch users set-tier alice premium
    """
    with _client(redis_url) as client:
        client.set_user_tier(user, tier.lower())
        tier_value = client.user_tier(user)
    click.echo(f"{user}: {tier_value.value} (priority up to {tier_value.priority.value})")


@users.command("list")
@redis_option
@_handle_errors
def list_users(redis_url: str | None) -> None:
    """List users with a tier (everyone else is free).

    \b
    Example:
      eduscribe-batch users list
    """
    with _client(redis_url) as client:
        tiers = client.user_tiers()
    if not tiers:
        click.echo("no users with a tier (everyone is free)")
        return
    _echo_table(
        ["user", "tier", "priority"],
        [[user, tier.value, tier.priority.value] for user, tier in sorted(tiers.items())],
    )
