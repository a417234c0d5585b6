"""Workers that die or race: a sync on real Celery workers (Redis broker, PostgreSQL hub)
reading the legacy CRM over SOAP, killed with SIGKILL mid-run again and again, or started
twice at once — every record of the CRM ends up in the hub exactly once.

The workers run with a 1.5 s stream lease and a 2 s broker visibility timeout
(``tests.support.faults.crash_prone_worker``) instead of production's 10 min / 1 h, so the
take-over a crash leads to happens within the test; nothing else differs.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from celery import Celery
from sqlalchemy import func, select

from hub.db import session_scope
from hub.documents.models import Order, OrderLine
from hub.master.models import CustomerSource, MatchDecision
from hub.sync.models import DeadLetter, Link, SyncCursor, SyncRun
from simulators.legacy_crm import CrmStore
from tests.support import servers
from tests.support.faults import crash_prone_worker, kill_hard, slow_crm
from tests.support.legacy_crm import KEY, add_crm_connection, crm_store
from tests.support.workers import wait_for

LEASE_S, VISIBILITY_S = 1.5, 2.0
ACCOUNTS, ORDERS = 100, 20  # each order has 2 lines in crm_store


def _env(url: str, mappings_dir: Path, queue: str) -> dict[str, str]:
    return {
        "HUB_BROKER_URL": servers.redis_server_url(),
        "HUB_DATABASE_URL": url,
        "HUB_MAPPINGS_DIR": str(mappings_dir),
        "HUB_TASK_QUEUE": f"{queue}-{os.getpid()}-{time.time_ns()}",
        "HUB_SECRET_KEY": KEY,
    }


def _count(url: str, model: type, *where: object) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _links(url: str, entity: str) -> int:
    return _count(url, Link, Link.system == "crm", Link.entity_type == entity)


def _all_in_once(url: str, store: CrmStore) -> None:
    """Every CRM record exactly once in the hub, nothing failed, cursors at the CRM's newest
    change, no lease left behind."""
    assert _links(url, "customer") == _count(url, CustomerSource) == ACCOUNTS
    assert _count(url, MatchDecision) == ACCOUNTS  # each account matched once, never re-created
    assert _links(url, "order") == _count(url, Order) == ORDERS
    assert _links(url, "order_line") == _count(url, OrderLine) == 2 * ORDERS
    assert _count(url, DeadLetter) == 0
    with session_scope(url) as session:
        cursors = {c.stream: c for c in session.scalars(select(SyncCursor))}
    for stream, table in (("customers", "accounts"), ("orders", "orders")):
        newest = max(r["date_modified"] for r in store.select(table))
        assert cursors[stream].value and cursors[stream].value.startswith(newest.isoformat()), (
            stream,
            cursors[stream].value,
        )
    assert all(c.locked_by is None for c in cursors.values())


def _finished(url: str) -> bool:
    """The last stream of a sync is done and no stream is leased."""
    with session_scope(url) as session:
        done = session.scalar(
            select(func.count()).select_from(SyncRun).where(SyncRun.stream == "orders", SyncRun.status == "done")
        )
        leased = session.scalar(select(func.count()).select_from(SyncCursor).where(SyncCursor.locked_by.is_not(None)))
    return bool(done) and not leased


@pytest.mark.postgres
def test_a_worker_killed_mid_sync_again_and_again_loses_and_duplicates_nothing(
    postgres_url: str, mappings_dir: Path
) -> None:
    store = crm_store(accounts=ACCOUNTS, orders=ORDERS)
    env = _env(postgres_url, mappings_dir, "hub-kill")
    with slow_crm(store, delay=0.05) as crm:
        add_crm_connection(postgres_url, "crm", "sugar", crm, mappings_dir, page_size=5)
        Celery(broker=env["HUB_BROKER_URL"]).send_task("hub.sync", args=["crm"], queue=env["HUB_TASK_QUEUE"])
        # Sugar pages by offset, so the stream is not `ordered`: its cursor moves only at the
        # end of a run, and each new run reads from the start — committed pages are unchanged.
        for reached in (20, 45, 70):  # customers linked when the worker is killed
            with crash_prone_worker(env, LEASE_S, VISIBILITY_S) as worker:
                wait_for(lambda n=reached: _links(postgres_url, "customer") >= n, worker, seconds=60)
                kill_hard(worker)  # SIGKILL mid-page: its transaction is lost, its lease stays
            assert _links(postgres_url, "customer") < ACCOUNTS, "killed after the run, not during it"
            time.sleep(LEASE_S)  # the dead worker's lease runs out
        with crash_prone_worker(env, LEASE_S, VISIBILITY_S) as worker:  # the task comes back to it
            wait_for(lambda: _finished(postgres_url), worker, seconds=90)
    _all_in_once(postgres_url, store)
    # the runs the kills cut short say so: the next run to take the stream marked them failed
    killed = _count(
        postgres_url,
        SyncRun,
        SyncRun.stream == "customers",
        SyncRun.status == "failed",
        SyncRun.error.like("interrupted:%"),
    )
    assert killed == 3
    assert _count(postgres_url, SyncRun, SyncRun.status == "running") == 0


@pytest.mark.postgres
def test_two_workers_syncing_one_connection_at_once_let_one_through(postgres_url: str, mappings_dir: Path) -> None:
    store = crm_store(accounts=ACCOUNTS, orders=ORDERS)
    env = _env(postgres_url, mappings_dir, "hub-race")
    with slow_crm(store, delay=0.1) as crm:  # a run of ~2 s: both workers are up before it ends
        add_crm_connection(postgres_url, "crm", "sugar", crm, mappings_dir, page_size=10)
        broker = Celery(broker=env["HUB_BROKER_URL"])
        for _ in range(2):  # beat and an operator asking at the same moment
            broker.send_task("hub.sync", args=["crm"], kwargs={"streams": ["customers"]}, queue=env["HUB_TASK_QUEUE"])
        with crash_prone_worker(env, 30, 60) as first, crash_prone_worker(env, 30, 60) as second:

            def both_tried() -> bool:
                with session_scope(postgres_url) as session:
                    done = session.scalar(select(SyncRun.status).where(SyncRun.stream == "customers")) == "done"
                return done and _links(postgres_url, "customer") == ACCOUNTS

            wait_for(both_tried, first, seconds=60)
            time.sleep(1)  # the loser reported already (it never got past the lease)
            kill_hard(first)
            kill_hard(second)
            output = (first.stdout.read() if first.stdout else "") + (second.stdout.read() if second.stdout else "")
    assert output.count("SyncBusy") >= 1 and "is being synced by another run" in output, output
    with session_scope(postgres_url) as session:
        runs = session.execute(select(SyncRun.stream, SyncRun.status)).all()
    assert runs == [("customers", "done")]  # one run; the other never started one
    assert _links(postgres_url, "customer") == _count(postgres_url, CustomerSource) == ACCOUNTS
    assert _count(postgres_url, MatchDecision) == ACCOUNTS
