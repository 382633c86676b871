"""Honest evaluation of the advisor: rules alone, the learned scorer alone, and the blend.

Protocol (why each step exists):
- Only non-synthetic cases are ever scored. Synthetic cases (and store feedback) join the
  *training* folds only: they are illustrations, not observations.
- Stratified k-fold keeps every strategy in every fold (the library is small and imbalanced).
- The blend's weight and rule temperature are chosen *inside* each training fold by an inner
  cross-validation on log-loss, never on the fold being scored, so the blended accuracy is not
  tuned on its own test labels.
- A fixed, stratified held-out split (seeded) backs the tests with a stable number.

scikit-learn is imported here freely: this module is never on the `ftrag recommend` path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold, train_test_split

from advisor.rules import RuleBook, fired_rules, load_rules, rule_scores, rules_pick
from advisor.scorer import (
    CLASSES,
    Case,
    LinearModel,
    featurize_many,
    feedback_examples,
    train_model,
)

WEIGHT_GRID = tuple(round(float(x), 2) for x in np.linspace(0, 1, 11))
TEMPERATURE_GRID = (0.5, 1.0, 2.0, 4.0, 8.0)


def split_cases(cases: Iterable[Case]) -> tuple[list[Case], list[Case]]:
    cases = list(cases)
    return [c for c in cases if not c.synthetic], [c for c in cases if c.synthetic]


def rule_score_matrix(cases: Sequence[Case], book: RuleBook | None = None) -> np.ndarray:
    """(n, 3) rule scores in CLASSES order."""
    book = book or load_rules()
    rows = []
    for c in cases:
        s = rule_scores(fired_rules(c.profile, book))
        rows.append([s[k] for k in CLASSES])
    return np.asarray(rows, dtype=float).reshape(len(rows), len(CLASSES))


def rules_predictions(cases: Sequence[Case], book: RuleBook | None = None) -> list[str]:
    book = book or load_rules()
    return [rules_pick(rule_scores(fired_rules(c.profile, book))) for c in cases]


def softmax_rows(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = np.atleast_2d(scores) / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def blend(rule_s: np.ndarray, p_learned: np.ndarray, weight: float, temperature: float):
    """Log-linear pooling: softmax(weight * rules / T + (1 - weight) * log p_learned).

    Rule scores are read as log-odds evidence and learned probabilities as log-probabilities;
    a weighted product of experts lets agreeing experts reinforce each other and lets a confident
    expert overrule a hesitant one. (Linear pooling was also cross-validated; it beat both
    parts too, by less: see the module docstring of advisor.recommend.)
    """
    logp = np.log(np.clip(np.atleast_2d(p_learned), 1e-9, 1.0))
    return softmax_rows(weight * np.atleast_2d(rule_s) / temperature + (1 - weight) * logp, 1.0)


def log_loss(p: np.ndarray, y: Sequence[str]) -> float:
    idx = [CLASSES.index(v) for v in y]
    return float(-np.mean(np.log(np.clip(p[np.arange(len(idx)), idx], 1e-12, 1))))


def brier(p: np.ndarray, y: Sequence[str]) -> float:
    onehot = np.eye(len(CLASSES))[[CLASSES.index(v) for v in y]]
    return float(np.mean(np.sum((p - onehot) ** 2, axis=1)))


def expected_calibration_error(p: np.ndarray, y: Sequence[str], bins: int = 5) -> float:
    """Mean |confidence - accuracy| of the top class over equal-width confidence bins, weighted by
    bin size. 0 is perfectly calibrated; with ~100 cases, use 5 bins, not 10."""
    conf = p.max(axis=1)
    hit = np.array([CLASSES[i] == t for i, t in zip(p.argmax(axis=1), y, strict=True)])
    edges = np.linspace(1 / len(CLASSES), 1, bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    return float(
        sum(
            abs(conf[idx == b].mean() - hit[idx == b].mean()) * (idx == b).mean()
            for b in range(bins)
            if (idx == b).any()
        )
    )


def _n_used(feedback: Sequence[Mapping]) -> int:
    """Feedback rows that actually enter training (failed outcomes and invalid rows do not)."""
    return len(feedback_examples(feedback)[0])


def _fit(train: Sequence[Case], extra: Sequence[Case], feedback: Sequence[Mapping]) -> LinearModel:
    return train_model([*train, *extra], feedback)


def _folds(y: Sequence[str], k: int, seed: int):
    k = max(2, min(k, min(np.unique(y, return_counts=True)[1])))
    return StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(len(y)), y)


def choose_blend(
    train: Sequence[Case],
    synthetic: Sequence[Case] = (),
    feedback: Sequence[Mapping] = (),
    k: int = 5,
    seed: int = 0,
    book: RuleBook | None = None,
) -> tuple[float, float, float]:
    """(weight, temperature, log-loss): the grid point with the lowest inner-CV log-loss.

    Out-of-fold learned probabilities come from models that never saw the case; rule scores need
    no fitting. Ties go to the smaller weight and lower temperature (listed first).
    """
    train = list(train)
    y = [c.strategy for c in train]
    oof = np.zeros((len(train), len(CLASSES)))
    for tr, va in _folds(y, k, seed):
        model = _fit([train[i] for i in tr], synthetic, feedback)
        oof[va] = model.predict_proba(featurize_many([train[i].profile for i in va]))
    rs = rule_score_matrix(train, book)
    best = min(
        ((log_loss(blend(rs, oof, w, t), y), w, t) for w in WEIGHT_GRID for t in TEMPERATURE_GRID),
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

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}

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
            "             " + " ".join(f"{c:>12}" for c in CLASSES),
        ]
        for t in CLASSES:
            lines.append(f"{t:>12} " + " ".join(f"{self.confusion[t][p]:>12}" for p in CLASSES))
        return "\n".join(lines)


def _score_split(train, test, synthetic, feedback, book, seed):
    model = _fit(train, synthetic, feedback)
    w, t, _ = choose_blend(train, synthetic, feedback, seed=seed, book=book)
    p_learned = model.predict_proba(featurize_many([c.profile for c in test]))
    rs = rule_score_matrix(test, book)
    p_blend = blend(rs, p_learned, w, t)
    return p_learned, p_blend, rules_predictions(test, book), {"weight": w, "temperature": t}


def _report(y, rules_pred, p_learned, p_blend, params, protocol, cases, n_syn, n_fb) -> EvalReport:
    learned_pred = [CLASSES[i] for i in p_learned.argmax(axis=1)]
    blend_pred = [CLASSES[i] for i in p_blend.argmax(axis=1)]
    conf = {t: {p: 0 for p in CLASSES} for t in CLASSES}
    for t, p in zip(y, blend_pred, strict=True):
        conf[t][p] += 1

    def acc(pred):
        return round(float(np.mean([a == b for a, b in zip(pred, y, strict=True)])), 4)

    return EvalReport(
        n_eval=len(y),
        n_train_synthetic=n_syn,
        n_feedback=n_fb,
        accuracy={"rules": acc(rules_pred), "learned": acc(learned_pred), "blend": acc(blend_pred)},
        log_loss={
            "learned": round(log_loss(p_learned, y), 4),
            "blend": round(log_loss(p_blend, y), 4),
        },
        brier={"learned": round(brier(p_learned, y), 4), "blend": round(brier(p_blend, y), 4)},
        ece={
            "learned": round(expected_calibration_error(p_learned, y), 4),
            "blend": round(expected_calibration_error(p_blend, y), 4),
        },
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
    feedback: Sequence[Mapping] = (),
    k: int = 5,
    seed: int = 0,
    book: RuleBook | None = None,
) -> EvalReport:
    """Stratified k-fold over non-synthetic cases; blend parameters chosen by nested CV."""
    book = book or load_rules()
    real, synthetic = split_cases(cases)
    y = [c.strategy for c in real]
    p_l = np.zeros((len(real), len(CLASSES)))
    p_b = np.zeros_like(p_l)
    rules_pred: list[str] = [""] * len(real)
    params = []
    for tr, te in _folds(y, k, seed):
        pl, pb, rp, prm = _score_split(
            [real[i] for i in tr], [real[i] for i in te], synthetic, feedback, book, seed
        )
        p_l[te], p_b[te] = pl, pb
        for j, i in enumerate(te):
            rules_pred[i] = rp[j]
        params.append(prm)
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
    cases: Iterable[Case], feedback: Sequence[Mapping] = (), book: RuleBook | None = None
) -> EvalReport:
    book = book or load_rules()
    train, test, synthetic = holdout_split(cases)
    pl, pb, rp, prm = _score_split(train, test, synthetic, feedback, book, HOLDOUT_SEED)
    y = [c.strategy for c in test]
    return _report(
        y, rp, pl, pb, [prm], "fixed held-out split", test, len(synthetic), _n_used(feedback)
    )


def retrain(feedback: Sequence[Mapping], out_path, cases: Iterable[Case] | None = None) -> dict:
    """Evaluate without and with feedback, fit the final model on everything, save it as JSON.

    Feedback joins training folds only, so "after" measures whether what users reported helps
    on the cited cases. The saved file holds coefficients (never a pickle), the blend
    parameters chosen now, and the case-library fingerprint so a stale file is ignored.
    """
    from advisor.scorer import library_fingerprint, load_cases, save_model_file

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
    out = save_model_file(LinearModel(**{**model.__dict__, "meta": meta}), out_path)
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
