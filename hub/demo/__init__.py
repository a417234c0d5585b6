"""``hub demo``: the hub between a real Tryton ERP, the SOAP legacy CRM and the finance system.

``systems.py`` starts and stops the three systems on loopback, ``erp.py`` is the real Tryton
(its database built once and cached under ``var/demo/``), ``erp_setup.py`` the company,
accounts and products a fresh Tryton needs, ``story.py`` what the systems hold (customers
spelled differently in each, orders at every stage, a late stage payment) and ``run.py``
wires the hub to them, syncs, dispatches, scans and serves.
"""
