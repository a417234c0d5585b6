"""What a webhook connection takes (checked at ``hub connections add``)."""

from __future__ import annotations

from pydantic import Field

from connectors.settings import ConnectorSecrets, ConnectorSettings, Names, Seconds


class WebhookSettings(ConnectorSettings):
    base_url: str = Field(min_length=1, description="Where the records are POSTed.")
    timeout: Seconds = Field(10.0, description="Seconds per POST.")
    retries: int = Field(
        2,
        ge=0,
        le=20,
        description="How often a POST that failed (unreachable, 429, 5xx) "
        "is repeated at once; the outbox retries later beyond that.",
    )
    streams: Names | None = Field(
        None,
        description="The streams offered (default: customers, orders, shipments, "
        "invoices, payments); each named after the hub entity it takes.",
    )


class WebhookSecrets(ConnectorSecrets):
    signing_secret: str = Field(
        min_length=1,
        repr=False,
        description="Key of the HMAC-SHA256 signature the receiver checks (connectors.signing.verify).",
    )
