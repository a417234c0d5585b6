"""Where notifications go out: SMTP server and webhook secret (``HUB_`` environment)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class NotifySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUB_", env_file=".env", extra="ignore")

    smtp_url: str | None = Field(
        default=None,
        description="smtp://[user:password@]host[:port][?starttls=true] or smtps://…; unset: no e-mail is sent "
        "(deliveries stay pending, nothing is lost).",
    )
    mail_from: str = Field(default="concord-hub@localhost", description="Sender of notification e-mails.")
    webhook_secret: SecretStr | None = Field(
        default=None, description="Key of the webhooks' HMAC-SHA256 signature; unset: webhooks stay pending."
    )
    notify_timeout: float = Field(default=10.0, description="Seconds per SMTP or webhook attempt.")
