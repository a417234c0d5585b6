"""`hub outbox …`: what waits to be sent where, send it now, replay dead deliveries."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from hub.settings import get_settings
from hub.terminal import safe

if TYPE_CHECKING:
    from rich.progress import TaskID

    from hub.outbox.dispatch import Dispatcher

outbox_app = typer.Typer(help="Changes on their way to other systems.", no_args_is_help=True)


def _dispatcher() -> Dispatcher:
    """The dispatcher on the migrated database (``hub.services``, as the API and tasks get it)."""
    from hub import services
    from hub.cli import db_url

    return services.dispatcher(get_settings(), db_url())


@outbox_app.command("status")
def outbox_status(as_json: bool = typer.Option(False, "--json")) -> None:
    """Deliveries per target and status."""
    from hub.cli import console

    counts = _dispatcher().counts()
    if as_json:
        print(json.dumps(counts))
        return
    table = Table("target", "pending", "sent", "dead", title="outbox")
    for target, by_status in sorted(counts.items()):
        table.add_row(
            safe(target),
            *(
                str(by_status.get(s, by_status.get("events", 0) if s == "pending" else 0))
                for s in ("pending", "sent", "dead")
            ),
        )
    console.print(table)


@outbox_app.command("dispatch")
def outbox_dispatch(target: list[str] = typer.Option([], "--target", help="Only these targets.")) -> None:
    """Route new events and send what is due now, with a progress bar."""
    from hub.cli import console, fail, progress_bar
    from hub.sync.leases import SyncBusy

    dispatcher = _dispatcher()
    routed = dispatcher.route()
    console.print(f"routed {routed} events")
    failed = False
    with progress_bar() as bar:
        for name in target or dispatcher.due_targets():
            task = bar.add_task(f"to {name}", total=None)

            def advance(n: int, task: TaskID = task) -> None:
                bar.advance(task, n)

            try:
                report = dispatcher.deliver(name, advance)
            except (KeyError, SyncBusy) as exc:
                fail(str(exc.args[0] if isinstance(exc, KeyError) else exc))
            console.print(
                f"{safe(name)}: sent {report.sent}, retrying {report.retrying}, dead {report.dead}"
                + (f", not verified {report.unverified} ({safe(report.notes[0])})" if report.unverified else "")
            )
            for error in dict.fromkeys(report.errors):
                console.print(f"  [red]{safe(error)}[/red]")
            failed = failed or bool(report.dead or report.retrying)
    if failed:
        raise typer.Exit(1)


@outbox_app.command("replay")
def outbox_replay(
    ids: list[int] = typer.Argument(None, help="Delivery ids; none = every dead one."),
    target: str = typer.Option(None, help="Only deliveries to this target."),
) -> None:
    """Make dead deliveries due again, after the cause was fixed; `hub outbox dispatch` sends them."""
    from hub.cli import console

    console.print(f"{_dispatcher().replay(ids or None, target)} deliveries due again")
