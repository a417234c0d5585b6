"""Find connector classes by kind: built-in ones and third parties' through entry points."""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import entry_points

from connectors.base import Connector

GROUP = "concord.connectors"


@lru_cache(maxsize=1)
def available() -> dict[str, type[Connector]]:
    found: dict[str, type[Connector]] = {}
    for entry in entry_points(group=GROUP):
        found[entry.name] = entry.load()
    return found


def connector_class(kind: str) -> type[Connector]:
    kinds = available()
    if kind not in kinds:
        raise KeyError(f"no connector of kind {kind!r}; installed: {', '.join(sorted(kinds)) or 'none'}")
    return kinds[kind]
