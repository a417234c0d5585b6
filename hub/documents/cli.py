"""`hub orders …`: one order's status, found by any system's order number."""

from __future__ import annotations

import json

import typer
from rich.table import Table

orders_app = typer.Typer(help="Orders across every system.", no_args_is_help=True)


@orders_app.command("status")
def orders_status(
    ref: str = typer.Argument(help="An order number from any system (CRM, ERP, hub)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (the API's shape)."),
) -> None:
    """Where an order is: stage, ERP state, shipped per line, deliveries, invoices, payments."""
    from hub.cli import console, db_url, fail
    from hub.db import session_scope
    from hub.documents.status import find_orders, order_status

    with session_scope(db_url()) as session:
        found = find_orders(session, ref=ref)
        if not found:
            fail(f"no order numbered {ref!r} in any system")
        if len(found) > 1:
            fail(f"{ref!r} names {len(found)} orders: " + ", ".join(f"{o['id']} ({o['customer']})" for o in found))
        status = order_status(session, found[0]["id"])
    assert status is not None
    if as_json:
        print(json.dumps(status, ensure_ascii=False, indent=2))
        return
    customer = (status["customer"] or {}).get("name", "?")
    flag = " [red]OVERDUE[/red]" if status["overdue"] else ""
    console.print(f"[bold]order {status['number']}[/bold] for {customer}: stage {status['stage'] or '-'}, "
                  f"ERP state {status['status'] or '-'}{flag}")
    console.print("numbers: " + ", ".join(f"{system} {number}" for system, number in status["numbers"].items()))
    lines = Table("product", "ordered", "shipped", title="lines")
    for line in status["lines"]:
        lines.add_row(line["product"] or "", line["ordered"], line["shipped"])
    console.print(lines)
    console.print(f"invoices: {len(status['invoices'])}, paid {status['paid']} {status['currency'] or ''}")
    if status["next_instalment"]:
        console.print(f"next due: {status['next_instalment']}")
    timeline = Table("when", "source", "what", "before", "after", title="timeline")
    for event in status["timeline"][:20]:
        timeline.add_row(event["at"] or "", event["source"], event["what"], event["before"] or "", event["after"] or "")
    console.print(timeline)
