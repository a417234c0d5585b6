"""What an accounting (Xero-shaped) connection takes (checked at ``hub connections add``)."""

from __future__ import annotations

from pydantic import Field, model_validator

from connectors.settings import ConnectorSecrets, ConnectorSettings, Seconds


class AccountingSettings(ConnectorSettings):
    base_url: str = Field(min_length=1, description="The API host; /api.xro/2.0/ is appended.")
    token_url: str | None = Field(
        None,
        description="The OAuth2 token endpoint (default {base_url}/connect/token; "
        "Xero's is https://identity.xero.com/connect/token).",
    )
    tenant_id: str | None = Field(None, description="The organisation, sent as Xero-tenant-id.")
    scope: str | None = Field(None, description="OAuth2 scopes asked for with the token.")
    page_size: int = Field(100, ge=1, le=1000, description="Records per page (the API takes 1-1000).")
    timeout: Seconds = Field(30.0, description="Seconds per request.")
    retries: int = Field(
        3,
        ge=0,
        le=20,
        description="How often a failed call (unreachable, 429, 5xx) is repeated, waiting what Retry-After says.",
    )
    sales_account: str = Field("200", min_length=1, description="Account code of the invoice lines written.")
    bank_account: str = Field("090", min_length=1, description="Account code of the payments written.")


class AccountingSecrets(ConnectorSecrets):
    client_id: str | None = Field(None, repr=False, description="OAuth2 client id (with client_secret).")
    client_secret: str | None = Field(None, repr=False, description="OAuth2 client secret (with client_id).")
    access_token: str | None = Field(
        None,
        repr=False,
        description="A fixed bearer token instead of the "
        "client credentials (not renewed: once refused, set a fresh one).",
    )

    @model_validator(mode="after")
    def _credentials(self) -> AccountingSecrets:
        if not (self.client_id and self.client_secret) and not self.access_token:
            raise ValueError("client_id and client_secret (or access_token) required")
        return self
