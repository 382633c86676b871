"""What would change the answer: the smallest profile changes that flip a recommendation.

For each strategy other than the one recommended, search the profile's value space for the
change that makes the advisor pick it, ranked by

1. the number of fields changed (one before two before three), then
2. the ordinal distance of the change: steps along an ordered field (never < yearly < ...),
   decades (log10) for sizes, 1 for a flag or a deployment.

Singles and pairs are searched exhaustively (~50 and ~1,300 profiles); triples extend the
pairs that came closest to each still-unreached strategy (a beam, `BEAM`), so a profile takes
well under a second in pure Python. `task` and `name` never change: another task is another
use case, not a change to this one. The grids below are the values an architect would
plausibly move to; every one is inside the profile schema's bounds.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from core.profile import LEVEL_ORDER, UPDATE_ORDER, Deployment, Traceability
from core.recommendation import Change, Counterfactual
from core.registry import STRATEGIES

Decide = Callable[[Mapping[str, Any]], Mapping[str, float]]  # profile -> strategy probabilities

_ORDERED: dict[str, list[Any]] = {
    "knowledge_update_frequency": UPDATE_ORDER,
    "traceability": [t.value for t in Traceability],
    "style_consistency": LEVEL_ORDER,
    "ml_maturity": LEVEL_ORDER,
}
_NOMINAL: dict[str, list[Any]] = {
    "deployment": [d.value for d in Deployment],
    "structured_output": [False, True],
    "access_control": [False, True],
}
# Decade grids: the thresholds the rules use (50 labels, 10M tokens, 1M queries, 600 ms, ...)
# each lie between two neighbours, so every rule can be switched on and off.
_NUMERIC: dict[str, list[Any]] = {
    "labeled_examples": [0, 20, 50, 100, 500, 1_000, 5_000, 20_000, 100_000],
    "knowledge_base_tokens": [0, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 10**9],
    "queries_per_month": [1_000, 5_000, 10_000, 100_000, 1_000_000, 10_000_000],
    "latency_budget_ms": [300, 500, 1_000, 2_000, 5_000, 10_000],
    "monthly_budget_usd": [None, 100, 500, 2_000, 10_000],
}
FIELDS = (*_ORDERED, *_NOMINAL, *_NUMERIC)
BEAM = 30  # pairs per target extended to triples
MAX_CHANGES = 3


def _log(v: Any) -> float:
    return math.log10(1 + float(v))


def distance(field: str, before: Any, after: Any) -> float:
    """Ordinal distance of one change (see module docstring)."""
    if field in _ORDERED:
        order = _ORDERED[field]
        return float(abs(order.index(after) - order.index(before)))
    if field in _NUMERIC:
        if before is None or after is None:
            return 1.0
        return abs(_log(after) - _log(before))
    return 1.0


def candidate_changes(profile: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Every single-field change in the search space, for this profile."""
    out = []
    for f in FIELDS:
        values = _ORDERED.get(f) or _NOMINAL.get(f) or _NUMERIC[f]
        out += [(f, v) for v in values if v != profile.get(f)]
    return out


def _pick(p: Mapping[str, float]) -> str:
    return max(p, key=lambda s: p[s])


def search(
    profile: Mapping[str, Any], decide: Decide, max_changes: int = MAX_CHANGES
) -> list[Counterfactual]:
    """One Counterfactual per registered strategy other than the current pick (registry order).

    `decide` must be the same function the recommendation came from, so applying a found change
    and re-running the advisor flips it (a test does exactly that)."""
    base = dict(profile)
    current = _pick(decide(base))
    targets = [s for s in STRATEGIES.values() if s != current]
    best: dict[str, tuple[int, float, tuple, float]] = {}
    singles = candidate_changes(base)
    near: dict[str, list[tuple[float, tuple]]] = {t: [] for t in targets}

    def consider(changes: tuple[tuple[str, Any], ...]) -> None:
        p = decide({**base, **dict(changes)})
        pick = _pick(p)
        d = sum(distance(f, base.get(f), v) for f, v in changes)
        key = (len(changes), d)
        if pick != current and pick in targets:
            old = best.get(pick)
            if old is None or key < (old[0], old[1]):
                best[pick] = (len(changes), d, changes, p[pick])
        if len(changes) == 2:
            for t in targets:
                near[t].append((p[t] - p[pick] if pick != t else 0.0, changes))

    for ch in singles:
        consider((ch,))
    if max_changes >= 2 and not all(t in best for t in targets):
        # a pair only matters for a target no single change reached
        for a, b in itertools.combinations(singles, 2):
            if a[0] != b[0]:
                consider((a, b))
    if max_changes >= 3:
        for t in targets:
            if t in best:
                continue
            beam = sorted(near[t], key=lambda r: -r[0])[:BEAM]
            for _, pair in beam:
                used = {f for f, _ in pair}
                for ch in singles:
                    if ch[0] not in used:
                        consider((*pair, ch))
    out = []
    for t in targets:
        if t not in best:
            out.append(
                Counterfactual(
                    target=t,
                    changes=[],
                    sentence=f"No change of up to {max_changes} profile fields makes "
                    f"{STRATEGIES.get(t).phrase} the recommendation.",
                )
            )
            continue
        _, d, changes, prob = best[t]
        found = [Change(f, base.get(f), v) for f, v in changes]
        out.append(
            Counterfactual(
                target=t,
                changes=found,
                sentence=sentence(t, found),
                distance=round(d, 3),
                probability=round(prob, 4),
            )
        )
    return out


# --- words -----------------------------------------------------------------------------------


def _freq(v: str) -> str:
    return {"never": "never changed", "realtime": "changed in real time"}.get(v, f"changed {v}")


def _tokens(n: int) -> str:
    for unit, size in (("billion", 10**9), ("million", 10**6), ("thousand", 10**3)):
        if n >= size:
            return f"{n / size:g} {unit}"
    return f"{n:,}"


def _deploy(v: str) -> str:
    return {
        "cloud_api": "through a cloud API",
        "private_cloud": "in a private cloud",
        "on_premises": "on premises",
    }.get(v, v.replace("_", " "))


def _budget(v: Any) -> str:
    return "no set budget" if v is None else f"{v:,} USD"


def _cites(v: str) -> str:
    return {"none": "not needed", "preferred": "preferred", "required": "required"}.get(v, v)


PHRASES: dict[str, Callable[[Any, Any], str]] = {
    "knowledge_update_frequency": lambda a, b: (
        f"the knowledge {_freq(a)} instead of "
        + {"never": "never changing", "realtime": "changing in real time"}.get(b, b)
    ),
    "traceability": lambda a, b: f"citations were {_cites(a)} instead of {_cites(b)}",
    "style_consistency": lambda a, b: f"style consistency mattered {a} instead of {b}",
    "ml_maturity": lambda a, b: f"your team's ML maturity were {a} instead of {b}",
    "structured_output": lambda a, b: (
        "output had to follow a schema" if a else "output did not have to follow a schema"
    ),
    "access_control": lambda a, b: (
        "users had per-user document permissions"
        if a
        else "there were no per-user document permissions"
    ),
    "deployment": lambda a, b: f"the model ran {_deploy(a)} instead of {_deploy(b)}",
    "labeled_examples": lambda a, b: f"you had {a:,} labelled examples instead of {b:,}",
    "knowledge_base_tokens": lambda a, b: (
        f"the knowledge base held {_tokens(a)} tokens instead of {_tokens(b)}"
    ),
    "queries_per_month": lambda a, b: f"you served {a:,} queries a month instead of {b:,}",
    "latency_budget_ms": lambda a, b: f"the p95 latency budget were {a:,} ms instead of {b:,} ms",
    "monthly_budget_usd": lambda a, b: (
        f"the monthly budget were {_budget(a)} instead of {_budget(b)}"
    ),
}


def sentence(target: str, changes: Sequence[Change]) -> str:
    """ "Fine-tuning if the knowledge changed quarterly instead of weekly and you had 500
    labelled examples instead of 40." """
    parts = [PHRASES[c.field](c.after, c.before) for c in changes]
    joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    head = STRATEGIES.get(target).phrase
    return f"{head[:1].upper()}{head[1:]} if {joined}."
