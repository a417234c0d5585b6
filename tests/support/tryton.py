"""The test suite's Tryton: the product's own runner, seed and client (``hub/demo/erp*.py``).

One ``trytond`` serves the whole run: the session fixture ``tryton_server`` (registered in
``tests/conftest.py``) starts it at first use from the cached seeded database (the cache is
built once per machine and seed version, ~40 s; ``$CONCORD_TEST_CACHE`` or
``~/.cache/concord-tests``, the same cache the demo's test uses) and stops it at the end::

    def test_something(tryton_server):                 # a running TrytonServer
        tryton_server.reset_database()                 # only if the test needs the pristine seed
        with tryton_server.client() as client:         # the product's Rpc (TrytonRPC)
            sale_id = tryton_server.seed["sales"]["partial"]["id"]
            [sale] = client.read("sale.sale", [sale_id], ["number", "state"])

``tryton_server.url``, ``.database``, ``.login``, ``.password`` are what a connection needs;
``.seed`` is ``seed.json`` (``hub/demo/erp_setup.py`` and ``erp_scenario.py`` describe it).
Isolation: a test either works on records of its own (distinct names and references), or
calls ``reset_database()`` first (stop, fresh copy, start: ~2-3 s). A test that stops or
kills the server starts it again; the ``tryton_server`` fixture also starts a stopped one.

The client is :class:`hub.demo.erp_rpc.Rpc`, a subclass of the connector's ``TrytonRPC``,
so its sessions and its "log in again once on 401" are the product's. Notes (verified on
8.2): a session is stored in the database (it survives a restart, not a reset); booleans
read from SQLite come back as ``0``/``1``; dates are naive, ``create_date``/``write_date``
UTC; work queued by a request (``sale.process``) runs right after it in the same server, and
if it fails the caller gets no error (only ``ir.error`` and the server log at INFO).

Benchmarks: ``start_tryton(parties=2000, sales=5000)`` (the seed's scale, cached apart).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.demo import erp
from hub.demo.erp import DATABASE, MODULES, TrytonServer, default_cache_root
from hub.demo.erp_rpc import Rpc, TrytonError
from hub.demo.erp_seed import Scale

__all__ = [
    "ADMIN_LOGIN",
    "DATABASE",
    "MODULES",
    "SKIP_REASON",
    "TrytonClient",
    "TrytonError",
    "TrytonServer",
    "build_cache",
    "cache_dir",
    "start_tryton",
    "tryton_server_fixture",
    "trytond_available",
]

ADMIN_LOGIN = erp.LOGIN
SKIP_REASON = "trytond is not installed (pip install -e '.[tryton]', which the 'test' extra includes)"
TrytonClient = Rpc  # the product's client; the old name keeps the tests' type hints short
trytond_available = erp.available
_cache_root = default_cache_root


def cache_dir(parties: int | None = None, sales: int | None = None) -> Path:
    """Where the seeded database of this seed version and scale is cached."""
    return erp.cache_dir(default_cache_root(), Scale(parties or 0, sales or 0))


def build_cache(parties: int | None = None, sales: int | None = None, *, force: bool = False) -> Path:
    return erp.build(default_cache_root(), Scale(parties or 0, sales or 0), force=force)[0]


def start_tryton(workdir: Path | None = None, *, parties: int | None = None, sales: int | None = None) -> TrytonServer:
    """A running server on a fresh copy of the cached database (built first if missing);
    a context manager that stops it (and removes a temporary ``workdir``)."""
    if not trytond_available():
        raise RuntimeError(SKIP_REASON)
    return erp.start(build_cache(parties, sales), workdir)


@pytest.fixture(scope="session", name="tryton_server")
def tryton_server_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrytonServer]:
    """The one Tryton of the run, started at first use. A test module's own fixture may hand
    it on as ``tryton_server.start()`` (running again if an earlier test stopped it)."""
    if not trytond_available():
        pytest.skip(SKIP_REASON)
    with start_tryton(tmp_path_factory.mktemp("tryton")) as server:
        yield server
