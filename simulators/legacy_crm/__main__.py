"""``python -m simulators.legacy_crm --port N [--shape sugar|nav] [--user U --password P]``"""

from __future__ import annotations

import argparse

from simulators.legacy_crm.app import SHAPES
from simulators.legacy_crm.demo import demo_store
from simulators.legacy_crm.server import make


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m simulators.legacy_crm", description=__doc__)
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--shape", choices=SHAPES, action="append", help="serve only this shape (repeatable)")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default="admin")
    args = parser.parse_args()
    store = demo_store()
    store.users = {args.user: args.password}
    shapes = args.shape or SHAPES
    server = make(store, args.port, shapes, quiet=False)
    port = server.server_address[1]
    for shape in shapes:
        print(f"legacy CRM ({shape}): http://127.0.0.1:{port}/{shape}?wsdl", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
