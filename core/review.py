"""Routing unsure answers to a person: what a confidence floor sends to review and catches.

Pure arithmetic over scored answer records (ARCHITECTURE.md's answer record), in core because
the Prototype page shows it and the simulator costs it (`simulator.calibration.review_plan`).
"""

from __future__ import annotations


def with_confidence(records: list[dict]) -> list[dict]:
    """The scored records that carry the extractive reader's confidence."""
    return [
        r
        for r in records
        if r.get("gold") is not None and (r.get("extra") or {}).get("confidence") is not None
    ]


def review_split(records: list[dict], floor: float) -> dict | None:
    """What routing every answer under a confidence `floor` to a person does, over the scored
    records that carry the reader's confidence: the share answered automatically and its strict
    accuracy, the share a person checks, the share of the wrong answers among those checked,
    and the accuracy delivered if the person corrects what they check. None without any."""
    rs = with_confidence(records)
    if not rs:
        return None
    auto = [r for r in rs if r["extra"]["confidence"] >= floor]
    wrong = [r for r in rs if not r.get("correct")]
    caught = sum(r["extra"]["confidence"] < floor for r in wrong)
    right = sum(bool(r.get("correct")) for r in auto)
    return {
        "answers": len(rs),
        "auto_share": len(auto) / len(rs),
        "auto_accuracy": round(right / len(auto), 4) if auto else None,
        "review_share": 1 - len(auto) / len(rs),
        "wrong_caught": caught / len(wrong) if wrong else None,
        "accuracy_with_review": (len(rs) - len(wrong) + caught) / len(rs),
    }


def review_assumptions(share: float, caught: float | None) -> dict[str, float]:
    """A floor's review share and the share of wrong answers it catches as the simulator's
    `review_share` / `review_catch`, rounded to 4 places as pages show them. With no wrong
    answer to catch (None), the catch is random picking's: the share."""
    share = round(share, 4)
    return {"review_share": share, "review_catch": share if caught is None else round(caught, 4)}
