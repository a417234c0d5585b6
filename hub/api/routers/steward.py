"""Data steward routes: pairs the engine was unsure about, and the steward's decision."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from hub.api.deps import ItRole, SessionDep, SettingsDep
from hub.bounds import Input, text
from hub.master.steward import Steward, StewardError
from hub.master.views import review_pair

router = APIRouter(prefix="/api/v1/steward", tags=["data steward"])


class Decision(Input):
    same: bool
    note: text(2000) | None = None  # type: ignore[valid-type]


class PairOut(BaseModel):
    id: int
    status: str
    score: float
    evidence: list[dict[str, Any]]
    source: dict[str, Any]
    candidate: dict[str, Any]
    decided_by: str | None
    decided_at: datetime | None


@router.get("/pairs", response_model=list[PairOut])
def pending_pairs(
    session: SessionDep,
    settings: SettingsDep,
    _token: ItRole,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> list[PairOut]:
    steward = Steward(session, settings.mappings_dir)
    return [PairOut(**review_pair(session, p)) for p in steward.pending(limit, offset)]


@router.post("/pairs/{pair_id}/decision", response_model=PairOut)
def decide_pair(pair_id: int, body: Decision, session: SessionDep, settings: SettingsDep, token: ItRole) -> PairOut:
    try:
        pair = Steward(session, settings.mappings_dir).decide(
            pair_id, body.same, actor=f"token:{token.id}", note=body.note
        )
    except StewardError as exc:
        raise HTTPException(409, str(exc)) from None
    return PairOut(**review_pair(session, pair))
