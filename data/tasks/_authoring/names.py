"""Fictional people for the authoring scripts: varied origins and spellings, no real persons."""

from __future__ import annotations

import random
import unicodedata

NAMES = [
    "Oluwaseun Adeyemi",
    "Zofia Wiśniewska",
    "Jürgen Bauer",
    "Nguyễn Thu Hà",
    "Siobhán O'Neill",
    "Mateo García",
    "Aiko Tanaka",
    "Priya Raghunathan",
    "Dmitri Volkov",
    "Fatima El Idrissi",
    "Lars Øvergaard",
    "Chloé Martin",
    "Tomás Ó Briain",
    "Mei-Ling Chen",
    "Kwame Mensah",
    "Ingrid Halvorsen",
    "Rahul Deshpande",
    "Aleksandra Nowak",
    "Joe Parker",
    "Sam Whitfield",
    "Émilie Dubois",
    "Giovanni Russo",
    "Hana Kovačević",
    "Yusuf Demir",
    "Anneke de Vries",
    "Maria João Santos",
    "Björn Lindqvist",
    "Leila Haddad",
    "Ewan McLeod",
    "Keiko Sato",
    "Carlos Mendoza",
    "Noor Abbasi",
    "Pieter van Dijk",
    "Ana Lima",
    "Tobias Krüger",
    "Grace Okafor",
    "Mikkel Jensen",
    "Sofía Herrera",
    "Olek Zieliński",
    "Ruth Abernathy",
]


def email_for(person: str, rng: random.Random) -> str:
    """A plausible address for `person`, ASCII-folded as mail systems do."""
    ascii_name = unicodedata.normalize("NFKD", person).encode("ascii", "ignore").decode()
    parts = ascii_name.lower().replace("'", "").split()
    local = rng.choice(
        (".".join(parts), parts[0][0] + parts[-1], parts[0] + str(rng.randint(1, 99)))
    )
    return f"{local}@{rng.choice(('gmail.com', 'outlook.com', 'posteo.de', 'proton.me', 'web.de'))}"
