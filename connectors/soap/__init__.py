"""SOAP services described by YAML: one connector class for any WSDL (legacy CRMs).

Settings (``connectors.soap.settings``): ``service`` (the file ``mappings/soap/<service>.yaml``),
optionally ``wsdl`` (overrides the file's; a relative path is the mappings folder's), ``timeout``
(seconds, default 30), ``page_size`` (default 100), ``retries`` (default 3; was ``attempts``,
4 tries), ``mappings_dir`` (default: the hub's
``HUB_MAPPINGS_DIR``) and, for the hub's field map, ``mapping``
(``mappings/connectors/<mapping>.yaml``; writes translate codes by its inverse, see
``writes.py``). Secrets: ``username``, ``password``.

The streams come from the service file, so two connections of kind ``soap`` can offer
different streams. Records are handed to the hub as the service describes them (after the
declared flattening); mapping them to canonical fields is the field map's business.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from connectors.base import Connector, Health, SourceRecord, Stream, WriteResult, config_file
from connectors.config import ConfigError
from connectors.errors import ConnectorError, RecordError
from connectors.soap.client import SoapClient
from connectors.soap.loading import resolve_location
from connectors.soap.service import (
    RecordShape,
    SoapService,
    StreamConfig,
    Write,
    WriteCall,
    load_service,
)
from connectors.soap.settings import SoapSecrets, SoapSettings
from connectors.soap.templates import as_list, get, missing_step, pairs_to_dict
from connectors.soap.writes import WriteTranslation

__all__ = ["SoapConnector"]


def _stamp(value: Any) -> str:
    """A modification time (a datetime, or text like ``2026-11-22 10:00:00``) as ISO UTC."""
    stamp = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).strip())
    stamp = stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)
    return stamp.isoformat()


def _text(value: Any) -> str:
    """A value as a pair's text; a structured one (a shipment's lines) as JSON."""
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, (date, Decimal)):
        return str(value)
    return str(value)


class SoapConnector(Connector):
    kind = "soap"
    Settings = SoapSettings
    Secrets = SoapSecrets
    options: SoapSettings

    def __init__(self, settings: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
        super().__init__(settings, secrets)
        name = self.options.service
        path = config_file(settings, "soap", str(name))
        root = settings.get("mappings_dir") or os.environ.get("HUB_MAPPINGS_DIR")
        if root and not path.is_absolute() and str(name).endswith((".yaml", ".yml")) and (Path(root) / path).exists():
            path = Path(root) / path  # a relative service path is the mappings folder's first, not the cwd's
        try:
            self.service: SoapService = load_service(path)
        except ConfigError as exc:
            raise ConnectorError(f"soap service {name!r}: {exc}") from None
        self.name = str(name)
        # the mappings folder: relative WSDL paths are its, whatever the working directory
        base = Path(settings["mappings_dir"]) if settings.get("mappings_dir") else path.resolve().parent.parent
        mapping = settings.get("mapping")
        self.translation = WriteTranslation.load(base / "connectors" / f"{mapping}.yaml" if mapping else None)
        self.page_size = self.options.page_size
        self.streams = tuple(
            Stream(stream, cfg.entity, cursor="time", ordered=cfg.ordered, writable=cfg.write is not None)
            for stream, cfg in self.service.streams.items()
        )
        self.client = SoapClient(
            self.name,
            resolve_location(self.options.wsdl or self.service.wsdl, base),
            self.service.auth,
            secrets,
            timeout=self.options.timeout,
            attempts=self.options.retries + 1,
            plugins=tuple(self.service.plugins),
            local_roots=(base, path.resolve().parent),
        )

    def close(self) -> None:
        self.client.close()

    def check(self) -> Health:
        """The WSDL loads, every operation the service file names is in it with the parts the
        file gives, and the login works (where there is one)."""
        started = time.perf_counter()
        try:
            self.client.zeep  # noqa: B018 - loads the WSDL
            checked = self.check_operations()
            self.client.context()  # logs in, where the service has a login
        except ConnectorError as exc:
            return Health(False, str(exc))
        return Health(
            True,
            f"{self.name}: WSDL loaded, {checked} operation call(s) fit it, authenticated ({self.service.auth.kind})",
            (time.perf_counter() - started) * 1000,
        )

    def check_operations(self) -> int:
        """Each call of the service file against the WSDL (operation and rpc parts); raises the
        first that does not fit, naming stream, operation and parts."""
        calls: list[tuple[str, Any, Any]] = []
        if self.service.auth.login is not None:
            calls.append(("login", None, self.service.auth.login))
        for stream, cfg in self.service.streams.items():
            calls.append((stream, cfg.endpoint, cfg.list))
            if cfg.get is not None:
                calls.append((stream, cfg.endpoint, cfg.get))
            for call in (cfg.write.create, cfg.write.update) if cfg.write else ():
                if call is not None:
                    calls.append((stream, cfg.endpoint, call))
                    if call.read is not None:
                        calls.append((stream, cfg.endpoint, call.read))
        for stream, endpoint, call in calls:
            try:
                self.client.check_parts(endpoint, call, call.params)
            except ConnectorError as exc:
                raise ConnectorError(f"{exc} [stream {stream}]") from None
        return len(calls)

    def _config(self, stream: str) -> StreamConfig:
        self.stream(stream)  # raises, naming the streams there are
        return self.service.streams[stream]

    # --- reading -----------------------------------------------------------------------------
    def read(self, stream: str, since: str | None) -> Iterator[list[SourceRecord]]:
        cfg = self._config(stream)
        paging = cfg.list.paging
        since_at = datetime.fromisoformat(since).astimezone(UTC) if since else None
        token, number = paging.first, 0
        while True:
            number += 1
            answer = self.client.call(
                cfg.endpoint,
                cfg.list,
                {"since": since_at, "next": token, "page_size": self.page_size},
                write=False,
            )
            missing = missing_step(answer, cfg.list.records)
            if missing is not None:
                have = ", ".join(sorted(answer)) if isinstance(answer, Mapping) else type(answer).__name__
                raise ConnectorError(
                    f"{self.name} {cfg.list.operation}: the service file's records: path {cfg.list.records!r} "
                    f"finds nothing in the answer ({missing!r} is not there; the answer has: {have}): "
                    f"the path is wrong for this system, so no record was read"
                )
            raw = as_list(get(answer, cfg.list.records))
            if not raw:
                return
            yield [self._record(cfg.record, answer, index, item, f"page {number}") for index, item in enumerate(raw)]
            if paging.next_from == "response":
                following = get(answer, paging.next)
                total = get(answer, paging.total) if paging.total else None
                if following in (None, token) or (total is not None and int(following) >= int(total)):
                    return
            else:
                following = get(self._shape(cfg.record, answer, len(raw) - 1, raw[-1]), paging.next)
                if len(raw) < self.page_size or following in (None, token):
                    return
            token = following

    @property
    def can_read_one(self) -> bool:
        """Only a service whose every stream says how to get one record (``get``)."""
        return bool(self.service.streams) and all(cfg.get is not None for cfg in self.service.streams.values())

    def read_one(self, stream: str, external_id: str) -> SourceRecord | None:
        """The record as the system holds it now (the stream's ``get``), or None if it has none."""
        cfg = self._config(stream)
        if cfg.get is None:
            raise ConnectorError(f"{self.name}: stream {stream!r} declares no get (one record by id)")
        context = {
            "external_id": external_id,
            "external_id_sql": external_id.replace("'", "''"),
            "since": None,
            "next": None,
            "page_size": 1,
        }
        answer = self.client.call(cfg.endpoint, cfg.get, context, write=False)
        missing = missing_step(answer, cfg.get.records)
        if missing is not None:
            raise ConnectorError(
                f"{self.name} {cfg.get.operation}: the service file's get records: path "
                f"{cfg.get.records!r} finds nothing in the answer ({missing!r} is not there)"
            )
        raw = as_list(get(answer, cfg.get.records))
        if not raw:
            return None
        return self._record(cfg.record, answer, 0, raw[0], f"{stream} {external_id}")

    def _shape(self, shape: RecordShape, answer: Any, index: int, item: Any) -> dict[str, Any]:
        """The record as the field map sees it: pairs flattened, related records beside it."""
        record = dict(item) if isinstance(item, Mapping) else {"value": item}
        if shape.pairs:
            record.pop(shape.pairs.split(".", 1)[0], None)
            record.update(pairs_to_dict(get(item, shape.pairs)))
        for name, beside in shape.beside.items():
            entry = get(answer, f"{beside.list}.{index}")
            related = as_list(get(entry, beside.path))
            record[name] = [pairs_to_dict(get(r, beside.pairs)) if beside.pairs is not None else r for r in related]
        if shape.empty_as_null:
            record = _nulls(record)
        return record

    def _record(self, shape: RecordShape, answer: Any, index: int, item: Any, where: str) -> SourceRecord:
        record = self._shape(shape, answer, index, item)
        external_id = get(record, shape.id)
        if external_id in (None, ""):
            return SourceRecord(
                f"({where}, record {index + 1}: no id)",
                record,
                error=f"{self.name}: record {index + 1} of {where} has no {shape.id!r}",
            )
        try:
            cursor = _stamp(get(record, shape.modified))
        except (TypeError, ValueError):
            return SourceRecord(
                str(external_id),
                record,
                error=(
                    f"{self.name}: record {external_id}: {shape.modified!r} is "
                    f"{get(record, shape.modified)!r}, not a date-time"
                ),
            )
        return SourceRecord(str(external_id), record, cursor=cursor)

    # --- writing -----------------------------------------------------------------------------
    def write(self, stream: str, data: Mapping[str, Any], external_id: str | None) -> WriteResult:
        """Create (no ``external_id``) or update a record from hub fields (``write.fields``).

        An update sends only the given fields and the id (plus what ``carry`` takes from a fresh
        read, e.g. NAV's concurrency Key), so repeating it is harmless. A create is repeated only
        when the request cannot have reached the system.
        """
        cfg = self._config(stream)
        write = cfg.write
        call = None if write is None else (write.create if external_id is None else write.update)
        if write is None or call is None:
            action = "create" if external_id is None else "update"
            raise ConnectorError(f"{self.name}: stream {stream!r} declares no {action} operation")
        values = _outgoing(write, data, f"{self.name} {stream}", self.translation, stream)
        if external_id is not None and not values:
            # nothing this system takes has a value (the ERP's number of a draft, say): a
            # call would only touch the record's modification time
            return WriteResult(external_id, created=False)
        context: dict[str, Any] = {"external_id": external_id}
        if external_id is not None:
            values[write.id_field] = external_id
            if call.read:
                current = self.client.call(cfg.endpoint, call.read, context, write=False)
                if not current:
                    raise RecordError(f"{self.name} {stream}: record {external_id!r} does not exist")
                context["current"] = current
                values.update({k: get(current, k) for k in call.carry})
        context["values"] = self._values(write, values)
        answer = self.client.call(cfg.endpoint, call, context, write=True, creates=external_id is None)
        return self._written(call, answer, external_id)

    @staticmethod
    def _values(write: Write, values: dict[str, Any]) -> Any:
        if write.as_ == "pairs":
            return [{"name": name, "value": _text(value)} for name, value in values.items()]
        return values

    def _written(self, call: WriteCall, answer: Any, external_id: str | None) -> WriteResult:
        written = get(answer, call.id)
        if written in (None, ""):
            raise ConnectorError(f"{self.name} {call.operation}: the answer has no record id at {call.id!r}")
        return WriteResult(str(written), created=external_id is None)


def _outgoing(
    write: Write, data: Mapping[str, Any], where: str, translation: WriteTranslation, stream: str
) -> dict[str, Any]:
    """The system's fields and values for the hub's record, in the system's codes; a hub field
    the service neither writes nor ignores is refused (a field map out of step must not lose
    data silently)."""
    covered = {path.split(".", 1)[0] for path in write.fields} | set(write.ignore)
    unknown = sorted(k for k, v in data.items() if v is not None and k not in covered)
    if unknown:
        raise RecordError(f"{where}: cannot write {', '.join(unknown)} (writable: {', '.join(write.fields)})")
    values = {
        field: translation.value(stream, path, field, get(data, path), where) for path, field in write.fields.items()
    }
    return {field: value for field, value in values.items() if value is not None}


def _nulls(value: Any) -> Any:
    if value == "":
        return None
    if isinstance(value, dict):
        return {k: _nulls(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nulls(v) for v in value]
    return value
