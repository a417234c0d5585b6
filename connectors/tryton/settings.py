"""What a Tryton connection takes (checked at ``hub connections add``)."""

from __future__ import annotations

from pydantic import Field

from connectors.settings import ConnectorSecrets, ConnectorSettings, Seconds


class TrytonSettings(ConnectorSettings):
    base_url: str = Field(min_length=1, description="Tryton's address, e.g. http://erp.example:8000/.")
    database: str = Field(min_length=1, description="The Tryton database to log in to.")
    login: str = Field("admin", min_length=1, description="The Tryton user the hub logs in as.")
    page_size: int = Field(200, ge=1, le=10_000, description="Records per search.")
    timeout: Seconds = Field(60.0, description="Seconds per request.")
    retries: int = Field(
        3,
        ge=0,
        le=20,
        description="How often a failed call (unreachable, 429, 5xx) is "
        "repeated, with backoff or the server's Retry-After.",
    )


class TrytonSecrets(ConnectorSecrets):
    password: str = Field(min_length=1, repr=False, description="The Tryton user's password.")
