"""Invoices to instalments, payments to invoices.

An invoice pays for the order it names (``invoices.order_id``), or for the order or instalment
its number or reference names ("SO-1042", "SO-1042/delivery"). Within an order an invoice
that names an instalment fills that one first; the rest fill the instalments oldest due first.
A credit note (negative total) takes back invoiced amounts, from the instalment it names, else
newest first. Payments (``payments.invoice_id``) pay their invoice's allocations in the order
they were made; paying more than the invoice leaves a credit on it, shown, never lost.

This is per order and in Python: only orders whose documents changed since the last scan are
recomputed, and the greedy fill reads more clearly here than as window functions. A chunk
that fails on one invoice's or order's data is retried on halves until that one is set aside
(``isolation.py``); the others are allocated.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from hub.bulk import insert_rows
from hub.documents.models import Invoice, Order, Payment
from hub.receivables.isolation import SetAsideLog, invoice_label, isolated, order_label
from hub.receivables.models import Instalment, InvoiceAllocation, InvoiceTarget

ZERO = Decimal(0)
SKIPPED_INVOICE_STATUS = ("draft", "cancelled")
_TOKEN = re.compile(r"[\s,;]+")


def _pairs(session: Session, query: Any) -> dict[Any, Any]:
    return {key: value for key, value in session.execute(query)}


def _tokens(invoice: Invoice) -> set[str]:
    text = f"{invoice.number or ''} {(invoice.data or {}).get('reference') or ''}"
    return {t for t in _TOKEN.split(text.strip()) if t}


def resolve_targets(session: Session, invoice_ids: Iterable[int], log: SetAsideLog | None = None) -> set[int]:
    """(Re)decide what each invoice pays for; returns every order whose allocation changes.
    An invoice that cannot be placed is set aside in ``log`` and keeps its previous target."""
    log = log if log is not None else SetAsideLog()
    affected: set[int] = set()
    for found in isolated(session, log, "allocate", sorted(set(invoice_ids)), lambda chunk: _resolve(session, chunk),
                          chunk=1000, record="invoice", label=invoice_label(session)):
        affected |= found
    return affected


def _resolve(session: Session, chunk: list[int]) -> set[int]:
    """Place one chunk of invoices (all or none)."""
    affected: set[int] = set()
    invoices = list(session.scalars(select(Invoice).where(Invoice.id.in_(chunk))))
    tokens = {t for inv in invoices for t in _tokens(inv)}
    numbers = tokens | {t.split("/", 1)[0] for t in tokens}
    instalments = _pairs(session, select(Instalment.reference, Instalment.id)
                         .where(Instalment.reference.in_(tokens))) if tokens else {}
    inst_orders = _pairs(session, select(Instalment.id, Instalment.order_id)
                         .where(Instalment.id.in_(instalments.values()))) if instalments else {}
    orders = _pairs(session, select(Order.number, Order.id).where(Order.number.in_(numbers))) if numbers else {}
    old = _pairs(session, select(InvoiceTarget.invoice_id, InvoiceTarget.order_id)
                 .where(InvoiceTarget.invoice_id.in_(chunk)))
    affected |= {o for o in old.values() if o is not None}
    session.execute(delete(InvoiceTarget).where(InvoiceTarget.invoice_id.in_(chunk)))
    rows = []
    for inv in invoices:
        mine = _tokens(inv)
        instalment = next((instalments[t] for t in sorted(mine) if t in instalments), None)
        order = inv.order_id or (inst_orders.get(instalment) if instalment else None) or next(
            (orders[t.split("/", 1)[0]] for t in sorted(mine) if t.split("/", 1)[0] in orders), None)
        if instalment is not None and inst_orders.get(instalment) != order:
            instalment = None  # names another order's instalment: the order it names wins
        rows.append({"invoice_id": inv.id, "order_id": order, "instalment_id": instalment,
                     "paid": ZERO, "credit": ZERO})
        if order is not None:
            affected.add(order)
    insert_rows(session, InvoiceTarget, rows)
    return affected


def changed_since(session: Session, since: datetime | None) -> set[int]:
    """Invoices changed (or paid) since ``since``, plus any the hub has not placed yet."""
    if since is None:
        return set(session.scalars(select(Invoice.id)))
    ids = set(session.scalars(select(Invoice.id).where(Invoice.updated_at >= since)))
    ids |= set(session.scalars(select(Payment.invoice_id).where(Payment.updated_at >= since,
                                                                  Payment.invoice_id.is_not(None))))
    ids |= set(session.scalars(select(Invoice.id).where(
        ~select(InvoiceTarget.invoice_id).where(InvoiceTarget.invoice_id == Invoice.id).exists())))
    ids |= set(session.scalars(select(InvoiceTarget.invoice_id).where(InvoiceTarget.order_id.is_(None))))
    return ids


def allocate(session: Session, order_ids: Iterable[int], log: SetAsideLog | None = None) -> int:
    """Recompute allocations, invoiced, paid and outstanding of these orders' instalments;
    those that changed are marked ``dirty`` for the scan. Orders whose figures cannot be
    computed are set aside in ``log``; returns how many orders were allocated."""
    log = log if log is not None else SetAsideLog()
    todo = sorted(set(order_ids) - log.ids("order"))
    return sum(isolated(session, log, "allocate", todo, lambda chunk: _allocate(session, chunk),
                        chunk=500, label=order_label(session)))


def _allocate(session: Session, chunk: list[int]) -> int:
    """Allocate one chunk of orders (all or none)."""
    instalments: dict[int, list[Instalment]] = defaultdict(list)
    for inst in session.scalars(select(Instalment).where(Instalment.order_id.in_(chunk))):
        instalments[inst.order_id].append(inst)
    targets = list(session.execute(
        select(InvoiceTarget, Invoice).join(Invoice, Invoice.id == InvoiceTarget.invoice_id)
        .where(InvoiceTarget.order_id.in_(chunk),
               or_(Invoice.status.is_(None), Invoice.status.not_in(SKIPPED_INVOICE_STATUS)))).all())
    paid = _pairs(session, select(Payment.invoice_id, func.sum(Payment.amount))
                  .where(Payment.invoice_id.in_([inv.id for _t, inv in targets])).group_by(Payment.invoice_id))
    by_order: dict[int, list[tuple[InvoiceTarget, Invoice]]] = defaultdict(list)
    for target, inv in targets:
        by_order[target.order_id].append((target, inv))  # type: ignore[index]
    session.execute(delete(InvoiceAllocation).where(InvoiceAllocation.instalment_id.in_(
        select(Instalment.id).where(Instalment.order_id.in_(chunk)))))
    rows: list[dict] = []
    totals: list[dict] = []
    for order_id in chunk:
        made = _fill(sorted(instalments.get(order_id, []), key=_due_order), by_order.get(order_id, []), paid)
        rows += made
        per: dict[int, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
        for row in made:
            per[row["instalment_id"]][0] += row["amount"]
            per[row["instalment_id"]][1] += row["paid"]
        for inst in instalments.get(order_id, []):
            invoiced, settled = per.get(inst.id, [ZERO, ZERO])
            if (inst.invoiced, inst.paid, inst.outstanding) != (invoiced, settled, inst.amount - settled):
                # dirty: the next scan re-evaluates status and level (and resolves alerts)
                totals.append({"id": inst.id, "invoiced": invoiced, "paid": settled,
                               "outstanding": inst.amount - settled, "dirty": True})
    insert_rows(session, InvoiceAllocation, rows)
    if totals:
        session.execute(update(Instalment), totals)
    return len(chunk)


def _due_order(inst: Instalment) -> tuple[bool, date, int]:
    return (inst.due_date is None, inst.due_date or date.max, inst.seq)


def _fill(instalments: list[Instalment], invoices: list[tuple[InvoiceTarget, Invoice]],
          payments: dict[int, Decimal]) -> list[dict]:
    if not instalments:
        return []
    room = {i.id: Decimal(i.amount) for i in instalments}
    invoiced = {i.id: ZERO for i in instalments}
    made: list[dict] = []

    def order_for(target: InvoiceTarget, reverse: bool = False) -> list[Instalment]:
        rest = [i for i in (reversed(instalments) if reverse else instalments) if i.id != target.instalment_id]
        first = [i for i in instalments if i.id == target.instalment_id]
        return first + rest

    def key(pair: tuple[InvoiceTarget, Invoice]) -> tuple[bool, bool, date, int]:
        target, inv = pair  # invoices before credit notes; those naming an instalment first
        return ((inv.total or 0) < 0, target.instalment_id is None, inv.issued_on or date.max, inv.id)

    for target, inv in sorted(invoices, key=key):
        total = Decimal(inv.total or 0)
        if total >= 0:
            left, parts = total, []
            for inst in order_for(target):
                take = min(left, room[inst.id])
                if take > 0:
                    parts.append([inst.id, take])
                    room[inst.id] -= take
                    invoiced[inst.id] += take
                    left -= take
            if left > 0:  # invoiced beyond the plan: shows as invoiced > amount
                parts.append([target.instalment_id or instalments[-1].id, left])
            settled = Decimal(payments.get(inv.id) or 0)
            if inv.status == "paid" and settled < total:
                settled = total  # the system says paid; its payment may not be in the hub
            target.paid, target.credit = settled, max(settled - total, ZERO)
            to_spread = min(settled, total)
            for inst_id, amount in parts:
                pay = min(to_spread, amount)
                to_spread -= pay
                made.append({"invoice_id": inv.id, "instalment_id": inst_id, "amount": amount, "paid": pay})
        else:  # credit note: takes back what was invoiced
            left = -total
            for inst in order_for(target, reverse=True):
                take = min(left, invoiced[inst.id])
                if take > 0:
                    made.append({"invoice_id": inv.id, "instalment_id": inst.id, "amount": -take, "paid": ZERO})
                    invoiced[inst.id] -= take
                    room[inst.id] += take
                    left -= take
    return made
