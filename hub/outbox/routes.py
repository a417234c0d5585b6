"""``mappings/routes.yaml``: where each kind of document is entered, which systems receive it,
and which system owns which field.

Managers change a route by editing the file (``hub mappings check`` validates it): no code.
System names are connection names (``hub connections list``); ``hub`` is the hub's own API.
Entities and fields are the canonical records' (``hub.canonical``); loading the file checks
them (``Routes.problems``), and ``hub mappings check`` also checks each target's stream
(``hub.config.checks``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from hub.canonical import RECORDS, refs
from hub.config.checked import Problem, load_checked

#: The hub's own API as a system name (``hub.documents.ingest.HUB``), and the owner that
#: stands for the system a record was entered in.
HUB, ORIGIN = "hub", "origin"


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    connection: str
    stream: str
    #: After creating the record here, send it back to the system it was entered in on this
    #: stream of the origin, so that system learns this one's number (the CRM, the ERP's).
    report_back: str | None = None
    max_attempts: int = Field(8, ge=1, le=100)
    #: Send only records whose reference of this name the target has (``order`` for a
    #: shipment: the CRM gets the deliveries of the orders it knows, not the ERP's own).
    when_linked: str | None = None


class Route(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Systems whose changes are sent on; empty means every system.
    entered_in: list[str] = []
    send_to: list[Target] = []


class Routes(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    routes: dict[str, Route] = {}
    #: entity → field → the system that owns it (``*``: every field of the entity).
    ownership: dict[str, dict[str, str]] = {}

    def problems(self) -> list[Problem]:
        """What the file names that the hub does not have: an entity, an owned field, a
        ``when_linked`` reference; and a route to the hub itself."""
        out: list[Problem] = []
        entities = ", ".join(RECORDS)
        for entity, route in self.routes.items():
            record = RECORDS.get(entity)
            if record is None:
                out.append((("routes", entity), f"unknown entity {entity!r} (entities: {entities})"))
                continue
            linkable = refs(record)
            for i, target in enumerate(route.send_to):
                if target.connection == HUB:
                    out.append(
                        (
                            ("routes", entity, "send_to", i, "connection"),
                            f"{HUB!r} is the hub's own API: it receives nothing",
                        )
                    )
                if target.when_linked is not None and target.when_linked not in linkable:
                    message = (
                        f"{entity} has no reference {target.when_linked!r} "
                        f"(references: {', '.join(linkable) or 'none'})"
                    )
                    out.append((("routes", entity, "send_to", i, "when_linked"), message))
        for entity, owners in self.ownership.items():
            record = RECORDS.get(entity)
            if record is None:
                out.append((("ownership", entity), f"unknown entity {entity!r} (entities: {entities})"))
                continue
            for name in owners:
                if name != "*" and name not in record.model_fields:
                    out.append(
                        (
                            ("ownership", entity, name),
                            f"{entity} has no field {name!r} (fields: {', '.join(record.model_fields)}, or *)",
                        )
                    )
        return out

    def systems(self) -> set[str]:
        """Every system the file names (connections, and ``hub``)."""
        named = {t.connection for r in self.routes.values() for t in r.send_to}
        named |= {s for r in self.routes.values() for s in r.entered_in}
        named |= {owner for owners in self.ownership.values() for owner in owners.values() if owner != ORIGIN}
        return named

    def targets(self, entity: str, origin: str) -> list[Target]:
        """Where a change of this entity made in ``origin`` goes: never back to its origin."""
        route = self.routes.get(entity)
        if route is None or (route.entered_in and origin not in route.entered_in):
            return []
        return [t for t in route.send_to if t.connection != origin]

    def target(self, entity: str, connection: str) -> Target | None:
        route = self.routes.get(entity)
        return next((t for t in route.send_to if t.connection == connection), None) if route else None


def load_routes(mappings_dir: Path) -> Routes:
    path = mappings_dir / "routes.yaml"
    return _load(path, path.stat().st_mtime_ns) if path.exists() else Routes()


@lru_cache(maxsize=8)
def _load(path: Path, _mtime: int) -> Routes:
    """Re-read when the file changes: an edited route applies from the next dispatch."""
    return load_checked(path, Routes)
