"""Write the shipped task datasets under data/tasks/ from the hand-written texts here.

Not loaded by anything: run it to regenerate the JSON lines (deterministic, seeded):

    .venv/bin/python data/tasks/_authoring/build.py

The messages are hand-written (support_intents*.txt, it_helpdesk.txt); this script only fills
the slots ({station}, {amount}, ...), adds the greetings, sign-offs, casing and typos people
write with, and splits train/test. The delivery notes come from delivery.py and the supplier
invoices from invoices.py, whose gold fields are computed together with the text.
"""

from __future__ import annotations

import json
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
TASKS = HERE.parent
sys.path.insert(0, str(HERE))

import delivery  # noqa: E402
import invoices  # noqa: E402
from common import typo  # noqa: E402
from names import NAMES, email_for  # noqa: E402

STATIONS = [
    "Harbour Street",
    "Central Library",
    "Kingsgate Park",
    "Old Mill Yard",
    "St. Agnes Square",
    "Riverside Market",
    "Canal Wharf",
    "Nørrebro Gate",
    "Plaza Mayor",
    "Bahnhof Süd",
    "the university",
    "Eastbrook Station",
    "Tower Bridge Rd",
]
AMOUNTS = ["€4.50", "€2.90", "€12.00", "€89", "4,50 €", "EUR 18", "€1.20", "€35.40", "€7", "€149"]
DAYS = [  # each reads after "on": "charged on {day}"
    "Tuesday",
    "12 May",
    "the 3rd",
    "Friday",
    "Sunday morning",
    "14/06",
    "Monday 2 March",
    "March 28th",
    "Saturday night",
    "the 21st",
    "Wednesday",
]
APPS = ["SAP", "Salesforce", "Workday", "Jira", "NetSuite", "ServiceNow", "Tableau", "Xero"]
GREET_SUPPORT = [
    "Hi,",
    "Hello,",
    "hey",
    "Dear Velora support,",
    "Hi there!",
    "Good morning,",
    "Hallo,",
    "To whom it may concern,",
    "Hiya",
    "Hello team,",
    "Hi Velora,",
    "Dear Sir/Madam,",
]
SIGN_SUPPORT = [
    "Thanks, {first}",
    "Cheers",
    "Regards,\n{name}",
    "thx",
    "Best, {name}",
    "Sent from my iPhone",
    "Thank you in advance.",
    "{first}",
    "Kind regards, {name} (member since 2021)",
    "Merci!",
    "Please reply asap.",
    "Grtz {first}",
]
GREET_IT = ["Hi IT,", "Hello Servicedesk,", "Hi team,", "IT -", "Hey,", "Good morning IT,"]
SIGN_IT = [
    "Thanks, {first} ({dept})",
    "-- {name}, ext. {ext}",
    "{first}, {dept}, floor {floor}",
    "Regards,\n{name}\n{dept}",
    "Sent from my iPhone",
    "Thanks!",
    "{first} / desk {floor}-{ext}",
]
DEPTS = ["Finance", "HR", "Legal", "Sales", "Ops", "Marketing", "Procurement", "R&D", "Payroll"]


def parse(path: Path) -> dict[str, list[str]]:
    """`## label` headers, one message per line; `#` lines are comments; `## UPDATE` is a marker."""
    out: dict[str, list[str]] = defaultdict(list)
    label = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            label = line[3:].strip()
        elif line.strip() and not line.startswith("#") and label and label != "UPDATE":
            out[label].append(line.strip())
    return dict(out)


def add_typos(text: str, rng: random.Random, n: int) -> str:
    words = text.split(" ")
    spots = [i for i, w in enumerate(words) if w.isalpha() and len(w) >= 5 and "{" not in w]
    for i in rng.sample(spots, min(n, len(spots))):
        words[i] = typo(words[i], rng)
    return " ".join(words)


def fill(template: str, rng: random.Random, person: str) -> str:
    values = {
        "station": rng.choice(STATIONS),
        "amount": rng.choice(AMOUNTS),
        "bike": rng.choice(["bike ", "e-bike ", "#", "bike no. "]) + str(rng.randint(10000, 49999)),
        "day": rng.choice(DAYS),
        "name": rng.choice(NAMES),
        "email": email_for(person, rng),
        "code": rng.choice(["VB-", "", "M", "HP-"]) + str(rng.randint(100000, 999999)),
        "app": rng.choice(APPS),
        "floor": str(rng.randint(1, 7)),
        "ext": str(rng.randint(2000, 4999)),
    }
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)


def dress(text: str, rng: random.Random, style: str) -> str:
    """Wrap a message the way people send it: greeting, sign-off, casing, typos."""
    person = rng.choice(NAMES)
    first = person.split()[0]
    text = fill(text, rng, person)
    if rng.random() < 0.25:
        text = add_typos(text, rng, rng.choice((1, 1, 2)))
    greet, sign = (GREET_SUPPORT, SIGN_SUPPORT) if style == "support" else (GREET_IT, SIGN_IT)
    p_greet, p_sign = (0.45, 0.4) if style == "support" else (0.3, 0.45)
    if rng.random() < p_greet:
        text = rng.choice(greet) + rng.choice((" ", "\n")) + text
    if rng.random() < p_sign:
        extra = {"first": first, "name": person, "dept": rng.choice(DEPTS)}
        extra |= {"ext": str(rng.randint(2000, 4999)), "floor": str(rng.randint(1, 7))}
        text = text + "\n" + rng.choice(sign).format(**extra)
    r = rng.random()
    if r < 0.1:
        text = text.lower()
    elif r < 0.13 and len(text) < 160:
        text = text.upper()
    return text


def split_label(
    label: str, msgs: list[str], n_train: int, rng: random.Random
) -> tuple[list[dict], list[dict]]:
    order = msgs[:]
    rng.shuffle(order)
    return (
        [{"text": m, "label": label} for m in order[:n_train]],
        [{"text": m, "label": label} for m in order[n_train:]],
    )


def with_ids(
    rows: list[dict], prefix: str, rng: random.Random, style: str, start: int = 1
) -> list[dict]:
    rng.shuffle(rows)
    return [
        {"id": f"{prefix}-{i:04d}", "text": dress(r["text"], rng, style), "label": r["label"]}
        for i, r in enumerate(rows, start)
    ]


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    path.write_text(text, encoding="utf-8")


def write_yaml(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=96)
    path.write_text(text, encoding="utf-8")


def classification(
    name: str,
    style: str,
    description: str,
    labels: dict[str, str],
    new_labels: dict[str, str],
    msgs: dict[str, list[str]],
    n_train: int,
    old_per_label_in_update_test: int,
    seed: int,
    more_train: dict[str, list[str]] | None = None,
    more_seed: int = 0,
) -> None:
    """Write one classification dataset: train/test per label, update with the new labels.

    `more_train` is a later batch of training-only messages per old label: appended to
    train.jsonl (ids continuing its numbering) and to the update's old part, and dressed with
    its own `more_seed`, so every line written without it stays byte-identical.
    """
    rng = random.Random(seed)
    out = TASKS / name
    train, test = [], []
    for label in labels:
        tr, te = split_label(label, msgs[label], n_train, rng)
        train += tr
        test += te
    train = with_ids(train, "tr", rng, style)
    test = with_ids(test, "te", rng, style)
    new_train, new_test = [], []
    for label in new_labels:
        tr, te = split_label(label, msgs[label], 5, rng)
        new_train += tr
        new_test += te
    new_train = with_ids(new_train, "new-tr", rng, style)
    new_test = with_ids(new_test, "new-te", rng, style)
    # The update's test: every new-label example, plus a few old-label test examples per
    # label so that the old labels still count (about half and half).
    by_label = defaultdict(list)
    for row in test:
        by_label[row["label"]].append(row)
    old_part = [r for label in labels for r in by_label[label][:old_per_label_in_update_test]]
    upd_test = new_test + old_part
    rng.shuffle(upd_test)
    if more_train:
        assert set(more_train) <= set(labels), set(more_train) - set(labels)
        more = [{"text": m, "label": label} for label in labels for m in more_train.get(label, [])]
        train += with_ids(more, "tr", random.Random(more_seed), style, start=len(train) + 1)

    head = {"kind": "classification", "name": name, "description": description}
    write_yaml(out / "task.yaml", head | {"labels": labels})
    write_jsonl(out / "train.jsonl", train)
    write_jsonl(out / "test.jsonl", test)
    all_labels = labels | new_labels
    write_yaml(out / "update" / "task.yaml", head | {"labels": all_labels})
    write_jsonl(out / "update" / "train.jsonl", train + new_train)
    write_jsonl(out / "update" / "test.jsonl", upd_test)


SUPPORT_LABELS = {
    "refund_request": "wants money back for a ride, pass or fee because the service was not "
    "delivered or went wrong (bike failed, pass unused, cooling-off cancellation)",
    "billing_dispute": "questions or contests a charge itself: unrecognised, doubled, wrong price "
    "or amount, an unexpected fee on the bill",
    "cancel_subscription": "wants to end the membership for good and stop all future payments",
    "pause_subscription": "wants to freeze the membership for a while (travel, winter, injury) "
    "and resume it later",
    "change_plan": "wants to switch membership type or tier (monthly, annual, student, family, "
    "e-bike) while staying a member",
    "lost_item": "left or lost a personal belonging on a bike, in a basket or at a station",
    "damaged_item": "a personal belonging was damaged by a bike or dock (torn clothes, broken "
    "phone in the mount)",
    "bike_fault": "reports a bike that is broken or unsafe (brakes, chain, tyre, battery, lights)",
    "dock_problem": "a docking station or kiosk will not release or accept a bike, or a ride "
    "will not end at the dock",
    "account_access": "cannot log in, reset a password or verify an email or phone, or the "
    "account is locked",
    "payment_method": "wants to add, change or remove a card or payment method, or a card is "
    "declined when added or used",
    "accident_report": "reports a crash, fall or injury while riding, whatever caused it",
    "station_request": "asks for a new station, more bikes or more docks at a location",
    "promo_code": "a promo, referral, voucher or discount code does not work or its credit is "
    "missing",
}
SUPPORT_NEW = {
    "cargo_booking": "wants to book, change, extend or cancel a reservation of the new cargo bikes",
    "gift_card": "buying, sending, redeeming, topping up or checking the balance of a Velora "
    "gift card",
}
IT_LABELS = {
    "password_reset": "a forgotten, expired or locked password for a company account",
    "mfa_device": "multi-factor sign-in: new or lost phone, authenticator or security key, "
    "codes or prompts not working",
    "access_request": "needs permission to a folder, drive, mailbox, group or application",
    "vpn_connection": "cannot connect to, or stay connected to, the VPN or remote access",
    "email_problem": "mail or calendar not sending, receiving, syncing or displaying correctly",
    "printer_issue": "printing, scanning or copying fails, or a printer needs paper, toner or "
    "a driver",
    "software_install": "asks for a software application to be installed, updated or licensed",
    "hardware_failure": "a laptop, monitor, keyboard, dock, phone or other device is broken "
    "or malfunctioning",
    "phishing_report": "reports a suspicious email, link, call or message, or credentials "
    "given away",
}
IT_NEW = {
    "meeting_room_av": "the new meeting-room audio-visual system: room display, touch panel, "
    "camera, microphones, screen sharing",
    "offboarding": "someone is leaving: disable accounts, hand back equipment, transfer mail "
    "or files",
}


def main() -> None:
    support = parse(HERE / "support_intents.txt") | parse(HERE / "support_intents_update.txt")
    classification(
        "support_intents",
        "support",
        "Route a message sent to the support inbox of Velora, a city bike-share, to the team "
        "that handles it.",
        SUPPORT_LABELS,
        SUPPORT_NEW,
        support,
        n_train=21,
        old_per_label_in_update_test=2,
        seed=16,
        # A second, train-only batch (support_intents_more.txt): 21 + 14 = 35 per label.
        more_train=parse(HERE / "support_intents_more.txt"),
        more_seed=1617,
    )
    helpdesk = parse(HERE / "it_helpdesk.txt")
    classification(
        "it_helpdesk",
        "it",
        "Route an internal IT ticket at Halvorsen & Pike to the right helpdesk queue.",
        IT_LABELS,
        IT_NEW,
        helpdesk,
        n_train=16,
        old_per_label_in_update_test=2,
        seed=61,
    )
    delivery.write(TASKS / "delivery_notes", seed=1616)
    invoices.write(TASKS / "supplier_invoices", seed=invoices.SEED)


if __name__ == "__main__":
    main()
