"""Sending queued alert deliveries: one digest per recipient and channel per run.

A digest that fails stays pending with its error and attempt count and goes out with the next
scan; one that succeeds is marked sent, so a later scan never sends it again. (Sending and
marking are two steps: a crash between them sends that digest once more — at least once, never
lost.) An alert whose rows cannot be read (a date written around the hub) sets its order aside
(``isolation.py``, step ``deliver``) and stays pending; the digests go out with the others.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hub.db import session_scope, utcnow
from hub.documents.models import Order
from hub.master.models import GoldenCustomer
from hub.notify.mail import DeliveryError, send_mail
from hub.notify.settings import NotifySettings
from hub.notify.webhook import post_json
from hub.receivables.isolation import SetAsideLog, guarded, order_label
from hub.receivables.models import Alert, AlertDelivery, Instalment, ReceivableOrder


def pending_digests(database_url: str, log: SetAsideLog | None = None) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """(channel, recipient) → the alerts waiting for it, highest level first."""
    log = log if log is not None else SetAsideLog()
    pending = (
        select(
            AlertDelivery.id,
            AlertDelivery.channel,
            AlertDelivery.recipient,
            Alert.id,
            Alert.level,
            Alert.credit_hold,
            Instalment.reference,
            Instalment.stage,
            Instalment.due_date,
            Instalment.overdue_from,
            Instalment.outstanding,
            Instalment.currency,
            Order.number,
            GoldenCustomer.name,
            ReceivableOrder.owner,
        )
        .join(Alert, Alert.id == AlertDelivery.alert_id)
        .join(Instalment, Instalment.id == Alert.instalment_id)
        .join(Order, Order.id == Instalment.order_id)
        .join(ReceivableOrder, ReceivableOrder.order_id == Order.id)
        .outerjoin(GoldenCustomer, GoldenCustomer.id == Order.customer_id)
        .where(AlertDelivery.status == "pending")
        .order_by(AlertDelivery.recipient, Alert.level.desc(), Instalment.due_date)
    )

    def read(session: Session, ids: list[int] | None) -> list[dict[str, Any]]:
        query = pending if ids is None else pending.where(Instalment.order_id.in_(ids))
        return [
            {
                "channel": r[1],
                "recipient": r[2],
                "delivery_id": r[0],
                "alert_id": r[3],
                "level": r[4],
                "credit_hold": r[5],
                "instalment": r[6],
                "stage": r[7],
                "due_date": r[8].isoformat() if r[8] else None,
                "overdue_from": r[9],
                "outstanding": str(r[10]),
                "currency": r[11],
                "order": r[12],
                "customer": r[13],
                "sales_owner": r[14],
            }
            for r in session.execute(query)
        ]

    with session_scope(database_url) as session:
        orders = (
            select(Instalment.order_id)
            .distinct()
            .join(Alert, Alert.instalment_id == Instalment.id)
            .join(AlertDelivery, AlertDelivery.alert_id == Alert.id)
            .where(AlertDelivery.status == "pending")
        )
        parts = guarded(
            session,
            log,
            "deliver",
            lambda ids: read(session, ids),
            lambda: list(session.scalars(orders)),
            label=order_label(session),
        )
    rows = [row for part in parts for row in part]
    if len(parts) > 1:  # read a chunk of orders at a time while looking for the culprit
        rows.sort(key=lambda a: (a["recipient"], -a["level"], a["due_date"] or "9999-12-31"))
    digests: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        digests[(row.pop("channel"), row.pop("recipient"))].append(row)
    return digests


def _mail_body(alerts: list[dict[str, Any]], as_of: date) -> tuple[str, str]:
    top = max(a["level"] for a in alerts)
    subject = f"Concord: {len(alerts)} overdue stage payment{'s' if len(alerts) != 1 else ''} (up to level {top})"
    lines = [f"Overdue stage payments as of {as_of.isoformat()}:", ""]
    for a in alerts:
        days = (as_of - a["overdue_from"]).days if a["overdue_from"] else 0
        hold = "  CREDIT HOLD RECOMMENDED" if a["credit_hold"] else ""
        lines.append(
            f"- level {a['level']}: {a['instalment']} ({a['customer'] or 'unknown customer'}), "
            f"{a['outstanding']} {a['currency'] or ''} outstanding, due {a['due_date']}, "
            f"{days} day(s) past due and grace{hold}"
        )
    lines += ["", "Acknowledge or snooze: POST /api/v1/receivables/alerts/{id}/acknowledge|snooze"]
    return subject, "\n".join(lines)


def deliver_pending(
    database_url: str, settings: NotifySettings, as_of: date, log: SetAsideLog | None = None
) -> tuple[list[str], list[str]]:
    """Send every pending digest; returns ("channel:recipient" sent, "…: error" failed)."""
    sent, failed = [], []
    for (channel, recipient), alerts in pending_digests(database_url, log).items():
        ids = [a.pop("delivery_id") for a in alerts]
        try:
            if channel == "email":
                subject, body = _mail_body(alerts, as_of)
                send_mail(settings, recipient, subject, body)
            else:
                payload = {
                    "event": "receivables.overdue",
                    "as_of": as_of.isoformat(),
                    "alerts": [{**a, "overdue_from": str(a["overdue_from"])} for a in alerts],
                }
                post_json(settings, recipient, payload)
        except DeliveryError as exc:
            with session_scope(database_url) as session:
                session.execute(
                    update(AlertDelivery)
                    .where(AlertDelivery.id.in_(ids))
                    .values(attempts=AlertDelivery.attempts + 1, last_error=str(exc)[:500])
                )
            failed.append(f"{channel}:{recipient}: {exc}")
            continue
        with session_scope(database_url) as session:
            session.execute(
                update(AlertDelivery)
                .where(AlertDelivery.id.in_(ids))
                .values(status="sent", sent_at=utcnow(), attempts=AlertDelivery.attempts + 1, last_error=None)
            )
        sent.append(f"{channel}:{recipient}")
    return sent, failed
