"""The learned scorer: a scikit-learn estimator to fit, and its coefficients as JSON to predict."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, ValidationError

from advisor.cases import CASES_DIR, Case, library_fingerprint, load_cases, training_set
from advisor.features import FEATURE_NAMES
from core.errors import ConfigError
from core.registry import STRATEGIES

if TYPE_CHECKING:
    import numpy as np

# Inverse L2 strength, as in scikit-learn's LogisticRegression. Small on purpose: ~100 cases and
# 20 features; the cross-validated choice is recorded in the README ("advisor").
DEFAULT_C = 0.3
# lbfgs stopping tolerance. scikit-learn's default (1e-4) stops with probabilities up to 6e-4
# away from the optimum on the case library; 1e-8 takes ~33 iterations (~4 ms) and lands within
# 1e-7, so a refit and its JSON export agree with the exact optimum.
TOL = 1e-8


# --- the scikit-learn estimator (defined lazily: scikit-learn costs ~2 s to import) -----------


def _define_estimator() -> type:
    import numpy as np
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    from sklearn.utils.validation import check_array, check_is_fitted, check_X_y

    class StrategyScorer(ClassifierMixin, BaseEstimator):
        """Multinomial L2 logistic regression (lbfgs) on standardized features.

        Minimises 0.5*||W||^2 + C * sum_i w_i * crossentropy_i; the intercept is not penalised.
        Standardising first makes one C mean the same for every feature and makes
        `coef * standardized value` an explanation of the logit. `__init__` only stores its
        arguments; everything learnt ends in `_`. `coef_` is always (n_classes, n_features):
        with two classes scikit-learn keeps one logit, which is split symmetrically here.
        """

        def __init__(self, C: float = DEFAULT_C, max_iter: int = 100):
            self.C = C
            self.max_iter = max_iter

        def fit(self, X: Any, y: Any, sample_weight: Any = None) -> StrategyScorer:
            X, y = check_X_y(X, y, dtype=float)
            if self.C <= 0:
                raise ValueError(f"`C` must be positive, got {self.C}")
            if len(np.unique(y)) < 2:
                raise ValueError(f"need at least 2 classes to fit, got {list(np.unique(y))}")
            scaler = StandardScaler().fit(X)  # a constant feature keeps scale 1, i.e. z = 0
            self.mean_, self.scale_ = scaler.mean_, scaler.scale_
            self.logistic_ = LogisticRegression(
                C=self.C, solver="lbfgs", tol=TOL, max_iter=self.max_iter
            ).fit(scaler.transform(X), y, sample_weight=sample_weight)
            self.classes_ = self.logistic_.classes_
            coef, intercept = self.logistic_.coef_, self.logistic_.intercept_
            if len(self.classes_) == 2:
                coef, intercept = (
                    np.vstack([-coef / 2, coef / 2]),
                    np.hstack([-intercept / 2, intercept / 2]),
                )
            self.coef_, self.intercept_ = coef, intercept
            self.n_iter_ = int(np.max(self.logistic_.n_iter_))
            self.n_features_in_ = X.shape[1]
            return self

        def _z(self, X: Any) -> np.ndarray:
            check_is_fitted(self)
            X = check_array(X, dtype=float)
            if X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {X.shape[1]} features, but StrategyScorer was fitted with "
                    f"{self.n_features_in_}"
                )
            return (X - self.mean_) / self.scale_

        def decision_function(self, X: Any) -> np.ndarray:
            return self._z(X) @ self.coef_.T + self.intercept_

        def predict_proba(self, X: Any) -> np.ndarray:
            check_is_fitted(self)
            return _softmax(self.decision_function(X))

        def predict(self, X: Any) -> np.ndarray:
            check_is_fitted(self)
            return self.classes_[np.argmax(self.decision_function(X), axis=1)]

        def contributions(self, X: Any) -> np.ndarray:
            """(n_samples, n_classes, n_features): centred coef * standardized feature."""
            z = self._z(X)
            centred = self.coef_ - self.coef_.mean(axis=0, keepdims=True)
            return z[:, None, :] * centred[None, :, :]

    StrategyScorer.__module__ = __name__
    StrategyScorer.__qualname__ = "StrategyScorer"
    return StrategyScorer


def __getattr__(name: str) -> Any:  # PEP 562: `from advisor.scorer import StrategyScorer` is cheap
    if name == "StrategyScorer":
        cls = _define_estimator()
        globals()["StrategyScorer"] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _softmax(logits: np.ndarray) -> np.ndarray:
    import numpy as np

    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


# --- the fitted model as a value: what `recommend` reads ---------------------------------------


@dataclass(frozen=True)
class LinearModel:
    """A fitted `StrategyScorer`'s parameters as plain tuples; predicts in pure Python.

    Importing scikit-learn takes ~2 s (numpy ~0.15 s) and `ftrag recommend` must answer in well
    under a second, so `recommend` reads these coefficients from JSON (never a pickle) and does
    the 20 x 3 multiply-adds itself. `coef[j][k]` is feature j's weight for class k; classes are
    the strategies the training labels named, in registry order.

    `reference_cases` holds the non-synthetic training cases (id, label, why, citation, features)
    so a recommendation can show its nearest labelled neighbours without reparsing the library.
    """

    classes: tuple[str, ...]
    feature_names: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[tuple[float, ...], ...]
    intercept: tuple[float, ...]
    meta: dict[str, Any] = field(default_factory=dict)
    reference_cases: tuple[dict[str, Any], ...] = ()

    @classmethod
    def from_estimator(cls, est: Any, meta: Mapping[str, Any] | None = None) -> LinearModel:
        """Export a fitted `StrategyScorer`, reordering its classes into registry order."""
        order = STRATEGIES.values()
        classes = sorted((str(c) for c in est.classes_), key=order.index)
        cols = [list(est.classes_).index(c) for c in classes]
        return cls(
            classes=tuple(classes),
            feature_names=FEATURE_NAMES,
            mean=tuple(float(v) for v in est.mean_),
            scale=tuple(float(v) for v in est.scale_),
            coef=tuple(tuple(float(est.coef_[k, j]) for k in cols) for j in range(len(est.mean_))),
            intercept=tuple(float(est.intercept_[k]) for k in cols),
            meta={**(meta or {}), "C": float(est.C), "solver": "lbfgs", "n_iter": est.n_iter_},
        )

    def standardize(self, x: Sequence[float]) -> list[float]:
        return [(v - m) / s for v, m, s in zip(x, self.mean, self.scale, strict=True)]

    def proba(self, x: Sequence[float]) -> dict[str, float]:
        """Class probabilities for one feature vector."""
        z = self.standardize(x)
        logits = [
            b + sum(zj * self.coef[j][k] for j, zj in enumerate(z))
            for k, b in enumerate(self.intercept)
        ]
        top = max(logits)
        e = [math.exp(v - top) for v in logits]
        total = sum(e)
        return {c: e[k] / total for k, c in enumerate(self.classes)}

    def predict_proba(self, X: Any) -> np.ndarray:
        """Vectorised (n, n_classes) probabilities, columns in `classes` order (imports numpy)."""
        import numpy as np

        X = np.atleast_2d(np.asarray(X, dtype=float))
        Z = (X - np.asarray(self.mean)) / np.asarray(self.scale)
        return _softmax(Z @ np.asarray(self.coef) + np.asarray(self.intercept))

    def contributions(self, x: Sequence[float]) -> dict[str, dict[str, float]]:
        """Per class, each feature's push on that class's logit relative to the other classes.

        Softmax only sees logit differences, so a feature's effect on class k is
        (coef_k - mean over classes of coef) * standardized value. Zero means "average
        profile on this feature", not "feature absent".
        """
        z = self.standardize(x)
        out: dict[str, dict[str, float]] = {c: {} for c in self.classes}
        for j, f in enumerate(self.feature_names):
            row = self.coef[j]
            avg = sum(row) / len(row)
            for k, c in enumerate(self.classes):
                out[c][f] = (row[k] - avg) * z[j]
        return out

    def nearest_distance(self, x: Sequence[float]) -> float:
        """Standardized Euclidean distance to the closest reference case (inf when none): how
        far this profile is from everything the scorer was fitted on."""
        z = self.standardize(x)
        return min(
            (
                math.sqrt(
                    sum(
                        (a - b) ** 2
                        for a, b in zip(z, self.standardize(c["features"]), strict=True)
                    )
                )
                for c in self.reference_cases
            ),
            default=math.inf,
        )

    def nearest_cases(self, x: Sequence[float], k: int = 3) -> list[dict[str, Any]]:
        """The k reference cases closest in standardized feature space."""
        z = self.standardize(x)
        scored = []
        for case in self.reference_cases:
            zc = self.standardize(case["features"])
            dist = math.sqrt(sum((a - b) ** 2 for a, b in zip(z, zc, strict=True)))
            scored.append((dist, case))
        scored.sort(key=lambda t: t[0])
        return [
            {**{k_: v for k_, v in c.items() if k_ != "features"}, "distance": round(d, 3)}
            for d, c in scored[:k]
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "classes": list(self.classes),
            "feature_names": list(self.feature_names),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "coef": [list(r) for r in self.coef],
            "intercept": list(self.intercept),
            "meta": self.meta,
            "reference_cases": list(self.reference_cases),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LinearModel:
        try:
            m = _ModelFile.model_validate(data)
        except ValidationError as e:
            err = e.errors()[0]
            where = ".".join(str(x) for x in err["loc"])
            raise ConfigError(f"scorer coefficients: {where}: {err['msg']}") from None
        d, k = len(m.feature_names), len(m.classes)
        if tuple(m.feature_names) != FEATURE_NAMES:
            raise ConfigError("scorer coefficients: features or classes differ from this ftrag")
        unknown = [c for c in m.classes if c not in STRATEGIES]
        if unknown or k < 2 or len(set(m.classes)) != k:
            raise ConfigError(
                "scorer coefficients: features or classes differ from this ftrag (classes "
                f"{m.classes}; registered strategies: {', '.join(STRATEGIES.values())})"
            )
        if (
            len(m.coef) != d
            or any(len(r) != k for r in m.coef)
            or len(m.mean) != d
            or len(m.scale) != d
            or len(m.intercept) != k
            or any(len(c.features) != d for c in m.reference_cases)
        ):
            raise ConfigError("scorer coefficients: array shapes do not match")
        flat = [v for r in m.coef for v in r]
        if any(not math.isfinite(v) for v in (*m.mean, *m.intercept, *flat)) or any(
            not (math.isfinite(v) and v > 0) for v in m.scale
        ):
            raise ConfigError("scorer coefficients: non-finite values or non-positive scale")
        return cls(
            classes=tuple(m.classes),
            feature_names=tuple(m.feature_names),
            mean=tuple(m.mean),
            scale=tuple(m.scale),
            coef=tuple(tuple(r) for r in m.coef),
            intercept=tuple(m.intercept),
            meta=m.meta,
            reference_cases=tuple(c.model_dump() for c in m.reference_cases),
        )


class _RefCase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    strategy: str
    justification: str
    citation: str
    features: list[float]


class _ModelFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    classes: list[str]
    feature_names: list[str]
    mean: list[float]
    scale: list[float]
    coef: list[list[float]]
    intercept: list[float]
    meta: dict[str, Any] = {}
    reference_cases: list[_RefCase] = []


# --- fitting (imports scikit-learn) -----------------------------------------------------------


def fit_linear_model(
    X: Any,
    y: Iterable[str],
    sample_weight: Any = None,
    C: float = DEFAULT_C,
    meta: Mapping[str, Any] | None = None,
) -> LinearModel:
    """Fit a `StrategyScorer` and export it; classes are the labels seen, in registry order."""
    est = _define_estimator()(C=C).fit(X, list(y), sample_weight=sample_weight)
    return LinearModel.from_estimator(est, meta)


def train_model(
    cases: Iterable[Case], feedback: Iterable[Mapping[str, Any]] = (), C: float = DEFAULT_C
) -> LinearModel:
    cases = list(cases)
    ts = training_set(cases, feedback)
    meta = {"n_cases": ts.n_cases, "n_synthetic": ts.n_synthetic, "n_feedback": ts.n_feedback}
    model = fit_linear_model(ts.X, ts.y, ts.weight, C=C, meta=meta)
    refs = tuple(
        {
            "id": c.id,
            "strategy": c.strategy,
            "justification": c.justification,
            "citation": c.source.citation,
            "features": ts.X[i].tolist(),
        }
        for i, c in enumerate(cases)
        if not c.synthetic
    )
    return dataclasses.replace(model, reference_cases=refs)


# --- the JSON file and the model `recommend` uses ---------------------------------------------


def cache_dir() -> Path:
    """`FTRAG_CACHE` wins (the same cache the models use); otherwise the user's cache dir."""
    env = os.environ.get("FTRAG_CACHE")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("ftrag"))


def save_model_file(model: LinearModel, path: str | Path) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(".tmp")
    tmp.write_text(json.dumps(model.to_dict()), encoding="utf-8")
    tmp.replace(p)  # atomic: a reader never sees half a file
    return p


def load_model_file(path: str | Path) -> LinearModel:
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConfigError(f"{p}: cannot read scorer coefficients ({e})") from None
    return LinearModel.from_dict(data)


# The fit of the committed case library, committed beside it (JSON, never a pickle), so a fresh
# clone's first `ftrag recommend` reads coefficients instead of importing scikit-learn and
# fitting (about 1.5 s). Used only while its fingerprint matches the case files; `make scorer`
# rewrites it, and a test fails when it no longer equals a fresh fit.
SHIPPED_MODEL = CASES_DIR.parent / "advisor_scorer.json"


def fit_default_model(fingerprint: str) -> LinearModel:
    """The case-library fit (scikit-learn), stamped with the library's fingerprint, with what
    source-grouped cross-validation chose: the method that ships (`evaluate.shipped_method`),
    the blend parameters and the confidence calibration. Never sees `data/cases/heldout/`."""
    from advisor.evaluate import choose_blend, cross_validate, fit_calibration, split_cases

    cases = load_cases()
    model = train_model(cases)
    cv = cross_validate(cases)
    real, synthetic = split_cases(cases)
    w, t, _ = choose_blend(real, synthetic)
    meta = {
        **model.meta,
        "method": cv.shipped,
        "blend_weight": float(w),
        "rule_temperature": float(t),
        "cv_accuracy": cv.accuracy,
        "calibration": fit_calibration(cv).to_dict(),
        "cases_sha256": fingerprint,
    }
    return dataclasses.replace(model, meta=meta)


def write_shipped_model() -> Path:
    """Refit the committed case library and write `SHIPPED_MODEL` (`make scorer`)."""
    return save_model_file(fit_default_model(library_fingerprint()), SHIPPED_MODEL)


@functools.cache
def _default_model(fingerprint: str) -> LinearModel:
    """The shipped fit, else the cached JSON fit for this case library, else fit and cache."""
    cached = cache_dir() / f"advisor_scorer-{fingerprint[:16]}.json"
    for path in (SHIPPED_MODEL, cached):
        if not path.is_file():
            continue
        try:
            model = load_model_file(path)
            if model.meta.get("cases_sha256") == fingerprint:
                return model
        except ConfigError:
            pass  # a corrupt or foreign file is simply refit (the cache one overwritten)
    model = fit_default_model(fingerprint)
    with contextlib.suppress(OSError):  # a read-only cache only costs the refit next time
        save_model_file(model, cached)
    return model


def default_model(model_path: str | Path | None = None) -> LinearModel:
    """The scorer `recommend` uses: a retrained JSON model when one exists and was trained on the
    current case library; else the case-library fit, cached in-process and as JSON in the user
    cache, so only the first run after a case file changes imports scikit-learn."""
    fingerprint = library_fingerprint()
    if model_path is not None and Path(model_path).is_file():
        model = load_model_file(model_path)
        if model.meta.get("cases_sha256") == fingerprint:
            return model
    return _default_model(fingerprint)
