"""Date arithmetic inside SQL, for SQLite and PostgreSQL alike.

The scan and stage detection compute due dates for many rows in one statement; each dialect
spells "date plus N days" and "end of that month" differently, so each gets its own SQL.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Date
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class add_days(FunctionElement[Any]):
    """``add_days(date, n)``: the date ``n`` (an integer expression) days later."""

    type = Date()
    inherit_cache = True


class month_end(FunctionElement[Any]):
    """``month_end(date)``: the last day of the date's month."""

    type = Date()
    inherit_cache = True


@compiles(add_days, "postgresql")
def _add_days_pg(element: add_days, compiler: Any, **kw: Any) -> str:
    day, n = list(element.clauses)
    return f"(CAST({compiler.process(day, **kw)} AS DATE) + CAST({compiler.process(n, **kw)} AS INTEGER))"


@compiles(add_days)
def _add_days_sqlite(element: add_days, compiler: Any, **kw: Any) -> str:
    day, n = list(element.clauses)
    return f"date({compiler.process(day, **kw)}, printf('%+d days', {compiler.process(n, **kw)}))"


@compiles(month_end, "postgresql")
def _month_end_pg(element: month_end, compiler: Any, **kw: Any) -> str:
    (day,) = list(element.clauses)
    return f"CAST(date_trunc('month', {compiler.process(day, **kw)}) + interval '1 month - 1 day' AS DATE)"


@compiles(month_end)
def _month_end_sqlite(element: month_end, compiler: Any, **kw: Any) -> str:
    (day,) = list(element.clauses)
    return f"date({compiler.process(day, **kw)}, 'start of month', '+1 month', '-1 day')"
