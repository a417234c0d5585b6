"""`hub orders …`: one order's status, found by any system's order number."""

from __future__ import annotations

import typer
from rich.table import Table

from hub.terminal import json_text, safe

orders_app = typer.Typer(help="Orders across every system.", no_args_is_help=True)


def describe_instalment(instalment: dict | None, currency: str | None) -> str:
    """ "30 % on delivery: 1,200.00 EUR due 2026-12-31 (outstanding 1,200.00)" — a person's
    line, not a Python dict."""
    if not instalment:
        return "nothing due"
    amount = instalment.get("outstanding") or instalment.get("amount")
    parts = [f"{instalment['stage']}: " if instalment.get("stage") else ""]
    parts.append(f"{_money(amount)} {currency or ''}".rstrip() if amount is not None else "an amount")
    parts.append(f" due {instalment.get('due_date') or 'when the stage is reached'}")
    if instalment.get("status"):
        parts.append(f" ({instalment['status']})")
    return "".join(parts)


def _money(value: object) -> str:
    from decimal import Decimal, InvalidOperation

    try:
        return f"{Decimal(str(value)):,.2f}"
    except (InvalidOperation, ValueError):
        return str(value)


@orders_app.command("status")
def orders_status(
    ref: str = typer.Argument(help="An order number from any system (CRM, ERP, hub)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (the API's shape)."),
) -> None:
    """Where an order is: stage, ERP state, shipped per line, deliveries, invoices, payments."""
    from hub.cli import console, db_url, fail
    from hub.db import session_scope
    from hub.documents.search import find_orders
    from hub.documents.status import order_status

    with session_scope(db_url()) as session:
        found = find_orders(session, ref=ref)
        if not found:
            fail(f"no order numbered {ref!r} in any system")
        if len(found) > 1:
            fail(f"{ref!r} names {len(found)} orders: " + ", ".join(f"{o['id']} ({o['customer']})" for o in found))
        status = order_status(session, found[0]["id"])
    assert status is not None
    if as_json:
        print(json_text(status))
        return
    customer = (status["customer"] or {}).get("name", "?")
    flag = " [red]OVERDUE[/red]" if status["overdue"] else ""
    console.print(
        f"[bold]order {safe(status['number'])}[/bold] for {safe(customer)}: stage {safe(status['stage'] or '-')}, "
        f"ERP state {safe(status['status'] or '-')}{flag}"
    )
    console.print(
        "numbers: " + ", ".join(f"{safe(system)} {safe(number)}" for system, number in status["numbers"].items())
    )
    lines = Table("product", "ordered", "shipped", title="lines")
    for line in status["lines"]:
        lines.add_row(safe(line["product"]), safe(line["ordered"]), safe(line["shipped"]))
    console.print(lines)
    console.print(f"invoices: {len(status['invoices'])}, paid {safe(status['paid'])} {safe(status['currency'])}")
    console.print(f"next due: {safe(describe_instalment(status['next_instalment'], status['currency']))}")
    timeline = Table("when", "source", "what", "before", "after", title="timeline")
    for event in status["timeline"][:20]:
        timeline.add_row(*(safe(event[k]) for k in ("at", "source", "what", "before", "after")))
    console.print(timeline)
