"""Find connector classes by kind: built-in ones and third parties' through entry points."""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points

from connectors.base import Connector

GROUP = "concord.connectors"


@lru_cache(maxsize=1)
def available() -> dict[str, EntryPoint]:
    """Installed kinds; a connector's module is imported only when its kind is used, so one
    broken or missing third-party package cannot stop the others."""
    return {entry.name: entry for entry in entry_points(group=GROUP)}


def connector_class(kind: str) -> type[Connector]:
    kinds = available()
    if kind not in kinds:
        raise KeyError(f"no connector of kind {kind!r}; installed: {', '.join(sorted(kinds)) or 'none'}")
    return kinds[kind].load()
