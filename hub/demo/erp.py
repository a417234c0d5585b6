"""A real Tryton 8.2: its database built once and cached, and ``trytond`` processes on copies.

The one Tryton runner of the project: ``hub demo`` (the product's) starts its ERP with it,
and so do the test suite (``tests/support/tryton.py``, one server per run) and the
benchmarks. It lives in the product, not under ``tests/``, because the demo ships with the
product and must not import the tests; the tests and benchmarks import it from here, so
there is one build, one seed (``erp_seed``, with a :class:`~hub.demo.erp_seed.Scale`), one
client (``erp_rpc.Rpc``, the connector's ``TrytonRPC``) and one cache.

* **Build** (``build(root, scale)``, once per seed code, trytond version, year and scale,
  ~40 s; serialised by a file lock, so parallel processes build once): ``trytond-admin``
  installs the modules, a server is started and ``erp_seed`` fills it over JSON-RPC. The
  cache ``<root>/tryton-<version>-<hash><scale>/`` holds ``setup.sqlite`` + ``setup.json``
  (after the setup: the demo's story starts there), ``concord.sqlite`` + ``seed.json`` (after
  the scenario and the scale: the tests' and benchmarks' database), ``admin.pass`` (random
  per build, mode 0600, never printed) and ``build.json``. Copies use the sqlite3 backup
  API: trytond runs SQLite in WAL mode, and a ``cp`` of a live database may lose pages.
* **Start** (``start(cache, workdir)``, ~2 s): a fresh copy in ``workdir/db``, a config with
  only ``[database]`` and ``[cache]``, ``trytond -d concord``; ready when a login answers.

Verified on 8.2: ``listen`` must come from ``TRYTOND_WEB__LISTEN`` (a config file value
would override it); ``-d`` is required, or the first login fails (``KeyError: 'res.user'``;
a database copied in later cannot be served either); ``[cache] clean_timeout`` is set very
high because with the default the first request after each 5 minutes runs in autocommit
mode on SQLite (a UserError then leaves its partial writes). Every ``TRYTOND_*`` variable of
the caller is dropped, so a developer's own Tryton settings cannot leak in. Servers whose
owner process died (SIGKILL) are reaped by the next start (pid files in
``$TMPDIR/concord-tryton-pids``). Writes to one server should be serial: SQLite serialises
writers, and concurrent writers collide on sequences.
"""

from __future__ import annotations

import atexit
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
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from connectors.errors import TransientError
from hub.demo.erp_rpc import Rpc
from hub.demo.erp_seed import SMALL, Scale

MODULES = ("sale", "account_invoice_stock")
DISTRIBUTIONS = ("trytond", "trytond-sale", "trytond-account-invoice-stock")
DATABASE = "concord"
LOGIN = "admin"
INSTALL_HINT = "pip install -e '.[demo]'  (or: sh scripts/run.sh, which does it)"
_BUILD_REV = "3"  # bump after changing the build steps
_SEED_FILES = ("erp_seed.py", "erp_setup.py", "erp_scenario.py", "erp_bulk.py")
_CACHE_MAX_IDLE = dt.timedelta(days=14)


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


# --------------------------------------------------------------------------- the process


def _write_config(workdir: Path, password: str, *, queue_worker: bool = False) -> Path:
    (workdir / "db").mkdir(parents=True, exist_ok=True)
    conf = workdir / "trytond.conf"
    text = f"[database]\nuri = sqlite://\npath = {workdir / 'db'}\n\n[cache]\nclean_timeout = 1000000000\n"
    if queue_worker:  # queued tasks are only stored in ir.queue; nobody runs them (the bulk seed)
        text += "\n[queue]\nworker = True\n"
    conf.write_text(text)
    passfile = workdir / "admin.pass"
    passfile.touch(mode=0o600)
    passfile.write_text(password + "\n")
    return conf


def _env(port: int, workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRYTOND_", "TRYTON"))}
    # INFO: one line per call and the failures of queued tasks, which are otherwise silent.
    env.update(
        TRYTOND_WEB__LISTEN=f"127.0.0.1:{port}",
        TRYTONPASSFILE=str(workdir / "admin.pass"),
        PYTHONUNBUFFERED="1",
        TRYTOND_LOGGING_LEVEL=os.environ.get("CONCORD_TRYTON_LOG_LEVEL", "20"),
    )
    return env


def _registry() -> Path:
    """One file ``<owner pid>-<trytond pid>`` per running server (for reaping)."""
    return Path(tempfile.gettempdir()) / "concord-tryton-pids"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_trytond(pid: int) -> bool:
    try:
        return b"trytond" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _reap_orphans() -> None:
    """Kill the servers of processes that died without stopping them (SIGKILL)."""
    for entry in _registry().glob("*-*"):
        with contextlib.suppress(ValueError):
            owner, pid = (int(x) for x in entry.name.split("-", 1))
            if owner == os.getpid() or _alive(owner):
                continue
            if _is_trytond(pid):  # not a recycled pid
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)
            entry.unlink(missing_ok=True)


def reap(workdir: Path) -> None:
    """Stop a ``trytond`` a killed demo left behind in ``workdir`` (if it still is trytond)."""
    pid_file = workdir / "trytond.pid"
    with contextlib.suppress(OSError, ValueError):
        pid = int(pid_file.read_text())
        if _is_trytond(pid):
            os.killpg(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)


_live: set[TrytonServer] = set()


@atexit.register
def _stop_all() -> None:
    for server in list(_live):
        with contextlib.suppress(Exception):
            server.close()


@dataclass(eq=False)
class TrytonServer:
    """One ``trytond`` on ``workdir/db/concord.sqlite``, in its own process group (a Ctrl-C in
    the terminal reaches the demo or pytest, which then stops it). ``seed`` is what the seed
    returned; ``source_db`` the cached database :meth:`reset_database` copies again."""

    workdir: Path
    password: str
    port: int = field(default_factory=free_port)
    seed: dict[str, Any] = field(default_factory=dict)
    source_db: Path | None = None
    remove_workdir: bool = False
    queue_worker: bool = False
    database: str = DATABASE
    login: str = LOGIN
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _owner_pid: int = field(default_factory=os.getpid, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def db_path(self) -> Path:
        return self.workdir / "db" / f"{self.database}.sqlite"

    @property
    def log_path(self) -> Path:
        return self.workdir / "trytond.log"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def client(self, *, timeout: float = 120.0, attempts: int = 4) -> Rpc:
        """A logged-in client (the connector's ``TrytonRPC``); close it, or use ``with``."""
        return Rpc(self.url, self.database, self.login, self.password, timeout=timeout, attempts=attempts).login()

    def start(self, timeout: float = 60.0) -> Self:
        """Start ``trytond`` on ``db_path`` and ``port`` (again: same file, same port)."""
        if self.running:
            return self
        conf = _write_config(self.workdir, self.password, queue_worker=self.queue_worker)
        with self.log_path.open("ab") as log:
            log.write(f"--- start {dt.datetime.now().isoformat()} port {self.port}\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "trytond.cli", "-c", str(conf), "-d", self.database],
                cwd=self.workdir,
                env=_env(self.port, self.workdir),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        (self.workdir / "trytond.pid").write_text(str(self._proc.pid))
        _registry().mkdir(exist_ok=True)
        (_registry() / f"{os.getpid()}-{self._proc.pid}").write_text(str(self.workdir))
        _live.add(self)
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                raise RuntimeError(f"trytond exited before answering; its log:\n{tail(self.log_path)}")
            try:
                self.client(timeout=10, attempts=1).close()
                return
            except TransientError:  # not listening yet
                time.sleep(0.1)
        raise RuntimeError(f"trytond did not answer within {timeout:.0f} s; its log:\n{tail(self.log_path)}")

    def _end(self, sig: signal.Signals) -> None:
        proc, self._proc = self._proc, None
        if proc is None or os.getpid() != self._owner_pid:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        (self.workdir / "trytond.pid").unlink(missing_ok=True)
        (_registry() / f"{os.getpid()}-{proc.pid}").unlink(missing_ok=True)

    def stop(self) -> None:
        """SIGTERM to the process group, SIGKILL after 10 s; the database stays."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL at once, as a crash would."""
        self._end(signal.SIGKILL)

    def restart(self, timeout: float = 60.0) -> Self:
        self.stop()
        return self.start(timeout)

    def reset_database(self) -> Self:
        """Back to a fresh copy of the cached database: stopped, copied, started (also when
        it was stopped: a shared server is left running)."""
        if self.source_db is None:
            raise RuntimeError("this server has no cached database to reset from")
        self.stop()
        copy_sqlite(self.source_db, self.db_path)
        return self.start()

    def close(self) -> None:
        """Stop, and remove the work directory if it was made for this server."""
        self.stop()
        _live.discard(self)
        if self.remove_workdir and os.getpid() == self._owner_pid:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --------------------------------------------------------------------------- the cache


def copy_sqlite(source: Path, target: Path) -> None:
    """Copy a (possibly live, WAL-mode) SQLite database with the backup API."""
    for suffix in ("", "-wal", "-shm", "-journal"):  # a stale WAL would corrupt the copy
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)


def _cache_copy(source: Path, target: Path) -> None:
    """A copy for the cache, in rollback-journal mode: reading it creates no -wal beside it."""
    copy_sqlite(source, target)
    with contextlib.closing(sqlite3.connect(target)) as db:
        db.execute("PRAGMA journal_mode = DELETE")


def default_cache_root() -> Path:
    """The test suite's and benchmarks' cache root: ``$CONCORD_TEST_CACHE``, else
    ``$XDG_CACHE_HOME/concord-tests`` (``~/.cache/concord-tests``)."""
    if root := os.environ.get("CONCORD_TEST_CACHE", "").strip():
        return Path(root)
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".cache") / "concord-tests"


def cache_dir(root: Path, scale: Scale = SMALL) -> Path:
    """Where the database of this seed code, trytond version, year and scale is cached."""
    here = Path(__file__).parent
    digest = hashlib.sha256(_BUILD_REV.encode())
    for name in _SEED_FILES:
        digest.update((here / name).read_bytes())
    digest.update(repr(MODULES).encode())
    digest.update(str(dt.date.today().year).encode())  # the fiscal years are around today
    digest.update(";".join(f"{d}=={importlib.metadata.version(d)}" for d in DISTRIBUTIONS).encode())
    return root / f"tryton-{importlib.metadata.version('trytond')}-{digest.hexdigest()[:12]}{scale.key}"


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


def _install(work: Path, password: str) -> None:
    conf = _write_config(work, password)
    (work / "db" / f"{DATABASE}.sqlite").touch()  # the sqlite backend does not create it
    with (work / "trytond-admin.log").open("wb") as log:
        done = subprocess.run(
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
                "admin@concord.example",
            ],  # without it: a prompt
            cwd=work,
            env=_env(free_port(), work),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=600,
            check=False,
        )
    if done.returncode:
        raise RuntimeError(f"trytond-admin failed; its log:\n{tail(work / 'trytond-admin.log')}")


def _prune(keep: Path) -> None:
    """Drop cached databases of other seed versions nobody used for 14 days."""
    limit = time.time() - _CACHE_MAX_IDLE.total_seconds()
    for entry in keep.parent.glob("tryton-*"):
        with contextlib.suppress(OSError):
            if entry == keep or entry.suffix == ".lock" or entry.stat().st_mtime >= limit:
                continue
            shutil.rmtree(entry)


def build(root: Path, scale: Scale = SMALL, *, force: bool = False) -> tuple[Path, bool]:
    """The cache directory (built now if missing, see the module's docstring); ``True`` if built."""
    from hub.demo import erp_seed

    target = cache_dir(root, scale)
    if (target / "seed.json").exists() and not force:
        with contextlib.suppress(OSError):
            os.utime(target)  # last use, for _prune
        return target, False
    with _file_lock(target.with_name(target.name + ".lock")):
        if (target / "seed.json").exists() and not force:
            return target, False
        began = time.monotonic()
        work = target.with_name(target.name + ".build")
        out = target.with_name(target.name + ".new")
        for stale in (work, out):  # of a build that was killed (we hold the lock)
            shutil.rmtree(stale, ignore_errors=True)
        password = secrets.token_urlsafe(18)
        _install(work, password)
        installed = time.monotonic() - began
        server = TrytonServer(work, password)
        try:
            server.start()

            def snapshot(setup: dict[str, Any]) -> None:
                _cache_copy(server.db_path, out / "setup.sqlite")
                (out / "setup.json").write_text(json.dumps(setup, indent=1, default=str))

            with server.client() as rpc:
                seed = erp_seed.seed(rpc, after_setup=snapshot)
            if scale.bulk:
                from hub.demo.erp_bulk import bulk

                server.stop()
                server.queue_worker = True  # the bulk processes sales and invoices itself, in batches
                server.start()
                with server.client() as rpc:
                    seed["bulk"] = bulk(rpc, seed, parties=scale.parties, sales=scale.sales)
                server.stop()
                with contextlib.closing(sqlite3.connect(server.db_path)) as db, db:
                    seed["bulk"]["queued_tasks_dropped"] = db.execute(
                        "DELETE FROM ir_queue WHERE dequeued_at IS NULL"
                    ).rowcount
            _cache_copy(server.db_path, out / f"{DATABASE}.sqlite")
        finally:
            server.stop()
        secret = out / "admin.pass"
        secret.touch(mode=0o600)
        secret.write_text(password)
        (out / "seed.json").write_text(json.dumps(seed, indent=1, default=str))
        (out / "build.json").write_text(
            json.dumps(
                {
                    "trytond": importlib.metadata.version("trytond"),
                    "modules": MODULES,
                    "scale": vars(scale),
                    "built_at": dt.datetime.now().isoformat(timespec="seconds"),
                    "install_seconds": round(installed, 1),
                    "total_seconds": round(time.monotonic() - began, 1),
                },
                indent=1,
            )
        )
        shutil.rmtree(target, ignore_errors=True)
        out.rename(target)
        shutil.rmtree(work, ignore_errors=True)  # a failed build keeps it, for its logs
        _prune(target)
        return target, True


def start(
    cache: Path, workdir: Path | None = None, *, source: Path | None = None, setup_only: bool = False
) -> TrytonServer:
    """A running ``trytond`` on a fresh copy of the cached database in ``workdir`` (a
    temporary directory, removed on ``close()``, if omitted): the seeded one, the snapshot
    after the setup (``setup_only``: the demo's story is seeded there), or ``source``."""
    _reap_orphans()
    name = "setup" if setup_only else DATABASE
    remove = workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="concord-tryton-")) if workdir is None else workdir
    reap(workdir)
    seeded = cache / f"{name}.sqlite"
    server = TrytonServer(
        workdir,
        (cache / "admin.pass").read_text().strip(),
        seed=json.loads((cache / f"{'setup' if setup_only else 'seed'}.json").read_text()),
        source_db=seeded,
        remove_workdir=remove,
    )
    copy_sqlite(source or seeded, server.db_path)
    for attempt in range(3):  # the free port may be taken meanwhile
        try:
            return server.start()
        except RuntimeError:
            if attempt == 2 or "Address already in use" not in tail(server.log_path, 15):
                server.close()
                raise
            server.port = free_port()
    raise AssertionError("unreachable")
