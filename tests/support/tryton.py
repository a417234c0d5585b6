"""A real Tryton 8.2 server for the test suite, started from a cached seeded database.

Usage from a session-scoped fixture (``conftest.py``)::

    from tests.support import tryton

    @pytest.fixture(scope="session")
    def tryton_server(tmp_path_factory):
        if not tryton.trytond_available():
            pytest.skip(tryton.SKIP_REASON)
        with tryton.start_tryton(tmp_path_factory.mktemp("tryton")) as server:
            yield server          # a running TrytonServer

    def test_something(tryton_server):
        client = tryton_server.client()          # a logged-in TrytonClient
        sale_id = tryton_server.seed["sales"]["partial"]["id"]
        [sale] = client.read("sale.sale", [sale_id], ["number", "state"])

``server.url`` (``http://127.0.0.1:PORT/``), ``server.database``, ``server.login`` and
``server.password`` are what a connector needs; ``server.seed`` is the dictionary the seed
returned (ids and references of what it created, see ``tests/support/tryton_seed.py``).
``server.stop()`` / ``server.start()`` / ``server.restart()`` stop and start the same
``trytond`` on the same database file and port (to simulate an outage in the middle of a
sync); ``server.reset_database()`` goes back to a fresh copy of the seeded database.

How it works:

* **Build** (once per machine and seed version, ~25-45 s): an empty SQLite database is
  created with ``trytond-admin -u sale account_invoice_stock --activate-dependencies``, a
  server is started on it and ``tryton_seed.seed`` fills it over JSON-RPC.  The result is
  copied (sqlite3 backup API: the server runs SQLite in WAL mode, so a plain ``cp`` of a
  live database may lose committed pages) to
  ``$CONCORD_TEST_CACHE or ~/.cache/concord-tests`` / ``tryton-<version>-<hash>/`` together
  with ``seed.json``.  The hash covers the seed script, the installed trytond package
  versions, the module list, the scale and the current year (the seed creates the fiscal
  years around today), so a changed seed rebuilds.  Builds are serialised with a file lock,
  so parallel test processes build once.
* **Start** (~1-2 s): the cached database is copied (backup API again) into a fresh
  directory with a ``trytond.conf`` holding only ``[database] uri = sqlite://`` and
  ``path``.  ``trytond -d NAME`` is started with ``TRYTOND_WEB__LISTEN=127.0.0.1:PORT``
  (``listen`` must stay out of the file: the file would override the environment) and
  ``TRYTONPASSFILE``; ``-d`` is required with 8.2.1, otherwise the first login fails with
  ``KeyError: 'res.user'``.  Every other ``TRYTOND_*`` variable of the caller's environment
  is dropped, so a developer's own Tryton settings cannot leak in.  Ready means a JSON-RPC
  login answered; a start that does not get there within 60 s raises with the tail of the
  server log.
* Servers left behind by a killed test process (SIGKILL) are reaped the next time one is
  started (a registry of pids in ``$TMPDIR/concord-test-tryton-pids``).
* ``start_tryton(parties=N, sales=M)`` adds a bulk data set (benchmarks; cached apart,
  see ``tryton_seed.bulk``; 2,000 parties / 5,000 sales took 32 min to build once, on 2 shared cores).  ``python -m tests.support.tryton_seed [--parties N --sales
  M] [--force]`` builds a cache ahead of time.

Notes for writers of tests (verified on 8.2):

* Keep writes to one server serial: SQLite serialises writers, and concurrent writers
  collide on sequences.
* ``trytond.conf`` sets ``[cache] clean_timeout`` very high: with the default (300 s),
  trytond 8.2 on SQLite runs the first request after each 5-minute interval in
  *autocommit* mode (see ``_write_config``), so that request is not atomic.
* A session lives 30 days (``[session] max_age``), bound to the client's IP address, and is
  stored in the database, so it survives a restart.  Methods that need a *fresh* session
  (e.g. ``wizard.account.invoice.pay.create``) answer HTTP 401 after 5 idle minutes
  (``[session] timeout``) and delete the session: every later call is 401 too.
  ``TrytonClient`` logs in again on a 401; a connector must do the same.
* Booleans read from SQLite come back as ``0``/``1`` (``True``/``False`` on PostgreSQL);
  compare with ``==``/truthiness, not ``is True``.
* Dates and datetimes are naive; ``create_date``/``write_date`` are UTC.
* Work queued by a request (``sale.sale.process`` after ``confirm`` or a shipment's
  ``do``, an invoice's ``process`` after a payment) runs right after the request, in the
  same server (no worker is configured).  If it fails with a ``UserError`` the caller
  gets no error: the message is only stored in ``ir.error`` (readable over RPC) and
  logged at INFO in ``server.log_path``.
* ``TrytonClient.call`` appends the user's context (``res.user.get_preferences``: company,
  language, ...) to every call: Tryton methods take it as their last positional argument.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import datetime as dt
import glob
import hashlib
import importlib.metadata
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from connectors.tryton.rpc import decode as _decode
from connectors.tryton.rpc import encode as _encode
from tests.support.servers import _free_port, _pid_alive, _tail

__all__ = [
    "ADMIN_LOGIN",
    "ADMIN_PASSWORD",
    "DATABASE",
    "MODULES",
    "SKIP_REASON",
    "TrytonClient",
    "TrytonError",
    "TrytonServer",
    "build_cache",
    "start_tryton",
    "trytond_available",
]

MODULES = ("sale", "account_invoice_stock")
DATABASE = "concord"
ADMIN_LOGIN = "admin"
ADMIN_PASSWORD = "concord-tryton-admin"  # >= 8 chars ([password] length)
ADMIN_EMAIL = "admin@example.com"
SKIP_REASON = (
    "trytond is not installed (pip install -e '.[tryton]', which the 'test' extra includes)"
)

_START_TIMEOUT = 60.0  # seconds until the server must answer a login
_ADMIN_TIMEOUT = 600.0  # seconds for trytond-admin to install the modules (~30 s)
_STOP_TIMEOUT = 10.0  # seconds between SIGTERM and SIGKILL
_BUILD_REV = "2"  # bump to force a rebuild after changing the build steps below
_TMP_PREFIX = "concord-test-tryton-"
_SEED_SCRIPT = Path(__file__).with_name("tryton_seed.py")

# Timings of the last build / start in this process, in seconds (for reports).
timings: dict[str, float] = {}


def trytond_available() -> bool:
    """Whether ``trytond`` and the modules the tests need are installed (in this Python).

    Looks at the installed distributions only: importing ``trytond.modules`` would load
    and configure Tryton in the test process.
    """
    try:
        for name in ("trytond", "trytond-sale", "trytond-account-invoice-stock"):
            importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def tryton_version() -> str:
    return importlib.metadata.version("trytond")


# --------------------------------------------------------------------------- JSON-RPC


_TRYTON_EXCEPTIONS = {
    "UserError",
    "UserWarning",
    "LoginException",
    "ConcurrencyException",
    "RateLimitException",
}


class TrytonError(Exception):
    """An ``{"error": ...}`` answer of the server.

    ``kind`` is the Tryton exception (``UserError``, ``UserWarning``, ``LoginException``,
    ``ConcurrencyException``), or ``ServerError`` for an unexpected exception in the server
    (then ``payload`` is ``[str(exception), traceback]``).  For a ``UserError`` the payload
    is ``[message, description, domain]``; for a ``UserWarning`` ``[name, message,
    description]``.
    """

    def __init__(self, method: str, error: Any) -> None:
        self.method = method
        self.error = error
        if isinstance(error, list | tuple) and error and error[0] in _TRYTON_EXCEPTIONS:
            self.kind = error[0]
            self.payload = error[1] if len(error) > 1 else None
        else:
            self.kind, self.payload = "ServerError", error
        super().__init__(f"{method}: {self.kind}: {self._text()}")

    def _text(self) -> str:
        payload = self.payload
        if self.kind == "ServerError" and isinstance(payload, list | tuple) and payload:
            return str(payload[0])  # the traceback is in .payload and the server log
        if isinstance(payload, list | tuple):
            parts = [str(p) for p in payload if p and isinstance(p, str)]
            return " - ".join(parts) if parts else json.dumps(payload, default=str)
        return str(payload)

    @property
    def message(self) -> str:
        return self._text()

    @property
    def warning_name(self) -> str | None:
        """For a ``UserWarning``: the name to acknowledge in ``res.user.warning``."""
        if self.kind == "UserWarning" and isinstance(self.payload, list | tuple):
            return self.payload[0]
        return None


class TrytonClient:
    """A minimal JSON-RPC client of one Tryton database, for tests and the seed only.

    ``call("model.party.party.search_read", domain, 0, None, None, ["name"])`` posts
    ``{"method": ..., "params": [*params, context]}`` to ``/<db>/rpc/`` and returns the
    decoded result (``Decimal``, ``date``, ``datetime`` restored); an ``{"error": ...}``
    answer raises :class:`TrytonError`; HTTP 401 (expired session) logs in again once.
    The helpers below (``search_read``, ``create``, ``write``, ``button``, ``wizard``...)
    are thin shortcuts for the ``model.*`` / ``wizard.*`` methods.
    """

    def __init__(
        self,
        url: str,
        database: str,
        login: str = ADMIN_LOGIN,
        password: str = ADMIN_PASSWORD,
        *,
        language: str = "en",
        timeout: float = 120.0,
    ) -> None:
        self.url = url.rstrip("/") + "/"
        self.database = database
        self.login_name = login
        self.password = password
        self.language = language
        self.user_id: int | None = None
        self.session: str | None = None
        self.context: dict[str, Any] = {}
        self._ids = 0
        import httpx

        self._http = httpx.Client(timeout=timeout)

    # -- plumbing

    @property
    def rpc_url(self) -> str:
        return f"{self.url}{self.database}/rpc/"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _post(self, method: str, params: Sequence[Any], *, auth: bool) -> Any:
        self._ids += 1
        body = json.dumps(
            {"id": self._ids, "method": method, "params": list(params)},
            default=_encode,
            separators=(",", ":"),
        )
        headers = {"Content-Type": "application/json"}
        if auth and self.session is not None:
            token = f"{self.login_name}:{self.user_id}:{self.session}".encode()
            headers["Authorization"] = "Session " + base64.b64encode(token).decode()
        _debug(f"-> {self._ids} {method} {_short(params)}")
        response = self._http.post(self.rpc_url, content=body, headers=headers)
        _debug(f"<- {self._ids} {response.status_code} {len(response.content)} bytes")
        if response.status_code == 401:
            raise _Unauthorized(method)
        response.raise_for_status()
        data = json.loads(response.content, object_hook=_decode)
        if data.get("error") is not None:
            raise TrytonError(method, data["error"])
        return data.get("result")

    def login(self) -> TrytonClient:
        """``common.db.login``; then load the user's context (company, language...)."""
        try:
            result = self._post(
                "common.db.login",
                [self.login_name, {"password": self.password}, self.language],
                auth=False,
            )
        except _Unauthorized:
            raise TrytonError(
                "common.db.login", ["LoginError", f"login {self.login_name!r} refused"]
            ) from None
        self.user_id, self.session = result[0], result[1]
        self.refresh_context()
        return self

    def refresh_context(self) -> dict[str, Any]:
        """Reload the context (call it after changing the user's company)."""
        self.context = self.call("model.res.user.get_preferences", True, context={})
        return self.context

    def logout(self) -> None:
        if self.session is not None:
            with contextlib.suppress(Exception):
                self._post("common.db.logout", [], auth=True)
        self.session = None

    def call(
        self,
        method: str,
        *params: Any,
        context: Mapping[str, Any] | None = None,
        skip_warnings: bool = False,
    ) -> Any:
        """Call ``method`` with ``params`` and the context (the user's, updated by ``context``).

        ``context`` overrides are merged into the user's context, which is always sent as
        the last parameter.  With ``skip_warnings``, a ``UserWarning`` answer is
        acknowledged (``res.user.warning.skip``, what the desktop client's "Yes" does) and
        the call repeated.
        """
        skipped: list[str] = []
        for _attempt in range(10):
            try:
                return self._call(method, params, context)
            except TrytonError as exc:
                if not (skip_warnings and exc.warning_name):
                    raise
                _debug(f"{method}: skipping warning {exc.warning_name!r} and calling again")
                self._call("model.res.user.warning.skip", (exc.warning_name, False), None)
                skipped.append(exc.message)
        # A warning per record (e.g. per party's VAT number) needs one call per record:
        # answer those for all records beforehand (see tryton_seed._skip_vat_warnings).
        raise RuntimeError(f"{method}: too many warnings, the last: {skipped[-1]}")

    def _call(self, method: str, params: Sequence[Any], context: Mapping[str, Any] | None) -> Any:
        if self.session is None:
            self.login()
        try:
            return self._post(method, [*params, {**self.context, **(context or {})}], auth=True)
        except _Unauthorized:  # the session expired (or the server lost it): log in again
            _debug(f"{method}: HTTP 401, logging in again and calling again")
            self.login()
            return self._post(method, [*params, {**self.context, **(context or {})}], auth=True)

    # -- model shortcuts

    def search(
        self,
        model: str,
        domain: Sequence[Any] = (),
        offset: int = 0,
        limit: int | None = None,
        order: Sequence[Sequence[str]] | None = None,
        *,
        context: Mapping[str, Any] | None = None,
    ) -> list[int]:
        return self.call(
            f"model.{model}.search", list(domain), offset, limit, order, context=context
        )

    def search_read(
        self,
        model: str,
        domain: Sequence[Any] = (),
        fields: Sequence[str] = ("id",),
        *,
        offset: int = 0,
        limit: int | None = None,
        order: Sequence[Sequence[str]] | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        return self.call(
            f"model.{model}.search_read",
            list(domain),
            offset,
            limit,
            order,
            list(fields),
            context=context,
        )

    def search_count(
        self, model: str, domain: Sequence[Any] = (), *, context: Mapping[str, Any] | None = None
    ) -> int:
        return self.call(f"model.{model}.search_count", list(domain), 0, None, context=context)

    def read(
        self,
        model: str,
        ids: Iterable[int],
        fields: Sequence[str],
        *,
        context: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Read records; the result keeps the order of ``ids``."""
        ids = list(ids)
        rows = {
            r["id"]: r for r in self.call(f"model.{model}.read", ids, list(fields), context=context)
        }
        return [rows[i] for i in ids]

    def create(
        self,
        model: str,
        values: Sequence[Mapping[str, Any]],
        *,
        context: Mapping[str, Any] | None = None,
    ) -> list[int]:
        return self.call(f"model.{model}.create", [dict(v) for v in values], context=context)

    def write(
        self,
        model: str,
        ids: Iterable[int],
        values: Mapping[str, Any],
        *,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        self.call(f"model.{model}.write", list(ids), dict(values), context=context)

    def delete(
        self, model: str, ids: Iterable[int], *, context: Mapping[str, Any] | None = None
    ) -> None:
        self.call(f"model.{model}.delete", list(ids), context=context)

    def button(
        self,
        model: str,
        method: str,
        ids: Iterable[int],
        *,
        context: Mapping[str, Any] | None = None,
        skip_warnings: bool = False,
    ) -> Any:
        """Click a button (a workflow transition such as ``sale.sale``/``quote``)."""
        return self.call(
            f"model.{model}.{method}", list(ids), context=context, skip_warnings=skip_warnings
        )

    def model_data_id(self, module: str, xml_id: str) -> int:
        """Database id of the record ``module.xml_id`` of the modules' XML data."""
        return self.call("model.ir.model.data.get_id", module, xml_id)

    def wizard(
        self,
        name: str,
        steps: Sequence[
            tuple[str, Mapping[str, Any] | Callable[[dict[str, Any]], Mapping[str, Any]]]
        ],
        *,
        active_model: str | None = None,
        active_ids: Sequence[int] = (),
        context: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Run the wizard ``name`` like the client does.

        ``steps`` is a list of ``(button_state, values)``: for each, the view currently
        shown is submitted with its defaults updated by ``values`` (a mapping, or a
        function of the form's current values returning one), then ``button_state`` is
        executed.  Returns the views' defaults seen along the way (``{state: defaults}``)
        plus ``"_result"``, the last ``execute`` answer.
        """
        ctx = dict(context or {})
        if active_model:
            ctx.update(
                active_model=active_model,
                active_id=active_ids[0] if active_ids else None,
                active_ids=list(active_ids),
            )
        session_id, start_state, _end_state = self.call(f"wizard.{name}.create", context=ctx)
        seen: dict[str, Any] = {}
        try:
            result = self.call(f"wizard.{name}.execute", session_id, {}, start_state, context=ctx)
            for button_state, values in steps:
                view = result.get("view")
                data: dict[str, Any] = {}
                if view:
                    state = view["state"]
                    form = {**(view.get("defaults") or {}), **(view.get("values") or {})}
                    seen[state] = dict(form)
                    form.update(values(form) if callable(values) else values)
                    data[state] = {k: v for k, v in form.items() if not k.endswith(".")}
                result = self.call(
                    f"wizard.{name}.execute", session_id, data, button_state, context=ctx
                )
        finally:
            self.call(f"wizard.{name}.delete", session_id, context=ctx)
        seen["_result"] = result
        return seen


def _short(params: Sequence[Any]) -> str:
    text = json.dumps(params, default=str)
    return text if len(text) < 120 else text[:117] + "..."


def _debug(message: str) -> None:
    if os.environ.get("CONCORD_TRYTON_DEBUG"):
        print(f"tryton client: {message}", file=sys.stderr, flush=True)


class _Unauthorized(Exception):
    pass


# --------------------------------------------------------------------------- helpers


def _copy_sqlite(source: Path, target: Path) -> None:
    """Copy a (possibly live, WAL-mode) SQLite database with the backup API."""
    for suffix in ("", "-wal", "-shm", "-journal"):  # a stale WAL would corrupt the copy
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def _server_env(port: int, passfile: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRYTOND_", "TRYTON_"))}
    env.pop("TRYTONPASSFILE", None)
    env["TRYTOND_WEB__LISTEN"] = f"127.0.0.1:{port}"
    env["TRYTONPASSFILE"] = str(passfile)
    env["PYTHONUNBUFFERED"] = "1"
    # INFO: one line per RPC call (method, user, duration) and the failures of queued
    # tasks, which are otherwise silent (the default level is ERROR; a UserError in a
    # task only lands in ir.error).  Override with CONCORD_TRYTON_LOG_LEVEL.
    env["TRYTOND_LOGGING_LEVEL"] = os.environ.get("CONCORD_TRYTON_LOG_LEVEL", "20")
    return env


def _write_config(workdir: Path, *, queue_worker: bool = False) -> Path:
    dbdir = workdir / "db"
    dbdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "trytond.conf"
    # No [web] listen here: the file would override TRYTOND_WEB__LISTEN.
    text = f"[database]\nuri = sqlite://\npath = {dbdir}\n"
    # trytond 8.2 + SQLite: every [cache] clean_timeout seconds (default 300) the first
    # transaction to start syncs the caches through database.get_connection(autocommit=
    # True), which for SQLite is the transaction's own connection: that request then runs
    # in autocommit mode -- a UserError leaves its partial writes behind, and a lock retry
    # (TransactionError) runs the method again on top of what it already committed.  One
    # server process needs no cross-process cache sync: never sync.
    text += "\n[cache]\nclean_timeout = 1000000000\n"
    if queue_worker:
        # Queued tasks (sale/invoice "process", invoice report rendering) are only stored
        # in ir.queue instead of running after each request; nobody runs them.
        text += "\n[queue]\nworker = True\n"
    conf.write_text(text)
    passfile = workdir / "admin.pass"
    passfile.write_text(ADMIN_PASSWORD + "\n")
    return conf


def _registry() -> Path:
    """One file ``<test process pid>-<trytond pid>`` per running server (for reaping)."""
    return Path(tempfile.gettempdir()) / "concord-test-tryton-pids"


def _is_trytond(pid: int) -> bool:
    try:
        return b"trytond" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return _pid_alive(pid) and not Path("/proc").is_dir()


def _reap_stale() -> None:
    """Kill the servers of test processes that died without stopping them (SIGKILL).

    Also removes their temporary directories ``<prefix><owner pid>-*``.
    """
    for entry in _registry().glob("*-*"):
        try:
            owner, pid = (int(x) for x in entry.name.split("-", 1))
        except ValueError:
            continue
        if owner == os.getpid() or _pid_alive(owner):
            continue
        if _is_trytond(pid):  # not a recycled pid
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        entry.unlink(missing_ok=True)
    for path in glob.glob(os.path.join(tempfile.gettempdir(), _TMP_PREFIX + "*")):
        try:
            owner = int(os.path.basename(path)[len(_TMP_PREFIX) :].split("-", 1)[0])
        except ValueError:
            continue
        if owner != os.getpid() and not _pid_alive(owner):
            shutil.rmtree(path, ignore_errors=True)


# --------------------------------------------------------------------------- server


_live: set[TrytonServer] = set()
_live_lock = threading.Lock()


@atexit.register
def _stop_all() -> None:
    for server in list(_live):
        with contextlib.suppress(Exception):
            server.close()


@dataclass(eq=False)
class TrytonServer:
    """One ``trytond`` process on a private copy of the seeded database."""

    url: str
    database: str
    login: str
    password: str
    workdir: Path
    port: int
    seed: dict[str, Any] = field(default_factory=dict)
    source_db: Path | None = None  # the cached seeded database a reset copies from
    remove_workdir: bool = False
    queue_worker: bool = False  # see _write_config; only for the bulk seed
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _owner_pid: int = field(default_factory=os.getpid, repr=False)

    # -- paths

    @property
    def config_file(self) -> Path:
        return self.workdir / "trytond.conf"

    @property
    def db_path(self) -> Path:
        return self.workdir / "db" / f"{self.database}.sqlite"

    @property
    def log_path(self) -> Path:
        return self.workdir / "trytond.log"

    @property
    def rpc_url(self) -> str:
        return f"{self.url}{self.database}/rpc/"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # -- clients

    def client(self, *, login: str | None = None, password: str | None = None) -> TrytonClient:
        """A new logged-in :class:`TrytonClient` (close it, or use it as a context manager)."""
        return TrytonClient(
            self.url, self.database, login or self.login, password or self.password
        ).login()

    # -- lifecycle

    def start(self, timeout: float = _START_TIMEOUT) -> TrytonServer:
        """Start ``trytond`` on ``db_path`` and ``port``; wait until a login answers."""
        if self.running:
            return self
        began = time.monotonic()
        _write_config(self.workdir, queue_worker=self.queue_worker)
        with self.log_path.open("ab") as log:
            log.write(f"--- start {dt.datetime.now().isoformat()} port {self.port}\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "trytond.cli",
                    "-c",
                    str(self.config_file),
                    "-d",
                    self.database,
                    # a logging.config file, e.g. for DEBUG of trytond.protocols.dispatcher
                    *(
                        ["--logconf", os.environ["CONCORD_TRYTON_LOGCONF"]]
                        if os.environ.get("CONCORD_TRYTON_LOGCONF")
                        else []
                    ),
                ],
                cwd=self.workdir,
                env=_server_env(self.port, self.workdir / "admin.pass"),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C in the terminal is pytest's, not Tryton's
            )
        (self.workdir / "trytond.pid").write_text(str(self._proc.pid))
        _registry().mkdir(exist_ok=True)
        (_registry() / f"{os.getpid()}-{self._proc.pid}").write_text(str(self.workdir))
        with _live_lock:
            _live.add(self)
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        timings["start"] = time.monotonic() - began
        return self

    def _wait_ready(self, timeout: float) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        last: Exception | None = None
        client = TrytonClient(self.url, self.database, self.login, self.password, timeout=10)
        try:
            while time.monotonic() < deadline:
                if self._proc is None or self._proc.poll() is not None:
                    code = self._proc.returncode if self._proc else None
                    raise RuntimeError(
                        f"trytond exited ({code}) before answering:\n{_tail(self.log_path)}"
                    )
                try:
                    client.login()
                    client.logout()
                    return
                except TrytonError as exc:
                    raise RuntimeError(
                        f"trytond on {self.url} refused the login: {exc}\n{_tail(self.log_path)}"
                    ) from exc
                except (httpx.TransportError, httpx.HTTPStatusError) as exc:
                    last = exc
                    time.sleep(0.1)
        finally:
            client.close()
        raise RuntimeError(
            f"trytond did not answer a login on {self.url} within {timeout:.0f}s "
            f"(last error: {last!r}):\n{_tail(self.log_path)}"
        )

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s); the database stays."""
        proc, self._proc = self._proc, None
        if proc is None or os.getpid() != self._owner_pid:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(_STOP_TIMEOUT)
        (self.workdir / "trytond.pid").unlink(missing_ok=True)
        (_registry() / f"{os.getpid()}-{proc.pid}").unlink(missing_ok=True)

    def kill(self) -> None:
        """Kill the server abruptly (SIGKILL), as a crash would."""
        proc, self._proc = self._proc, None
        if proc is None or os.getpid() != self._owner_pid:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(_STOP_TIMEOUT)
        (self.workdir / "trytond.pid").unlink(missing_ok=True)
        (_registry() / f"{os.getpid()}-{proc.pid}").unlink(missing_ok=True)

    def restart(self, timeout: float = _START_TIMEOUT) -> TrytonServer:
        """Stop and start again on the same database and port."""
        self.stop()
        return self.start(timeout)

    def reset_database(self) -> TrytonServer:
        """Stop, replace the database with a fresh copy of the cached seed, start."""
        if self.source_db is None:
            raise RuntimeError("this server has no cached database to reset from")
        was_running = self.running
        self.stop()
        _copy_sqlite(self.source_db, self.db_path)
        return self.start() if was_running else self

    def close(self) -> None:
        """Stop the server and remove its directory if we created it."""
        self.stop()
        with _live_lock:
            _live.discard(self)
        if self.remove_workdir and os.getpid() == self._owner_pid:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _new_server(
    workdir: Path | None, *, source_db: Path | None, seed: dict[str, Any] | None = None
) -> TrytonServer:
    _reap_stale()
    if workdir is None:
        workdir = Path(tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{os.getpid()}-"))
        remove = True
    else:
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        remove = False
    port = _free_port()
    return TrytonServer(
        url=f"http://127.0.0.1:{port}/",
        database=DATABASE,
        login=ADMIN_LOGIN,
        password=ADMIN_PASSWORD,
        workdir=workdir,
        port=port,
        seed=seed or {},
        source_db=source_db,
        remove_workdir=remove,
    )


def _start_on_free_port(server: TrytonServer) -> TrytonServer:
    """Start; if the port was taken meanwhile (the server dies at once), try another."""
    for attempt in range(3):
        try:
            return server.start()
        except RuntimeError:
            if attempt == 2 or "Address already in use" not in _tail(server.log_path, 15):
                raise
            server.port = _free_port()
            server.url = f"http://127.0.0.1:{server.port}/"
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------- cache


def _cache_root() -> Path:
    root = os.environ.get("CONCORD_TEST_CACHE", "").strip()
    if root:
        return Path(root)
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".cache") / "concord-tests"


def _scale_key(parties: int | None, sales: int | None) -> str:
    return "" if not parties and not sales else f"-p{parties or 0}-s{sales or 0}"


def cache_dir(parties: int | None = None, sales: int | None = None) -> Path:
    """Where the seeded database of this trytond version / seed script / scale lives."""
    digest = hashlib.sha256()
    digest.update(_BUILD_REV.encode())
    digest.update(_SEED_SCRIPT.read_bytes())
    digest.update(repr(MODULES).encode())
    digest.update(str(dt.date.today().year).encode())
    versions = sorted(
        f"{d.metadata['Name']}=={d.version}"
        for d in importlib.metadata.distributions()
        if (d.metadata["Name"] or "").lower().replace("_", "-").startswith("trytond")
    )
    digest.update("\n".join(versions).encode())
    name = f"tryton-{tryton_version()}-{digest.hexdigest()[:12]}{_scale_key(parties, sales)}"
    return _cache_root() / name


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_admin(workdir: Path) -> None:
    conf = _write_config(workdir)
    db_file = workdir / "db" / f"{DATABASE}.sqlite"
    db_file.touch()  # the sqlite backend does not create the file
    log = workdir / "trytond-admin.log"
    with log.open("wb") as out:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "trytond.cli.admin",
                "-c",
                str(conf),
                "-d",
                DATABASE,
                "-u",
                *MODULES,
                "--activate-dependencies",
                "--email",
                ADMIN_EMAIL,  # without it, trytond-admin prompts (EOFError without a tty)
            ],
            cwd=workdir,
            env=_server_env(_free_port(), workdir / "admin.pass"),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=_ADMIN_TIMEOUT,
            check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(f"trytond-admin failed ({result.returncode}):\n{_tail(log)}")


_CACHE_MAX_IDLE = dt.timedelta(days=14)


def _prune_cache(keep: Path) -> None:
    """Drop cached databases of other seed versions that nobody started for 14 days."""
    limit = time.time() - _CACHE_MAX_IDLE.total_seconds()
    for entry in keep.parent.glob("tryton-*"):
        if entry == keep or ".build-" in entry.name:
            continue
        with contextlib.suppress(OSError):
            if entry.stat().st_mtime >= limit:
                continue
            if entry.suffix == ".lock":
                if not entry.with_suffix("").exists():
                    entry.unlink()
            else:
                shutil.rmtree(entry)


def build_cache(
    parties: int | None = None, sales: int | None = None, *, force: bool = False
) -> Path:
    """Build (if missing) and return the cache directory holding the seeded database.

    It contains ``concord.sqlite`` (the database), ``seed.json`` (what the seed returned)
    and ``build.json`` (timings).  ``parties``/``sales`` add a bulk data set on top of the
    scenario (for benchmarks); each scale is cached separately.
    """
    target = cache_dir(parties, sales)
    if (target / "seed.json").exists() and not force:
        with contextlib.suppress(OSError):
            os.utime(target)  # last use, for _prune_cache
        return target
    with _file_lock(target.with_name(target.name + ".lock")):
        if (target / "seed.json").exists() and not force:
            return target
        # Leftovers of a build that was killed (we hold the lock: nobody else builds it).
        for stale in target.parent.glob(target.name + ".build-*"):
            shutil.rmtree(stale, ignore_errors=True)
        for stale in target.parent.glob(target.name + ".new-*"):
            shutil.rmtree(stale, ignore_errors=True)
        began = time.monotonic()
        build = Path(tempfile.mkdtemp(prefix=target.name + ".build-", dir=target.parent))
        server: TrytonServer | None = None
        try:
            _run_admin(build)
            installed = time.monotonic() - began
            server = _new_server(build, source_db=None)
            _start_on_free_port(server)
            from tests.support import tryton_seed

            with server.client() as client:
                seed = tryton_seed.seed(client)
            server.stop()
            if parties or sales:
                # The bulk runs with queued tasks parked (it processes sales and invoices
                # itself, in batches, and skips rendering thousands of invoice reports).
                server.queue_worker = True
                server.start()
                with server.client() as client:
                    seed["bulk"] = tryton_seed.bulk(
                        client, seed, parties=parties or 0, sales=sales or 0
                    )
                server.stop()
                server.queue_worker = False
                _write_config(build)
                with contextlib.closing(sqlite3.connect(server.db_path)) as db, db:
                    seed["bulk"]["queued_tasks_dropped"] = db.execute(
                        "DELETE FROM ir_queue WHERE dequeued_at IS NULL"
                    ).rowcount
            seeded = time.monotonic() - began
            out = Path(tempfile.mkdtemp(prefix=target.name + ".new-", dir=target.parent))
            _copy_sqlite(server.db_path, out / f"{DATABASE}.sqlite")
            # Rollback-journal mode for the cached file: opening it read-only (to copy it)
            # then creates no -wal/-shm files next to it; trytond switches copies to WAL.
            with contextlib.closing(sqlite3.connect(out / f"{DATABASE}.sqlite")) as db:
                db.execute("PRAGMA journal_mode = DELETE")
            (out / "seed.json").write_text(json.dumps(seed, indent=2, default=str))
            (out / "build.json").write_text(
                json.dumps(
                    {
                        "trytond": tryton_version(),
                        "modules": MODULES,
                        "built_at": dt.datetime.now().isoformat(timespec="seconds"),
                        "install_seconds": round(installed, 1),
                        "seed_seconds": round(seeded - installed, 1),
                        "total_seconds": round(time.monotonic() - began, 1),
                    },
                    indent=2,
                )
            )
            if target.exists():
                shutil.rmtree(target)
            out.rename(target)
            shutil.rmtree(target.with_name(target.name + ".failed"), ignore_errors=True)
            _prune_cache(target)
        except BaseException:
            if server is not None:
                server.stop()
            # keep the logs of a failed build next to the cache for a post-mortem
            failed = target.with_name(target.name + ".failed")
            shutil.rmtree(failed, ignore_errors=True)
            with contextlib.suppress(OSError):
                build.rename(failed)
            raise
        else:
            shutil.rmtree(build, ignore_errors=True)
        timings["build"] = time.monotonic() - began
    return target


def start_tryton(
    workdir: Path | None = None,
    *,
    parties: int | None = None,
    sales: int | None = None,
) -> TrytonServer:
    """Start a server on a fresh copy of the cached seeded database (building it if needed).

    ``workdir`` receives the database copy, config and log (a temporary directory removed
    on ``close()`` when omitted).  The returned :class:`TrytonServer` is running and is a
    context manager that stops it.
    """
    if not trytond_available():
        raise RuntimeError(SKIP_REASON)
    cached = build_cache(parties, sales)
    seed = json.loads((cached / "seed.json").read_text())
    server = _new_server(workdir, source_db=cached / f"{DATABASE}.sqlite", seed=seed)
    try:
        server.db_path.parent.mkdir(parents=True, exist_ok=True)
        _copy_sqlite(cached / f"{DATABASE}.sqlite", server.db_path)
        _start_on_free_port(server)
    except BaseException:
        server.close()
        raise
    return server
