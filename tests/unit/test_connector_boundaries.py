"""A third-party connector needs only ``connectors/``: no module under it imports the hub.

Checked on the source with ``ast`` (imports inside functions too), so a lazy
``from hub.settings import get_settings`` in a helper fails here, not in a stranger's install."""

from __future__ import annotations

import ast
from pathlib import Path

CONNECTORS = Path(__file__).resolve().parents[2] / "connectors"


def _hub_imports(path: Path, root: Path = CONNECTORS.parent) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [
            f"{path.relative_to(root)}:{node.lineno}: imports {name}"
            for name in names
            if name == "hub" or name.startswith("hub.")
        ]
    return found


def test_no_module_under_connectors_imports_the_hub() -> None:
    modules = sorted(CONNECTORS.rglob("*.py"))
    assert len(modules) > 20  # the walk found the package
    offending = [line for path in modules for line in _hub_imports(path)]
    assert offending == []


def test_the_checker_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text("import hubris\ndef f():\n    from hub.settings import get_settings\n    import hub\n")
    assert _hub_imports(module, tmp_path) == [
        "probe.py:3: imports hub.settings",
        "probe.py:4: imports hub",
    ]
