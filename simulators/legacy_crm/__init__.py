"""A legacy CRM that speaks SOAP 1.1 with a WSDL, in two shapes over one in-memory store:
a generic one like SugarCRM's v4_1 API and a typed one like Dynamics NAV page web services.

    from simulators.legacy_crm import CrmStore, serve
    store = CrmStore(users={"admin": "secret"})
    store.seed(accounts=[{"name": "Müller GmbH", "vat_id_c": "DE136695976"}])
    with serve(store) as crm:          # crm.sugar_wsdl, crm.nav_wsdl
        ...
    store.misbehave("xxe", operation="get_entry_list")   # the next such call answers with XXE

``python -m simulators.legacy_crm --port 8089 [--shape sugar|nav]`` serves the demo data.
"""

from simulators.legacy_crm.demo import demo_seed, demo_store
from simulators.legacy_crm.server import RunningCrm, serve
from simulators.legacy_crm.store import CrmStore, Misbehaviour, StoreError

__all__ = ["CrmStore", "Misbehaviour", "RunningCrm", "StoreError", "demo_seed", "demo_store", "serve"]
