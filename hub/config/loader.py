"""The YAML loader lives with the connectors (``connectors.config``), which read their own
service, table and file layouts with it and may import nothing from the hub; the hub's
mappings use the same loader through this name."""

from connectors.config import (
    MAX_ALIAS_EXPANSION,
    ConfigError,
    line_of,
    load_model,
    parse_yaml,
    read_yaml,
)

__all__ = ["MAX_ALIAS_EXPANSION", "ConfigError", "line_of", "load_model", "parse_yaml", "read_yaml"]
