"""Pieces the authoring scripts share: a typing slip, and the files of an extraction dataset."""

from __future__ import annotations

import json
import random
from pathlib import Path

import yaml


def typo(word: str, rng: random.Random) -> str:
    """One realistic slip: swapped, dropped or doubled letter."""
    i = rng.randrange(1, len(word) - 2)
    kind = rng.choice(("swap", "drop", "double"))
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]


def _yaml(name: str, description: str, fields: dict) -> str:
    data = {
        "kind": "extraction",
        "name": name,
        "description": description,
        "fields": {k: {"type": t, "description": d} for k, (t, d) in fields.items()},
    }
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=96)


def _rows(texts, prefix: str, fields) -> list[dict]:
    return [
        {"id": f"{prefix}-{i:04d}", "text": text, "fields": {f: gold[f] for f in fields}}
        for i, (text, gold) in enumerate(texts, 1)
    ]


def _write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")


def write_extraction(
    out: Path, name: str, description: str, fields: dict, new_field: dict, train, test, added
) -> None:
    """task.yaml, train/test.jsonl and update/ (every example with the new field, plus the
    `added` ones as new-tr-*) from (text, gold) pairs; fields map to (type, description)."""
    both = fields | new_field
    (out / "update").mkdir(parents=True, exist_ok=True)
    (out / "task.yaml").write_text(_yaml(name, description, fields), "utf-8")
    (out / "update" / "task.yaml").write_text(_yaml(name, description, both), "utf-8")
    _write(out / "train.jsonl", _rows(train, "tr", fields))
    _write(out / "test.jsonl", _rows(test, "te", fields))
    _write(out / "update" / "train.jsonl", _rows(train, "tr", both) + _rows(added, "new-tr", both))
    _write(out / "update" / "test.jsonl", _rows(test, "te", both))
