"""What a file-drop connection takes (checked at ``hub connections add``)."""

from __future__ import annotations

from pydantic import Field

from connectors.settings import ConnectorSecrets, ConnectorSettings


class FileDropSettings(ConnectorSettings):
    inbox: str = Field(
        min_length=1,
        description="The folder files are dropped in (done/, failed/ and duplicates/ are made inside it).",
    )
    files: str = Field(
        "crm",
        min_length=1,
        description="The layout: a name under mappings/files/ or a path to a YAML file.",
    )
    page_size: int = Field(1000, ge=1, le=100_000, description="Rows per page.")
    settle_seconds: float = Field(
        5.0,
        ge=0,
        description="A file younger than this may still be being copied: it waits for the next run.",
    )


class FileDropSecrets(ConnectorSecrets):
    """A file drop has no secrets."""
