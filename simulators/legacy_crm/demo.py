"""A small built-in data set for ``hub demo`` and for trying the service by hand.

Some companies are the ERP's customers spelled the way a sales rep typed them (other legal
form, other casing, a branch city) with the same tax id or e-mail, so the hub has something
real to match; others exist only in the CRM, including Chinese and Japanese companies.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from simulators.legacy_crm.store import CASE_PRIORITIES, CASE_STATUSES, SALES_STAGES, CrmStore

_ACCOUNTS = [
    # name, vat, email, phone, street, city, postcode, country
    (
        "MUELLER MASCHINENBAU",
        "DE136695976",
        "einkauf@mueller-maschinenbau.example",
        "+49 30 901820",
        "Industriestr. 12",
        "Stuttgart",
        "70565",
        "DE",
    ),
    (
        "Dupont Industrie S.A.R.L.",
        "FR40303265045",
        None,
        "+33 1 42 68 53 00",
        "14, rue de la Republique",
        "Lyon",
        "69002",
        "FR",
    ),
    (
        "jansen techniek bv",
        "NL004495445B01",
        "inkoop@jansen-techniek.example",
        None,
        "Keizersgracht 100",
        "Amsterdam",
        "1015CV",
        "NL",
    ),
    ("Peeters en Zonen", "BE0428759497", "info@peeters-zonen.example", None, "Grote Markt 1", "Brussels", "1000", "BE"),
    (
        "Smith Engineering Limited",
        None,
        "orders@smith-engineering.example",
        None,
        "1 Canal St",
        "Manchester",
        "M1 3HE",
        "GB",
    ),
    (
        "上海华信机械有限公司",
        "91310000MA1FL8XQ37",
        "sales@huaxin-machinery.example",
        "+86 21 6888 1234",
        "浦东新区世纪大道100号",
        "上海",
        "200120",
        "CN",
    ),
    (
        "华信机械（上海）",
        None,
        "purchase@huaxin-machinery.example",
        "+86 21 6888 1234",
        "世纪大道100号",
        "上海市",
        "200120",
        "CN",
    ),
    (
        "北京远大精密仪器有限公司",
        "91110108MA01C2XY7H",
        "info@yuanda-precision.example",
        "+86 10 8255 6677",
        "海淀区中关村大街27号",
        "北京",
        "100080",
        "CN",
    ),
    (
        "深圳创新电子股份有限公司",
        None,
        "contact@szcx-elec.example",
        "+86 755 2661 0000",
        "南山区科技园",
        "深圳",
        "518057",
        "CN",
    ),
    (
        "株式会社山田製作所",
        "9234567890123",
        "eigyo@yamada-ss.example",
        "+81 3 1234 5678",
        "千代田区丸の内1-1-1",
        "東京都",
        "100-0005",
        "JP",
    ),
    ("山田製作所", None, "eigyo@yamada-ss.example", "03-1234-5678", "丸の内1-1-1", "千代田区", "100-0005", "JP"),
    (
        "大阪精工株式会社",
        None,
        "info@osaka-seiko.example",
        "+81 6 6345 0000",
        "北区梅田2-2-2",
        "大阪市",
        "530-0001",
        "JP",
    ),
    (
        "Kawasaki Robotics Europe GmbH",
        "DE811176048",
        "info@kawasaki-robotics.example",
        "+49 2131 3426 0",
        "Im Taubental 32",
        "Neuss",
        "41468",
        "DE",
    ),
    (
        "Nordic Pumps AB",
        "SE556036079301",
        "order@nordicpumps.example",
        "+46 8 555 123 00",
        "Sveavägen 44",
        "Stockholm",
        "111 34",
        "SE",
    ),
    (
        "Acme Industrial Supplies Inc.",
        None,
        "buyers@acme-industrial.example",
        "+1 312 555 0100",
        "200 W Madison St",
        "Chicago",
        "60606",
        "US",
    ),
    (
        "ACME Industrial Supplies",
        None,
        "buyers@acme-industrial.example",
        "+1 (312) 555-0100",
        "200 West Madison Street",
        "Chicago",
        "60606",
        "US",
    ),
    (
        "Brouwer Logistiek B.V.",
        "NL859447108B01",
        "planning@brouwer-logistiek.example",
        "+31 10 404 5500",
        "Waalhaven 12",
        "Rotterdam",
        "3089 JH",
        "NL",
    ),
    (
        "Rossi Meccanica S.p.A.",
        "IT00743110157",
        "acquisti@rossimeccanica.example",
        "+39 02 8901 2345",
        "Via Torino 40",
        "Milano",
        "20123",
        "IT",
    ),
    ("Rossi Meccanica", None, "acquisti@rossimeccanica.example", None, "Via Torino, 40", "Milan", "20123", "IT"),
    (
        "García Hermanos S.L.",
        "ESB12345674",
        "compras@garcia-hermanos.example",
        "+34 91 555 2233",
        "Calle Mayor 5",
        "Madrid",
        "28013",
        "ES",
    ),
    (
        "Österreichische Ventilbau AG",
        "ATU13585627",
        "office@ventilbau.example",
        "+43 1 505 1234",
        "Ringstraße 8",
        "Wien",
        "1010",
        "AT",
    ),
    (
        "Lefèvre & Fils",
        None,
        "contact@lefevre-fils.example",
        "+33 4 78 00 11 22",
        "3 quai Saint-Antoine",
        "Lyon",
        "69002",
        "FR",
    ),
    (
        "Hansen Marine A/S",
        "DK13585628",
        "salg@hansen-marine.example",
        "+45 33 12 34 56",
        "Nyhavn 20",
        "København",
        "1051",
        "DK",
    ),
    (
        "台北精密工業股份有限公司",
        None,
        "sales@tpe-precision.example",
        "+886 2 2720 1234",
        "信義區市府路1號",
        "台北市",
        "110",
        "TW",
    ),
    (
        "Novak Strojírny s.r.o.",
        "CZ25123891",
        "obchod@novak-strojirny.example",
        "+420 222 111 333",
        "Národní 10",
        "Praha",
        "110 00",
        "CZ",
    ),
    (
        "Kowalski Automatyka Sp. z o.o.",
        "PL5260250274",
        "biuro@kowalski-auto.example",
        "+48 22 555 10 10",
        "ul. Marszałkowska 1",
        "Warszawa",
        "00-624",
        "PL",
    ),
    (
        "O'Brien Fabrication Ltd",
        None,
        "info@obrien-fab.example",
        "+353 1 555 0199",
        "12 Pearse St",
        "Dublin",
        "D02 YX88",
        "IE",
    ),
    (
        "Virtanen Oy",
        "FI20774740",
        "myynti@virtanen.example",
        "+358 9 555 0101",
        "Mannerheimintie 3",
        "Helsinki",
        "00100",
        "FI",
    ),
    (
        "Schneider Antriebstechnik GmbH & Co. KG",
        "DE129273398",
        "vertrieb@schneider-antrieb.example",
        "+49 711 555 9000",
        "Hauptstraße 1",
        "Stuttgart",
        "70173",
        "DE",
    ),
    (
        "Tanaka Trading Co., Ltd.",
        None,
        "tanaka@tanaka-trading.example",
        "+81 45 222 3333",
        "中区山下町1",
        "横浜市",
        "231-0023",
        "JP",
    ),
]
_OWNERS = ("s.weber", "l.martin", "k.tanaka", "m.chen")
_PRODUCTS = (
    ("P-100", "Hydraulic Pump HP-100", Decimal("1250.00")),
    ("P-200", "Pressure Valve PV-200", Decimal("89.50")),
    ("P-300", "Sealing Kit SK-300", Decimal("12.90")),
)


def demo_seed() -> dict[str, list[dict[str, Any]]]:
    """Rows for :meth:`CrmStore.seed`: 30 accounts, their contacts, opportunities in every
    stage, orders with lines and open and closed service cases."""
    accounts, contacts, opportunities, orders, cases = [], [], [], [], []
    for i, (name, vat, email, phone, street, city, postcode, country) in enumerate(_ACCOUNTS, start=1):
        account_id = f"C{i:05d}"
        accounts.append(
            {
                "id": account_id,
                "name": name,
                "vat_id_c": vat,
                "email1": email,
                "phone_office": phone,
                "billing_address_street": street,
                "billing_address_city": city,
                "billing_address_postalcode": postcode,
                "billing_address_country": country,
            }
        )
        contacts.append(
            {
                "id": f"CT{i:05d}",
                "account_id": account_id,
                "first_name": "Contact",
                "last_name": f"No. {i}",
                "email1": email,
            }
        )
        stage = SALES_STAGES[i % len(SALES_STAGES)]
        opportunities.append(
            {
                "id": f"OP{i:05d}",
                "name": f"{name}: line upgrade",
                "account_id": account_id,
                "sales_stage": stage,
                "amount": Decimal(5000 + 750 * i),
                "currency_id": "EUR",
                "date_closed": f"2027-0{1 + i % 9}-15",
                "assigned_user_name": _OWNERS[i % len(_OWNERS)],
                "lost_reason_c": "price" if stage == "Closed Lost" else None,
            }
        )
        if i % 2:
            lines: list[dict[str, Any]] = [
                {
                    "id": f"SO{i:05d}-{n}",
                    "product_code": code,
                    "name": label,
                    "product_qty": Decimal(n * 2),
                    "product_unit_price": price,
                }
                for n, (code, label, price) in enumerate(_PRODUCTS[: 1 + i % 3], start=1)
            ]
            orders.append(
                {
                    "id": f"SO{i:05d}",
                    "order_number": f"CRM-SO-{1000 + i}",
                    "name": f"PO-{i:04d}",
                    "account_id": account_id,
                    "status": ("Confirmed", "In Progress", "Closed")[i % 3],
                    "order_date": f"2026-{1 + i % 11:02d}-10",
                    "currency_id": "EUR",
                    "total_amount": sum((l["product_qty"] * l["product_unit_price"] for l in lines), Decimal(0)),
                    "lines": lines,
                }
            )
        if i % 3 == 0:
            closed = CASE_STATUSES[i % len(CASE_STATUSES)].startswith("Closed")
            cases.append(
                {
                    "id": f"CASE{i:05d}",
                    "case_number": str(2000 + i),
                    "name": f"Pump leaking at {city}",
                    "account_id": account_id,
                    "status": CASE_STATUSES[i % len(CASE_STATUSES)],
                    "priority": CASE_PRIORITIES[i % len(CASE_PRIORITIES)],
                    "date_entered": "2026-10-01",
                    "date_closed_c": "2026-10-20" if closed else None,
                }
            )
    return {
        "accounts": accounts,
        "contacts": contacts,
        "opportunities": opportunities,
        "orders": orders,
        "cases": cases,
    }


def demo_store() -> CrmStore:
    store = CrmStore()
    store.seed(**cast(dict[str, Any], demo_seed()))
    return store
