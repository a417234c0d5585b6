"""Customer master routes: search, one customer with provenance, merge history."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from hub.api.deps import AnyRole, ItRole, SessionDep, SettingsDep
from hub.bounds import Id, Input, text
from hub.master import search
from hub.master.models import GoldenCustomer, MergeEvent
from hub.master.steward import Steward, StewardError
from hub.master.views import customer_detail, customer_summary

router = APIRouter(prefix="/api/v1/customers", tags=["customers"])


class CustomerHit(BaseModel):
    id: int
    name: str | None
    tax_id: str | None
    email: str | None
    phone: str | None
    street: str | None
    city: str | None
    postcode: str | None
    country: str | None
    score: float
    matched_on: str


class MergeRequest(Input):
    survivor_id: Id
    absorbed_id: Id
    reason: text(2000) | None = None  # type: ignore[valid-type]


class MergeEventOut(BaseModel):
    id: int
    kind: str
    survivor_id: int
    absorbed_id: int
    moved_source_ids: list[int]
    actor: str
    reason: str | None
    undone_by_id: int | None

    @classmethod
    def of(cls, event: MergeEvent) -> MergeEventOut:
        return cls.model_validate(event, from_attributes=True)


@router.get("", response_model=list[CustomerHit])
def find_customers(
    session: SessionDep,
    _token: AnyRole,
    q: text(300) | None = Query(None, description="Name, typed roughly"),  # type: ignore[valid-type]
    tax_id: text(60) | None = None,  # type: ignore[valid-type]
    phone: text(60) | None = None,  # type: ignore[valid-type]
    email: text(254) | None = None,  # type: ignore[valid-type]
    country: text(60) | None = Query(None, description="Helps read a national phone or tax id"),  # type: ignore[valid-type]
    system: text(80) | None = None,  # type: ignore[valid-type]
    external_id: text(200) | None = None,  # type: ignore[valid-type]
    limit: int = Query(20, ge=1, le=200),
) -> list[dict[str, Any]]:
    try:
        hits = search.find(
            session,
            name=q,
            tax_id=tax_id,
            phone=phone,
            email=email,
            system=system,
            external_id=external_id,
            country=country,
            limit=limit,
        )
    except ValueError as exc:  # NormalisationError is one: it names the field and value
        raise HTTPException(422, str(exc)) from None
    return [
        {**customer_summary(h.golden), "score": round(h.score, 3), "matched_on": h.matched_on} for h in hits[:limit]
    ]


@router.get("/{customer_id}")
def get_customer(customer_id: int, session: SessionDep, _token: AnyRole) -> dict[str, Any]:
    golden = session.get(GoldenCustomer, customer_id)
    if golden is None:
        raise HTTPException(404, f"customer {customer_id} does not exist")
    return customer_detail(session, golden)


@router.get("/{customer_id}/history", response_model=list[MergeEventOut])
def customer_history(
    customer_id: int, session: SessionDep, settings: SettingsDep, _token: AnyRole
) -> list[MergeEventOut]:
    return [MergeEventOut.of(e) for e in Steward(session, settings.mappings_dir).history(customer_id)]


@router.post("/merge", response_model=MergeEventOut, status_code=201)
def merge_customers(body: MergeRequest, session: SessionDep, settings: SettingsDep, token: ItRole) -> MergeEventOut:
    try:
        event = Steward(session, settings.mappings_dir).merge(
            body.survivor_id, body.absorbed_id, actor=f"token:{token.id}", reason=body.reason
        )
    except StewardError as exc:
        raise HTTPException(409, str(exc)) from None
    return MergeEventOut.of(event)


@router.post("/merges/{event_id}/undo", response_model=MergeEventOut, status_code=201)
def unmerge_customers(event_id: int, session: SessionDep, settings: SettingsDep, token: ItRole) -> MergeEventOut:
    try:
        event = Steward(session, settings.mappings_dir).unmerge(event_id, actor=f"token:{token.id}")
    except StewardError as exc:
        raise HTTPException(409, str(exc)) from None
    return MergeEventOut.of(event)
