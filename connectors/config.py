"""Load YAML files (the hub's mappings, a connector's service, tables or file layout) into
pydantic models with errors that name file, line and field.

A manager edits these files, not a programmer; "field required" without a place is useless to
them. We compose the YAML node tree once to learn the line of every key, validate with pydantic,
and translate each error's location into ``file:line: field: message``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class ConfigError(ValueError):
    """One or more problems in a mapping file; ``problems`` holds (line, field, message)."""

    def __init__(self, path: Path | str, problems: list[tuple[int | None, str, str]]):
        self.path = str(path)
        self.problems = problems
        lines = [
            f"{self.path}:{line if line is not None else '?'}: {field or '(file)'}: {message}"
            for line, field, message in problems
        ]
        super().__init__("\n".join(lines))


def _lines(node: yaml.Node, path: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            out[path + (key,)] = key_node.start_mark.line + 1
            _lines(value_node, path + (key,), out)
            out[path + (key,)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _lines(item, path + (index,), out)


#: How many more nodes than it has a YAML document may expand to through its aliases (``*a``).
#: A mapping reuses a block a few times; nine nested anchors of nine aliases each (336 bytes)
#: expand to 387 million, and every walk of the parsed data (line index, validation, hashing)
#: pays that. A document beyond the bound is refused before anything walks it.
MAX_ALIAS_EXPANSION = 10_000


def _expanded_size(node: yaml.Node, limit: int, origin: Path | str) -> int:
    """Nodes ``node`` stands for with every alias expanded, counted without expanding (each
    node's size once); a recursive alias or a size beyond ``limit`` is a ConfigError."""
    sizes: dict[int, int] = {}
    pending: set[int] = set()

    def size(n: yaml.Node) -> int:
        key = id(n)
        if key in sizes:
            return sizes[key]
        if key in pending:
            raise ConfigError(origin, [(n.start_mark.line + 1, "", "not accepted: a YAML alias refers to itself")])
        pending.add(key)
        total = 1
        if isinstance(n, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in n.value)
        elif isinstance(n, yaml.SequenceNode):
            total += sum(size(item) for item in n.value)
        pending.discard(key)
        if total > limit:
            message = (
                f"not accepted: its YAML aliases expand to more than {limit} values (an alias bomb?); "
                "write the values out"
            )
            raise ConfigError(origin, [(n.start_mark.line + 1, "", message)])
        sizes[key] = total
        return total

    return size(node)


def parse_yaml(text: str, origin: Path | str) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """YAML text (a file's, or a user's through the API) → the data and the line of every key
    and list item. Parsed once; aliases may add at most ``MAX_ALIAS_EXPANSION`` nodes."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            distinct = _distinct_nodes(node)
            _expanded_size(node, distinct + MAX_ALIAS_EXPANSION, origin)
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(origin, [(line, "", f"not valid YAML: {getattr(exc, 'problem', None) or exc}")]) from None
    finally:
        loader.dispose()
    positions: dict[tuple[Any, ...], int] = {}
    if node is not None:
        _lines(node, (), positions)
    return data, positions


def _distinct_nodes(node: yaml.Node) -> int:
    seen: set[int] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if isinstance(n, yaml.MappingNode):
            stack.extend(part for pair in n.value for part in pair)
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
    return len(seen)


def read_yaml(path: Path | str) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """The parsed document of a file and the line of every key and list item in it."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(path, [(None, "", f"not UTF-8 text: {exc.reason} at byte {exc.start}")]) from None
    return parse_yaml(text, path)


def line_of(positions: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int | None:
    """The line of the deepest part of ``loc`` that exists in the file."""
    for cut in range(len(loc), -1, -1):
        if loc[:cut] in positions:
            return positions[loc[:cut]]
    return None


def load_model(path: Path | str, model: type[M]) -> M:
    data, positions = read_yaml(path)
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            field = ".".join(str(part) for part in loc)
            problems.append((line_of(positions, loc), field, error["msg"]))
        raise ConfigError(path, problems) from None
