"""What a SOAP connection takes (checked at ``hub connections add``)."""

from __future__ import annotations

from pydantic import Field

from connectors.settings import ConnectorSecrets, ConnectorSettings, Seconds


class SoapSettings(ConnectorSettings):
    service: str = Field(
        min_length=1,
        description="The service file: a name under mappings/soap/ or a path "
        "to a YAML file (operations, parameters, where records and the next page sit).",
    )
    wsdl: str | None = Field(
        None,
        description="The WSDL's address, overriding the service file's; a relative path is the mappings folder's.",
    )
    page_size: int = Field(100, ge=1, le=10_000, description="Records per page asked for.")
    timeout: Seconds = Field(30.0, description="Seconds per request.")
    retries: int = Field(
        3,
        ge=0,
        le=20,
        description="How often a failed call (unreachable, 429, 5xx without a "
        "SOAP fault) is repeated, with backoff or the server's Retry-After.",
    )


class SoapSecrets(ConnectorSecrets):
    username: str | None = Field(None, description="The user the service logs in (or signs WS-Security) as.")
    password: str | None = Field(None, repr=False, description="That user's password.")
