"""The code's own rules, checked over hub/ and connectors/ by reading the source (ast).

1. ``links`` has one owner, the Binder (hub/sync/links.py): no other module imports the
   ``Link`` model or writes SQL text against the table. Six modules that queried it on their
   own were how "unchanged" came to mean different things on different paths.
2. No module imports a ``_private`` name of a module in another package (``from X import _n``
   or ``X._n``): what a package shares is public, so a private helper can change without
   breaking a caller it never knew about. Inside one package it is fine.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("hub", "connectors")
#: The Binder, the model's definition, and the registry of every model (Alembic's metadata).
LINK_OWNERS = {"hub/sync/links.py", "hub/sync/models.py", "hub/models.py"}
LINK_MODEL_HOMES = {"hub.sync.models", "hub.models"}
#: SQL text naming the table: ``FROM links``, ``JOIN links``, ``UPDATE links``, ``INTO links``.
LINKS_SQL = re.compile(r"\b(from|join|update|into|table)\s+\"?links\b", re.IGNORECASE)


def _sources() -> Iterator[tuple[str, str, ast.Module]]:
    """(path relative to the repository, dotted module name, parsed tree) of every module."""
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith("hub/migrations/"):  # DDL history, not queries
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield relative, ".".join(parts), ast.parse(path.read_text(encoding="utf-8"), relative)


def _package(module: str, path: str) -> str:
    """The package a module belongs to: itself for an ``__init__.py``, else its parent."""
    return module if path.endswith("__init__.py") else module.rpartition(".")[0]


def _absolute(node: ast.ImportFrom, package: str) -> str:
    """The module a ``from … import`` reads from, relative imports resolved."""
    if not node.level:
        return node.module or ""
    base = package.split(".")
    if node.level > 1:
        base = base[: -(node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _link_uses(path: str, module: str, tree: ast.Module) -> list[str]:
    found = []
    package = _package(module, path)
    modules: dict[str, str] = {}  # local name → module it is
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = _absolute(node, package)
            for alias in node.names:
                if source in LINK_MODEL_HOMES and alias.name == "Link":
                    found.append(f"{path}:{node.lineno}: imports the Link model from {source}")
                modules[alias.asname or alias.name] = f"{source}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                modules[alias.asname or alias.name] = alias.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "Link":
            base = _dotted(node.value, modules)
            if base in LINK_MODEL_HOMES:
                found.append(f"{path}:{node.lineno}: uses {base}.Link")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and LINKS_SQL.search(node.value):
            found.append(f"{path}:{node.lineno}: SQL text on the links table: {node.value.strip()[:80]!r}")
    return found


def _dotted(node: ast.expr, modules: dict[str, str]) -> str | None:
    """``a.b.c`` with ``a`` resolved through the module's imports, or None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in modules:
        return None
    return ".".join([modules[node.id], *reversed(parts)])


def _private_imports(path: str, module: str, tree: ast.Module, known: set[str]) -> list[str]:
    found = []
    package = _package(module, path)
    modules: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = _absolute(node, package)
            for alias in node.names:
                full = f"{source}.{alias.name}"
                if _is_private(alias.name) and source in known and _owner(source, known) != package:
                    found.append(f"{path}:{node.lineno}: from {source} import {alias.name}")
                if full in known:  # a module imported by name: ``from hub.sync import cli``
                    modules[alias.asname or alias.name] = full
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    modules[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    modules[top] = top
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _is_private(node.attr):
            base = _dotted(node.value, modules)
            if base in known and _owner(base, known) != package:
                found.append(f"{path}:{node.lineno}: {base}.{node.attr}")
    return found


def _owner(module: str, known: set[str]) -> str:
    """The package of a module named by its dotted name (a package is its own)."""
    return module if f"{module}.__init__" in known else module.rpartition(".")[0]


def test_nobody_but_the_binder_selects_from_or_writes_to_links() -> None:
    found = [
        hit for path, module, tree in _sources() if path not in LINK_OWNERS for hit in _link_uses(path, module, tree)
    ]
    assert not found, "links is read and written only through hub.sync.links (the Binder):\n" + "\n".join(found)


def test_no_private_name_is_imported_across_packages() -> None:
    sources = list(_sources())
    known = {module for _path, module, _tree in sources}
    known |= {f"{module}.__init__" for path, module, _tree in sources if path.endswith("__init__.py")}
    found = [hit for path, module, tree in sources for hit in _private_imports(path, module, tree, known)]
    assert not found, "a private name used from another package (make it public, or move it):\n" + "\n".join(found)


def test_the_checks_see_what_they_look_for() -> None:
    """The rules above find what they forbid (a checker that finds nothing proves nothing)."""
    bad = ast.parse(
        "from hub.sync.models import Link\n"
        "import hub.models as m\n"
        "from hub.api.routers import connections\n"
        "from hub.api.routers.connections import _engine\n"
        "m.Link\n"
        "connections._engine\n"
        "q = 'UPDATE links SET hub_id = 1'\n"
    )
    known = {
        "hub.sync.models",
        "hub.models",
        "hub.api.routers.connections",
        "hub.api.routers",
        "hub.api.routers.__init__",
        "hub.web.it",
    }
    assert len(_link_uses("hub/web/it.py", "hub.web.it", bad)) == 3
    assert len(_private_imports("hub/web/it.py", "hub.web.it", bad, known)) == 2
    same_package = ast.parse("from hub.api.routers.connections import _engine\n")
    assert not _private_imports("hub/api/routers/outbox.py", "hub.api.routers.outbox", same_package, known)
