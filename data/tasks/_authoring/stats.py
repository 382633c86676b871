"""Print the counts that data/tasks/README.md quotes: label balance and field null rates.

    .venv/bin/python data/tasks/_authoring/stats.py

Reads the datasets through the product's own loader, so what it counts is what a run sees.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

TASKS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TASKS.parent.parent))

from prototype.task_data import load_task  # noqa: E402


def classification(name: str) -> None:
    t = load_task(TASKS / name)
    assert t.update is not None
    files = {
        "train": Counter(e.label for e in t.train),
        "test": Counter(e.label for e in t.test),
        "update/train": Counter(e.label for e in t.update.train),
        "update/test": Counter(e.label for e in t.update.test),
    }
    print(f"\n### {name} (classification)\n")
    print("| label | " + " | ".join(files) + " |")
    print("|---|" + "---:|" * len(files))
    for label in t.update.schema.labels:
        mark = " (new)" if label in t.new_labels else ""
        print(f"| `{label}`{mark} | " + " | ".join(str(c[label]) for c in files.values()) + " |")
    print("| **total** | " + " | ".join(str(sum(c.values())) for c in files.values()) + " |")
    new = sum(files["update/test"][x] for x in t.new_labels)
    print(f"\nupdate/test: {new} of {len(t.update.test)} examples have a new label.")
    lengths = sorted(len(e.text) for e in t.train + t.test)
    print(
        f"Text length: {lengths[0]}-{lengths[-1]} characters, median {lengths[len(lengths) // 2]}."
    )


def extraction(name: str) -> None:
    t = load_task(TASKS / name)
    assert t.update is not None
    print(f"\n### {name} (extraction)\n")
    sets = {
        "train": t.update.train[: len(t.train)],
        "test": t.update.test,
        "update/train (new)": t.new_train,
    }
    print("| field | type | " + " | ".join(f"{k} null" for k in sets) + " |")
    print("|---|---|" + "---:|" * len(sets))
    for f, spec in t.update.schema.fields.items():
        mark = " (new)" if f in t.new_fields else ""
        cells = [f"{sum(e.fields[f] is None for e in rows)}/{len(rows)}" for rows in sets.values()]
        print(f"| `{f}`{mark} | {spec.type} | " + " | ".join(cells) + " |")
    print(
        f"\nExamples: train {len(t.train)}, test {len(t.test)}, update/train {len(t.update.train)} "
        f"({len(t.new_train)} new), update/test {len(t.update.test)}."
    )
    lengths = sorted(len(e.text) for e in t.train + t.test)
    print(
        f"Text length: {lengths[0]}-{lengths[-1]} characters, median {lengths[len(lengths) // 2]}."
    )


if __name__ == "__main__":
    classification("support_intents")
    extraction("delivery_notes")
    classification("it_helpdesk")
    extraction("supplier_invoices")
