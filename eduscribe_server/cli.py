"""``eduscribe-server``: run the web service, and manage its API keys. Thin: see ``app.py``."""

from __future__ import annotations

import functools
import ipaddress
import logging
import os
from collections.abc import Callable
from typing import Any, TypeVar, cast

import click

from eduscribe_sdk import Client, EduscribeError

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])


def _handle_errors(command: F) -> F:
    """Library errors become one line on stderr and exit status 1, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except EduscribeError as exc:
            raise click.ClickException(str(exc)) from None

    return cast(F, wrapper)


redis_option = click.option(
    "--redis",
    "redis_url",
    envvar="EDUSCRIBE_REDIS_URL",
    metavar="URL",
    help="Redis of a deployment. Default: $EDUSCRIBE_REDIS_URL, else the embedded Redis in $EDUSCRIBE_HOME.",
)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="eduscribe-sdk")
@click.option(
    "--host", default="127.0.0.1", show_default=True, envvar="EDUSCRIBE_HOST", help="Address to listen on."
)
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(0, 65535), envvar="EDUSCRIBE_PORT"
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes (uvicorn's workers; jobs run on EduScribe workers, see --job-slots).",
)
@redis_option
@click.option(
    "--job-slots",
    type=click.IntRange(0, 256),
    help="Jobs run in this process at once. Default: $WORKER_MAX_CONCURRENT_JOBS (3) when embedded, "
    "0 with --redis (the deployment's `dramatiq eduscribe_sdk.actors` workers run them).",
)
@click.option("--no-auth", is_flag=True, help="No API keys: every request is one admin user. Loopback only.")
@click.option("-v", "--verbose", count=True, help="More logging (-v: info, -vv: debug).")
@click.pass_context
@_handle_errors
def main(
    ctx: click.Context,
    host: str,
    port: int,
    workers: int,
    redis_url: str | None,
    job_slots: int | None,
    no_auth: bool,
    verbose: int,
) -> None:
    """Serve EduScribe's REST API, live events and metrics on HTTP.

    With no Redis URL it starts the embedded Redis and in-process workers, so this command
    alone is a working system; with --redis it serves a deployment whose workers run elsewhere.

    \b
    Example:
      eduscribe-server keys create alice          # prints alice's API key, once
      eduscribe-server --port 8000
      curl -H "Authorization: Bearer $KEY" localhost:8000/api/jobs
    """
    ctx.ensure_object(dict)
    ctx.obj["redis_url"] = redis_url
    if ctx.invoked_subcommand is not None:
        return
    if no_auth and not _loopback(host):
        raise click.UsageError(
            "--no-auth serves every job to anyone who can connect: use it on 127.0.0.1 only"
        )
    logging.basicConfig(
        level=logging.WARNING - 10 * min(verbose, 2), format="%(levelname)s %(name)s: %(message)s"
    )
    if verbose < 2:
        logging.getLogger("dramatiq").setLevel(logging.CRITICAL)
    _serve(host, port, workers, redis_url, job_slots, no_auth=no_auth, verbose=verbose)


def _serve(
    host: str,
    port: int,
    processes: int,
    redis_url: str | None,
    job_slots: int | None,
    *,
    no_auth: bool,
    verbose: int,
) -> None:
    import uvicorn

    # This process owns the engine (the embedded server and the job slots, if any); the app
    # in each server process is a client of it, found through the environment.
    engine = Client(redis_url) if job_slots is None else Client(redis_url, workers=job_slots)
    with engine:
        os.environ["EDUSCRIBE_REDIS_URL"] = engine.url
        if no_auth:
            os.environ["EDUSCRIBE_API_AUTH"] = "off"
        where = "embedded Redis" if engine.embedded else "Redis"
        click.echo(f"EduScribe on http://{host}:{port} ({where}, {processes} server process(es))", err=True)
        uvicorn.run(
            "eduscribe_server.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=processes,
            log_level="info" if verbose else "warning",
            access_log=verbose >= 1,
        )


@main.group()
def keys() -> None:
    """Create, list and revoke API keys (stored hashed; a key is shown once)."""


def _client(ctx: click.Context) -> Client:
    return Client(ctx.obj.get("redis_url"), workers=0)


@keys.command("create")
@click.argument("user_id", metavar="USER")
@click.option("--admin", is_flag=True, help="An admin key: every job, tiers, keys, worker control.")
@click.option("--name", help="A note to tell keys apart (e.g. 'laptop').")
@click.pass_context
@_handle_errors
def keys_create(ctx: click.Context, user_id: str, admin: bool, name: str | None) -> None:
    """Create a key for USER and print it (only now: it is stored hashed)."""
    with _client(ctx) as client:
        key, info = client.api_keys.create(user_id, admin=admin, name=name)
    click.echo(key)
    click.echo(
        f"key id {info.id} for {'admin ' if admin else ''}user {user_id}: keep the key secret", err=True
    )


@keys.command("revoke")
@click.argument("key_id")
@click.pass_context
@_handle_errors
def keys_revoke(ctx: click.Context, key_id: str) -> None:
    """Revoke the key with id KEY_ID (as `keys list` shows it)."""
    with _client(ctx) as client:
        if not client.api_keys.revoke(key_id):
            raise click.ClickException(f"no API key with id {key_id!r}")
    click.echo(f"revoked {key_id}", err=True)


@keys.command("list")
@click.option("--user", "user_id", help="Only this user's keys.")
@click.pass_context
@_handle_errors
def keys_list(ctx: click.Context, user_id: str | None) -> None:
    """List keys: id, user, admin, created, name (never the keys themselves)."""
    with _client(ctx) as client:
        for key in client.api_keys.list(user_id):
            admin = "admin" if key.admin else "user"
            created = f"{key.created_at:%Y-%m-%d %H:%M}"
            click.echo(f"{key.id}  {key.user_id}  {admin}  {created}  {key.name or ''}".rstrip())
