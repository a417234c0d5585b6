"""Printing values that came from data (customer names, order fields, errors, file rows) on a
terminal: as text, never as instructions to rich or to the terminal.

A customer named ``[bold red]x[/]`` would be rendered as markup by rich, and one named
``\\x1b[2J`` or ``\\x1b]0;title\\x07`` would clear the operator's screen or retitle the window.
``safe`` shows control characters as visible escapes (``\\x1b``) and escapes rich markup;
``json_text`` is ``json.dumps`` with the C1 controls (which JSON leaves raw) escaped too.
Every CLI value that comes from data goes through one of them.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rich.markup import escape

#: C0 controls except tab and newline, DEL, and the C1 controls (CSI is U+009B).
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible(text: str) -> str:
    """``text`` with each control character written as ``\\xNN`` (seen, and harmless)."""
    return CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def safe(value: Any) -> str:
    """``value`` as a string rich prints literally and the terminal does not act on;
    ``None`` is the empty string (a missing value in a table cell)."""
    if value is None:
        return ""
    return escape(visible(str(value)))


def json_text(data: Any) -> str:
    """Indented JSON for ``--json`` outputs: readable non-ASCII, no raw control character."""
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    return CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
