"""Pipelines: stages, instalment plans, plan assignment and alert levels, from YAML, versioned.

A finance manager edits ``mappings/pipelines/<name>.yaml`` (or PUTs the same text to the API);
the next scan or request sees it, no deploy. Every distinct text is saved as a new
``pipeline_versions`` row; an order keeps the version it was enrolled with until it is moved
on purpose, so a changed plan never silently rewrites money already agreed. Errors name file,
line and field, as every mapping of the hub does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.canonical import OrderStatus, SalesStage, ShipmentStatus
from hub.config.loader import ConfigError, line_of, parse_yaml
from hub.receivables.models import PipelineVersion


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Trigger(_Strict):
    """One event that reaches a stage; a stage may list several: the first listed that has
    happened sets the stage's date (detection runs them in order). The codes are the hub's
    (hub.canonical), kept as their plain strings: they are compared in SQL."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=True)

    opportunity_stage: list[SalesStage] | None = None
    order_status: list[OrderStatus] | None = None
    shipment_status: list[ShipmentStatus] | None = None
    #: Reached only when someone records it in the hub (``POST …/stages/{code}``).
    recorded: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> Trigger:
        kinds = [k for k in ("opportunity_stage", "order_status", "shipment_status") if getattr(self, k)]
        if len(kinds) + int(self.recorded) != 1:
            raise ValueError("give exactly one of opportunity_stage, order_status, shipment_status, recorded: true")
        return self


class Stage(_Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)
    name: str
    order: int
    reached_by: list[Trigger] = Field(min_length=1)


class DueRule(_Strict):
    """Due ``days`` after the stage's trigger date, or after the end of that month."""

    days: int = Field(ge=0, le=3650)
    end_of_month: bool = False


class InstalmentTemplate(_Strict):
    stage: str
    percent: Decimal | None = Field(default=None, gt=0, le=100)
    fixed: Decimal | None = Field(default=None, gt=0)
    remainder: bool = False
    due: DueRule
    grace_days: int = Field(default=0, ge=0, le=365)
    tolerance: Decimal = Field(default=Decimal("0.01"), ge=0)

    @model_validator(mode="after")
    def _one_amount(self) -> InstalmentTemplate:
        if (self.percent is not None) + (self.fixed is not None) + self.remainder != 1:
            raise ValueError("give exactly one of percent, fixed, remainder: true")
        return self


class Plan(_Strict):
    name: str
    instalments: list[InstalmentTemplate] = Field(min_length=1)


class Assignment(_Strict):
    """First rule whose ``when`` matches the order picks its plan; no ``when`` matches all."""

    when: dict[Literal["order_type", "customer_segment", "currency"], list[str]] = Field(default_factory=dict)
    plan: str


class AlertLevel(_Strict):
    level: int = Field(ge=1, le=9)
    after_days: int = Field(ge=0, description="days past due + grace")
    notify: list[Literal["finance", "sales_owner"]] = Field(default_factory=list)
    credit_hold: bool = False


class Recipients(_Strict):
    email: list[str] = Field(default_factory=list)
    webhook: list[str] = Field(default_factory=list)


class OpportunityLink(_Strict):
    """How an order finds its opportunity: the order's field equal to the opportunity number."""

    order_field: Literal["reference", "number"] = "reference"


class AppliesTo(_Strict):
    """Which orders a pipeline enrols: by status, and optionally by how their reference starts."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=True)

    order_status: list[OrderStatus] = Field(  # validated, so the default is plain text too
        default_factory=lambda: [OrderStatus.confirmed, OrderStatus.processing, OrderStatus.done],
        min_length=1,
        validate_default=True,
    )
    reference_prefix: list[str] = Field(default_factory=list)

    def condition(self) -> Any:
        from sqlalchemy import and_, or_

        from hub.documents.models import Order

        status = Order.status.in_(self.order_status)
        if not self.reference_prefix:
            return status
        return and_(status, or_(*[Order.reference.startswith(p, autoescape=True) for p in self.reference_prefix]))

    def admits(self, status: str | None, reference: str | None) -> bool:
        return status in self.order_status and (
            not self.reference_prefix or any((reference or "").startswith(p) for p in self.reference_prefix)
        )


class Pipeline(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=80)
    applies_to: AppliesTo = AppliesTo()
    opportunity_link: OpportunityLink = OpportunityLink()
    stages: list[Stage] = Field(min_length=1)
    plans: dict[str, Plan] = Field(min_length=1)
    assignment: list[Assignment] = Field(min_length=1)
    alerts: list[AlertLevel] = Field(default_factory=list)
    recipients: dict[Literal["finance"], Recipients] = Field(default_factory=dict)
    #: Upper edges of the ageing buckets in days past due: [30, 60, 90] → current, 1–30, …, 90+.
    ageing_buckets: list[int] = Field(default_factory=lambda: [30, 60, 90], min_length=1)

    def stage(self, code: str) -> Stage | None:
        return next((s for s in self.stages if s.code == code), None)

    def ordered_stages(self) -> list[Stage]:
        return sorted(self.stages, key=lambda s: s.order)

    def pick_plan(self, facts: dict[str, str | None]) -> str:
        for rule in self.assignment:
            if all(facts.get(key) in values for key, values in rule.when.items()):
                return rule.plan
        raise ValueError(f"pipeline {self.name!r}: no assignment rule matches {facts}")

    def problems(self) -> list[tuple[tuple[Any, ...], str]]:
        """Checks across fields, each with the place it concerns."""
        out: list[tuple[tuple[Any, ...], str]] = []
        codes = [s.code for s in self.stages]
        for i, code in enumerate(codes):
            if codes.index(code) != i:
                out.append((("stages", i, "code"), f"stage {code!r} is defined twice"))
        orders = [s.order for s in self.stages]
        for i, value in enumerate(orders):
            if orders.index(value) != i:
                out.append((("stages", i, "order"), f"order {value} is used by two stages"))
        for key, plan in self.plans.items():
            total = Decimal(0)
            for i, inst in enumerate(plan.instalments):
                if inst.stage not in codes:
                    out.append(
                        (
                            ("plans", key, "instalments", i, "stage"),
                            f"unknown stage {inst.stage!r} (stages: {', '.join(codes)})",
                        )
                    )
                total += inst.percent or 0
            remainders = [i for i, inst in enumerate(plan.instalments) if inst.remainder]
            if len(remainders) > 1:
                out.append((("plans", key, "instalments", remainders[1], "remainder"), "only one remainder per plan"))
            if total > 100:
                out.append((("plans", key, "instalments"), f"percentages add up to {total} %, more than 100"))
            if not remainders and all(i.percent is not None for i in plan.instalments) and total != 100:
                out.append(
                    (("plans", key, "instalments"), f"percentages add up to {total} %, not 100 (or add a remainder)")
                )
        for i, rule in enumerate(self.assignment):
            if rule.plan not in self.plans:
                out.append((("assignment", i, "plan"), f"unknown plan {rule.plan!r} (plans: {', '.join(self.plans)})"))
        levels = [a.level for a in self.alerts]
        if levels != sorted(set(levels)) or [a.after_days for a in self.alerts] != sorted(
            a.after_days for a in self.alerts
        ):
            out.append((("alerts",), "levels must rise one after another, with rising after_days"))
        if self.ageing_buckets != sorted(set(self.ageing_buckets)) or self.ageing_buckets[0] <= 0:
            out.append((("ageing_buckets",), "bucket edges must be positive and rising"))
        return out


def parse(text: str, origin: str) -> Pipeline:
    """Validate a pipeline's YAML text; a ConfigError names ``origin``, line and field."""
    data, positions = parse_yaml(text, origin)  # the mappings' parser: line index, alias bound
    try:
        pipeline = Pipeline.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise ConfigError(
            origin,
            [(line_of(positions, tuple(e["loc"])), ".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()],
        ) from None
    problems = pipeline.problems()
    if problems:
        raise ConfigError(
            origin, [(line_of(positions, loc), ".".join(str(p) for p in loc), msg) for loc, msg in problems]
        )
    return pipeline


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def pipeline_files(mappings_dir: Path) -> list[Path]:
    return sorted((mappings_dir / "pipelines").glob("*.yaml"))


def check_files(mappings_dir: Path) -> list[str]:
    """For ``hub mappings check``: one line per problem."""
    problems: list[str] = []
    for path in pipeline_files(mappings_dir):
        try:
            parse(path.read_text(encoding="utf-8"), str(path))
        except ConfigError as exc:
            problems.extend(str(exc).splitlines())
    return problems


def save_version(session: Session, text: str, origin: str) -> PipelineVersion:
    """Store ``text`` as the pipeline's next version, unless it is the current one already."""
    pipeline = parse(text, origin)
    current = latest(session, pipeline.name)
    if current is not None and current.digest == digest(text):
        return current
    number = (
        session.scalar(select(func.max(PipelineVersion.version)).where(PipelineVersion.pipeline == pipeline.name)) or 0
    ) + 1
    row = PipelineVersion(pipeline=pipeline.name, version=number, origin=origin, source=text, digest=digest(text))
    session.add(row)
    session.flush()
    _cache[row.id] = pipeline
    return row


def sync_files(session: Session, mappings_dir: Path) -> list[PipelineVersion]:
    """Take in every pipeline file whose text changed since it was last read from that file
    (an API edit after it stays current until the file itself changes again)."""
    out = []
    for path in pipeline_files(mappings_dir):
        text = path.read_text(encoding="utf-8")
        name = parse(text, str(path)).name
        last_from_file = session.scalar(
            select(PipelineVersion)
            .where(PipelineVersion.pipeline == name, PipelineVersion.origin == str(path))
            .order_by(PipelineVersion.version.desc())
            .limit(1)
        )
        if last_from_file is None or last_from_file.digest != digest(text):
            out.append(save_version(session, text, str(path)))
        else:
            out.append(latest(session, name))  # type: ignore[arg-type]
    return out


def latest(session: Session, name: str) -> PipelineVersion | None:
    return session.scalar(
        select(PipelineVersion)
        .where(PipelineVersion.pipeline == name)
        .order_by(PipelineVersion.version.desc())
        .limit(1)
    )


def current_versions(session: Session) -> list[PipelineVersion]:
    """The latest version of every pipeline, in name order."""
    top = (
        select(PipelineVersion.pipeline, func.max(PipelineVersion.version).label("v"))
        .group_by(PipelineVersion.pipeline)
        .subquery()
    )
    return list(
        session.scalars(
            select(PipelineVersion)
            .join(top, (top.c.pipeline == PipelineVersion.pipeline) & (top.c.v == PipelineVersion.version))
            .order_by(PipelineVersion.pipeline)
        )
    )


_cache: dict[int, Pipeline] = {}


def load_version(session: Session, version_id: int) -> Pipeline:
    """A saved version, parsed once per process (versions never change)."""
    if version_id not in _cache:
        row = session.get(PipelineVersion, version_id)
        if row is None:
            raise KeyError(f"pipeline version {version_id} does not exist")
        _cache[version_id] = parse(row.source, f"{row.pipeline} v{row.version}")
    return _cache[version_id]


def versions_in_use(session: Session, ids: Iterable[int]) -> dict[int, Pipeline]:
    return {i: load_version(session, i) for i in sorted(set(ids))}


def level_cutoffs(pipeline: Pipeline, as_of: date) -> list[tuple[int, date]]:
    """(level, last ``overdue_from`` date that reaches it), highest level first."""
    from datetime import timedelta

    return [(a.level, as_of - timedelta(days=a.after_days)) for a in sorted(pipeline.alerts, key=lambda a: -a.level)]
