"""What an SQL (legacy database) connection takes (checked at ``hub connections add``)."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from connectors.settings import ConnectorSecrets, ConnectorSettings


class SqlSettings(ConnectorSettings):
    # ``url`` stays the name here: it is a database URL (SQLAlchemy), not an HTTP base URL
    url: str = Field(
        min_length=1,
        description="The database, as an SQLAlchemy URL without the password (e.g. mysql+pymysql://crm@db/crm).",
    )
    tables: str = Field(min_length=1, description="The tables: a name under mappings/sql/ or a path to a YAML file.")
    timezone: str = Field("UTC", description="The zone the database's naive date-times are local to.")
    page_size: int = Field(500, ge=1, le=100_000, description="Rows per page.")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(value)
        except ArgumentError:
            raise ValueError("not an SQLAlchemy URL (dialect+driver://user@host/database)") from None
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as Europe/Berlin)") from None
        return value


class SqlSecrets(ConnectorSecrets):
    password: str | None = Field(
        None,
        repr=False,
        description="The database user's password (put into the URL object, never into a string that could be logged).",
    )
