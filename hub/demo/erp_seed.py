"""The one seed of a Tryton for the demo, the test suite and the benchmarks, in three layers:

1. ``erp_setup.setup``: company, chart of accounts, fiscal years, payment term, products with
   stock -- what any use needs. ``erp.build`` keeps a snapshot right after it: the demo's
   story (``story.seed_erp``, dated relative to today, so seeded per day) starts from it.
2. ``erp_scenario.scenario``: five customers and three sales at known stages, dated today --
   the data the tests read back (``seed.json``).
3. ``erp_bulk.bulk``: the :class:`Scale` -- ``parties`` and ``sales`` more, for benchmarks.

``erp.build(root, scale)`` runs them once per seed code, trytond version, year and scale and
caches the database; every start copies it. ``python -m hub.demo.erp_seed [--parties N
--sales M] [--root DIR] [--force]`` builds a cache ahead of time.

Queued tasks (``sale.process`` after ``confirm`` or a shipment's ``do``) fail silently: their
errors go to ``ir.error`` only, so the seed checks that table is empty at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.demo.erp_rpc import Rpc


@dataclass(frozen=True)
class Scale:
    """How much data beyond the scenario: none for the tests and the demo, thousands for the
    benchmarks (each scale is cached apart)."""

    parties: int = 0
    sales: int = 0

    @property
    def bulk(self) -> bool:
        return bool(self.parties or self.sales)

    @property
    def key(self) -> str:
        """The cache directory's suffix ("" for the small seed)."""
        return f"-p{self.parties}-s{self.sales}" if self.bulk else ""


SMALL = Scale()


def seed(
    rpc: Rpc, *, today: dt.date | None = None, after_setup: Callable[[dict[str, Any]], None] | None = None
) -> dict[str, Any]:
    """Layers 1 and 2 on a database where only the modules are installed; returns what they
    created (``seed.json``). ``after_setup`` sees the setup's ids before the scenario runs
    (``erp.build`` snapshots the database there). The bulk layer runs apart (``erp.build``
    parks the queue for it)."""
    from hub.demo.erp_scenario import scenario
    from hub.demo.erp_setup import setup

    today = today or dt.date.today()
    began = time.monotonic()
    base = setup(rpc, today)
    check_no_task_errors(rpc)
    if after_setup is not None:
        after_setup(base)
    result = {**base, **scenario(rpc, base, today)}
    check_no_task_errors(rpc)
    result["seconds"] = round(time.monotonic() - began, 2)
    return result


def check_no_task_errors(rpc: Rpc) -> None:
    """Queued tasks (sale/invoice processing) fail silently: their errors go to ``ir.error``."""
    if errors := rpc.search_read("ir.error", [], ["origin", "message"]):
        raise RuntimeError(f"Tryton's queued tasks failed: {errors!r}")


def main(argv: Sequence[str] | None = None) -> int:
    from hub.demo import erp

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parties", type=int, default=0, help="bulk parties (e.g. 2000)")
    parser.add_argument("--sales", type=int, default=0, help="bulk sales (e.g. 5000)")
    parser.add_argument("--root", type=Path, default=None, help="cache root (default: the test suite's)")
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    args = parser.parse_args(argv)
    began = time.monotonic()
    path, _built = erp.build(args.root or erp.default_cache_root(), Scale(args.parties, args.sales), force=args.force)
    print(f"{path} ({time.monotonic() - began:.1f} s)")
    print((path / "build.json").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
