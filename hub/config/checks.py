"""``hub mappings check``: load every mapping the hub knows and report every problem."""

from __future__ import annotations

from pathlib import Path

from hub.config.loader import ConfigError, load_model


def check_all(mappings_dir: Path) -> list[str]:
    """One line per problem, each naming file, line and field; empty when all is well."""
    from connectors.filedrop.layout import FileLayout
    from connectors.soap.service import SoapService
    from connectors.sql.tables import SqlTables
    from hub.master.rules import MatchRules, SurvivorshipRules
    from hub.sync.imports import ImportMapping
    from hub.sync.mapping import ConnectorMap

    targets: list[tuple[Path, type]] = [
        (mappings_dir / "matching.yaml", MatchRules),
        (mappings_dir / "survivorship.yaml", SurvivorshipRules),
    ]
    targets += [(p, ImportMapping) for p in sorted((mappings_dir / "imports" / "customers").glob("*.yaml"))]
    targets += [(p, ConnectorMap) for p in sorted((mappings_dir / "connectors").glob("*.yaml"))]
    for folder, model in (("soap", SoapService), ("sql", SqlTables), ("files", FileLayout)):
        targets += [(p, model) for p in sorted((mappings_dir / folder).glob("*.yaml"))]
    problems: list[str] = []
    for path, model in targets:
        if not path.exists():
            problems.append(f"{path}: missing")
            continue
        try:
            load_model(path, model)
        except ConfigError as exc:
            problems.extend(str(exc).splitlines())
    from hub.receivables.pipeline import check_files

    return problems + check_files(mappings_dir)
