"""E-mail over SMTP (stdlib ``smtplib``): plain text, one message per call."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from hub.notify.settings import NotifySettings


class DeliveryError(RuntimeError):
    """A message that did not go out; it stays queued and is tried again next time."""


def send_mail(settings: NotifySettings, to: str, subject: str, body: str) -> None:
    if not settings.smtp_url:
        raise DeliveryError("no SMTP server configured (HUB_SMTP_URL)")
    url = urlsplit(settings.smtp_url)
    if url.scheme not in ("smtp", "smtps"):
        raise DeliveryError(f"HUB_SMTP_URL scheme must be smtp or smtps, not {url.scheme!r}")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.mail_from, to, subject
    message.set_content(body)
    port = url.port or (465 if url.scheme == "smtps" else 25)
    try:
        client: smtplib.SMTP
        if url.scheme == "smtps":
            client = smtplib.SMTP_SSL(
                url.hostname or "localhost", port, timeout=settings.notify_timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(url.hostname or "localhost", port, timeout=settings.notify_timeout)
        with client:
            if url.scheme == "smtp" and parse_qs(url.query).get("starttls", ["false"])[0].lower() == "true":
                client.starttls(context=ssl.create_default_context())
            if url.username:
                client.login(unquote(url.username), unquote(url.password or ""))
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:  # never the URL: it may hold a password
        raise DeliveryError(f"SMTP to {url.hostname}:{port} failed: {type(exc).__name__}: {exc}") from None
