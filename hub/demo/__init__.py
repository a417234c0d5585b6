"""``hub demo``: the hub between a real Tryton ERP, the SOAP legacy CRM and the finance system.

``systems.py`` starts and stops the three systems on loopback, ``erp.py`` is the real Tryton
(its database built once and cached under ``var/demo/``; the test suite and the benchmarks
run their Tryton with it too), ``erp_seed.py`` the one seed (``erp_setup.py`` the company,
accounts and products a fresh Tryton needs, ``erp_scenario.py`` the tests' customers and
sales, ``erp_bulk.py`` the benchmarks' scale), ``erp_rpc.py`` its client (the connector's
``TrytonRPC``), ``story.py`` what the systems hold (customers
spelled differently in each, orders at every stage, a late stage payment) and ``run.py``
wires the hub to them, syncs, dispatches, scans and serves.
"""
