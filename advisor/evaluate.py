"""Honest evaluation of the advisor: rules alone, the learned scorer alone, and the blend.

Protocol (why each step exists):
- Only non-synthetic cases are ever scored. Synthetic cases (and store feedback) join the
  *training* folds only: they are illustrations, not observations.
- Stratified k-fold keeps every strategy in every fold (the library is small and imbalanced).
- The blend's weight and rule temperature are chosen *inside* each training fold by an inner
  cross-validation on log-loss, never on the fold being scored, so the blended accuracy is not
  tuned on its own test labels.
- A fixed, stratified held-out split (seeded) backs the tests with a stable number.

Every strategy registered in `core.registry.STRATEGIES` is a column, and the blend is
`advisor.recommend.blend_scores` itself, so what is measured is what `recommend` ships.
scikit-learn (fold splitting, via the scorer) is imported inside functions only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from advisor.cases import Case, feedback_examples, library_fingerprint, load_cases
from advisor.features import featurize
from advisor.recommend import blend_scores
from advisor.rules import RuleBook, fired_rules, load_rules, rule_scores, rules_pick
from advisor.scorer import LinearModel, save_model_file, train_model
from core.registry import STRATEGIES

WEIGHT_GRID = tuple(round(i / 10, 2) for i in range(11))
TEMPERATURE_GRID = (0.5, 1.0, 2.0, 4.0, 8.0)

Rows = list[dict[str, float]]  # one strategy -> value mapping per case


def split_cases(cases: Iterable[Case]) -> tuple[list[Case], list[Case]]:
    cases = list(cases)
    return [c for c in cases if not c.synthetic], [c for c in cases if c.synthetic]


def _rule_rows(cases: Sequence[Case], book: RuleBook) -> Rows:
    return [rule_scores(fired_rules(c.profile, book)) for c in cases]


def _learned_rows(model: LinearModel, cases: Sequence[Case]) -> Rows:
    return [model.proba(featurize(c.profile)) for c in cases]


def _matrix(rows: Rows, classes: Sequence[str]) -> np.ndarray:
    """(n, len(classes)); a strategy missing from a row (one the scorer has no class for) is 0."""
    return np.asarray([[r.get(c, 0.0) for c in classes] for r in rows], dtype=float).reshape(
        len(rows), len(classes)
    )


def blend_rows(rule_rows: Rows, learned_rows: Rows, weight: float, temperature: float) -> Rows:
    """`blend_scores` for each case."""
    return [
        blend_scores(r, p, weight, temperature)
        for r, p in zip(rule_rows, learned_rows, strict=True)
    ]


def rules_predictions(cases: Sequence[Case], book: RuleBook | None = None) -> list[str]:
    book = book or load_rules()
    return [rules_pick(s) for s in _rule_rows(cases, book)]


def log_loss(p: np.ndarray, y: Sequence[str], classes: Sequence[str]) -> float:
    idx = [list(classes).index(v) for v in y]
    return float(-np.mean(np.log(np.clip(p[np.arange(len(idx)), idx], 1e-12, 1))))


def brier(p: np.ndarray, y: Sequence[str], classes: Sequence[str]) -> float:
    onehot = np.eye(len(classes))[[list(classes).index(v) for v in y]]
    return float(np.mean(np.sum((p - onehot) ** 2, axis=1)))


def expected_calibration_error(
    p: np.ndarray, y: Sequence[str], classes: Sequence[str], bins: int = 5
) -> float:
    """Mean |confidence - accuracy| of the top class over equal-width confidence bins, weighted by
    bin size. 0 is perfectly calibrated; with ~100 cases, use 5 bins, not 10."""
    conf = p.max(axis=1)
    hit = np.array([classes[i] == t for i, t in zip(p.argmax(axis=1), y, strict=True)])
    edges = np.linspace(1 / len(classes), 1, bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    return float(
        sum(
            abs(conf[idx == b].mean() - hit[idx == b].mean()) * (idx == b).mean()
            for b in range(bins)
            if (idx == b).any()
        )
    )


def _n_used(feedback: Sequence[Mapping[str, Any]]) -> int:
    """Feedback rows that actually enter training (failed outcomes and invalid rows do not)."""
    return len(feedback_examples(feedback)[0])


def _fit(
    train: Sequence[Case], extra: Sequence[Case], feedback: Sequence[Mapping[str, Any]]
) -> LinearModel:
    return train_model([*train, *extra], feedback)


def _folds(y: Sequence[str], k: int, seed: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedKFold

    k = max(2, min(k, min(np.unique(y, return_counts=True)[1])))
    return StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(len(y)), y)


def choose_blend(
    train: Sequence[Case],
    synthetic: Sequence[Case] = (),
    feedback: Sequence[Mapping[str, Any]] = (),
    k: int = 5,
    seed: int = 0,
    book: RuleBook | None = None,
) -> tuple[float, float, float]:
    """(weight, temperature, log-loss): the grid point with the lowest inner-CV log-loss.

    Out-of-fold learned probabilities come from models that never saw the case; rule scores need
    no fitting. Ties go to the smaller weight and lower temperature (listed first).
    """
    train = list(train)
    classes = STRATEGIES.values()
    y = [c.strategy for c in train]
    oof: Rows = [{} for _ in train]
    for tr, va in _folds(y, k, seed):
        model = _fit([train[i] for i in tr], synthetic, feedback)
        for i in va:
            oof[i] = model.proba(featurize(train[i].profile))
    rs = _rule_rows(train, book or load_rules())
    best = min(
        (
            (log_loss(_matrix(blend_rows(rs, oof, w, t), classes), y, classes), w, t)
            for w in WEIGHT_GRID
            for t in TEMPERATURE_GRID
        ),
        key=lambda r: r[0],
    )
    return best[1], best[2], best[0]


@dataclass(frozen=True)
class EvalReport:
    n_eval: int
    n_train_synthetic: int
    n_feedback: int
    accuracy: dict[str, float]  # rules, learned, blend
    log_loss: dict[str, float]  # learned, blend
    brier: dict[str, float]
    ece: dict[str, float]  # expected calibration error of the top class
    confusion: dict[str, dict[str, int]]  # blend: true -> predicted -> count
    blend_params: list[dict[str, float]]  # per outer fold (weight, temperature)
    protocol: str
    predictions: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_text(self) -> str:
        a = self.accuracy
        lines = [
            f"{self.protocol}: {self.n_eval} non-synthetic cases scored; "
            f"{self.n_train_synthetic} synthetic cases and {self.n_feedback} feedback rows "
            "used for training only",
            f"accuracy  rules-only {a['rules']:.3f}  learned-only {a['learned']:.3f}  "
            f"blended {a['blend']:.3f}",
            f"log-loss  learned {self.log_loss['learned']:.3f}  blend {self.log_loss['blend']:.3f}"
            f"   brier  learned {self.brier['learned']:.3f}  blend {self.brier['blend']:.3f}"
            f"   ECE  learned {self.ece['learned']:.3f}  blend {self.ece['blend']:.3f}",
            "blend weight/temperature per fold: "
            + ", ".join(f"{p['weight']:.1f}/{p['temperature']:g}" for p in self.blend_params),
            "confusion (blend; rows = true, columns = predicted):",
            "             " + " ".join(f"{c:>12}" for c in self.confusion),
        ]
        for t, row in self.confusion.items():
            lines.append(f"{t:>12} " + " ".join(f"{n:>12}" for n in row.values()))
        return "\n".join(lines)


@dataclass(frozen=True)
class _Scored:
    """One train/test split's out-of-sample predictions, in registry column order."""

    p_learned: np.ndarray
    p_blend: np.ndarray
    rules_pred: list[str]
    params: dict[str, float]


def _score_split(
    train: Sequence[Case],
    test: Sequence[Case],
    synthetic: Sequence[Case],
    feedback: Sequence[Mapping[str, Any]],
    book: RuleBook,
    seed: int,
) -> _Scored:
    classes = STRATEGIES.values()
    model = _fit(train, synthetic, feedback)
    w, t, _ = choose_blend(train, synthetic, feedback, seed=seed, book=book)
    learned = _learned_rows(model, test)
    rs = _rule_rows(test, book)
    return _Scored(
        p_learned=_matrix(learned, classes),
        p_blend=_matrix(blend_rows(rs, learned, w, t), classes),
        rules_pred=[rules_pick(r) for r in rs],
        params={"weight": w, "temperature": t},
    )


def _report(
    y: Sequence[str],
    rules_pred: Sequence[str],
    p_learned: np.ndarray,
    p_blend: np.ndarray,
    params: list[dict[str, float]],
    protocol: str,
    cases: Sequence[Case],
    n_syn: int,
    n_fb: int,
) -> EvalReport:
    classes = STRATEGIES.values()
    learned_pred = [classes[i] for i in p_learned.argmax(axis=1)]
    blend_pred = [classes[i] for i in p_blend.argmax(axis=1)]
    conf = {t: {p: 0 for p in classes} for t in classes}
    for t, p in zip(y, blend_pred, strict=True):
        conf[t][p] += 1

    def acc(pred: Sequence[str]) -> float:
        return round(float(np.mean([a == b for a, b in zip(pred, y, strict=True)])), 4)

    def both(metric: Any) -> dict[str, float]:
        return {
            "learned": round(metric(p_learned, y, classes), 4),
            "blend": round(metric(p_blend, y, classes), 4),
        }

    return EvalReport(
        n_eval=len(y),
        n_train_synthetic=n_syn,
        n_feedback=n_fb,
        accuracy={"rules": acc(rules_pred), "learned": acc(learned_pred), "blend": acc(blend_pred)},
        log_loss=both(log_loss),
        brier=both(brier),
        ece=both(expected_calibration_error),
        confusion=conf,
        blend_params=params,
        protocol=protocol,
        predictions=[
            {"id": c.id, "true": t, "rules": r, "learned": lp, "blend": bp}
            for c, t, r, lp, bp in zip(cases, y, rules_pred, learned_pred, blend_pred, strict=True)
        ],
    )


def cross_validate(
    cases: Iterable[Case],
    feedback: Sequence[Mapping[str, Any]] = (),
    k: int = 5,
    seed: int = 0,
    book: RuleBook | None = None,
) -> EvalReport:
    """Stratified k-fold over non-synthetic cases; blend parameters chosen by nested CV."""
    book = book or load_rules()
    real, synthetic = split_cases(cases)
    y = [c.strategy for c in real]
    n_classes = len(STRATEGIES)
    p_l = np.zeros((len(real), n_classes))
    p_b = np.zeros_like(p_l)
    rules_pred: list[str] = [""] * len(real)
    params = []
    for tr, te in _folds(y, k, seed):
        scored = _score_split(
            [real[i] for i in tr], [real[i] for i in te], synthetic, feedback, book, seed
        )
        p_l[te], p_b[te] = scored.p_learned, scored.p_blend
        for j, i in enumerate(te):
            rules_pred[i] = scored.rules_pred[j]
        params.append(scored.params)
    return _report(
        y,
        rules_pred,
        p_l,
        p_b,
        params,
        f"{k}-fold stratified CV",
        real,
        len(synthetic),
        _n_used(feedback),
    )


HOLDOUT_FRACTION = 0.3
HOLDOUT_SEED = 7


def holdout_split(cases: Iterable[Case]) -> tuple[list[Case], list[Case], list[Case]]:
    """(train, test, synthetic): a fixed stratified split of the non-synthetic cases."""
    from sklearn.model_selection import train_test_split

    real, synthetic = split_cases(cases)
    real.sort(key=lambda c: c.id)  # independent of file order
    train, test = train_test_split(
        real,
        test_size=HOLDOUT_FRACTION,
        random_state=HOLDOUT_SEED,
        stratify=[c.strategy for c in real],
    )
    return train, test, synthetic


def evaluate_holdout(
    cases: Iterable[Case], feedback: Sequence[Mapping[str, Any]] = (), book: RuleBook | None = None
) -> EvalReport:
    book = book or load_rules()
    train, test, synthetic = holdout_split(cases)
    s = _score_split(train, test, synthetic, feedback, book, HOLDOUT_SEED)
    y = [c.strategy for c in test]
    return _report(
        y,
        s.rules_pred,
        s.p_learned,
        s.p_blend,
        [s.params],
        "fixed held-out split",
        test,
        len(synthetic),
        _n_used(feedback),
    )


def retrain(
    feedback: Sequence[Mapping[str, Any]], out_path: str | Path, cases: Iterable[Case] | None = None
) -> dict[str, Any]:
    """Evaluate without and with feedback, fit the final model on everything, save it as JSON.

    Feedback joins training folds only, so "after" measures whether what users reported helps
    on the cited cases. The saved file holds coefficients (never a pickle), the blend
    parameters chosen now, and the case-library fingerprint so a stale file is ignored.
    """
    cases = list(cases) if cases is not None else load_cases()
    feedback = list(feedback)
    used, skipped = feedback_examples(feedback)
    before = cross_validate(cases)
    after = cross_validate(cases, feedback=feedback) if used else before
    real, synthetic = split_cases(cases)
    w, t, _ = choose_blend(real, synthetic, feedback)
    model = train_model(cases, feedback)
    meta = {
        **model.meta,
        "blend_weight": float(w),
        "rule_temperature": float(t),
        "cases_sha256": library_fingerprint(),
    }
    out = save_model_file(dataclasses.replace(model, meta=meta), out_path)
    text = "\n".join(
        [
            f"feedback rows: {len(feedback)} ({len(used)} used, {skipped} skipped: failed, "
            "unrated-zero or invalid)",
            "BEFORE (case library only)",
            before.to_text(),
            "AFTER (case library + feedback in training folds)",
            after.to_text(),
            f"blend weight {w:g}, rule temperature {t:g}; model written to {out}",
        ]
    )
    return {
        "before": before.to_dict(),
        "after": after.to_dict(),
        "feedback_used": len(used),
        "feedback_skipped": skipped,
        "blend": {"weight": float(w), "temperature": float(t)},
        "model_path": str(out),
        "text": text,
    }
