"""What a SOAP service file (``mappings/soap/<name>.yaml``) may say, validated on load.

A service file describes one SOAP API so that the connector needs no code for it: where the
WSDL is, how to authenticate, and per stream which operation lists records, how its
parameters are filled (templates, see ``templates.py``), where records, their id, their
modification time and the next page sit in the answer, and which operations create and
update records. Errors name the file, the line and the field (``connectors.config``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.config import ConfigError, load_model


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Call(_Strict):
    """An operation and its parameters (templates filled from the call's context)."""

    operation: str
    params: dict[str, Any] = {}


class Endpoint(_Strict):
    """The WSDL service and port to call when the WSDL has more than one (NAV: one per page)."""

    service: str
    port: str


class Auth(_Strict):
    kind: Literal["none", "wsse", "login"] = "none"
    #: ``login``: the operation that opens a session, and where the session id is in its answer;
    #: the id is then ``{session}`` in every template.
    login: Call | None = None
    session: str | None = None
    #: Fragments of a fault's code or text that mean "credentials or session refused": with a
    #: login, the connector logs in again once; otherwise (or if that fails) it is an AuthError.
    faults: list[str] = []

    @model_validator(mode="after")
    def _login_complete(self) -> Auth:
        if self.kind == "login" and (self.login is None or not self.session):
            raise ValueError("auth kind 'login' needs `login` (operation, params) and `session` (a path)")
        return self


class Paging(_Strict):
    """How the next page is asked for: ``{next}`` in the list call's parameters.

    ``response``: the answer says it (Sugar's ``next_offset``); ``last_record``: a field of the
    page's last record (NAV's bookmark ``Key``). Reading stops at an empty page, when the token
    does not move, when ``total`` is reached, or (``last_record``) at a page shorter than asked.
    """

    next_from: Literal["response", "last_record"]
    next: str
    total: str | None = None
    first: Any = None


class Beside(_Strict):
    """Records that the answer lists beside the main list, one entry per record (Sugar's
    ``relationship_list``): ``list`` is that parallel list, ``path`` leads from its entry to the
    related records, ``pairs`` (optional) flattens each related record's name/value pairs
    (``""``: the related record is the pairs themselves, as in an encoded ``link_value``)."""

    list: str
    path: str
    pairs: str | None = None


class RecordShape(_Strict):
    #: A list of ``{name, value}`` in the record (Sugar's ``name_value_list``) that becomes
    #: the record's own fields.
    pairs: str | None = None
    beside: dict[str, Beside] = {}
    #: Empty text means "no value" (Sugar sends "" for null).
    empty_as_null: bool = False
    id: str
    modified: str


class ListCall(Call):
    records: str
    paging: Paging


class GetCall(Call):
    """One record by its id (``{external_id}``; ``{external_id_sql}`` with single quotes doubled,
    for a query): ``records`` is where it sits in the answer (none there: the system no longer
    has it). Lets the hub read a written record back and re-read a dead letter's record."""

    records: str


class WriteCall(Call):
    #: Where the record's id is in the answer.
    id: str
    #: Read the current record first (``{current}`` in the templates), e.g. for NAV's Key.
    read: Call | None = None
    #: Fields of the current record sent along with an update (NAV: ``Key``).
    carry: list[str] = []


class Write(_Strict):
    #: hub field → the system's field; a field not listed here cannot be written. A dotted
    #: hub field reads inside the hub's record: ``refs.erp`` is the ERP's number of it.
    fields: dict[str, str]
    #: Hub fields the system is sent but keeps itself (not written, not an error): e.g. the
    #: order a CRM entered, when the hub only tells it the ERP's number back.
    ignore: list[str] = []
    #: ``pairs``: ``{values}`` is a list of ``{name, value}`` (text); ``element``: a dict.
    as_: Literal["pairs", "element"] = Field("element", alias="as")
    #: The system's id field, sent with an update.
    id_field: str
    create: WriteCall | None = None
    update: WriteCall | None = None


class StreamConfig(_Strict):
    entity: str
    endpoint: Endpoint | None = None
    #: Records come sorted by modification time with a stable order, so the cursor may
    #: advance page by page (``connectors.base.Stream.ordered``).
    ordered: bool = False
    list: ListCall
    #: Reading one record by id (optional; a service whose every stream has one offers
    #: ``read_one``: writes are verified by reading back, dead letters re-read).
    get: GetCall | None = None
    record: RecordShape
    write: Write | None = None


class SoapService(_Strict):
    #: A URL, or a file path; a relative path is the mappings folder's, never the working
    #: directory's.
    wsdl: str
    auth: Auth = Auth()
    #: zeep plugins by name (``connectors.soap.loading``: ``history``, ``soap-encoding``, or an
    #: entry point of the group ``concord.soap_plugins``), for a system that needs one.
    #: rpc/encoded WSDLs get ``soap-encoding`` without naming it.
    plugins: list[str] = []
    streams: dict[str, StreamConfig]


def load_service(path: Path) -> SoapService:
    """A SOAP service file (``mappings/soap/<name>.yaml``); errors name file, line and field."""
    if not path.exists():
        raise ConfigError(path, [(None, "", "no such SOAP service file")])
    return load_model(path, SoapService)
