"""Creating and updating Tryton parties from the hub's canonical customer fields.

Idempotency key: the hub's ``hub_ref`` (e.g. ``concord:customer:42``) is stored on the party
as an *untyped* ``party.identifier``. Tryton 8.2 offers two places: the party ``code`` (unique
in SQL, but it is the customer number Tryton's sequence gives and users see, and it cannot be
changed once set) or an identifier, the party's list of "other identifiers". An identifier
leaves Tryton's numbering alone, shows on the party form where the record came from, and an
untyped one is never taken for a tax number (``party.tax_identifier`` only looks at tax
types; the connector's read skips untyped identifiers too). It has no unique constraint, so
the connector keeps writes to one server serial (``TrytonConnector.write``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.base import WriteResult
from connectors.errors import RecordError
from connectors.tryton.rpc import TrytonRPC

#: VAT prefixes of the EU (Greece is EL; XI is Northern Ireland): Tryton's ``eu_vat`` type.
EU_VAT_PREFIXES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "EL",
        "ES",
        "FI",
        "FR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
        "XI",
    ]
)


def find_party(rpc: TrytonRPC, hub_ref: str) -> int | None:
    """The party that carries ``hub_ref`` (inactive ones too: a retry must never duplicate)."""
    ids = rpc.search(
        "party.identifier",
        [
            ("code", "=", hub_ref),
            ("type", "=", None),
            ("active", "in", [True, False]),
        ],
        1,
        [("id", "ASC")],
    )
    if not ids:
        return None
    [row] = rpc.read("party.identifier", ids, ["party"])
    return int(row["party"])


def tax_identifier_type(rpc: TrytonRPC, tax_id: str, country: str | None) -> str | None:
    """Which Tryton identifier type a tax number is, or None when Tryton has no fitting type
    (then the number is left out rather than stored as something it is not)."""
    if "-" in tax_id or tax_id.startswith("?"):
        return None  # a second kind of identifier (AU-ACN-…, CN-REG-…) or a weak one: no type fits
    types = {t for t, _label in rpc.call("model.party.identifier.get_types") if t}
    prefix = tax_id[:2].upper()
    if prefix in EU_VAT_PREFIXES and "eu_vat" in types:
        return "eu_vat"
    for code in (prefix if prefix.isalpha() else None, country):
        if code and f"{code.lower()}_vat" in types:
            return f"{code.lower()}_vat"
    return None


def tryton_code(kind: str, tax_id: str) -> str:
    """The hub's canonical tax id (ISO country + number) as Tryton's identifier type wants it:
    an EU VAT number and the Swiss UID (CHE…) keep their prefix, the national schemes (a
    Japanese corporate number, a Chinese USCC, a US EIN …) are the bare number, which their
    python-stdnum checks in Tryton expect."""
    prefix = tax_id[:2]
    if kind == "eu_vat" or tax_id.startswith("CHE") or kind != f"{prefix.lower()}_vat":
        return tax_id
    return tax_id[2:]


def _country_id(rpc: TrytonRPC, code: str, where: str) -> int:
    ids = rpc.search("country.country", [("code", "=", code.upper())], 1)
    if not ids:
        raise RecordError(f"tryton: {where}: no country with ISO code {code!r} in country.country")
    return ids[0]


def _address_values(rpc: TrytonRPC, data: Mapping[str, Any], where: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        key: data[field]
        for field, key in (("street", "street"), ("city", "city"), ("postcode", "postal_code"))
        if data.get(field)
    }
    if data.get("country"):
        values["country"] = _country_id(rpc, str(data["country"]), where)
    return values


def create_party(rpc: TrytonRPC, data: Mapping[str, Any]) -> WriteResult:
    hub_ref = data.get("hub_ref")
    if not hub_ref:
        raise RecordError(
            "tryton: creating a customer needs data['hub_ref'] (the hub's key), "
            "without it a retried create could make a second party"
        )
    existing = find_party(rpc, str(hub_ref))
    if existing is not None:  # a retry after a lost answer: bring it up to date, never duplicate
        return update_party(rpc, data, existing)
    if not data.get("name"):
        raise RecordError(f"tryton: customer {hub_ref}: name is required")
    where = f"customer {hub_ref}"
    values: dict[str, Any] = {"name": data["name"]}
    address = _address_values(rpc, data, where)
    if address:
        values["addresses"] = [["create", [address]]]
    mechanisms = [{"type": kind, "value": data[kind]} for kind in ("email", "phone") if data.get(kind)]
    if mechanisms:
        values["contact_mechanisms"] = [["create", mechanisms]]
    identifiers: list[dict[str, Any]] = []
    if data.get("tax_id"):
        kind = tax_identifier_type(rpc, str(data["tax_id"]), data.get("country"))
        if kind is not None:
            identifiers.append({"type": kind, "code": tryton_code(kind, str(data["tax_id"]))})
    identifiers.append({"type": None, "code": hub_ref})
    values["identifiers"] = [["create", identifiers]]
    [party_id] = rpc.create("party.party", [values])
    [party] = rpc.read("party.party", [party_id], ["code"])
    return WriteResult(str(party_id), created=True, version=party["code"])


def update_party(rpc: TrytonRPC, data: Mapping[str, Any], party_id: int) -> WriteResult:
    """Name, e-mail, phone and the first address; values already equal are not written, so a
    repeated update changes nothing (not even Tryton's write date)."""
    rows = rpc.read("party.party", [party_id], ["code", "name", "contact_mechanisms", "addresses"])
    if not rows:
        raise RecordError(f"tryton: party {party_id} does not exist (deleted in Tryton?)")
    [party] = rows
    wrote = False  # a publish counts only real writes (WriteResult.changed)
    if data.get("name") and data["name"] != party["name"]:
        rpc.write("party.party", [party_id], {"name": data["name"]})
        wrote = True
    mechanisms = rpc.read("party.contact_mechanism", party["contact_mechanisms"], ["type", "value"])
    for kind in ("email", "phone"):
        value = data.get(kind)
        if not value:
            continue
        existing = next((m for m in mechanisms if m["type"] == kind), None)
        if existing is None:
            rpc.create("party.contact_mechanism", [{"party": party_id, "type": kind, "value": value}])
            wrote = True
        elif existing["value"] != value:
            rpc.write("party.contact_mechanism", [existing["id"]], {"value": value})
            wrote = True
    wanted = _address_values(rpc, data, f"party {party_id}")
    if wanted:
        if not party["addresses"]:
            rpc.create("party.address", [{"party": party_id, **wanted}])
            wrote = True
        else:
            [address] = rpc.read("party.address", party["addresses"][:1], list(wanted))
            changed = {k: v for k, v in wanted.items() if address.get(k) != v}
            if changed:
                rpc.write("party.address", [address["id"]], changed)
                wrote = True
    return WriteResult(str(party_id), created=False, version=party["code"], changed=wrote)
