"""A small demo organisation: three customers, invoices in every state, two payments.

``seed_demo(books)`` returns the ids and numbers it created, so tests and the demo can name
records without searching (``seed["invoices"]["open"]["InvoiceID"]``).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from simulators.finance.books import Books

CUSTOMERS = {
    "mueller": {
        "Name": "Müller Maschinenbau GmbH",
        "EmailAddress": "einkauf@mueller-maschinenbau.example",
        "TaxNumber": "DE136695976",
        "Addresses": [
            {
                "AddressType": "POBOX",
                "AddressLine1": "Postfach 1201",
                "City": "Berlin",
                "PostalCode": "10001",
                "Country": "Germany",
            },
            {
                "AddressType": "STREET",
                "AddressLine1": "Industriestraße 12",
                "City": "Berlin",
                "PostalCode": "10115",
                "Country": "Germany",
            },
        ],
        "Phones": [{"PhoneType": "DEFAULT", "PhoneCountryCode": "49", "PhoneAreaCode": "30", "PhoneNumber": "1234567"}],
    },
    "dupont": {
        "Name": "Dupont et Fils SARL",
        "EmailAddress": "compta@dupont-fils.example",
        "TaxNumber": "FR40303265045",
        "Addresses": [
            {
                "AddressType": "STREET",
                "AddressLine1": "4 rue de la Paix",
                "City": "Paris",
                "PostalCode": "75002",
                "Country": "France",
            }
        ],
        "Phones": [
            {"PhoneType": "DEFAULT", "PhoneCountryCode": "33", "PhoneAreaCode": "1", "PhoneNumber": "42 68 53 00"}
        ],
    },
    "acme": {
        "Name": "Acme Widgets Ltd",
        "EmailAddress": "accounts@acme-widgets.example",
        "TaxNumber": "GB980780684",
        "Addresses": [
            {
                "AddressType": "STREET",
                "AddressLine1": "1 High Street",
                "City": "Leeds",
                "PostalCode": "LS1 4AP",
                "Country": "United Kingdom",
            }
        ],
    },
}


def _invoice(
    contact_id: str, number: str, status: str, lines: list[tuple[str, int, str]], **extra: Any
) -> dict[str, Any]:
    today = date.today()
    return {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact_id},
        "InvoiceNumber": number,
        "Status": status,
        "Date": (today - timedelta(days=20)).isoformat(),
        "DueDate": (today + timedelta(days=10)).isoformat(),
        "CurrencyCode": "EUR",
        "LineAmountTypes": "Exclusive",
        "LineItems": [
            {"Description": d, "Quantity": q, "UnitAmount": u, "AccountCode": "200", "TaxType": "NONE"}
            for d, q, u in lines
        ],
        **extra,
    }


def seed_demo(books: Books) -> dict[str, Any]:
    contacts = {key: c for key, c in zip(CUSTOMERS, books.save("Contacts", CUSTOMERS.values()), strict=True)}
    ids = {key: c["ContactID"] for key, c in contacts.items()}
    invoices = dict(
        zip(
            ("draft", "open", "partial", "paid"),
            books.save(
                "Invoices",
                [
                    _invoice(ids["acme"], "INV-1001", "DRAFT", [("Widgets, blue", 10, "12.50")], Reference="PO-ACME-7"),
                    _invoice(
                        ids["mueller"],
                        "INV-1002",
                        "AUTHORISED",
                        [("Spindle housing", 2, "1450.00"), ("Installation", 1, "380.00")],
                        Reference="SO-4711",
                    ),
                    _invoice(
                        ids["dupont"],
                        "INV-1003",
                        "AUTHORISED",
                        [("Milestone 1 of 3", 1, "6000.00")],
                        Reference="CTR-2026-03/1",
                    ),
                    _invoice(
                        ids["mueller"], "INV-1004", "AUTHORISED", [("Spare parts", 5, "99.90")], Reference="SO-4702"
                    ),
                ],
            ),
            strict=True,
        )
    )
    payments = dict(
        zip(
            ("partial", "paid"),
            books.save(
                "Payments",
                [
                    {
                        "Invoice": {"InvoiceID": invoices["partial"]["InvoiceID"]},
                        "Account": {"Code": "090"},
                        "Date": date.today().isoformat(),
                        "Amount": "2500.00",
                        "Reference": "BANK-2026-0001",
                    },
                    {
                        "Invoice": {"InvoiceID": invoices["paid"]["InvoiceID"]},
                        "Account": {"Code": "090"},
                        "Date": date.today().isoformat(),
                        "Amount": "499.50",
                        "Reference": "BANK-2026-0002",
                    },
                ],
            ),
            strict=True,
        )
    )
    return {
        "contacts": contacts,
        "invoices": {k: books.get("Invoices", v["InvoiceID"]) for k, v in invoices.items()},
        "payments": payments,
    }
