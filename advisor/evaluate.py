"""Honest evaluation of the advisor: rules alone, the learned scorer alone, and the blend.

Protocol (why each step exists):
- Only non-synthetic cases are ever scored. Synthetic cases (and store feedback) join the
  *training* folds only: they are illustrations, not observations.
- Folds are grouped by source (`Source.group`: the URL, else author and year) with
  scikit-learn's `StratifiedGroupKFold`: no paper, guide or blog post has cases on both sides
  of a split, so the scorer cannot score a case by remembering its sibling from the same page.
- The blend's weight and rule temperature are chosen *inside* each training fold by an inner
  grouped cross-validation on log-loss, never on the fold being scored.
- `data/cases/heldout/` holds borderline published cases that no fit ever sees; they are
  scored once, by the model fitted on the whole library (`evaluate_heldout`).
- The confidence `recommend` reports is calibrated on these out-of-fold predictions
  (`fit_calibration`), so its meaning is a measured hit rate.

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

from advisor.calibration import (
    CHANCE_FLOOR,
    Calibration,
    fit_platt,
    reliability_bins,
    shrink_factor,
)
from advisor.cases import Case, feedback_examples, library_fingerprint, load_cases
from advisor.features import featurize
from advisor.recommend import blend_scores
from advisor.rules import RuleBook, fired_rules, load_rules, rule_scores, rules_pick
from advisor.scorer import LinearModel, save_model_file, train_model
from core.registry import STRATEGIES

WEIGHT_GRID = tuple(round(i / 10, 2) for i in range(11))
TEMPERATURE_GRID = (0.5, 1.0, 2.0, 4.0, 8.0)
METHODS = ("rules", "learned", "blend")
# A profile farther from every cited case than this share of the cases were from their nearest
# training case in cross-validation is "far from the library" (see `fit_calibration`).
FAR_QUANTILE = 0.9

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


def _hits(p: np.ndarray, y: Sequence[str], classes: Sequence[str]) -> np.ndarray:
    return np.array([classes[i] == t for i, t in zip(p.argmax(axis=1), y, strict=True)])


def expected_calibration_error(
    p: np.ndarray, y: Sequence[str], classes: Sequence[str], bins: int = 5
) -> float:
    """Mean |confidence - accuracy| of the top class over equal-width confidence bins, weighted by
    bin size. 0 is perfectly calibrated; with ~100 cases, use 5 bins, not 10."""
    return ece_of(p.max(axis=1), _hits(p, y, classes), len(classes), bins)


def ece_of(conf: np.ndarray, hit: np.ndarray, n_classes: int = 3, bins: int = 5) -> float:
    """ECE of top-class confidences `conf` against outcomes `hit` (see above)."""
    return float(
        sum(
            b["n"] / len(conf) * abs(b["confidence"] - b["accuracy"])
            for b in reliability_bins(conf, hit, n_classes, bins)
            if b["n"]
        )
    )


def _n_used(feedback: Sequence[Mapping[str, Any]]) -> int:
    """Feedback rows that actually enter training (failed outcomes and invalid rows do not)."""
    return len(feedback_examples(feedback)[0])


def _fit(
    train: Sequence[Case], extra: Sequence[Case], feedback: Sequence[Mapping[str, Any]]
) -> LinearModel:
    return train_model([*train, *extra], feedback)


def _folds(cases: Sequence[Case], k: int, seed: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds that never split a source: every case of one source (`Source.group`)
    lands in the same fold. k shrinks to the number of sources when there are fewer."""
    from sklearn.model_selection import StratifiedGroupKFold

    y = [c.strategy for c in cases]
    groups = [c.source.group for c in cases]
    k = max(2, min(k, len(set(groups))))
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    return splitter.split(np.zeros(len(y)), y, groups)


def choose_blend(
    train: Sequence[Case],
    synthetic: Sequence[Case] = (),
    feedback: Sequence[Mapping[str, Any]] = (),
    k: int = 5,
    seed: int = 0,
    book: RuleBook | None = None,
) -> tuple[float, float, float]:
    """(weight, temperature, log-loss): the grid point with the lowest inner grouped-CV log-loss.

    Out-of-fold learned probabilities come from models that never saw the case's source; rule
    scores need no fitting. Ties go to the smaller weight and lower temperature (listed first).
    """
    train = list(train)
    classes = STRATEGIES.values()
    y = [c.strategy for c in train]
    oof: Rows = [{} for _ in train]
    for tr, va in _folds(train, k, seed):
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


def _rule_proba(rule_rows: Rows, temperature: float) -> np.ndarray:
    """Rules alone as probabilities: softmax(rule points / T), T the blend's temperature."""
    m = _matrix(rule_rows, STRATEGIES.values()) / temperature
    m = np.exp(m - m.max(axis=1, keepdims=True))
    return m / m.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class EvalReport:
    n_eval: int
    n_train_synthetic: int
    n_feedback: int
    accuracy: dict[str, float]  # rules, learned, blend
    log_loss: dict[str, float]  # learned, blend
    brier: dict[str, float]
    ece: dict[str, float]  # expected calibration error of the top class
    confusion: dict[str, dict[str, int]]  # shipped method: true -> predicted -> count
    blend_params: list[dict[str, float]]  # per outer fold (weight, temperature)
    protocol: str
    predictions: list[dict[str, Any]] = field(default_factory=list)
    by_source: dict[str, dict[str, float]] = field(default_factory=dict)  # type -> method -> acc
    n_by_source: dict[str, int] = field(default_factory=dict)
    reliability: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    n_groups: int = 0
    shipped: str = "blend"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def table(self) -> list[list[str]]:
        """Rows of the per-source table: source type, n, then each method's accuracy."""
        rows = [
            [src, str(self.n_by_source[src]), *(f"{accs[m]:.3f}" for m in METHODS)]
            for src, accs in self.by_source.items()
        ]
        rows.append(["all", str(self.n_eval), *(f"{self.accuracy[m]:.3f}" for m in METHODS)])
        return rows

    def to_text(self) -> str:
        a = self.accuracy
        lines = [
            f"{self.protocol}: {self.n_eval} non-synthetic cases from {self.n_groups} sources "
            f"scored; {self.n_train_synthetic} synthetic cases and {self.n_feedback} feedback "
            "rows used for training only",
            f"accuracy  rules-only {a['rules']:.3f}  learned-only {a['learned']:.3f}  "
            f"blended {a['blend']:.3f}   (shipped: {self.shipped})",
            f"log-loss  rules {self.log_loss['rules']:.3f}  learned "
            f"{self.log_loss['learned']:.3f}  blend {self.log_loss['blend']:.3f}",
            f"ECE (5 bins)  rules {self.ece['rules']:.3f}  learned {self.ece['learned']:.3f}  "
            f"blend {self.ece['blend']:.3f}",
        ]
        if self.by_source:
            lines += [
                "",
                f"{'source type':<22}{'n':>4}{'rules':>9}{'learned':>9}{'blend':>9}",
                *(f"{r[0]:<22}{r[1]:>4}{r[2]:>9}{r[3]:>9}{r[4]:>9}" for r in self.table()),
            ]
        if self.blend_params:
            lines.append(
                "blend weight/temperature per fold: "
                + ", ".join(f"{p['weight']:.1f}/{p['temperature']:g}" for p in self.blend_params)
            )
        lines += [
            f"confusion ({self.shipped}; rows = true, columns = predicted):",
            "             " + " ".join(f"{c:>12}" for c in self.confusion),
        ]
        for t, row in self.confusion.items():
            lines.append(f"{t:>12} " + " ".join(f"{n:>12}" for n in row.values()))
        return "\n".join(lines)


@dataclass(frozen=True)
class _Scored:
    """Out-of-sample predictions for some cases, in registry column order."""

    p_rules: np.ndarray
    p_learned: np.ndarray
    p_blend: np.ndarray
    rules_pred: list[str]
    nearest: np.ndarray  # standardized distance to the nearest cited training case
    params: dict[str, float]


def _nearest(model: LinearModel, cases: Sequence[Case]) -> np.ndarray:
    return np.array([model.nearest_distance(featurize(c.profile)) for c in cases], dtype=float)


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
        p_rules=_rule_proba(rs, t),
        p_learned=_matrix(learned, classes),
        p_blend=_matrix(blend_rows(rs, learned, w, t), classes),
        rules_pred=[rules_pick(r) for r in rs],
        nearest=_nearest(model, test),
        params={"weight": w, "temperature": t},
    )


def _report(
    y: Sequence[str],
    s: _Scored,
    params: list[dict[str, float]],
    protocol: str,
    cases: Sequence[Case],
    n_syn: int,
    n_fb: int,
    shipped: str = "blend",
) -> EvalReport:
    classes = STRATEGIES.values()
    probs = {"rules": s.p_rules, "learned": s.p_learned, "blend": s.p_blend}
    preds = {
        "rules": list(s.rules_pred),
        "learned": [classes[i] for i in s.p_learned.argmax(axis=1)],
        "blend": [classes[i] for i in s.p_blend.argmax(axis=1)],
    }
    conf = {t: {p: 0 for p in classes} for t in classes}
    for t, p in zip(y, preds[shipped], strict=True):
        conf[t][p] += 1

    def acc(pred: Sequence[str], idx: Sequence[int] | None = None) -> float:
        idx = range(len(y)) if idx is None else idx
        return round(float(np.mean([pred[i] == y[i] for i in idx])), 4)

    types = sorted({c.source.type for c in cases})
    by_type = {t: [i for i, c in enumerate(cases) if c.source.type == t] for t in types}
    reliability = {
        m: reliability_bins(
            probs[m].max(axis=1),
            np.array([a == b for a, b in zip(preds[m], y, strict=True)]),
            len(classes),
        )
        for m in METHODS
    }
    return EvalReport(
        n_eval=len(y),
        n_train_synthetic=n_syn,
        n_feedback=n_fb,
        accuracy={m: acc(preds[m]) for m in METHODS},
        log_loss={m: round(log_loss(probs[m], y, classes), 4) for m in METHODS},
        brier={m: round(brier(probs[m], y, classes), 4) for m in METHODS},
        ece={m: round(expected_calibration_error(probs[m], y, classes), 4) for m in METHODS},
        confusion=conf,
        blend_params=params,
        protocol=protocol,
        predictions=[
            {
                "id": c.id,
                "source_type": c.source.type,
                "group": c.source.group,
                "true": y[i],
                **{m: preds[m][i] for m in METHODS},
                "confidence": round(float(probs[shipped][i].max()), 4),
                "nearest_distance": round(float(s.nearest[i]), 4),
            }
            for i, c in enumerate(cases)
        ],
        by_source={t: {m: acc(preds[m], by_type[t]) for m in METHODS} for t in types},
        n_by_source={t: len(by_type[t]) for t in types},
        reliability=reliability,
        n_groups=len({c.source.group for c in cases}),
        shipped=shipped,
    )


def _oof(
    real: Sequence[Case],
    synthetic: Sequence[Case],
    feedback: Sequence[Mapping[str, Any]],
    book: RuleBook,
    k: int,
    seed: int,
) -> tuple[_Scored, list[dict[str, float]]]:
    """Out-of-fold predictions of every method for every case, over source-grouped folds."""
    n, n_classes = len(real), len(STRATEGIES)
    p_r, p_l, p_b = (np.zeros((n, n_classes)) for _ in range(3))
    near = np.zeros(n)
    rules_pred: list[str] = [""] * n
    params = []
    for tr, te in _folds(real, k, seed):
        s = _score_split(
            [real[i] for i in tr], [real[i] for i in te], synthetic, feedback, book, seed
        )
        p_r[te], p_l[te], p_b[te], near[te] = s.p_rules, s.p_learned, s.p_blend, s.nearest
        for j, i in enumerate(te):
            rules_pred[i] = s.rules_pred[j]
        params.append(s.params)
    return _Scored(p_r, p_l, p_b, rules_pred, near, {}), params


def shipped_method(accuracy: Mapping[str, float]) -> str:
    """The blend ships only if it beats *both* parts under the grouped protocol; otherwise the
    better part ships (the learned scorer on a tie, since it gives probabilities per case)."""
    if accuracy["blend"] > max(accuracy["rules"], accuracy["learned"]):
        return "blend"
    return "rules" if accuracy["rules"] > accuracy["learned"] else "learned"


def cross_validate(
    cases: Iterable[Case],
    feedback: Sequence[Mapping[str, Any]] = (),
    k: int = 5,
    seed: int = 0,
    book: RuleBook | None = None,
) -> EvalReport:
    """Source-grouped stratified k-fold over non-synthetic cases; blend chosen by nested CV."""
    book = book or load_rules()
    real, synthetic = split_cases(cases)
    y = [c.strategy for c in real]
    s, params = _oof(real, synthetic, feedback, book, k, seed)
    acc = {
        "rules": float(np.mean([p == t for p, t in zip(s.rules_pred, y, strict=True)])),
        "learned": float(np.mean(_hits(s.p_learned, y, STRATEGIES.values()))),
        "blend": float(np.mean(_hits(s.p_blend, y, STRATEGIES.values()))),
    }
    return _report(
        y,
        s,
        params,
        f"{k}-fold source-grouped stratified CV",
        real,
        len(synthetic),
        _n_used(feedback),
        shipped=shipped_method(acc),
    )


def evaluate_heldout(
    cases: Iterable[Case],
    heldout: Sequence[Case],
    feedback: Sequence[Mapping[str, Any]] = (),
    book: RuleBook | None = None,
    shipped: str = "blend",
) -> EvalReport:
    """Fit on the whole library (as `make scorer` does), score the held-out cases once."""
    book = book or load_rules()
    real, synthetic = split_cases(cases)
    overlap = {c.id for c in real} & {c.id for c in heldout}
    if overlap:
        raise ValueError(f"held-out cases also in the library: {sorted(overlap)}")
    s = _score_split(real, heldout, synthetic, feedback, book, seed=0)
    return _report(
        [c.strategy for c in heldout],
        s,
        [s.params],
        "held-out borderline cases (never fitted)",
        heldout,
        len(synthetic),
        _n_used(feedback),
        shipped=shipped,
    )


def fit_calibration(cv: EvalReport) -> Calibration:
    """The confidence map `recommend` applies, fitted on the grouped-CV predictions.

    - Platt scaling of the shipped method's top-class probability against whether it was right.
    - `far_distance`: the FAR_QUANTILE quantile of each case's distance to its nearest training
      case in CV; a profile farther than that from every cited case is "far from the library".
    - `disagree_factor` / `far_factor`: how much of the calibrated margin over chance survives
      when rules and scorer disagree or the profile is far, measured on the CV cases in that
      situation (`shrink_factor`), and always below 1 so the flag always lowers.
    - `reliability`: the hit rate per calibrated-confidence bin: what a confidence means.
    - `cap`: the rule of three on the top bin (every case right in n still leaves an error
      rate up to 3/n at 95 %), never above `calibration.MAX_CAP`.
    """
    preds = cv.predictions
    conf = np.array([p["confidence"] for p in preds])
    hit = np.array([p[cv.shipped] == p["true"] for p in preds])
    disagree = np.array([p["rules"] != p["learned"] for p in preds])
    dist = np.array([p["nearest_distance"] for p in preds])
    a, b = fit_platt(conf, hit)
    cal = Calibration(a=a, b=b, method=cv.shipped, n=len(preds))
    calibrated = np.array([cal.platt(c) for c in conf])
    far_d = float(np.quantile(dist, FAR_QUANTILE))
    far = dist > far_d
    return dataclasses.replace(
        cal,
        far_distance=round(far_d, 4),
        disagree_factor=shrink_factor(calibrated[disagree], hit[disagree]),
        far_factor=shrink_factor(calibrated[far], hit[far]),
        reliability=reliability_bins(calibrated, hit, len(STRATEGIES)),
        flag_stats={
            "disagree": {"n": int(disagree.sum()), "accuracy": _mean(hit[disagree])},
            "agree": {"n": int((~disagree).sum()), "accuracy": _mean(hit[~disagree])},
            "far": {"n": int(far.sum()), "accuracy": _mean(hit[far])},
            "near": {"n": int((~far).sum()), "accuracy": _mean(hit[~far])},
        },
    ).with_cap()


def _mean(x: np.ndarray) -> float | None:
    return round(float(x.mean()), 4) if len(x) else None


def calibrated_report(cv: EvalReport, cal: Calibration) -> dict[str, Any]:
    """ECE and reliability of the calibrated confidence on the same CV predictions (the map is
    fitted on them, so this is in-sample for two parameters: read it as a sanity check)."""
    conf = np.array([cal.platt(p["confidence"]) for p in cv.predictions])
    hit = np.array([p[cv.shipped] == p["true"] for p in cv.predictions])
    return {
        "ece": round(ece_of(conf, hit, len(STRATEGIES)), 4),
        "reliability": reliability_bins(conf, hit, len(STRATEGIES)),
        "floor": CHANCE_FLOOR,
    }


def evaluation_summary(
    cases: Iterable[Case] | None = None,
    heldout: Sequence[Case] | None = None,
    k: int = 5,
) -> dict[str, Any]:
    """Everything `ftrag advisor evaluate` prints: grouped CV, calibration, held-out."""
    from advisor.cases import load_heldout

    cases = list(cases) if cases is not None else load_cases()
    heldout = list(heldout) if heldout is not None else load_heldout()
    cv = cross_validate(cases, k=k)
    cal = fit_calibration(cv)
    ho = evaluate_heldout(cases, heldout, shipped=cv.shipped) if heldout else None
    return {
        "cross_validation": cv,
        "calibration": cal,
        "calibrated": calibrated_report(cv, cal),
        "heldout": ho,
    }


def summary_text(s: Mapping[str, Any]) -> str:
    cv, cal, ho = s["cross_validation"], s["calibration"], s["heldout"]
    lines = [cv.to_text(), "", "Calibrated confidence (Platt on the CV predictions above):"]
    lines.append(
        f"  ECE raw {cv.ece[cv.shipped]:.3f} -> calibrated {s['calibrated']['ece']:.3f}; "
        f"cap {cal.cap:.0%}; far from the library beyond distance {cal.far_distance:.2f}"
    )
    for name, st in cal.flag_stats.items():
        acc = "n/a" if st["accuracy"] is None else f"{st['accuracy']:.3f}"
        lines.append(f"  {name:<9} n={st['n']:>3}  accuracy {acc}")
    lines.append("  reliability (calibrated confidence bin: mean confidence / hit rate / n):")
    for b in s["calibrated"]["reliability"]:
        if b["n"]:
            lines.append(
                f"    {b['lo']:.2f}-{b['hi']:.2f}: {b['confidence']:.3f} / {b['accuracy']:.3f} "
                f"/ {b['n']}"
            )
    if ho is not None:
        lines += ["", ho.to_text()]
    return "\n".join(lines)


def summary_dict(s: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "cross_validation": s["cross_validation"].to_dict(),
        "calibration": s["calibration"].to_dict(),
        "calibrated": s["calibrated"],
        "heldout": s["heldout"].to_dict() if s["heldout"] is not None else None,
    }


def retrain(
    feedback: Sequence[Mapping[str, Any]], out_path: str | Path, cases: Iterable[Case] | None = None
) -> dict[str, Any]:
    """Evaluate without and with feedback, fit the final model on everything, save it as JSON.

    Feedback joins training folds only, so "after" measures whether what users reported helps
    on the cited cases. The saved file holds coefficients (never a pickle), the blend
    parameters and calibration chosen now, and the case-library fingerprint so a stale file is
    ignored.
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
        "calibration": fit_calibration(after).to_dict(),
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
