"""Profile -> feature vector for the learned scorer: ordinal codes, log10 sizes, one-hots."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from core.profile import LEVEL_ORDER, UPDATE_ORDER, Deployment, Profile, Task, Traceability

if TYPE_CHECKING:
    import numpy as np

# The ordered enum fields and their order (low -> high). The rules compare these by position
# and the scorer encodes them as that position; every other enum is compared or one-hot only.
ORDINALS: dict[str, list[str]] = {
    "knowledge_update_frequency": UPDATE_ORDER,
    "traceability": [t.value for t in Traceability],
    "style_consistency": LEVEL_ORDER,
    "ml_maturity": LEVEL_ORDER,
}

_TASKS = [t.value for t in Task]
_DEPLOYS = [d.value for d in Deployment]

FEATURE_NAMES: tuple[str, ...] = (  # the first four follow ORDINALS' order
    "update_frequency",  # ordinal 0 (never) .. 6 (realtime)
    "traceability",  # ordinal 0..2
    "style_consistency",  # ordinal 0..2
    "ml_maturity",  # ordinal 0..2
    "structured_output",
    "access_control",
    "log10_latency_ms",
    "log10_knowledge_tokens",
    "log10_labeled_examples",
    "log10_queries_per_month",
    *(f"deployment={d}" for d in _DEPLOYS),
    *(f"task={t}" for t in _TASKS),
)


def featurize(profile: Profile | Mapping[str, Any]) -> list[float]:
    """Ordinal codes for ordered enums, log10 for sizes spanning decades, one-hot for the rest.

    `monthly_budget_usd` is deliberately not a feature: only 6 of 99 cited cases state a budget,
    so the scorer would learn who wrote those cases, not what budgets do. The `tight_budget`
    rule covers it.
    """
    p = profile.model_dump() if isinstance(profile, Profile) else profile
    row = [
        *(ORDINALS[f].index(p[f]) for f in ORDINALS),
        float(bool(p["structured_output"])),
        float(bool(p.get("access_control", False))),
        math.log10(max(p["latency_budget_ms"], 1)),
        math.log10(1 + p["knowledge_base_tokens"]),
        math.log10(1 + p["labeled_examples"]),
        math.log10(1 + p["queries_per_month"]),
        *(float(p["deployment"] == d) for d in _DEPLOYS),
        *(float(p["task"] == t) for t in _TASKS),
    ]
    return [float(v) for v in row]


def featurize_many(profiles: Iterable[Profile | Mapping[str, Any]]) -> np.ndarray:
    """(n, len(FEATURE_NAMES)) float matrix (imports numpy: training and evaluation only)."""
    import numpy as np

    rows = [featurize(p) for p in profiles]
    return np.vstack(rows) if rows else np.zeros((0, len(FEATURE_NAMES)))
