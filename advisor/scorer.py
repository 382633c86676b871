"""Learned scorer: a calibrated multinomial logistic regression over engineered profile features.

Why a linear model: ~100 labelled cases support little more, its probabilities are well
calibrated when L2-regularised, and `coef * standardized feature` gives an honest per-profile,
per-class explanation.

Why two faces: `StrategyScorer` is a real scikit-learn estimator (clone, pipelines, CV), used by
training and evaluation. `LinearModel` is the fitted parameters as a frozen value that predicts in
plain Python, because importing scikit-learn takes ~2 s (numpy ~0.15 s) and `ftrag recommend`
must answer in well under a second. Both share one numpy Newton solver, and a test checks it
against scikit-learn's own `LogisticRegression`.

Nothing is ever unpickled. The model is refit from the case library on first use (~20 ms plus
the numpy import), kept in-process, and written as JSON coefficients to the user cache, keyed by
a hash of the case files; later processes read that JSON (validated) instead of refitting.
`ftrag advisor retrain` writes the same JSON format, with feedback included.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from advisor.rules import SAFE_LOADER
from core.errors import ConfigError
from core.profile import (
    LEVEL_ORDER,
    UPDATE_ORDER,
    Deployment,
    Profile,
    Task,
    format_validation_error,
)
from core.registry import STRATEGIES

if TYPE_CHECKING:
    import numpy as np

CASES_DIR = Path(__file__).resolve().parent.parent / "data" / "cases"
CLASSES = STRATEGIES.values()  # fine_tuning, rag, hybrid: the classes the case library labels
TRACE_ORDER = ["none", "preferred", "required"]

# Synthetic cases are illustrations, not observations: they count half in training and never
# appear in evaluation. Feedback counts by outcome: a choice that worked is a real label; a
# mixed one is half a label; a failure says what not to pick, not what to pick, so it is skipped.
SYNTHETIC_WEIGHT = 0.5
OUTCOME_WEIGHT = {"worked": 1.0, "mixed": 0.5, "failed": 0.0}
# Inverse L2 strength. Small on purpose: ~100 cases and 20 features. 5-fold CV log-loss of the
# learned scorer on the non-synthetic cases (2026-11-24): C=0.1 0.43, 0.3 0.38, 1.0 0.38,
# 3.0 0.41; of the two best, the stronger regularisation is the safer as the library grows.
DEFAULT_C = 0.3

# --- features ---------------------------------------------------------------------------------

_TASKS = [t.value for t in Task]
_DEPLOYS = [d.value for d in Deployment]

FEATURE_NAMES: tuple[str, ...] = (
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
        UPDATE_ORDER.index(p["knowledge_update_frequency"]),
        TRACE_ORDER.index(p["traceability"]),
        LEVEL_ORDER.index(p["style_consistency"]),
        LEVEL_ORDER.index(p["ml_maturity"]),
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
    import numpy as np

    rows = [featurize(p) for p in profiles]
    return np.vstack(rows) if rows else np.zeros((0, len(FEATURE_NAMES)))


# --- solver -----------------------------------------------------------------------------------


def _softmax(logits: np.ndarray) -> np.ndarray:
    import numpy as np

    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_multinomial(
    Z: np.ndarray, y: np.ndarray, n_classes: int, C: float, w: np.ndarray, max_iter: int = 100
) -> tuple[np.ndarray, np.ndarray, int]:
    """Minimise 0.5*||W||^2 + C * sum_i w_i * crossentropy_i by Newton's method.

    The same objective as scikit-learn's multinomial `LogisticRegression(C=C)`: the intercept is
    not penalised (a 1e-8 ridge only pins the softmax's free shift). 20 features x 3 classes is
    a 69x69 Hessian, so each step is exact and ~10 steps converge. Returns (coef (d, K),
    intercept (K,), iterations).
    """
    import numpy as np

    n, d = Z.shape
    K = n_classes
    Xa = np.hstack([Z, np.ones((n, 1))])
    Y = np.eye(K)[y]
    reg = np.ones(d + 1)
    reg[-1] = 1e-8
    W = np.zeros((d + 1, K))

    def objective(W: np.ndarray) -> float:
        logits = Xa @ W
        m = logits.max(axis=1)
        lse = m + np.log(np.exp(logits - m[:, None]).sum(axis=1))
        return float(
            C * np.sum(w * (lse - (logits * Y).sum(axis=1))) + 0.5 * np.sum(reg[:, None] * W**2)
        )

    f = objective(W)
    n_iter = 0
    for _ in range(max_iter):
        n_iter += 1
        P = _softmax(Xa @ W)
        G = C * Xa.T @ (w[:, None] * (P - Y)) + reg[:, None] * W
        g = G.T.reshape(-1)  # class-major: index k*(d+1)+a
        if np.max(np.abs(g)) < 1e-7:
            break
        S = w[:, None, None] * (P[:, :, None] * np.eye(K)[None] - P[:, :, None] * P[:, None, :])
        H = C * np.einsum("ia,ikl,ib->kalb", Xa, S, Xa).reshape(K * (d + 1), K * (d + 1))
        H[np.diag_indices_from(H)] += np.tile(reg, K)
        step = np.linalg.solve(H, g).reshape(K, d + 1).T
        t = 1.0
        while t > 1e-6:  # backtracking: Newton steps can overshoot far from the optimum
            W_new = W - t * step
            f_new = objective(W_new)
            if f_new <= f - 1e-4 * t * float(g @ step.T.reshape(-1)):
                break
            t *= 0.5
        W, f = W_new, f_new
    return W[:-1], W[-1], n_iter


# --- the fitted model as a value --------------------------------------------------------------


@dataclass(frozen=True)
class LinearModel:
    """Fitted parameters as plain tuples; predicts in pure Python (20 x 3 weights: numpy's
    import would cost more than the arithmetic). `coef[j][k]` is feature j's weight for class k.

    `reference_cases` holds the non-synthetic training cases (id, label, why, citation, features)
    so a recommendation can show its nearest labelled neighbours without reparsing the library.
    """

    classes: tuple[str, ...]
    feature_names: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[tuple[float, ...], ...]
    intercept: tuple[float, ...]
    meta: dict = field(default_factory=dict)
    reference_cases: tuple[dict, ...] = ()

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

    def predict_proba(self, X) -> np.ndarray:
        """Vectorised (n, n_classes) probabilities, for evaluation (imports numpy)."""
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

    def nearest_cases(self, x: Sequence[float], k: int = 3) -> list[dict]:
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

    def to_dict(self) -> dict:
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
        if tuple(m.feature_names) != FEATURE_NAMES or tuple(m.classes) != CLASSES:
            raise ConfigError("scorer coefficients: features or classes differ from this ftrag")
        if (
            len(m.coef) != d
            or any(len(r) != k for r in m.coef)
            or len(m.mean) != d
            or len(m.scale) != d
            or len(m.intercept) != k
            or any(len(c.features) != d for c in m.reference_cases)
        ):
            raise ConfigError("scorer coefficients: array shapes do not match")
        if any(not math.isfinite(v) for v in (*m.mean, *m.intercept, *sum(m.coef, []))) or any(
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
    meta: dict = {}
    reference_cases: list[_RefCase] = []


def fit_linear_model(
    X: np.ndarray,
    y: Iterable[str],
    sample_weight: np.ndarray | None = None,
    C: float = DEFAULT_C,
    meta: dict | None = None,
) -> LinearModel:
    """Standardise, then fit. Classes are always all three strategies, in a fixed order."""
    import numpy as np

    X = np.asarray(X, dtype=float)
    labels = np.asarray([CLASSES.index(v) for v in y])
    w = np.ones(len(labels)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 1e-12] = 1.0  # a constant feature carries no signal; keep it at z=0
    coef, intercept, n_iter = fit_multinomial((X - mean) / scale, labels, len(CLASSES), C, w)
    return LinearModel(
        classes=CLASSES,
        feature_names=FEATURE_NAMES,
        mean=tuple(mean.tolist()),
        scale=tuple(scale.tolist()),
        coef=tuple(tuple(r) for r in coef.tolist()),
        intercept=tuple(intercept.tolist()),
        meta={**(meta or {}), "n_iter": n_iter},
    )


# --- the scikit-learn estimator (defined lazily: scikit-learn costs ~2 s to import) -----------


def _define_estimator() -> type:
    import numpy as np
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.utils.validation import check_array, check_is_fitted, check_X_y

    class StrategyScorer(ClassifierMixin, BaseEstimator):
        """Multinomial L2 logistic regression on standardized features.

        Parameters are stored untouched in `__init__`; everything learnt ends in `_`.
        """

        def __init__(self, C: float = DEFAULT_C, max_iter: int = 100):
            self.C = C
            self.max_iter = max_iter

        def fit(self, X, y, sample_weight=None):
            X, y = check_X_y(X, y, dtype=float)
            if self.C <= 0:
                raise ValueError(f"`C` must be positive, got {self.C}")
            self.classes_ = np.unique(y)
            if len(self.classes_) < 2:
                raise ValueError(f"need at least 2 classes to fit, got {list(self.classes_)}")
            labels = np.searchsorted(self.classes_, y)
            w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
            self.mean_ = X.mean(axis=0)
            scale = X.std(axis=0)
            scale[scale < 1e-12] = 1.0
            self.scale_ = scale
            coef, intercept, self.n_iter_ = fit_multinomial(
                (X - self.mean_) / self.scale_, labels, len(self.classes_), self.C, w, self.max_iter
            )
            self.coef_ = coef.T  # scikit-learn layout: (n_classes, n_features)
            self.intercept_ = intercept
            self.n_features_in_ = X.shape[1]
            return self

        def _z(self, X):
            check_is_fitted(self)
            X = check_array(X, dtype=float)
            if X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {X.shape[1]} features, but StrategyScorer was fitted with "
                    f"{self.n_features_in_}"
                )
            return (X - self.mean_) / self.scale_

        def decision_function(self, X):
            return self._z(X) @ self.coef_.T + self.intercept_

        def predict_proba(self, X):
            check_is_fitted(self)
            return _softmax(self.decision_function(X))

        def predict(self, X):
            check_is_fitted(self)
            return self.classes_[np.argmax(self.decision_function(X), axis=1)]

        def contributions(self, X):
            """(n_samples, n_classes, n_features): centred coef * standardized feature."""
            z = self._z(X)
            centred = self.coef_ - self.coef_.mean(axis=0, keepdims=True)
            return z[:, None, :] * centred[None, :, :]

    StrategyScorer.__module__ = __name__
    StrategyScorer.__qualname__ = "StrategyScorer"
    return StrategyScorer


def __getattr__(name: str):  # PEP 562: `from advisor.scorer import StrategyScorer` stays cheap
    if name == "StrategyScorer":
        cls = _define_estimator()
        globals()["StrategyScorer"] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- case library -----------------------------------------------------------------------------

SourceType = Literal["vendor_guide", "paper", "case_study", "documented_reasoning", "synthetic"]


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    type: SourceType
    citation: str = Field(min_length=3, max_length=400)
    url: str | None = Field(default=None, pattern=r"^https?://")


class Case(BaseModel):
    """One labelled use case: a full profile, the strategy that fits it, and why."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=True)
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$", max_length=80)
    profile: Profile
    strategy: str
    justification: str = Field(min_length=10, max_length=400)
    source: Source

    @field_validator("strategy")
    @classmethod
    def _known_strategy(cls, v: str) -> str:
        if v not in STRATEGIES:
            raise ValueError(f"must be one of {', '.join(STRATEGIES.values())}, got {v!r}")
        return v

    @property
    def synthetic(self) -> bool:
        return self.source.type == "synthetic"


def parse_cases(raw: Any, source: str) -> list[Case]:
    if not isinstance(raw, dict) or not isinstance(raw.get("cases"), list):
        raise ConfigError(f"{source}: expected a mapping with a `cases` list")
    cases, problems = [], []
    for i, item in enumerate(raw["cases"]):
        cid = item.get("id", f"#{i}") if isinstance(item, dict) else f"#{i}"
        try:
            cases.append(Case.model_validate(item))
        except ValidationError as e:
            problems += [f"{source}: case `{cid}`: {line}" for line in format_validation_error(e)]
    if problems:
        raise ConfigError("; ".join(problems), problems)
    return cases


def _case_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.yaml") if p.is_file())


def library_fingerprint(directory: Path = CASES_DIR) -> str:
    """SHA-256 over the case files, so a stored model can tell it is stale."""
    h = hashlib.sha256()
    for p in _case_files(directory):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


@functools.cache
def _load_cases_cached(directory: str, fingerprint: str) -> tuple[Case, ...]:
    cases: list[Case] = []
    for p in _case_files(Path(directory)):
        try:
            raw = yaml.load(p.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
        except (OSError, yaml.YAMLError) as e:
            raise ConfigError(f"{p}: cannot read cases ({e})") from None
        cases += parse_cases(raw, str(p))
    ids = [c.id for c in cases]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ConfigError(f"{directory}: duplicate case ids: {', '.join(dupes)}")
    return tuple(cases)


def load_cases(directory: str | Path = CASES_DIR) -> list[Case]:
    d = Path(directory)
    return list(_load_cases_cached(str(d), library_fingerprint(d)))


# --- training data: cases + feedback ----------------------------------------------------------


@dataclass(frozen=True)
class TrainingSet:
    X: Any  # np.ndarray (n, n_features)
    y: list[str]
    weight: Any  # np.ndarray (n,)
    n_cases: int
    n_synthetic: int
    n_feedback: int
    skipped_feedback: int


def feedback_examples(rows: Iterable[Mapping[str, Any]]) -> tuple[list[tuple], int]:
    """(profile, label, weight) from store rows; rows that teach nothing or are invalid are
    skipped and counted. A 1-5 rating scales the weight (5 = full weight)."""
    out, skipped = [], 0
    for r in rows:
        weight = OUTCOME_WEIGHT.get(r.get("outcome"), 0.0)
        rating = r.get("rating")
        if isinstance(rating, int | float) and 1 <= rating <= 5:
            weight *= rating / 5
        if weight <= 0 or r.get("chosen_strategy") not in CLASSES:
            skipped += 1
            continue
        try:
            profile = Profile.model_validate(r.get("profile"))
        except ValidationError:
            skipped += 1
            continue
        out.append((profile, r["chosen_strategy"], weight))
    return out, skipped


def training_set(cases: Iterable[Case], feedback: Iterable[Mapping[str, Any]] = ()) -> TrainingSet:
    import numpy as np

    cases = list(cases)
    fb, skipped = feedback_examples(feedback)
    profiles = [c.profile for c in cases] + [p for p, _, _ in fb]
    y = [c.strategy for c in cases] + [s for _, s, _ in fb]
    w = [SYNTHETIC_WEIGHT if c.synthetic else 1.0 for c in cases] + [wt for _, _, wt in fb]
    return TrainingSet(
        X=featurize_many(profiles),
        y=[str(s) for s in y],
        weight=np.asarray(w, dtype=float),
        n_cases=len(cases),
        n_synthetic=sum(c.synthetic for c in cases),
        n_feedback=len(fb),
        skipped_feedback=skipped,
    )


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
            "features": featurize(c.profile),
        }
        for c in cases
        if not c.synthetic
    )
    return LinearModel(**{**model.__dict__, "reference_cases": refs})


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


@functools.cache
def _default_model(fingerprint: str) -> LinearModel:
    cached = cache_dir() / f"advisor_scorer-{fingerprint[:16]}.json"
    if cached.is_file():
        try:
            model = load_model_file(cached)
            if model.meta.get("cases_sha256") == fingerprint:
                return model
        except ConfigError:
            pass  # a corrupt or foreign cache file is simply refit and overwritten
    model = train_model(load_cases())
    model = LinearModel(**{**model.__dict__, "meta": {**model.meta, "cases_sha256": fingerprint}})
    with contextlib.suppress(OSError):  # a read-only cache only costs the refit next time
        save_model_file(model, cached)
    return model


def default_model(model_path: str | Path | None = None) -> LinearModel:
    """The scorer `recommend` uses: a retrained JSON model when one exists and was trained on the
    current case library; else the case-library fit (cached in-process and as JSON)."""
    fingerprint = library_fingerprint()
    if model_path is not None and Path(model_path).is_file():
        model = load_model_file(model_path)
        if model.meta.get("cases_sha256") == fingerprint:
            return model
    return _default_model(fingerprint)
