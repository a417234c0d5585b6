"""Survivorship: which source's value the golden record shows, field by field.

Rules come from ``mappings/survivorship.yaml``. The result carries provenance (system, record,
time, rule) for every value, so "where does this phone number come from?" always has an answer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from hub.master.models import GOLDEN_FIELDS, CustomerSource
from hub.master.normalise import is_weak
from hub.master.rules import FieldRule, SurvivorshipRules

#: Fields shown as the source system wrote them (trimmed), not in their match form:
#: a golden street reads "Hauptstraße 5", not "hauptstrasse 5".
_AS_WRITTEN = {"street", "city", "postcode"}


def value_of(source: CustomerSource, field: str) -> str | None:
    """The source's value as the golden record would show it; None for a field the source
    has no good value for (absent, or a finding: its match form is empty or only weak)."""
    match_form = getattr(source, field)
    if field in _AS_WRITTEN:
        if match_form is None:
            return None  # e.g. a city typed into the postcode column: a finding, not a value
        raw = source.data.get(field)
        text = " ".join(str(raw).split()) if raw is not None else ""
        return text or None
    return None if is_weak(match_form) else match_form


def _recency(source: CustomerSource) -> tuple[float, int]:
    return (source.source_updated_at.timestamp(), source.id or 0)


def _pick(having: list[tuple[CustomerSource, str]], field: str, rule: FieldRule) -> tuple[CustomerSource, str] | None:
    """The winning (source, value) among the sources that have a value for ``field``."""
    if len(having) < 2:  # every rule picks the only one (most golden records have one source)
        return having[0] if having else None
    if rule.rule == "source_priority":
        rank = {system: position for position, system in enumerate(rule.priority)}
        unlisted = len(rank)
        return min(having, key=lambda sv: (rank.get(sv[0].system, unlisted), tuple(-x for x in _recency(sv[0]))))
    if rule.rule == "most_recent":
        return max(having, key=lambda sv: _recency(sv[0]))
    if rule.rule == "most_complete":
        return max(having, key=lambda sv: (len(sv[1]), _recency(sv[0])))
    # most_frequent: two values are the same value when their match forms are
    same = [getattr(s, field) or v for s, v in having]
    counts = Counter(same)
    return max(zip(having, same), key=lambda hs: (counts[hs[1]], _recency(hs[0][0])))[0]


def survive(
    sources: Sequence[CustomerSource], rules: SurvivorshipRules
) -> tuple[dict[str, str | None], dict[str, dict[str, Any]]]:
    """Golden values and their provenance from the source records of one customer."""
    values: dict[str, str | None] = {}
    provenance: dict[str, dict[str, Any]] = {}
    written: dict[int, str] = {}  # id(source) → its time as text, once per source
    for field in GOLDEN_FIELDS:
        rule = rules.for_field(field)
        having = [(s, v) for s in sources if (v := value_of(s, field))]
        won = _pick(having, field, rule)
        if won is None:
            values[field] = None
            continue
        winner, values[field] = won
        at = written.get(id(winner))
        if at is None:
            at = written[id(winner)] = winner.source_updated_at.isoformat()
        provenance[field] = {
            "system": winner.system,
            "external_id": winner.external_id,
            "source_id": winner.id,
            "at": at,
            "rule": rule.rule,
        }
    return values, provenance
