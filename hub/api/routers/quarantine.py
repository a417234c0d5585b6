"""Quarantine and import runs: what did not go in, why, and replaying it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from hub.api.deps import ItRole, SessionDep, SettingsDep
from hub.bounds import Id, Input
from hub.sync.imports import replay_quarantined
from hub.sync.models import SyncRun
from hub.sync.quarantine import open_records
from hub.sync.runs import mark_interrupted

router = APIRouter(prefix="/api/v1", tags=["quarantine and runs"])


class QuarantinedOut(BaseModel):
    id: int
    entity_type: str
    system: str
    source: str
    row_number: int | None
    external_id: str | None
    reason: str
    payload: dict[str, Any]
    created_at: datetime


class ReplayRequest(Input):
    ids: list[Id] | None = Field(None, max_length=10_000)


class ReplayResult(BaseModel):
    replayed: int
    still_quarantined: int


class RunOut(BaseModel):
    id: int
    system: str
    entity_type: str
    source: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    read: int
    created: int
    updated: int
    unchanged: int
    failed: int
    missing: int
    error: str | None


@router.get("/quarantine", response_model=list[QuarantinedOut])
def list_quarantine(
    session: SessionDep,
    _token: ItRole,
    entity_type: str | None = None,
    system: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
) -> list[Any]:
    return [
        QuarantinedOut.model_validate(r, from_attributes=True)
        for r in open_records(session, entity_type, system, limit, offset)
    ]


@router.post("/quarantine/replay", response_model=ReplayResult)
def replay(body: ReplayRequest, settings: SettingsDep, _token: ItRole) -> ReplayResult:
    ok, still = replay_quarantined(settings.database_url, settings.mappings_dir, body.ids)
    return ReplayResult(replayed=ok, still_quarantined=still)


@router.get("/sync-runs", response_model=list[RunOut])
def list_runs(session: SessionDep, _token: ItRole, limit: int = Query(50, ge=1, le=500)) -> list[Any]:
    mark_interrupted(session)  # a killed run is shown failed, not "running" for ever
    runs = session.scalars(select(SyncRun).order_by(SyncRun.id.desc()).limit(limit))
    return [RunOut.model_validate(r, from_attributes=True) for r in runs]
