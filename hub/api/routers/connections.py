"""Connections, syncs and dead letters, for IT."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from hub.api.deps import ConnectionsDep, EngineDep, ItRole, SessionDep, SettingsDep
from hub.bounds import MAX_ID, Id, Input, text
from hub.sync.connections import (
    ConnectionConfigError,
    ConnectionService,
    add_connection,
    describe,
    remove_connection,
    secrets_of,
    update_connection,
)
from hub.sync.leases import close_circuit
from hub.sync.models import Connection, DeadLetter
from hub.sync.probe import probe
from hub.sync.secrets import key_of

router = APIRouter(prefix="/api/v1", tags=["connections and syncs"])


class NewConnection(Input):
    name: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.-]+$")
    kind: text(40)  # type: ignore[valid-type]
    settings: dict[str, Any] = {}
    secrets: dict[str, str] = Field(default={}, description="Stored encrypted; never returned.")
    interval_seconds: int | None = Field(default=None, ge=10, le=MAX_ID)


class ConnectionChange(Input):
    settings: dict[str, Any] = Field(default={}, description="Settings to set; the others stay.")
    secrets: dict[str, str] = Field(default={}, description="Secrets to set; stored encrypted, never returned.")
    unset: list[text(80)] = Field(default=[], max_length=100, description="Settings or secrets to remove.")  # type: ignore[valid-type]
    interval_seconds: int | None = Field(default=None, ge=0, le=MAX_ID, description="0: only on demand.")


class SyncRequest(Input):
    streams: list[text(80)] | None = Field(  # type: ignore[valid-type]
        None, max_length=100, description="Default: all of the connection's streams."
    )
    full: bool = False
    force: bool = Field(
        False,
        description="With full: flag vanished records even when the read is much shorter than the last full read.",
    )


class ReplayRequest(Input):
    ids: list[Id] | None = Field(None, max_length=10_000)


class DeadLetterOut(BaseModel):
    id: int
    connection_id: int
    stream: str
    external_id: str | None
    error: str
    attempts: int
    #: runs that found the record bad (one open letter per record), the last one when
    seen_count: int
    last_seen_at: datetime | None
    status: str
    payload: dict[str, Any]
    created_at: datetime


def secrets_unreadable(request: Request, exc: Exception) -> JSONResponse:
    """409 naming the connection and the fix, for every route that needs a connection's
    secrets (test, sync, replay, dispatch) when ``HUB_SECRET_KEY`` is not the key they were
    stored with: the hub's configuration conflicts with its data; it is not a server fault."""
    return JSONResponse({"detail": str(exc)}, status_code=409)


@router.get("/connections")
def list_connections(session: SessionDep, _token: ItRole) -> list[dict[str, Any]]:
    return [describe(session, c) for c in session.scalars(select(Connection).order_by(Connection.name))]


@router.post("/connections", status_code=201)
def create_connection(
    body: NewConnection, session: SessionDep, settings: SettingsDep, _token: ItRole
) -> dict[str, Any]:
    try:
        row = add_connection(
            session,
            name=body.name,
            kind=body.kind,
            settings=body.settings,
            secrets=body.secrets,
            secret_key=key_of(settings),
            interval_seconds=body.interval_seconds,
            mappings_dir=settings.mappings_dir,
        )
    except ConnectionConfigError as exc:
        raise HTTPException(422, str(exc)) from None
    return describe(session, row)


@router.patch("/connections/{name}")
def change_connection(
    name: str, body: ConnectionChange, session: SessionDep, settings: SettingsDep, _token: ItRole
) -> dict[str, Any]:
    """Set settings or secrets of a connection (the others stay); its field map is checked again."""
    try:
        row, changed = update_connection(
            session,
            name,
            settings=body.settings,
            secrets=body.secrets,
            unset=list(body.unset),
            secret_key=key_of(settings),
            interval_seconds=body.interval_seconds,
            mappings_dir=settings.mappings_dir,
        )
    except KeyError as exc:
        raise HTTPException(404, str(exc.args[0])) from None
    except ConnectionConfigError as exc:
        raise HTTPException(422, str(exc)) from None
    return {**describe(session, row), "changed": changed}


@router.delete("/connections/{name}")
def delete_connection(name: str, session: SessionDep, _token: ItRole, force: bool = False) -> dict[str, int]:
    """Remove a connection: its settings, secrets and cursors go; links, documents and runs
    stay. Refused (409) while dead letters or deliveries wait for it, unless ``force``."""
    try:
        return remove_connection(session, name, force)
    except KeyError as exc:
        raise HTTPException(404, str(exc.args[0])) from None
    except ConnectionConfigError as exc:
        raise HTTPException(409, str(exc)) from None


@router.post("/connections/{name}/test")
def test_connection(name: str, session: SessionDep, engine: EngineDep, _token: ItRole) -> dict[str, Any]:
    """The connector's check, then one page of each stream read and mapped (``hub.sync.probe``);
    a successful test closes the circuit breaker (in the request's session)."""
    try:
        return probe(engine, name, session).as_dict()
    except KeyError as exc:
        raise HTTPException(404, str(exc.args[0])) from None


@router.post("/connections/{name}/reset")
def reset_connection(name: str, session: SessionDep, _token: ItRole) -> dict[str, Any]:
    """Close the connection's circuit breaker so syncs run again at once."""
    try:
        was_open = close_circuit(session, name)
    except KeyError as exc:
        raise HTTPException(404, str(exc.args[0])) from None
    return {"name": name, "was_open": was_open}


@router.post("/connections/{name}/sync", status_code=202)
def sync_connection(
    name: str,
    body: SyncRequest,
    session: SessionDep,
    settings: SettingsDep,
    connections: ConnectionsDep,
    _token: ItRole,
) -> dict[str, Any]:
    """Queue a sync (runs at once, in-process, in the embedded mode)."""
    from hub.tasks import sync_task

    try:
        secrets_of(session, name, key_of(settings))  # before queueing: fails now, clearly
    except KeyError as exc:
        raise HTTPException(404, str(exc.args[0])) from None
    if body.streams:
        _check_streams(session, connections, name, body.streams)
    if body.force and not body.full:
        raise HTTPException(422, "force only applies to a full read (full: true)")
    result = sync_task.delay(name, body.streams, body.full, body.force)
    return {"task_id": result.id, "queued": True}


def _check_streams(session: Any, connections: ConnectionService, name: str, streams: list[str]) -> None:
    """422 naming the streams the connection lacks, before anything is queued (the sync
    itself would stop at the first unknown one, after the streams before it ran)."""
    with connections.open(session, name) as connector:
        known = [s.name for s in connector.streams]
    unknown = [s for s in streams if s not in known]
    if unknown:
        raise HTTPException(
            422, f"connection {name!r} has no stream {', '.join(map(repr, unknown))} (streams: {', '.join(known)})"
        )


@router.get("/dead-letters", response_model=list[DeadLetterOut])
def list_dead_letters(
    session: SessionDep, _token: ItRole, status: str = "open", limit: int = Query(100, ge=1, le=1000)
) -> list[Any]:
    rows = session.scalars(select(DeadLetter).where(DeadLetter.status == status).order_by(DeadLetter.id).limit(limit))
    return [DeadLetterOut.model_validate(r, from_attributes=True) for r in rows]


@router.post("/dead-letters/replay")
def replay_dead_letters(body: ReplayRequest, engine: EngineDep, _token: ItRole) -> dict[str, int]:
    ok, still = engine.replay(body.ids)
    return {"replayed": ok, "still_failing": still}
