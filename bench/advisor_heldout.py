"""Rewrite data/runs/advisor_heldout_confidence.json: the shipped `recommend` on the 20
held-out borderline cases (data/cases/heldout/; a test set, run once per change, never tuned on),
with the accuracy and the calibration of the confidence it shows.

    .venv/bin/python bench/advisor_heldout.py
"""

import json
from pathlib import Path

import numpy as np

from advisor.cases import load_heldout
from advisor.evaluate import ece_of
from advisor.recommend import recommend

rows = []
for c in load_heldout():
    r = recommend(c.profile, counterfactuals=False)
    ci = r.confidence_info
    rows.append(
        {
            "id": c.id,
            "true": c.strategy,
            "recommended": r.strategy,
            "confidence": round(r.confidence, 4),
            "disagree": bool(ci and ci.disagree),
            "far": bool(ci and ci.far),
        }
    )
hit = np.array([x["true"] == x["recommended"] for x in rows], dtype=float)
conf = np.array([x["confidence"] for x in rows])
flag = np.array([x["disagree"] or x["far"] for x in rows])
out = {
    "what": "shipped ftrag recommend on the 20 held-out borderline cases "
    "(test set: run once, never tuned on)",
    "accuracy": round(hit.mean(), 4),
    "mean_confidence": round(conf.mean(), 4),
    "ece_shown_confidence_5_bins": round(ece_of(conf, hit), 4),
    "flagged": {
        "n": int(flag.sum()),
        "accuracy": round(hit[flag].mean(), 4) if flag.any() else None,
    },
    "unflagged": {
        "n": int((~flag).sum()),
        "accuracy": round(hit[~flag].mean(), 4) if (~flag).any() else None,
    },
    "rows": rows,
}
Path("data/runs/advisor_heldout_confidence.json").write_text(json.dumps(out, indent=2) + "\n")
print({k: v for k, v in out.items() if k != "rows"})
