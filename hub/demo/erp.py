"""A real Tryton 8.2 for the demo: its database built once and cached, a ``trytond`` process.

The build (``trytond-admin`` installs the modules, then ``erp_setup.setup`` over JSON-RPC,
~30 s) happens once per trytond version, setup code and year (the fiscal years are around
today); the result is kept in ``<cache>/tryton-<key>/`` and every start copies it (sqlite3
backup API: a live WAL database is not safe to ``cp``) into a fresh work directory, so each
demo begins from the same ERP. The admin password is random per build, kept next to the
cached database (mode 0600), never printed.

Verified on 8.2 (see also ``tests/support/tryton.py``): ``listen`` must come from
``TRYTOND_WEB__LISTEN`` (a config file value would override it); ``-d`` is required or the
first login fails; ``[cache] clean_timeout`` is set very high because with the default the
first request after each 5 minutes runs in autocommit mode on SQLite.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.errors import TransientError
from connectors.tryton.rpc import TrytonError, TrytonRPC

MODULES = ("sale", "account_invoice_stock")
DISTRIBUTIONS = ("trytond", "trytond-sale", "trytond-account-invoice-stock")
DATABASE = "concord_demo"
LOGIN = "admin"
INSTALL_HINT = "pip install -e '.[demo]'  (or: sh scripts/run.sh, which does it)"
_BUILD_REV = "1"  # bump after changing the build steps


def available() -> bool:
    """trytond and its modules are installed (checked without importing trytond here)."""
    try:
        for name in DISTRIBUTIONS:
            importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --------------------------------------------------------------------------- JSON-RPC


class Rpc(TrytonRPC):
    """The connector's JSON-RPC client, plus what setting up and seeding the demo's ERP needs:
    a context per call, wizards, XML ids. Warnings are acknowledged the way the desktop
    client's "Yes" does (``res.user.warning.skip``): the demo answers yes."""

    def __init__(self, url: str, password: str, timeout: float = 120.0, attempts: int = 4) -> None:
        super().__init__(url, DATABASE, LOGIN, password, timeout=timeout, attempts=attempts)

    def login(self) -> Rpc:  # type: ignore[override]
        super().login()
        return self

    def refresh_context(self) -> Rpc:
        self.context = self._post("model.res.user.get_preferences", [True, {}], True)
        return self

    def call(self, method: str, *params: Any, once: bool = False, **context: Any) -> Any:
        if self.session is None:
            self.login()
        for _ in range(10):
            try:
                return self._post(method, [*params, {**self.context, **context}], True, once)
            except TrytonError as exc:
                if exc.kind != "UserWarning":
                    raise
                self._post("model.res.user.warning.skip", [exc.payload[0], False, self.context], True)
        raise TrytonError(method, ["UserWarning", "too many warnings"])

    def data_id(self, module: str, xml_id: str) -> int:
        return int(self.call("model.ir.model.data.get_id", module, xml_id))

    def wizard(self, name: str, steps: Sequence[tuple[str, Callable[[dict[str, Any]], Mapping[str, Any]]]],
               **context: Any) -> Any:
        """Run wizard ``name`` as the client would: each step submits the shown form with
        its defaults updated by ``values(form)``, then presses ``button``."""
        session, start, _end = self.call(f"wizard.{name}.create", **context)
        try:
            result = self.call(f"wizard.{name}.execute", session, {}, start, **context)
            for button, values in steps:
                data = {}
                if view := result.get("view"):
                    form = {**(view.get("defaults") or {}), **(view.get("values") or {})}
                    form.update(values(form))
                    data[view["state"]] = {k: v for k, v in form.items() if not k.endswith(".")}
                result = self.call(f"wizard.{name}.execute", session, data, button, **context)
            return result
        finally:
            self.call(f"wizard.{name}.delete", session, **context)


# --------------------------------------------------------------------------- the process


def _write_config(workdir: Path, password: str) -> Path:
    (workdir / "db").mkdir(parents=True, exist_ok=True)
    conf = workdir / "trytond.conf"
    conf.write_text(f"[database]\nuri = sqlite://\npath = {workdir / 'db'}\n\n[cache]\nclean_timeout = 1000000000\n")
    passfile = workdir / "admin.pass"
    passfile.touch(mode=0o600)
    passfile.write_text(password + "\n")
    return conf


def _env(port: int, workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRYTOND_", "TRYTON"))}
    env.update(TRYTOND_WEB__LISTEN=f"127.0.0.1:{port}", TRYTONPASSFILE=str(workdir / "admin.pass"),
               PYTHONUNBUFFERED="1")
    return env


@dataclass(eq=False)
class Tryton:
    """One ``trytond`` on ``workdir/db/<DATABASE>.sqlite``, in its own process group (so a
    Ctrl-C in the terminal reaches the demo, which then stops it)."""

    workdir: Path
    password: str
    port: int = field(default_factory=free_port)
    setup: dict[str, Any] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def db_path(self) -> Path:
        return self.workdir / "db" / f"{DATABASE}.sqlite"

    @property
    def log_path(self) -> Path:
        return self.workdir / "trytond.log"

    def client(self) -> Rpc:
        return Rpc(self.url, self.password).login()

    def start(self, timeout: float = 60.0) -> Tryton:
        conf = _write_config(self.workdir, self.password)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "trytond.cli", "-c", str(conf), "-d", DATABASE],
                cwd=self.workdir, env=_env(self.port, self.workdir), stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        (self.workdir / "trytond.pid").write_text(str(self.proc.pid))
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"trytond exited before answering; its log:\n{tail(self.log_path)}")
            rpc = Rpc(self.url, self.password, timeout=10, attempts=1)
            try:
                rpc.login()
                return
            except TransientError:  # not listening yet
                time.sleep(0.1)
            finally:
                rpc.close()
        raise RuntimeError(f"trytond did not answer within {timeout:.0f} s; its log:\n{tail(self.log_path)}")

    def stop(self) -> None:
        """SIGTERM to the process group, SIGKILL after 10 s; the database stays."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        (self.workdir / "trytond.pid").unlink(missing_ok=True)


def reap(workdir: Path) -> None:
    """Stop a ``trytond`` a killed demo left behind (its pid file, if it is still trytond)."""
    pid_file = workdir / "trytond.pid"
    with contextlib.suppress(OSError, ValueError):
        pid = int(pid_file.read_text())
        if b"trytond" in Path(f"/proc/{pid}/cmdline").read_bytes():
            os.killpg(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)


# --------------------------------------------------------------------------- the cache


def copy_sqlite(source: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src, \
            contextlib.closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def cache_dir(root: Path) -> Path:
    from hub.demo import erp_setup

    digest = hashlib.sha256(_BUILD_REV.encode())
    digest.update(Path(erp_setup.__file__).read_bytes())
    digest.update(str(dt.date.today().year).encode())
    digest.update(";".join(f"{d}=={importlib.metadata.version(d)}" for d in DISTRIBUTIONS).encode())
    return root / f"tryton-{importlib.metadata.version('trytond')}-{digest.hexdigest()[:12]}"


def build(root: Path) -> tuple[Path, bool]:
    """The cached set-up database (built now if missing); ``True`` if it was built."""
    from hub.demo import erp_setup

    target = cache_dir(root)
    if (target / "setup.json").exists():
        return target, False
    work = target.with_name(target.name + ".build")
    shutil.rmtree(work, ignore_errors=True)
    password = secrets.token_urlsafe(18)
    conf = _write_config(work, password)
    (work / "db" / f"{DATABASE}.sqlite").touch()  # the sqlite backend does not create it
    with (work / "trytond-admin.log").open("wb") as log:
        done = subprocess.run(
            [sys.executable, "-m", "trytond.cli.admin", "-c", str(conf), "-d", DATABASE, "-u", *MODULES,
             "--activate-dependencies", "--email", "admin@concord.example"],
            cwd=work, env=_env(free_port(), work), stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, timeout=600, check=False)
    if done.returncode:
        raise RuntimeError(f"trytond-admin failed; its log:\n{tail(work / 'trytond-admin.log')}")
    server = Tryton(work, password).start()
    try:
        rpc = server.client()
        try:
            setup = erp_setup.setup(rpc)
        finally:
            rpc.close()
    finally:
        server.stop()
    out = target.with_name(target.name + ".new")
    shutil.rmtree(out, ignore_errors=True)
    copy_sqlite(server.db_path, out / f"{DATABASE}.sqlite")
    with contextlib.closing(sqlite3.connect(out / f"{DATABASE}.sqlite")) as db:
        db.execute("PRAGMA journal_mode = DELETE")  # no -wal next to the cached file
    secret = out / "admin.pass"
    secret.touch(mode=0o600)
    secret.write_text(password)
    (out / "setup.json").write_text(json.dumps(setup, indent=1))
    shutil.rmtree(target, ignore_errors=True)
    out.rename(target)
    shutil.rmtree(work, ignore_errors=True)
    for old in root.glob("tryton-*"):  # other versions of the setup: never used again
        if old != target:
            shutil.rmtree(old, ignore_errors=True)
    return target, True


def start(cache: Path, workdir: Path, source: Path | None = None) -> Tryton:
    """A ``trytond`` on a fresh copy of the cached database (or ``source``) in ``workdir``."""
    reap(workdir)
    copy_sqlite(source or cache / f"{DATABASE}.sqlite", workdir / "db" / f"{DATABASE}.sqlite")
    server = Tryton(workdir, (cache / "admin.pass").read_text().strip(),
                    setup=json.loads((cache / "setup.json").read_text()))
    for attempt in range(3):  # the free port may be taken meanwhile
        try:
            return server.start()
        except RuntimeError:
            if attempt == 2 or "Address already in use" not in tail(server.log_path, 15):
                raise
            server.port = free_port()
    raise AssertionError("unreachable")
