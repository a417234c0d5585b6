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
from collections.abc import Callable, Mapping
from typing import Any

import requests
import zeep
import zeep.exceptions as zx
from zeep.helpers import serialize_object
from zeep.transports import Transport
from zeep.wsse.username import UsernameToken

from connectors.errors import AuthError, ConnectorError, RecordError
from connectors.retry import Retryable, call_with_retries, parse_retry_after
from connectors.soap.service import Auth, Call, Endpoint
from connectors.soap.templates import TemplateError, fill, get

#: zeep as the hub runs it; see the module docstring.
SETTINGS = zeep.Settings(
    strict=True, xml_huge_tree=False, forbid_dtd=True, forbid_entities=True, forbid_external=True,
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
        if (response.status_code >= 500 or response.status_code == 429) and b"Fault>" not in response.content:
            raise Retryable(f"HTTP {response.status_code} without a SOAP fault",
                            parse_retry_after(response.headers.get("Retry-After")))
        return response


class SoapClient:
    def __init__(
        self, name: str, wsdl: str, auth: Auth, secrets: Mapping[str, str], *, timeout: float = 30.0,
        attempts: int = 4,
    ) -> None:
        self.name, self.wsdl, self.auth = name, wsdl, auth
        self._secrets = secrets
        self.timeout, self.attempts = timeout, attempts
        self._zeep: zeep.Client | None = None
        self._session: str | None = None

    # --- the client and its session --------------------------------------------------------
    @property
    def zeep(self) -> zeep.Client:
        """Loaded on first use: a connector is also built just to list its streams."""
        if self._zeep is None:
            transport = _Transport(timeout=self.timeout, operation_timeout=self.timeout)
            wsse = None
            if self.auth.kind == "wsse":
                wsse = UsernameToken(self._secrets.get("username", ""), self._secrets.get("password", ""))
            self._zeep = call_with_retries(
                lambda: self._guard("loading the WSDL", lambda: zeep.Client(
                    self.wsdl, transport=transport, settings=SETTINGS, wsse=wsse), write=False),
                attempts=self.attempts, what=f"{self.name}: WSDL {self.wsdl}: ",
            )
        return self._zeep

    def context(self) -> dict[str, Any]:
        """What every template may use besides the call's own values."""
        if self.auth.kind == "login" and self._session is None:
            self._session = self._login()
        return {"session": self._session}

    def _login(self) -> str:
        assert self.auth.login is not None and self.auth.session is not None
        password = self._secrets.get("password", "")
        secrets = {"username": self._secrets.get("username", ""), "password": password,
                   "password_md5": hashlib.md5(password.encode()).hexdigest()}
        try:
            answer = self._call(None, self.auth.login, secrets, write=False, relogin=False)
        except (RecordError, ConnectorError) as exc:
            if isinstance(exc, AuthError):
                raise
            raise AuthError(f"{self.name}: login refused: {exc}") from None
        session = get(answer, self.auth.session)
        if not session:
            raise AuthError(f"{self.name}: {self.auth.login.operation} answered without a session at "
                            f"{self.auth.session!r}")
        return str(session)

    def close(self) -> None:
        if self._zeep is not None:
            self._zeep.transport.session.close()
            self._zeep = None

    # --- calls -----------------------------------------------------------------------------
    def call(self, endpoint: Endpoint | None, call: Call, values: Mapping[str, Any], *, write: bool,
             creates: bool = False) -> Any:
        """The operation's answer as plain dicts and lists."""
        return self._call(endpoint, call, {**self.context(), **values}, write=write, creates=creates)

    def _call(self, endpoint: Endpoint | None, call: Call, context: Mapping[str, Any], *, write: bool,
              creates: bool = False, relogin: bool = True) -> Any:
        try:
            params = fill(call.params, context)
        except TemplateError as exc:
            raise ConnectorError(f"{self.name} {call.operation}: {exc}") from None
        proxy = self.zeep.bind(endpoint.service, endpoint.port) if endpoint else self.zeep.service
        try:
            operation = getattr(proxy, call.operation)
        except AttributeError:
            raise ConnectorError(f"{self.name}: the WSDL has no operation {call.operation!r}") from None

        def once() -> Any:
            return self._guard(call.operation, lambda: operation(**params), write=write, creates=creates)

        try:
            answer = call_with_retries(once, attempts=self.attempts, what=f"{self.name} {call.operation}: ")
        except AuthError:
            if not (relogin and self.auth.kind == "login"):
                raise
            self._session = None  # the session expired: one fresh login, then the same call
            return self._call(endpoint, call, {**context, **self.context()}, write=write, creates=creates,
                              relogin=False)
        return serialize_object(answer, dict)

    def _guard(self, operation: str, send: Callable[[], Any], *, write: bool, creates: bool = False) -> Any:
        """Run one request; translate whatever goes wrong (see the table above)."""
        where = f"{self.name} {operation}"
        try:
            return send()
        except zx.Fault as fault:
            text = f"{fault.message}" + (f" ({fault.code})" if fault.code else "")
            if any(marker in f"{fault.code} {fault.message}" for marker in self.auth.faults):
                raise AuthError(f"{where}: credentials or session refused: {text}") from None
            if write:
                raise RecordError(f"{where} refused the record: {text}") from None
            raise ConnectorError(f"{where} answered with a SOAP fault: {text}") from None
        except zx.DTDForbidden:
            raise ConnectorError(f"{where}: refused the answer: it carries a DOCTYPE (DTDs are forbidden, "
                                 "no entity was resolved)") from None
        except zx.EntitiesForbidden as exc:
            raise ConnectorError(f"{where}: refused the answer: it declares the XML entity {exc.name!r} "
                                 "(entities are forbidden, none was resolved)") from None
        except zx.ExternalReferenceForbidden as exc:
            raise ConnectorError(f"{where}: refused to fetch the external reference {exc.args[0]!r}") from None
        except zx.TransportError as exc:
            if exc.status_code >= 500 or exc.status_code == 429:
                raise Retryable(f"HTTP {exc.status_code} without a SOAP fault") from None
            if exc.status_code in (401, 403):
                raise AuthError(f"{where}: HTTP {exc.status_code}: credentials refused") from None
            reason = _first_line(exc.message).split("invalid XML: ", 1)[-1]
            raise ConnectorError(f"{where}: refused the answer (HTTP {exc.status_code}): not well-formed "
                                 f"XML: {reason}") from None
        except zx.Error as exc:  # malformed XML, a wrong root, elements the WSDL does not have
            raise ConnectorError(f"{where}: refused the answer: it does not fit the WSDL: "
                                 f"{_first_line(str(exc))}") from None
        except requests.exceptions.Timeout as exc:
            if write and creates and not _never_sent(exc):
                raise ConnectorError(f"{where}: no answer within {self.timeout:g} s; the create may or may "
                                     "not have happened, so it is not repeated") from None
            raise Retryable(f"no answer within {self.timeout:g} s") from None
        except requests.exceptions.ConnectionError as exc:
            if write and creates and not _never_sent(exc):
                raise ConnectorError(f"{where}: connection lost after sending; the create may or may not "
                                     "have happened, so it is not repeated") from None
            raise Retryable(f"{self.wsdl.split('?')[0]} unreachable ({type(exc).__name__})") from None
        except requests.exceptions.HTTPError as exc:  # loading the WSDL
            status = exc.response.status_code if exc.response is not None else 0
            if status >= 500:
                raise Retryable(f"HTTP {status}") from None
            raise ConnectorError(f"{where}: HTTP {status}") from None


def _first_line(text: str) -> str:
    """zeep's messages may quote the whole answer; a dead letter or a run error gets the gist."""
    return text.split("\n", 1)[0].split(". Content:", 1)[0][:300]
