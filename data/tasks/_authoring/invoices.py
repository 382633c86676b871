"""Supplier invoices and payment messages with gold fields computed alongside the text.

The accounts-payable inbox of Aldwyn, a fictional hotel group (entities in the UK, the
Netherlands, Germany, France and Norway), receives invoices, invoice e-mails, reminders,
portal notifications, pro-formas, corrections and chat messages from fictional suppliers.
Each message draws its values (invoice number, supplier, dates, line items, totals, currency,
purchase order) and distractors (customer, sales-order, KvK, SIRET and KID numbers, IBANs, VAT
ids, phone numbers, the buyer's own name, order, delivery, reminder and e-mail dates,
subtotals, VAT, shipping, paid and remaining amounts, reminder fees), then renders them
through one of many hand-written layouts. No delivery-note layout is reused.

Template syntax: `{slot}` is a value; `<<a|b|c>>` picks one wording at random; `[...]` is an
optional part, dropped when a slot inside it is absent (`[A||B]`: A if its slots are all
present, else B). A slot that appears outside brackets is required, so a gold field is null
exactly when the text does not print it. Run it on its own or through build.py:

    .venv/bin/python data/tasks/_authoring/invoices.py
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass
from pathlib import Path

from common import typo, write_extraction
from names import NAMES

# --- the fictional parties --------------------------------------------------------------------


@dataclass(frozen=True)
class Supplier:
    name: str
    country: str  # GB IE NL DE FR NO SE DK CH US
    kind: str  # key of ITEMS
    inv_pattern: str  # {y} year, {yy} two digits, {nK} K random digits
    domain: str
    street: str
    city: str


SUPPLIERS = [
    Supplier(
        "Harrowgate Linen Services Ltd",
        "GB",
        "linen",
        "INV-{y}-{n5}",
        "harrowgate-linen.co.uk",
        "Unit 7, Kilnworth Trading Estate",
        "Leeds LS11 8QT",
    ),
    Supplier(
        "Penwarden Catering Supplies Ltd",
        "GB",
        "catering",
        "SI{n6}",
        "penwarden.co.uk",
        "14 Tannery Lane",
        "Bristol BS2 0JX",
    ),
    Supplier(
        "Blackmoor IT Solutions Ltd",
        "GB",
        "it",
        "BM{n5}",
        "blackmoor-it.co.uk",
        "2nd Floor, 9 Chapel Walk",
        "Sheffield S1 2PD",
    ),
    Supplier(
        "Ashcombe & Reed Stationers",
        "GB",
        "stationery",
        "{n6}",
        "ashcombereed.co.uk",
        "48 Market Row",
        "Norwich NR2 1NE",
    ),
    Supplier(
        "Fennick Pest Control Ltd",
        "GB",
        "pest",
        "FPC-{n4}",
        "fennickpest.co.uk",
        "Orchard House, Mill Road",
        "Reading RG1 8DY",
    ),
    Supplier(
        "Corrib Coffee Roasters Ltd",
        "IE",
        "coffee",
        "CCR/{y}/{n4}",
        "corribcoffee.ie",
        "Unit 3, Tuam Road Business Park",
        "Galway H91 X2C4",
    ),
    Supplier(
        "Van Houtem Schoonmaak B.V.",
        "NL",
        "cleaning_nl",
        "{y}{n5}",
        "vanhoutem.nl",
        "Industrieweg 41",
        "3542 AD Utrecht",
    ),
    Supplier(
        "Drukkerij De Vlasbloem",
        "NL",
        "printing_nl",
        "F{yy}-{n4}",
        "vlasbloem.nl",
        "Spoorlaan 12",
        "5038 CB Tilburg",
    ),
    Supplier(
        "Groothandel Kuipers & Zn.",
        "NL",
        "wholesale_nl",
        "VF{n6}",
        "kuipersgroothandel.nl",
        "Havenstraat 88",
        "1506 PK Zaandam",
    ),
    Supplier(
        "Meerwijk Installatietechniek BV",
        "NL",
        "install_nl",
        "MIT-{y}-{n3}",
        "meerwijk-installatie.nl",
        "Ambachtsweg 5",
        "2222 AH Katwijk",
    ),
    Supplier(
        "Brandauer Gastrotechnik GmbH",
        "DE",
        "gastro_de",
        "RE-{n6}",
        "brandauer-gastro.de",
        "Gewerbering 17",
        "85748 Garching",
    ),
    Supplier(
        "Lindholz Büromöbel GmbH",
        "DE",
        "furniture_de",
        "{y}-{n5}",
        "lindholz-bueromoebel.de",
        "Am Sägewerk 3",
        "32052 Herford",
    ),
    Supplier(
        "Wäscherei Oberkamp KG",
        "DE",
        "laundry_de",
        "R{n7}",
        "oberkamp-waescherei.de",
        "Mühlenstraße 22",
        "44135 Dortmund",
    ),
    Supplier(
        "Seeberg & Töchter Weinhandel",
        "DE",
        "wine_de",
        "SB{yy}/{n4}",
        "seeberg-wein.de",
        "Weinbergstraße 6",
        "55116 Mainz",
    ),
    Supplier(
        "Imprimerie Carrel SARL",
        "FR",
        "printing_fr",
        "FA{yy}{n4}",
        "imprimerie-carrel.fr",
        "12 rue des Cordiers",
        "69002 Lyon",
    ),
    Supplier(
        "Boulangerie Vasseur & Fils",
        "FR",
        "bakery_fr",
        "F-{y}-{n4}",
        "vasseur-boulangerie.fr",
        "3 place du Marché",
        "59800 Lille",
    ),
    Supplier(
        "Maison Delorme Textiles SAS",
        "FR",
        "textiles_fr",
        "MD{n6}",
        "delorme-textiles.fr",
        "27 avenue Jean Jaurès",
        "31000 Toulouse",
    ),
    Supplier(
        "Nordvik Kontorservice AS",
        "NO",
        "office_no",
        "{n5}",
        "nordvik-kontor.no",
        "Sandakerveien 64",
        "0484 Oslo",
    ),
    Supplier(
        "Bjørkli Renhold AS",
        "NO",
        "cleaning_no",
        "{n6}",
        "bjorkli-renhold.no",
        "Industrigata 9",
        "7080 Heimdal",
    ),
    Supplier(
        "Havsund Sjømat AS",
        "NO",
        "seafood_no",
        "HS{n5}",
        "havsund.no",
        "Kaigata 2",
        "6002 Ålesund",
    ),
    Supplier(
        "Ekvall Trävaror AB",
        "SE",
        "wood_se",
        "{n7}",
        "ekvalltra.se",
        "Sågvägen 11",
        "791 31 Falun",
    ),
    Supplier(
        "Lundgaard Emballage ApS",
        "DK",
        "packaging_dk",
        "{n5}",
        "lundgaard-emballage.dk",
        "Industrivej 28",
        "8600 Silkeborg",
    ),
    Supplier(
        "Bergli Kaffeetechnik AG",
        "CH",
        "coffee_ch",
        "RG-{n5}",
        "bergli-kaffee.ch",
        "Bahnhofstrasse 40",
        "8400 Winterthur",
    ),
    Supplier(
        "Cedarline Software Inc.",
        "US",
        "software",
        "CS-{n6}",
        "cedarline.io",
        "2200 Alder Street, Suite 410",
        "Portland, OR 97205",
    ),
    Supplier(
        "Redfern Analytics LLC",
        "US",
        "analytics",
        "INV-{n5}",
        "redfernanalytics.com",
        "515 Grove Avenue",
        "Austin, TX 78704",
    ),
]
COUNTRY = {
    "GB": "United Kingdom",
    "IE": "Ireland",
    "NL": "Nederland",
    "DE": "Deutschland",
    "FR": "France",
    "NO": "Norge",
    "SE": "Sverige",
    "DK": "Danmark",
    "CH": "Schweiz",
    "US": "USA",
}
CURRENCY = {"GB": "GBP", "IE": "EUR", "NL": "EUR", "DE": "EUR", "FR": "EUR", "NO": "NOK"}
CURRENCY |= {"SE": "SEK", "DK": "DKK", "CH": "CHF", "US": "USD"}
# VAT in tenths of a percent; some kinds of goods take the reduced rate.
VAT = {"GB": 200, "IE": 230, "NL": 210, "DE": 190, "FR": 200, "NO": 250, "SE": 250, "DK": 250}
VAT |= {"CH": 81, "US": 0}
REDUCED = {"wholesale_nl": 90, "bakery_fr": 55, "seafood_no": 150}
EU = {"IE", "NL", "DE", "FR", "SE", "DK"}
# The buyer: Aldwyn's entity in each country (name, street, city).
BUYERS = {
    "GB": ("Aldwyn Hospitality Ltd", "Aldwyn House, 3 Wharf Street", "Manchester M1 2EQ"),
    "NL": ("Aldwyn Hotels B.V.", "Prinsengracht 480", "1017 KH Amsterdam"),
    "DE": ("Aldwyn Hotels GmbH", "Friedrichstraße 118", "10117 Berlin"),
    "FR": ("Aldwyn Hôtels SAS", "8 quai de la Loire", "75019 Paris"),
    "NO": ("Aldwyn Nordic AS", "Rådhusgata 17", "0158 Oslo"),
}
BUYER_OF = {"GB": "GB", "IE": "GB", "US": "GB", "NL": "NL", "DE": "DE", "CH": "DE", "FR": "FR"}
BUYER_OF |= {"NO": "NO", "SE": "NO", "DK": "NO"}
AP_EMAILS = ["ap@aldwyn-hospitality.com", "invoices@aldwyn.eu", "crediteuren@aldwyn.nl"]

# (description, unit price in cents for EUR/GBP/USD/CHF, max quantity); x10 for NOK/SEK/DKK
ITEMS = {
    "linen": [
        ("Bed linen rental, double", 410, 120),
        ("Bath towels, laundered", 95, 300),
        ("Table linen service", 1850, 12),
        ("Express surcharge", 4500, 1),
    ],
    "catering": [
        ("Chafing dish, stainless", 8900, 6),
        ("Gastronorm tray 1/1", 2350, 20),
        ("Disposable gloves (box of 100)", 640, 40),
        ("Cutlery set, 24 pcs", 3900, 10),
    ],
    "it": [
        ("Managed IT service, monthly fee", 125000, 1),
        ("On-site support (hours)", 9500, 8),
        ("Firewall licence renewal", 48000, 1),
        ("USB-C docking station", 17900, 5),
    ],
    "stationery": [
        ("A4 copy paper 80 g (box of 5 reams)", 2450, 20),
        ("Black toner cartridge", 8900, 6),
        ("Guest registration cards (500)", 3800, 4),
        ("Printed menus, A3", 210, 200),
    ],
    "pest": [
        ("Quarterly inspection", 18500, 1),
        ("Bait station refill", 1200, 24),
        ("Call-out fee", 7500, 1),
    ],
    "coffee": [
        ("House espresso blend 1 kg", 2290, 30),
        ("Decaf 1 kg", 2450, 10),
        ("Grinder service", 9500, 1),
    ],
    "cleaning_nl": [
        ("Kantoorschoonmaak, maandtarief", 184000, 1),
        ("Glasbewassing", 32500, 1),
        ("Sanitaire middelen", 4850, 6),
    ],
    "printing_nl": [
        ("Visitekaartjes (250 st.)", 3900, 10),
        ("Flyers A5, 1000 st.", 12900, 4),
        ("Ontwerpkosten", 7500, 3),
    ],
    "wholesale_nl": [
        ("Koffiebonen 1 kg", 1890, 40),
        ("Theezakjes (doos à 100)", 790, 30),
        ("Suikersticks (1000 st.)", 1450, 10),
    ],
    "install_nl": [
        ("Onderhoud cv-ketel", 14500, 2),
        ("Arbeidsloon (uur)", 6800, 8),
        ("Voorrijkosten", 4500, 1),
    ],
    "gastro_de": [
        ("Wartung Kombidämpfer", 29000, 2),
        ("Dichtungssatz", 8400, 3),
        ("Arbeitszeit (Std.)", 7900, 6),
        ("Anfahrtspauschale", 6500, 1),
    ],
    "furniture_de": [
        ("Bürostuhl, ergonomisch", 38900, 8),
        ("Schreibtisch 160x80", 54000, 4),
        ("Montage", 12000, 1),
    ],
    "laundry_de": [
        ("Bettwäsche-Service", 520, 150),
        ("Handtücher (kg)", 310, 200),
        ("Expresszuschlag", 3500, 1),
    ],
    "wine_de": [
        ("Riesling trocken 0,75 l", 1190, 60),
        ("Spätburgunder 0,75 l", 1640, 36),
        ("Sekt brut 0,75 l", 1390, 24),
    ],
    "printing_fr": [
        ("Impression menus A4", 180, 300),
        ("Cartes de visite (500 ex.)", 4500, 6),
        ("Frais de mise en page", 9000, 1),
    ],
    "bakery_fr": [
        ("Pain de campagne", 420, 60),
        ("Croissants (lot de 50)", 3250, 10),
        ("Baguettes tradition", 115, 200),
    ],
    "textiles_fr": [
        ("Nappes blanches 180x180", 3400, 40),
        ("Serviettes coton", 390, 200),
        ("Tabliers brodés", 2450, 20),
    ],
    "office_no": [
        ("Kopipapir A4 (eske)", 3200, 20),
        ("Blekkpatroner, sort", 6900, 10),
        ("Permer (10 stk)", 1490, 12),
    ],
    "cleaning_no": [
        ("Renhold, fast avtale", 142000, 1),
        ("Vindusvask", 28000, 1),
        ("Tepperens (m²)", 450, 120),
    ],
    "seafood_no": [
        ("Røkt laks 1 kg", 2890, 30),
        ("Reker 5 kg", 6950, 10),
        ("Fiskesuppebase 2 l", 890, 20),
    ],
    "wood_se": [
        ("Furuplank 45x95 (m)", 390, 300),
        ("Ekparkett (m²)", 6200, 60),
        ("Montagearbete (tim)", 6900, 16),
    ],
    "packaging_dk": [
        ("Kartoner 40x30x30", 210, 500),
        ("Bobleplast, rulle", 2900, 20),
        ("Tape, brun (36 stk)", 4100, 10),
    ],
    "coffee_ch": [
        ("Service Kaffeemaschine", 38000, 2),
        ("Entkalkungsset", 4900, 6),
        ("Ersatzteil Brühgruppe", 21000, 1),
    ],
    "software": [
        ("Pro plan, 25 seats (monthly)", 112500, 1),
        ("Additional storage 500 GB", 4900, 4),
        ("Priority support add-on", 29900, 1),
    ],
    "analytics": [
        ("Analytics dashboard licence", 89000, 1),
        ("Data onboarding (hours)", 15000, 10),
        ("API overage (per 10k calls)", 1200, 40),
    ],
}

# --- dates, numbers, money --------------------------------------------------------------------

MONTHS = {
    "en": "January February March April May June July August September October November December",
    "nl": "januari februari maart april mei juni juli augustus september oktober november december",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "no": "januar februar mars april mai juni juli august september oktober november desember",
}
MONTHS = {k: v.split() for k, v in MONTHS.items()}
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def date_options(d: dt.date, lang: str, country: str) -> list[str]:
    """Ways to write `d` in a text of language `lang` from a supplier in `country`. Numeric
    day/month forms with slashes or dashes only when the day is above 12 (unambiguous)."""
    dd, mm, y = f"{d.day:02d}", f"{d.month:02d}", d.year
    if lang == "en":
        m = MONTHS["en"][d.month - 1]
        out = [
            f"{d.day} {m} {y}",
            f"{m} {d.day}, {y}",
            f"{ordinal(d.day)} {m} {y}",
            f"{d.day} {m[:3]} {y}",
            f"{m[:3]} {d.day}, {y}",
            d.isoformat(),
            f"{dd}-{m[:3]}-{y}",
            f"{DAYS[d.weekday()]} {d.day} {m[:3]} {y}",
        ]
        if country in ("DE", "NO", "CH", "DK", "SE", "NL"):
            out.append(f"{dd}.{mm}.{y}")
        if d.day > 12 and country == "US":
            out.append(f"{mm}/{dd}/{y}")
        elif d.day > 12:
            out += [f"{dd}/{mm}/{y}", f"{d.day}/{d.month}/{y % 100:02d}"]
        return out
    if lang == "nl":
        out = [f"{d.day} {MONTHS['nl'][d.month - 1]} {y}", d.isoformat()]
        return out + ([f"{dd}-{mm}-{y}"] if d.day > 12 else [])
    if lang == "de":
        return [
            f"{d.day}. {MONTHS['de'][d.month - 1]} {y}",
            f"{dd}.{mm}.{y}",
            f"{d.day}.{d.month}.{y}",
        ]
    if lang == "fr":
        day = "1er" if d.day == 1 else str(d.day)
        out = [f"{day} {MONTHS['fr'][d.month - 1]} {y}", d.isoformat()]
        return out + ([f"{dd}/{mm}/{y}"] if d.day > 12 else [])
    if lang == "no":
        return [f"{d.day}. {MONTHS['no'][d.month - 1]} {y}", f"{dd}.{mm}.{y}", d.isoformat()]
    if lang == "edi":
        return [d.isoformat(), f"{y}{mm}{dd}", f"{dd}.{mm}.{y}"]
    assert lang == "iso", lang
    return [
        d.isoformat(),
        d.isoformat(),
        f"{dd}.{mm}.{y}",
        f"{d.day} {MONTHS['en'][d.month - 1][:3]} {y}",
    ]


def fmt_num(cents: int, style: str) -> str:
    whole, frac = divmod(cents, 100)
    grouped = f"{whole:,}"
    return {
        "en": f"{grouped}.{frac:02d}",
        "plain": f"{whole}.{frac:02d}",
        "de": f"{grouped.replace(',', '.')},{frac:02d}",
        "de_plain": f"{whole},{frac:02d}",
        "space": f"{grouped.replace(',', ' ')},{frac:02d}",
        "ch": f"{grouped.replace(',', chr(39))}.{frac:02d}",
    }[style]


NUM_STYLES = {  # by supplier country: (style, weight)
    "GB": [("en", 8), ("plain", 2)],
    "IE": [("en", 8), ("plain", 2)],
    "US": [("en", 9), ("plain", 1)],
    "NL": [("de", 7), ("de_plain", 2), ("en", 1)],
    "DE": [("de", 7), ("de_plain", 2), ("en", 1)],
    "DK": [("de", 7), ("de_plain", 3)],
    "FR": [("space", 7), ("de_plain", 3)],
    "NO": [("space", 6), ("de_plain", 3), ("de", 1)],
    "SE": [("space", 7), ("de_plain", 3)],
    "CH": [("ch", 7), ("en", 3)],
}
SYMBOL = {"EUR": "€", "GBP": "£", "USD": "$"}


def weighted(rng: random.Random, pairs: list[tuple[str, int]]) -> str:
    return rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]


def money_style(rng: random.Random, cur: str, kr_ok: bool) -> str:
    """How the amounts carry their currency: a symbol, the code, or nothing at all. `kr_ok`:
    the text shows the supplier's Norwegian address, so "kr" can only mean NOK."""
    if rng.random() < 0.05:
        return "none"
    symbol = cur in SYMBOL or (cur == "NOK" and kr_ok)
    if symbol and rng.random() < 0.6:
        return "sym_before" if cur in ("GBP", "USD") or rng.random() < 0.5 else "sym_after"
    return rng.choice(("code_before", "code_after"))


def fmt_money(cents: int, cur: str, cstyle: str, nstyle: str) -> str:
    n = fmt_num(cents, nstyle)
    if cstyle == "none":
        return n
    if cstyle == "code_before":
        return f"{cur} {n}"
    if cstyle == "code_after":
        return f"{n} {cur}"
    sym = SYMBOL.get(cur, "kr")
    if cstyle == "sym_after":
        return f"{n} {sym}"
    return f"{sym}{n}" if cur in ("GBP", "USD") or nstyle in ("en", "plain") else f"{sym} {n}"


def digits(rng: random.Random, k: int) -> str:
    return str(rng.randint(10 ** (k - 1), 10**k - 1))


def pattern(rng: random.Random, pat: str, year: int) -> str:
    out = pat.replace("{y}", str(year)).replace("{yy}", str(year % 100))
    return re.sub(r"\{n(\d)\}", lambda m: digits(rng, int(m.group(1))), out)


def purchase_order(rng: random.Random) -> str:
    """Aldwyn's purchase order references: each entity's system writes them differently."""
    n = rng.randint
    return rng.choice(
        [
            f"PO-{n(1000, 9999)}",
            f"PO-26-{n(1000, 9999)}",
            f"IO {n(10000, 99999)}",
            f"ALD-PO-{n(10000, 99999)}",
            f"45{n(10**7, 10**8 - 1)}",
            f"PO{n(100000, 999999)}",
            f"P{n(10000, 99999)}/{rng.choice(['AMS', 'MAN', 'BER', 'OSL', 'PAR'])}",
            f"BO-{n(1000, 9999)}",
        ]
    )


def customer_number(rng: random.Random) -> str:
    n = rng.randint
    return rng.choice(
        [
            f"{n(10000, 99999)}",
            f"C-{n(10000, 99999)}",
            f"K{n(100000, 999999)}",
            f"D{n(1000, 9999)}-{n(10, 99)}",
        ]
    )


def iban(rng: random.Random, country: str) -> str:
    bank = "".join(rng.choice("ABCDEFGHJKLMNPRSTVWZ") for _ in range(4))
    bban = {
        "GB": bank + digits(rng, 14),
        "IE": bank + digits(rng, 14),
        "NL": bank + digits(rng, 10),
        "DE": digits(rng, 18),
        "FR": digits(rng, 23),
        "NO": digits(rng, 11),
        "SE": digits(rng, 20),
        "DK": digits(rng, 14),
        "CH": digits(rng, 17),
    }[country]
    raw = f"{country}{rng.randint(10, 98)}{bban}"
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def vat_id(rng: random.Random, country: str) -> str:
    d = lambda k: digits(rng, k)  # noqa: E731
    return {
        "GB": f"GB {d(3)} {d(4)} {d(2)}",
        "IE": f"IE{d(7)}{rng.choice('ABCDEFHKW')}",
        "NL": f"NL{d(9)}B01",
        "DE": f"DE{d(9)}",
        "FR": f"FR {d(2)} {d(9)}",
        "NO": f"NO {d(3)} {d(3)} {d(3)} MVA",
        "SE": f"SE{d(10)}01",
        "DK": f"DK{d(8)}",
        "CH": f"CHE-{d(3)}.{d(3)}.{d(3)} MWST",
        "US": f"EIN {d(2)}-{d(7)}",
    }[country]


def phone(rng: random.Random, country: str) -> str:
    n = rng.randint
    return {
        "GB": f"+44 113 496 0{n(100, 999)}",
        "IE": f"+353 91 {n(100000, 999999)}",
        "NL": f"+31 30 {n(100, 999)} {n(1000, 9999)}",
        "DE": f"+49 89 {n(1000000, 9999999)}",
        "FR": f"+33 4 {n(10, 99)} {n(10, 99)} {n(10, 99)} {n(10, 99)}",
        "NO": f"+47 {n(21, 99)} {n(10, 99)} {n(10, 99)} {n(10, 99)}",
        "SE": f"+46 23 {n(100000, 999999)}",
        "DK": f"+45 {n(10, 99)} {n(10, 99)} {n(10, 99)} {n(10, 99)}",
        "CH": f"+41 52 {n(100, 999)} {n(10, 99)} {n(10, 99)}",
        "US": f"+1 503 555 01{n(10, 99)}",
    }[country]


# --- layouts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    name: str
    lang: str  # en nl de fr no (prose), iso (portal), edi (export): how dates are written
    text: str
    items: str | None = None  # how line items are printed, when the layout has {items}
    casual: bool = False  # typed by a person: typos, a lower-case supplier name sometimes
    kind: str = "invoice"  # invoice | reminder | proforma
    only: tuple[str, ...] = ()  # supplier kinds that send this layout (empty: any)


LAYOUTS = [
    Layout(
        "classic_header",
        "en",
        """<<INVOICE|Invoice|TAX INVOICE|Sales invoice>>
{supplier}
{saddr}
<<VAT no.|VAT reg. no.|VAT number>>: {svat}

<<Bill to|Invoice to|Customer>>: {buyer}
[{baddr}
][<<Customer no.|Account no.|Customer number>>: {cust}
]
<<Invoice no.|Invoice number|Invoice #>>: {inv}
[<<Invoice date|Date>>: {date}
][<<Due date|Payment due|Due>>: {due}
][<<Your PO|Purchase order|PO number>>: {po}
][<<Your ref.|Contact>>: {yourref}
]
{items}
Subtotal: {sub}
[<<Shipping|Delivery charge|Carriage>>: {ship}
]VAT {vat_rate}: {vat}
<<Total due|TOTAL|Amount due|Total>>: {total}

[<<Terms|Payment terms>>: {terms}. ]<<Please pay to|Bank:|Remit to IBAN>> {siban}""",
        items="table",
    ),
    Layout(
        "invoice_email",
        "en",
        """From: {sperson} <{semail}>
[Sent: {sent}
]To: {ap_email}
Subject: <<Invoice|New invoice|Invoice attached:|Our invoice>> {inv}\
<< from {supplier}| - {supplier}|>>

<<Dear Accounts Payable,|Hello,|Hi {bfirst},|Good afternoon,|Dear Sir or Madam,>>

<<Please find attached|Attached please find|Attached you will find>> <<our|the>> invoice \
{inv}[ dated {date}][ for {total}]. [<<It relates to|This covers>> your purchase order {po}. ]\
[<<Payment is due by|Please pay by|The due date is>> {due}.||<<Our terms are|Terms:>> {terms}.] \
<<Bank details are on the invoice.|Please quote the invoice number with your payment.|Let me \
know if you need anything else.>>

<<Kind regards|Best regards|Many thanks>>,
{sperson}
<<Accounts Receivable|Credit Control|Finance>> | {supplier}
{sphone}""",
        casual=True,
    ),
    Layout(
        "payment_reminder",
        "en",
        """<<PAYMENT REMINDER|Reminder: overdue invoice|Friendly payment reminder|Overdue notice>>
{rem_date}

{buyer}
<<Attn: Accounts Payable|For the attention of the accounts department|Attn: {bperson}>>

<<Our records show that|According to our records,|We notice that>> invoice {inv}\
[ (your PO {po})][ of {date}][, due on {due},] <<for|totalling|amounting to>> {total} <<has not \
yet been paid|remains unpaid|is still outstanding>>.[ We received {paid} on {paid_date}; \
<<the remaining balance is|the balance still open is|please pay the remaining>> {rest}.] \
<<Please arrange payment within 7 days|Please settle this within ten days|Kindly pay at your \
earliest convenience>>[ to {siban}].
<<If you have already paid, please ignore this letter.|If payment has crossed with this \
reminder, please disregard it.|>>

{supplier}[ | customer no. {cust}]""",
        kind="reminder",
    ),
    Layout(
        "final_notice",
        "en",
        """<<FINAL NOTICE|Second reminder|LAST REMINDER BEFORE COLLECTION>>\
[ - <<account|customer no.>> {cust}]
Date: {rem_date}
To: {buyer}
From: {supplier}

Despite <<our reminder of|our earlier reminder dated>> {rem1_date}, invoice {inv}[ (PO {po})]\
[ dated {date}] for {total}[, due {due},] is still unpaid.[ <<A late payment fee of {fee} has \
been added|We have added a reminder fee of {fee}>>, <<so the amount now payable is|bringing \
the amount to pay to>> {total_fee}.] <<If we do not receive payment within 7 days, we will \
pass the debt to a collection agency.|Please pay immediately to avoid further costs.>>

<<Credit Control|Accounts department>>, {sphone}""",
        kind="reminder",
    ),
    Layout(
        "ocr_scan",
        "en",
        """<<I N V O I C E|lNVOICE|INV0ICE|INVOICE>>
{supplier}   {saddr_one}
<<Tel|TeI|Tel.>> {sphone}    <<VAT|VAT No|V.A.T. Reg>> {svat}
<<--------------------------------|================================|. . . . . . . . . . . .>>
<<lnvoice No|Invoice No|Inv0ice No.>> : {inv}    <<Date|Dale|Oate>> : {date}
<<Cust. No|Cust No.|Account|Cust0mer>> : {cust}[    <<Order ref|Your order|0rder No>> : {po}]
[<<Delivery date|Del. date|DeIivery>> : {deliv_date}
][<<Our ref|Sales order>> : {so}
]----
{items}
----
<<Sub-total|Subtota1|SUB TOTAL|Goods>>   {sub}
[<<Carriage|Freight|DeIivery>>   {ship}
]<<VAT|V.A.T.>> {vat_rate}   {vat}
<<TOTAL|T0TAL|Total|TOTAL DUE>>   {total}
[<<Payment due|Due date|Pay by>> : {due}
]<<Page 1 of 1|p. 1/1|E&OE|>>""",
        items="ocr",
    ),
    Layout(
        "accounts_chat",
        "en",
        """<<hi|hey|hello|morning>><< there| all|>>, <<this is|it's>> {sfirst} from \
[{supplier} ]accounts. <<just checking on|quick one about|chasing up>> inv {inv}[ ({total})]\
[ <<which was due|that was due on|due>> {due}][ - your po {po}]. <<has it been paid?|any news \
on payment?|can you let me know when it'll be paid?|could you check where it is?>> \
<<thx|thanks!|cheers|ty>>""",
        casual=True,
        kind="reminder",
    ),
    Layout(
        "portal_notification",
        "iso",
        """<<InvoiceHub:|Peppol notification:|e-Invoicing portal ->> <<New document \
received|You have received a new e-invoice|Incoming invoice>>

<<Sender|Supplier|Seller>>: {supplier}[ ({svat})]
<<Receiver|Buyer>>: {buyer}
Document type: <<Invoice|Commercial invoice|Invoice (380)>>
<<Document number|Invoice ID|Document no.>>: {inv}
[<<Issue date|Invoice date>>: {date}
][Due date: {due}
][<<Buyer reference|Order reference>>: {po}
][<<Total amount|Payable amount|Amount due>>: {total}
]Message ID: {msgid}
Received: {received}

<<Log in to approve or dispute this invoice.|This is an automated message; please do not \
reply.|Open the portal to view the PDF and approve it.>>""",
    ),
    Layout(
        "pro_forma",
        "en",
        """<<PRO FORMA INVOICE|Pro-forma invoice|PROFORMA>>
<<No.|Number|Ref.>> {inv}
<<Issued|Date>>: {date}
<<Valid until|Offer valid until|Validity>>: {valid}

From: {supplier}, {saddr_one}
For: {buyer}[ (your PO {po})]

{items}
<<Net|Net total|Subtotal>>: {sub}
[<<Freight|Shipping>>: {ship}
]VAT {vat_rate}: {vat}
<<Total|Amount payable in advance|Total payable>>: {total}

<<Payment in advance required before dispatch.|Goods will be shipped once payment is \
received.|The final invoice will follow with the goods.>>[ <<Please pay by|Payment by>> {due}.]""",
        items="list",
        kind="proforma",
    ),
    Layout(
        "factuur_nl",
        "nl",
        """<<FACTUUR|Factuur>>
{supplier}
[{saddr}
][KvK {kvk} · ]Btw-nr. {svat}

<<Aan|Factuuradres>>: {buyer}
[{baddr}
]
Factuurnummer: {inv}
[Factuurdatum: {date}
][Vervaldatum: {due}
]Klantnummer: {cust}
[<<Uw referentie|Inkoopordernummer|Uw ordernummer>>: {po}
][Leverdatum: {deliv_date}
]
{items}
Totaal excl. btw: {sub}
Btw {vat_rate}: {vat}
<<Totaal incl. btw|Te betalen|Totaal te betalen>>: {total}

<<Graag binnen|Betaling binnen>> {term_days} dagen op {siban} o.v.v. het factuurnummer.""",
        items="nl",
    ),
    Layout(
        "rechnung_de",
        "de",
        """{supplier} · {saddr_one}

{buyer}
[{baddr}
]
<<RECHNUNG|Rechnung>>
Rechnungsnummer: {inv}
[Rechnungsdatum: {date}
]Kundennummer: {cust}
[<<Ihre Bestellung|Ihre Bestellnummer|Bestell-Nr.>>: {po}
][<<Unsere Auftragsnr.|Auftragsbestätigung>>: {so}
][Lieferdatum: {deliv_date}
]
{items}
Nettobetrag: {sub}
[Versand: {ship}
]zzgl. {vat_rate} MwSt.: {vat}
<<Rechnungsbetrag|Gesamtbetrag|Endbetrag>>: {total}

[<<Zahlbar bis|Fällig am>> {due} ohne Abzug.||{terms}.]
USt-IdNr. {svat}[ · IBAN {siban}]""",
        items="de",
    ),
    Layout(
        "facture_fr",
        "fr",
        """{supplier}
[{saddr}
][SIRET {siret} – ]TVA intracom. {svat}

<<FACTURE|Facture>> N° {inv}
[Date <<de facture|d'émission>> : {date}
][<<Date d'échéance|Échéance>> : {due}
]<<N° client|Code client>> : {cust}
[<<Votre commande|Bon de commande|Réf. commande>> : {po}
]Client : {buyer}

{items}
Total HT : {sub}
TVA {vat_rate} : {vat}
<<Total TTC|Net à payer|Montant TTC>> : {total}

[<<Conditions de paiement|Règlement>> : {terms}
]<<Pénalités de retard : 3 fois le taux légal.|Pas d'escompte.|>>""",
        items="fr",
    ),
    Layout(
        "faktura_no",
        "no",
        """<<FAKTURA|Faktura>>
{supplier}
{saddr}
Org.nr. {svat}

Kunde: {buyer}
Kundenr.: {cust}
[<<Deres ref.|Bestillingsnr.|Innkjøpsordre>>: {po}
]
Fakturanr.: {inv}
[Fakturadato: {date}
][Forfallsdato: {due}
]
{items}
Sum eks. mva: {sub}
Mva {vat_rate}: {vat}
<<Å betale|Totalt å betale|Sum å betale>>: {total}

Kontonr.: {kontonr}   KID: {kid}""",
        items="no",
    ),
    Layout(
        "mahnung_de",
        "de",
        """<<Zahlungserinnerung|Mahnung|1. Mahnung>>
{rem_date}

Sehr geehrte Damen und Herren,

<<bei Durchsicht unserer Konten haben wir festgestellt|leider mussten wir feststellen|unsere \
Buchhaltung hat festgestellt>>, dass die Rechnung {inv}[ vom {date}] über {total}\
[ (fällig am {due})] noch nicht beglichen wurde.[ Ihre Teilzahlung über {paid} haben wir \
erhalten; offen sind noch {rest}.] Bitte überweisen Sie den <<offenen Betrag|Betrag>> innerhalb \
von 7 Tagen auf {siban}.[ Ihre Bestellnummer: {po}.]

Mit freundlichen Grüßen
{sperson}
{supplier}""",
        kind="reminder",
    ),
    Layout(
        "email_nl",
        "nl",
        """Van: {sperson} <{semail}>
Onderwerp: <<Factuur|Nieuwe factuur>> {inv}

Beste <<crediteurenadministratie|collega's|{bfirst}>>,

<<In de bijlage vindt u|Bijgaand sturen wij u|Hierbij ontvangt u>> factuur {inv}\
[ van {date}][ voor een bedrag van {total}].[ De factuur hoort bij inkooporder {po}.]\
[ Wij zien de betaling graag uiterlijk {due} tegemoet.||<<Betaling|Betalingstermijn>>: {terms}.]

Met vriendelijke groet,
{sperson}
{supplier}""",
        casual=True,
    ),
    Layout(
        "query_reply",
        "en",
        """<<Re: query on invoice|RE: Invoice|Re: your question about>> {inv}

Hi {bfirst},

Thanks for your email. <<To clarify|Just to clarify|For clarity>>: invoice {inv}\
[ was issued on {date}][ and is due on {due}]. The amount of {sub} you mention is <<the net \
amount|excluding VAT|before VAT>>; with VAT ({vat}) the total is {total}.[ It refers to your \
order {po}, delivered on {deliv_date}.] <<I've attached a copy again.|Please let me know if \
anything else is unclear.|>>

<<Regards|Best|Thanks>>,
{sperson}
{supplier}""",
        casual=True,
    ),
    Layout(
        "ap_log_line",
        "en",
        """<<Invoice received:|New AP item:|Logged:|AP inbox ->> {inv} | {supplier} | \
[{date} | ]{total}[ | due {due}][ | PO {po}] | cust {cust}""",
    ),
    Layout(
        "subscription_email",
        "en",
        """<<Your invoice is ready|Your {supplier} invoice|Invoice available>>

<<Hi|Hello>> {bfirst},

Your invoice for <<the billing period|the period|service from>> {period} is <<now \
available|ready>>.

Invoice number: {inv}
[Invoice date: {date}
]Account ID: {acct}
[Amount due: {total}
][Due date: {due}
][PO reference: {po}
]Plan: {plan}

<<Please pay by bank transfer; the details are on the PDF.|You can pay by card or bank \
transfer from your account page.|>>
{supplier} · {saddr_one}""",
        only=("it", "software", "analytics", "linen", "pest", "cleaning_nl", "cleaning_no"),
    ),
    Layout(
        "forwarded",
        "en",
        """<<Hi AP team|Hi|Hello accounts>>, <<can you book this one?|please process.|forwarding \
for payment.>>[ PO is {po}.] <<Goods were received OK.|Approved by me.|Cost centre {cc}.>>
{bperson}

---------- Forwarded message ---------
From: {sperson} <{semail}>
Date: {sent}
Subject: Invoice {inv}

<<Dear customer|Hello|Dear {bperson}>>,
please find our invoice {inv}[ of {date}] attached[ ({total})].[ Due date: {due}.]
{supplier}""",
        casual=True,
    ),
    Layout(
        "erp_export",
        "edi",
        """SUPPLIER: {supplier}
SUPPLIER VAT: {svat}
BUYER: {buyer}
INVOICE NO: {inv}
[INVOICE DATE: {date}
][DUE DATE: {due}
][PO REF: {po}
]NET: {sub_n}
VAT: {vat_n}
GROSS: {total_n}
[CCY: {ccy}
]STATUS: <<RECEIVED|TO APPROVE|MATCHED>>""",
    ),
    Layout(
        "corrected_invoice",
        "en",
        """<<CORRECTED INVOICE|Invoice (correction)|Replacement invoice>>
{supplier}

Invoice no.: {inv}
<<Replaces invoice|This invoice replaces|Cancels and replaces>> {old_inv} of {old_date}
[Date: {date}
]Customer: {buyer} ({cust})
[PO: {po}
]
<<Reason|Correction>>: <<wrong unit price|wrong quantity|VAT rate corrected|delivery charge \
removed>>
Previous total: {old_total}
<<New total incl. VAT|Corrected total|Total now payable>>: {total}
[Due: {due}]""",
    ),
    Layout(
        "call_note",
        "en",
        """<<Call note|Phone call|Voicemail>> {note_date} - {sperson}[ ({supplier})], {sphone}
<<re|about|regarding>> inv {inv}[ of {date}][, {total}]. <<says it's|claims it's|they say it \
is>> overdue[ (was due {due})], <<wants|asks for>> a payment date.[ <<PO on their side|Our \
PO>>: {po}.] <<Told them|Said>> we'd <<check and call back|look into it>>. -{bfirst}""",
        casual=True,
        kind="reminder",
    ),
    Layout(
        "relance_fr",
        "fr",
        """Objet : <<Relance|Rappel>> facture {inv}

Madame, Monsieur,

Sauf erreur de notre part, la facture n° {inv}[ du {date}] d'un montant de {total}\
[, échue le {due},] reste impayée à ce jour.[ Nous avons bien reçu un acompte de {paid} ; le \
solde restant dû est de {rest}.] Nous vous remercions de bien vouloir procéder au règlement \
<<sous huitaine|dans les meilleurs délais>>.[ Votre référence de commande : {po}.]

Cordialement,
{sperson}
Service comptabilité – {supplier}""",
        kind="reminder",
    ),
    Layout(
        "purring_no",
        "no",
        """Emne: <<Purring|Påminnelse>>: faktura {inv}

Hei,
vi kan ikke se å ha mottatt betaling for faktura {inv}[ datert {date}][ med forfall {due}]. \
Beløpet er {total}.[ Deres bestillingsnr.: {po}.] Vennligst betal innen 8 dager til \
kontonr. {kontonr} med KID {kid}.

Med vennlig hilsen
{sperson}
{supplier}""",
        kind="reminder",
    ),
    Layout(
        "casual_email",
        "en",
        """<<Hi|Hey>> {bfirst},
<<Hope you're well!|Happy Friday!|Hope all is good at the hotel.>> <<Invoice for|Here's the \
invoice for>> <<last month's|last week's|this month's>> <<delivery|work|service>> attached - \
{inv}[, {total}][, dated {date}]. [Due {due}, thanks.||<<Payable on receipt.|Usual terms \
please.|No rush.>>][ Your PO was {po}.]
{sperson}[
{supplier}]""",
        casual=True,
    ),
]

# Which slot gives each gold field (currency is derived from how the amounts are written).
SLOT_OF = {
    "invoice_number": ("inv",),
    "supplier": ("supplier",),
    "invoice_date": ("date",),
    "due_date": ("due",),
    "total_amount": ("total", "total_n"),
    "purchase_order": ("po",),
}
MONEY_SLOTS = ("total", "sub", "vat", "ship", "paid", "rest", "fee", "total_fee", "old_total")
# How often an optional part is left out.
P_ABSENT = {
    "date": 0.04,
    "due": 0.2,
    "total": 0.2,
    "po": 0.4,
    "supplier": 0.3,
    "baddr": 0.5,
    "saddr": 0.4,
    "kvk": 0.5,
    "siret": 0.5,
    "cust": 0.2,
    "deliv_date": 0.5,
    "ship": 0.6,
    "paid": 0.65,
    "fee": 0.4,
    "yourref": 0.5,
    "so": 0.5,
    "svat": 0.3,
    "sent": 0.3,
    "ccy": 0.25,
    "siban": 0.4,
}
LANG_OF = {"GB": "en", "IE": "en", "US": "en", "NL": "nl", "DE": "de", "CH": "de", "FR": "fr"}
LANG_OF |= {"NO": "no", "SE": "en", "DK": "en"}


def slots_of(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


def required_slots(layout: Layout) -> set[str]:
    """Slots outside every bracket: the layout cannot be written without them."""
    text = layout.text
    while True:
        new = re.sub(r"\[[^\[\]]*\]", "", text)
        if new == text:
            return slots_of(text)
        text = new


def add_typos(template: str, rng: random.Random, n: int) -> str:
    """Typos in the layout's own words only, never in a value."""
    words = template.split(" ")
    spots = [i for i, w in enumerate(words) if w.isalpha() and len(w) >= 5]
    for i in rng.sample(spots, min(n, len(spots))):
        words[i] = typo(words[i], rng)
    return " ".join(words)


def render(layout: Layout, slots: dict[str, str | None], rng: random.Random) -> tuple[str, set]:
    """Pick the wordings, drop the optional parts whose values are absent, fill in the rest."""
    text = re.sub(
        r"<<(.*?)>>", lambda m: rng.choice(m.group(1).split("|")), layout.text, flags=re.S
    )
    if layout.casual and rng.random() < 0.35:
        text = add_typos(text, rng, rng.choice((1, 1, 2)))

    def part(m: re.Match) -> str:
        for alt in m.group(1).split("||"):
            if all(slots.get(s) is not None for s in slots_of(alt)):
                return alt
        return ""

    while True:  # innermost brackets first
        new = re.sub(r"\[([^\[\]]*)\]", part, text)
        if new == text:
            break
        text = new
    used = slots_of(text)
    missing = [s for s in used if slots.get(s) is None]
    assert not missing, f"{layout.name}: {missing} outside brackets"
    out = re.sub(r"\{(\w+)\}", lambda m: str(slots[m.group(1)]), text)
    out = "\n".join(line.rstrip() for line in out.split("\n")).strip()
    return re.sub(r"\n{3,}", "\n\n", out), used


# --- one message ------------------------------------------------------------------------------


def line_items(rng: random.Random, sup: Supplier, n: int) -> list[tuple[str, int, int]]:
    """(description, quantity, unit price in cents)"""
    scale = 10 if CURRENCY[sup.country] in ("NOK", "SEK", "DKK") else 1
    chosen = rng.sample(ITEMS[sup.kind], min(n, len(ITEMS[sup.kind])))
    out = []
    for desc, price, most in chosen:
        unit = int(price * rng.uniform(0.8, 1.25)) * scale
        unit = unit // 5 * 5 if unit > 100 else unit
        out.append((desc, rng.randint(max(1, most // 8), most), unit))
    return out


def fmt_items(items: list[tuple[str, int, int]], style: str, nstyle: str) -> str:
    def n(c: int) -> str:
        return fmt_num(c, nstyle)

    if style == "list":
        return "\n".join(f"- {q} x {d} @ {n(u)} = {n(q * u)}" for d, q, u in items)
    if style == "ocr":
        head = "DESCRIPTION   QTY   PRICE   AMOUNT"
        return "\n".join([head] + [f"{d}   {q}   {n(u)}   {n(q * u)}" for d, q, u in items])
    if style == "de":
        head = "Pos. | Artikel | Menge | Einzelpreis | Gesamt"
        rows = [f"{i} | {d} | {q} | {n(u)} | {n(q * u)}" for i, (d, q, u) in enumerate(items, 1)]
        return "\n".join([head, *rows])
    head = {
        "table": "Description | Qty | Unit price | Amount",
        "nl": "Omschrijving | Aantal | Prijs | Bedrag",
        "fr": "Désignation | Qté | PU HT | Montant HT",
        "no": "Beskrivelse | Antall | Pris | Beløp",
    }[style]
    return "\n".join([head] + [f"{d} | {q} | {n(u)} | {n(q * u)}" for d, q, u in items])


def terms_text(lang: str, days: int, due_shown: bool, rng: random.Random) -> str:
    """Payment terms without a date: a due date is never to be computed from them."""
    on_receipt = not due_shown and rng.random() < 0.35
    if lang == "nl":
        return "direct bij ontvangst" if on_receipt else f"{days} dagen netto"
    if lang == "de":
        if on_receipt:
            return "Sofort zahlbar ohne Abzug"
        return rng.choice(
            [f"Zahlbar innerhalb von {days} Tagen ohne Abzug", f"Zahlungsziel {days} Tage netto"]
        )
    if lang == "fr":
        return "à réception de facture" if on_receipt else f"{days} jours net"
    if on_receipt:
        return rng.choice(["payable on receipt", "due on receipt"])
    return rng.choice([f"{days} days net", f"net {days}", f"{days} days from invoice date"])


def vat_rate_text(rate10: int, lang: str, reverse: bool) -> str:
    pct = f"{rate10 // 10}" if rate10 % 10 == 0 else f"{rate10 / 10:g}"
    if lang in ("de", "fr", "no"):
        pct = pct.replace(".", ",") + " %"
    elif lang == "nl":
        pct = pct.replace(".", ",") + "%"
    else:
        pct += "%"
    return f"{pct} (reverse charge)" if reverse else pct


def message(
    rng: random.Random, layout: Layout, taken: set[str], force_po: bool = False
) -> tuple[str, dict]:
    """One message through `layout` and its gold fields (the update's purchase_order too)."""
    needed = slots_of(layout.text)
    required = required_slots(layout)
    pool = [
        s
        for s in SUPPLIERS
        if layout.lang in ("en", "iso", "edi") or LANG_OF[s.country] == layout.lang
    ]
    if layout.only:
        pool = [s for s in pool if s.kind in layout.only]
    if "vat" in needed:  # US suppliers print no VAT
        pool = [s for s in pool if s.country != "US"]
    if "kontonr" in needed:
        pool = [s for s in pool if s.country == "NO"]
    sup = rng.choice(pool)
    cur = CURRENCY[sup.country]
    local = layout.lang in ("nl", "de", "fr", "no")
    bcountry = BUYER_OF[sup.country] if local or rng.random() < 0.8 else rng.choice(list(BUYERS))
    buyer, bstreet, bcity = BUYERS[bcountry]
    reverse = sup.country in EU and bcountry in EU and sup.country != bcountry
    dlang = layout.lang if layout.lang in ("iso", "edi") or local else "en"
    people = rng.sample(NAMES, 2)  # supplier's contact, Aldwyn's clerk: never the same person

    def date(d: dt.date) -> str:
        return rng.choice(date_options(d, dlang, sup.country))

    # the dates
    inv_date = dt.date(2026, 1, 5) + dt.timedelta(days=rng.randint(0, 320))
    term_days = rng.choice([7, 10, 14, 14, 30, 30, 30, 45, 60])
    due = inv_date + dt.timedelta(days=term_days)
    deliv = inv_date - dt.timedelta(days=rng.randint(1, 12))
    rem1 = due + dt.timedelta(days=rng.randint(5, 12))
    rem = rem1 + dt.timedelta(days=14) if layout.name == "final_notice" else rem1
    period_end = inv_date.replace(day=1) - dt.timedelta(days=1)
    period_start = period_end.replace(day=1)

    # the money
    nstyle = weighted(rng, NUM_STYLES[sup.country])
    if layout.lang == "en" and nstyle == "space" and rng.random() < 0.5:
        nstyle = "en"
    cstyle = money_style(rng, cur, layout.lang == "no" and "saddr" in required)
    n_items = rng.choice((2, 2, 3)) if layout.items == "ocr" else rng.choice((1, 1, 2, 2, 3))
    items = line_items(rng, sup, n_items)
    sub = sum(q * u for _, q, u in items)
    scale = 10 if cur in ("NOK", "SEK", "DKK") else 1
    ship = rng.choice([495, 750, 1250, 1990, 2500]) * scale
    rate = 0 if reverse else REDUCED.get(sup.kind, VAT[sup.country])

    def money(c: int) -> str:
        return fmt_money(c, cur, cstyle, nstyle)

    # which optional parts this message leaves out (required ones are always there)
    absent = {
        s for s, p in P_ABSENT.items() if s in needed and s not in required and rng.random() < p
    }
    if layout.kind == "proforma" and "due" not in required and rng.random() < 0.5:
        absent.add("due")
    if force_po:
        absent.discard("po")
    if "ship" in absent or "ship" not in needed:
        ship = 0
    vat = (((sub + ship) * rate) + 500) // 1000
    total = sub + ship + vat
    paid = total * rng.choice([25, 40, 50]) // 100 // (10000 * scale) * (10000 * scale)
    if paid == 0:
        absent.add("paid")
    fee = rng.choice([1500, 2500, 4000]) * scale
    old_total = total * rng.choice([80, 90, 95, 104, 110, 125]) // 100

    inv = pattern(rng, sup.inv_pattern, inv_date.year)
    if layout.kind == "proforma":
        inv = rng.choice([f"PF-{inv_date.year % 100}-{digits(rng, 4)}", f"PRO{digits(rng, 5)}"])
    while inv in taken:
        inv = pattern(rng, sup.inv_pattern, inv_date.year) + rng.choice(["", "-A", "/1"])
    taken.add(inv)
    supplier = sup.name
    if layout.casual and "supplier" not in required and rng.random() < 0.35:
        supplier = supplier.lower()
    n = rng.randint
    country = COUNTRY[sup.country]
    month = MONTHS["en"][period_end.month - 1]

    def later() -> dt.timedelta:  # an e-mail or upload a few days after the invoice date
        return dt.timedelta(days=rng.randint(1, 3))

    slots: dict[str, str | None] = {
        "inv": inv,
        "supplier": supplier,
        "date": date(inv_date),
        "due": date(due),
        "total": money(total),
        "total_n": fmt_num(total, nstyle),
        "sub": money(sub),
        "sub_n": fmt_num(sub, nstyle),
        "vat": money(vat),
        "vat_n": fmt_num(vat, nstyle),
        "ship": money(ship),
        "vat_rate": vat_rate_text(rate, layout.lang, reverse),
        "items": fmt_items(items, layout.items, nstyle) if layout.items else None,
        "po": purchase_order(rng),
        "paid": money(paid),
        "rest": money(total - paid),
        "paid_date": date(
            inv_date + dt.timedelta(days=rng.randint(3, max(4, (rem - inv_date).days - 2)))
        ),
        "fee": money(fee),
        "total_fee": money(total + fee),
        "old_total": money(old_total),
        "old_inv": pattern(rng, sup.inv_pattern, inv_date.year),
        "old_date": date(inv_date - dt.timedelta(days=rng.randint(4, 20))),
        "ccy": cur,
        "saddr": rng.choice([f"{sup.street}\n{sup.city}", f"{sup.street}, {sup.city}"])
        + (f"\n{country}" if rng.random() < 0.3 else ""),
        "saddr_one": f"{sup.street}, {sup.city}",
        "svat": vat_id(rng, sup.country),
        "siban": iban(rng, sup.country)
        if sup.country != "US"
        else f"ABA 0{digits(rng, 8)}, acct {digits(rng, 10)}",
        "sphone": phone(rng, sup.country),
        "semail": f"{rng.choice(['accounts', 'invoices', 'billing', 'ar'])}@{sup.domain}",
        "sperson": people[0],
        "sfirst": people[0].split()[0],
        "buyer": buyer,
        "baddr": f"{bstreet}\n{bcity}",
        "bperson": people[1],
        "bfirst": people[1].split()[0],
        "ap_email": rng.choice(AP_EMAILS),
        "cust": customer_number(rng),
        "yourref": people[1],
        "so": rng.choice(
            [f"SO-{n(10000, 99999)}", f"AB{n(100000, 999999)}", f"{n(700000, 799999)}"]
        ),
        "deliv_date": date(deliv),
        "rem_date": date(rem),
        "rem1_date": date(rem1),
        "note_date": date(rem1 + dt.timedelta(days=rng.randint(1, 9))),
        "sent": f"{date(inv_date + later())} {n(7, 18)}:{n(0, 59):02d}",
        "received": f"{date(inv_date + later())} {n(0, 23):02d}:{n(0, 59):02d}",
        "valid": date(inv_date + dt.timedelta(days=rng.choice([14, 30]))),
        "period": rng.choice(
            [
                f"{period_start.day}-{period_end.day} {month} {period_end.year}",
                f"{month} {period_end.year}",
                f"{period_start:%d.%m.%Y} - {period_end:%d.%m.%Y}",
            ]
        ),
        "terms": terms_text(layout.lang, term_days, "due" not in absent, rng),
        "term_days": str(term_days),
        "kvk": digits(rng, 8),
        "siret": f"{digits(rng, 3)} {digits(rng, 3)} {digits(rng, 3)} {digits(rng, 5)}",
        "kontonr": f"{digits(rng, 4)}.{digits(rng, 2)}.{digits(rng, 5)}",
        "kid": digits(rng, rng.choice([7, 10, 13])),
        "msgid": f"{rng.choice(['0192', '0088', '9925'])}:{digits(rng, 9)}-{rng.getrandbits(32):x}",
        "acct": f"{rng.choice(['ACC', 'CUS', 'AC'])}-{n(100000, 999999)}",
        "plan": rng.choice(
            ["Business, annual", "Pro, monthly", "Team (25 seats)", "Service contract, monthly"]
        ),
        "cc": rng.choice(["4100 Rooms", "4300 F&B", "6200 IT", "5100 Housekeeping"]),
    }
    if cstyle == "none" and layout.lang != "edi":
        slots["ccy"] = None
    for s in absent:
        slots[s] = None
    text, used = render(layout, slots, rng)

    value = {
        "invoice_number": inv,
        "supplier": supplier,
        "invoice_date": inv_date.isoformat(),
        "due_date": due.isoformat(),
        "total_amount": total // 100 if total % 100 == 0 else total / 100,
        "purchase_order": slots["po"],
    }
    # The gold is null exactly when the text does not give the value.
    gold = {f: value[f] if any(s in used for s in names) else None for f, names in SLOT_OF.items()}
    shown_money = [s for s in MONEY_SLOTS if s in used]
    if gold["total_amount"] is None:
        assert not shown_money, f"{layout.name}: amounts without a total"
    with_code = "ccy" in used or (cstyle != "none" and bool(shown_money))
    gold["currency"] = cur if gold["total_amount"] is not None and with_code else None
    assert gold["invoice_number"] is not None
    return text, gold


def make(rng: random.Random, n: int, taken: set[str], new_field: bool = False) -> list:
    """n messages, cycling the layouts in a shuffled order so every layout is used evenly.

    new_field: the messages written after the update all give a purchase order (the reason
    the field was added), so they use only layouts that can say one.
    """
    layouts = [x for x in LAYOUTS if "{po}" in x.text] if new_field else LAYOUTS
    order: list[Layout] = []
    while len(order) < n:
        batch = layouts[:]
        rng.shuffle(batch)
        order += batch
    return [message(rng, layout, taken, force_po=new_field) for layout in order[:n]]


FIELDS = {
    "invoice_number": (
        "string",
        "the invoice's own number exactly as written (not a customer, order, purchase order, "
        "message, IBAN, VAT or phone number, nor the number of an invoice it replaces)",
    ),
    "supplier": (
        "string",
        "the company that issued the invoice, as written (not the buyer Aldwyn, not a contact "
        "person); null if no company name is given",
    ),
    "invoice_date": (
        "date",
        "the date the invoice was issued, as YYYY-MM-DD (not the delivery, order, reminder, "
        "e-mail or due date); null if not given",
    ),
    "due_date": (
        "date",
        "the date the invoice is due for payment, as YYYY-MM-DD; null if no date is given "
        "(terms alone, such as 30 days net or payable on receipt, give none; never compute one)",
    ),
    "total_amount": (
        "number",
        "the invoice total including VAT (not the subtotal, VAT, line amounts, shipping, a "
        "reminder fee, an amount paid or a remaining balance); decimal commas and thousands "
        "separators read as written (1.234,50 and 1 234,50 and 1,234.50 are 1234.5); null if "
        "not given",
    ),
    "currency": (
        "string",
        "ISO 4217 code of the total (EUR, GBP, NOK, SEK, DKK, CHF, USD), also when the text "
        "writes a symbol (€, £, $, kr in a Norwegian invoice); null if the text gives none",
    ),
}
DESCRIPTION = (
    "Read an invoice, invoice e-mail, payment reminder or supplier message received by Aldwyn's "
    "accounts-payable inbox and fill in the invoice's details."
)
NEW_FIELD = {
    "purchase_order": (
        "string",
        "the buyer's purchase order reference exactly as written (not the supplier's own order "
        "or sales order number, not a customer number or a person's name); null if none is given",
    ),
}


def write(out: Path, seed: int) -> None:
    """train 120, test 60; the update adds purchase_order to every example and 5 new ones."""
    rng = random.Random(seed)
    taken: set[str] = set()
    train, test = make(rng, 120, taken), make(rng, 60, taken)
    added = make(rng, 5, taken, new_field=True)
    texts = [t for t, _ in train + test + added]
    assert len(set(texts)) == len(texts), "a message was drawn twice"
    write_extraction(out, "supplier_invoices", DESCRIPTION, FIELDS, NEW_FIELD, train, test, added)


SEED = 2611

if __name__ == "__main__":
    write(Path(__file__).resolve().parent.parent / "supplier_invoices", seed=SEED)
