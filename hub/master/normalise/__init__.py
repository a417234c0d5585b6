"""Normalisation of B2B customer records before matching.

The matcher can only block and score on values that compare equal when they mean the same
thing, and source systems type the same customer in many ways. Every record the customer
master sees (batch or live) therefore goes through :func:`normalise_customer`. The per-field
functions are exported too, because search applies them to what a user types.

Contract
--------
* Absent values (missing key, ``None``, ``""``, whitespace, NaN) are ``None`` and no problem.
* :func:`normalise_customer` never raises for bad *data*: a value that is present but cannot be
  normalised is recorded as a :class:`Problem` (a data-quality finding kept with the record)
  and its field is ``None``, so one bad phone number does not cost the record its match on
  name and tax id. A tax id that fails its check digit and a phone number that is no valid
  number keep a *weak* form instead (``?`` + digits, see :func:`is_weak`): compared as weak
  evidence, never a golden value, never a veto.
* Placeholders ("N/A", "n.a.", "TBD", "-", "unknown" in any field; all zeros, all nines,
  "123456789" as a tax id or phone) are absent values, not findings.
* The per-field functions return ``None`` for absent input and raise
  :class:`NormalisationError` for a malformed value.
* ``country`` of :func:`normalise_customer` is the record's own country; ``default_country`` is
  only used to interpret phone, tax id and postcode and is not copied into ``country``, which
  would otherwise claim a country the source never stated.

The field modules hold the decisions for their field; :mod:`.text` the folding they share.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from hub.master.normalise.addresses import (
    city_of,
    normalise_city,
    normalise_postcode,
    normalise_street,
    postcode_of,
    street_of,
)
from hub.master.normalise.countries import country_of, normalise_country
from hub.master.normalise.emails import email_of, is_free_mail, normalise_email
from hub.master.normalise.errors import WEAK, NormalisationError, is_weak
from hub.master.normalise.names import name_of, normalise_name
from hub.master.normalise.phones import normalise_phone, phone_of
from hub.master.normalise.tax_ids import is_placeholder, normalise_tax_id, tax_id_of, tax_relation
from hub.master.normalise.text import nfkc, text_of

__all__ = [
    "WEAK",
    "NormalisationError",
    "NormalisedCustomer",
    "Problem",
    "identifies_something",
    "is_free_mail",
    "is_placeholder",
    "is_weak",
    "tax_relation",
    "normalise_city",
    "normalise_country",
    "normalise_customer",
    "normalise_email",
    "normalise_name",
    "normalise_phone",
    "normalise_postcode",
    "normalise_street",
    "normalise_tax_id",
]


@dataclass(frozen=True, slots=True)
class Problem:
    field: str
    value: str
    reason: str


@dataclass(frozen=True, slots=True)
class NormalisedCustomer:
    name: str | None
    name_key: str | None
    name_tokens: tuple[str, ...]
    legal_form: str | None
    tax_id: str | None
    email: str | None
    email_domain: str | None
    phone: str | None
    street: str | None
    city: str | None
    postcode: str | None
    country: str | None
    problems: tuple[Problem, ...]


def identifies_something(norm: NormalisedCustomer) -> bool:
    """A usable name or a checked identifier: enough for a record to enter the master, live or
    batch (a tax id or phone kept only as weak evidence does not say who the customer is)."""
    return bool(
        norm.name_key
        or norm.email
        or (norm.tax_id and not is_weak(norm.tax_id))
        or (norm.phone and not is_weak(norm.phone))
    )


def normalise_customer(raw: Mapping[str, str | None], default_country: str | None = None) -> NormalisedCustomer:
    """Normalise one raw customer record; bad values become ``problems``, never exceptions.

    ``default_country`` (any form :func:`normalise_country` accepts) interprets phone, tax id
    and postcode when the record has no usable country of its own. An unknown
    ``default_country`` is a caller error and raises :class:`NormalisationError`.
    """
    default_cc = normalise_country(default_country) if default_country else None
    get = _present(raw).get
    problems: list[Problem] = []

    country: str | None = None
    country_problem: Problem | None = None
    text = text_of(get("country"))
    if text is not None:
        country = country_of(text)
        if country is None:
            country_problem = Problem("country", text, "not a known country")
    region = country or default_cc

    name = name_key = legal_form = None
    name_tokens: tuple[str, ...] = ()
    text = text_of(get("name"))
    if text is not None:
        try:
            name, name_key, name_tokens, legal_form = name_of(text)
        except NormalisationError as exc:
            problems.append(Problem(exc.field, exc.value, exc.reason))

    tax_id = _field(problems, tax_id_of, get("tax_id"), region)

    email = email_domain = None
    text = text_of(get("email"))
    if text is not None:
        try:
            email, email_domain = email_of(text)
        except NormalisationError as exc:
            problems.append(Problem(exc.field, exc.value, exc.reason))

    phone = _field(problems, phone_of, get("phone"), region, weak=_weak_phone)
    street = _field(problems, street_of, get("street"))
    city = _field(problems, city_of, get("city"))

    postcode = None
    raw_postcode = get("postcode")
    text = text_of(raw_postcode)
    if text is not None:
        try:
            postcode = postcode_of(raw_postcode, text, region)
        except NormalisationError as exc:
            problems.append(Problem(exc.field, exc.value, exc.reason))

    if country_problem is not None:
        problems.append(country_problem)

    return NormalisedCustomer(  # positional: measurably cheaper per record
        name,
        name_key,
        name_tokens,
        legal_form,
        tax_id,
        email,
        email_domain,
        phone,
        street,
        city,
        postcode,
        country,
        tuple(problems) if problems else (),
    )


_WORD_PLACEHOLDERS = frozenset(
    {"n/a", "n.a.", "n.a", "na", "tbd", "tba", "-", "--", "none", "null", "nil", "unknown", "?", "x", "xx", "xxx"}
)


def _present(raw: Mapping[str, object]) -> dict[str, object]:
    """The record without its placeholders: "N/A" in any field is no value, not a bad one;
    a tax id or phone of only zeros or nines (or "123456789") neither."""
    out: dict[str, object] = {}
    for key, value in raw.items():
        text = text_of(value)
        if text is not None and (
            text.casefold() in _WORD_PLACEHOLDERS or (key in ("tax_id", "phone") and is_placeholder(text))
        ):
            value = None
        out[key] = value  # as given: a postcode of 1067.0 from a spreadsheet is read as such
    return out


def _weak_phone(text: str) -> str | None:
    """A number phonenumbers refuses, kept as its digits for comparison (six or more)."""
    digits = "".join(ch for ch in nfkc(text) if ch.isdigit())
    return WEAK + digits if 6 <= len(digits) <= 30 else None


def _field(
    problems: list[Problem],
    fn: Callable[..., str | None],
    value: object,
    *args: object,
    weak: Callable[[str], str | None] | None = None,
) -> str | None:
    text = text_of(value)
    if text is None:
        return None
    try:
        return fn(text, *args)
    except NormalisationError as exc:
        problems.append(Problem(exc.field, exc.value, exc.reason))
        if exc.weak is not None:
            return exc.weak
        return weak(text) if weak is not None else None
