"""The generic shape (SugarCRM / SuiteCRM v4_1): ``login``, ``get_entry_list``, ``set_entry``,
rpc/encoded as NuSOAP serves it.

Every value travels as text in ``name_value_list`` pairs; modules are the store's tables
under Sugar's names. Requests are read as NuSOAP reads them: an array is an array only when
it carries ``SOAP-ENC:arrayType`` — without it, it is a struct and ``set_entry`` sees no
field at all (the real server then stores a record with every field empty and answers with its
id; the simulator's store refuses a record without its required fields). Answers
are section-5 encoded (arrays with ``arrayType``, part accessors unqualified). ``order_by``
takes bare field names; a qualified one is dropped silently (see ``_order``). A record's lines
are a link (``line_items``): read through ``link_name_to_fields_array`` and answered in
``relationship_list``; a module whose lines the outside may set (Shipments) takes them in
``set_entry`` as one pair named after the link, its value a JSON array of objects with the
link's fields — how a Studio-built module with a lines TextArea stores them. ``query``
accepts only what this parser understands — conditions ``[table.]field OP 'value'`` joined by
AND — anything else is a fault, never ignored.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import uuid
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree

from simulators.legacy_crm.envelope import XSI, Fault, local
from simulators.legacy_crm.store import CrmStore, StoreError

NS = "http://www.sugarcrm.com/sugarcrm"
ENC = "http://schemas.xmlsoap.org/soap/encoding/"
XSD = "http://www.w3.org/2001/XMLSchema"
_NSMAP = {"ns1": NS, "tns": NS, "SOAP-ENC": ENC, "xsi": XSI, "xsd": XSD}
WSDL = (Path(__file__).parent / "sugar.wsdl").read_text(encoding="utf-8")

#: module → (store table, its fields as Sugar names them)
MODULES: dict[str, tuple[str, tuple[str, ...]]] = {
    "Accounts": (
        "accounts",
        (
            "id",
            "name",
            "vat_id_c",
            "email1",
            "phone_office",
            "billing_address_street",
            "billing_address_city",
            "billing_address_postalcode",
            "billing_address_country",
            "date_entered",
            "date_modified",
        ),
    ),
    "Contacts": ("contacts", ("id", "first_name", "last_name", "email1", "phone_work", "account_id", "date_modified")),
    "Opportunities": (
        "opportunities",
        (
            "id",
            "name",
            "account_id",
            "sales_stage",
            "amount",
            "currency_id",
            "date_closed",
            "assigned_user_name",
            "lost_reason_c",
            "date_entered",
            "date_modified",
        ),
    ),
    "Orders": (
        "orders",
        (
            "id",
            "order_number",
            "name",
            "account_id",
            "status",
            "order_date",
            "currency_id",
            "total_amount",
            "erp_number",
            "date_entered",
            "date_modified",
        ),
    ),
    "Shipments": (
        "shipments",
        ("id", "name", "order_id", "status", "planned_date", "shipped_date", "date_entered", "date_modified"),
    ),
    "Cases": (
        "cases",
        (
            "id",
            "case_number",
            "name",
            "account_id",
            "status",
            "priority",
            "date_entered",
            "date_closed_c",
            "date_modified",
        ),
    ),
}
LINKS = {
    ("Orders", "line_items"): ("id", "product_code", "name", "product_qty", "product_unit_price"),
    # named like the hub's shipment lines: the module was built for the hub's deliveries
    ("Shipments", "line_items"): ("order_line", "product", "quantity"),
}
#: Links set_entry takes as a JSON pair (module → link name).
WRITABLE_LINKS = {"Shipments": "line_items"}
_CONDITION = re.compile(r"^\s*(?:(\w+)\.)?(\w+)\s*(>=|<=|=|>|<)\s*'([^']*)'\s*$")
_ORDER = re.compile(r"^\s*(?:(\w+)\.)?(\w+)(?:\s+(ASC))?\s*$", re.IGNORECASE)


def wsdl(location: str) -> bytes:
    return WSDL.replace("{location}", location).encode()


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, (date, Decimal)):
        return str(value)
    return str(value)


def handle(store: CrmStore, request: etree._Element) -> etree._Element:
    operation = local(request)
    args = {local(part): _decode(part) for part in request if isinstance(part.tag, str)}
    if operation == "login":
        return _respond("login", _entry(_login(store, args), "Users", {}))
    if operation not in ("get_entry_list", "set_entry"):
        raise Fault(f"unknown operation {operation!r}")
    if args.get("session") not in store.sessions:
        raise Fault("Invalid Session ID", "soap:Client.InvalidSession")
    module = args.get("module_name") or ""
    if module not in MODULES:
        raise Fault(f"module {module!r} does not exist (modules: {', '.join(MODULES)})")
    try:
        if operation == "get_entry_list":
            return _get_entry_list(store, module, args)
        return _set_entry(store, module, args)
    except StoreError as exc:
        raise Fault(str(exc)) from None


def _login(store: CrmStore, args: dict[str, Any]) -> str:
    auth = args.get("user_auth") or {}
    password = store.users.get(auth.get("user_name", "")) if isinstance(auth, dict) else None
    # Sugar's clients send the MD5 of the password, never the password itself.
    if password is None or hashlib.md5(password.encode()).hexdigest() != auth.get("password"):
        raise Fault("Invalid Login", "soap:Client.InvalidLogin")
    session = uuid.uuid4().hex
    with store.lock:
        store.sessions.add(session)
    return session


def _where(module: str, query: str) -> list[tuple[str, str, str]]:
    table, fields = MODULES[module]
    out = []
    for part in re.split(r"\s+AND\s+", query.strip(), flags=re.IGNORECASE) if query.strip() else []:
        match = _CONDITION.match(part)
        if not match or (match[1] and match[1] != table) or match[2] not in fields:
            raise Fault(
                f"unsupported query {query!r}: cannot read {part.strip()!r} "
                f"(conditions are [{table}.]field OP 'value' joined by AND)"
            )
        out.append((match[2], match[3], match[4]))
    return out


def _order(module: str, order_by: str) -> list[str] | None:
    """The sort keys, as SuiteCRM takes ``order_by``: bare field names only. A qualified one
    (``accounts.id``) is dropped without a word, as the real API does; with no order left the
    rows come back in no particular order (None), so offset paging repeats and skips rows."""
    _table, fields = MODULES[module]
    keys = []
    for part in order_by.split(",") if order_by.strip() else []:
        match = _ORDER.match(part)
        if match and match[1]:
            continue  # qualified: silently dropped
        if not match or match[2] not in fields:
            raise Fault(f"unsupported order_by {order_by!r} (fields of {module}, ascending)")
        keys.append(match[2])
    return [*keys, "id"] if keys else None


def _get_entry_list(store: CrmStore, module: str, args: dict[str, Any]) -> etree._Element:
    table, fields = MODULES[module]
    order = _order(module, args.get("order_by") or "")
    rows = store.select(table, _where(module, args.get("query") or ""), order or ("id",))
    if order is None:  # the database's own order, which differs from one query to the next
        random.Random(len(store.calls)).shuffle(rows)
    offset, limit = int(args.get("offset") or 0), min(int(args.get("max_results") or 20), 1000)
    page = rows[offset : offset + limit]
    selected = [f for f in _items(args.get("select_fields")) if f] or list(fields)
    unknown = sorted(set(selected) - set(fields))
    if unknown:
        raise Fault(f"{module} has no field(s) {', '.join(unknown)}")
    links = {link["name"]: _items(link.get("value")) for link in _items(args.get("link_name_to_fields_array"))}
    result = _el("return", "tns:get_entry_list_result_version2")
    for name, value in (("result_count", len(page)), ("total_count", len(rows)), ("next_offset", offset + len(page))):
        result.append(_el(name, "xsd:int", value))
    entries, relationships = [], []
    for row in page:
        entries.append(_entry(row["id"], module, {f: row.get(f) for f in selected}, "item"))
        named = []
        for name, wanted in links.items():
            known = LINKS.get((module, name))
            if known is None:
                raise Fault(f"{module} has no link {name!r}")
            link = _el("item", "tns:link_name_value")
            link.append(_el("name", "xsd:string", name))
            link.append(
                _array(
                    "records",
                    "tns:link_array_list",
                    "tns:link_value",
                    [
                        _pairs("item", {f: line.get(f) for f in (wanted or known)}, "tns:link_value")
                        for line in row.get("lines") or []
                    ],
                )
            )
            named.append(link)
        holder = _el("item", "tns:link_list2")
        holder.append(_array("link_list", "tns:link_list", "tns:link_name_value", named))
        relationships.append(holder)
    result.append(_array("entry_list", "tns:entry_list", "tns:entry_value", entries))
    result.append(_array("relationship_list", "tns:link_lists", "tns:link_list2", relationships))
    return _respond("get_entry_list", result)


def _set_entry(store: CrmStore, module: str, args: dict[str, Any]) -> etree._Element:
    table, fields = MODULES[module]
    # a pair without a name keeps the key None: it is then refused as an unknown field, as NuSOAP would
    values: dict[Any, Any] = {
        pair.get("name"): pair.get("value") for pair in _items(args.get("name_value_list")) if isinstance(pair, dict)
    }
    link = WRITABLE_LINKS.get(module)
    if link is not None and link in values:
        values["lines"] = _json_lines(module, link, values.pop(link))
    unknown = sorted(set(values) - set(fields) - {"lines"})
    if unknown:
        raise Fault(f"{module} has no field(s) {', '.join(map(str, unknown))}")
    values.pop("date_modified", None)
    if values.get("id") and values["id"] not in store.tables[table]:
        raise Fault(f"{module} record {values['id']!r} does not exist")
    row = store.save(table, values)
    result = _el("return", "tns:new_set_entry_result")
    result.append(_el("id", "xsd:string", row["id"]))
    return _respond("set_entry", result)


def _json_lines(module: str, link: str, value: Any) -> list[dict[str, Any]]:
    """The lines of a ``set_entry`` pair: a JSON array of objects with the link's fields only."""
    known = LINKS[(module, link)]
    try:
        lines = json.loads(value or "[]")
    except json.JSONDecodeError as exc:
        raise Fault(f"{module} {link}: not JSON ({exc})") from None
    if not isinstance(lines, list) or not all(isinstance(line, dict) for line in lines):
        raise Fault(f"{module} {link}: expected a JSON array of objects")
    for number, line in enumerate(lines, 1):
        unknown = sorted(set(line) - set(known))
        if unknown:
            raise Fault(f"{module} {link} line {number}: no field(s) {', '.join(unknown)} (fields: {', '.join(known)})")
    return lines


def _decode(node: etree._Element) -> Any:
    """A request value as NuSOAP reads it: ``arrayType`` makes an array (a list), other
    elements with children are structs (a dict, a repeated name keeps its last value)."""
    if node.get(f"{{{XSI}}}nil") in ("true", "1"):
        return None
    children = [child for child in node if isinstance(child.tag, str)]
    if node.get(f"{{{ENC}}}arrayType") is not None:
        return [_decode(child) for child in children]
    if children:
        return {local(child): _decode(child) for child in children}
    return node.text or ""


def _items(value: Any) -> list[Any]:
    """A SOAP-ENC array as a list; anything else (a struct where an array belongs) holds no items."""
    return value if isinstance(value, list) else []


def _el(tag: str, xsi_type: str | None = None, value: Any = None) -> etree._Element:
    node = etree.Element(tag)
    if xsi_type:
        node.set(f"{{{XSI}}}type", xsi_type)
    if value is not None:
        node.text = str(value)
    return node


def _array(tag: str, array_type: str, member: str, items: list[etree._Element]) -> etree._Element:
    node = _el(tag, array_type)
    node.set(f"{{{ENC}}}arrayType", f"{member}[{len(items)}]")
    node.extend(items)
    return node


def _pairs(tag: str, values: dict[str, Any], array_type: str = "tns:name_value_list") -> etree._Element:
    items = []
    for name, value in values.items():
        item = _el("item", "tns:name_value")
        item.append(_el("name", "xsd:string", name))
        item.append(_el("value", "xsd:string", text(value)))
        items.append(item)
    return _array(tag, array_type, "tns:name_value", items)


def _entry(entry_id: str, module: str, values: dict[str, Any], tag: str = "return") -> etree._Element:
    entry = _el(tag, "tns:entry_value")
    entry.append(_el("id", "xsd:string", entry_id))
    entry.append(_el("module_name", "xsd:string", module))
    entry.append(_pairs("name_value_list", values))
    return entry


def _respond(operation: str, result: etree._Element) -> etree._Element:
    response = etree.Element(f"{{{NS}}}{operation}Response", nsmap=_NSMAP)
    response.append(result)
    return response
