"""One SOAP service through zeep, with the hub's rules for what a failure means.

zeep runs hardened: ``strict`` parsing, no huge trees, and any DTD, entity declaration or
external reference in the WSDL or an answer is refused before anything is resolved — so an
XXE or entity bomb from a compromised or broken service never reaches a file, the network or
memory. Each failure is sorted for the sync engine:

=====================================  ===========================================  ============
what happened                          becomes                                      retried
=====================================  ===========================================  ============
connection refused / reset, timeout,   TransientError (run fails, cursor stays)     yes (reads,
HTTP 5xx without a SOAP fault                                                       updates; a
                                                                                    create only
                                                                                    if unsent)
SOAP fault on a write                  RecordError with the fault text (dead letter) no
SOAP fault on a read                   ConnectorError (the page cannot be read)     no
auth fault (``auth.faults``)           log in again once, then AuthError            no
a fault answering the login            AuthError "login refused" (only a fault is)  no
our request not fitting the WSDL       ConnectorError / RecordError "our request    no
(a part missing or unknown, a value    …", raised before anything is sent
of the wrong type)
malformed / truncated XML, a DTD,      ConnectorError naming service, operation     no
entities, an answer not fitting the    and what was refused (never the content)
WSDL
=====================================  ===========================================  ============

Per-record problems (a record without an id or a readable modification time) are not this
module's: the connector yields them as ``SourceRecord(error=…)``, so one bad record becomes a
dead letter and its page goes on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import requests
import zeep
import zeep.exceptions as zx
from zeep.helpers import serialize_object
from zeep.transports import Transport
from zeep.wsse.username import UsernameToken
from zeep.xsd.const import Nil

from connectors.errors import AuthError, ConnectorError, RecordError
from connectors.http import classify
from connectors.retry import Retryable, call_with_retries, parse_retry_after
from connectors.soap.decoding import decode_answers
from connectors.soap.encoding import SoapEncoding, allow_empty_arrays, parts, uses_encoding
from connectors.soap.loading import guard_load, named_plugins
from connectors.soap.service import Auth, Call, Endpoint
from connectors.soap.templates import TemplateError, fill, get

#: zeep as the hub runs it; see the module docstring.
#: External references are refused by the transport instead (``loading.guard_load``), which
#: serves the bundled SOAP-encoding and WSDL schemas in place of their URLs.
SETTINGS = zeep.Settings(
    strict=True,
    xml_huge_tree=False,
    forbid_dtd=True,
    forbid_entities=True,
    forbid_external=False,
)


def _never_sent(exc: BaseException) -> bool:
    """True when the request cannot have reached the server (so even a create may be retried)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    seen: BaseException | None = exc
    while seen is not None:
        reason = getattr(seen, "reason", None)
        if type(seen).__name__ == "NewConnectionError" or type(reason).__name__ == "NewConnectionError":
            return True
        seen = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
    return False


class _Transport(Transport):
    """Decides "5xx (or 429) without a SOAP fault" from the HTTP answer itself: zeep would
    call it an "Unknown fault", but it is the transport failing, so it is retried."""

    def post(self, address: str, message: bytes, headers: dict[str, str]) -> requests.Response:
        response = super().post(address, message, headers)
        if classify(response.status_code) == "retry" and b"Fault>" not in response.content:
            raise Retryable(
                f"HTTP {response.status_code} without a SOAP fault",
                parse_retry_after(response.headers.get("Retry-After")),
            )
        return response


class SoapClient:
    def __init__(
        self,
        name: str,
        wsdl: str,
        auth: Auth,
        secrets: Mapping[str, str],
        *,
        timeout: float = 30.0,
        attempts: int = 4,
        plugins: tuple[str, ...] = (),
        local_roots: tuple[Path, ...] = (),
    ) -> None:
        self.name, self.wsdl, self.auth = name, wsdl, auth
        self._secrets = secrets
        self.timeout, self.attempts = timeout, attempts
        self.plugin_names, self.local_roots = plugins, local_roots
        self._zeep: zeep.Client | None = None
        self._encoding: SoapEncoding | None = None
        self._session: str | None = None

    # --- the client and its session --------------------------------------------------------
    @property
    def zeep(self) -> zeep.Client:
        """Loaded on first use: a connector is also built just to list its streams."""
        if self._zeep is None:
            transport = _Transport(timeout=self.timeout, operation_timeout=self.timeout)
            transport.load = guard_load(transport.load, self.wsdl, self.local_roots)  # type: ignore[method-assign]
            wsse = None
            if self.auth.kind == "wsse":
                wsse = UsernameToken(self._secrets.get("username", ""), self._secrets.get("password", ""))
            plugins = named_plugins(self.plugin_names, self.name)
            client = call_with_retries(
                lambda: self._guard(
                    "loading the WSDL",
                    lambda: zeep.Client(self.wsdl, transport=transport, settings=SETTINGS, wsse=wsse, plugins=plugins),
                    write=False,
                ),
                attempts=self.attempts,
                what=f"{self.name}: WSDL {self.wsdl}: ",
            )
            if uses_encoding(client):  # rpc/encoded: arrays as section 5 wants them
                allow_empty_arrays(client)
                decode_answers(client)  # answers straight into dicts and lists (decoding.py)
                named = [p for p in client.plugins if isinstance(p, SoapEncoding)]
                self._encoding = named[0] if named else SoapEncoding()
                if not named:  # first: the plugins after it (history) see the request as sent
                    client.plugins.insert(0, self._encoding)
            self._zeep = client
        return self._zeep

    def context(self) -> dict[str, Any]:
        """What every template may use besides the call's own values."""
        if self.auth.kind == "login" and self._session is None:
            self._session = self._login()
        return {"session": self._session}

    def _login(self) -> str:
        assert self.auth.login is not None and self.auth.session is not None
        password = self._secrets.get("password", "")
        secrets = {
            "username": self._secrets.get("username", ""),
            "password": password,
            "password_md5": hashlib.md5(password.encode()).hexdigest(),
        }
        # a fault is the server refusing the credentials; anything else (our request missing
        # a part, an answer not fitting the WSDL) says so itself and is no credentials problem
        answer = self._call(None, self.auth.login, secrets, write=False, relogin=False, login=True)
        session = get(answer, self.auth.session)
        if not session or str(session) in ("-1", "0"):
            raise AuthError(
                f"{self.name}: {self.auth.login.operation} answered without a session at "
                f"{self.auth.session!r}: login refused"
            )
        return str(session)

    def close(self) -> None:
        if self._zeep is not None:
            self._zeep.transport.session.close()
            self._zeep = None

    # --- the WSDL --------------------------------------------------------------------------
    def operation(self, endpoint: Endpoint | None, name: str) -> Any:
        """zeep's operation object (its binding's), for checking a service file against it."""
        proxy = self.zeep.bind(endpoint.service, endpoint.port) if endpoint else self.zeep.service
        try:
            getattr(proxy, name)
        except AttributeError:
            raise ConnectorError(
                f"{self.name}: the WSDL has no operation {name!r} (our service file names it; "
                f"the WSDL has: {', '.join(sorted(proxy._binding._operations))})"
            ) from None
        return proxy._binding._operations[name]

    def check_parts(self, endpoint: Endpoint | None, call: Call, given: Iterable[str]) -> list[str] | None:
        """Our request against the WSDL: every rpc part given (``null`` for nil, ``[]`` for an
        empty array), none it does not have. Raises naming the missing or unknown parts."""
        wanted = parts(self.operation(endpoint, call.operation))
        if wanted is None:
            return None
        given = list(given)
        missing = [p for p in wanted if p not in given]
        unknown = [p for p in given if p not in wanted]
        problems = []
        if missing:
            problems.append(f"lacks the part(s) {', '.join(missing)}")
        if unknown:
            problems.append(f"has part(s) the WSDL does not: {', '.join(unknown)}")
        if problems:
            raise ConnectorError(
                f"{self.name} {call.operation}: our request {' and '.join(problems)} (the WSDL's parts: "
                f"{', '.join(wanted)}); the service file's params must give each (null sends nil, [] an "
                "empty array)"
            )
        return wanted

    # --- calls -----------------------------------------------------------------------------
    def call(
        self, endpoint: Endpoint | None, call: Call, values: Mapping[str, Any], *, write: bool, creates: bool = False
    ) -> Any:
        """The operation's answer as plain dicts and lists."""
        return self._call(endpoint, call, {**self.context(), **values}, write=write, creates=creates)

    def _call(
        self,
        endpoint: Endpoint | None,
        call: Call,
        context: Mapping[str, Any],
        *,
        write: bool,
        creates: bool = False,
        relogin: bool = True,
        login: bool = False,
    ) -> Any:
        try:
            params = fill(call.params, context)
        except TemplateError as exc:
            raise ConnectorError(f"{self.name} {call.operation}: {exc}") from None
        proxy = self.zeep.bind(endpoint.service, endpoint.port) if endpoint else self.zeep.service
        operation: Callable[..., Any] | None = (
            getattr(proxy, call.operation, None) if call.operation in proxy._binding._operations else None
        )
        if operation is None:
            self.operation(endpoint, call.operation)  # raises, naming the operations there are
        wanted = self.check_parts(endpoint, call, params)
        # a part given as None (YAML null) is sent as xsi:nil, never left out
        sent = {name: Nil if value is None and wanted is not None else value for name, value in params.items()}
        sent = {name: value for name, value in sent.items() if value is not None}

        def once() -> Any:
            assert operation is not None  # self.operation raised otherwise
            return self._guard(call.operation, lambda: operation(**sent), write=write, creates=creates, login=login)

        try:
            answer = call_with_retries(once, attempts=self.attempts, what=f"{self.name} {call.operation}: ")
        except AuthError:
            if not (relogin and self.auth.kind == "login"):
                raise
            self._session = None  # the session expired: one fresh login, then the same call
            return self._call(
                endpoint, call, {**context, **self.context()}, write=write, creates=creates, relogin=False
            )
        return serialize_object(answer, dict)

    def _guard(
        self, operation: str, send: Callable[[], Any], *, write: bool, creates: bool = False, login: bool = False
    ) -> Any:
        """Run one request; translate whatever goes wrong (see the table above)."""
        where = f"{self.name} {operation}"
        try:
            return send()
        except zx.Fault as fault:
            text = f"{fault.message}" + (f" ({fault.code})" if fault.code else "")
            if login:
                raise AuthError(f"{where}: login refused: {text}") from None
            if any(marker in f"{fault.code} {fault.message}" for marker in self.auth.faults):
                raise AuthError(f"{where}: credentials or session refused: {text}") from None
            if write:
                raise RecordError(f"{where} refused the record: {text}") from None
            raise ConnectorError(f"{where} answered with a SOAP fault: {text}") from None
        except zx.DTDForbidden:
            raise ConnectorError(
                f"{where}: refused the answer: it carries a DOCTYPE (DTDs are forbidden, no entity was resolved)"
            ) from None
        except zx.EntitiesForbidden as exc:
            raise ConnectorError(
                f"{where}: refused the answer: it declares the XML entity {exc.name!r} "
                "(entities are forbidden, none was resolved)"
            ) from None
        except zx.ExternalReferenceForbidden as exc:
            raise ConnectorError(f"{where}: refused to fetch the external reference {exc.args[0]!r}") from None
        except zx.TransportError as exc:
            if classify(exc.status_code) == "retry":
                raise Retryable(f"HTTP {exc.status_code} without a SOAP fault") from None
            if classify(exc.status_code) == "auth":
                raise AuthError(f"{where}: HTTP {exc.status_code}: credentials refused") from None
            reason = _first_line(exc.message).split("invalid XML: ", 1)[-1]
            raise ConnectorError(
                f"{where}: refused the answer (HTTP {exc.status_code}): not well-formed XML: {reason}"
            ) from None
        except TypeError as exc:  # zeep building the request: a parameter the operation lacks
            what = f"{where}: our request does not fit the WSDL: {_first_line(str(exc))}"
            raise (RecordError(what) if write else ConnectorError(what)) from None
        except zx.ValidationError as exc:  # raised while building the request: ours is wrong
            what = f"{where}: our request does not fit the WSDL: {_first_line(str(exc))}"
            raise (RecordError(what) if write else ConnectorError(what)) from None
        except zx.Error as exc:  # malformed XML, a wrong root, elements the WSDL does not have
            raise ConnectorError(
                f"{where}: refused the answer: it does not fit the WSDL: {_first_line(str(exc))}"
            ) from None
        except requests.exceptions.Timeout as exc:
            if write and creates and not _never_sent(exc):
                raise ConnectorError(
                    f"{where}: no answer within {self.timeout:g} s; the create may or may "
                    "not have happened, so it is not repeated"
                ) from None
            raise Retryable(f"no answer within {self.timeout:g} s") from None
        except requests.exceptions.ConnectionError as exc:
            if write and creates and not _never_sent(exc):
                raise ConnectorError(
                    f"{where}: connection lost after sending; the create may or may not "
                    "have happened, so it is not repeated"
                ) from None
            raise Retryable(f"{self.wsdl.split('?')[0]} unreachable ({type(exc).__name__})") from None
        except requests.exceptions.HTTPError as exc:  # loading the WSDL
            status = exc.response.status_code if exc.response is not None else 0
            if classify(status) == "retry":
                raise Retryable(f"HTTP {status}") from None
            raise ConnectorError(f"{where}: HTTP {status}") from None


def _first_line(text: str) -> str:
    """zeep's messages may quote the whole answer; a dead letter or a run error gets the gist."""
    return text.split("\n", 1)[0].split(". Content:", 1)[0][:300]
