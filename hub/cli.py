"""The ``hub`` command: run the hub, manage tokens, import, inspect and match customers."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from hub.auth.models import Role
from hub.demo.cli import demo_command
from hub.documents.cli import orders_app
from hub.master.cli import customers_app, master_app
from hub.outbox.cli import outbox_app
from hub.receivables.cli import receivables_app
from hub.settings import get_settings
from hub.sync.cli import (
    connections_app,
    dead_letters_app,
    publish_command,
    secrets_app,
    sync_command,
)
from hub.terminal import json_text, safe

app = typer.Typer(help="Concord integration hub.", no_args_is_help=True, add_completion=False)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
import_app = typer.Typer(help="Import exports from a system.", no_args_is_help=True)
quarantine_app = typer.Typer(help="Records that could not be taken in.", no_args_is_help=True)
mappings_app = typer.Typer(help="YAML mappings.", no_args_is_help=True)
for sub, name in (
    (token_app, "token"),
    (import_app, "import"),
    (customers_app, "customers"),
    (master_app, "master"),
    (quarantine_app, "quarantine"),
    (mappings_app, "mappings"),
    (connections_app, "connections"),
    (dead_letters_app, "dead-letters"),
    (secrets_app, "secrets"),
):
    app.add_typer(sub, name=name)
app.add_typer(receivables_app, name="receivables")
app.add_typer(outbox_app, name="outbox")
app.add_typer(orders_app, name="orders")
app.command("sync")(sync_command)
app.command("publish")(publish_command)
app.command("demo")(demo_command)

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


#: Commands that decide the database themselves (and write the settings file).
_WRITERS = {"serve", "demo"}


@app.callback()
def _use_settings_file(ctx: typer.Context) -> None:
    """With HUB_DATABASE_URL unset, use the hub that `hub serve`/`hub demo` recorded in
    var/hub.toml (its database, and its key's file when HUB_SECRET_KEY is unset too), saying so."""
    import os

    from hub.settings import use_settings_file

    if ctx.invoked_subcommand in _WRITERS or "HUB_DATABASE_URL" in os.environ:
        return
    try:
        note = use_settings_file()
    except ValueError as exc:
        fail(str(exc))
    if note:
        get_settings.cache_clear()
        err.print(f"note: {safe(note)}")


def progress_bar(transient: bool = False) -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not err.is_terminal,
        transient=transient,
    )


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``message`` as text (it often quotes data: a name, a file row) and exit."""
    err.print(f"[red]error:[/red] {safe(message)}")
    raise typer.Exit(code)


def db_url() -> str:
    from hub.migrate import upgrade

    url = get_settings().database_url
    _hint_demo(url)
    upgrade(url)
    return url


def _hint_demo(url: str) -> None:
    """A second terminal next to `hub demo` would otherwise create an empty var/hub.db and
    answer from it without a word: say where the demo's hub is."""
    import os

    demo = Path("var/demo/hub.db")
    if (
        "HUB_DATABASE_URL" not in os.environ
        and url.endswith("/var/hub.db")
        and not Path("var/hub.db").exists()
        and demo.exists()
    ):
        err.print(
            f"note: creating a new hub in var/hub.db; the demo's hub is {demo} "
            f"(export HUB_DATABASE_URL=sqlite:///{demo.resolve()})"
        )
    elif "HUB_DATABASE_URL" not in os.environ and url.endswith("/var/hub.db") and not Path("var/hub.db").exists():
        err.print(
            "note: creating a new hub in var/hub.db (no var/hub.toml here, which `hub serve` and `hub demo` "
            "write); to use another hub's database, set HUB_DATABASE_URL (and HUB_SECRET_KEY)"
        )


@app.command()
def init() -> None:
    """Create or upgrade the hub's database (Alembic migrations)."""
    url = db_url()
    console.print(f"database ready: {url}")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, help="uvicorn worker processes."),
    scheduler: bool = typer.Option(
        True,
        help="Without a broker: dispatch the outbox, run due syncs and the receivables "
        "scan in this process (what beat and workers do when scaled out).",
    ),
) -> None:
    """Apply migrations, then serve the API (OpenAPI docs at /docs)."""
    import os

    import uvicorn

    from hub.db import session_scope
    from hub.settings import write_settings_file
    from hub.sync.runs import mark_interrupted
    from hub.sync.secrets import key_file_for, key_of

    url = db_url()
    with session_scope(url) as session:
        mark_interrupted(session)  # runs of a process killed before this start
    key_of(get_settings())  # the key file exists before it is recorded
    recorded = write_settings_file(url, None if get_settings().secret_key else key_file_for(url), "hub serve")
    err.print(f"recorded in {recorded} for `hub …` in another terminal")
    if scheduler and not get_settings().broker_url:
        os.environ["HUB_EMBEDDED_SCHEDULER"] = "1"  # read by each uvicorn worker's settings
        get_settings.cache_clear()  # this process's too: hub.api.main builds its app from them
        err.print("embedded scheduler: outbox every 2 s, due syncs every 30 s, receivables scan hourly")
    err.print(f"database {url}; API docs at http://{host}:{port}/docs")
    err.print("create a token with: hub token create --role admin")
    # log_config=None: uvicorn's access log goes through the hub's formatter (JSON or text)
    uvicorn.run("hub.api.main:app", host=host, port=port, workers=workers, log_level="info", log_config=None)


@token_app.command("create")
def token_create(
    role: Role = typer.Option(..., "--role", help="admin, it, sales or finance"),
    name: str = typer.Option("", help="Who or what uses the token."),
) -> None:
    """Create an API token; it is printed once and stored only as a hash."""
    from hub.auth.tokens import create_token
    from hub.db import session_scope

    with session_scope(db_url()) as session:
        row, clear = create_token(session, role, name)
    err.print(f"token {row.id} ({role.value}) created; keep it, it is not shown again:")
    print(clear)


@token_app.command("list")
def token_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """List tokens (never their values)."""
    from sqlalchemy import select

    from hub.auth.models import ApiToken
    from hub.db import session_scope

    with session_scope(db_url()) as session:
        rows = [
            {
                "id": t.id,
                "name": t.name,
                "role": t.role.value,
                "created": t.created_at.isoformat() if t.created_at else None,
                "last_used": t.last_used_at.isoformat() if t.last_used_at else None,
                "revoked": t.revoked_at.isoformat() if t.revoked_at else None,
            }
            for t in session.scalars(select(ApiToken).order_by(ApiToken.id))
        ]
    if as_json:
        print(json_text(rows))
        return
    if not rows:
        err.print("no tokens yet: hub token create --role admin")
    table = Table("id", "name", "role", "created", "last used", "revoked")
    for r in rows:
        table.add_row(
            str(r["id"]),
            safe(r["name"]),
            str(r["role"]),
            str(r["created"] or ""),
            str(r["last_used"] or ""),
            str(r["revoked"] or ""),
        )
    console.print(table)


@token_app.command("revoke")
def token_revoke(token_id: int) -> None:
    """Revoke a token by id."""
    from hub.auth.tokens import revoke_token
    from hub.db import session_scope

    with session_scope(db_url()) as session:
        if not revoke_token(session, token_id):
            fail(f"token {token_id} does not exist")
    console.print(f"token {token_id} revoked")


@import_app.command("customers")
def import_customers_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV or XLSX export")],
    system: str = typer.Option(..., "--system", help="The system the export comes from."),
    mapping: Path | None = typer.Option(None, help="Column map (default mappings/imports/customers/SYSTEM.yaml)."),
    full: bool | None = typer.Option(
        None, "--full/--delta", help="Full export flags vanished records; default from the mapping."
    ),
) -> None:
    """Import customers; re-importing the same file changes nothing."""
    from connectors.files import FileFormatError
    from hub.config.loader import ConfigError
    from hub.sync.imports import import_customers

    settings = get_settings()
    url = db_url()
    with progress_bar() as progress:
        task = progress.add_task(f"importing {file.name}", total=None)
        try:
            summary = import_customers(
                url,
                settings.mappings_dir,
                system,
                file,
                mapping_path=mapping,
                full=full,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
        except (ConfigError, FileFormatError) as exc:
            fail(str(exc))
    decisions = ", ".join(f"{k} {v}" for k, v in sorted(summary.decisions.items())) or "none"
    console.print(
        f"run {summary.run_id}: read {summary.read}, created {summary.created} "
        f"(matching: {decisions}), updated {summary.updated}, unchanged {summary.unchanged}, "
        f"quarantined {summary.quarantined}, flagged missing {summary.missing}"
    )
    for reason in summary.reasons:
        console.print(f"  quarantined {safe(file.name)} {safe(reason)}")
    if summary.quarantined > len(summary.reasons):
        console.print(f"  … and {summary.quarantined - len(summary.reasons)} more: hub quarantine list")


@quarantine_app.command("list")
def quarantine_list(
    system: str | None = typer.Option(None),
    limit: int = typer.Option(100),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Open quarantined records with their file, row and reason."""
    from hub.db import session_scope
    from hub.sync.quarantine import open_records

    with session_scope(db_url()) as session:
        rows = [
            {
                "id": r.id,
                "entity_type": r.entity_type,
                "system": r.system,
                "source": r.source,
                "row": r.row_number,
                "external_id": r.external_id,
                "reason": r.reason,
            }
            for r in open_records(session, None, system, limit)
        ]
    if as_json:
        print(json_text(rows))
        return
    table = Table("id", "system", "file", "row", "external id", "reason")
    for r in rows:
        table.add_row(
            str(r["id"]),
            safe(r["system"]),
            safe(Path(str(r["source"])).name),
            str(r["row"] or ""),
            safe(r["external_id"]),
            safe(r["reason"]),
        )
    console.print(table)


@quarantine_app.command("replay")
def quarantine_replay(
    ids: Annotated[list[int] | None, typer.Argument(help="Record ids; none = all open ones.")] = None,
) -> None:
    """Replay quarantined customer records through the same ingest path."""
    from hub.sync.imports import replay_quarantined

    settings = get_settings()
    ok, still = replay_quarantined(db_url(), settings.mappings_dir, ids or None)
    console.print(f"replayed {ok}, still quarantined {still}")


@mappings_app.command("check")
def mappings_check(
    offline: bool = typer.Option(False, "--offline", help="Files only: do not read the connections from the database."),
) -> None:
    """Validate every YAML mapping; errors name file, line and field.

    Field maps are checked against the canonical records and code lists, routes.yaml's
    streams against the connector kinds and services; with the hub's database at hand, the
    systems routes.yaml names against its connections and their streams."""
    from hub.config.checks import check_all, stored_connections

    settings = get_settings()
    connections = None if offline else stored_connections(settings.database_url)
    if isinstance(connections, str):
        err.print(f"[yellow]routes.yaml not checked against the connections: {safe(connections)}[/yellow]")
        connections = None
    problems = check_all(settings.mappings_dir, connections)
    for problem in problems:
        err.print(f"[red]{safe(problem)}[/red]")
    if problems:
        raise typer.Exit(1)
    console.print("mappings OK")


_exit_without_teardown = False


def exit_without_teardown() -> None:
    """Called by a command that ends holding millions of objects it no longer needs (``hub
    master match``): the process then ends at once, its memory going back to the system whole,
    instead of freeing object after object (2 s at 200k records, more than 10 s at 1M). Only
    the ``hub`` executable acts on it; a command run in-process (tests) returns as usual."""
    global _exit_without_teardown
    _exit_without_teardown = True


def main() -> None:
    from hub.observability.logs import configure_logging
    from hub.sync.secrets import SecretsError

    configure_logging()  # HUB_LOG_FORMAT=json for log shippers; text by default
    try:
        app()
    except SystemExit as exc:
        if _exit_without_teardown and exc.code in (0, None):
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
        raise
    except KeyboardInterrupt:
        sys.exit(130)
    except SecretsError as exc:  # a wrong HUB_SECRET_KEY, from any command: the fix, no traceback
        err.print(f"[red]error:[/red] {safe(str(exc))}")
        sys.exit(1)
