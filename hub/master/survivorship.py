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


def _comparable(source: CustomerSource, field: str) -> str | None:
    """The form in which two sources' values count as the same value."""
    return getattr(source, field)


def _recency(source: CustomerSource) -> tuple[float, int]:
    return (source.source_updated_at.timestamp(), source.id or 0)


def _pick(sources: Sequence[CustomerSource], field: str, rule: FieldRule) -> CustomerSource | None:
    having = [s for s in sources if value_of(s, field)]
    if not having:
        return None
    if rule.rule == "source_priority":
        rank = {system: position for position, system in enumerate(rule.priority)}
        unlisted = len(rank)
        return min(
            having,
            key=lambda s: (rank.get(s.system, unlisted), tuple(-x for x in _recency(s))),
        )
    if rule.rule == "most_recent":
        return max(having, key=_recency)
    if rule.rule == "most_complete":
        return max(having, key=lambda s: (len(value_of(s, field) or ""), _recency(s)))
    counts = Counter(_comparable(s, field) or value_of(s, field) for s in having)
    return max(
        having,
        key=lambda s: (counts[_comparable(s, field) or value_of(s, field)], _recency(s)),
    )


def survive(
    sources: Sequence[CustomerSource], rules: SurvivorshipRules
) -> tuple[dict[str, str | None], dict[str, dict[str, Any]]]:
    """Golden values and their provenance from the source records of one customer."""
    values: dict[str, str | None] = {}
    provenance: dict[str, dict[str, Any]] = {}
    for field in GOLDEN_FIELDS:
        rule = rules.for_field(field)
        winner = _pick(sources, field, rule)
        values[field] = value_of(winner, field) if winner else None
        if winner is not None:
            provenance[field] = {
                "system": winner.system,
                "external_id": winner.external_id,
                "source_id": winner.id,
                "at": winner.source_updated_at.isoformat(),
                "rule": rule.rule,
            }
    return values, provenance
