# ruff: noqa: E501 -- word lists and address tables read better unwrapped
"""Labelled B2B customer records for the matching benchmark.

``generate(n_records, seed)`` returns a DataFrame with the hub's batch-match
INPUT columns (source_system, source_id, name, tax_id, email, phone, street,
city, postcode, country) plus ``entity_id``, the truth label: records with the
same entity_id are the same real customer.

CLI::

    python tests/bench/customer_data.py --records 20000 --seed 1 --out /tmp/x [--show 20]

writes DIR/input.csv (without entity_id), DIR/truth.csv (source_system,
source_id, entity_id) and DIR/entities.csv (entity_id, kind, related_to,
traits: which entities are designed hard negatives of which and which hard
cases each carries, for error analysis).

What the data looks like
------------------------
Customers are companies in DE, GB, US, FR, NL, CN, JP, AU, CA (DE/GB/US/CN/JP
weighted higher, AU and CA 4 % each). Each appears in 1-3 of three source
systems, each with its own habits:

* ``erp``  (Tryton-like ERP): legal names ("Müller Bau GmbH", "Acme Industries
  Inc."), tax id 80 % present in its standard form, phones in E.164 or
  international format, full addresses, generic e-mails (info@...).
* ``crm``  (legacy CRM typed by sales staff): trade names ("Acme"), abbreviations
  (Intl, Ind., Mfg, Tech., Str.), UPPER CASE, umlauts spelled out, 1-2 character
  typos, tax id only 20 % present, local phone formats ("030 1234567",
  "(03) 1234-5678"), sometimes a direct-dial extension or the contact's mobile,
  contact-person e-mails on the company domain or on free-mail (gmail.com,
  qq.com, yahoo.co.jp, ...), city aliases (Muenchen, Munich, Shanghai), postcodes
  often missing. Chinese names lose their region prefix or gain "(集团)";
  Japanese names swap 株式会社 between front and back, use (株)/㈱, and are typed
  with full-width Latin letters and digits.
* ``finance`` (accounting): legal names (sometimes long legal forms or upper
  case), tax id 70 % present but formatted differently (spaces, dots, no country
  prefix, the Japanese "T" invoice number), billing e-mails (invoices@,
  buchhaltung@, ...), postcodes with/without spaces, PO boxes.

About 5 % of records are within-system duplicates (mostly CRM, the same company
typed again). About 10 % of entities are hard negatives: namesakes (same or
nearly the same name, other city, other tax id) and group siblings (shared
brand, other division and legal entity, other tax id, sometimes a shared e-mail
domain), which must not be merged.

Tax ids have valid check digits for each scheme (DE USt-IdNr, GB VAT, FR TVA,
NL btw, US EIN prefix, CN USCC, JP corporate number, AU ABN/ACN, CA BN),
computed with python-stdnum; a few carry typos that break the check digit.

The cases of issue 17 (rates in the constants after ``DUP_P``; ``entities.csv``
lists each entity's ``traits``):

* Tax ids behind scheme words and labels: "USt-IdNr.: DE…", "UID-Nr. DE…",
  "VAT Reg No GB …", "TVA FR …", a French company's "SIREN 303 265 045" or an
  establishment's "SIRET 303 265 045 00011", "BTW-nr: NL…", "EIN 12-3456789",
  "统一社会信用代码：…", "法人番号 …", "登録番号 T…", "ABN 51 824 753 556",
  "BN 812345676 RT 0001", "GST/HST …" (crm/finance 12 %, erp 3 % of present
  ids); the country prefix set off by a space or a dash, "DE-136695976",
  "AU 51824753556" (crm/finance 8 %, erp 3 %).
* AU: the ABN in the ERP (bare, "51 824 753 556", "ABN …"), the ACN it holds
  ("ACN 004 085 616") in 40 % of crm/finance ids. CA: the BN15
  "812345676RT0001" in the ERP, the BN9 "812345676" or "812345676 RT 0001"
  elsewhere.
* GB and NL: 15 % of crm/finance records give the company's registry number
  instead of its VAT number ("Company No. 05678123", "CRN 5678123", "SC123456",
  "KvK 56781234", "KvK-nummer: …", bare) — another kind of identifier of one
  company.
* CN companies registered before 2015 (30 %): their crm/finance records carry
  the 15-digit registration number (注册号) instead of the USCC in 60 % of the
  ids present — two kinds of identifier of one company.
* Placeholders for an absent tax id ("N/A", "n.a.", "TBD", "-", "000000000",
  "999999999", "123456789", "k.A.", "none"): 15 % (erp), 5 % (crm), 10 % (finance) of the
  records without one.
* Country spellings instead of the ISO code ("GER", "Deutschland", "U.K.",
  "P.R. China", "China (PRC)", "中国", "中华人民共和国", "日本", "United States of
  America", "Holland", "Japan (JP)", "CN - China", ...): crm 10 %, finance 5 %,
  erp 1 % of records.
* Names with what exports write beside them (crm 2 %, finance 3 %, not CN/JP):
  "… - Accounts Payable", "… z. Hd. Buchhaltung", "… (inactive)", "… c/o
  Finance Dept".
* Fields holding more than one value: 4 % of crm phones give the main number
  and a mobile ("030 1234567 / 0171 …"); 5 % of crm addresses on the company's
  domain come with a name ("Jane Doe <…>"), a comment ("… (accounts)"), a
  second address ("…; info@…"), quotes or a trailing full stop.
* Phones that fail validation: 1.5 % of companies have a number two digits
  short at the source (wrong in every system, same digits), 2 % of rendered
  phones lose one digit.
* Group companies: siblings (4.5 % of base entities, 1-2 each) and branches
  (3 %: the parent's name plus a region, "Acme Industries West Inc.", CN
  "…有限公司北京分公司", JP "…販売株式会社"), each with its own tax id; they share
  the parent's domain (50 % / 80 %), its HQ phone (25 % / 45 %), its building
  when in the same city (35 % / 45 %), and 25 % of them have one record that
  carries the parent's tax id.
* Cross-script names: 12 % of CN/JP companies have their English legal name
  ("Shanghai Minghua Electronic Technology Co., Ltd.", "Towa Denki Co.,
  Ltd.") in one system (the ERP when they are in it), with the tax id present
  there 90 % of the time and, 40 % of the time, the billing e-mail address the
  finance system holds.

Everything comes from the word lists below and one ``random.Random(seed)``, so
the output depends only on (n_records, seed).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import unicodedata
import zlib
from dataclasses import dataclass, field

import pandas as pd
from stdnum import luhn
from stdnum.au import abn as au_abn
from stdnum.au import acn as au_acn
from stdnum.ca import bn as ca_bn
from stdnum.cn import uscc
from stdnum.de import vat as de_vat
from stdnum.fr import tva as fr_tva
from stdnum.gb import vat as gb_vat
from stdnum.iso7064 import mod_11_10
from stdnum.jp import cn as jp_cn
from stdnum.nl import btw as nl_btw

INPUT_COLUMNS = [
    "source_system",
    "source_id",
    "name",
    "tax_id",
    "email",
    "phone",
    "street",
    "city",
    "postcode",
    "country",
]
SYSTEMS = ("erp", "crm", "finance")

COUNTRY_WEIGHTS = {
    "DE": 0.21,
    "GB": 0.16,
    "US": 0.18,
    "CN": 0.16,
    "JP": 0.15,
    "FR": 0.07,
    "NL": 0.07,
    "AU": 0.04,
    "CA": 0.04,
}

# ---------------------------------------------------------------------------
# Word lists
# ---------------------------------------------------------------------------

DE_SURNAMES = (
    "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch "
    "Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann "
    "Lange Schmitt Werner Schmitz Krause Meier Lehmann Schmid Schulze Maier Köhler Herrmann König "
    "Walter Mayer Huber Kaiser Fuchs Peters Lang Scholz Möller Weiß Jung Hahn Schubert Vogel "
    "Friedrich Keller Günther Frank Berger Winkler Roth Beck Lorenz Baumann Franke Albrecht "
    "Schuster Simon Ludwig Böhm Winter Kraus Martin Schumacher Krämer Vogt Stein Jäger Otto "
    "Sommer Groß Seidel Heinrich Brandt Haas Schreiber Graf Schulte Dietrich Ziegler Kuhn Kühn "
    "Pohl Engel Horn Busch Bergmann Thomas Voigt Sauer Arnold Wolff Pfeiffer"
).split()
DE_INDUSTRIES = (
    "Bau Logistik Maschinenbau Elektrotechnik Metallbau Spedition Haustechnik Anlagenbau "
    "Systemtechnik Holzbau Kunststofftechnik Präzisionsteile Verpackung Medizintechnik Automation "
    "Software Handel Druckerei Stahlbau Gebäudetechnik Fahrzeugtechnik Werkzeugbau Umwelttechnik "
    "Energietechnik Lebensmittel Textil Chemie Industrieservice Sanitär Immobilien Elektronik "
    "Antriebstechnik Feinmechanik Gerüstbau Dachtechnik"
).split()
DE_TRADE_PREFIX = "Elektro Auto Holz Metall Sanitär Reifen Farben Glas".split()
DE_BRAND_HEAD = (
    "Nord Süd West Ost Rhein Elb Alp Tech Inno Pro Euro Inter Uni Multi Opti Terra Vario Spree "
    "Main Isar Weser Hansa Berg Wald Donau Saar Ruhr Harz Eifel Neckar Mosel Lahn Ems Aller"
).split()
DE_BRAND_TAIL = (
    "werk tec tronic plan form bau trans log med soft print pack data line motion metall chem "
    "star point concept tool mobil therm vision sys cad fix flex form lux net pro rad tex "
    "kraft technik licht"
).split()
DE_FIRST = (
    "Hans Peter Klaus Jürgen Wolfgang Michael Thomas Andreas Stefan Frank Uwe Dieter Karl "
    "Heinz Josef Werner Günter Manfred Ralf Bernd Christian Martin Markus Helmut Walter Otto "
    "Friedrich Rudolf Anton Georg"
).split()
DE_SURNAMES += (
    "Lindner Böttcher Brückner Ebert Feldmann Fritsch Gerlach Hauser Hein Hempel Jakob "
    "Kessler Kirchner Kolb Lenz Marx Nowak Ott Paul Petersen Rausch Reuter Riedel Sander "
    "Seifert Stahl Thiel Ullrich Voß Wendt Wimmer Witt Zander Ziegler Brandl Eckert Fink "
    "Förster Hartung Kramer Lutz Nagel Pfeifer Rieger Schilling Schütz Straub Weis"
).split()
DE_FORMS = [
    ("GmbH", 60),
    ("AG", 8),
    ("GmbH & Co. KG", 15),
    ("KG", 5),
    ("e.K.", 4),
    ("UG (haftungsbeschränkt)", 4),
    ("SE", 2),
    ("OHG", 2),
]
DE_DIVISIONS = "Holding Service Vertrieb Logistik Energie Healthcare Digital Immobilien Technik International".split()

EN_SURNAMES = (
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans Walker "
    "White Roberts Green Hall Wood Jackson Clarke Harrington Blackwood Ashford Pemberton Whitfield "
    "Carrington Hargreaves Fairbairn Ellison Kingsley Thornton Marsh Holloway Barker Fletcher Hughes "
    "Edwards Turner Parker Cooper Ward Morris Harris Lewis Bennett Cox Palmer Russell Mason "
    "Griffiths Miller Anderson Carter Mitchell Campbell Stewart Morgan Reed Cook Bailey Murphy "
    "Rivera Collins Sullivan Foster Bryant Hayes Coleman Patterson Jenkins Perry Powell Long "
    "Ramsey Whitaker Donovan Gallagher Brennan Lawson Sutton Hampton Prescott Langley"
).split()
EN_SURNAMES += (
    "Abbott Atkinson Bradley Burton Chapman Dawson Douglas Ellis Fisher Gardner Gibson "
    "Graham Hamilton Hart Holmes Hunt Kennedy Knight Lambert Lane Lloyd Marshall Matthews "
    "Mills Moore Newman Owen Payne Pearson Porter Price Reynolds Richards Shaw Simpson "
    "Spencer Stevens Stone Walsh Watson Webb Wells West Wheeler Woods Young"
).split()
EN_COINED_HEAD = (
    "Oak Ash Elm Stone Brook Bright Silver Gold Iron Red Blue Green North South East West High "
    "Fair Kings Mill Wood Clear Swift Star Sun Lake River Hill Cross Moor Pine Rose Sand "
    "Frost Black White Long Broad Deep"
).split()
EN_COINED_TAIL = (
    "field ridge wood well stone bridge gate ford dale way brook view point side haven mont "
    "ton ley worth bury croft hurst vale wick"
).split()
EN_QUALIFIERS = (
    "Precision Advanced Industrial Global Digital Integrated Applied Modern Premier Specialist "
    "Technical Quality Custom Coastal Metro Regional"
).split()
GB_BRANDS = (
    "Northern Thames Pennine Albion Britannia Caledonian Mercia Wessex Severn Trent Mersey Cotswold "
    "Highland Anglia Crown Royal Sovereign Imperial Kingsway Regent Channel Solent Humber Tyne "
    "Clyde Chiltern Mendip Kestrel Heron Oakwood Ashdown Greystone Redbridge Whitehall Castlegate"
).split()
US_BRANDS = (
    "Acme Summit Pacific Atlantic Liberty Pioneer Frontier Keystone Apex Eagle Sterling Patriot "
    "Lone Star Golden Gate Great Lakes Midwest Coastal Evergreen Granite Redwood Silverline "
    "Bluewater Ironclad Allied United National American General Continental Advanced Titan Vertex "
    "Horizon Meridian Cascade Sierra Prairie Heartland Bayside Northstar Cornerstone Landmark"
).split()
# "Lone Star" / "Golden Gate" / "Great Lakes" were split above; re-join the two-word brands.
US_BRANDS = [b for b in US_BRANDS if b not in ("Lone", "Star", "Golden", "Gate", "Great", "Lakes")] + [
    "Lone Star",
    "Golden Gate",
    "Great Lakes",
]
EN_INDUSTRIES = (
    "Engineering Logistics Industries Manufacturing Technologies Systems Solutions Holdings Services "
    "Construction Electronics Software Trading Supplies Distribution Packaging Foods Plastics Metals "
    "Chemicals Automation Consulting Energy Pharmaceuticals Instruments International Components "
    "Tools Fabrication Controls Materials Equipment Precision Analytics"
).split()
EN_DIVISIONS = [
    "Holdings",
    "Healthcare",
    "Energy",
    "Services",
    "Logistics",
    "Digital",
    "Financial Services",
    "Real Estate",
    "Solutions",
    "International",
]
GB_FORMS = [("Ltd", 50), ("Limited", 30), ("PLC", 6), ("LLP", 6)]
US_FORMS = [("Inc.", 45), ("LLC", 30), ("Corp.", 10), ("Corporation", 5), ("Co.", 5), ("L.P.", 3)]
AU_FORMS = [("Pty Ltd", 75), ("Limited", 15), ("Ltd", 10)]
CA_FORMS = [("Inc.", 45), ("Ltd.", 25), ("Corp.", 15), ("Limited", 15)]
AU_BRANDS = (
    "Southern Cross Coastal Outback Harbour Eureka Wattle Banksia Jarrah Murray Kimberley Gippsland "
    "Hunter Riverina Barossa Yarra Swan Pilbara Tasman Coral Sunshine Bondi Darling Flinders"
).split()
CA_BRANDS = (
    "Maple Laurentian Cascadia Boreal Maritime Klondike Algonquin Rideau Fraser Niagara Superior "
    "Muskoka Okanagan Cariboo Chinook Aurora Polaris Tundra Huron Yukon Acadia Kootenay Selkirk"
).split()
#: English-speaking countries: names, forms and brands
EN_NAMES = {
    "GB": (GB_FORMS, GB_BRANDS),
    "US": (US_FORMS, US_BRANDS),
    "AU": (AU_FORMS, AU_BRANDS),
    "CA": (CA_FORMS, CA_BRANDS),
}
#: addresses of AU are written like GB's, of CA like US's
ADDRESS_STYLE = {"AU": "GB", "CA": "US"}

FR_SURNAMES = (
    "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefebvre "
    "Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard André Lefèvre Mercier Dupont "
    "Lambert Bonnet François Martinez Legrand Garnier Faure Rousseau Blanc Guérin Muller Henry "
    "Roussel Nicolas Perrin Morin Mathieu Clément Gauthier Dumont Lopez Fontaine Chevalier Robin"
).split()
FR_INDUSTRIES = (
    "Transports|Mécanique|Bâtiment|Logistique|Emballages|Informatique|Chimie|Métallerie|Plasturgie|"
    "Distribution|Ingénierie|Services|Conseil|Équipements|Électricité|Travaux Publics|Menuiserie|"
    "Imprimerie|Automatismes|Agroalimentaire"
).split("|")
FR_SURNAMES += (
    "Barbier Arnaud Martel Boyer Brun Caron Colin Denis Dufour Fabre Gaillard Giraud "
    "Hubert Joly Lacroix Leclerc Lemaire Marchand Masson Meunier Noël Olivier Picard "
    "Renaud Rey Roche Schmitt Vidal"
).split()
FR_COINED_HEAD = "Tech Euro Agri Bati Indus Médi Trans Axe Alti Proxi Logi Hydro Electro Méca Ther".split()
FR_COINED_TAIL = "france tech pro concept system plus ouest sud est nord services groupe ia nova".split()
FR_ADJ = (
    "Lyonnaise Parisienne Nantaise Bordelaise Alsacienne Normande Bretonne Provençale "
    "Atlantique Française Européenne Dauphinoise Lorraine Champenoise Picarde"
).split()
FR_FORMS = [("SAS", 45), ("SARL", 30), ("SA", 15), ("EURL", 5), ("SNC", 5)]
FR_DIVISIONS = ["Services", "Distribution", "Industrie", "Holding", "Énergie", "Ingénierie"]

NL_SURNAMES = [
    "de Jong",
    "Jansen",
    "de Vries",
    "van den Berg",
    "van Dijk",
    "Bakker",
    "Janssen",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Leeuwen",
    "Dekker",
    "Brouwer",
    "de Wit",
    "Dijkstra",
    "Smits",
    "de Graaf",
    "van der Meer",
    "van der Linden",
    "Kok",
    "Jacobs",
    "de Haan",
    "Vermeulen",
    "van den Heuvel",
    "van der Veen",
    "van den Broek",
    "de Bruijn",
    "de Bruin",
    "van der Heijden",
    "Schouten",
    "van Beek",
    "Willems",
    "van Vliet",
]
NL_SURNAMES += [
    "Hoekstra",
    "van Wijk",
    "Koster",
    "Prins",
    "Huisman",
    "Postma",
    "Kuipers",
    "Veenstra",
    "van Dam",
    "Timmermans",
    "Wouters",
    "Kramer",
    "Verbeek",
    "Maas",
    "van Doorn",
    "Boer",
    "Bosman",
    "Kuiper",
    "Martens",
    "Sanders",
    "Scholten",
    "Evers",
    "Gerritsen",
    "Groen",
    "Hermans",
    "Jonker",
    "Koning",
    "Lammers",
    "Verhoeven",
    "Wolters",
]
NL_COINED_HEAD = (
    "Holland Delta Noord Zuid Oranje Polder Rijn Maas Amstel Zee Duin Veen Dijk Hof Kern Lint Tulp Molen".split()
)
NL_COINED_TAIL = "tec bouw trans net plan vorm staal glas hout log pro matic data groep werk fix com".split()
NL_INDUSTRIES = (
    "Techniek Logistiek Bouw Installatietechniek Transport Handel Metaalbewerking "
    "Verpakkingen Automatisering Elektrotechniek Kunststoffen Machinebouw Groothandel "
    "Advies Software Vastgoed Infra Food Chemie Systemen"
).split()
NL_BRANDS = (
    "Holland Delta Noord Zuid Oranje Polder Rijn Maas Amstel Dutch Zeeland Brabant Veluwe Waddenzee Twente".split()
)
NL_FORMS = [("B.V.", 85), ("N.V.", 5), ("V.O.F.", 10)]
NL_DIVISIONS = ["Holding", "Services", "Logistiek", "Nederland", "International", "Techniek"]

# Chinese: brand characters with pinyin for domains.
CN_CHARS = dict(
    zip(
        "明华信天成恒通宏达金辉瑞丰永盛鑫源博远泰海嘉德锦凯正联创富安康星润和昊启航万伟业振银思卓宇川广佳美国新中东兴昌隆顺祥福利",
        (
            "ming hua xin tian cheng heng tong hong da jin hui rui feng yong sheng xin yuan bo yuan tai "
            "hai jia de jin kai zheng lian chuang fu an kang xing run he hao qi hang wan wei ye zhen yin "
            "si zhuo yu chuan guang jia mei guo xin zhong dong xing chang long shun xiang fu li"
        ).split(),
    )
)
CN_INDUSTRIES = [
    ("电子科技", "tech"),
    ("机械设备", "machinery"),
    ("贸易", "trading"),
    ("物流", "logistics"),
    ("软件技术", "soft"),
    ("新材料", "material"),
    ("精密机械", "precision"),
    ("化工", "chem"),
    ("医疗器械", "medical"),
    ("汽车零部件", "autoparts"),
    ("建筑工程", "construction"),
    ("食品", "food"),
    ("纺织", "textile"),
    ("电气", "electric"),
    ("自动化设备", "automation"),
    ("光电", "optoelec"),
    ("包装材料", "packaging"),
    ("进出口", "imp-exp"),
    ("信息技术", "it"),
    ("环保科技", "enviro"),
]
CN_FORMS = [("有限公司", 80), ("股份有限公司", 15), ("有限责任公司", 5)]

# Japanese: name heads with romaji, industries with romaji.
JP_HEADS = [
    ("東和", "towa"),
    ("日本", "nihon"),
    ("大和", "yamato"),
    ("富士", "fuji"),
    ("三協", "sankyo"),
    ("北斗", "hokuto"),
    ("昭和", "showa"),
    ("平和", "heiwa"),
    ("中央", "chuo"),
    ("旭", "asahi"),
    ("太陽", "taiyo"),
    ("明治", "meiji"),
    ("新日本", "shinnihon"),
    ("関東", "kanto"),
    ("東海", "tokai"),
    ("関西", "kansai"),
    ("九州", "kyushu"),
    ("菱和", "ryowa"),
    ("山田", "yamada"),
    ("田中", "tanaka"),
    ("鈴木", "suzuki"),
    ("佐藤", "sato"),
    ("高橋", "takahashi"),
    ("渡辺", "watanabe"),
    ("伊藤", "ito"),
    ("中村", "nakamura"),
    ("小林", "kobayashi"),
    ("加藤", "kato"),
    ("吉田", "yoshida"),
    ("山本", "yamamoto"),
    ("松本", "matsumoto"),
    ("井上", "inoue"),
    ("木村", "kimura"),
    ("清水", "shimizu"),
    ("山口", "yamaguchi"),
    ("池田", "ikeda"),
    ("サクラ", "sakura"),
    ("アオバ", "aoba"),
    ("ミドリ", "midori"),
    ("ヒカリ", "hikari"),
    ("ツバサ", "tsubasa"),
    ("ミライ", "mirai"),
    ("コスモ", "cosmo"),
    ("ユニオン", "union"),
    ("テクノ", "techno"),
    ("グローバル", "global"),
    ("エース", "ace"),
    ("大阪", "osaka"),
    ("京浜", "keihin"),
    ("北陸", "hokuriku"),
    ("丸和", "maruwa"),
    ("共栄", "kyoei"),
    ("第一", "daiichi"),
    ("三和", "sanwa"),
    ("大成", "taisei"),
]
JP_INDUSTRIES = [
    ("製作所", "ss"),
    ("電機", "denki"),
    ("工業", "kogyo"),
    ("精機", "seiki"),
    ("化学", "chem"),
    ("商事", "shoji"),
    ("物産", "bussan"),
    ("建設", "kensetsu"),
    ("運輸", "unyu"),
    ("電子", "denshi"),
    ("システムズ", "systems"),
    ("ソフトウェア", "soft"),
    ("技研", "giken"),
    ("産業", "sangyo"),
    ("製薬", "seiyaku"),
    ("食品", "foods"),
    ("設計", "sekkei"),
    ("印刷", "insatsu"),
    ("金属", "kinzoku"),
    ("機械", "kikai"),
    ("テクノロジー", "tech"),
    ("ロジスティクス", "logi"),
    ("エンジニアリング", "eng"),
]
JP_KANJI = dict(
    zip(
        "東西南北中大小山川田和平昭明光栄新日本富士三共協丸菱宝福金銀旭星朝高松竹桜森林岡島村石井岩泉",
        (
            "to sai nan hoku chu dai sho yama kawa ta wa hei sho mei ko ei shin nichi hon fu ji san kyo "
            "kyo maru ryo ho fuku kin gin kyoku sei cho ko matsu take sakura mori hayashi oka shima mura "
            "ishi i iwa izumi"
        ).split(),
    )
)
JP_LATIN_HEAD_P = 0.12  # share of Japanese names with a Latin-letter head ("TKSテクノロジー")

# Abbreviations typed in the CRM (token -> abbreviation).
CRM_ABBREV = {
    "International": "Intl",
    "Industries": "Ind.",
    "Manufacturing": "Mfg",
    "Technologies": "Tech.",
    "Technology": "Tech.",
    "Engineering": "Eng.",
    "Corporation": "Corp.",
    "Company": "Co.",
    "Limited": "Ltd",
    "Systems": "Sys.",
    "Services": "Svcs",
    "Distribution": "Dist.",
    "Brothers": "Bros.",
    "and": "&",
    "Elektrotechnik": "Elektrotech.",
    "Maschinenbau": "Masch.-Bau",
    "Gesellschaft": "Ges.",
    "Société": "Sté",
    "Logistics": "Logist.",
    "Electronics": "Elec.",
    "Holdings": "Hldgs",
    "Automation": "Autom.",
    "Installatietechniek": "Install.techniek",
    "Equipment": "Equip.",
    "Precision": "Prec.",
    "Construction": "Constr.",
}
FORM_VARIANTS = {  # legal form -> other spellings seen in the wild
    "GmbH & Co. KG": ["GmbH & Co KG", "GmbH u. Co. KG", "GmbH&Co.KG"],
    "e.K.": ["e. K.", "eK"],
    "UG (haftungsbeschränkt)": ["UG", "UG (haftungsbeschraenkt)"],
    "Ltd": ["Ltd.", "Limited"],
    "Limited": ["Ltd", "Ltd."],
    "PLC": ["plc", "Public Limited Company"],
    "Inc.": ["Inc", ", Inc.", "Incorporated"],
    "Corp.": ["Corp", "Corporation"],
    "Corporation": ["Corp.", "Corp"],
    "Co.": ["Company", "Co"],
    "L.P.": ["LP"],
    "LLC": ["L.L.C.", ", LLC"],
    "B.V.": ["BV", "B.V"],
    "N.V.": ["NV"],
    "V.O.F.": ["VOF"],
    "SAS": ["S.A.S.", "SAS."],
    "SARL": ["S.A.R.L.", "Sarl"],
    "SA": ["S.A."],
    "AG": ["Aktiengesellschaft"],
}
FINANCE_LONG_FORMS = {
    "Ltd": "Limited",
    "Inc.": "Incorporated",
    "Corp.": "Corporation",
    "Co.": "Company",
    "AG": "Aktiengesellschaft",
    "B.V.": "Besloten Vennootschap",
}

FIRST_NAMES = {
    "DE": "thomas michael andreas stefan christian julia sabine anna katrin markus jens frank tobias lena".split(),
    "GB": "john david sarah emma james michael laura mark paul lisa oliver charlotte".split(),
    "US": "john david sarah emily james michael jessica robert ashley chris megan brian".split(),
    "FR": "pierre marie jean sophie nicolas camille julien isabelle laurent claire".split(),
    "NL": "jan pieter sanne lotte daan bram eva anouk joost maarten".split(),
    "CN": "wei fang jing lei min jun yan hui qiang li na tao".split(),
    "JP": "hiroshi takashi yuki kenji akiko naoko satoshi yusuke mai daisuke".split(),
    "AU": "jack olivia william charlotte noah mia thomas chloe lachlan emily".split(),
    "CA": "liam emma noah olivia ethan sophie lucas chloe benjamin jessica".split(),
}
LAST_NAMES = {
    "CN": "wang li zhang liu chen yang zhao huang zhou wu xu sun".split(),
    "JP": "sato suzuki takahashi tanaka watanabe ito yamamoto nakamura kobayashi kato".split(),
}
FREEMAIL = {
    "DE": ["gmail.com", "web.de", "gmx.de", "t-online.de"],
    "GB": ["gmail.com", "hotmail.co.uk", "btinternet.com", "yahoo.co.uk"],
    "US": ["gmail.com", "yahoo.com", "outlook.com", "aol.com"],
    "FR": ["gmail.com", "orange.fr", "free.fr", "laposte.net"],
    "NL": ["gmail.com", "hotmail.nl", "ziggo.nl", "kpnmail.nl"],
    "CN": ["qq.com", "163.com", "126.com", "sina.com"],
    "JP": ["yahoo.co.jp", "gmail.com", "docomo.ne.jp", "nifty.com"],
    "AU": ["gmail.com", "bigpond.com", "outlook.com", "yahoo.com.au"],
    "CA": ["gmail.com", "shaw.ca", "rogers.com", "outlook.com"],
}
GENERIC_MAILBOX = {
    "DE": ["info", "vertrieb", "kontakt", "office", "zentrale"],
    "GB": ["info", "sales", "enquiries", "office"],
    "US": ["info", "sales", "contact", "office"],
    "FR": ["contact", "info", "commercial", "accueil"],
    "NL": ["info", "verkoop", "contact"],
    "CN": ["info", "sales", "service"],
    "JP": ["info", "sales", "contact", "eigyo"],
    "AU": ["info", "sales", "enquiries", "admin"],
    "CA": ["info", "sales", "contact", "office"],
}
BILLING_MAILBOX = {
    "DE": ["buchhaltung", "rechnung", "rechnungen", "finanzen", "invoices"],
    "GB": ["accounts", "invoices", "accountspayable", "finance"],
    "US": ["ap", "accountspayable", "billing", "invoices"],
    "FR": ["comptabilite", "factures", "compta"],
    "NL": ["facturen", "administratie", "crediteuren"],
    "CN": ["finance", "caiwu", "invoice"],
    "JP": ["keiri", "invoice", "seikyu"],
    "AU": ["accounts", "accountspayable", "invoices"],
    "CA": ["ap", "accountspayable", "billing", "invoices"],
}
TLDS = {
    "DE": [".de"],
    "GB": [".co.uk", ".com"],
    "US": [".com"],
    "FR": [".fr", ".com"],
    "NL": [".nl", ".com"],
    "CN": [".com.cn", ".cn", ".com"],
    "JP": [".co.jp", ".jp"],
    "AU": [".com.au"],
    "CA": [".ca", ".com"],
}

# Cities: name, aliases typed elsewhere, phone area code (national, without trunk 0),
# postcode spec, extra (districts for CN/JP).
CITIES = {
    "DE": [
        ("Berlin", [], "30", (10115, 14199)),
        ("Hamburg", [], "40", (20095, 22769)),
        ("München", ["Muenchen", "Munich", "MUENCHEN"], "89", (80331, 81929)),
        ("Köln", ["Koeln", "Cologne"], "221", (50667, 51149)),
        (
            "Frankfurt am Main",
            ["Frankfurt", "Frankfurt/Main", "Frankfurt a.M."],
            "69",
            (60306, 60599),
        ),
        ("Stuttgart", [], "711", (70173, 70629)),
        ("Düsseldorf", ["Duesseldorf"], "211", (40210, 40629)),
        ("Leipzig", [], "341", (4103, 4357)),
        ("Dortmund", [], "231", (44135, 44388)),
        ("Essen", [], "201", (45127, 45359)),
        ("Bremen", [], "421", (28195, 28779)),
        ("Dresden", [], "351", (1067, 1328)),
        ("Hannover", ["Hanover"], "511", (30159, 30669)),
        ("Nürnberg", ["Nuernberg", "Nuremberg"], "911", (90402, 90491)),
        ("Bonn", [], "228", (53111, 53229)),
        ("Münster", ["Muenster"], "251", (48143, 48167)),
        ("Karlsruhe", [], "721", (76131, 76229)),
        ("Mannheim", [], "621", (68159, 68309)),
        ("Augsburg", [], "821", (86150, 86199)),
        ("Wiesbaden", [], "611", (65183, 65207)),
        ("Kiel", [], "431", (24103, 24159)),
        ("Aachen", [], "241", (52062, 52080)),
        ("Freiburg im Breisgau", ["Freiburg", "Freiburg i. Br."], "761", (79098, 79117)),
        ("Bielefeld", [], "521", (33602, 33739)),
        ("Mainz", [], "6131", (55116, 55131)),
        ("Rostock", [], "381", (18055, 18147)),
        ("Kassel", [], "561", (34117, 34134)),
        ("Regensburg", [], "941", (93047, 93059)),
        ("Ulm", [], "731", (89073, 89081)),
        ("Heilbronn", [], "7131", (74072, 74081)),
    ],
    "GB": [
        ("London", [], "20", ["EC1A", "EC2M", "WC2H", "SW1A", "SE1", "E14", "N1", "W1D", "NW1"]),
        ("Manchester", [], "161", ["M1", "M2", "M3", "M4", "M15"]),
        ("Birmingham", [], "121", ["B1", "B2", "B3", "B4"]),
        ("Leeds", [], "113", ["LS1", "LS2", "LS9"]),
        ("Glasgow", [], "141", ["G1", "G2", "G3"]),
        ("Bristol", [], "117", ["BS1", "BS2"]),
        ("Edinburgh", [], "131", ["EH1", "EH2", "EH3"]),
        ("Liverpool", [], "151", ["L1", "L2", "L3"]),
        ("Sheffield", [], "114", ["S1", "S2"]),
        ("Nottingham", [], "115", ["NG1", "NG2", "NG5", "NG7"]),
        ("Newcastle upon Tyne", ["Newcastle"], "191", ["NE1", "NE2", "NE4", "NE6"]),
        ("Cardiff", [], "29", ["CF10", "CF11", "CF14", "CF24"]),
        ("Southampton", [], "23", ["SO14", "SO15", "SO16"]),
        ("Reading", [], "118", ["RG1", "RG2", "RG6"]),
        ("Cambridge", [], "1223", ["CB1", "CB2", "CB4"]),
        ("Oxford", [], "1865", ["OX1", "OX2", "OX4"]),
        ("Leicester", [], "116", ["LE1", "LE2", "LE4"]),
        ("Belfast", [], "28", ["BT1", "BT3", "BT7", "BT9"]),
        ("Aberdeen", [], "1224", ["AB10", "AB11", "AB25"]),
        ("Coventry", [], "24", ["CV1", "CV3", "CV6"]),
    ],
    "US": [
        ("New York", ["NYC", "New York City"], "212", "100"),
        ("San Francisco", ["SF"], "415", "941"),
        ("Chicago", [], "312", "606"),
        ("Houston", [], "713", "770"),
        ("Seattle", [], "206", "981"),
        ("Boston", [], "617", "021"),
        ("Atlanta", [], "404", "303"),
        ("Denver", [], "303", "802"),
        ("Austin", [], "512", "787"),
        ("Los Angeles", ["LA"], "213", "900"),
        ("Dallas", [], "214", "752"),
        ("Phoenix", [], "602", "850"),
        ("Miami", [], "305", "331"),
        ("Detroit", [], "313", "482"),
        ("Minneapolis", [], "612", "554"),
        ("Philadelphia", ["Philly"], "215", "191"),
        ("Portland", [], "503", "972"),
        ("San Diego", [], "619", "921"),
        ("Charlotte", [], "704", "282"),
        ("Nashville", [], "615", "372"),
        ("Columbus", [], "614", "432"),
        ("Indianapolis", [], "317", "462"),
        ("Pittsburgh", [], "412", "152"),
        ("Salt Lake City", ["SLC"], "801", "841"),
        ("Kansas City", [], "816", "641"),
        ("St. Louis", ["Saint Louis", "St Louis"], "314", "631"),
        ("Cleveland", [], "216", "441"),
        ("Orlando", [], "407", "328"),
        ("Tampa", [], "813", "336"),
        ("Raleigh", [], "919", "276"),
    ],
    "FR": [
        ("Paris", [], "1", ["750%02d" % k for k in range(1, 21)]),
        ("Marseille", [], "4", ["130%02d" % k for k in range(1, 17)]),
        ("Lyon", [], "4", ["6900%d" % k for k in range(1, 10)]),
        ("Toulouse", [], "5", ["31000", "31100", "31200", "31300", "31400", "31500"]),
        ("Nice", [], "4", ["06000", "06100", "06200", "06300"]),
        ("Nantes", [], "2", ["44000", "44100", "44200", "44300"]),
        ("Strasbourg", [], "3", ["67000", "67100", "67200"]),
        ("Montpellier", [], "4", ["34000", "34070", "34080", "34090"]),
        ("Bordeaux", [], "5", ["33000", "33100", "33200", "33300", "33800"]),
        ("Lille", [], "3", ["59000", "59160", "59260", "59777", "59800"]),
        ("Rennes", [], "2", ["35000", "35200", "35700"]),
        ("Reims", [], "3", ["51100"]),
        ("Le Havre", [], "2", ["76600", "76610", "76620"]),
        ("Saint-Étienne", ["St-Etienne", "Saint-Etienne"], "4", ["42000", "42100"]),
        ("Toulon", [], "4", ["83000", "83100", "83200"]),
        ("Grenoble", [], "4", ["38000", "38100"]),
        ("Dijon", [], "3", ["21000"]),
        ("Angers", [], "2", ["49000", "49100"]),
        ("Nîmes", ["Nimes"], "4", ["30000", "30900"]),
        ("Clermont-Ferrand", ["Clermont-Fd", "Clermont Ferrand"], "4", ["63000", "63100"]),
        ("Tours", [], "2", ["37000", "37100", "37200"]),
        ("Limoges", [], "5", ["87000", "87100", "87280"]),
        ("Amiens", [], "3", ["80000", "80080", "80090"]),
        ("Metz", [], "3", ["57000", "57050", "57070"]),
        ("Besançon", ["Besancon"], "3", ["25000"]),
        ("Orléans", ["Orleans"], "2", ["45000", "45100"]),
        ("Rouen", [], "2", ["76000", "76100"]),
        ("Caen", [], "2", ["14000"]),
        ("Mulhouse", [], "3", ["68100", "68200"]),
    ],
    "NL": [
        ("Amsterdam", [], "20", (1011, 1109)),
        ("Rotterdam", [], "10", (3011, 3089)),
        ("Den Haag", ["'s-Gravenhage", "The Hague"], "70", (2491, 2597)),
        ("Utrecht", [], "30", (3511, 3585)),
        ("Eindhoven", [], "40", (5611, 5658)),
        ("Groningen", [], "50", (9711, 9747)),
        ("Tilburg", [], "13", (5011, 5049)),
        ("Breda", [], "76", (4811, 4839)),
        ("Haarlem", [], "23", (2011, 2037)),
        ("Arnhem", [], "26", (6811, 6846)),
        ("Nijmegen", [], "24", (6511, 6546)),
        ("Amersfoort", [], "33", (3811, 3829)),
        ("Zwolle", [], "38", (8011, 8043)),
        ("Maastricht", [], "43", (6211, 6229)),
        ("Leiden", [], "71", (2311, 2334)),
        ("Delft", [], "15", (2611, 2629)),
        ("'s-Hertogenbosch", ["Den Bosch", "s-Hertogenbosch"], "73", (5211, 5249)),
        ("Apeldoorn", [], "55", (7311, 7339)),
        ("Enschede", [], "53", (7511, 7548)),
        ("Almere", [], "36", (1311, 1363)),
    ],
    "CN": [  # name, aliases, area code, postcode base, (USCC region code, districts, name prefix)
        (
            "上海",
            ["上海市", "Shanghai"],
            "21",
            200000,
            ("310115", ["浦东新区", "徐汇区", "闵行区", "嘉定区", "静安区"], "上海"),
        ),
        (
            "北京",
            ["北京市", "Beijing"],
            "10",
            100000,
            ("110105", ["朝阳区", "海淀区", "丰台区", "大兴区"], "北京"),
        ),
        (
            "深圳",
            ["深圳市", "Shenzhen"],
            "755",
            518000,
            ("440300", ["南山区", "福田区", "宝安区", "龙岗区"], "深圳市"),
        ),
        (
            "广州",
            ["广州市", "Guangzhou"],
            "20",
            510000,
            ("440100", ["天河区", "黄埔区", "番禺区"], "广州"),
        ),
        (
            "杭州",
            ["杭州市", "Hangzhou"],
            "571",
            310000,
            ("330100", ["西湖区", "滨江区", "余杭区"], "杭州"),
        ),
        (
            "苏州",
            ["苏州市", "Suzhou"],
            "512",
            215000,
            ("320500", ["工业园区", "吴中区", "相城区"], "苏州"),
        ),
        (
            "南京",
            ["南京市", "Nanjing"],
            "25",
            210000,
            ("320100", ["江宁区", "鼓楼区", "玄武区"], "南京"),
        ),
        (
            "成都",
            ["成都市", "Chengdu"],
            "28",
            610000,
            ("510100", ["武侯区", "高新区", "锦江区"], "成都"),
        ),
        (
            "武汉",
            ["武汉市", "Wuhan"],
            "27",
            430000,
            ("420100", ["洪山区", "江汉区", "武昌区"], "武汉"),
        ),
        (
            "天津",
            ["天津市", "Tianjin"],
            "22",
            300000,
            ("120000", ["滨海新区", "和平区", "南开区"], "天津"),
        ),
        (
            "宁波",
            ["宁波市", "Ningbo"],
            "574",
            315000,
            ("330200", ["鄞州区", "北仑区", "海曙区"], "宁波"),
        ),
        (
            "青岛",
            ["青岛市", "Qingdao"],
            "532",
            266000,
            ("370200", ["市南区", "黄岛区", "崂山区"], "青岛"),
        ),
        (
            "西安",
            ["西安市", "Xi'an"],
            "29",
            710000,
            ("610100", ["雁塔区", "碑林区", "未央区"], "西安"),
        ),
        (
            "长沙",
            ["长沙市", "Changsha"],
            "731",
            410000,
            ("430100", ["岳麓区", "芙蓉区", "天心区"], "长沙"),
        ),
        (
            "郑州",
            ["郑州市", "Zhengzhou"],
            "371",
            450000,
            ("410100", ["金水区", "二七区", "中原区"], "郑州"),
        ),
        (
            "沈阳",
            ["沈阳市", "Shenyang"],
            "24",
            110000,
            ("210100", ["和平区", "沈河区", "铁西区"], "沈阳"),
        ),
        (
            "大连",
            ["大连市", "Dalian"],
            "411",
            116000,
            ("210200", ["中山区", "沙河口区", "甘井子区"], "大连"),
        ),
        (
            "济南",
            ["济南市", "Jinan"],
            "531",
            250000,
            ("370100", ["历下区", "市中区", "槐荫区"], "济南"),
        ),
        (
            "合肥",
            ["合肥市", "Hefei"],
            "551",
            230000,
            ("340100", ["蜀山区", "包河区", "庐阳区"], "合肥"),
        ),
        (
            "福州",
            ["福州市", "Fuzhou"],
            "591",
            350000,
            ("350100", ["鼓楼区", "台江区", "仓山区"], "福州"),
        ),
        (
            "无锡",
            ["无锡市", "Wuxi"],
            "510",
            214000,
            ("320200", ["梁溪区", "滨湖区", "新吴区"], "无锡"),
        ),
        (
            "佛山",
            ["佛山市", "Foshan"],
            "757",
            528000,
            ("440600", ["禅城区", "南海区", "顺德区"], "佛山"),
        ),
        (
            "昆明",
            ["昆明市", "Kunming"],
            "871",
            650000,
            ("530100", ["五华区", "盘龙区", "官渡区"], "昆明"),
        ),
    ],
    "JP": [  # name, aliases, area code, postcode prefixes, wards
        (
            "東京都",
            ["東京", "Tokyo"],
            "3",
            ["100", "105", "103", "160", "150", "135", "140", "144"],
            ["千代田区", "港区", "中央区", "新宿区", "渋谷区", "品川区", "江東区", "大田区"],
        ),
        (
            "大阪市",
            ["大阪", "Osaka"],
            "6",
            ["530", "541", "550", "532"],
            ["北区", "中央区", "西区", "淀川区"],
        ),
        (
            "名古屋市",
            ["名古屋", "Nagoya"],
            "52",
            ["450", "460", "461", "464"],
            ["中村区", "中区", "東区", "千種区"],
        ),
        (
            "横浜市",
            ["横浜", "Yokohama"],
            "45",
            ["220", "231", "222", "221"],
            ["西区", "中区", "港北区", "神奈川区"],
        ),
        ("福岡市", ["福岡", "Fukuoka"], "92", ["812", "810", "813"], ["博多区", "中央区", "東区"]),
        ("札幌市", ["札幌", "Sapporo"], "11", ["060", "001", "065"], ["中央区", "北区", "東区"]),
        ("京都市", ["京都", "Kyoto"], "75", ["600", "604", "601"], ["下京区", "中京区", "南区"]),
        ("神戸市", ["神戸", "Kobe"], "78", ["650", "652", "657"], ["中央区", "兵庫区", "灘区"]),
        ("川崎市", ["川崎", "Kawasaki"], "44", ["210", "211", "212"], ["川崎区", "幸区", "中原区"]),
        ("広島市", ["広島", "Hiroshima"], "82", ["730", "732", "733"], ["中区", "南区", "西区"]),
        (
            "仙台市",
            ["仙台", "Sendai"],
            "22",
            ["980", "981", "983"],
            ["青葉区", "宮城野区", "若林区"],
        ),
        (
            "さいたま市",
            ["さいたま", "Saitama"],
            "48",
            ["330", "331", "336"],
            ["大宮区", "浦和区", "中央区"],
        ),
        ("千葉市", ["千葉", "Chiba"], "43", ["260", "261", "263"], ["中央区", "美浜区", "稲毛区"]),
        (
            "北九州市",
            ["北九州", "Kitakyushu"],
            "93",
            ["802", "803", "804"],
            ["小倉北区", "八幡西区", "戸畑区"],
        ),
        ("浜松市", ["浜松", "Hamamatsu"], "53", ["430", "432", "433"], ["中央区", "浜名区"]),
    ],
    "AU": [  # name, aliases, area code, postcode range
        ("Sydney", [], "2", (2000, 2234)),
        ("Melbourne", [], "3", (3000, 3207)),
        ("Brisbane", [], "7", (4000, 4179)),
        ("Perth", [], "8", (6000, 6199)),
        ("Adelaide", [], "8", (5000, 5174)),
        ("Canberra", [], "2", (2600, 2617)),
        ("Hobart", [], "3", (7000, 7055)),
        ("Gold Coast", [], "7", (4207, 4230)),
        ("Newcastle", [], "2", (2280, 2310)),
        ("Geelong", [], "3", (3211, 3227)),
    ],
    "CA": [  # name, aliases, area code, forward sortation areas
        ("Toronto", [], "416", ["M5V", "M4W", "M5H", "M6K", "M5J"]),
        ("Montréal", ["Montreal"], "514", ["H2X", "H3B", "H3A", "H2Y"]),
        ("Vancouver", [], "604", ["V6B", "V6C", "V5K", "V6E"]),
        ("Calgary", [], "403", ["T2P", "T2G", "T3E"]),
        ("Ottawa", [], "613", ["K1P", "K2P", "K1N"]),
        ("Edmonton", [], "780", ["T5J", "T6E"]),
        ("Winnipeg", [], "204", ["R3C", "R3B"]),
        ("Québec", ["Quebec City", "Quebec"], "418", ["G1R", "G1K"]),
        ("Hamilton", [], "905", ["L8P", "L8N"]),
        ("Halifax", [], "902", ["B3H", "B3J"]),
    ],
}
COUNTRY_CALLING = {
    "DE": "49",
    "GB": "44",
    "US": "1",
    "FR": "33",
    "NL": "31",
    "CN": "86",
    "JP": "81",
    "AU": "61",
    "CA": "1",
}

# Street names are composed from parts so that a city has thousands of them, as
# real cities do (a handful of streets per city makes addresses look like
# evidence of a match when they are not).
DE_STREET_WORDS = (
    "Haupt Bahnhof Industrie Gewerbe Schiller Goethe Garten Berg Linden Eichen Birken Buchen Tannen "
    "Ahorn Kastanien Rosen Tulpen Flieder Wiesen Feld Wald Tal Bach Mühlen Kirch Schul Markt Post "
    "Brunnen Hafen Kaiser Friedrich Wilhelm Luisen Bismarck Beethoven Mozart Kant Lessing Herder "
    "Uhland Humboldt Hölderlin Eichendorff Gutenberg Kepler Diesel Daimler Siemens Röntgen Planck "
    "Einstein Leibniz Fontane Heine Dürer Luther Ring Ost West Süd Nord Sonnen Mond Stern Burg "
    "Schloss Dorf Anger Hof Steinbruch Ziegel Kalk Sand Lehm Weiden Erlen Eschen Kiefern Fichten"
).split()
DE_STREET_SUFFIXES = [
    ("straße", 55),
    ("weg", 15),
    ("allee", 6),
    ("ring", 6),
    ("platz", 4),
    ("gasse", 4),
    ("damm", 4),
    ("ufer", 3),
    ("steig", 3),
]
EN_STREET_NAMES = (
    "High Station Church Mill Victoria Park King Queen Bridge Market Main Oak Maple Washington Lake "
    "Elm Pine Cedar Commerce Industrial Harbor Mission Madison Jefferson Lincoln Franklin Sunset "
    "Ridge Riverside Meadow Beech Birch Willow Cherry Chestnut Hawthorn Holly Laurel Poplar Rowan "
    "Sycamore Walnut Spruce Hickory Magnolia Dogwood Aspen Juniper Cypress Monroe Adams Jackson "
    "Grant Harrison Taylor Wilson Hamilton Clinton Kennedy Roosevelt Garfield Cleveland Hayes "
    "Pierce Tyler Polk Fillmore Lafayette Greenwood Fairview Highland Hillcrest Lakeview Woodland "
    "Springfield Brookside Forest Valley Summit Prospect Union Liberty Chapel School Mill Pond "
    "Orchard Vine Grove Heath Moor Manor Abbey Castle Crown Albert Alexandra Cambridge Oxford "
    "York Windsor Warwick Kent Essex Devon Cornwall Dorset Somerset Norfolk Suffolk"
).split() + EN_SURNAMES
GB_STREET_TYPES = [
    ("Road", "Rd"),
    ("Street", "St"),
    ("Lane", "Ln"),
    ("Avenue", "Ave"),
    ("Way", "Way"),
    ("Close", "Cl"),
    ("Drive", "Dr"),
    ("Crescent", "Cres"),
    ("Gardens", "Gdns"),
    ("Grove", "Gr"),
    ("Place", "Pl"),
    ("Terrace", "Terr"),
]
US_STREET_TYPES = [
    ("Street", "St"),
    ("Avenue", "Ave"),
    ("Boulevard", "Blvd"),
    ("Road", "Rd"),
    ("Drive", "Dr"),
    ("Parkway", "Pkwy"),
    ("Lane", "Ln"),
    ("Way", "Way"),
    ("Court", "Ct"),
    ("Place", "Pl"),
]
GB_PARK_TYPES = [
    "Business Park",
    "Industrial Estate",
    "Trading Estate",
    "Enterprise Park",
    "Business Centre",
]
FR_STREET_TYPES = [
    ("rue", "r.", 55),
    ("avenue", "av.", 15),
    ("boulevard", "bd", 8),
    ("allée", "all.", 5),
    ("impasse", "imp.", 5),
    ("chemin", "ch.", 5),
    ("place", "pl.", 4),
    ("quai", "q.", 3),
]
FR_STREET_NAMES = (
    "de la République|Victor Hugo|Jean Jaurès|de la Gare|du Général de Gaulle|Pasteur|de Paris|"
    "du Commerce|de l'Industrie|Gambetta|Voltaire|Émile Zola|de la Paix|Carnot|Jean Moulin|Foch|"
    "Clemenceau|Jules Ferry|Anatole France|Molière|Racine|Lamartine|Berlioz|Rameau|Monge|"
    "Marie Curie|de la Liberté|de la Fontaine|de la Poste|de la Mairie|de la Forêt|de la Prairie|"
    "du Moulin|du Château|du Port|du Stade|du Marché|des Lilas|des Acacias|des Tilleuls|"
    "des Peupliers|des Érables|des Roses|des Vignes|des Champs|des Écoles|des Artisans|"
    "Saint-Michel|Saint-Jacques|Saint-Martin|Sainte-Catherine|Nationale|de Verdun|de Strasbourg|"
    "de Lyon|de Bordeaux|de Bretagne|de Normandie|des Frères Lumière|Louis Blériot|Gustave Eiffel"
).split("|")
NL_STREET_WORDS = (
    "Keizers Heren Prinsen Industrie Nijverheid Energie Handels Molen Kerk Dorps School Markt Haven "
    "Stations Ambachts Linden Eiken Beuken Berken Wilgen Tulpen Rozen Zuider Noorder Ooster Wester "
    "Konings Juliana Beatrix Wilhelmina Oranje Nassau Rembrandt Vondel Spinoza Erasmus Huygens "
    "Lorentz Zernike Marconi Edison Tesla Galilei Kepler Copernicus Kastanje Esdoorn Populier "
    "Vlier Hazelaar Meidoorn Veld Bos Heide Duin Polder Dijk Sluis Brug Toren Poort"
).split()
NL_STREET_SUFFIXES = [
    ("straat", 40),
    ("weg", 25),
    ("laan", 15),
    ("gracht", 3),
    ("kade", 4),
    ("plein", 4),
    ("singel", 3),
    ("dijk", 3),
    ("hof", 3),
]
CN_ROAD_SUFFIXES = ["路", "路", "路", "街", "大道", "东路", "西路", "南路", "北路"]

NAMESAKE_P = 0.055  # per base entity: spawn a namesake (same name, other company)
SIBLING_P = 0.045  # per base entity: spawn 1-2 group siblings
SYSTEM_COUNT_P = ((1, 0.35), (2, 0.40), (3, 0.25))
SINGLE_SYSTEM_P = (("crm", 0.5), ("erp", 0.3), ("finance", 0.2))
PAIR_SYSTEM_P = ((("erp", "finance"), 0.40), (("erp", "crm"), 0.35), (("crm", "finance"), 0.25))
DUP_P = {"crm": 0.10, "erp": 0.03, "finance": 0.015}  # within-system duplicates
# The cases of issue 17, each at a few per cent (see the module docstring).
BRANCH_P = 0.03  # per base entity: spawn a branch / regional subsidiary
SHARED_PHONE_P = {"sibling": 0.25, "branch": 0.45}  # answers on the group's HQ switchboard
SHARED_ADDRESS_P = {"sibling": 0.35, "branch": 0.45}  # same building (when in the same city)
SHARED_DOMAIN_P = {"sibling": 0.5, "branch": 0.8}
PARENT_TAX_P = 0.25  # per sibling/branch: one of its records carries the parent's tax id
CN_REG_NO_P = 0.30  # CN entities registered before 2015: legacy systems keep the 15-digit number
CN_REG_NO_USE_P = 0.6  # ...in a crm/finance record that has a tax id
CROSS_SCRIPT_P = 0.12  # per CN/JP base entity: one system holds the English legal name
CROSS_SCRIPT_SHARED_MAIL_P = 0.4  # ...with the billing address the finance system has too
BAD_PHONE_ENTITY_P = 0.015  # the company's number is wrong at the source (fails validation everywhere)
BAD_PHONE_RECORD_P = 0.02  # one digit lost in one record's phone
ANNOTATED_NAME_P = {"erp": 0.0, "crm": 0.02, "finance": 0.03}  # "… - Accounts Payable", "… (inactive)"
#: what exports write beside a name, by the language of the company's country
NAME_ANNOTATIONS = {
    "DE": [" z. Hd. Buchhaltung", " - Buchhaltung", " (alt)", " (inaktiv)"],
    "FR": [" - Comptabilité", " (inactif)"],
    "NL": [" - Accounts Payable", " (inactive)"],
    "*": [" - Accounts Payable", " (inactive)", " Attn: Accounts", " c/o Finance Dept", " (do not use)"],
}
TWO_PHONES_P = 0.04  # a crm phone field holding the main number and a mobile ("… / …")
EMAIL_DRESSED_P = 0.05  # a crm address with a name, a comment, a second address or quotes around it
TAX_PLACEHOLDER_P = {"erp": 0.15, "crm": 0.05, "finance": 0.10}  # of the records without a tax id
TAX_STYLE_P = {  # how a present tax id is written, per system
    "erp": (("canonical", 0.94), ("labelled", 0.03), ("prefixed", 0.03)),
    "crm": (("canonical", 0.30), ("spaced", 0.25), ("bare", 0.25), ("labelled", 0.12), ("prefixed", 0.08)),
    "finance": (("canonical", 0.30), ("spaced", 0.25), ("bare", 0.25), ("labelled", 0.12), ("prefixed", 0.08)),
}
AU_ACN_P = 0.4  # an AU crm/finance record giving the ACN instead of the ABN
#: a GB/NL crm/finance record giving the company's registry number (Companies House CRN,
#: KvK) instead of its VAT number; drawn from a generator of its own, so that every other
#: record is the one earlier versions of this module made
REGISTRY_NO_P = 0.15
COUNTRY_SPELLING_P = {"erp": 0.01, "crm": 0.10, "finance": 0.05}
COUNTRY_SPELLINGS = {
    "DE": ["GER", "Germany", "Deutschland", "DEU", "BRD", "Deutschland (DE)"],
    "GB": ["U.K.", "UK", "United Kingdom", "Great Britain", "GBR", "England"],
    "US": ["USA", "U.S.A.", "United States of America", "United States", "U.S."],
    "FR": ["France", "FRA", "Frankreich"],
    "NL": ["Netherlands", "Holland", "Nederland", "NLD", "The Netherlands"],
    "CN": ["P.R. China", "China (PRC)", "中国", "中华人民共和国", "CHN", "PRC", "China", "CN - China"],
    "JP": ["日本", "Japan", "JPN", "日本国", "Japan (JP)"],
    "AU": ["Australia", "AUS", "Australien"],
    "CA": ["Canada", "CAN", "Kanada"],
}
CN_INDUSTRY_EN = {
    "tech": "Electronic Technology",
    "machinery": "Machinery Equipment",
    "trading": "Trading",
    "logistics": "Logistics",
    "soft": "Software Technology",
    "material": "New Material",
    "precision": "Precision Machinery",
    "chem": "Chemical",
    "medical": "Medical Instruments",
    "autoparts": "Auto Parts",
    "construction": "Construction Engineering",
    "food": "Food",
    "textile": "Textile",
    "electric": "Electric",
    "automation": "Automation Equipment",
    "optoelec": "Optoelectronics",
    "packaging": "Packaging Materials",
    "imp-exp": "Import and Export",
    "it": "Information Technology",
    "enviro": "Environmental Technology",
}
JP_INDUSTRY_EN = {
    "ss": "Seisakusho",
    "denki": "Electric",
    "kogyo": "Industries",
    "seiki": "Seiki",
    "chem": "Chemical",
    "shoji": "Shoji",
    "bussan": "Bussan",
    "kensetsu": "Construction",
    "unyu": "Transport",
    "denshi": "Electronics",
    "systems": "Systems",
    "soft": "Software",
    "giken": "Giken",
    "sangyo": "Sangyo",
    "seiyaku": "Pharmaceutical",
    "foods": "Foods",
    "sekkei": "Design",
    "insatsu": "Printing",
    "kinzoku": "Metal",
    "kikai": "Machinery",
    "tech": "Technology",
    "logi": "Logistics",
    "eng": "Engineering",
}
BRANCH_WORDS = {  # regional names of a branch / regional subsidiary
    "DE": ["Nord", "Süd", "West", "Ost", "Bayern", "Sachsen", "Rhein-Main", "Berlin"],
    "GB": ["North", "Scotland", "Midlands", "South West", "Wales", "London"],
    "US": ["West", "Texas", "Midwest", "East Coast", "California", "Southeast"],
    "FR": ["Sud", "Ouest", "Est", "Île-de-France", "Rhône-Alpes"],
    "NL": ["Noord", "Zuid", "Oost", "Randstad"],
    "AU": ["NSW", "Victoria", "Queensland", "WA"],
    "CA": ["Ontario", "Québec", "West", "Atlantic"],
}


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------


def _pick_weighted(rng: random.Random, pairs):
    r = rng.random() * sum(w for _, w in pairs)
    for value, w in pairs:
        r -= w
        if r <= 0:
            return value
    return pairs[-1][0]


_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"})


def ascii_fold(s: str) -> str:
    s = s.translate(_TRANSLIT)
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def slug(s: str) -> str:
    out = []
    for ch in ascii_fold(s).lower():
        if ch.isascii() and ch.isalnum():
            out.append(ch)
        elif out and out[-1] != "-":
            out.append("-")
    return "".join(out).strip("-")


def fullwidth(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else ("\u3000" if c == " " else c) for c in s)


_KEYBOARD = {
    "a": "qwsz",
    "b": "vghn",
    "c": "xdfv",
    "d": "serfcx",
    "e": "wsdr",
    "f": "drtgvc",
    "g": "ftyhbv",
    "h": "gyujnb",
    "i": "ujko",
    "j": "huikmn",
    "k": "jiolm",
    "l": "kop",
    "m": "njk",
    "n": "bhjm",
    "o": "iklp",
    "p": "ol",
    "q": "wa",
    "r": "edft",
    "s": "awedxz",
    "t": "rfgy",
    "u": "yhji",
    "v": "cfgb",
    "w": "qase",
    "x": "zsdc",
    "y": "tghu",
    "z": "asx",
}
_CJK_TYPO = list(CN_CHARS)


def typo(s: str, rng: random.Random, edits: int = 1) -> str:
    """1-2 character edits: keyboard-neighbour substitution, deletion, doubled
    letter, or transposition of neighbours. Never touches the first character."""
    chars = list(s)
    for _ in range(edits):
        positions = [i for i in range(1, len(chars)) if chars[i].isalpha()]
        if not positions:
            break
        i = rng.choice(positions)
        op = rng.random()
        c = chars[i]
        if op < 0.35:
            if c.isascii():
                repl = rng.choice(_KEYBOARD.get(c.lower(), "e"))
                chars[i] = repl.upper() if c.isupper() else repl
            else:
                chars[i] = rng.choice(_CJK_TYPO)
        elif op < 0.6:
            del chars[i]
        elif op < 0.75:
            chars.insert(i, c)
        else:
            j = i + 1 if i + 1 < len(chars) and chars[i + 1].isalpha() else i - 1
            if j >= 1:
                chars[i], chars[j] = chars[j], chars[i]
            else:
                del chars[i]
    return "".join(chars)


# ---------------------------------------------------------------------------
# Tax ids (valid check digits; stdnum validates what we build)
# ---------------------------------------------------------------------------

_EIN_PREFIXES = [
    "01",
    "04",
    "10",
    "12",
    "13",
    "20",
    "22",
    "26",
    "27",
    "30",
    "33",
    "35",
    "36",
    "38",
    "41",
    "45",
    "46",
    "47",
    "51",
    "52",
    "54",
    "56",
    "61",
    "68",
    "71",
    "75",
    "77",
    "81",
    "82",
    "83",
    "84",
    "86",
    "88",
    "91",
    "92",
    "93",
    "94",
    "95",
    "98",
    "99",
]
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def make_tax_id(country: str, rng: random.Random, cn_region: str = "310115") -> str:
    """A valid tax id in its compact canonical form (with country prefix where the
    scheme has one)."""
    if country == "DE":
        base = rng.choice("123456789") + _digits(rng, 7)
        return "DE" + base + mod_11_10.calc_check_digit(base)
    if country == "GB":
        base = rng.choice("123456789") + _digits(rng, 6)
        s = sum(w * int(d) for w, d in zip((8, 7, 6, 5, 4, 3, 2), base))
        return "GB" + base + "%02d" % ((-s) % 97)
    if country == "FR":
        siren = rng.choice("123456789") + _digits(rng, 7)
        siren += luhn.calc_check_digit(siren)
        return "FR" + "%02d" % (int(siren + "12") % 97) + siren
    if country == "NL":
        while True:
            base = rng.choice("123456789") + _digits(rng, 7)
            d9 = sum((9 - i) * int(d) for i, d in enumerate(base)) % 11
            if d9 < 10:
                return "NL" + base + str(d9) + "B" + rng.choice(["01", "01", "01", "02"])
    if country == "US":
        return rng.choice(_EIN_PREFIXES) + "-" + _digits(rng, 7)
    if country == "CN":
        body = "91" + cn_region + "".join(rng.choice(_USCC_ALPHABET) for _ in range(9))
        return body + uscc.calc_check_digit(body)
    if country == "JP":
        body = rng.choice("123456789") + _digits(rng, 11)
        return jp_cn.calc_check_digit(body) + body
    if country == "AU":  # the ABN of a company: two check digits + its ACN
        body = _digits(rng, 8)
        return au_acn.to_abn(body + au_acn.calc_check_digit(body))
    if country == "CA":  # BN15: the BN9 of the legal entity + its GST/HST account RT0001
        body = rng.choice("123456789") + _digits(rng, 7)
        return body + luhn.calc_check_digit(body) + "RT0001"
    raise ValueError(country)


def make_registration_number(region: str, rng: random.Random) -> str:
    """A Chinese pre-2015 15-digit business registration number (注册号): region code, eight
    digits, an ISO 7064 MOD 11,10 check digit. Superseded by the USCC but still in old records."""
    body = region + _digits(rng, 8)
    return body + mod_11_10.calc_check_digit(body)


_TAX_VALIDATORS = {
    "DE": de_vat.is_valid,
    "GB": gb_vat.is_valid,
    "FR": fr_tva.is_valid,
    "NL": nl_btw.is_valid,
    "CN": uscc.is_valid,
    "JP": jp_cn.is_valid,
    "AU": au_abn.is_valid,
    "CA": ca_bn.is_valid,
}


def is_valid_tax_id(country: str, value: str) -> bool:
    check = _TAX_VALIDATORS.get(country)
    if check is None:  # US EIN has no check digit: a valid campus prefix is all there is
        from stdnum.us import ein

        return ein.is_valid(value)
    return check(value)


def corrupt_tax_id(country: str, tax: str, rng: random.Random) -> str:
    """A typo (one wrong digit or two swapped digits) that breaks the check digit
    (EIN has none, so there it is just a typo)."""
    for _ in range(10):
        chars = list(tax)
        positions = [i for i, c in enumerate(chars) if c.isdigit() and i >= 2]
        i = rng.choice(positions)
        if rng.random() < 0.6:
            chars[i] = rng.choice([d for d in "0123456789" if d != chars[i]])
        else:
            j = i + 1 if i + 1 < len(chars) and chars[i + 1].isdigit() else i - 1
            if chars[i] == chars[j]:
                continue
            chars[i], chars[j] = chars[j], chars[i]
        out = "".join(chars)
        if country == "US" or not is_valid_tax_id(country, out):
            return out
    return out


def format_tax_id(country: str, tax: str, style: str, rng: random.Random) -> str:
    """Render a compact tax id. style: canonical | spaced | bare | loose."""
    if style == "canonical":
        return tax
    if country in ("DE", "GB", "FR", "NL"):
        body = tax[2:]
        if style == "bare":
            return body
        if country == "DE":
            sep = rng.choice([" ", "."])
            return "DE " + sep.join((body[:3], body[3:6], body[6:]))
        if country == "GB":
            return "GB " + " ".join((body[:3], body[3:7], body[7:]))
        if country == "FR":
            return "FR " + " ".join((body[:2], body[2:5], body[5:8], body[8:]))
        return "NL" + body[:4] + "." + body[4:6] + "." + body[6:9] + "." + body[9:]  # NL1234.56.782.B01
    if country == "US":
        return tax.replace("-", "") if style == "bare" else tax
    if country == "CN":
        if style == "bare":
            return tax
        return " ".join((tax[:2], tax[2:8], tax[8:17], tax[17:]))
    if country == "JP":
        if style == "bare":
            return "T" + tax  # qualified invoice issuer number = "T" + corporate number
        return "-".join((tax[0], tax[1:5], tax[5:9], tax[9:]))
    if country == "AU":
        if style == "bare":
            return tax
        return " ".join((tax[:2], tax[2:5], tax[5:8], tax[8:]))  # 51 824 753 556
    if country == "CA":
        if style == "bare":
            return tax[:9]  # the BN9 alone
        return f"{tax[:9]} {tax[9:11]} {tax[11:]}"  # 812345676 RT 0001
    raise ValueError(country)


#: Scheme words and labels real exports put before the number ({t}: the canonical id, {s}: spaced,
#: {b}: without country prefix); issue 17.
TAX_LABELS = {
    "DE": ["USt-IdNr.: {t}", "USt-IdNr. {s}", "VAT No. {t}", "UID-Nr. {t}", "UID: {t}"],
    "GB": ["VAT Reg No {s}", "VAT: {t}", "VAT No. {s}"],
    "FR": ["TVA {s}", "TVA: {t}", "VAT {t}", "SIREN {siren}", "SIRET {siret}"],
    "NL": ["BTW {t}", "BTW-nr: {t}", "VAT No. {t}"],
    "US": ["EIN {t}", "EIN: {b}", "Tax ID: {t}"],
    "CN": ["统一社会信用代码：{t}", "USCC: {t}"],
    "JP": ["法人番号 {t}", "登録番号 T{t}", "T{t}"],
    "AU": ["ABN {s}", "ABN: {t}"],
    "CA": ["BN {s}", "BN: {t}", "GST/HST {t}"],
}


def labelled_tax_id(country: str, tax: str, rng: random.Random) -> str:
    """The id behind a scheme word ("ABN 51 824 753 556", "USt-IdNr.: DE…", "T" + 法人番号)."""
    spaced = format_tax_id(country, tax, "spaced", rng)
    bare = format_tax_id(country, tax, "bare", rng) if country in ("DE", "GB", "FR", "NL", "US") else tax
    label = rng.choice(TAX_LABELS[country])
    siren = siret = ""
    if country == "FR":  # the company's SIREN (the VAT id's last 9 digits), an establishment's SIRET
        siren = tax[4:]
        nic = "%04d" % rng.randint(1, 9999)
        siret = f"{siren[:3]} {siren[3:6]} {siren[6:]} {nic}{luhn.calc_check_digit(siren + nic)}"
        siren = f"{siren[:3]} {siren[3:6]} {siren[6:]}"
    return label.format(t=tax, s=spaced, b=bare, siren=siren, siret=siret)


def prefixed_tax_id(country: str, tax: str, rng: random.Random) -> str:
    """The country prefix set off by a space or a dash ("DE-136695976", "AU 51824753556")."""
    sep = rng.choice(["-", " "])
    if country in ("DE", "GB", "FR", "NL"):
        return tax[:2] + sep + tax[2:]
    return country + sep + tax


#: Values that stand for "no tax id" in real exports (issue 17)
TAX_PLACEHOLDERS = ["N/A", "n.a.", "TBD", "-", "000000000", "999999999", "123456789", "k.A.", "none"]


# ---------------------------------------------------------------------------
# Entities
# ---------------------------------------------------------------------------


@dataclass
class Entity:
    entity_id: str
    country: str
    kind: str  # base | namesake | sibling
    legal: str
    trade: str
    form: str
    brand: str  # group brand, used to build siblings
    domain_stem: str
    name_parts: dict = field(default_factory=dict)
    tax_id: str = ""
    domain: str = ""
    phone_area: str = ""
    phone_sub: str = ""
    accounts_sub: str = ""
    city_idx: int = 0
    postcode: str = ""
    street: str = ""  # canonical street line
    street_parts: dict = field(default_factory=dict)
    generic_mailbox: str = "info"
    billing_mailbox: str = "invoices"
    contacts: list = field(default_factory=list)  # (first, last, pattern, freemail)
    systems: tuple = ()
    related_to: str = ""  # for namesakes, siblings and branches: the base entity
    reg_no: str = ""  # CN: the pre-2015 15-digit registration number, kept by legacy systems
    parent_tax: str = ""  # sibling/branch: the parent's tax id, carried by one of its records
    parent_tax_system: str = ""
    en_name: str = ""  # CN/JP: the English legal name, used by one system
    en_system: str = ""
    traits: list = field(default_factory=list)  # the issue-17 cases this entity carries


def _form(rng, forms):
    return _pick_weighted(rng, forms)


def _name_latin(country: str, rng: random.Random, brand: str | None = None) -> dict:
    """Legal/trade name for DE, GB, US, FR, NL. With ``brand`` the name is a
    group sibling: brand + division + legal form."""
    if country == "DE":
        form = _form(rng, DE_FORMS)
        if brand:
            div = rng.choice(DE_DIVISIONS)
            return dict(
                legal=f"{brand} {div} {form}",
                trade=f"{brand} {div}",
                form=form,
                brand=brand,
                stem=f"{brand} {div}",
            )
        r = rng.random()
        if r < 0.25:
            sur, ind = rng.choice(DE_SURNAMES), rng.choice(DE_INDUSTRIES)
            core = f"{sur} {ind}"
            return dict(legal=f"{core} {form}", trade=core, form=form, brand=core, stem=core)
        if r < 0.40:
            first, sur, ind = (
                rng.choice(DE_FIRST),
                rng.choice(DE_SURNAMES),
                rng.choice(DE_INDUSTRIES),
            )
            core = f"{first} {sur} {ind}"
            return dict(
                legal=f"{core} {form}",
                trade=f"{sur} {ind}" if rng.random() < 0.5 else core,
                form=form,
                brand=f"{first} {sur}",
                stem=core,
            )
        if r < 0.70:
            b = rng.choice(DE_BRAND_HEAD) + rng.choice(DE_BRAND_TAIL)
            if rng.random() < 0.5:
                ind = rng.choice(DE_INDUSTRIES)
                return dict(legal=f"{b} {ind} {form}", trade=b, form=form, brand=b, stem=b)
            return dict(legal=f"{b} {form}", trade=b, form=form, brand=b, stem=b)
        if r < 0.85:
            a, b = rng.sample(DE_SURNAMES, 2)
            core = f"{a} & {b}"
            return dict(legal=f"{core} {form}", trade=core, form=form, brand=core, stem=f"{a} {b}")
        pre, sur = rng.choice(DE_TRADE_PREFIX), rng.choice(DE_SURNAMES)
        core = f"{pre} {sur}"
        return dict(legal=f"{core} {form}", trade=core, form=form, brand=core, stem=core)

    if country in EN_NAMES:
        forms, brands = EN_NAMES[country]
        form = _form(rng, forms)
        if brand:
            div = rng.choice(EN_DIVISIONS)
            return dict(
                legal=f"{brand} {div} {form}",
                trade=f"{brand} {div}",
                form=form,
                brand=brand,
                stem=f"{brand} {div}",
            )
        r = rng.random()
        ind = rng.choice(EN_INDUSTRIES)
        if rng.random() < 0.3:
            ind = rng.choice(EN_QUALIFIERS) + " " + ind
        if r < 0.25:
            b = rng.choice(brands)
            return dict(legal=f"{b} {ind} {form}", trade=f"{b} {ind}", form=form, brand=b, stem=f"{b} {ind}")
        if r < 0.50:
            b = rng.choice(EN_COINED_HEAD) + rng.choice(EN_COINED_TAIL)
            return dict(legal=f"{b} {ind} {form}", trade=b, form=form, brand=b, stem=f"{b} {ind}")
        if r < 0.75:
            s = rng.choice(EN_SURNAMES)
            return dict(legal=f"{s} {ind} {form}", trade=f"{s} {ind}", form=form, brand=s, stem=f"{s} {ind}")
        if r < 0.88:
            a, b = rng.sample(EN_SURNAMES, 2)
            core = f"{a} and {b}" if rng.random() < 0.5 else f"{a} & {b}"
            return dict(
                legal=f"{core} {form}",
                trade=f"{a} {b}" if rng.random() < 0.3 else core,
                form=form,
                brand=core,
                stem=f"{a}{b}",
            )
        s = rng.choice(EN_SURNAMES)
        core = f"{s} & Sons" if country in ("GB", "AU") else f"{s} Brothers"
        return dict(legal=f"{core} {form}", trade=s, form=form, brand=core, stem=f"{s} {core.split()[-1]}")

    if country == "FR":
        form = _form(rng, FR_FORMS)
        if brand:
            div = rng.choice(FR_DIVISIONS)
            return dict(
                legal=f"{brand} {div} {form}",
                trade=f"{brand} {div}",
                form=form,
                brand=brand,
                stem=f"{brand} {div}",
            )
        r = rng.random()
        ind = rng.choice(FR_INDUSTRIES)
        if r < 0.50:
            s = rng.choice(FR_SURNAMES)
            return dict(legal=f"{s} {ind} {form}", trade=s, form=form, brand=s, stem=f"{s} {ind}")
        if r < 0.78:
            b = rng.choice(FR_COINED_HEAD) + rng.choice(FR_COINED_TAIL)
            return dict(legal=f"{b} {form}", trade=b, form=form, brand=b, stem=b)
        if r < 0.88:
            s = rng.choice(FR_SURNAMES)
            core = f"{s} {rng.choice(['et Fils', 'Frères'])}"
            return dict(legal=f"{core} {form}", trade=s, form=form, brand=core, stem=core)
        if r < 0.95:
            adj = rng.choice(FR_ADJ)
            de = "d'" if ascii_fold(ind[0]) in "AEIOU" else "de "
            core = f"Société {adj} {de}{ind}"
            acronym = "S" + adj[0] + ind[0]
            acronym = ascii_fold(acronym).upper()
            return dict(
                legal=f"{core} {form}",
                trade=acronym,
                form=form,
                brand=core,
                stem=acronym.lower() + "-" + adj,
            )
        s = rng.choice(FR_SURNAMES)
        core = f"Établissements {s}"
        return dict(legal=f"{core} {form}", trade=f"Ets {s}", form=form, brand=core, stem=f"ets {s}")

    if country == "NL":
        form = _form(rng, NL_FORMS)
        if brand:
            div = rng.choice(NL_DIVISIONS)
            return dict(
                legal=f"{brand} {div} {form}",
                trade=f"{brand} {div}",
                form=form,
                brand=brand,
                stem=f"{brand} {div}",
            )
        ind = rng.choice(NL_INDUSTRIES)
        r = rng.random()
        if r < 0.4:
            s = rng.choice(NL_SURNAMES)
            core = f"{s} {ind}"
            return dict(legal=f"{core} {form}", trade=core, form=form, brand=s, stem=core)
        if r < 0.5:
            s = rng.choice(NL_SURNAMES)
            core = f"Gebr. {s}" if rng.random() < 0.5 else f"{s} & Zn."
            return dict(legal=f"{core} {form}", trade=core, form=form, brand=core, stem=s)
        if r < 0.8:
            b = rng.choice(NL_COINED_HEAD) + rng.choice(NL_COINED_TAIL)
            core = f"{b} {ind}" if rng.random() < 0.5 else b
            return dict(legal=f"{core} {form}", trade=b, form=form, brand=b, stem=core)
        b = rng.choice(NL_BRANDS)
        core = f"{b} {ind}"
        return dict(
            legal=f"{core} {form}",
            trade=b + " " + ind if rng.random() < 0.5 else b,
            form=form,
            brand=b,
            stem=core,
        )
    raise ValueError(country)


def _name_cn(rng: random.Random, city, brand: str | None = None) -> dict:
    region = city[4][2]
    if brand is None:
        brand = "".join(rng.sample(list(CN_CHARS), 2))
        group = rng.random() < 0.08
    else:
        group = False
    ind, ind_en = rng.choice(CN_INDUSTRIES)
    form = _form(rng, CN_FORMS)
    legal = region + brand + ind + ("（集团）" if group else "") + form
    pinyin = "".join(CN_CHARS[c] for c in brand)
    return dict(
        legal=legal,
        trade=brand + ind[:2],
        form=form,
        brand=brand,
        stem=f"{pinyin} {ind_en}",
        parts=dict(region=region, brand=brand, industry=ind, group=group),
    )


def _name_jp(rng: random.Random, brand: tuple | None = None) -> dict:
    if brand is None:
        if rng.random() < JP_LATIN_HEAD_P:
            letters = "".join(rng.choice("ABCDEFGHIJKLMNOPRSTUVWXYZ") for _ in range(rng.choice([2, 3, 3])))
            brand = (letters, letters.lower())
        elif rng.random() < 0.3:
            brand = rng.choice(JP_HEADS)
        else:
            a, b = rng.sample(list(JP_KANJI), 2)
            brand = (a + b, JP_KANJI[a] + JP_KANJI[b])
    ind, ind_r = rng.choice(JP_INDUSTRIES)
    core = brand[0] + ind
    r = rng.random()
    if r < 0.5:
        form, pos = "株式会社", "pre"
    elif r < 0.9:
        form, pos = "株式会社", "post"
    else:
        form, pos = rng.choice(["合同会社", "有限会社"]), "post"
    legal = form + core if pos == "pre" else core + form
    return dict(
        legal=legal,
        trade=core,
        form=form,
        brand=brand,
        stem=f"{brand[1]} {ind_r}",
        parts=dict(core=core, pos=pos),
    )


def _postcode(country: str, city, rng: random.Random) -> str:
    spec = city[3]
    if country == "DE":
        return "%05d" % rng.randint(*spec)
    if country == "GB":
        return (
            rng.choice(spec)
            + " "
            + str(rng.randint(1, 9))
            + "".join(rng.choice("ABDEFGHJLNPQRSTUWXYZ") for _ in range(2))
        )
    if country == "US":
        return spec + "%02d" % rng.randint(1, 99)
    if country == "FR":
        return rng.choice(spec)
    if country == "NL":
        return "%04d %s" % (
            rng.randint(*spec),
            "".join(rng.choice("BCEGHJKLMNPRTVWXZ") for _ in range(2)),
        )
    if country == "CN":
        return str(spec + rng.randint(0, 99) * 10 + rng.choice([0, 0, 1, 2]))
    if country == "JP":
        return rng.choice(spec) + "-" + "%04d" % rng.randint(1, 9999)
    if country == "AU":
        return "%04d" % rng.randint(*spec)
    if country == "CA":
        return f"{rng.choice(spec)} {rng.randint(0, 9)}{rng.choice('ABCEGHJKLMNPRSTVWXYZ')}{rng.randint(0, 9)}"
    raise ValueError(country)


def _street(country: str, city, rng: random.Random) -> dict:
    country = ADDRESS_STYLE.get(country, country)
    if country == "DE":
        if rng.random() < 0.12:
            name = f"{rng.choice(DE_FIRST)}-{rng.choice(DE_SURNAMES)}-Straße"
        else:
            name = rng.choice(DE_STREET_WORDS) + _pick_weighted(rng, DE_STREET_SUFFIXES)
        return dict(name=name, no=str(rng.randint(1, 180)) + rng.choice([""] * 8 + ["a", "b"]))
    if country in ("GB", "US"):
        types = GB_STREET_TYPES if country == "GB" else US_STREET_TYPES
        t = rng.choice(types)
        name = rng.choice(EN_STREET_NAMES)
        if country == "US" and rng.random() < 0.15:
            n = rng.randint(1, 120)
            name = f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"
        if country == "US" and rng.random() < 0.2:
            name = rng.choice(["N", "S", "E", "W"]) + " " + name
        d = dict(
            name=name,
            type=t,
            no=str(rng.randint(1, 250) if country == "GB" else rng.randint(10, 9999)),
        )
        if country == "GB" and rng.random() < 0.2:
            d["park"] = f"{rng.choice(EN_COINED_HEAD)}{rng.choice(EN_COINED_TAIL)} {rng.choice(GB_PARK_TYPES)}"
            d["unit"] = str(rng.randint(1, 40))
        if country == "US" and rng.random() < 0.35:
            d["suite"] = str(rng.choice([100, 200, 210, 300, 400, 450, 500, 1200]))
        return d
    if country == "FR":
        typ, abbr = _pick_weighted(rng, [((a, b), w) for a, b, w in FR_STREET_TYPES])
        return dict(
            type=typ,
            abbr=abbr,
            name=f"{typ} {rng.choice(FR_STREET_NAMES)}",
            no=str(rng.randint(1, 120)) + rng.choice([""] * 9 + [" bis"]),
        )
    if country == "NL":
        name = rng.choice(NL_STREET_WORDS) + _pick_weighted(rng, NL_STREET_SUFFIXES)
        return dict(name=name, no=str(rng.randint(1, 300)) + rng.choice([""] * 9 + ["A", "-2"]))
    if country == "CN":
        road = "".join(rng.sample(list(CN_CHARS), 2)) + rng.choice(CN_ROAD_SUFFIXES)
        return dict(district=rng.choice(city[4][1]), name=road, no=str(rng.randint(1, 1999)))
    if country == "JP":
        a, b = rng.sample(list(JP_KANJI), 2)
        town = rng.choice(city[4]) + a + b + rng.choice(["", "", "町"])
        return dict(town=town, no=(rng.randint(1, 9), rng.randint(1, 30), rng.randint(1, 20)))
    raise ValueError(country)


def _street_canonical(country: str, sp: dict) -> str:
    country = ADDRESS_STYLE.get(country, country)
    if country == "DE" or country == "NL":
        return f"{sp['name']} {sp['no']}"
    if country == "GB":
        if "park" in sp:
            return f"Unit {sp['unit']}, {sp['park']}"
        return f"{sp['no']} {sp['name']} {sp['type'][0]}"
    if country == "US":
        s = f"{sp['no']} {sp['name']} {sp['type'][0]}"
        return s + (f", Suite {sp['suite']}" if "suite" in sp else "")
    if country == "FR":
        return f"{sp['no']} {sp['name']}"
    if country == "CN":
        return f"{sp['district']}{sp['name']}{sp['no']}号"
    if country == "JP":
        a, b, c = sp["no"]
        return f"{sp['town']}{a}-{b}-{c}"
    raise ValueError(country)


def _phone_sub(country: str, area: str, rng: random.Random) -> str:
    if country == "DE":
        n = {2: 7, 3: rng.choice([6, 7]), 4: rng.choice([5, 6])}[len(area)]
    elif country == "GB":
        n = 10 - len(area)
    elif country in ("US", "CA"):
        return rng.choice("23456789") + _digits(rng, 6)
    elif country == "AU":
        n = 8
    elif country == "FR":
        return _digits(rng, 8)
    elif country == "NL":
        n = 9 - len(area)
    elif country == "CN":
        n = 8 if len(area) == 2 else rng.choice([7, 8])
    elif country == "JP":
        n = 9 - len(area)  # landline NSN is 9 digits (after the trunk 0 is dropped)
    else:
        raise ValueError(country)
    return rng.choice("23456789") + _digits(rng, n - 1)


class _Unique:
    """Draw values until one is unused (tax ids, phones, domains are unique per company)."""

    def __init__(self):
        self.used: set[str] = set()

    def take(self, draw):
        for _ in range(50):
            v = draw()
            if v not in self.used:
                self.used.add(v)
                return v
        raise RuntimeError("could not draw a unique value")


def _domain(ent_stem: str, country: str, city_name: str, rng: random.Random, used: _Unique) -> str:
    base = slug(ent_stem)
    if rng.random() < 0.3:
        base = base.replace("-", "")
    tld = rng.choice(TLDS[country])
    candidates = [
        base + tld,
        base + "-" + slug(city_name) + tld,
        base + "-group.com",
        base + "online" + tld,
    ]
    for c in candidates:
        if c not in used.used:
            used.used.add(c)
            return c
    return used.take(lambda: f"{base}{rng.randint(2, 999)}{tld}")


def _contacts(country: str, rng: random.Random) -> list:
    out = []
    for _ in range(rng.choice([1, 1, 2, 3])):
        first = rng.choice(FIRST_NAMES[country])
        if country in LAST_NAMES:
            last = rng.choice(LAST_NAMES[country])
        else:
            src = {"DE": DE_SURNAMES, "FR": FR_SURNAMES, "NL": NL_SURNAMES}.get(country, EN_SURNAMES)
            last = slug(rng.choice(src)).replace("-", "")
        pattern = rng.choice(["first.last", "first.last", "f.last", "firstl", "last"])
        fm = rng.choice(FREEMAIL[country])
        out.append((first, last, pattern, fm))
    return out


def _name_key(nm: dict) -> str:
    """The name without its legal form (and for CN without the region prefix):
    two companies sharing it are namesakes, which are only made on purpose."""
    parts = nm.get("parts", {})
    if "core" in parts:
        return parts["core"]
    if "brand" in parts:
        return parts["brand"] + parts["industry"]
    legal, form = nm["legal"], nm["form"]
    return legal[: -len(form)].strip() if legal.endswith(form) else legal


class _EntityFactory:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.tax = _Unique()
        self.phones = _Unique()
        self.domains = _Unique()
        self.legal_names: set[tuple[str, str]] = set()
        self.n = 0
        self.countries = list(COUNTRY_WEIGHTS.items())

    def _new_id(self) -> str:
        self.n += 1
        return f"E{self.n:07d}"

    def _fill_location(self, e: Entity, city_idx: int | None = None) -> None:
        rng = self.rng
        cities = CITIES[e.country]
        e.city_idx = rng.randrange(len(cities)) if city_idx is None else city_idx
        city = cities[e.city_idx]
        e.postcode = _postcode(e.country, city, rng)
        e.street_parts = _street(e.country, city, rng)
        e.street = _street_canonical(e.country, e.street_parts)
        e.phone_area = city[2]
        e.phone_sub = self.phones.take(lambda: _phone_sub(e.country, city[2], rng))
        e.accounts_sub = self.phones.take(lambda: _phone_sub(e.country, city[2], rng))

    def _fill_ids(self, e: Entity, shared_domain: str | None = None) -> None:
        rng = self.rng
        region = CITIES["CN"][e.city_idx][4][0] if e.country == "CN" else "310115"
        e.tax_id = self.tax.take(lambda: make_tax_id(e.country, rng, region))
        city_name = CITIES[e.country][e.city_idx][0]
        if e.country in ("CN", "JP"):
            city_name = CITIES[e.country][e.city_idx][1][-1]  # romanised alias
        e.domain = shared_domain or _domain(e.domain_stem, e.country, city_name, rng, self.domains)
        e.generic_mailbox = rng.choice(GENERIC_MAILBOX[e.country])
        e.billing_mailbox = rng.choice(BILLING_MAILBOX[e.country])
        e.contacts = _contacts(e.country, rng)

    def _from_name(self, country: str, kind: str, nm: dict) -> Entity:
        return Entity(
            entity_id=self._new_id(),
            country=country,
            kind=kind,
            legal=nm["legal"],
            trade=nm["trade"],
            form=nm["form"],
            brand=nm["brand"],
            domain_stem=nm["stem"],
            name_parts=nm.get("parts", {}),
        )

    def base(self) -> Entity:
        rng = self.rng
        country = _pick_weighted(rng, self.countries)
        city_idx = rng.randrange(len(CITIES[country]))
        # Draw until the legal name is new: namesakes are made on purpose (see
        # namesake()); when the name space is exhausted an accidental one is kept.
        for _ in range(30):
            if country == "CN":
                nm = _name_cn(rng, CITIES["CN"][city_idx])
            elif country == "JP":
                nm = _name_jp(rng)
            else:
                nm = _name_latin(country, rng)
            if (country, _name_key(nm)) not in self.legal_names:
                break
        self.legal_names.add((country, _name_key(nm)))
        e = self._from_name(country, "base", nm)
        self._fill_location(e, city_idx)
        self._fill_ids(e)
        self._issue17_traits(e)
        return e

    def _issue17_traits(self, e: Entity) -> None:
        """A wrong phone at the source, a CN registration number, an English legal name."""
        rng = self.rng
        if rng.random() < BAD_PHONE_ENTITY_P:
            e.phone_sub = e.phone_sub[:-2]  # two digits short: fails validation in every system
            e.traits.append("bad_phone")
        if e.country == "CN" and rng.random() < CN_REG_NO_P:
            e.reg_no = make_registration_number(CITIES["CN"][e.city_idx][4][0], rng)
            e.traits.append("cn_reg_no")
        if e.country in ("CN", "JP") and rng.random() < CROSS_SCRIPT_P:
            e.en_name = _english_name(e, rng)
            e.traits.append("cross_script")

    def _share_with(self, e: Entity, base: Entity) -> None:
        """What group companies share: the HQ switchboard, the building, the parent's tax id."""
        rng = self.rng
        if rng.random() < SHARED_PHONE_P[e.kind]:
            e.phone_area, e.phone_sub = base.phone_area, base.phone_sub
            e.traits.append("shared_phone")
        if e.city_idx == base.city_idx and rng.random() < SHARED_ADDRESS_P[e.kind]:
            e.street, e.street_parts, e.postcode = base.street, base.street_parts, base.postcode
            e.traits.append("shared_address")
        if e.domain == base.domain:
            e.traits.append("shared_domain")
        if rng.random() < PARENT_TAX_P:
            e.parent_tax = base.tax_id
            e.traits.append("parent_tax")

    def branch(self, base: Entity) -> Entity:
        """A branch or regional subsidiary: the parent's name with a region (CN: 分公司 of
        another city), its own tax id, usually the parent's domain, often its switchboard."""
        rng = self.rng
        country = base.country
        same_city = rng.random() < 0.4
        city_idx = base.city_idx if same_city else rng.randrange(len(CITIES[country]))
        if country == "CN":
            city = CITIES["CN"][city_idx]
            suffix = (city[4][2] if city_idx != base.city_idx else rng.choice(city[4][1])) + "分公司"
            nm = dict(
                legal=base.legal + suffix,
                trade=base.trade + suffix,
                form=base.form,
                brand=base.brand,
                stem=base.domain_stem,
                parts=dict(base.name_parts, branch=suffix),
            )
        elif country == "JP":  # a regional sales subsidiary: 〇〇販売株式会社
            core = base.name_parts["core"] + rng.choice(["販売", "サービス", "物流", "エンジニアリング"])
            nm = dict(
                legal=core + "株式会社",
                trade=core,
                form="株式会社",
                brand=base.brand,
                stem=base.domain_stem,
                parts=dict(core=core, pos="post"),
            )
        else:
            word = rng.choice(BRANCH_WORDS[country])
            core = f"{_drop_form(base.legal, base.form)} {word}"
            nm = dict(legal=f"{core} {base.form}", trade=core, form=base.form, brand=base.brand, stem=base.domain_stem)
        e = self._from_name(country, "branch", nm)
        e.related_to = base.entity_id
        self._fill_location(e, city_idx)
        self._fill_ids(e, shared_domain=base.domain if rng.random() < SHARED_DOMAIN_P["branch"] else None)
        self._share_with(e, base)
        return e

    def namesake(self, base: Entity) -> Entity:
        """Same (or nearly the same) name, different company: other city, tax id, phone."""
        rng = self.rng
        e = Entity(
            entity_id=self._new_id(),
            country=base.country,
            kind="namesake",
            legal=base.legal,
            trade=base.trade,
            form=base.form,
            brand=base.brand,
            domain_stem=base.domain_stem,
            name_parts=dict(base.name_parts),
            related_to=base.entity_id,
        )
        others = [i for i in range(len(CITIES[base.country])) if i != base.city_idx]
        city_idx = rng.choice(others)
        if base.country == "CN":  # a company of the same name registered in another city
            region = CITIES["CN"][city_idx][4][2]
            p = e.name_parts
            p["region"] = region
            e.legal = region + p["brand"] + p["industry"] + ("（集团）" if p["group"] else "") + base.form
        elif rng.random() < 0.3 and base.country not in ("JP",):
            # nearly identical: another legal form
            forms = {
                "DE": DE_FORMS,
                "GB": GB_FORMS,
                "US": US_FORMS,
                "FR": FR_FORMS,
                "NL": NL_FORMS,
                "AU": AU_FORMS,
                "CA": CA_FORMS,
            }[base.country]
            other = [f for f, _ in forms if f != base.form]
            new_form = rng.choice(other)
            if base.legal.endswith(base.form):
                e.legal = base.legal[: -len(base.form)] + new_form
                e.form = new_form
        self._fill_location(e, city_idx)
        self._fill_ids(e)
        return e

    def sibling(self, base: Entity) -> Entity:
        """Another legal entity of the same group: shared brand, other division."""
        rng = self.rng
        country = base.country
        same_city = rng.random() < 0.4
        city_idx = base.city_idx if same_city else rng.randrange(len(CITIES[country]))
        for _ in range(30):
            if country == "CN":
                nm = _name_cn(rng, CITIES["CN"][city_idx], brand=base.name_parts["brand"])
            elif country == "JP":
                nm = _name_jp(rng, brand=base.brand)
            else:
                nm = _name_latin(country, rng, brand=base.brand)
            if (country, _name_key(nm)) not in self.legal_names:
                break
        self.legal_names.add((country, _name_key(nm)))
        e = self._from_name(country, "sibling", nm)
        e.related_to = base.entity_id
        self._fill_location(e, city_idx)
        self._fill_ids(e, shared_domain=base.domain if rng.random() < SHARED_DOMAIN_P["sibling"] else None)
        self._share_with(e, base)
        return e


def _english_name(e: Entity, rng: random.Random) -> str:
    """The English legal name a CN/JP company uses abroad ("Shanghai Minghua Electronic
    Technology Co., Ltd.", "Towa Denki Co., Ltd.")."""
    if e.country == "CN":
        p = e.name_parts
        region = CITIES["CN"][e.city_idx][1][-1]
        pinyin = "".join(CN_CHARS[c] for c in p["brand"]).title()
        ind = dict(CN_INDUSTRIES)[p["industry"]]
        return f"{region} {pinyin} {CN_INDUSTRY_EN[ind]} Co., Ltd."
    head, ind = e.domain_stem.split()[0], e.domain_stem.split()[-1]
    head = head.upper() if len(head) <= 3 else head.title()
    return f"{head} {JP_INDUSTRY_EN[ind]} " + rng.choice(["Co., Ltd.", "Co., Ltd.", "Corporation", "K.K."])


# ---------------------------------------------------------------------------
# Rendering one entity as one record of one system
# ---------------------------------------------------------------------------


def _abbreviate(name: str, rng: random.Random, p: float) -> str:
    toks = name.split(" ")
    out = []
    for t in toks:
        a = CRM_ABBREV.get(t)
        out.append(a if a and rng.random() < p else t)
    return " ".join(out)


def _vary_form(name: str, form: str, rng: random.Random) -> str:
    if form in FORM_VARIANTS and name.endswith(form):
        v = rng.choice(FORM_VARIANTS[form])
        sep = "" if v.startswith(",") else " "
        return name[: -len(form)].rstrip() + sep + v
    return name


def _drop_form(name: str, form: str) -> str:
    return name[: -len(form)].rstrip() if name.endswith(form) else name


def _name_for(e: Entity, system: str, rng: random.Random) -> str:
    c = e.country
    if e.en_name and system == e.en_system:
        return e.en_name.upper() if system == "crm" and rng.random() < 0.25 else e.en_name
    if c == "CN":
        p = e.name_parts
        if system == "crm":
            r = rng.random()
            if r < 0.25:
                name = e.trade  # 明华电子
            else:
                region = "" if rng.random() < 0.4 else p["region"]
                group = "（集团）" if (p["group"] or rng.random() < 0.12) else ""
                if group and rng.random() < 0.5:
                    group = "(集团)"
                name = region + p["brand"] + p["industry"] + group + e.form + p.get("branch", "")
            if rng.random() < 0.08:
                name = typo(name, rng)
            return name
        name = e.legal
        if system == "finance" and rng.random() < 0.1:
            name = name.replace("（", "(").replace("）", ")")
        return name
    if c == "JP":
        core, pos, form = e.name_parts["core"], e.name_parts["pos"], e.form
        if system == "crm":
            r = rng.random()
            if r < 0.35 and form == "株式会社":
                abbr = rng.choice(["(株)", "（株）", "㈱"])
                name = abbr + core if pos == "pre" else core + abbr
            elif r < 0.55 and form == "株式会社":
                name = core + form if pos == "pre" else form + core  # before/after swapped
            elif r < 0.65:
                name = core
            else:
                name = e.legal
            if rng.random() < 0.5:
                name = fullwidth(name)
            if rng.random() < 0.06:
                name = typo(name, rng)
            return name
        name = e.legal
        if system == "finance" and rng.random() < 0.2:
            name = (form + " " + core) if pos == "pre" else (core + " " + form)
        return name

    # Latin-script names
    if system == "erp":
        name = e.legal
        if rng.random() < 0.05:
            name = _vary_form(name, e.form, rng)
        return name
    if system == "finance":
        name = e.legal
        r = rng.random()
        if r < 0.12 and e.form in FINANCE_LONG_FORMS and name.endswith(e.form):
            name = name[: -len(e.form)] + FINANCE_LONG_FORMS[e.form]
        elif r < 0.22:
            name = _vary_form(name, e.form, rng)
        if c == "FR" and rng.random() < 0.3:  # "SARL Dupont Transports"
            name = e.form + " " + _drop_form(e.legal, e.form)
        if rng.random() < 0.03:
            name = typo(name, rng)
        if rng.random() < 0.12:
            name = name.upper()
        return name
    # crm
    r = rng.random()
    if r < 0.30:
        name = e.trade
    elif r < 0.45:
        name = _drop_form(e.legal, e.form)
    else:
        name = _vary_form(e.legal, e.form, rng) if rng.random() < 0.3 else e.legal
    name = _abbreviate(name, rng, 0.6)
    if c == "DE" and rng.random() < 0.35:
        name = name.translate(_TRANSLIT)
    if c == "FR" and rng.random() < 0.3:
        name = ascii_fold(name)
    if rng.random() < 0.22:
        name = typo(name, rng, edits=1 if rng.random() < 0.7 else 2)
    if rng.random() < 0.25:
        name = name.upper()
    return name


def _tax_for(e: Entity, system: str, rng: random.Random) -> str:
    c = e.country
    if e.parent_tax and system == e.parent_tax_system:
        return format_tax_id(c, e.parent_tax, "canonical", rng)  # billed through the parent
    p_present = {"erp": 0.80, "crm": 0.20, "finance": 0.70}[system]
    if e.en_name and system == e.en_system:
        p_present = 0.9  # the foreign subsidiary's ERP keeps the Chinese/Japanese id
    if rng.random() >= p_present:
        return rng.choice(TAX_PLACEHOLDERS) if rng.random() < TAX_PLACEHOLDER_P[system] else ""
    if e.reg_no and system != "erp" and rng.random() < CN_REG_NO_USE_P:
        return e.reg_no if rng.random() < 0.7 else "注册号：" + e.reg_no
    tax = e.tax_id
    p_typo = {"erp": 0.015, "crm": 0.05, "finance": 0.03}[system]
    if rng.random() < p_typo:
        tax = corrupt_tax_id(c, tax, rng)
    if c == "AU" and system != "erp" and rng.random() < AU_ACN_P:
        acn = tax[2:]
        return rng.choice([f"ACN {acn[:3]} {acn[3:6]} {acn[6:]}", acn, f"ACN: {acn}"])
    style = _pick_weighted(rng, TAX_STYLE_P[system])
    if style == "labelled":
        out = labelled_tax_id(c, tax, rng)
    elif style == "prefixed":
        out = prefixed_tax_id(c, tax, rng)
    else:
        out = format_tax_id(c, tax, style, rng)
    if system == "crm" and rng.random() < 0.2:
        out = out.lower()
    if c in ("GB", "NL") and system != "erp":  # drawn after the rest: the main stream stays as it was
        own = random.Random(zlib.crc32(f"registry/{e.entity_id}/{system}".encode()))
        if own.random() < REGISTRY_NO_P:
            return registry_number(e, own)
    return out


def registry_number(e: Entity, rng: random.Random) -> str:
    """The entity's Companies House or KvK number (one per legal entity), as an export writes
    it: behind the register's name, bare, or a numeric CRN without its leading zero."""
    number = random.Random(zlib.crc32(f"registry/{e.entity_id}".encode()))
    if e.country == "GB":
        crn = ("SC" + _digits(number, 6)) if number.random() < 0.15 else ("0" + _digits(number, 7))
        forms = [f"Company No. {crn}", f"CRN {crn}", crn, f"Companies House: {crn}"]
        if crn[0] == "0":
            forms.append(f"CRN {crn[1:]}")
    else:
        kvk = str(number.randint(10_000_000, 99_999_999))
        forms = [f"KvK {kvk}", f"KvK-nummer: {kvk}", kvk, f"Chamber of Commerce {kvk}"]
    return rng.choice(forms)


def _group(s: str, sizes) -> str:
    out, i = [], 0
    for n in sizes:
        out.append(s[i : i + n])
        i += n
    if i < len(s):
        out.append(s[i:])
    return " ".join(x for x in out if x)


def _fmt_phone(country: str, area: str, sub: str, style: str, rng: random.Random) -> str:
    cc = COUNTRY_CALLING[country]
    if style == "e164":
        return f"+{cc}{area}{sub}"
    if country == "AU":
        g = _group(sub, (4, 4))
        return {"intl": f"+61 {area} {g}", "intl_trunk": f"0061 {area} {g}"}.get(
            style, rng.choice([f"(0{area}) {g}", f"0{area} {g}"])
        )
    if country in ("US", "CA"):
        if style == "intl":
            return f"+1 {area} {sub[:3]} {sub[3:]}"
        if style == "intl_trunk":
            return f"1-{area}-{sub[:3]}-{sub[3:]}"
        return rng.choice(
            [
                f"({area}) {sub[:3]}-{sub[3:]}",
                f"{area}-{sub[:3]}-{sub[3:]}",
                f"{area}.{sub[:3]}.{sub[3:]}",
            ]
        )
    if country == "GB":
        g = {8: _group(sub, (4, 4)), 7: _group(sub, (3, 4))}.get(len(sub), sub)
    elif country == "FR":
        g = _group(area + sub, (1, 2, 2, 2, 2))
        g = g[2:]  # drop the area digit again, it is printed separately
    elif country == "NL":
        g = _group(sub, (3, 4)) if len(sub) == 7 else _group(sub, (2, 2, 2))
    elif country == "CN":
        g = _group(sub, (4, 4)) if len(sub) == 8 else _group(sub, (3, 4))
    elif country == "JP":
        half = len(sub) - 4
        g = sub[:half] + "-" + sub[half:]
    else:  # DE
        g = sub
    if style == "intl":
        if country == "JP":
            return f"+81 {area}-{g}"
        return f"+{cc} {area} {g}"
    if style == "intl_trunk":
        if country in ("DE", "GB", "NL"):
            return f"+{cc} (0){area} {g}"
        return f"00{cc} {area} {g}"
    # local national format
    if country == "DE":
        return rng.choice([f"0{area} {sub}", f"0{area}/{sub}", f"0{area}-{sub}", f"(0{area}) {sub}"])
    if country == "GB":
        return f"0{area} {g}"
    if country == "FR":
        pairs = [sub[i : i + 2] for i in range(0, 8, 2)]
        sep = rng.choice([" ", ".", ""])
        return sep.join(["0" + area] + pairs)
    if country == "NL":
        return rng.choice([f"0{area}-{sub}", f"0{area} {g}"])
    if country == "CN":
        return rng.choice([f"0{area}-{sub}", f"(0{area}) {sub[:4]}-{sub[4:]}", f"0{area} {g}"])
    if country == "JP":
        return rng.choice([f"0{area}-{g}", f"(0{area}) {g}"])
    raise ValueError(country)


def _mobile(country: str, rng: random.Random) -> str:
    d = _digits
    if country == "DE":
        return rng.choice(["0151 ", "0160 ", "0171 ", "+49 172 "]) + d(rng, 8)
    if country == "GB":
        return "07" + d(rng, 3) + " " + d(rng, 6)
    if country in ("US", "CA"):
        return f"({rng.choice('23456789')}{d(rng, 2)}) {rng.choice('23456789')}{d(rng, 2)}-{d(rng, 4)}"
    if country == "AU":
        return "04" + d(rng, 2) + " " + d(rng, 3) + " " + d(rng, 3)
    if country == "FR":
        return "06 " + " ".join(d(rng, 2) for _ in range(4))
    if country == "NL":
        return "06-" + d(rng, 8)
    if country == "CN":
        return f"1{rng.choice('3589')}{d(rng, 1)} {d(rng, 4)} {d(rng, 4)}"
    if country == "JP":
        return f"0{rng.choice('789')}0-{d(rng, 4)}-{d(rng, 4)}"
    raise ValueError(country)


def _phone_for(e: Entity, system: str, rng: random.Random) -> str:
    c = e.country
    if system == "erp":
        if rng.random() >= 0.9:
            return ""
        return _fmt_phone(c, e.phone_area, e.phone_sub, rng.choice(["e164", "intl", "intl"]), rng)
    if system == "crm":
        if rng.random() >= 0.8:
            return ""
        r = rng.random()
        if r < 0.15:
            return _mobile(c, rng)
        s = _fmt_phone(c, e.phone_area, e.phone_sub, "local", rng)
        if r < 0.27 and c in ("DE", "NL", "FR", "GB"):
            s += rng.choice(["-", " - ", " ext. "]) + str(rng.randint(10, 299))  # direct dial
        if c == "JP" and rng.random() < 0.5:
            s = fullwidth(s)
        if rng.random() < TWO_PHONES_P:
            s += rng.choice([" / ", "; ", ", "]) + _mobile(c, rng)
        return s
    # finance
    if rng.random() >= 0.6:
        return ""
    sub = e.accounts_sub if rng.random() < 0.15 else e.phone_sub
    return _fmt_phone(c, e.phone_area, sub, rng.choice(["e164", "intl", "intl_trunk", "local"]), rng)


def _lose_digit(phone: str, rng: random.Random) -> str:
    """One digit lost in typing: the number no longer validates."""
    at = [i for i, ch in enumerate(phone) if ch.isdigit()][-rng.randint(1, 4)]
    return phone[:at] + phone[at + 1 :]


def _email_for(e: Entity, system: str, rng: random.Random) -> str:
    if e.en_name and system == e.en_system and rng.random() < CROSS_SCRIPT_SHARED_MAIL_P:
        return f"{e.billing_mailbox}@{e.domain}"  # the mailbox the finance system has too
    if system == "erp":
        return f"{e.generic_mailbox}@{e.domain}" if rng.random() < 0.75 else ""
    if system == "finance":
        return f"{e.billing_mailbox}@{e.domain}" if rng.random() < 0.8 else ""
    r = rng.random()
    if r >= 0.8:
        return ""
    first, last, pattern, freemail = rng.choice(e.contacts)
    if r < 0.6:
        user = {
            "first.last": f"{first}.{last}",
            "f.last": f"{first[0]}.{last}",
            "firstl": f"{first}{last[0]}",
            "last": last,
        }[pattern]
        address = f"{user}@{e.domain}"
        if rng.random() < EMAIL_DRESSED_P:
            address = rng.choice(
                [
                    f"{first.title()} {last.title()} <{address}>",
                    f"{address} (accounts)",
                    f"{address}; {e.generic_mailbox}@{e.domain}",
                    f'"{address}"',
                    f"{address}.",
                ]
            )
        return address
    if freemail == "qq.com":
        return f"{rng.randint(10000, 999999999)}@qq.com"
    return f"{first}{rng.choice(['.', '', '_'])}{last}{rng.choice(['', '', str(rng.randint(1, 99))])}@{freemail}"


def _street_for(e: Entity, system: str, rng: random.Random, upper: bool) -> str:
    c, sp = e.country, e.street_parts
    if system == "finance" and rng.random() < 0.05:  # PO box for invoices
        n = rng.randint(100, 9999)
        return {
            "DE": f"Postfach {n}",
            "GB": f"PO Box {n}",
            "US": f"PO Box {n}",
            "FR": f"BP {n}",
            "NL": f"Postbus {n}",
            "CN": f"{n}号信箱",
            "JP": f"私書箱{n}号",
            "AU": f"PO Box {n}",
            "CA": f"PO Box {n}",
        }[c]
    if system != "crm":
        s = e.street
        if c == "CN" and system == "finance":
            s = CITIES["CN"][e.city_idx][0] + "市" + s
        if c == "JP" and system == "finance":
            a, b, cc = sp["no"]
            s = f"{sp['town']}{a}丁目{b}番{cc}号"
        return s
    if rng.random() < 0.1:
        return ""
    c = ADDRESS_STYLE.get(c, c)
    if c == "DE":
        name = sp["name"]
        if rng.random() < 0.6:
            name = name.replace("straße", "str.").replace("Straße", "Str.")
        if rng.random() < 0.3:
            name = name.replace("ß", "ss")
        s = f"{name} {sp['no']}"
    elif c == "GB":
        if "park" in sp:
            s = f"Unit {sp['unit']} {sp['park']}"
        else:
            s = f"{sp['no']} {sp['name']} {sp['type'][1] if rng.random() < 0.6 else sp['type'][0]}"
    elif c == "US":
        s = f"{sp['no']} {sp['name']} {sp['type'][1]}"
        if "suite" in sp:
            s += rng.choice([f" Ste {sp['suite']}", f" #{sp['suite']}", f", Suite {sp['suite']}"])
    elif c == "FR":
        name = sp["name"]
        if rng.random() < 0.5:
            name = sp["abbr"] + name[len(sp["type"]) :]
        s = f"{sp['no']}, {name}" if rng.random() < 0.3 else f"{sp['no']} {name}"
        if rng.random() < 0.4:
            s = ascii_fold(s)
    elif c == "NL":
        s = f"{sp['name']} {sp['no']}"
    elif c == "CN":
        s = f"{sp['name']}{sp['no']}号" if rng.random() < 0.5 else e.street
    else:  # JP
        s = e.street
        if rng.random() < 0.6:
            s = fullwidth(s)
    if rng.random() < 0.03:
        s = typo(s, rng)
    return s.upper() if upper else s


def _city_for(e: Entity, system: str, rng: random.Random, upper: bool) -> str:
    city = CITIES[e.country][e.city_idx]
    name, aliases = city[0], city[1]
    p_alias = {"erp": 0.0, "crm": 0.3, "finance": 0.1}[system]
    if system == "crm" and rng.random() < 0.05:
        return ""
    if aliases and rng.random() < p_alias:
        name = rng.choice(aliases)
    if system == "crm" and rng.random() < 0.03 and name.isascii():
        name = typo(name, rng)
    return name.upper() if upper else name


def _postcode_for(e: Entity, system: str, rng: random.Random) -> str:
    pc, c = e.postcode, e.country
    if system == "crm":
        if rng.random() < 0.4:
            return ""
        if c == "JP":
            return rng.choice([pc, "〒" + pc, fullwidth(pc)])
        if c == "GB" and rng.random() < 0.3:
            return pc.replace(" ", "")
        return pc
    if system == "finance":
        if c in ("GB", "NL") and rng.random() < 0.5:
            return pc.replace(" ", "")
        if c == "JP" and rng.random() < 0.5:
            return pc.replace("-", "")
        if c == "US" and rng.random() < 0.3:
            return pc + "-" + _digits(rng, 4)
        if c == "DE" and pc.startswith("0") and rng.random() < 0.5:
            return pc[1:]  # leading zero lost in a spreadsheet import
        return pc
    return pc


def _render(e: Entity, system: str, rng: random.Random) -> dict:
    name = _name_for(e, system, rng)
    if e.country not in ("CN", "JP") and rng.random() < ANNOTATED_NAME_P[system]:
        name += rng.choice(NAME_ANNOTATIONS.get(e.country, NAME_ANNOTATIONS["*"]))
    upper = system == "crm" and name.isupper()
    phone = _phone_for(e, system, rng)
    if phone and rng.random() < BAD_PHONE_RECORD_P:
        phone = _lose_digit(phone, rng)
    country = e.country
    if rng.random() < COUNTRY_SPELLING_P[system]:
        country = rng.choice(COUNTRY_SPELLINGS[country])
    return {
        "source_system": system,
        "name": name,
        "tax_id": _tax_for(e, system, rng),
        "email": _email_for(e, system, rng),
        "phone": phone,
        "street": _street_for(e, system, rng, upper),
        "city": _city_for(e, system, rng, upper),
        "postcode": _postcode_for(e, system, rng),
        "country": country,
        "entity_id": e.entity_id,
        "iso_country": e.country,  # not an input column: for describe()
    }


def _choose_systems(rng: random.Random) -> tuple:
    k = _pick_weighted(rng, SYSTEM_COUNT_P)
    if k == 1:
        return (_pick_weighted(rng, SINGLE_SYSTEM_P),)
    if k == 2:
        return _pick_weighted(rng, PAIR_SYSTEM_P)
    return SYSTEMS


def generate(n_records: int, seed: int) -> pd.DataFrame:
    """``n_records`` labelled customer records (INPUT columns + entity_id),
    shuffled, deterministic in (n_records, seed)."""
    rng = random.Random(seed)
    factory = _EntityFactory(rng)
    rows: list[dict] = []
    kinds: dict[str, tuple[str, str]] = {}
    while len(rows) < n_records:
        base = factory.base()
        group = [base]
        if rng.random() < NAMESAKE_P:
            group.append(factory.namesake(base))
        if rng.random() < SIBLING_P:
            for _ in range(rng.choice([1, 1, 2])):
                group.append(factory.sibling(base))
        if rng.random() < BRANCH_P:
            group.append(factory.branch(base))
        for e in group:
            e.systems = _choose_systems(rng)
            if e.parent_tax:
                e.parent_tax_system = rng.choice(e.systems)
            if e.en_name:
                e.en_system = "erp" if "erp" in e.systems else e.systems[0]
            kinds[e.entity_id] = (e.kind, e.related_to, ";".join(e.traits))
            for system in e.systems:
                rows.append(_render(e, system, rng))
                if rng.random() < DUP_P[system]:
                    rows.append(_render(e, system, rng))
    rows = rows[:n_records]
    rng.shuffle(rows)
    counters = {s: 0 for s in SYSTEMS}
    fmt = {"erp": "CUST-{:06d}", "crm": "ACC-{:07d}", "finance": "D1{:05d}"}
    for r in rows:
        counters[r["source_system"]] += 1
        r["source_id"] = fmt[r["source_system"]].format(counters[r["source_system"]])
    df = pd.DataFrame(rows, columns=INPUT_COLUMNS + ["entity_id"])
    df.attrs["records_per_country"] = pd.Series([r["iso_country"] for r in rows]).value_counts().to_dict()
    present = sorted(df["entity_id"].unique())
    df.attrs["entity_kinds"] = pd.Series([kinds[e][0] for e in present]).value_counts().to_dict()
    # entity_id, kind (base | namesake | sibling | branch), related_to (the base entity of a
    # namesake, sibling or branch), traits (the issue-17 cases it carries, ";"-joined): lets an
    # error analysis tell designed hard negatives and the hard cases apart.
    df.attrs["entities"] = [(e, *kinds[e]) for e in present]
    traits: dict[str, int] = {}
    for e in present:
        for t in filter(None, kinds[e][2].split(";")):
            traits[t] = traits.get(t, 0) + 1
    df.attrs["entity_traits"] = traits
    return df


def describe(df: pd.DataFrame) -> dict:
    """Counts for the report: records, entities, true pairs, duplicates."""
    sizes = df.groupby("entity_id").size()
    within = df.groupby(["entity_id", "source_system"]).size()
    return {
        "records": len(df),
        "entities": int(sizes.size),
        "true_pairs": int((sizes * (sizes - 1) // 2).sum()),
        "records_per_system": df["source_system"].value_counts().to_dict(),
        "records_per_country": df.attrs.get("records_per_country") or df["country"].value_counts().to_dict(),
        "within_system_duplicate_records": int((within - 1).sum()),
        "entity_size_histogram": sizes.value_counts().sort_index().to_dict(),
        "entity_kinds": df.attrs.get("entity_kinds", {}),
        "entity_traits": df.attrs.get("entity_traits", {}),
    }


def write(df: pd.DataFrame, out_dir: str) -> tuple[str, str]:
    os.makedirs(out_dir, exist_ok=True)
    inp = os.path.join(out_dir, "input.csv")
    truth = os.path.join(out_dir, "truth.csv")
    df[INPUT_COLUMNS].to_csv(inp, index=False)
    df[["source_system", "source_id", "entity_id"]].to_csv(truth, index=False)
    if "entities" in df.attrs:
        pd.DataFrame(df.attrs["entities"], columns=["entity_id", "kind", "related_to", "traits"]).to_csv(
            os.path.join(out_dir, "entities.csv"), index=False
        )
    return inp, truth


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True, help="directory for input.csv and truth.csv")
    ap.add_argument("--show", type=int, default=0, help="print N sample rows")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    df = generate(args.records, args.seed)
    t1 = time.perf_counter()
    inp, truth = write(df, args.out)
    info = describe(df)
    print(f"generated {len(df)} records in {t1 - t0:.1f}s -> {inp}, {truth}", file=sys.stderr)
    for k, v in info.items():
        print(f"  {k}: {v}", file=sys.stderr)
    if args.show:
        with pd.option_context("display.max_columns", None, "display.width", 250, "display.max_colwidth", 40):
            print(df.sample(args.show, random_state=args.seed).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
