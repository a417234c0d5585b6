"""Creating and updating Tryton sales from the hub's canonical order fields.

Idempotency key: the hub's own ``hub_ref`` (``concord:order:42``), never the customer's PO
number. ``reference`` is the customer's reference, and it is *data*: one customer may well send
two orders under one PO number (a framework order called off twice, an RFQ answered in parts);
keyed on it, the second order met the first one's sale and overwrote its lines. So the PO
number still goes to ``reference`` as the customer gave it (or stays empty), and the hub's ref
is stored on the sale in ``comment``, as a line of its own (``HUB_REF_MARKER`` + ref), and a
create first looks the sale up by that line — exactly (``find_sale``).

Why ``comment`` — what a Tryton 8.2 ``sale.sale`` offers (``trytond/modules/sale/sale.py``):
``reference`` is the customer's and is shown and searched as such; ``description`` is the
sale's title (the hub may send one) and read-only after draft; ``number`` is Tryton's sequence;
``origin`` only takes ``sale.sale`` records; an ``ir.note`` would be a second RPC call after the
create, so a process dying between the two would leave a sale no retry can find. ``comment``
is free text set in the same ``create`` call as the sale (one transaction in Tryton), editable
in every state, and the hub never writes it again, so a user's own words there are kept. The
price: Tryton's sale report prints the comment, hence a marker a reader understands. A sale
copied in Tryton copies its comment: the lookup takes the oldest sale carrying the ref, the
one the hub made. Sales made before this key (their ``reference`` was the hub's ref when the
customer gave none) are still found by that ref.

A sale found (a retry after a lost answer, or a create that died between ``create`` and
``confirm``) is brought to match the hub's order like an update, so retries converge and
never make a second sale.

Defaults are Tryton's own: the header's addresses, payment term and shipment method come
from ``sale.sale.on_change_party`` and each product's unit and taxes from
``sale.line.on_change_product`` — what Tryton's client does — so party tax rules and
configuration apply as if a user had typed the order. The hub's unit price wins over the
list price when it gives one.

Lines are matched by product code and position among the lines of that product (the k-th
hub line of P-100 is the k-th Tryton line of P-100): the hub's line ids are not Tryton's, and
a product appearing once per order — the common case — matches whatever the order of lines.

Tryton lets lines, description and date change only in ``draft``; a ``quotation`` is put back
to draft, changed and quoted again. A change to a confirmed (processing, done, cancelled)
sale is refused with a RecordError naming the sale and its state — only ``reference``, which
Tryton keeps editable, is written then. Status moves forward only (draft → quotation →
confirmed); Tryton owns the workflow after that.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from connectors.base import WriteResult
from connectors.errors import RecordError
from connectors.tryton.rpc import TrytonRPC

_RANK = {"draft": 0, "quotation": 1, "confirmed": 2, "processing": 3, "done": 4}
#: The hub's order status → the Tryton state a write may move a sale to; ``done`` is Tryton's
#: to reach (shipped and invoiced), so it asks for no move.
_TARGET = {
    "draft": "draft",
    "quotation": "quotation",
    "confirmed": "confirmed",
    "processing": "confirmed",
    "done": None,
    "cancelled": "cancelled",
}
_LINE_FIELDS = ["type", "product", "quantity", "unit_price", "description"]
#: Starts the line of a sale's ``comment`` that carries the hub's ref of the order.
HUB_REF_MARKER = "Concord hub ref: "


def _decimal(value: Any, what: str) -> Decimal:
    try:
        return Decimal(str(value))
    except ArithmeticError:
        raise RecordError(f"tryton: {what}: {value!r} is not a number") from None


def _date(value: Any, what: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise RecordError(f"tryton: {what}: {value!r} is not a date") from None


def _target_state(data: Mapping[str, Any], where: str) -> str | None:
    status = data.get("status")
    if status is None:
        return None
    if status not in _TARGET:
        raise RecordError(
            f"tryton: {where}: cannot put a sale in status {status!r} (known: {', '.join(sorted(_TARGET))})"
        )
    return _TARGET[status]


class _Products:
    """The order's products by code, with their Tryton defaults (unit, taxes, list price)."""

    def __init__(self, rpc: TrytonRPC, lines: Sequence[Mapping[str, Any]], where: str):
        codes = [str(line.get("product") or "") for line in lines]
        for position, code in enumerate(codes, 1):
            if not code:
                raise RecordError(f"tryton: {where}: line {position} has no product code")
        rows = rpc.read(
            "product.product",
            rpc.search("product.product", [("code", "in", sorted(set(codes)))]),
            ["code", "salable", "sale_uom"],
        )
        self.by_code = {r["code"]: r for r in rows}
        self.code_of = {r["id"]: r["code"] for r in rows}
        unknown = [f"{c!r} (line {i})" for i, c in enumerate(codes, 1) if c not in self.by_code]
        if unknown:
            raise RecordError(
                f"tryton: {where}: unknown product code {', '.join(unknown)} (no product.product with that code)"
            )
        unsalable = sorted({c for c in codes if not self.by_code[c]["salable"]})
        if unsalable:
            raise RecordError(f"tryton: {where}: product {', '.join(map(repr, unsalable))} is not salable in Tryton")
        self._rpc = rpc
        self._defaults: dict[str, dict[str, Any]] = {}

    def defaults(self, code: str, header: Mapping[str, Any]) -> dict[str, Any]:
        if code not in self._defaults:
            product = self.by_code[code]
            changes = self._rpc.on_change(
                "sale.line",
                "product",
                {
                    "type": "line",
                    "product": product["id"],
                    "unit": None,
                    "taxes": [],
                    "quantity": None,
                    "sale": None,
                    "company": header.get("company"),
                    "_parent_sale.party": header["party"],
                    "_parent_sale.invoice_party": None,
                    "_parent_sale.currency": header.get("currency"),
                    "_parent_sale.sale_date": header.get("sale_date"),
                },
            )
            taxes = [tax["id"] for _index, tax in (changes.get("taxes") or {}).get("add", [])]
            self._defaults[code] = {
                "unit": changes.get("unit") or product["sale_uom"],
                "unit_price": changes.get("unit_price"),
                "taxes": [["add", taxes]] if taxes else [],
            }
        return self._defaults[code]

    def new_line(self, line: Mapping[str, Any], header: Mapping[str, Any], where: str) -> dict[str, Any]:
        code = str(line["product"])
        defaults = self.defaults(code, header)
        price = line.get("unit_price")
        values = {
            "type": "line",
            "product": self.by_code[code]["id"],
            "quantity": float(_decimal(line.get("quantity"), f"{where}: {code} quantity")),
            "unit": defaults["unit"],
            "unit_price": _decimal(price, f"{where}: {code} unit_price")
            if price is not None
            else defaults["unit_price"],
            "description": line.get("description"),
        }
        if values["unit_price"] is None:
            raise RecordError(f"tryton: {where}: {code} has no unit price and no list price in Tryton")
        if defaults["taxes"]:
            values["taxes"] = defaults["taxes"]
        return values


def _currency_id(rpc: TrytonRPC, code: str, where: str) -> int:
    ids = rpc.search("currency.currency", [("code", "=", code.upper())], 1)
    if not ids:
        raise RecordError(f"tryton: {where}: no currency with ISO code {code!r} in currency.currency")
    return ids[0]


def _party_id(data: Mapping[str, Any], where: str) -> int:
    try:
        return int(data["customer"])
    except (KeyError, TypeError, ValueError):
        raise RecordError(
            f"tryton: {where}: customer must be the Tryton party id, got {data.get('customer')!r}"
        ) from None


def hub_ref_line(hub_ref: str) -> str:
    return f"{HUB_REF_MARKER}{hub_ref}"


def hub_ref_of(comment: str | None) -> str | None:
    """The hub ref a sale's comment carries, if any."""
    for line in (comment or "").splitlines():
        if line.startswith(HUB_REF_MARKER):
            return line[len(HUB_REF_MARKER) :].strip()
    return None


def find_sale(rpc: TrytonRPC, hub_ref: str) -> int | None:
    """The sale the hub made for ``hub_ref``: the oldest whose comment has the ref's line (the
    search is a substring match, so ``concord:order:4`` also finds ``…:42``: each candidate's
    line is compared exactly), else — sales made before the ref moved to the comment — the
    oldest whose ``reference`` is the ref itself."""
    found = rpc.search("sale.sale", [("comment", "like", f"%{hub_ref_line(hub_ref)}%")], None, [("id", "ASC")])
    for row in rpc.read("sale.sale", found, ["comment"]):
        if hub_ref_of(row["comment"]) == hub_ref:
            return int(row["id"])
    legacy = rpc.search("sale.sale", [("reference", "=", hub_ref)], 1, [("id", "ASC")])
    return legacy[0] if legacy else None


def create_sale(rpc: TrytonRPC, data: Mapping[str, Any]) -> WriteResult:
    hub_ref = data.get("hub_ref")
    if not hub_ref:
        raise RecordError(
            "tryton: creating an order needs data['hub_ref'] (the hub's key), "
            "without it a retried create could make a second sale"
        )
    reference = data.get("reference") or None  # the customer's, kept as data
    where = f"order {hub_ref}" + (f" (reference {reference})" if reference else "")
    party = _party_id(data, where)
    existing = find_sale(rpc, str(hub_ref))
    if existing is not None:  # a retry after a lost answer: bring it up to date, never duplicate
        return update_sale(rpc, data, existing)
    if data.get("status") in ("done", "cancelled"):
        raise RecordError(f"tryton: {where}: will not create a sale that is already {data['status']}")
    target = _target_state(data, where) or "draft"
    lines = list(data.get("lines") or [])
    products = _Products(rpc, lines, where)
    header: dict[str, Any] = {"party": party, "company": rpc.context.get("company")}
    defaults = rpc.on_change(
        "sale.sale",
        "party",
        {
            **header,
            "invoice_party": None,
            "shipment_party": None,
            "warehouse": None,
            "payment_term": None,
            "lines": [],
        },
    )
    # an empty value here is only what we sent; Tryton's create fills its defaults (warehouse)
    header.update({k: v for k, v in defaults.items() if v is not None})
    if data.get("currency"):
        header["currency"] = _currency_id(rpc, str(data["currency"]), where)
    header.update(
        {
            "reference": reference,
            "description": data.get("description"),
            "comment": hub_ref_line(str(hub_ref)),  # the key, in the same transaction as the sale
            "sale_date": _date(data.get("ordered_on"), f"{where}: ordered_on"),
        }
    )
    header["lines"] = [["create", [products.new_line(line, header, where) for line in lines]]]
    [sale_id] = rpc.create("sale.sale", [header])
    _state, number = _advance(rpc, sale_id, "draft", target)
    return WriteResult(str(sale_id), created=True, version=number)


def _advance(rpc: TrytonRPC, sale_id: int, state: str, target: str | None) -> tuple[str, str | None]:
    """Move the sale forward to ``target`` (never back, but for cancelling a draft/quotation)."""
    if target == "cancelled" and state in ("draft", "quotation"):
        rpc.button("sale.sale", "cancel", [sale_id])
    elif target in _RANK and state in _RANK:
        if _RANK[state] < _RANK["quotation"] <= _RANK[target]:
            rpc.button("sale.sale", "quote", [sale_id])
        if _RANK[state] < _RANK["confirmed"] <= _RANK[target]:
            rpc.button("sale.sale", "confirm", [sale_id])  # Tryton then processes it (shipment)
    [sale] = rpc.read("sale.sale", [sale_id], ["state", "number"])
    return sale["state"], sale["number"]


def _line_changes(
    current: list[dict[str, Any]],
    wanted: Sequence[Mapping[str, Any]],
    products: _Products,
    header: Mapping[str, Any],
    where: str,
) -> tuple[list[Any], list[str]]:
    """One2many actions that make the sale's lines the hub's, and a readable list of them."""
    pending: dict[str, list[dict[str, Any]]] = {}
    for row in current:
        pending.setdefault(products.code_of.get(row["product"], f"product {row['product']}"), []).append(row)
    actions: list[Any] = []
    said: list[str] = []
    new: list[dict[str, Any]] = []
    for line in wanted:
        code = str(line["product"])
        if not pending.get(code):
            new.append(products.new_line(line, header, where))
            said.append(f"add {code} × {line.get('quantity')}")
            continue
        have = pending[code].pop(0)
        values: dict[str, Any] = {}
        quantity = _decimal(line.get("quantity"), f"{where}: {code} quantity")
        if _decimal(have["quantity"], code) != quantity:
            values["quantity"] = float(quantity)
            said.append(f"{code} quantity {have['quantity']:g} → {quantity}")
        if line.get("unit_price") is not None:
            price = _decimal(line["unit_price"], f"{where}: {code} unit_price")
            if have["unit_price"] != price:
                values["unit_price"] = price
                said.append(f"{code} unit price {have['unit_price']} → {price}")
        if line.get("description") is not None and line["description"] != have["description"]:
            values["description"] = line["description"]
            said.append(f"{code} description")
        if values:
            actions.append(["write", [have["id"]], values])
    if new:
        actions.append(["create", new])
    gone = [row for rows in pending.values() for row in rows]
    if gone:
        actions.append(["delete", [row["id"] for row in gone]])
        said += [f"remove {products.code_of.get(row['product'], row['product'])}" for row in gone]
    return actions, said


def update_sale(rpc: TrytonRPC, data: Mapping[str, Any], sale_id: int) -> WriteResult:
    rows = rpc.read(
        "sale.sale",
        [sale_id],
        ["number", "state", "party", "company", "currency", "reference", "description", "sale_date", "lines"],
    )
    if not rows:
        raise RecordError(f"tryton: sale {sale_id} does not exist (deleted in Tryton?)")
    [sale] = rows
    name = sale["number"] or f"{sale_id} (draft, no number yet)"
    where = f"sale {name}"
    target = _target_state(data, where)
    if data.get("customer") is not None and _party_id(data, where) != sale["party"]:
        raise RecordError(
            f"tryton: {where} belongs to party {sale['party']}, not {data['customer']}: "
            "the hub does not move a sale to another customer; change it in Tryton"
        )

    draft_only: dict[str, Any] = {}
    said: list[str] = []
    if data.get("description") is not None and data["description"] != sale["description"]:
        draft_only["description"] = data["description"]
        said.append("description")
    ordered_on = _date(data.get("ordered_on"), f"{where}: ordered_on")
    if ordered_on is not None and ordered_on != sale["sale_date"]:
        draft_only["sale_date"] = ordered_on
        said.append(f"date → {ordered_on}")
    if data.get("currency"):
        currency = _currency_id(rpc, str(data["currency"]), where)
        if currency != sale["currency"]:
            draft_only["currency"] = currency
            said.append(f"currency → {data['currency']}")
    if "lines" in data and data["lines"] is not None:
        current = [l for l in rpc.read("sale.line", sale["lines"], ["id", *_LINE_FIELDS]) if l["type"] == "line"]
        products = _Products(rpc, list(data["lines"]), where)
        products.code_of.update(
            {
                r["id"]: r["code"]
                for r in rpc.read("product.product", {l["product"] for l in current} - set(products.code_of), ["code"])
            }
        )
        header = {
            "party": sale["party"],
            "company": sale["company"],
            "currency": sale["currency"],
            "sale_date": sale["sale_date"],
        }
        actions, line_said = _line_changes(current, list(data["lines"]), products, header, where)
        if actions:
            draft_only["lines"] = actions
            said += line_said

    state = sale["state"]
    if draft_only:
        if state == "quotation":  # Tryton's own way to change a quotation: back to draft, then quote
            rpc.button("sale.sale", "draft", [sale_id])
            target = target or "quotation"
        elif state != "draft":
            raise RecordError(
                f"sale {sale['number'] or sale_id} is {state} in Tryton; change it there or "
                f"cancel it (the hub wanted: {'; '.join(said)})"
            )
        try:
            rpc.write("sale.sale", [sale_id], draft_only, once=True)
        except RecordError:
            if state == "quotation":  # refused: leave the sale as it was, not in draft
                rpc.button("sale.sale", "quote", [sale_id])
            raise
        state = "draft"
    reference = data.get("reference")
    if reference and reference != sale["reference"]:
        rpc.write("sale.sale", [sale_id], {"reference": reference})
    if target == "cancelled" and state not in ("draft", "quotation", "cancelled"):
        raise RecordError(f"sale {sale['number'] or sale_id} is {state} in Tryton; cancel it there")
    state, number = _advance(rpc, sale_id, state, target)
    return WriteResult(str(sale_id), created=False, version=number)
