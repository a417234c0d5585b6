"""Small customer exports of two systems, in the shapes of mappings/imports/customers/*.yaml.

examples/ holds the same files for the README's walk-through."""

from __future__ import annotations

import csv
from pathlib import Path

ERP_ROWS = [
    # id, name, vat, email, phone, street, city, zip, country
    (
        "P-1",
        "Müller Bau GmbH",
        "DE136695976",
        "info@mueller-bau.de",
        "+49 30 1234567",
        "Hauptstraße 5",
        "Berlin",
        "10115",
        "DE",
    ),
    (
        "P-2",
        "Acme Industries Inc.",
        "",
        "sales@acme-ind.com",
        "+1 212 555 0142",
        "1 Main Street",
        "New York",
        "10001",
        "US",
    ),
    (
        "P-3",
        "トヨタ自動車株式会社",
        "",
        "info@toyota.example.jp",
        "+81 3 1234 5678",
        "丸の内1-1",
        "東京",
        "100-0005",
        "JP",
    ),
    (
        "P-4",
        "上海明华电子科技有限公司",
        "",
        "contact@minghua.example.cn",
        "+86 21 6123 4567",
        "南京路100号",
        "上海",
        "200001",
        "CN",
    ),
    (
        "P-5",
        "Schmidt Logistik GmbH",
        "DE129273398",
        "info@schmidt-log.de",
        "+49 40 7654321",
        "Hafenweg 2",
        "Hamburg",
        "20457",
        "DE",
    ),
]

CRM_ROWS = [
    # the same customers, typed by sales staff; plus one that exists nowhere else
    ("A100", "MUELLER BAU", "", "k.schulz@mueller-bau.de", "030 1234567", "Berlin", "DE"),
    ("A101", "ACME Industries", "", "j.doe@acme-ind.com", "(212) 555-0142", "New York", "US"),
    ("A102", "トヨタ自動車(株)", "", "", "03-1234-5678", "東京", "JP"),
    ("A103", "明华电子科技有限公司", "", "", "021 6123 4567", "上海", "CN"),
    ("A104", "Schmidt Logistik GmbH", "DE115235681", "info@schmidt-muc.de", "089 555666", "München", "DE"),
    ("A105", "Weber Elektro KG", "", "weber.elektro@gmail.com", "0711 998877", "Stuttgart", "DE"),
]


def write_erp(folder: Path, rows: list[tuple[str, ...]] | None = None) -> Path:
    path = folder / "erp_parties.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Party", "Name", "VAT", "E-Mail", "Phone", "Street", "City", "ZIP", "Country"])
        writer.writerows(ERP_ROWS if rows is None else rows)
    return path


def write_crm(folder: Path, rows: list[tuple[str, ...]] | None = None) -> Path:
    path = folder / "crm_accounts.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["AccountNo", "Account Name", "Tax ID", "Contact E-Mail", "Telephone", "Town", "Country Code"])
        writer.writerows(CRM_ROWS if rows is None else rows)
    return path
