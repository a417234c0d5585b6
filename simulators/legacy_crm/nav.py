"""The typed shape, modelled on Microsoft Dynamics NAV page web services.

Each page (Customer, Opportunity, Sales_Order, Service_Case) has ``Read(No)``,
``ReadMultiple(filter[], bookmarkKey, setSize)``, ``Create`` and ``Update`` with typed elements
in its own namespace (``urn:microsoft-dynamics-schemas/page/<page>``), all in one WSDL that is
generated from :data:`PAGES`, so the schema and the answers cannot disagree. Records carry a
``Key`` (NAV's bookmark and concurrency token): ``Update`` must send the current one. Every
call must carry a WS-Security UsernameToken of a known user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from lxml import etree

from simulators.legacy_crm.envelope import WSSE, Fault, local, to_python
from simulators.legacy_crm.store import (
    CASE_PRIORITIES,
    CASE_STATUSES,
    ORDER_STATUSES,
    SALES_STAGES,
    CrmStore,
    StoreError,
)

WSDL_NS = "urn:microsoft-dynamics-schemas/nav"

#: (NAV element, store field, xsd type or a tuple of the store's allowed values)
Field = tuple[str, str, "str | tuple[str, ...]"]


@dataclass(frozen=True)
class Page:
    name: str
    table: str
    fields: tuple[Field, ...]
    lines: tuple[str, str, tuple[Field, ...]] | None = None  # (list element, line element, fields)

    @property
    def ns(self) -> str:
        return f"urn:microsoft-dynamics-schemas/page/{self.name.lower()}"


MODIFIED: Field = ("Last_Modified_Date_Time", "date_modified", "dateTime")
PAGES = {
    page.name: page
    for page in (
        Page(
            "Customer",
            "accounts",
            (
                ("No", "id", "string"),
                ("Name", "name", "string"),
                ("VAT_Registration_No", "vat_id_c", "string"),
                ("E_Mail", "email1", "string"),
                ("Phone_No", "phone_office", "string"),
                ("Address", "billing_address_street", "string"),
                ("City", "billing_address_city", "string"),
                ("Post_Code", "billing_address_postalcode", "string"),
                ("Country_Region_Code", "billing_address_country", "string"),
                MODIFIED,
            ),
        ),
        Page(
            "Opportunity",
            "opportunities",
            (
                ("No", "id", "string"),
                ("Description", "name", "string"),
                ("Customer_No", "account_id", "string"),
                ("Sales_Stage", "sales_stage", SALES_STAGES),
                ("Estimated_Value_LCY", "amount", "decimal"),
                ("Currency_Code", "currency_id", "string"),
                ("Estimated_Closing_Date", "date_closed", "date"),
                ("Salesperson_Code", "assigned_user_name", "string"),
                ("Close_Opportunity_Code", "lost_reason_c", "string"),
                ("Creation_Date", "date_entered", "date"),
                MODIFIED,
            ),
        ),
        Page(
            "Sales_Order",
            "orders",
            (
                ("No", "id", "string"),
                ("External_Document_No", "name", "string"),
                ("Sell_to_Customer_No", "account_id", "string"),
                ("Status", "status", ORDER_STATUSES),
                ("Order_Date", "order_date", "date"),
                ("Currency_Code", "currency_id", "string"),
                ("Amount_Including_VAT", "total_amount", "decimal"),
                MODIFIED,
            ),
            lines=(
                "SalesLines",
                "Sales_Order_Line",
                (
                    ("Line_No", "id", "string"),
                    ("No", "product_code", "string"),
                    ("Description", "name", "string"),
                    ("Quantity", "product_qty", "decimal"),
                    ("Unit_Price", "product_unit_price", "decimal"),
                ),
            ),
        ),
        Page(
            "Service_Case",
            "cases",
            (
                ("No", "id", "string"),
                ("Case_No", "case_number", "string"),
                ("Customer_No", "account_id", "string"),
                ("Description", "name", "string"),
                ("Status", "status", CASE_STATUSES),
                ("Priority", "priority", CASE_PRIORITIES),
                ("Opened_Date", "date_entered", "date"),
                ("Closed_Date", "date_closed_c", "date"),
                MODIFIED,
            ),
        ),
    )
}
_BY_NS = {page.ns: page for page in PAGES.values()}


def option(value: str) -> str:
    """NAV shows an option value as an identifier: ``Closed Won`` → ``Closed_Won``."""
    return re.sub(r"[^0-9A-Za-z]+", "_", value).strip("_")


# --- the WSDL --------------------------------------------------------------------------------
def _type(name: str, fields: tuple[Field, ...], extra: str = "") -> str:
    elements = "".join(
        f'<xsd:element name="{nav}" type="{f"xsd:{kind}" if isinstance(kind, str) else f"tns:{name}_{nav}"}" minOccurs="0"/>'
        for nav, _store, kind in fields
    )
    enums = "".join(
        f'<xsd:simpleType name="{name}_{nav}"><xsd:restriction base="xsd:string">'
        + "".join(f'<xsd:enumeration value="{option(v)}"/>' for v in kind)
        + "</xsd:restriction></xsd:simpleType>"
        for nav, _store, kind in fields
        if not isinstance(kind, str)
    )
    return (
        f'{enums}<xsd:complexType name="{name}"><xsd:sequence>'
        f'<xsd:element name="Key" type="xsd:string" minOccurs="0"/>{elements}{extra}'
        "</xsd:sequence></xsd:complexType>"
    )


def _schema(page: Page) -> str:
    p = page.name
    extra, line_types = "", ""
    if page.lines:
        list_el, line_el, line_fields = page.lines
        line_types = _type(line_el, line_fields) + (
            f'<xsd:complexType name="{list_el}_List"><xsd:sequence><xsd:element name="{line_el}" '
            f'type="tns:{line_el}" minOccurs="0" maxOccurs="unbounded"/></xsd:sequence></xsd:complexType>'
        )
        extra = f'<xsd:element name="{list_el}" type="tns:{list_el}_List" minOccurs="0"/>'
    field_names = "".join(f'<xsd:enumeration value="{nav}"/>' for nav, _s, _k in page.fields)

    def wrapper(name: str, body: str) -> str:
        return f'<xsd:element name="{name}"><xsd:complexType><xsd:sequence>{body}</xsd:sequence></xsd:complexType></xsd:element>'

    one = f'<xsd:element name="{p}" type="tns:{p}" minOccurs="0"/>'
    return (
        f'<xsd:schema targetNamespace="{page.ns}" xmlns:tns="{page.ns}" elementFormDefault="qualified">'
        + _type(p, page.fields, extra)
        + line_types
        + f'<xsd:complexType name="{p}_List"><xsd:sequence><xsd:element name="{p}" type="tns:{p}" '
        'minOccurs="0" maxOccurs="unbounded"/></xsd:sequence></xsd:complexType>'
        + f'<xsd:simpleType name="{p}_Fields"><xsd:restriction base="xsd:string">{field_names}'
        "</xsd:restriction></xsd:simpleType>"
        + f'<xsd:complexType name="{p}_Filter"><xsd:sequence><xsd:element name="Field" type="tns:{p}_Fields"/>'
        '<xsd:element name="Criteria" type="xsd:string"/></xsd:sequence></xsd:complexType>'
        + wrapper("Read", '<xsd:element name="No" type="xsd:string"/>')
        + wrapper("Read_Result", one)
        + wrapper(
            "ReadMultiple",
            f'<xsd:element name="filter" type="tns:{p}_Filter" minOccurs="0" maxOccurs="unbounded"/>'
            '<xsd:element name="bookmarkKey" type="xsd:string" minOccurs="0"/>'
            '<xsd:element name="setSize" type="xsd:int"/>',
        )
        + wrapper("ReadMultiple_Result", f'<xsd:element name="ReadMultiple_Result" type="tns:{p}_List" minOccurs="0"/>')
        + wrapper("Create", f'<xsd:element name="{p}" type="tns:{p}"/>')
        + wrapper("Create_Result", one)
        + wrapper("Update", f'<xsd:element name="{p}" type="tns:{p}"/>')
        + wrapper("Update_Result", one)
        + "</xsd:schema>"
    )


def wsdl(base_url: str) -> bytes:
    ops = ("Read", "ReadMultiple", "Create", "Update")
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" '
        f'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:tns="{WSDL_NS}" '
        + " ".join(f'xmlns:{p.name.lower()}="{p.ns}"' for p in PAGES.values())
        + f' targetNamespace="{WSDL_NS}">',
        "<types>",
        *(_schema(p) for p in PAGES.values()),
        "</types>",
    ]
    for p in PAGES.values():
        prefix = p.name.lower()
        for op in ops:
            parts.append(
                f'<message name="{p.name}_{op}"><part name="parameters" element="{prefix}:{op}"/></message>'
                f'<message name="{p.name}_{op}_Result"><part name="parameters" element="{prefix}:{op}_Result"/></message>'
            )
        parts.append(
            f'<portType name="{p.name}_Port">'
            + "".join(
                f'<operation name="{op}"><input message="tns:{p.name}_{op}"/><output message="tns:{p.name}_{op}_Result"/></operation>'
                for op in ops
            )
            + "</portType>"
        )
        parts.append(
            f'<binding name="{p.name}_Binding" type="tns:{p.name}_Port">'
            '<soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>'
            + "".join(
                f'<operation name="{op}"><soap:operation soapAction="{p.ns}:{op}" style="document"/>'
                '<input><soap:body use="literal"/></input><output><soap:body use="literal"/></output></operation>'
                for op in ops
            )
            + "</binding>"
        )
        parts.append(
            f'<service name="{p.name}_Service"><port name="{p.name}_Port" binding="tns:{p.name}_Binding">'
            f'<soap:address location="{base_url}/Page/{p.name}"/></port></service>'
        )
    parts.append("</definitions>")
    return "\n".join(parts).encode()


# --- answering -------------------------------------------------------------------------------
def check_token(store: CrmStore, header: etree._Element | None) -> None:
    token = header.find(f"{{{WSSE}}}Security/{{{WSSE}}}UsernameToken") if header is not None else None
    if token is None:
        raise Fault("WS-Security UsernameToken required", "wsse:FailedAuthentication")
    user = token.findtext(f"{{{WSSE}}}Username")
    password = token.findtext(f"{{{WSSE}}}Password")
    if not user or store.users.get(user) != password:
        raise Fault("The security token could not be authenticated", "wsse:FailedAuthentication")


def handle(store: CrmStore, header: etree._Element | None, request: etree._Element) -> etree._Element:
    check_token(store, header)
    page = _BY_NS.get(etree.QName(request).namespace or "")
    operation = local(request)
    if page is None or operation not in ("Read", "ReadMultiple", "Create", "Update"):
        raise Fault(f"unknown operation {request.tag}")
    lists = frozenset({"filter", page.name} | ({page.lines[1]} if page.lines else set()))
    args = to_python(request, lists)
    args = args if isinstance(args, dict) else {}
    try:
        if operation == "Read":
            rows = [store.get(page.table, args["No"])] if args.get("No") in store.tables[page.table] else []
            return _answer(page, "Read_Result", rows)
        if operation == "ReadMultiple":
            return _answer(page, "ReadMultiple_Result", _read_multiple(store, page, args), wrap=True)
        [given] = args.get(page.name) or [None]
        if not isinstance(given, dict):
            raise Fault(f"{operation} needs a {page.name} element")
        return _answer(page, f"{operation}_Result", [_write(store, page, operation, given)])
    except StoreError as exc:
        raise Fault(str(exc)) from None


def _criteria(page: Page, field: str, criteria: str) -> list[tuple[str, str, Any]]:
    """NAV filter syntax, the part we accept: ``>x  >=x  <x  <=x  x..y  x..  ..y  x``."""
    spec = next((f for f in page.fields if f[0] == field), None)
    if spec is None:
        raise Fault(f"{page.name} has no field {field!r} to filter on")
    store_field, kind = spec[1], spec[2]

    def value(text: str) -> Any:
        text = text.strip()
        if kind == "dateTime":
            try:
                stamp = datetime.fromisoformat(text)  # the store keeps naive UTC
                return stamp.astimezone(UTC).replace(tzinfo=None) if stamp.tzinfo else stamp
            except ValueError:
                raise Fault(f"filter {field}: {text!r} is not a date-time") from None
        return text

    if re.search(r"[|&*@()]", criteria):
        raise Fault(f"filter {field}: criteria {criteria!r} not supported (use >, >=, <, <=, x..y or a value)")
    match = re.fullmatch(r"\s*(>=|<=|>|<)(.+)", criteria)
    if match:
        return [(store_field, match[1], value(match[2]))]
    if ".." in criteria:
        low, high = criteria.split("..", 1)
        return ([(store_field, ">=", value(low))] if low.strip() else []) + (
            [(store_field, "<=", value(high))] if high.strip() else []
        )
    return [(store_field, "=", value(criteria))]


def _read_multiple(store: CrmStore, page: Page, args: dict[str, Any]) -> list[dict[str, Any]]:
    where = [c for f in args.get("filter") or [] for c in _criteria(page, f.get("Field", ""), f.get("Criteria", ""))]
    bookmark = args.get("bookmarkKey") or ""
    if bookmark:
        where.append(("id", ">", _key_id(bookmark)))
    size = int(args.get("setSize") or 0)
    if size <= 0:
        raise Fault("setSize must be a positive number")
    return store.select(page.table, where, ("id",))[:size]


def _write(store: CrmStore, page: Page, operation: str, given: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for nav, store_field, kind in page.fields:
        if nav not in given or store_field == "date_modified":
            continue
        value = given[nav]
        if not isinstance(kind, str) and value not in (None, ""):
            by_option = {option(v): v for v in kind}
            if value not in by_option:
                raise Fault(f"{page.name}.{nav}: {value!r} is not a valid option ({', '.join(by_option)})")
            value = by_option[value]
        values[store_field] = value
    if operation == "Create":
        values.pop("id", None)
    else:
        key = given.get("Key") or ""
        if not key:
            raise Fault(f"Update of {page.name} needs the record's Key")
        current = store.get(page.table, _key_id(key))
        if key != _key(current):
            raise Fault(
                f"Another user has modified the record for this {page.name} after you retrieved it "
                "from the database. Refresh the record and try again."
            )
        values["id"] = current["id"]
    return store.save(page.table, values)


def _key(row: dict[str, Any]) -> str:
    return f"{row['version']};{row['id']}"


def _key_id(key: str) -> str:
    if ";" not in key:
        raise Fault(f"{key!r} is not a valid bookmark key")
    return key.split(";", 1)[1]


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds") + "Z"
    if isinstance(value, (date, Decimal)):
        return str(value)
    return str(value)


def _record(ns: str, tag: str, fields: tuple[Field, ...], row: dict[str, Any], key: str | None) -> etree._Element:
    el = etree.Element(f"{{{ns}}}{tag}")
    if key is not None:
        etree.SubElement(el, f"{{{ns}}}Key").text = key
    for nav, store_field, kind in fields:
        value = row.get(store_field)
        if value not in (None, ""):
            etree.SubElement(el, f"{{{ns}}}{nav}").text = _text(value) if isinstance(kind, str) else option(value)
    return el


def _answer(page: Page, tag: str, rows: list[dict[str, Any]], wrap: bool = False) -> etree._Element:
    response = etree.Element(f"{{{page.ns}}}{tag}", nsmap={None: page.ns})
    holder = etree.SubElement(response, f"{{{page.ns}}}ReadMultiple_Result") if wrap else response
    for row in rows:
        record = _record(page.ns, page.name, page.fields, row, _key(row))
        if page.lines:
            list_el, line_el, line_fields = page.lines
            lines = etree.SubElement(record, f"{{{page.ns}}}{list_el}")
            for line in row.get("lines") or []:
                lines.append(_record(page.ns, line_el, line_fields, line, None))
        holder.append(record)
    return response
