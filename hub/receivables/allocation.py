"""Invoices to instalments, payments to invoices.

An invoice pays for the order it names (``invoices.order_id``), or for the order or instalment
its number or reference names ("SO-1042", "SO-1042/delivery"). Within an order an invoice
that names an instalment fills that one first; the rest fill the instalments oldest due first.
A credit note (negative total) takes back invoiced amounts, from the instalment it names, else
newest first, and reduces what is due by its amount (``credited``). An open invoice is paid at
least as far as its system's open amount (``amount_due``) says. Each part an invoice puts on an
instalment is due at the invoice's maturities (``instalment_dues``), earliest paid first.
Payments (``payments.invoice_id``) pay their invoice's allocations in the order they were made;
paying more than the invoice leaves a credit on it, shown, never lost.

This is per order and in Python: only orders whose documents changed since the last scan are
recomputed, and the greedy fill reads more clearly here than as window functions. A chunk
that fails on one invoice's or order's data is retried on halves until that one is set aside
(``isolation.py``); the others are allocated.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from hub.bulk import insert_rows
from hub.documents.models import Invoice, Order, Payment
from hub.receivables.isolation import SetAsideLog, invoice_label, isolated, order_label
from hub.receivables.models import Instalment, InstalmentDue, InvoiceAllocation, InvoiceTarget

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
    for found in isolated(
        session,
        log,
        "allocate",
        sorted(set(invoice_ids)),
        lambda chunk: _resolve(session, chunk),
        chunk=1000,
        record="invoice",
        label=invoice_label(session),
    ):
        affected |= found
    return affected


def _resolve(session: Session, chunk: list[int]) -> set[int]:
    """Place one chunk of invoices (all or none)."""
    affected: set[int] = set()
    invoices = list(session.scalars(select(Invoice).where(Invoice.id.in_(chunk))))
    tokens = {t for inv in invoices for t in _tokens(inv)}
    numbers = tokens | {t.split("/", 1)[0] for t in tokens}
    instalments = (
        _pairs(session, select(Instalment.reference, Instalment.id).where(Instalment.reference.in_(tokens)))
        if tokens
        else {}
    )
    inst_orders = (
        _pairs(session, select(Instalment.id, Instalment.order_id).where(Instalment.id.in_(instalments.values())))
        if instalments
        else {}
    )
    orders = _pairs(session, select(Order.number, Order.id).where(Order.number.in_(numbers))) if numbers else {}
    old = _pairs(
        session, select(InvoiceTarget.invoice_id, InvoiceTarget.order_id).where(InvoiceTarget.invoice_id.in_(chunk))
    )
    affected |= {o for o in old.values() if o is not None}
    session.execute(delete(InvoiceTarget).where(InvoiceTarget.invoice_id.in_(chunk)))
    rows = []
    for inv in invoices:
        mine = _tokens(inv)
        instalment = next((instalments[t] for t in sorted(mine) if t in instalments), None)
        order = (
            inv.order_id
            or (inst_orders.get(instalment) if instalment else None)
            or next((orders[t.split("/", 1)[0]] for t in sorted(mine) if t.split("/", 1)[0] in orders), None)
        )
        if instalment is not None and inst_orders.get(instalment) != order:
            instalment = None  # names another order's instalment: the order it names wins
        rows.append(
            {"invoice_id": inv.id, "order_id": order, "instalment_id": instalment, "paid": ZERO, "credit": ZERO}
        )
        if order is not None:
            affected.add(order)
    insert_rows(session, InvoiceTarget, rows)
    return affected


def changed_since(session: Session, since: datetime | None) -> set[int]:
    """Invoices changed (or paid) since ``since``, plus any the hub has not placed yet."""
    if since is None:
        return set(session.scalars(select(Invoice.id)))
    ids = set(session.scalars(select(Invoice.id).where(Invoice.updated_at >= since)))
    ids |= set(
        session.scalars(select(Payment.invoice_id).where(Payment.updated_at >= since, Payment.invoice_id.is_not(None)))
    )
    ids |= set(
        session.scalars(
            select(Invoice.id).where(
                ~select(InvoiceTarget.invoice_id).where(InvoiceTarget.invoice_id == Invoice.id).exists()
            )
        )
    )
    ids |= set(session.scalars(select(InvoiceTarget.invoice_id).where(InvoiceTarget.order_id.is_(None))))
    return ids


def allocate(session: Session, order_ids: Iterable[int], log: SetAsideLog | None = None) -> int:
    """Recompute allocations, invoiced, paid and outstanding of these orders' instalments;
    those that changed are marked ``dirty`` for the scan. Orders whose figures cannot be
    computed are set aside in ``log``; returns how many orders were allocated."""
    log = log if log is not None else SetAsideLog()
    todo = sorted(set(order_ids) - log.ids("order"))
    return sum(
        isolated(
            session,
            log,
            "allocate",
            todo,
            lambda chunk: _allocate(session, chunk),
            chunk=500,
            label=order_label(session),
        )
    )


def _allocate(session: Session, chunk: list[int]) -> int:
    """Allocate one chunk of orders (all or none)."""
    instalments: dict[int, list[Instalment]] = defaultdict(list)
    for inst in session.scalars(select(Instalment).where(Instalment.order_id.in_(chunk))):
        instalments[inst.order_id].append(inst)
    targets = [
        (t, inv)
        for t, inv in session.execute(
            select(InvoiceTarget, Invoice)
            .join(Invoice, Invoice.id == InvoiceTarget.invoice_id)
            .where(InvoiceTarget.order_id.in_(chunk), or_(Invoice.status.is_(None), Invoice.status != "draft"))
        ).all()
        if counts(inv)
    ]
    paid = _pairs(
        session,
        select(Payment.invoice_id, func.sum(Payment.amount))
        .where(Payment.invoice_id.in_([inv.id for _t, inv in targets]))
        .group_by(Payment.invoice_id),
    )
    by_order: dict[int, list[tuple[InvoiceTarget, Invoice]]] = defaultdict(list)
    for target, inv in targets:
        by_order[target.order_id].append((target, inv))  # type: ignore[index]
    mine = select(Instalment.id).where(Instalment.order_id.in_(chunk))
    session.execute(delete(InvoiceAllocation).where(InvoiceAllocation.instalment_id.in_(mine)))
    session.execute(delete(InstalmentDue).where(InstalmentDue.instalment_id.in_(mine)))
    rows: list[dict] = []
    dues: list[dict] = []
    totals: list[dict] = []
    for order_id in chunk:
        plan = sorted(instalments.get(order_id, []), key=_plan_order)
        made, pieces = _fill(plan, by_order.get(order_id, []), paid)
        rows += made
        for inst in plan:
            invoiced, settled, credited = pieces.figures[inst.id]
            due = max(inst.amount - credited, invoiced)
            schedule = pieces.of(inst, invoiced, due)
            dues += schedule
            due_date = _due_date(inst, schedule)
            overdue_from = None if due_date is None else due_date + timedelta(days=inst.grace_days)
            values = {
                "invoiced": invoiced,
                "paid": settled,
                "credited": credited,
                "outstanding": due - settled,
                "due_date": due_date,
                "overdue_from": overdue_from,
            }
            if any(getattr(inst, k) != v for k, v in values.items()):
                # dirty: the next scan (and the refresh after a sync) re-evaluates status and level
                totals.append({"id": inst.id, **values, "dirty": True})
    insert_rows(session, InvoiceAllocation, rows)
    insert_rows(session, InstalmentDue, dues)
    if totals:
        session.execute(update(Instalment), totals)
    return len(chunk)


def counts(inv: Invoice) -> bool:
    """Whether an invoice counts towards its order: not a draft, and not cancelled, unless a
    credit note cancelled it (Tryton's "cancelled with a cancel move", which it counts as paid):
    that one stays invoiced, and its credit note takes it back and off what is due."""
    if inv.status in SKIPPED_INVOICE_STATUS:
        return inv.status == "cancelled" and bool((inv.data or {}).get("credited"))
    return True


def plan_due(inst: Instalment) -> date | None:
    """The plan's due date: the stage's date plus the instalment's terms (as ``stages.date_instalments``)."""
    if inst.trigger_date is None:
        return None
    start = inst.trigger_date
    if inst.due_end_of_month:
        start = (start.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return start + timedelta(days=inst.due_days)


def _plan_order(inst: Instalment) -> tuple[bool, date, int]:
    due = plan_due(inst)
    return (due is None, due or date.max, inst.seq)


def _due_date(inst: Instalment, schedule: list[dict]) -> date | None:
    """The earliest date with money open; when nothing is open, the last date there was (the
    plan's when no invoice touched the instalment)."""
    if not schedule:
        return plan_due(inst)
    open_dates = [d["due_date"] for d in schedule if d["amount"] - d["paid"] > inst.tolerance and d["due_date"]]
    if open_dates:
        return min(open_dates)
    dated = [d["due_date"] for d in schedule if d["due_date"]]
    return max(dated) if dated else plan_due(inst)


class _Pieces:
    """What each invoice's maturities put on each instalment, for the due dates and ageing."""

    def __init__(self) -> None:
        #: instalment id -> [invoice id, maturity date, amount, paid]
        self.parts: dict[int, list[list[Any]]] = defaultdict(list)
        self.touched: set[int] = set()
        #: instalment id -> (invoiced, paid, credited)
        self.figures: dict[int, tuple[Decimal, Decimal, Decimal]] = {}

    def add(self, inv: Invoice, inst_id: int, amount: Decimal, paid: Decimal, used: Decimal) -> None:
        """Split an invoice's part on an instalment over the invoice's maturities, in date
        order (``used``: how much of the invoice earlier parts took); payments pay the earliest first."""
        self.touched.add(inst_id)
        for when, share in _maturity_slices(inv, used, amount):
            pay = min(paid, share)
            paid -= pay
            self.parts[inst_id].append([inv.id, when, share, pay])

    def take_back(self, inst_id: int, amount: Decimal) -> None:
        """A credit note un-invoices ``amount``: from the latest open maturities first."""
        self.touched.add(inst_id)
        for part in sorted(self.parts[inst_id], key=lambda p: p[1] or date.max, reverse=True):
            take = min(amount, part[2] - part[3])
            if take > 0:
                part[2] -= take
                amount -= take

    def of(self, inst: Instalment, invoiced: Decimal, due: Decimal) -> list[dict]:
        """The due rows of an instalment an invoice or credit note touched (none otherwise: it
        keeps the plan's date): its invoices' maturities, and the part not invoiced yet at the plan's date."""
        if inst.id not in self.touched:
            return []
        plan = plan_due(inst)  # an invoice without maturities is due when the plan says
        rows = [
            {"instalment_id": inst.id, "invoice_id": inv_id, "due_date": when or plan, "amount": amount, "paid": paid}
            for inv_id, when, amount, paid in self.parts[inst.id]
            if amount > 0
        ]
        rest = due - invoiced
        if rest > 0:
            rows.append(
                {"instalment_id": inst.id, "invoice_id": None, "due_date": plan_due(inst), "amount": rest, "paid": ZERO}
            )
        return rows


def _maturity_slices(inv: Invoice, start: Decimal, amount: Decimal) -> list[tuple[date | None, Decimal]]:
    """The slice ``[start, start + amount)`` of an invoice's total, cut at its maturities (date
    order; the last one takes what the maturities do not cover). No maturities: the issue date."""
    maturities = sorted(
        (
            (_day(m.get("date")), Decimal(str(m.get("amount") or 0)))
            for m in inv.due_dates or []
            if isinstance(m, dict) and _day(m.get("date")) is not None
        ),
        key=lambda m: m[0],  # type: ignore[arg-type, return-value]
    )
    maturities = [(d, a) for d, a in maturities if a > 0]
    if not maturities:
        return [(None, amount)]
    out: list[tuple[date | None, Decimal]] = []
    low, end = ZERO, start + amount
    for i, (when, size) in enumerate(maturities):
        high = low + size if i < len(maturities) - 1 else max(low + size, end)
        share = min(high, end) - max(low, start)
        if share > 0:
            out.append((when, share))
        low = high
    return out


def _day(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _fill(
    instalments: list[Instalment], invoices: list[tuple[InvoiceTarget, Invoice]], payments: dict[int, Decimal]
) -> tuple[list[dict], _Pieces]:
    pieces = _Pieces()
    if not instalments:
        return [], pieces
    room = {i.id: Decimal(i.amount) for i in instalments}
    invoiced = {i.id: ZERO for i in instalments}
    settled_on = {i.id: ZERO for i in instalments}
    credited = {i.id: ZERO for i in instalments}
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
            left, parts = total, list[tuple[int, Decimal]]()
            for inst in order_for(target):
                take = min(left, room[inst.id])
                if take > 0:
                    parts.append((inst.id, take))
                    room[inst.id] -= take
                    invoiced[inst.id] += take
                    left -= take
            if left > 0:  # invoiced beyond the plan: shows as invoiced > amount
                extra = target.instalment_id or instalments[-1].id
                parts.append((extra, left))
                invoiced[extra] += left
            settled = Decimal(payments.get(inv.id) or 0)
            if inv.status == "paid" and settled < total:
                settled = total  # the system says paid; its payment may not be in the hub
            elif inv.status == "open" and inv.amount_due is not None and 0 <= inv.amount_due < total - settled:
                # the system's open amount is the truth (a write-off, a payment the hub has not read)
                settled = total - Decimal(inv.amount_due)
            target.paid, target.credit = settled, max(settled - total, ZERO)
            to_spread, used = min(settled, total), ZERO
            for inst_id, amount in parts:
                pay = min(to_spread, amount)
                to_spread -= pay
                settled_on[inst_id] += pay
                made.append({"invoice_id": inv.id, "instalment_id": inst_id, "amount": amount, "paid": pay})
                pieces.add(inv, inst_id, amount, pay, used)
                used += amount
        else:  # credit note: takes back what was invoiced and not paid, and reduces what is due
            left = -total
            for taking_back in (True, False):  # invoiced instalments first, then what is still to invoice
                for inst in order_for(target, reverse=True):
                    due = max(inst.amount - credited[inst.id], invoiced[inst.id])
                    room_left = (invoiced[inst.id] if taking_back else due) - settled_on[inst.id]
                    take = min(left, room_left)
                    if take <= 0:
                        continue
                    back = max(min(take, invoiced[inst.id] - settled_on[inst.id]), ZERO)
                    invoiced[inst.id] -= back
                    room[inst.id] += back
                    credited[inst.id] += take
                    pieces.take_back(inst.id, back)
                    made.append({"invoice_id": inv.id, "instalment_id": inst.id, "amount": -take, "paid": ZERO})
                    left -= take
            target.credit = left  # credited beyond what the order has open: shown, never lost
    pieces.figures = {i.id: (invoiced[i.id], settled_on[i.id], credited[i.id]) for i in instalments}
    return made, pieces
