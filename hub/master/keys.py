"""What a record brings to matching: its match fields prepared once, and its blocking keys.

Both paths use these: live ingest stores the keys in ``match_keys`` and looks candidates up
there; the batch path keeps them in memory (:mod:`hub.master.batch`). A record's candidates
are the records sharing one of its keys; :mod:`hub.master.matching` scores and decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from hub.master.normalise import WEAK
from hub.master.similarity import DIGITS, UMLAUTS, is_cjk, without_city


class MatchRecord(Protocol):
    """What the engine needs of a record (``NormalisedCustomer`` has it); read-only, so frozen
    dataclasses and row views qualify."""

    @property
    def name_key(self) -> str | None: ...

    @property
    def name_tokens(self) -> tuple[str, ...]: ...

    @property
    def legal_form(self) -> str | None: ...

    @property
    def tax_id(self) -> str | None: ...

    @property
    def email(self) -> str | None: ...

    @property
    def email_domain(self) -> str | None: ...

    @property
    def phone(self) -> str | None: ...

    @property
    def street(self) -> str | None: ...

    @property
    def city(self) -> str | None: ...

    @property
    def postcode(self) -> str | None: ...

    @property
    def country(self) -> str | None: ...


def blocking_keys(rec: MatchRecord) -> list[str]:
    """Cheap keys: records that share none are never compared.

    Strong identifiers block alone; names block on their exact key, on the initials of their
    words within a city or postcode area (robust to typos inside words), and for Chinese and
    Japanese names on three-character windows at two offsets, so that a name with its region
    prefix dropped ("明华电子科技" vs "上海明华电子科技") still meets its other spelling.
    """
    keys: list[str] = []
    if rec.tax_id:
        # a failed id meets the checked one with its digits; an ACN meets the ABN holding it
        keys.append("t:" + rec.tax_id.lstrip(WEAK))
        if rec.tax_id.startswith("AU") and len(rec.tax_id) >= 11:
            keys.append("ta:" + rec.tax_id[-9:])
    if rec.email:
        keys.append("e:" + rec.email)
    if rec.email_domain:
        keys.append("d:" + rec.email_domain)
    if rec.phone:
        keys.append("p:" + rec.phone)
    name = rec.name_key
    if name:
        if is_cjk(name):
            compact = name.replace(" ", "")
            keys.append("c:" + compact[0:3])
            if len(compact) >= 5:
                keys.append("c:" + compact[2:5])
        else:
            keys.append("n:" + " ".join(sorted(rec.name_tokens)))
            initials = "".join(token[0] for token in rec.name_tokens[:4])
            if rec.city:
                keys.append(f"i:{initials}:{rec.city}")
            if rec.postcode:
                keys.append(f"i:{initials}:{rec.postcode[:3]}")
            first = rec.name_tokens[0] if rec.name_tokens else ""
            if len(first) >= 4:
                keys.append(f"w:{first}:{rec.country or ''}")
    # a key is at most what match_keys.key holds (String(160)): a 300-character name still
    # blocks, on its first 158 characters, instead of being refused by the database
    return [key[:KEY_LENGTH] for key in keys]


KEY_LENGTH = 160


@dataclass(slots=True)
class Prepared:
    """A record's match fields with what every comparison needs computed once per record
    (script, word set, umlaut folding, city-less CJK name, street numbers) instead of once
    per pair: candidates are compared many times."""

    name_key: str | None
    name_tokens: tuple[str, ...]
    token_set: frozenset[str]
    cjk: bool
    name_compared: str | None  # CJK: without the city prefix; Latin: the key itself
    name_folded: str | None  # Latin: "ue"/"oe"/"ae" folded like "ü"/"ö"/"ä"
    legal_form: str | None  # the form removed from the name: the name is a registered one
    tax_id: str | None
    email: str | None
    email_domain: str | None
    phone: str | None
    street: str | None
    street_cjk: bool
    street_numbers: tuple[str, ...]
    city: str | None
    postcode: str | None
    country: str | None


def prepare(rec: MatchRecord | Prepared) -> Prepared:
    if isinstance(rec, Prepared):
        return rec
    key = rec.name_key
    cjk = bool(key) and is_cjk(key or "")
    street = rec.street
    return Prepared(
        name_key=key,
        name_tokens=rec.name_tokens,
        token_set=frozenset(rec.name_tokens),
        cjk=cjk,
        name_compared=without_city(key, rec.city) if key and cjk else key,
        name_folded=UMLAUTS.sub(r"\1", key) if key and not cjk else key,
        legal_form=rec.legal_form,
        tax_id=rec.tax_id,
        email=rec.email,
        email_domain=rec.email_domain,
        phone=rec.phone,
        street=street,
        street_cjk=bool(street) and is_cjk(street or ""),
        street_numbers=tuple(DIGITS.findall(street)) if street else (),
        city=rec.city,
        postcode=rec.postcode,
        country=rec.country,
    )
