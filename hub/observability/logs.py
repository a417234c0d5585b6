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
import re
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


#: A query string in a logged path or URL: its values may be e-mails, tax ids, names, tokens.
_QUERY = re.compile(r"\?([^\s\"']*)")
REDACTED = "[redacted]"
#: Loggers whose records carry request paths or URLs: uvicorn's access log, the HTTP clients.
URL_LOGGERS = ("uvicorn.access", "httpx", "httpcore", "urllib3.connectionpool")


def redact_query(text: str) -> str:
    """``text`` with the value of every query parameter replaced: ``/c?email=a@b.c&x`` →
    ``/c?email=[redacted]&x``. The names stay, so a log still says what was asked."""

    def values(match: re.Match[str]) -> str:
        return "?" + "&".join(
            f"{pair.split('=', 1)[0]}={REDACTED}" if "=" in pair else pair for pair in match.group(1).split("&")
        )

    return _QUERY.sub(values, text) if "?" in text else text


class RedactQueries(logging.Filter):
    """Personal data in query strings stays out of the logs (access log, HTTP client logs):
    a record's message and arguments get their query values redacted before any handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                redact_query(a)
                if isinstance(a, str)
                else redact_query(str(a))
                if "?" in str(a) and "://" in str(a)
                else a
                for a in record.args
            )
        if isinstance(record.msg, str):
            record.msg = redact_query(record.msg)
        return True


def install_query_redaction() -> None:
    """Add ``RedactQueries`` to the loggers that log paths and URLs (once each); called by
    ``configure_logging`` and by the API app, so every way of serving the API has it."""
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactQueries) for f in logger.filters):
            logger.addFilter(RedactQueries())


def configure_logging(
    fmt: str | None = None, level: str | int | None = None, stream: TextIO | None = None
) -> logging.Handler:
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
    install_query_redaction()
    root.setLevel(level or os.environ.get("HUB_LOG_LEVEL", "INFO").upper())
    # Alembic's INFO lines ("setup plugin …", "Running upgrade …") are for whoever debugs a
    # migration, not every command's output: shown only when the hub logs at DEBUG
    logging.getLogger("alembic").setLevel(logging.NOTSET if root.level <= logging.DEBUG else logging.WARNING)
    return handler
