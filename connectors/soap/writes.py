"""Writes speak the system's codes: the inverse of the read map, declared once.

The read map (``mappings/connectors/<mapping>.yaml``) says how a system's value becomes the
hub's: ``stage: {path: sales_stage, codes: sales_stage}`` turns "Closed Won" into ``won``. A
write of the same hub field into the same system field must do the reverse, or the hub's code
goes raw into the system (``won`` in a SuiteCRM dropdown, which its read-back then refuses).
So a write field whose hub name and system field match a read field is translated:

- ``codes``: hub code → the system value listed FIRST for it in the code list (the list's
  order is the preference: "Qualification" before "Needs Analysis"); a hub code the list does
  not name is a RecordError naming field, value and list — never sent raw;
- ``transform``: decimals and dates as text the system reads back to the same value
  (``2589.00``, ``2026-11-02``, date-times ``YYYY-MM-DD HH:MM:SS`` in UTC); case and strip
  transforms have no inverse and leave the value as it is.

The map is read as plain YAML here (the hub validates it, ``hub mappings check``), so the
connector needs nothing of the hub's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from connectors.config import read_yaml
from connectors.errors import RecordError


@dataclass(frozen=True)
class Inverse:
    """How one hub field goes back into one system field."""

    codes: dict[str, str] | None = None
    code_list: str | None = None
    transform: str | None = None


@dataclass(frozen=True)
class WriteTranslation:
    """stream → (hub field, system field) → Inverse, from the read map."""

    streams: dict[str, dict[tuple[str, str], Inverse]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None) -> WriteTranslation:
        if path is None or not path.exists():
            return cls()
        data, _lines = read_yaml(path)
        if not isinstance(data, Mapping):
            return cls()
        lists = data.get("codes") or {}
        streams: dict[str, dict[tuple[str, str], Inverse]] = {}
        for stream, spec in (data.get("streams") or {}).items():
            inverses: dict[tuple[str, str], Inverse] = {}
            for hub_field, read in ((spec or {}).get("fields") or {}).items():
                if not isinstance(read, Mapping) or read.get("each") is not None:
                    continue
                codes: dict[str, str] | None = None
                if read.get("codes") and read["codes"] in lists:
                    codes = {}
                    for system_value, hub_code in (lists[read["codes"]].get("values") or {}).items():
                        codes.setdefault(str(hub_code), str(system_value))  # the first listed wins
                if codes is not None or read.get("transform"):
                    inverses[(str(hub_field), str(read.get("path")))] = Inverse(
                        codes, read.get("codes"), read.get("transform")
                    )
            streams[str(stream)] = inverses
        return cls(streams)

    def value(self, stream: str, hub_field: str, system_field: str, value: Any, where: str) -> Any:
        """``value`` of ``hub_field`` as ``system_field`` takes it."""
        inverse = self.streams.get(stream, {}).get((hub_field, system_field))
        if inverse is None or value is None:
            return value
        if inverse.codes is not None:
            code = value.value if hasattr(value, "value") else value  # an Enum
            if str(code) not in inverse.codes:
                raise RecordError(
                    f"{where}: {hub_field} {code!r} has no value in code list {inverse.code_list!r} for "
                    f"{system_field} (it lists: {', '.join(sorted(inverse.codes))}); not written raw"
                )
            return inverse.codes[str(code)]
        if inverse.transform == "datetime" and isinstance(value, datetime):
            stamp = value.astimezone(UTC) if value.tzinfo else value
            return stamp.strftime("%Y-%m-%d %H:%M:%S")
        if inverse.transform == "date" and isinstance(value, (date, datetime)):
            return (value.date() if isinstance(value, datetime) else value).isoformat()
        if inverse.transform in ("decimal", "int") and isinstance(value, (int, float, Decimal)):
            return str(value)
        return value
