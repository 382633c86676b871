"""What a confidence means: a calibration map fitted on source-grouped CV predictions.

`recommend` applies a `Calibration` in pure Python (it must not import numpy); fitting it
(`fit_platt`, `reliability_bins`, `shrink_factor`) imports numpy and scikit-learn and runs
only in `advisor.evaluate` and `make scorer`.

    calibrated = sigmoid(a * logit(p_top) + b)                       (Platt scaling)
    flagged    = chance + (calibrated - chance) * factor             (per flag, factor < 1)
    shown      = min(flagged, cap)

`chance` is 1 / number of strategies: a flag pulls the confidence toward a coin toss, never
below it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

# No confidence is ever shown above this. 94 cited cases cannot back a claim of 96 %+ for any
# profile: by the rule of three, even a confidence bin where all n cross-validated cases were
# right leaves an error rate up to 3/n at 95 % confidence, and the top bin holds far fewer
# than the 100 cases that 97 % would need. `Calibration.with_cap` lowers it further from data.
MAX_CAP = 0.95
# A flag's factor is measured, but never above this (a flag must lower the confidence) and
# never below MIN_FACTOR (a handful of CV cases must not zero it).
MAX_FACTOR = 0.9
MIN_FACTOR = 0.25
# Fewer flagged CV cases than this and the factor falls back to DEFAULT_FACTOR.
MIN_FLAGGED = 5
DEFAULT_FACTOR = 0.5
CHANCE_FLOOR = 1 / 3  # three strategies; `Calibration.chance` uses the live number
BINS = 5


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


@dataclass(frozen=True)
class Calibration:
    a: float = 1.0
    b: float = 0.0
    method: str = "blend"  # which method's top-class probability is calibrated
    n: int = 0  # CV cases it was fitted on
    cap: float = MAX_CAP
    far_distance: float = math.inf
    disagree_factor: float = DEFAULT_FACTOR
    far_factor: float = DEFAULT_FACTOR
    reliability: list[dict[str, float]] = field(default_factory=list)
    flag_stats: dict[str, dict[str, Any]] = field(default_factory=dict)

    def platt(self, p: float) -> float:
        return 1 / (1 + math.exp(-(self.a * _logit(p) + self.b)))

    def with_cap(self) -> Calibration:
        """Cap = min(MAX_CAP, 1 - 3/n_top), n_top the CV cases in the top confidence bin."""
        top = next((b for b in reversed(self.reliability) if b["n"]), None)
        cap = MAX_CAP if top is None else min(MAX_CAP, 1 - 3 / max(top["n"], 3))
        return replace(self, cap=math.floor(cap * 100) / 100)

    def apply(
        self, p_top: float, *, disagree: bool, far: bool, n_classes: int = 3
    ) -> tuple[float, float]:
        """(raw calibrated, shown) confidence for a top-class probability and the two flags."""
        chance = 1 / n_classes
        cal = self.platt(p_top)
        shown = cal
        if disagree:
            shown = chance + (shown - chance) * self.disagree_factor
        if far:
            shown = chance + (shown - chance) * self.far_factor
        return cal, min(max(shown, chance), self.cap)

    def bin_for(self, p: float) -> dict[str, float] | None:
        """The reliability bin a shown confidence falls in (None before calibration)."""
        for b in self.reliability:
            if b["lo"] <= p <= b["hi"] and b["n"]:
                return b
        filled = [b for b in self.reliability if b["n"]]
        return min(filled, key=lambda b: abs(b["confidence"] - p)) if filled else None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["far_distance"] = None if math.isinf(self.far_distance) else self.far_distance
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> Calibration:
        if not d:
            return cls()
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        if known.get("far_distance") is None:
            known["far_distance"] = math.inf
        return cls(**known)


def fit_platt(conf: Any, hit: Any) -> tuple[float, float]:
    """(a, b) of sigmoid(a * logit(conf) + b) fitted to the 0/1 outcomes (unpenalised)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    hit = np.asarray(hit, dtype=int)
    if len(set(hit.tolist())) < 2:  # all right or all wrong: no slope to fit
        return 1.0, 0.0
    x = np.array([[_logit(float(c))] for c in conf])
    lr = LogisticRegression(C=1e6, solver="lbfgs").fit(x, hit)
    return round(float(lr.coef_[0, 0]), 6), round(float(lr.intercept_[0]), 6)


def reliability_bins(conf: Any, hit: Any, n_classes: int = 3, bins: int = BINS) -> list[dict]:
    """Equal-width bins of top-class confidence from chance (1/n_classes) to 1: each bin's
    range, mean confidence, hit rate and count (the points of a reliability diagram)."""
    import numpy as np

    conf, hit = np.asarray(conf, dtype=float), np.asarray(hit, dtype=float)
    edges = np.linspace(1 / n_classes, 1, bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    out = []
    for k in range(bins):
        m = idx == k
        out.append(
            {
                "lo": round(float(edges[k]), 4),
                "hi": round(float(edges[k + 1]), 4),
                "n": int(m.sum()),
                "confidence": round(float(conf[m].mean()), 4) if m.any() else None,
                "accuracy": round(float(hit[m].mean()), 4) if m.any() else None,
            }
        )
    return out


def shrink_factor(calibrated: Any, hit: Any, n_classes: int = 3) -> float:
    """How much of the calibrated margin over chance the flagged CV cases actually earned:
    (hit rate - chance) / (mean calibrated - chance), clipped to [MIN_FACTOR, MAX_FACTOR]."""
    import numpy as np

    calibrated, hit = np.asarray(calibrated, dtype=float), np.asarray(hit, dtype=float)
    chance = 1 / n_classes
    if len(hit) < MIN_FLAGGED or calibrated.mean() <= chance:
        return DEFAULT_FACTOR
    f = (hit.mean() - chance) / (calibrated.mean() - chance)
    return round(float(min(max(f, MIN_FACTOR), MAX_FACTOR)), 4)
