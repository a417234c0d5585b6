"""What can go wrong talking to a system, sorted by what the sync engine does about it."""


class ConnectorError(Exception):
    """Base class; the message names the system and what failed."""

    #: The HTTP status of the answer that caused it, where there was one (``connectors.http``).
    status: int | None = None


class TransientError(ConnectorError):
    """The system is down, slow or throttling: retry later; the run fails, the cursor stays."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class AuthError(ConnectorError):
    """Credentials refused (after one fresh login): fix the connection, nothing to retry."""


class RecordError(ConnectorError):
    """This one record was refused (bad data, a fault): it becomes a dead letter, the rest go on."""
