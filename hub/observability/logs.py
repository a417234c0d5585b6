"""Logs that say which sync or delivery they belong to.

The sync engine and the outbox dispatcher bind ``connection``, ``stream`` and ``run_id`` into
context variables for the length of a run; every log line written meanwhile — the hub's own,
a connector's, httpx's — carries them, without passing them through every call. Context
variables rather than thread-locals: they follow a run into threads started with a copied
context and stay separate between asyncio tasks.

``HUB_LOG_FORMAT=json`` gives one JSON object per line (timestamp, level, logger, message,
and the run's fields when inside one) for a log shipper; the default is plain text for a
console. ``HUB_LOG_LEVEL`` sets the level (default INFO). ``configure_logging()`` is called
once per process (``hub`` CLI, Celery worker).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any, TextIO

FIELDS = ("connection", "stream", "run_id")
_vars: dict[str, ContextVar[Any]] = {name: ContextVar(f"hub_log_{name}", default=None) for name in FIELDS}


def bind(**fields: Any) -> list[Token[Any]]:
    """Set context fields (``connection``, ``stream``, ``run_id``); ``unbind`` the tokens after."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown log context field(s) {sorted(unknown)}; known: {', '.join(FIELDS)}")
    return [_vars[name].set(value) for name, value in fields.items()]


def unbind(tokens: list[Token[Any]]) -> None:
    """Put the fields back as they were before ``bind`` (in reverse, so nesting unwinds)."""
    for token in reversed(tokens):
        token.var.reset(token)


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    tokens = bind(**fields)
    try:
        yield
    finally:
        unbind(tokens)


def current() -> dict[str, Any]:
    """The bound fields that have a value."""
    return {name: var.get() for name, var in _vars.items() if var.get() is not None}


class ContextFilter(logging.Filter):
    """Copies the bound fields onto each record, so any formatter can use them."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.hub_context = current()
        return True


def _context(record: logging.LogRecord) -> dict[str, Any]:
    """As bound when the record was made (ContextFilter); else as bound now."""
    context = getattr(record, "hub_context", None)
    return current() if context is None else context


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_context(record),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        context = _context(record)
        if context:
            text += " [" + " ".join(f"{k}={v}" for k, v in context.items()) + "]"
        return text


def configure_logging(fmt: str | None = None, level: str | int | None = None,
                      stream: TextIO | None = None) -> logging.Handler:
    """Install the hub's handler on the root logger (replacing one installed before)."""
    fmt = (fmt or os.environ.get("HUB_LOG_FORMAT") or "text").lower()
    if fmt not in ("json", "text"):
        raise ValueError(f"HUB_LOG_FORMAT must be 'json' or 'text', not {fmt!r}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name("hub")
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "hub"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level or os.environ.get("HUB_LOG_LEVEL", "INFO").upper())
    return handler
