"""Delivery notes and logistics emails with gold fields computed alongside the text.

Each note draws its values (order number, recipient, dates, counts, weight, carrier, time
window) and distractors (order and dispatch dates, invoice, tracking and phone numbers, item
counts, sender and driver names), then renders them through one of many hand-written layouts.
A layout marks optional parts with [brackets]: a bracket is dropped when a value inside it is
absent, and so is a plain line that names an absent value, so the gold is null exactly when the
text does not give the field.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from pathlib import Path

from common import write_extraction
from names import NAMES

CARRIERS = [
    "DHL Express",
    "PostNL",
    "GLS",
    "DPD",
    "UPS",
    "Royal Mail",
    "FedEx",
    "Bring",
    "DB Schenker",
    "Nordwind Freight",
    "Kurier Blitz",
    "Hermes",
    "Chronopost",
    "InPost",
]
COMPANIES = [
    "Brightwater Dental Ltd",
    "Kaffeerösterei Maas",
    "Osprey Print Studio",
    "Lumen Optics BV",
    "Fjellstad Outdoor AS",
    "Café Tilde",
    "Greenleaf Pharmacy",
    "Atelier Rosé",
    "Northgate Primary",
    "Pike & Sons Hardware",
    "Studio Kettle",
    "Mercado Sol",
    "Holmberg Dental",
    "Vela Yoga",
]
STREETS = [
    "14 Quayside Road",
    "Lindenstraße 8",
    "Unit 4, Ferry Lane Industrial Estate",
    "Keizersgracht 221",
    "22 Rue des Tanneurs",
    "Via Roma 51",
    "3 Old Mill Yard",
    "Storgata 19",
    "Bay 12, Westpoint Park",
    "Calle Mayor 7, 2º",
    "45 High Street",
]
WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
WORDS += ["eleven", "twelve"]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
MONTHS_NL = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
]
MONTHS_DE = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def fmt_date(d: dt.date, rng: random.Random) -> str:
    """One of many ways people write a date; never an ambiguous day/month order."""
    m, day = MONTHS[d.month - 1], DAYS[d.weekday()]
    options = [
        f"{d.day} {m} {d.year}",
        f"{m} {d.day}, {d.year}",
        f"{ordinal(d.day)} {m} {d.year}",
        f"{ordinal(d.day)} of {m} {d.year}",
        d.isoformat(),
        f"{d.day:02d}.{d.month:02d}.{d.year}",
        f"{day[:3]} {d.day} {m[:3]} {d.year}",
        f"{day}, {d.day} {m} {d.year}",
        f"{d.day:02d}-{m[:3]}-{d.year}",
        f"{m[:3]}. {d.day} {d.year}",
        f"{d.day} {MONTHS_NL[d.month - 1]} {d.year}",
        f"{d.day}. {MONTHS_DE[d.month - 1]} {d.year}",
    ]
    if d.day > 12:  # day/month order is unambiguous only when the day cannot be a month
        options.append(f"{d.day}/{d.month:02d}/{d.year}")
    return rng.choice(options)


def fmt_count(n: int, noun: str, rng: random.Random) -> str:
    if n < len(WORDS) and rng.random() < 0.35:
        return f"{WORDS[n]} {noun}"
    return f"{n} {noun}"


def fmt_weight(kg: float, rng: random.Random) -> str:
    r = rng.random()
    if kg < 5 and r < 0.3:
        return f"{round(kg * 1000)} g"
    if r < 0.55:
        return f"{kg:g} kg"
    if r < 0.75:
        return f"{kg:g}".replace(".", ",") + " kg"
    if r < 0.9:
        return f"{kg:g}kg"
    return f"{kg:g} KG"


def window(rng: random.Random) -> tuple[str, str]:
    """(gold HH:MM-HH:MM, the way the text says it)."""
    start = rng.choice([7, 8, 8, 9, 9, 10, 12, 13, 14, 15, 16])
    length = rng.choice([1, 2, 2, 3, 4])
    half = rng.random() < 0.2
    s, e = start, start + length
    gold = f"{s:02d}:{'30' if half else '00'}-{e:02d}:{'30' if half else '00'}"
    if half:
        text = rng.choice([f"{s}:30-{e}:30", f"{s:02d}:30 - {e:02d}:30", f"from {s}.30 to {e}.30"])
        return gold, text

    def ampm(h: int) -> str:
        return f"{h}am" if h < 12 else ("12pm" if h == 12 else f"{h - 12}pm")

    text = rng.choice(
        [
            f"{s:02d}:00-{e:02d}:00",
            f"between {s} and {e}" if e <= 12 else f"between {s}:00 and {e}:00",
            f"{ampm(s)}-{ampm(e)}",
            f"{s:02d}:00 to {e:02d}:00",
            f"{s}h-{e}h",
            f"between {ampm(s)} and {ampm(e)}",
        ]
    )
    return gold, text


def order_number(rng: random.Random) -> str:
    n = rng.randint
    return rng.choice(
        [
            f"ORD-{n(10000, 99999)}",
            f"PO-{n(1000, 9999)}-{n(10, 99)}",
            f"SO-2026-{n(100, 99999):05d}",
            f"{rng.choice('ABKMX')}{n(10, 99)}-{n(1000, 9999)}",
            f"{n(400000, 899999)}",
            f"WEB{n(1000000, 9999999)}",
            f"HP/{n(1000, 9999)}/B",
            f"NL{n(100000, 999999)}",
        ]
    )


def tracking(rng: random.Random) -> str:
    n = rng.randint
    return rng.choice(
        [
            f"JJD00{n(10**11, 10**12 - 1)}",
            f"1Z{n(10**9, 10**10 - 1)}A{n(10**5, 10**6 - 1)}",
            f"3S{rng.choice('ABCDEFGH')}{n(10**8, 10**9 - 1)}",
            f"{n(10**13, 10**14 - 1)}",
        ]
    )


def phone(rng: random.Random) -> str:
    n = rng.randint
    return rng.choice(
        [
            f"+31 6 {n(10000000, 99999999)}",
            f"+44 7700 900{n(100, 999)}",
            f"0{n(151, 199)} {n(100, 999)} {n(1000, 9999)}",
            f"+49 171 {n(1000000, 9999999)}",
            f"+47 {n(400, 999)} {n(10, 99)} {n(100, 999)}",
        ]
    )


# Layouts. Slots: order recipient date count weight carrier window (the gold fields) and
# distractors order_date dispatch_date invoice tracking phone sender company street items
# driver ref sent pallets per_box. A [bracket] vanishes when a slot inside it is absent.
LAYOUTS = [
    """DELIVERY NOTE
Order no.: {order}
Order date: {order_date}
Deliver to: [{recipient}, ]{company}
{street}
Delivery date: {date}[
Time slot: {window}]
[Packages: {count_n}
][Gross weight: {weight}
][Carrier: {carrier}
]Tracking: {tracking}""",
    """[Hi {recipient},

]Good news - your order {order} (placed {order_date}) has shipped[ with {carrier}] and should \
arrive on {date}[ (delivery window {window})]. [It's {count} in total. ]Tracking number: {tracking}.
Questions? Call us on {phone}.

{sender}
Customer care""",
    """From: {sender} <dispatch@{domain}>
Sent: {sent}
Subject: Re: order {order}

Hello,
we confirm delivery of your order on {date}[ ({window})]. [The shipment is {count}[, {weight} in \
total]. ][Carrier: {carrier}. ]Invoice {invoice} follows separately.
Kind regards""",
    """driver here. at {street} now[ for {recipient}], order {order}. nobody answering, called \
{phone}. [{count} to drop, ]will try again tomorrow {date}[ {window}]""",
    """LIEFERSCHEIN / DELIVERY NOTE
Auftrag/Order: {order}   Rechnung/Invoice: {invoice}
[Empfänger/Recipient: {recipient}
]{company}, {street}
Liefertermin/Delivery: {date}
[Anzahl Pakete/Packages: {count_n}   ][Gewicht/Weight: {weight}]
[Spedition/Carrier: {carrier}]""",
    """Your [{carrier} ]parcel is on its way!
Ref {tracking} | order {order}
Expected: {date}[, {window}]
[Addressee: {recipient}
][{count}][, {weight}]""",
    """[Dear {recipient},
]I'm writing about order {order}. It was due on {date} but nothing arrived. I ordered on \
{order_date} and paid invoice {invoice} right away. [It should be {count}[ weighing about \
{weight}]. ]\
[The tracking from {carrier} says delivered. ]Please check!
{phone}""",
    """order {order} | ship {dispatch_date} | eta {date}[ | to {recipient}][ | {count_n} pcs]\
[ | {weight}][ | {carrier}]""",
    """Goods received note
[Received by: {recipient}
]On: {date}[ at {window}]
PO number {order}, supplier {sender} ({company})
[{count} received, ]{items} items checked.[ Weight on scale: {weight}.][
Delivered by {carrier}, driver {driver}.]""",
    """[Beste {recipient},

]Uw bestelling {order} wordt bezorgd op {date}[ ({window})]. [Aantal pakketten: {count_n}. ]\
[Vervoerder: {carrier}. ]Vragen? Bel {phone}.""",
    """Hey! Just checking - we ordered {items} mugs (order {order}) on {order_date}. We were told \
it would come on {date}[ with {carrier}][, {count} in total]. Can you confirm?[ Ask for \
{recipient} at reception.] Thanks!""",
    """Shipment advice
[Consignee: {recipient}
]Address: {street}
Customer order: {order}
Customer ref: {ref}
[Pieces: {count_n}
][Weight (total): {weight}
]Pickup: {dispatch_date}
Delivery: {date}[
Window: {window}][
Forwarder: {carrier}]""",
    """Re: {order}
Sorry for the delay[ {recipient}]! The goods left our warehouse on {dispatch_date} and the \
carrier[ ({carrier})] now gives {date} as delivery day[, slot {window}]. [There are {count} on \
{pallets} pallet(s). ][Total {weight}.]""",
    """pls deliver order {order} to [{recipient} at ]{company} on {date}[, time {window}]. \
[{count}, ]fragile. contact {phone}. inv. {invoice} dated {order_date}.""",
    """Delivery confirmation #{ref}

Order: {order}
Delivered on {date}[, window {window}]
[Signed for by: {recipient}
][Parcels: {count_n}
][Carrier: {carrier}
][Weight: {weight}]""",
    """{company}
{street}
[
Attn: {recipient}
]
Re your purchase order {order} of {order_date}: we will ship[ {count}][ ({weight})]\
[ by {carrier}] for delivery on {date}[, {window}]. Customer service: {phone}.""",
    """[{carrier} ]notification: a delivery[ for {recipient}] is scheduled {date}[ {window}]. \
Order {order}. [{count_n} parcel(s) of about {per_box} each, {weight} total. ]\
Reschedule: {phone}""",
    """Hi team, we got the delivery for order {order} today ({date}). [{count} arrived, one \
dented. ][The driver from {carrier} had us sign. ][Signed for by {recipient}. ]\
Invoice {invoice}.""",
    """ORDER: {order}
SHIP TO: [{recipient} / ]{street}
SHIP DATE: {dispatch_date}
DELIVERY DATE: {date}
[TIME WINDOW: {window}
][PKGS: {count_n}
][WT: {weight}
][VIA: {carrier}]""",
    """Message from {sender}: order {order}[ for {recipient}] will be delivered {date}[, {window}]\
[ by {carrier}].[ Size: {count}.][ Weight: {weight}.] Ordered {order_date}, tracking {tracking}.""",
    """[{recipient} - ]Your groceries (order {order}) arrive {date}[, {window}]. \
[{count}. ][{weight}. ]Driver: {driver}, {phone}.""",
    """Afleverbon / delivery slip
Ordernr: {order}     Klantnr: {ref}
[Naam: {recipient}
]Bezorgdatum: {date}[ ({window})]
[Colli: {count_n}   ][Gewicht: {weight}   ][Vervoerder: {carrier}]""",
]
# Layouts where the delivery date stands on its own after a colon, so "TBC" reads naturally.
NULL_DATE_OK = re.compile(r"(Delivery date|Delivery|Expected|DELIVERY DATE|Bezorgdatum): \{date\}")
SLOT_OF = {
    "recipient": ("recipient",),
    "delivery_date": ("date",),
    "package_count": ("count", "count_n"),
    "total_weight_kg": ("weight",),
    "carrier": ("carrier",),
    "delivery_window": ("window",),
}


def _render(layout: str, slots: dict[str, str | None]) -> tuple[str, set[str]]:
    """Drop [parts] that name an absent slot, fill the rest; return the text and slots used."""

    def present(part: str) -> bool:
        return all(slots.get(s) is not None for s in re.findall(r"\{(\w+)\}", part))

    text = layout
    while True:  # innermost brackets first, so nested optional parts work
        new = re.sub(r"\[([^\[\]]*)\]", lambda m: m.group(1) if present(m.group(1)) else "", text)
        if new == text:
            break
        text = new
    used = set(re.findall(r"\{(\w+)\}", text))
    missing = [s for s in used if slots.get(s) is None]
    assert not missing, f"layout names {missing} outside brackets: {layout[:40]!r}"
    out = re.sub(r"\{(\w+)\}", lambda m: str(slots[m.group(1)]), text)
    out = "\n".join(line.rstrip() for line in out.split("\n")).strip()
    return re.sub(r"\n{3,}", "\n\n", out), used


def note(rng: random.Random, layout: str, force_window: bool = False) -> tuple[str, dict]:
    """One note and its gold fields (the update's delivery_window included)."""
    date = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randint(0, 330))
    order_date = date - dt.timedelta(days=rng.randint(1, 21))
    dispatch = date - dt.timedelta(days=rng.randint(1, 4))
    count = rng.choice([1, 1, 2, 2, 3, 3, 4, 5, 6, 8, 10, 12, 15, 24, 40])
    per_box = rng.choice([rng.uniform(0.2, 3), rng.uniform(2, 15), rng.uniform(10, 40)])
    kg = max(round(count * per_box, 1), 0.1)
    win_gold, win_text = window(rng)
    people = rng.sample(NAMES, 3)  # recipient, sender, driver: never the same person
    has_date = not NULL_DATE_OK.search(layout) or rng.random() > 0.25
    noun = rng.choice(["parcels", "boxes", "packages", "cartons", "colli"])
    if count == 1:
        noun = {
            "parcels": "parcel",
            "boxes": "box",
            "packages": "package",
            "cartons": "carton",
        }.get(noun, noun)
    slots: dict[str, str | None] = {
        "order": order_number(rng),
        "recipient": people[0] if rng.random() > 0.12 else None,
        "date": fmt_date(date, rng) if has_date else rng.choice(["TBC", "to be confirmed", "n/a"]),
        "count": fmt_count(count, noun, rng) if rng.random() > 0.12 else None,
        "weight": fmt_weight(kg, rng) if rng.random() > 0.15 else None,
        "carrier": rng.choice(CARRIERS) if rng.random() > 0.28 else None,
        "window": win_text if force_window or rng.random() < 0.65 else None,
        "order_date": fmt_date(order_date, rng),
        "dispatch_date": fmt_date(dispatch, rng),
        "sent": f"{fmt_date(order_date + dt.timedelta(days=1), rng)} "
        f"{rng.randint(7, 18)}:{rng.randint(0, 59):02d}",
        "invoice": f"INV-{rng.randint(10000, 99999)}",
        "tracking": tracking(rng),
        "phone": phone(rng),
        "sender": people[1],
        "driver": people[2].split()[0],
        "company": rng.choice(COMPANIES),
        "street": rng.choice(STREETS),
        "items": str(rng.choice([6, 12, 18, 24, 30, 48, 60, 100, 144])),
        "ref": str(rng.randint(100000, 999999)),
        "pallets": str(rng.randint(1, 3)),
        "per_box": fmt_weight(max(round(per_box, 1), 0.1), rng),
        "domain": rng.choice(["nordlicht-shop.de", "bluefinch.co.uk", "kaasboer.nl", "mosaic.eu"]),
    }
    slots["count_n"] = str(count) if slots["count"] is not None else None
    text, used = _render(layout, slots)
    value = {
        "recipient": slots["recipient"],
        "delivery_date": date.isoformat() if has_date else None,
        "package_count": count,
        "total_weight_kg": kg,
        "carrier": slots["carrier"],
        "delivery_window": win_gold,
    }
    # The gold is null exactly when the text does not give the value.
    gold = {"order_number": slots["order"]}
    for f, names in SLOT_OF.items():
        shown = any(n in used for n in names) and value[f] is not None
        gold[f] = value[f] if shown else None
    return text, gold


def make(rng: random.Random, n: int, new_field: bool = False) -> list[tuple[str, dict]]:
    """n notes, cycling the layouts in a shuffled order so every layout is used evenly.

    new_field: the notes written after the update, every one giving a delivery window (the
    reason the field was added), so they use only layouts that can say it.
    """
    layouts = [x for x in LAYOUTS if "{window}" in x] if new_field else LAYOUTS
    order: list[str] = []
    while len(order) < n:
        batch = layouts[:]
        rng.shuffle(batch)
        order += batch
    return [note(rng, layout, force_window=new_field) for layout in order[:n]]


FIELDS = {
    "order_number": (
        "string",
        "the customer's order or purchase order number exactly as written "
        "(not a tracking, invoice, customer reference or phone number)",
    ),
    "recipient": (
        "string",
        "name of the person the goods are for or who signed for them, as "
        "written (not the sender or driver); null if no person is named",
    ),
    "delivery_date": (
        "date",
        "the date the goods arrive or are scheduled to arrive, as "
        "YYYY-MM-DD (not the order, dispatch, invoice or email date); null if not "
        "yet known",
    ),
    "package_count": (
        "number",
        "how many parcels, boxes, cartons or packages (colli) the "
        "shipment has, not the number of items inside them; null if not given",
    ),
    "total_weight_kg": (
        "number",
        "total weight of the shipment in kilograms (grams converted, "
        "comma decimals read as decimals); null if not given",
    ),
    "carrier": (
        "string",
        "the transport company carrying the shipment, as written; null if none is named",
    ),
}
DESCRIPTION = (
    "Read a delivery note, shipping email or driver message and fill in the shipment's details."
)
NEW_FIELD = {
    "delivery_window": (
        "string",
        "the agreed delivery time window as HH:MM-HH:MM in 24-hour "
        "time; null if no window is given",
    ),
}


def write(out: Path, seed: int) -> None:
    """train 120, test 60; the update adds delivery_window to every example and 5 new notes."""
    rng = random.Random(seed)
    train, test, added = make(rng, 120), make(rng, 60), make(rng, 5, new_field=True)
    write_extraction(out, "delivery_notes", DESCRIPTION, FIELDS, NEW_FIELD, train, test, added)
