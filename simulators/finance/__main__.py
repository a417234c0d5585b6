"""``python -m simulators.finance [--port N] [--client-id ID] [--client-secret S] [--empty]``."""

from __future__ import annotations

import argparse
import time

from simulators.finance import FinanceServer, seed_demo


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m simulators.finance", description=__doc__)
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--client-id", default="concord-demo")
    parser.add_argument("--client-secret", help="default: a random secret, printed at start")
    parser.add_argument("--tenant-id")
    parser.add_argument("--empty", action="store_true", help="start without the demo data")
    args = parser.parse_args()
    server = FinanceServer(
        port=args.port, client_id=args.client_id, client_secret=args.client_secret, tenant_id=args.tenant_id
    )
    if not args.empty:
        seed_demo(server.books)
    with server:
        print(f"finance simulator (Xero Accounting API subset) on {server.url}/api.xro/2.0/")
        print(
            f"  hub connections add finance --kind accounting -s url={server.url} "
            f"-s tenant_id={server.tenant_id} --secret client_id={server.client_id} "
            f"--secret client_secret={server.client_secret}",
            flush=True,
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
