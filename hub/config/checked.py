"""Loading a mapping whose model checks more than its own shape: the fields it names against
the canonical records, the codes against their code lists.

Such a model has ``problems()``: (location in the file, message) for each thing wrong across
fields. Loading it is validation, then those problems, both reported as ``file:line: field:
message`` from one parse of the file — the same loader the sync and the dispatcher use, so
a typo that ``hub mappings check`` refuses is refused there too, and never silently drops a
field or a code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ValidationError

from hub.config.loader import ConfigError, line_of, read_yaml

#: (location in the document, message): what ``problems()`` returns.
Problem = tuple[tuple[Any, ...], str]


@runtime_checkable
class Checked(Protocol):
    def problems(self) -> list[Problem]: ...


M = TypeVar("M", bound=BaseModel)


def load_checked(path: Path | str, model: type[M]) -> M:
    """``model`` from the YAML file at ``path``; a ConfigError names file, line and field of
    every validation error, or else of every problem the model's ``problems()`` finds."""
    data, positions = read_yaml(path)
    try:
        loaded = model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise ConfigError(
            path,
            [(line_of(positions, tuple(e["loc"])), ".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()],
        ) from None
    if isinstance(loaded, Checked):
        found = loaded.problems()
        if found:
            raise ConfigError(
                path,
                [(line_of(positions, loc), ".".join(str(p) for p in loc), message) for loc, message in found],
            )
    return loaded
