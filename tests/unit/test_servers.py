"""Tests of tests/support/servers.py: the real servers the suite runs against.

Run with ``python -m pytest`` from the repository root (as scripts/test.sh
does), so that ``tests.support`` is importable.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from tests.support import servers

REPO = Path(__file__).resolve().parents[2]


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


def _scalar(url: str, sql: str, **params):
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()
    finally:
        engine.dispose()


def test_postgres_create_connect_drop():
    server = servers.postgres_server_url()
    assert server.startswith("postgresql+psycopg://")
    db_url = servers.create_database(server)
    name = make_url(db_url).database
    assert name.startswith(f"hub_test_{os.getpid()}_")

    engine = create_engine(db_url)  # pooled on purpose: drop_database must kick it out
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT current_database()")).scalar() == name
            conn.execute(text("CREATE TABLE t (id int PRIMARY KEY)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
            conn.commit()
        held = engine.connect()  # still open while the database is dropped
        servers.drop_database(db_url)
        held.invalidate()
    finally:
        engine.dispose()

    assert _scalar(server, "SELECT count(*) FROM pg_database WHERE datname = :n", n=name) == 0
    servers.drop_database(db_url)  # dropping again is a no-op


def test_drop_stale_databases_only_drops_dead_owners():
    server = servers.postgres_server_url()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = f"hub_staletest_{dead.pid}_0000"
    live = servers.create_database(server, prefix="hub_staletest")
    engine = create_engine(server, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{stale}"'))
        dropped = servers.drop_stale_databases(server, prefix="hub_staletest")
        assert stale in dropped  # (plus leftovers of crashed runs, if any)
        assert make_url(live).database not in dropped  # its owner (we) still runs
    finally:
        engine.dispose()
        servers.drop_database(make_url(server).set(database=stale).render_as_string(False))
        servers.drop_database(live)


def test_redis_url_works_for_redis_and_kombu():
    import kombu
    import redis

    url = servers.redis_server_url()
    assert url.startswith("redis://")
    client = redis.Redis.from_url(url)
    key = f"hub-test:{uuid.uuid4()}"
    try:
        assert client.ping()
        client.set(key, "1", ex=60)
        assert client.get(key) == b"1"
    finally:
        client.delete(key)
        client.close()

    # The same URL as a Celery/kombu broker: a message round trip.
    queue_name = f"hub-test-{uuid.uuid4()}"
    with kombu.Connection(url, connect_timeout=5) as conn:
        queue = conn.SimpleQueue(queue_name)
        try:
            queue.put({"ok": True})
            message = queue.get(timeout=5)
            assert message.payload == {"ok": True}
            message.ack()
        finally:
            queue.clear()
            queue.close()


def test_env_only_servers(monkeypatch):
    monkeypatch.delenv("HUB_TEST_MYSQL_URL", raising=False)
    monkeypatch.delenv("HUB_TEST_AMQP_URL", raising=False)
    assert servers.mysql_server_url() is None
    assert servers.amqp_server_url() is None
    monkeypatch.setenv("HUB_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
    assert servers.amqp_server_url() == "amqp://guest:guest@127.0.0.1:5672//"


def test_env_postgres_url_is_normalised(monkeypatch):
    monkeypatch.setenv("HUB_TEST_POSTGRES_URL", "postgresql://u@h:1/postgres")
    assert servers.postgres_server_url() == "postgresql+psycopg://u@h:1/postgres"


def test_mysql_create_drop_when_configured():
    server = servers.mysql_server_url()
    if server is None:
        pytest.skip("HUB_TEST_MYSQL_URL not set")
    pytest.importorskip("pymysql")
    db_url = servers.create_database(server)
    name = make_url(db_url).database
    assert _scalar(db_url, "SELECT DATABASE()") == name
    servers.drop_database(db_url)
    assert (
        _scalar(
            server,
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = :n",
            n=name,
        )
        == 0
    )


_CHILD = """
import json, os
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
import redis
from tests.support import servers

pg = servers.postgres_server_url()
db = servers.create_database(pg)
engine = create_engine(db, poolclass=NullPool)
with engine.connect() as conn:
    version = conn.execute(text("SHOW server_version")).scalar()
engine.dispose()
servers.drop_database(db)
rd = servers.redis_server_url()
assert redis.Redis.from_url(rd).ping()
print(json.dumps({
    "pg": pg, "redis": rd, "version": version, "times": servers.start_times,
    "dirs": [str(servers._postgres.root), str(servers._redis.root)],
}))
"""


def test_embedded_servers_start_and_are_removed_at_exit():
    """With no HUB_TEST_* URLs, a process gets embedded servers and cleans them up."""
    env = {k: v for k, v in os.environ.items() if k not in ("HUB_TEST_POSTGRES_URL", "HUB_TEST_REDIS_URL")}
    result = subprocess.run(
        [sys.executable, "-c", _CHILD],
        check=False,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout.strip().splitlines()[-1])
    print("embedded start times (s):", info["times"], "postgres", info["version"])

    pg, rd = make_url(info["pg"]), make_url(info["redis"])
    assert (pg.host, pg.username, pg.database) == ("127.0.0.1", "postgres", "postgres")
    assert rd.host == "127.0.0.1"
    # atexit stopped both servers and removed their directories
    assert not _port_open("127.0.0.1", pg.port)
    assert not _port_open("127.0.0.1", rd.port)
    for path in info["dirs"]:
        assert not os.path.exists(path), path
