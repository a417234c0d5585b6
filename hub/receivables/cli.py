"""``hub receivables scan|ageing|funnel|export``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer
from rich.table import Table

from hub.terminal import json_text, safe

receivables_app = typer.Typer(help="Receivables per sales stage.", no_args_is_help=True)


def _day(value: str | None) -> date:
    from hub.cli import fail

    try:
        return date.fromisoformat(value) if value else date.today()
    except ValueError:
        fail(f"--as-of {value!r} is not a date (YYYY-MM-DD)", 2)


@receivables_app.command("scan")
def scan_command(
    as_of: str | None = typer.Option(None, "--as-of", help="Scan as if today were this date (YYYY-MM-DD)."),
    send: bool = typer.Option(True, "--send/--no-send", help="Send the queued digests after the scan."),
) -> None:
    """Enrol orders, detect stages, allocate invoices, raise overdue alerts and send digests.

    A record the scan cannot process (an overflowing figure, a date out of range, corrupt data)
    is set aside and the rest is done: the scan exits 0 and prints a warning line per record
    set aside, naming it and the reason, on standard error (``hub receivables set-aside``
    lists them; the next scan retries them)."""
    from hub.cli import console, db_url, err, fail
    from hub.config.loader import ConfigError
    from hub.receivables.scan import scan
    from hub.settings import get_settings

    try:
        result = scan(db_url(), get_settings().mappings_dir, _day(as_of), send=send)
    except ConfigError as exc:
        fail(str(exc))
    console.print(
        f"scan {result.scan_id} as of {result.as_of}: enrolled {result.enrolled}, stages reached "
        f"{result.stages_reached}, orders allocated {result.orders_allocated}, instalments changed "
        f"{result.instalments_changed}, alerts raised {result.alerts_raised}, resolved {result.alerts_resolved}, "
        f"deliveries queued {result.deliveries_queued}, sent {len(result.sent)}, failed {len(result.failed)}, "
        f"set aside {len(result.set_aside)}"
    )
    for failure in result.failed:
        err.print(f"[yellow]not delivered (kept for the next scan):[/yellow] {safe(failure)}")
    for item in result.set_aside:
        err.print(f"[yellow]warning: set aside (retried by the next scan):[/yellow] {_set_aside_line(item)}")


def _set_aside_line(item: dict) -> str:
    from hub.terminal import safe

    name = f"{item['record']} {item['id']}" + (f" ({safe(item['label'])})" if item.get("label") else "")
    return f"{name}, step {item['step']}: {safe(item['reason'])}"


@receivables_app.command("set-aside")
def set_aside_command(as_json: bool = typer.Option(False, "--json")) -> None:
    """Orders and invoices receivables jobs set aside, with the reason (the next scan retries them)."""
    from hub.cli import console, db_url, err
    from hub.db import session_scope
    from hub.receivables.service import set_aside

    with session_scope(db_url()) as session:
        rows = set_aside(session)
    if as_json:
        from hub.terminal import json_text

        print(json_text(rows))
        return
    if not rows:
        err.print("nothing set aside")
        return
    for row in rows:
        console.print(f"{_set_aside_line(row)} (attempts {row['attempts']}, since {row['first_set_aside_at']})")


@receivables_app.command("ageing")
def ageing_command(
    by: str = typer.Option("stage", help="stage, customer or owner"),
    as_of: str | None = typer.Option(None, "--as-of"),
    buckets: str | None = typer.Option(None, help="Bucket edges in days, e.g. 30,60,90 (default: the pipeline's)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Outstanding stage payments by days past due."""
    from hub.cli import console, db_url, fail
    from hub.db import session_scope
    from hub.receivables.reports import ageing

    if by not in ("stage", "customer", "owner"):
        fail(f"--by must be stage, customer or owner, not {by!r}", 2)
    edges = [int(b) for b in buckets.split(",")] if buckets else None
    with session_scope(db_url()) as session:
        report = ageing(session, _day(as_of), by, edges)  # type: ignore[arg-type]
    if as_json:
        print(json_text(report))
        return
    table = Table(by, "currency", *report["buckets"], "total", title=f"ageing as of {report['as_of']}")
    for row in report["rows"]:
        table.add_row(
            safe(row[by]), safe(row["currency"]), *(f"{row[b]:,.2f}" for b in report["buckets"]), f"{row['total']:,.2f}"
        )
    console.print(table)


@receivables_app.command("funnel")
def funnel_command(pipeline: str | None = typer.Option(None), as_json: bool = typer.Option(False, "--json")) -> None:
    """Orders and value per stage reached, and conversion between stages."""
    from hub.cli import console, db_url
    from hub.db import session_scope
    from hub.receivables.reports import funnel

    with session_scope(db_url()) as session:
        report = funnel(session, pipeline)
    if as_json:
        print(json.dumps(report, indent=2))
        return
    table = Table("stage", "orders", "value", "conversion", title=f"funnel: {report['pipeline']}")
    for row in report["stages"]:
        conversion = "" if row["conversion"] is None else f"{row['conversion']:.0%}"
        table.add_row(safe(row["name"]), str(row["orders"]), f"{row['value']:,.2f}", conversion)
    console.print(table)


@receivables_app.command("export")
def export_command(
    report: str = typer.Argument(..., help="ageing, funnel, overdue or counts:<field> (e.g. counts:loss_reason)"),
    out: Path = typer.Option(..., "--out", help="File to write; .csv or .xlsx"),
    by: str = typer.Option("stage", help="For ageing: stage, customer or owner."),
    as_of: str | None = typer.Option(None, "--as-of"),
) -> None:
    """Write a finance report as CSV or XLSX."""
    from hub.cli import console, db_url, fail
    from hub.db import session_scope
    from hub.receivables.reports import export, report_rows

    fmt = out.suffix.lstrip(".").lower()
    if fmt not in ("csv", "xlsx"):
        fail(f"--out must end in .csv or .xlsx, not {out.name!r}", 2)
    with session_scope(db_url()) as session:
        try:
            rows = report_rows(session, report, _day(as_of), by)  # type: ignore[arg-type]
        except ValueError as exc:
            fail(str(exc), 2)
    out.write_bytes(export(rows, fmt, report.replace(":", "-")))  # type: ignore[arg-type]
    console.print(f"{len(rows)} rows written to {out}")
