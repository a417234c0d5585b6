"""``hub demo [--port N] [--no-serve]`` (registered in ``hub/cli.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def demo_command(
    port: Annotated[int, typer.Option(help="Port the hub's pages and API listen on (127.0.0.1).")] = 8000,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="--no-serve: stop once everything is ready.")
    ] = True,
    var: Annotated[Path, typer.Option(help="Where the demo keeps its database, Tryton and cache.")] = Path("var/demo"),
    cache: Annotated[
        Path | None, typer.Option(help="Where Tryton's built database is cached (default: VAR/cache).")
    ] = None,
) -> None:
    """Start a real Tryton ERP, the SOAP legacy CRM and the finance system with a story in
    them; connect and sync the hub; serve its pages. Ctrl-C stops everything."""
    from hub.demo.run import run_demo
    from hub.settings import SETTINGS_FILE

    ready = run_demo(var, port=port, serve=serve, tryton_cache=cache, settings_file=SETTINGS_FILE)
    if not serve and ready.problems:
        raise typer.Exit(1)
