"""Load YAML mappings into pydantic models with errors that name file, line and field.

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


def read_yaml(path: Path | str) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """The parsed document and the line of every key and list item in it."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(path, [(line, "", f"not valid YAML: {getattr(exc, 'problem', exc)}")])
    positions: dict[tuple[Any, ...], int] = {}
    if node is not None:
        _lines(node, (), positions)
    return data, positions


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
