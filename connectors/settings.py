"""Typed connection settings and secrets: what a connector takes, checked when the connection is added.

Each connector declares ``Settings`` (a subclass of :class:`ConnectorSettings`) and ``Secrets``
(of :class:`ConnectorSecrets`). ``hub connections add`` and ``POST /api/v1/connections``
validate them at once (:func:`validate_connection`), so ``-s page_size=lots`` is refused then
("page_size: not an integer"), not at the first sync; ``hub connections add --help-kind KIND``
lists them (:func:`describe_kind`). The connector parses the same models when it is built
(``Connector.options``, ``Connector.credentials``).

One name per idea across connectors: ``base_url`` (an HTTP system's address), ``timeout``
(seconds per request), ``retries`` (how often a failed call is repeated: 0 never),
``page_size`` (records per page). Old names stay accepted, so stored connections keep working:
``url`` for ``base_url``, ``attempts`` / ``retry_attempts`` (the number of tries, one more than
the retries) for ``retries``; :func:`validate_connection` reports them as deprecated.

Values typed on a command line arrive as text: numbers and booleans are parsed, a list may be
given comma-separated. A setting a connector does not know is refused at ``add`` (a typo must
not be ignored silently); when a connector is built from a stored connection it is left out,
so a connection stored before a setting was dropped still runs.
"""

from __future__ import annotations

import sys
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, TypeVar, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from connectors.errors import ConnectorError

M = TypeVar("M", bound=BaseModel)


class SettingsError(ConnectorError):
    """A connection's settings or secrets that do not fit its connector; ``problems`` holds
    one ``"name: what is wrong"`` line each."""

    def __init__(self, kind: str, problems: list[str]):
        self.kind, self.problems = kind, problems
        super().__init__(f"{kind} connection: " + "; ".join(problems))


def _comma_list(value: Any) -> Any:
    """``"a,b"`` (as typed on a command line) → ``["a", "b"]``; a list stays a list."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


#: A list of names, from JSON or comma-separated text.
Names = Annotated[list[str], BeforeValidator(_comma_list)]
#: Seconds, more than zero.
Seconds = Annotated[float, Field(gt=0)]


def _tries_to_retries(value: Any) -> Any:
    """The old ``attempts`` counted the first try too: ``attempts=4`` is ``retries=3``."""
    try:
        return max(0, int(value) - 1)
    except (TypeError, ValueError):
        return value  # left to the field's own check, which names the problem


def _same(value: Any) -> Any:
    return value


class _Model(BaseModel):
    """What settings and secrets share: immutable, names checked, old names mapped."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    #: Old name → (new name, how an old value becomes a new one); accepted, reported as deprecated.
    renamed: ClassVar[dict[str, tuple[str, Callable[[Any], Any]]]] = {}

    @model_validator(mode="before")
    @classmethod
    def _old_names(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        for old, (new, convert) in cls.renamed.items():
            if old in data and new in cls.model_fields:
                value = data.pop(old)
                if new in data:
                    raise ValueError(f"{old} and {new} both given ({old} is the old name of {new})")
                data[new] = convert(value)
        return data

    @classmethod
    def accepted_names(cls) -> set[str]:
        """Every name this model takes: its fields and the old names still accepted."""
        return set(cls.model_fields) | {old for old, (new, _c) in cls.renamed.items() if new in cls.model_fields}


class ConnectorSettings(_Model):
    """Settings every connection may have: the hub reads these, the connector ignores them."""

    #: names of the fields above that are the hub's, not the connector's (``--help-kind`` lists them apart)
    HUB_FIELDS: ClassVar[tuple[str, ...]] = (
        "mapping",
        "mappings_dir",
        "overlap_seconds",
        "lanes",
        "concurrency",
        "publish_fields",
        "min_full_read_ratio",
        "verify",
        "verify_fields",
    )

    renamed = {
        "attempts": ("retries", _tries_to_retries),
        "retry_attempts": ("retries", _tries_to_retries),
        "url": ("base_url", _same),
    }

    mapping: str | None = Field(
        None,
        description="The field map, mappings/connectors/<mapping>.yaml (default: the connector's kind).",
    )
    mappings_dir: str | None = Field(
        None,
        description="Folder of the mappings (default: HUB_MAPPINGS_DIR; the sync engine passes its own).",
    )
    overlap_seconds: int = Field(
        300,
        ge=0,
        description="Seconds each incremental read goes back before "
        "its cursor (records changed while the last run read).",
    )
    lanes: int = Field(
        1,
        ge=1,
        description="Parallel delivery lanes when the hub writes to this system; a record always takes the same lane.",
    )
    concurrency: int = Field(1, ge=1, description="Records written at once within a lane.")
    publish_fields: Names | None = Field(
        None,
        description="Golden customer fields written back to this system (default: name, email, phone).",
    )
    min_full_read_ratio: float = Field(
        0.5,
        ge=0,
        le=1,
        description="A full read shorter than this share of the last one flags no record "
        "missing (the run fails naming the counts) unless hub sync --full --force.",
    )
    verify: bool = Field(
        True,
        description="Read each write back (where the connector can) and make a write that "
        "did not take effect a dead delivery; false: not verified, and said so.",
    )
    verify_fields: dict[str, list[str]] | None = Field(
        None,
        description="Per stream, the fields compared when a write is read back (default: "
        "those the field map reads, less the ones this system owns, number and the hub's refs).",
    )


class OpenSettings(ConnectorSettings):
    """A connector that declares no settings (a third party's): any name is taken as given."""

    model_config = ConfigDict(extra="allow")


class ConnectorSecrets(_Model):
    """A connector's secrets (stored encrypted); a subclass declares them."""


class OpenSecrets(ConnectorSecrets):
    model_config = ConfigDict(extra="allow")


# --- checking ------------------------------------------------------------------------------------

_MESSAGES = {
    "int_parsing": "not an integer",
    "int_type": "not an integer",
    "int_from_float": "not an integer",
    "float_parsing": "not a number",
    "float_type": "not a number",
    "bool_parsing": "not true or false",
    "bool_type": "not true or false",
    "string_type": "not text",
    "list_type": "not a list",
    "missing": "required",
}


def _problems(exc: ValidationError, model: type[_Model], what: str) -> list[str]:
    out = []
    for error in exc.errors(include_input=False):
        name = ".".join(str(part) for part in error["loc"]) or f"{what}s"
        kind = error["type"]
        if kind == "extra_forbidden":
            known = ", ".join(sorted(n for n in model.model_fields if n not in ConnectorSettings.HUB_FIELDS))
            message = f"unknown {what} (known: {known or 'none'})"
        elif kind == "missing":
            message = f"required {what}"
        else:
            message = _MESSAGES.get(kind) or str(error["msg"]).removeprefix("Value error, ")
        out.append(f"{name}: {message}")
    return out


def parse(
    model: type[M],
    values: Mapping[str, Any],
    *,
    kind: str,
    what: str = "setting",
    known_only: bool = False,
) -> M:
    """``values`` as ``model``; :class:`SettingsError` naming each problem. ``known_only``
    leaves out names the model does not take (a stored connection's stale setting)."""
    data = dict(values)
    if known_only and issubclass(model, _Model) and model.model_config.get("extra") == "forbid":
        accepted = model.accepted_names()
        data = {k: v for k, v in data.items() if k in accepted}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise SettingsError(kind, _problems(exc, model, what)) from None  # type: ignore[arg-type]


@dataclass(frozen=True)
class Checked:
    """A new connection's settings and secrets, checked, as they are to be stored."""

    settings: ConnectorSettings
    secrets: ConnectorSecrets
    #: the secrets as given, plus any of the connector's secrets that was given as a setting
    secret_values: dict[str, str]
    #: ``"attempts: deprecated, now retries"``, ``"password: a secret, stored encrypted"``
    notes: list[str]

    def stored_settings(self) -> dict[str, Any]:
        """The settings to store: what was given, under today's names, values parsed."""
        return self.settings.model_dump(mode="json", exclude_unset=True)


def validate_connection(cls: type[Any], settings: Mapping[str, Any], secrets: Mapping[str, str]) -> Checked:
    """Check a new connection's settings and secrets against connector class ``cls`` (its
    ``Settings`` and ``Secrets``); :class:`SettingsError` lists every problem of both. One of
    the connector's secrets given as a setting (``-s password=…``) is taken as that secret."""
    kind = getattr(cls, "kind", cls.__name__)
    settings_model: type[ConnectorSettings] = getattr(cls, "Settings", OpenSettings)
    secrets_model: type[ConnectorSecrets] = getattr(cls, "Secrets", OpenSecrets)
    misplaced = [k for k in settings if k in secrets_model.model_fields and k not in settings_model.model_fields]
    secret_values = {**{k: str(settings[k]) for k in misplaced}, **secrets}
    problems: list[str] = []
    checked_settings = checked_secrets = None
    try:
        checked_settings = parse(settings_model, {k: v for k, v in settings.items() if k not in misplaced}, kind=kind)
    except SettingsError as exc:
        problems += exc.problems
    try:
        checked_secrets = parse(secrets_model, secret_values, kind=kind, what="secret")
    except SettingsError as exc:
        problems += exc.problems
    if problems or checked_settings is None or checked_secrets is None:
        raise SettingsError(kind, problems)
    notes = [
        f"{old}: deprecated, now {new}"
        for old, (new, _c) in settings_model.renamed.items()
        if old in settings and new in settings_model.model_fields
    ]
    notes += [f"{k}: a secret of {kind}, stored encrypted with the secrets" for k in misplaced]
    return Checked(checked_settings, checked_secrets, secret_values, notes)


# --- describing ----------------------------------------------------------------------------------


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _type_name(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        names = [_type_name(a) for a in typing.get_args(annotation) if a is not type(None)]
        return " or ".join(names)
    if origin is list:
        return "list (comma-separated)"
    if origin is typing.Literal:
        return "one of " + ", ".join(str(a) for a in typing.get_args(annotation))
    return {int: "integer", float: "number", bool: "true/false", str: "text"}.get(annotation, str(annotation))


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    value = info.get_default(call_default_factory=True) if info.default is PydanticUndefined else info.default
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "-" if value is None else f"default {value}"


def _rows(model: type[_Model], names: list[str]) -> list[tuple[str, str, str, str]]:
    rows = []
    for name in names:
        info = model.model_fields[name]
        meaning = info.description or ""
        olds = [o for o, (new, _c) in model.renamed.items() if new == name]
        if olds:
            meaning += f" (old name{'s' if len(olds) > 1 else ''}: {', '.join(olds)})"
        rows.append(
            (
                name,
                _type_name(info.annotation) + (" (seconds)" if name.endswith(("timeout", "seconds")) else ""),
                _default(info),
                meaning,
            )
        )
    return rows


def describe_kind(cls: type[Any]) -> str:
    """Every setting and secret of connector class ``cls``: name, type, default, meaning."""
    settings_model: type[ConnectorSettings] = getattr(cls, "Settings", OpenSettings)
    secrets_model: type[ConnectorSecrets] = getattr(cls, "Secrets", OpenSecrets)
    module = sys.modules.get(cls.__module__)
    doc = (cls.__doc__ or (module.__doc__ if module else None) or "").strip()
    lines = [f"{getattr(cls, 'kind', cls.__name__)}: {doc.splitlines()[0] if doc else ''}".rstrip(": ")]

    def table(title: str, rows: list[tuple[str, str, str, str]]) -> None:
        lines.append("")
        lines.append(title)
        if not rows:
            lines.append("  (none)")
        width = [max((len(r[i]) for r in rows), default=0) for i in range(3)]
        for row in rows:
            lines.append("  " + "  ".join(cell.ljust(width[i]) for i, cell in enumerate(row[:3])) + "  " + row[3])

    own = [n for n in settings_model.model_fields if n not in ConnectorSettings.HUB_FIELDS]
    table("settings (-s NAME=VALUE):", _rows(settings_model, own))
    table(
        "secrets (--secret NAME=VALUE, stored encrypted):",
        _rows(secrets_model, list(secrets_model.model_fields)),
    )
    table(
        "settings of every connection (read by the hub):",
        _rows(
            settings_model,
            [n for n in ConnectorSettings.HUB_FIELDS if n in settings_model.model_fields],
        ),
    )
    if settings_model.model_config.get("extra") == "allow":
        lines.append("")
        lines.append("This connector declares no settings of its own: any -s NAME=VALUE is passed to it as given.")
    return "\n".join(lines)
