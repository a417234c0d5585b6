"""Filling operation parameters from templates, and finding things in answers by path.

Templates (the ``params`` of a service file):

- a string is a ``str.format`` template over the call's context: ``"{session}"``,
  ``"accounts.date_modified > '{since:%Y-%m-%d %H:%M:%S}'"``, ``"{current[Key]}"``; a string
  that is exactly one placeholder keeps the value's type (a number stays a number, a list a
  list, None leaves the parameter out);
- ``{if_since: X, else: Y}`` is X on an incremental read and Y (default: left out) on a full one;
- dicts and lists are filled item by item; anything else is taken as it is.

Paths: dotted keys (``entry_list.item``), list indexes (``lines.0``) and a selector that picks
the first list item whose field has a value (``item[name=line_items]``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_WHOLE = re.compile(r"^\{(\w+)(?:\[(\w+)\])?\}$")
_SELECT = re.compile(r"^(\w+)\[(\w+)=([^\]]*)\]$")


class TemplateError(ValueError):
    """A template names a value the context does not have."""


def fill(template: Any, context: Mapping[str, Any]) -> Any:
    if isinstance(template, str):
        whole = _WHOLE.match(template)
        try:
            if whole:
                value = context[whole[1]]
                return value[whole[2]] if whole[2] and value is not None else value
            return template.format_map(context)
        except (KeyError, IndexError) as exc:
            raise TemplateError(
                f"template {template!r} uses {exc}, which is not known here (known: {', '.join(sorted(context))})"
            ) from None
    if isinstance(template, Mapping):
        if "if_since" in template:
            branch = template["if_since"] if context.get("since") is not None else template.get("else")
            return fill(branch, context)
        return {key: fill(value, context) for key, value in template.items()}
    if isinstance(template, list):
        return [fill(item, context) for item in template]
    return template


def get(value: Any, path: str) -> Any:
    """The value at ``path``, or None where the path leads nowhere ("" is the value itself)."""
    for part in path.split(".") if path else []:
        if value is None:
            return None
        select = _SELECT.match(part)
        if select:
            items = as_list(_child(value, select[1]))
            value = next((i for i in items if str(_child(i, select[2])) == select[3]), None)
        elif part.isdigit():
            items = as_list(value)
            value = items[int(part)] if int(part) < len(items) else None
        else:
            value = _child(value, part)
    return value


def missing_step(value: Any, path: str) -> str | None:
    """The first step of ``path`` that names something the answer does not have (a key absent
    from a record, a name into a non-empty list), or None when the path exists — its value may
    still be empty. An empty answer has nothing to miss."""
    if value in (None, "", [], {}):
        return None
    for part in path.split(".") if path else []:
        if value is None:
            return None
        select = _SELECT.match(part)
        key = select[1] if select else part
        if part.isdigit():
            items = as_list(value)
            value = items[int(part)] if int(part) < len(items) else None
            continue
        if isinstance(value, list):
            if not value:
                return None
            return part
        if not isinstance(value, Mapping) or key not in value:
            return part
        value = get(value, part)
    return None


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def pairs_to_dict(pairs: Any) -> dict[str, Any]:
    """``[{name, value}, …]`` → ``{name: value}``."""
    return {str(_child(p, "name")): _child(p, "value") for p in as_list(pairs)}


def _child(value: Any, key: str) -> Any:
    if isinstance(value, Mapping):
        return value.get(key)
    return None
