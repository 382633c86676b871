"""Recommendation: the typed value `advisor.recommend` returns and a Decision carries.

`from_dict` is the one place that reads older JSON spellings (`effects` for `effect`, a
disagreement given as a plain string or under `note` / `message` / `text`), so every reader
downstream sees one shape and reads attributes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from core.profile import LEVEL_ORDER, UPDATE_ORDER, Traceability, field_label


def _float_map(d: Any) -> dict[str, float]:
    return {str(k): float(v) for k, v in (d or {}).items() if isinstance(v, int | float)}


@dataclass(frozen=True)
class FiredRule:
    id: str
    sentence: str
    effect: dict[str, float]  # strategy -> points
    principle: str
    citation: str
    condition: str = ""
    url: str | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FiredRule:
        return cls(
            id=str(d.get("id", "")),
            sentence=" ".join(str(d.get("sentence", "")).split()),
            effect=_float_map(d.get("effect") or d.get("effects")),
            principle=str(d.get("principle") or ""),
            citation=str(d.get("citation") or ""),
            condition=str(d.get("condition") or ""),
            url=d.get("url") or None,
        )


@dataclass(frozen=True)
class Disagreement:
    rules_pick: str | None
    learned_pick: str | None
    sentence: str

    @classmethod
    def from_any(cls, d: Any) -> Disagreement | None:
        if not d:
            return None
        if isinstance(d, str):
            return cls(None, None, d)
        if isinstance(d, Mapping):
            text = next(
                (str(d[k]) for k in ("sentence", "note", "message", "text") if d.get(k)), ""
            )
            return cls(
                d.get("rules_pick"),
                d.get("learned_pick"),
                text or "The rules and the learned scorer disagree on the best strategy.",
            )
        return cls(None, None, "The rules and the learned scorer disagree on the best strategy.")


# --- the learned scorer's features, in plain words ------------------------------------------
# `advisor.features.FEATURE_NAMES` encodes a profile as ordinals, log10 sizes and one-hots; a
# contribution names its feature by that key. These say what each key means on screen and in
# a report (tests check every feature has one); the report cannot import the advisor.
_FEATURE_FIELDS = {  # feature -> (profile field, how the value is coded)
    "update_frequency": ("knowledge_update_frequency", UPDATE_ORDER),
    "traceability": ("traceability", [t.value for t in Traceability]),
    "style_consistency": ("style_consistency", LEVEL_ORDER),
    "ml_maturity": ("ml_maturity", LEVEL_ORDER),
    "structured_output": ("structured_output", "flag"),
    "access_control": ("access_control", "flag"),
    "log10_latency_ms": ("latency_budget_ms", "log10"),
    "log10_knowledge_tokens": ("knowledge_base_tokens", "log10+1"),
    "log10_labeled_examples": ("labeled_examples", "log10+1"),
    "log10_queries_per_month": ("queries_per_month", "log10+1"),
}


def feature_label(name: str) -> str:
    """`log10_labeled_examples` -> "Labelled examples"; `task=code_assistant` -> "Task is code
    assistant"; an unknown feature prints in plain words."""
    field, eq, value = name.partition("=")
    if eq:
        return f"{field_label(field)} is {value.replace('_', ' ')}"
    if name in _FEATURE_FIELDS:
        return field_label(_FEATURE_FIELDS[name][0])
    return name.replace("_", " ")


def feature_value(name: str, value: float | None) -> str:
    """The profile's own value behind a coded feature: "required", "1,500", "yes"."""
    if value is None:
        return "n/a"
    coding = "flag" if "=" in name else _FEATURE_FIELDS.get(name, (None, None))[1]
    if coding == "flag":
        return "yes" if value else "no"
    if isinstance(coding, list) and float(value).is_integer() and 0 <= value < len(coding):
        return coding[int(value)].replace("_", " ")
    if coding in ("log10", "log10+1"):
        n = 10**value - (1 if coding == "log10+1" else 0)
        return f"{round(n):,}"
    return f"{value:.3g}"


def feature_answer(name: str, profile: Mapping[str, Any]) -> str:
    """The profile's answer behind a feature, in words: "weekly", "50,000", "yes"."""
    field, eq, value = name.partition("=")
    if eq:
        return "yes" if str(profile.get(field)) == value else "no"
    if name not in _FEATURE_FIELDS:
        return "n/a"
    v = profile.get(_FEATURE_FIELDS[name][0])
    if isinstance(v, bool) or v is None:
        return {True: "yes", False: "no", None: "n/a"}[v]
    return f"{v:,}" if isinstance(v, int | float) else str(v).replace("_", " ")


@dataclass(frozen=True)
class Contribution:
    feature: str
    value: float | None
    contribution: float
    direction: str  # "toward" | "against"

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Contribution:
        v = float(d.get("contribution") or 0.0)
        raw = d.get("value")
        return cls(
            feature=str(d.get("feature", "")),
            value=float(raw) if isinstance(raw, int | float) else None,
            contribution=v,
            direction=str(d.get("direction") or ("toward" if v > 0 else "against")),
        )


@dataclass(frozen=True)
class LearnedEvidence:
    probabilities: dict[str, float]
    pick: str | None
    top_contributions: list[Contribution]
    contributions: dict[str, dict[str, float]]  # strategy -> feature -> logit contribution
    model: dict[str, Any]  # n_cases, n_feedback, C, ...

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> LearnedEvidence:
        d = d or {}
        probs = _float_map(d.get("probabilities"))
        contribs = {str(s): _float_map(v) for s, v in (d.get("contributions") or {}).items()}
        top = [Contribution.from_dict(c) for c in d.get("top_contributions") or []]
        return cls(
            probabilities=probs,
            pick=d.get("pick") or (max(probs, key=probs.__getitem__) if probs else None),
            top_contributions=top,
            contributions=contribs,
            model=dict(d.get("model") or {}),
        )


@dataclass(frozen=True)
class SimilarCase:
    id: str
    strategy: str
    justification: str
    citation: str
    distance: float | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SimilarCase:
        dist = d.get("distance")
        return cls(
            id=str(d.get("id", "")),
            strategy=str(d.get("strategy", "")),
            justification=" ".join(str(d.get("justification", "")).split()),
            citation=str(d.get("citation", "")),
            distance=float(dist) if isinstance(dist, int | float) else None,
        )


@dataclass(frozen=True)
class ConfidenceInfo:
    """What the confidence means and why it is what it is (issue 17).

    `shown` is `Recommendation.confidence`: the method's top-class probability (`raw`),
    Platt-calibrated on source-grouped cross-validation (`calibrated`), pulled toward chance when
    a flag is up, and capped below 1 (`cap`). `reliability` holds the CV reliability bins
    (lo, hi, n, confidence, accuracy) behind `meaning`."""

    raw: float
    calibrated: float
    shown: float
    cap: float
    method: str
    meaning: str
    flags: list[str] = field(default_factory=list)
    disagree: bool = False
    far: bool = False
    nearest_distance: float | None = None
    far_distance: float | None = None
    reliability: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_dict(cls, d: Any) -> ConfidenceInfo | None:
        if not isinstance(d, Mapping) or "shown" not in d:
            return None

        def num(k: str) -> float | None:
            v = d.get(k)
            return float(v) if isinstance(v, int | float) else None

        return cls(
            raw=float(d.get("raw") or 0.0),
            calibrated=float(d.get("calibrated") or 0.0),
            shown=float(d["shown"]),
            cap=float(d.get("cap") or 1.0),
            method=str(d.get("method") or ""),
            meaning=str(d.get("meaning") or ""),
            flags=[str(f) for f in d.get("flags") or []],
            disagree=bool(d.get("disagree")),
            far=bool(d.get("far")),
            nearest_distance=num("nearest_distance"),
            far_distance=num("far_distance"),
            reliability=[dict(b) for b in d.get("reliability") or [] if isinstance(b, Mapping)],
        )


@dataclass(frozen=True)
class Change:
    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Counterfactual:
    """The smallest profile change found that flips the recommendation to `target`: fewest
    fields first, then the smallest ordinal distance. `changes` is empty when none was found
    within the search limits (`sentence` then says so)."""

    target: str
    changes: list[Change]
    sentence: str
    distance: float = 0.0
    probability: float | None = None  # the target's probability on the changed profile

    @property
    def found(self) -> bool:
        return bool(self.changes)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Counterfactual:
        return cls(
            target=str(d.get("target", "")),
            changes=[
                Change(str(c.get("field", "")), c.get("before"), c.get("after"))
                for c in d.get("changes") or []
                if isinstance(c, Mapping)
            ],
            sentence=str(d.get("sentence") or ""),
            distance=float(d.get("distance") or 0.0),
            probability=float(d["probability"])
            if isinstance(d.get("probability"), int | float)
            else None,
        )


@dataclass(frozen=True)
class Recommendation:
    strategy: str
    confidence: float
    scores: dict[str, float]  # blended probabilities
    rules: list[FiredRule]
    learned: LearnedEvidence
    rule_scores: dict[str, float]
    rules_pick: str | None
    disagreement: Disagreement | None
    similar_cases: list[SimilarCase] = field(default_factory=list)
    blend: dict[str, Any] = field(default_factory=dict)  # weight, temperature, method
    profile_name: str = ""
    confidence_info: ConfidenceInfo | None = None  # absent in decisions made before issue 17
    counterfactuals: list[Counterfactual] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for cf, src in zip(d["counterfactuals"], self.counterfactuals, strict=True):
            cf["found"] = src.found
        # a decision made before issue 17 round-trips byte for byte: no empty new keys
        for key in ("confidence_info", "counterfactuals"):
            if not d[key]:
                del d[key]
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Recommendation:
        rules = [FiredRule.from_dict(r) for r in d.get("rules") or [] if isinstance(r, Mapping)]
        rule_scores = _float_map(d.get("rule_scores"))
        if not rule_scores:  # older producers: add up the fired rules' effects
            for r in rules:
                for s, v in r.effect.items():
                    rule_scores[s] = rule_scores.get(s, 0.0) + v
        return cls(
            strategy=str(d["strategy"]),
            confidence=float(d["confidence"]),
            scores=_float_map(d.get("scores")),
            rules=rules,
            learned=LearnedEvidence.from_dict(d.get("learned")),
            rule_scores=rule_scores,
            rules_pick=d.get("rules_pick"),
            disagreement=Disagreement.from_any(d.get("disagreement")),
            similar_cases=[
                SimilarCase.from_dict(c)
                for c in d.get("similar_cases") or []
                if isinstance(c, Mapping)
            ],
            blend=dict(d.get("blend") or {}),
            profile_name=str(d.get("profile_name") or ""),
            confidence_info=ConfidenceInfo.from_dict(d.get("confidence_info")),
            counterfactuals=[
                Counterfactual.from_dict(c)
                for c in d.get("counterfactuals") or []
                if isinstance(c, Mapping)
            ],
        )
