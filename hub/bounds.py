"""What the hub's tables can hold, checked where values come in: the API's models and ingest.

SQLite enforces neither ``Numeric(18, 4)`` nor ``String(n)``, so without these checks one
order with a price of 1e30 goes in on the embedded default and later breaks every query
that reads it back (a receivables scan answering 500 for everyone); PostgreSQL refuses the
same value only at write time, as a database error. Here both backends refuse it up front,
with a message that names the field:

* a number must be finite and fit its ``Numeric(p, s)`` column: ``abs(x) < 10**(p - s)``;
* a string must fit its ``String(n)`` column and hold no NUL character (PostgreSQL cannot
  store one) and no lone UTF-16 surrogate (no encoding can);
* the API's input models use the same limits (:data:`Money`, :func:`text`, :class:`Input`).

One module for both sides, so the API and the connectors can never disagree on what fits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)
from sqlalchemy import Float, FromClause, Numeric, String

#: ``Numeric(18, 4)``, the hub's money and quantity column: 14 digits before the point.
MONEY_PRECISION, MONEY_SCALE = 18, 4
MONEY_LIMIT = Decimal(10) ** (MONEY_PRECISION - MONEY_SCALE)
#: The largest id a 32-bit ``INTEGER`` primary key holds (PostgreSQL's ``serial``).
MAX_ID = 2**31 - 1


class OutOfBounds(ValueError):
    """A value the hub's tables cannot hold; the message names the field and the limit."""


# --- text --------------------------------------------------------------------------------


def text_problem(value: str) -> str | None:
    """Why a string cannot be stored (a NUL, a lone surrogate), or None."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone UTF-16 surrogate (not valid Unicode)"
    return None


def find_bad_text(value: Any, where: str = "") -> str | None:
    """The first string anywhere in ``value`` (dict keys, lists, nested) that cannot be
    stored, as ``"where: problem"``; None when all can."""
    if isinstance(value, str):
        problem = text_problem(value)
        return f"{where or 'value'}: {problem}" if problem else None
    if isinstance(value, Mapping):
        for key, item in value.items():
            name = f"{where}.{key}" if where else str(key)
            found = find_bad_text(key, name) if isinstance(key, str) else None
            found = found or find_bad_text(item, name)
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = find_bad_text(item, f"{where}[{index}]")
            if found:
                return found
    return None


def _clean_text(value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise ValueError(problem)
    return value


#: What :func:`text` documents in the OpenAPI: no NUL (lone surrogates, which no JSON schema
#: pattern can name, are refused by the validator alone).
NO_NUL = r"^[^\x00]*$"


def text(max_length: int, min_length: int = 0) -> Any:
    """A string type for an API model that fits a ``String(max_length)`` column."""
    return Annotated[
        str,
        StringConstraints(min_length=min_length, max_length=max_length, pattern=NO_NUL),
        AfterValidator(_clean_text),
    ]


# --- numbers -----------------------------------------------------------------------------


def number_problem(value: Any, precision: int = MONEY_PRECISION, scale: int = MONEY_SCALE) -> str | None:
    """Why a number cannot be stored in ``Numeric(precision, scale)``, or None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return f"{_short(value)} is not a number"
    if not number.is_finite():
        return f"{_short(value)} is not a finite number"
    limit = Decimal(10) ** (precision - scale)
    if abs(number) >= limit:
        return f"{_short(value)} is too large (the hub stores numbers below 10^{precision - scale})"
    return None


#: The plain decimal strings an API model takes for money (at most 14 digits, 4 decimals).
_DIGITS = r"(?:0|[1-9][0-9]{0,13})(?:\.[0-9]{1,4})?"
_PATTERNS = {
    "any": rf"^-?{_DIGITS}$",
    "nonnegative": rf"^{_DIGITS}$",
    # above zero: 1 … 99999999999999.9999, or 0.0001 … 0.9999
    "positive": r"^(?:[1-9][0-9]{0,13}(?:\.[0-9]{1,4})?|0\.(?:[1-9][0-9]{0,3}|0[1-9][0-9]{0,2}|00[1-9][0-9]?|000[1-9]))$",
}
_LARGEST = 10**14 - 1  # a JSON number's bound: float cannot hold 99999999999999.9999
_MINIMUM = {"any": -_LARGEST, "nonnegative": 0, "positive": 0.0001}
_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)


def money(sign: Literal["any", "nonnegative", "positive"] = "any") -> Any:
    """Money or a quantity in an API model, as its OpenAPI says and nothing else: a JSON
    number within the bounds (rounded to 4 decimals, as the column would), or a plain decimal
    string (``"25.50"``) that fits ``Numeric(18, 4)`` exactly. Infinity, NaN, 1e30, a bool
    and strings like ``"1e3"`` are refused with 422."""
    pattern = re.compile(_PATTERNS[sign])
    minimum = _MINIMUM[sign]

    def parse(value: Any) -> Decimal:
        if isinstance(value, str):
            if not pattern.fullmatch(value):
                raise ValueError(
                    f"not a decimal of at most 14 digits and 4 decimals{' above 0' if sign == 'positive' else ''}"
                    f"{', not negative' if sign == 'nonnegative' else ''}: {_short(value)}"
                )
            return Decimal(value)
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise ValueError("a number or a decimal string is required")  # noqa: TRY004 - pydantic reports ValueError
        problem = number_problem(value)
        if problem:
            raise ValueError(problem)
        if not minimum <= value <= _LARGEST:
            raise ValueError(f"{_short(value)} is out of range ({minimum} … {_LARGEST})")
        return Decimal(str(value)).quantize(_QUANTUM, ROUND_HALF_EVEN)

    schema = {
        "anyOf": [
            {"type": "number", "minimum": minimum, "maximum": _LARGEST},
            {"type": "string", "pattern": _PATTERNS[sign]},
        ]
    }
    return Annotated[
        Decimal, PlainValidator(parse, json_schema_input_type=Any), WithJsonSchema(schema, mode="validation")
    ]


Money = money()
#: A hub id in an API model (a database primary key).
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class Input(BaseModel):
    """Base of the API's input models: unknown fields refused, and no string anywhere in the
    body (nested dicts and lists included) with a NUL or a lone surrogate."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _storable_text(cls, data: Any) -> Any:
        problem = find_bad_text(data)
        if problem:
            raise ValueError(problem)
        return data


# --- rows from connectors ----------------------------------------------------------------


def row_problems(table: FromClause, values: Mapping[str, Any], prefix: str = "", check_text: bool = True) -> list[str]:
    """What in ``values`` (canonical field → value) does not fit ``table``'s columns of the
    same name: numbers beyond their ``Numeric``, strings beyond their ``String``, and (with
    ``check_text``) a NUL or lone surrogate anywhere in ``values``, nested too: the record is also
    stored whole as JSON. Values of other types are left to the mapping and the database."""
    problems = []
    for name, value in values.items():
        column = table.columns.get(name)
        if column is None or value is None:
            continue
        kind = column.type
        if isinstance(kind, Numeric) and not isinstance(kind, Float) and kind.precision:
            problem = number_problem(value, kind.precision, kind.scale or 0)
            if problem:
                problems.append(f"{prefix}{name}: {problem}")
        elif isinstance(kind, String) and isinstance(value, str) and kind.length and len(value) > kind.length:
            problems.append(f"{prefix}{name}: {len(value)} characters, at most {kind.length} fit")
    bad = find_bad_text(values) if check_text else None
    if bad:
        problems.append(f"{prefix}{bad}")
    return problems


def check_row(table: FromClause, values: Mapping[str, Any], prefix: str = "") -> None:
    """Raise :class:`OutOfBounds` naming every value of ``values`` that ``table`` cannot hold."""
    problems = row_problems(table, values, prefix)
    if problems:
        raise OutOfBounds("; ".join(problems))


def _short(value: Any) -> str:
    shown = repr(value) if not isinstance(value, Decimal) else str(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."
