"""`hub connections …`, `hub sync …`, `hub dead-letters …`, `hub secrets rotate`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from hub.settings import get_settings
from hub.terminal import json_text, safe

if TYPE_CHECKING:
    from rich.progress import TaskID

    from hub.sync.engine import SyncEngine

connections_app = typer.Typer(help="Connections to external systems.", no_args_is_help=True)
dead_letters_app = typer.Typer(help="Records a sync could not apply.", no_args_is_help=True)
secrets_app = typer.Typer(help="The key that encrypts connection secrets.", no_args_is_help=True)


def _pairs(items: list[str], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        if "=" not in item:
            raise typer.BadParameter(f"{what} {item!r} is not KEY=VALUE")
        key, value = item.split("=", 1)
        out[key.strip()] = value
    return out


def _engine() -> SyncEngine:
    """The sync engine on the migrated database (``hub.services``, as the API and tasks get it)."""
    from hub import services
    from hub.cli import db_url

    return services.sync_engine(get_settings(), db_url())


@connections_app.command("add")
def connections_add(
    name: str | None = typer.Argument(None, help="The connection's name (the system's name in the hub)."),
    kind: str | None = typer.Option(None, help="Connector kind, e.g. tryton."),
    setting: list[str] = typer.Option([], "--setting", "-s", help="KEY=VALUE, repeatable."),
    secret: list[str] = typer.Option([], "--secret", help="KEY=VALUE, repeatable; stored encrypted."),
    interval: int | None = typer.Option(None, help="Seconds between scheduled syncs."),
    help_kind: str | None = typer.Option(
        None,
        "--help-kind",
        metavar="KIND",
        help="List connector KIND's settings and secrets (type, default, meaning) and exit.",
    ),
) -> None:
    """Add a connection; its settings and secrets are checked against the connector's (a bad
    value is refused now, not at the first sync); secrets are encrypted with HUB_SECRET_KEY."""
    from connectors.registry import available, connector_class
    from connectors.settings import SettingsError, describe_kind, validate_connection
    from hub.cli import console, err, fail
    from hub.db import session_scope
    from hub.sync.connections import ConnectionConfigError, add_connection
    from hub.sync.secrets import SecretsError

    if help_kind is not None:
        if help_kind not in available():
            fail(f"no connector of kind {help_kind!r}; installed: {', '.join(sorted(available()))}")
        print(describe_kind(connector_class(help_kind)))
        return
    if name is None or kind is None:
        fail("give NAME and --kind KIND (hub connections add --help-kind KIND lists what a kind takes)", code=2)
    settings, secrets = _pairs(setting, "setting"), _pairs(secret, "secret")
    if kind in available():
        try:
            checked = validate_connection(connector_class(kind), settings, secrets)
        except SettingsError:
            pass  # add_connection names every problem (after checking the secrets key)
        else:
            for note in checked.notes:
                err.print(f"note: {safe(note)}")
            settings, secrets = checked.stored_settings(), checked.secret_values
    engine = _engine()
    with session_scope(engine.database_url) as session:
        try:
            row = add_connection(
                session,
                name=name,
                kind=kind,
                settings=settings,
                secrets=secrets,
                secret_key=engine.secret_key,
                interval_seconds=interval,
                mappings_dir=engine.mappings_dir,
            )
        except (ConnectionConfigError, SecretsError) as exc:
            fail(str(exc))
        moved = " (credentials in its settings moved to its encrypted secrets)" if row.settings != settings else ""
        console.print(f"connection {safe(repr(row.name))} ({safe(row.kind)}) added{moved}")


@connections_app.command("update")
def connections_update(
    name: str,
    setting: list[str] = typer.Option([], "--setting", "-s", help="KEY=VALUE, repeatable; replaces that setting."),
    secret: list[str] = typer.Option([], "--secret", help="KEY=VALUE, repeatable; stored encrypted."),
    unset: list[str] = typer.Option([], "--unset", help="A setting or secret to remove, repeatable."),
    interval: int | None = typer.Option(None, help="Seconds between scheduled syncs (0: only on demand)."),
) -> None:
    """Change a connection's settings or secrets; the others stay as they are."""
    from hub.cli import console, fail
    from hub.db import session_scope
    from hub.sync.connections import ConnectionConfigError, update_connection
    from hub.sync.secrets import SecretsError

    engine = _engine()
    try:
        with session_scope(engine.database_url) as session:
            _row, changed = update_connection(
                session,
                name,
                settings=_pairs(setting, "setting"),
                secrets=_pairs(secret, "secret"),
                unset=unset,
                secret_key=engine.secret_key,
                interval_seconds=interval,
                mappings_dir=engine.mappings_dir,
            )
    except KeyError as exc:
        fail(str(exc.args[0]))
    except (ConnectionConfigError, SecretsError) as exc:
        fail(str(exc))
    console.print(
        f"connection {safe(repr(name))} updated: " + (safe(", ".join(changed)) if changed else "nothing changed")
    )


@connections_app.command("remove")
def connections_remove(
    name: str,
    force: bool = typer.Option(
        False,
        "--force",
        help="Even with links, open dead letters or waiting deliveries: "
        "keep the links, drop the dead letters, mark the deliveries dead.",
    ),
) -> None:
    """Remove a connection: its settings, secrets and cursors go; links, documents and runs stay."""
    from hub.cli import console, fail
    from hub.db import session_scope
    from hub.sync.connections import ConnectionConfigError, remove_connection

    try:
        with session_scope(_engine().database_url) as session:
            gone = remove_connection(session, name, force)
    except KeyError as exc:
        fail(str(exc.args[0]))
    except ConnectionConfigError as exc:
        fail(str(exc))
    console.print(
        f"connection {safe(repr(name))} removed: {gone['cursors']} cursor(s) deleted, "
        f"{gone['dead_letters_dropped']} dead letter(s) dropped, {gone['deliveries_marked_dead']} delivery(ies) "
        f"marked dead; {gone['runs_kept']} run(s), its links and documents kept ({gone['links_kept']} link(s))"
    )


@connections_app.command("list")
def connections_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """Connections with their cursors and circuit state (never their secrets)."""
    from sqlalchemy import select

    from hub.cli import console
    from hub.db import session_scope
    from hub.sync.connections import describe
    from hub.sync.models import Connection

    with session_scope(_engine().database_url) as session:
        rows = [describe(session, c) for c in session.scalars(select(Connection).order_by(Connection.name))]
    if as_json:
        print(json_text(rows))
        return
    table = Table("name", "kind", "interval", "failures", "cursors")
    for r in rows:
        table.add_row(
            safe(r["name"]),
            safe(r["kind"]),
            str(r["interval_seconds"] or ""),
            str(r["consecutive_failures"]),
            safe(json.dumps(r["cursors"])),
        )
    console.print(table)


@connections_app.command("test")
def connections_test(name: str) -> None:
    """Reach and log in to the system, then read one page of each stream and map it."""
    from hub.cli import console, err, fail
    from hub.sync.probe import probe
    from hub.sync.secrets import SecretsError

    try:
        result = probe(_engine(), name)
    except KeyError as exc:
        fail(str(exc.args[0]))
    except SecretsError as exc:
        fail(str(exc))
    if result.configuration:
        err.print(f"[red]error:[/red] {safe(result.configuration)}")
    if result.health is not None:
        line = (
            f"{safe(name)}: OK ({safe(result.health.detail)}, {result.health.latency_ms or 0:.0f} ms)"
            if result.health.ok
            else f"{safe(name)}: not reachable: {safe(result.health.detail)}"
        )
        (console if result.health.ok else err).print(
            line + (" - circuit breaker closed" if result.circuit_closed else "")
        )
    for s in result.streams:
        if s.skipped:
            console.print(f"  {safe(s.stream)}: {safe(s.skipped)}")
        elif s.error:
            err.print(f"  {safe(s.stream)}: [red]error:[/red] {safe(s.error)}")
        else:
            fit = (
                f"{s.unfit} would be dead letters (first: {safe(s.first_unfit or '')})"
                if s.unfit
                else "all fit the field map"
            )
            (err if s.unfit else console).print(f"  {safe(s.stream)}: {s.read} record(s) on the first page, {fit}")
            if s.empty_fields:
                console.print(
                    f"    found nothing in any of them: {safe(', '.join(s.empty_fields))} "
                    "(a wrong path, or fields this system leaves empty)"
                )
    if not result.ok:
        raise typer.Exit(1)


@connections_app.command("reset")
def connections_reset(name: str) -> None:
    """Close the connection's circuit breaker: syncs run again at once instead of after the
    pause that repeated failures started."""
    from hub.cli import console, fail
    from hub.db import session_scope
    from hub.sync.leases import close_circuit

    try:
        with session_scope(_engine().database_url) as session:
            was_open = close_circuit(session, name)
    except KeyError as exc:
        fail(str(exc.args[0]))
    console.print(f"{safe(name)}: circuit breaker " + ("closed" if was_open else "was not open; failures reset"))


def _connection_rows(engine: SyncEngine) -> list[dict[str, object]]:
    from sqlalchemy import select

    from hub.db import session_scope
    from hub.sync.connections import describe
    from hub.sync.models import Connection

    with session_scope(engine.database_url) as session:
        return [describe(session, c) for c in session.scalars(select(Connection).order_by(Connection.name))]


def _sync_errors() -> tuple[type[BaseException], ...]:
    """What a sync of one connection may fail with: told in one line, never a traceback."""
    from connectors.errors import ConnectorError
    from hub.sync.connections import ConnectionConfigError
    from hub.sync.leases import CircuitOpen, SyncBusy
    from hub.sync.secrets import SecretsError

    return (KeyError, ConnectorError, SecretsError, SyncBusy, CircuitOpen, ConnectionConfigError)


def _list_for_sync(engine: SyncEngine, as_json: bool) -> None:
    """``hub sync`` without a name: the connections one could sync, and how."""
    from hub.cli import console, err

    rows = _connection_rows(engine)
    if as_json:
        print(json_text(rows))
        return
    if not rows:
        err.print("no connections yet: hub connections add NAME --kind KIND ... (hub connections add --help-kind KIND)")
        return
    table = Table("name", "kind", "interval", "failures", "circuit open until", title="connections")
    for r in rows:
        table.add_row(
            safe(str(r["name"])),
            safe(str(r["kind"])),
            f"{r['interval_seconds']} s" if r["interval_seconds"] else "on demand",
            str(r["consecutive_failures"]),
            safe(str(r["circuit_open_until"] or "")),
        )
    console.print(table)
    err.print("sync one: hub sync NAME; every one in turn: hub sync --all")


def _sync_all(engine: SyncEngine, full: bool, force: bool) -> None:
    """Every connection in turn, one line each; one that fails does not stop the others; exit 1
    when any failed (its reason on its line)."""
    from hub.cli import console, err
    from hub.sync.engine import SyncStopped

    rows = _connection_rows(engine)
    if not rows:
        err.print("[red]error:[/red] no connections to sync: hub connections add NAME --kind KIND ...")
        raise typer.Exit(1)
    caught: tuple[type[BaseException], ...] = (*_sync_errors(), SyncStopped)
    failed: list[str] = []
    for r in rows:
        name = str(r["name"])
        try:
            results = engine.sync(name, None, full, None, force=force)
        except caught as exc:
            failed.append(name)
            reason = exc.args[0] if isinstance(exc, KeyError) else exc
            err.print(f"{safe(name)}: [red]failed[/red]: {safe(str(reason))}")
            continue
        errors = [f"{x.stream}: {x.error}" for x in results if x.error]
        totals = {k: sum(getattr(x, k) for x in results) for k in ("read", "created", "updated", "failed")}
        line = (
            f"{name}: {len(results)} stream(s), read {totals['read']}, created {totals['created']}, "
            f"updated {totals['updated']}, failed {totals['failed']}"
        )
        if errors:
            failed.append(name)
            err.print(f"{safe(line)} - [red]failed[/red]: {safe('; '.join(errors))}")
        else:
            console.print(safe(line))
    if failed:
        err.print(f"{len(failed)} of {len(rows)} connection(s) failed: {safe(', '.join(failed))}")
        raise typer.Exit(1)


def sync_command(
    name: str = typer.Argument(None, help="The connection (hub connections list); omit to list them."),
    all_connections: bool = typer.Option(False, "--all", help="Sync every connection in turn, one line each."),
    stream: list[str] = typer.Option([], "--stream", help="Only these streams (repeatable)."),
    full: bool = typer.Option(False, "--full", help="Read everything, not only changes; flags vanished records."),
    force: bool = typer.Option(
        False,
        "--force",
        help="With --full: flag vanished records even when the full read is empty or much shorter than the last one.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Without a name: the connections as JSON."),
) -> None:
    """Sync a connection now: incremental since the cursor, with a progress bar. Without a name,
    list the connections; with --all, sync each of them."""
    from hub.cli import console, err, fail, progress_bar
    from hub.sync.engine import SyncStopped

    if force and not full:
        fail("--force only applies to a full read: hub sync NAME --full --force", code=2)
    if all_connections and (name or stream):
        fail("--all syncs every connection and all its streams: give either NAME or --all", code=2)
    engine = _engine()
    if all_connections:
        _sync_all(engine, full, force)
        return
    if not name:
        _list_for_sync(engine, as_json)
        return
    with progress_bar() as bar:
        tasks: dict[str, TaskID] = {}

        def advance(stream_name: str, count: int) -> None:
            if stream_name not in tasks:
                tasks[stream_name] = bar.add_task(f"{name} {stream_name}", total=None)
            bar.advance(tasks[stream_name], count)

        try:
            results = engine.sync(name, stream or None, full, advance, force=force)
        except _sync_errors() as exc:
            fail(str(exc.args[0] if isinstance(exc, KeyError) else exc))
        except SyncStopped as exc:  # a bug, the connector's or the hub's: one line, the traceback at DEBUG
            import logging

            logging.getLogger("hub.sync").debug("hub sync %s stopped", name, exc_info=True)
            fail(f"{exc}; HUB_LOG_LEVEL=DEBUG shows the traceback")
    failed = False
    for r in results:
        line = (
            f"{r.stream}: {r.status}, read {r.read}, created {r.created}, updated {r.updated}, "
            f"unchanged {r.unchanged}, failed {r.failed}, flagged missing {r.missing} (run {r.run_id})"
        )
        console.print(safe(line))
        if r.error:
            failed = True
            err.print(f"  [red]{safe(r.error)}[/red]")
    if failed:
        raise typer.Exit(1)


@dead_letters_app.command("list")
def dead_letters_list(
    connection: str | None = typer.Option(None), as_json: bool = typer.Option(False, "--json")
) -> None:
    """Open dead letters with their error."""
    from sqlalchemy import select

    from hub.cli import console
    from hub.db import session_scope
    from hub.sync.models import Connection, DeadLetter

    with session_scope(_engine().database_url) as session:
        query = (
            select(DeadLetter, Connection.name)
            .join(Connection, Connection.id == DeadLetter.connection_id)
            .where(DeadLetter.status == "open")
            .order_by(DeadLetter.id)
        )
        if connection:
            query = query.where(Connection.name == connection)
        rows = [
            {
                "id": d.id,
                "connection": cname,
                "stream": d.stream,
                "external_id": d.external_id,
                "error": d.error,
                "attempts": d.attempts,
                "seen": d.seen_count,
                "last_seen": d.last_seen_at.isoformat() if d.last_seen_at else None,
            }
            for d, cname in session.execute(query)
        ]
    if as_json:
        print(json_text(rows))
        return
    table = Table("id", "connection", "stream", "external id", "seen", "attempts", "error")
    for r in rows:
        table.add_row(
            str(r["id"]),
            safe(r["connection"]),
            safe(r["stream"]),
            safe(r["external_id"]),
            str(r["seen"]),
            str(r["attempts"]),
            safe(r["error"]),
        )
    console.print(table)


@dead_letters_app.command("replay")
def dead_letters_replay(
    ids: list[int] | None = typer.Argument(None, help="Dead letter ids; none = all open ones."),
    connection: str | None = typer.Option(None),
) -> None:
    """Apply dead letters again (after the cause was fixed); each goes in at most once."""
    from hub.cli import console

    done = _engine().replay(ids or None, connection)
    ok, still = done
    console.print(f"replayed {ok}, still failing {still}, superseded by newer data {done.superseded}")


@secrets_app.command("rotate")
def secrets_rotate(
    old_key: str = typer.Option(..., envvar="HUB_OLD_SECRET_KEY", help="The key secrets are stored with now."),
) -> None:
    """Re-encrypt every connection secret under the current HUB_SECRET_KEY."""
    from hub.cli import console, db_url, fail
    from hub.db import session_scope
    from hub.sync.connections import rotate_key
    from hub.sync.secrets import SecretsError

    new_key = get_settings().secret_key
    if not new_key:
        fail("set HUB_SECRET_KEY to the new key first")
    try:
        with session_scope(db_url()) as session:
            count = rotate_key(session, old_key, new_key)
    except SecretsError as exc:
        fail(str(exc))
    console.print(f"re-encrypted the secrets of {count} connection(s)")


def publish_command(
    connection: str = typer.Argument(..., help="The connection to write golden customers to."),
) -> None:
    """Write golden customer values (name, e-mail, phone) back where the system differs."""
    from hub.cli import console, err
    from hub.sync.publish import publish_customers

    result = publish_customers(_engine(), connection)
    console.print(
        f"written {result.written}, unchanged {result.unchanged}, failed {result.failed}, "
        f"conflicts {len(result.conflicts)}, duplicates {len(result.duplicates)}"
        + (f", not verified {result.unverified} ({safe(result.notes[0])})" if result.unverified else "")
    )
    for error in result.errors[:20]:
        err.print(f"  [red]{safe(error)}[/red]")
    for conflict in result.conflicts[:20]:
        err.print(f"  conflict, not written: {safe(conflict)}")
    for golden_id, others in list(result.duplicates.items())[:20]:
        err.print(
            f"  customer {golden_id} is {len(others) + 1} records in {safe(connection)}: "
            f"merge {safe(', '.join(others))} there (only the primary was written)"
        )
    if result.failed:
        raise typer.Exit(1)
