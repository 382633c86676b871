"""How long a prototype run will take, learnt from this machine's earlier runs.

Every saved run (the Store's `runs` table) records, per row, the seconds its evaluation took
(`meta.eval_seconds`), how many questions or test examples it answered (`meta.n_questions`,
`meta.n_examples`) and its build time
(`metrics.build_seconds`: indexing, or LoRA training). The median seconds per question and the
median build time per row, over the last runs, predict the next run; until a row has run once,
the priors below (measured on the 2-core dev CPU, README "Prototype") stand in.

The same plan weights the job's one progress bar: each row counts for its expected seconds, so
a 90 s training run and a 5 s index do not weigh the same, and the bar never restarts.
Nothing here imports streamlit.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

# row -> (seconds per question, build seconds): 2-core CPU, aurora_handbook, 2026-12-01.
PRIORS: dict[str, tuple[float, float]] = {
    "base": (1.0, 0.0),
    "rag": (1.2, 2.0),
    "rag+constrained": (0.45, 2.0),
    "fine_tuning": (0.6, 90.0),
    "hybrid": (0.8, 75.0),
    "hybrid+route": (0.25, 90.0),  # fine-tuning's adapter, short prompt (or no generation)
}
DEFAULT_PRIOR = (1.0, 30.0)
LOAD_SECONDS = 6.0  # loading the generator and the embedder once per process
RUNS_CONSIDERED = 30


@dataclass(frozen=True)
class RowPlan:
    """What one row of a job is expected to cost; `runs` = how many runs it was learnt from."""

    row: str
    questions: int
    per_question: float
    build: float
    runs: int = 0

    @property
    def seconds(self) -> float:
        return self.build + self.per_question * self.questions


def _asked(meta: Mapping) -> int:
    """Questions (corpus runs) or test examples (task runs) one saved row answered."""
    if meta.get("n_questions"):
        return sum(meta["n_questions"].values())
    n = meta.get("n_examples") or {}
    return int(n.get("test", 0)) + int(n.get("update_test", 0))


def learn(runs: Iterable[Mapping]) -> dict[str, RowPlan]:
    """Median seconds per question and build seconds per row over saved run payloads
    (`{"results": [PrototypeResult dicts]}`); rows with no usable record are absent."""
    per_q: dict[str, list[float]] = {}
    build: dict[str, list[float]] = {}
    for run in runs:
        for r in run.get("results") or ():
            row, meta = r.get("strategy"), r.get("meta") or {}
            n = _asked(meta)
            secs = meta.get("eval_seconds")
            if not row or not n or not isinstance(secs, int | float):
                continue
            per_q.setdefault(row, []).append(secs / n)
            b = (r.get("metrics") or {}).get("build_seconds")
            build.setdefault(row, []).append(float(b) if isinstance(b, int | float) else 0.0)
    return {
        row: RowPlan(row, 0, statistics.median(v), statistics.median(build[row]), len(v))
        for row, v in per_q.items()
    }


def plan(rows: Sequence[str], questions: int, learnt: Mapping[str, RowPlan]) -> list[RowPlan]:
    """One RowPlan per row for a run asking `questions` questions (all kinds) per row."""
    out = []
    for row in rows:
        if row in learnt:
            k = learnt[row]
            out.append(RowPlan(row, questions, k.per_question, k.build, k.runs))
        else:
            q, b = PRIORS.get(row, DEFAULT_PRIOR)
            out.append(RowPlan(row, questions, q, b))
    return out


def total_seconds(rows: Sequence[RowPlan]) -> float:
    return LOAD_SECONDS + sum(r.seconds for r in rows)


def describe(rows: Sequence[RowPlan]) -> str:
    """'about 45 s (learnt from 3 earlier runs)' or '(... from built-in timings)'."""
    secs = total_seconds(rows)
    learnt = [r.runs for r in rows if r.runs]
    when = f"about {secs:.0f} s" if secs < 120 else f"about {secs / 60:.0f} min"
    if len(learnt) == len(rows):
        return f"{when} (learnt from {min(learnt)}+ earlier run(s) on this machine)"
    if learnt:
        return f"{when} (partly learnt from earlier runs, partly built-in timings)"
    return f"{when} (built-in timings of the 2-core reference CPU; learnt after the first run)"


def row_fraction(p: RowPlan, answered: int, stage_done: int, stage_total: int) -> float:
    """How far one running row is, in its own expected seconds: the build phase by its steps
    (training epochs/steps report done/total), then one unit per answered question."""
    q_secs = p.per_question * p.questions
    if answered:
        built = p.build
    elif stage_total:
        built = p.build * min(1.0, stage_done / stage_total)
    else:
        built = 0.0
    done = built + p.per_question * min(answered, p.questions)
    return min(1.0, done / max(1e-9, p.build + q_secs))


def overall(
    rows: Sequence[RowPlan], finished: int, current: float, elapsed: float, active: bool
) -> tuple[float, float | None]:
    """(fraction of the whole job, ETA seconds) from `finished` rows, the running row's own
    fraction `current`, and the seconds elapsed. The ETA scales the plan's remaining seconds by
    how fast this run has gone against the plan so far, once 5 % of it is done."""
    if not rows:
        return (0.0, None)
    weights = [max(r.seconds, 1e-9) for r in rows]
    total = LOAD_SECONDS + sum(weights)
    started = finished or current  # models are loaded once a row has made progress
    done = LOAD_SECONDS if started else LOAD_SECONDS * min(1.0, elapsed / LOAD_SECONDS)
    done += sum(weights[:finished])
    if finished < len(rows):
        done += weights[finished] * current
    frac = min(1.0, done / total)
    if not active:
        return (frac, None)
    remaining = total - done
    speed = elapsed / done if frac >= 0.05 and done > 0 else 1.0
    return (frac, max(0.0, remaining * speed))
