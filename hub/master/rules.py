"""The customer master's configuration: matching weights and survivorship, from mappings/.

Files are re-read when they change on disk (checked by modification time), so a data steward's
tuning takes effect on the next record without a restart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hub.config.loader import load_model
from hub.master.models import GOLDEN_FIELDS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Thresholds(_Strict):
    link: float
    review: float

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.review > self.link:
            raise ValueError("review threshold must not be above the link threshold")
        return self


class Blocking(_Strict):
    max_block_size: int = Field(60, gt=1)
    max_candidates: int = Field(200, gt=0)


class AgreeDisagree(_Strict):
    agree: float
    disagree: float = 0.0


class TaxIdWeights(AgreeDisagree):
    #: The same digits where one id failed its check digit: a hint, never a link on its own.
    weak: float = 2.0


class NameWeights(_Strict):
    exact: float
    high: float
    medium: float
    subset: float
    subset_words: float
    low: float
    disagree: float


class Weights(_Strict):
    name: NameWeights
    tax_id: TaxIdWeights
    email: AgreeDisagree
    email_domain: AgreeDisagree
    phone: AgreeDisagree
    postcode: AgreeDisagree
    city: AgreeDisagree
    street: AgreeDisagree
    country: AgreeDisagree


class Similarity(_Strict):
    high: float = Field(ge=0, le=1)
    medium: float = Field(ge=0, le=1)
    low: float = Field(ge=0, le=1)
    street: float = Field(ge=0, le=1)


class MatchRules(_Strict):
    thresholds: Thresholds
    blocking: Blocking = Blocking()
    weights: Weights
    similarity: Similarity


SurvivorshipRule = Literal["source_priority", "most_recent", "most_complete", "most_frequent"]


class FieldRule(_Strict):
    rule: SurvivorshipRule
    priority: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _priority_given(self) -> FieldRule:
        if self.rule == "source_priority" and not self.priority:
            raise ValueError("source_priority needs a `priority` list of systems")
        return self


class SurvivorshipRules(_Strict):
    default: FieldRule
    fields: dict[str, FieldRule] = {}

    @model_validator(mode="after")
    def _known_fields(self) -> SurvivorshipRules:
        unknown = set(self.fields) - set(GOLDEN_FIELDS)
        if unknown:
            raise ValueError(f"unknown field(s) {sorted(unknown)}; golden fields are {list(GOLDEN_FIELDS)}")
        return self

    def for_field(self, field: str) -> FieldRule:
        return self.fields.get(field, self.default)


_cache: dict[tuple[Path, type], tuple[float, object]] = {}


def _load_cached(path: Path, model: type) -> Any:
    mtime = path.stat().st_mtime
    hit = _cache.get((path, model))
    if hit and hit[0] == mtime:
        return hit[1]
    value: Any = load_model(path, model)
    _cache[(path, model)] = (mtime, value)
    return value


def match_rules(mappings_dir: Path) -> MatchRules:
    return _load_cached(mappings_dir / "matching.yaml", MatchRules)


def survivorship_rules(mappings_dir: Path) -> SurvivorshipRules:
    return _load_cached(mappings_dir / "survivorship.yaml", SurvivorshipRules)
