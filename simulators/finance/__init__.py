"""A finance system to test against: a faithful subset of the Xero Accounting API on loopback.

``FinanceServer`` (``server.py``) serves ``Books`` (``books.py``, the in-memory ledger and its
rules); ``seed_demo`` (``seed.py``) fills a small demo organisation. ``python -m
simulators.finance --port 8091`` runs it with the demo data and prints the credentials.
"""

from simulators.finance.books import Books, ValidationFailed
from simulators.finance.seed import seed_demo
from simulators.finance.server import FinanceServer

__all__ = ["Books", "FinanceServer", "ValidationFailed", "seed_demo"]
