"""Rules engine: rules are rows in `data/rules.yaml`, not `if` statements.

A rule is an id, a condition on profile fields, an effect on each strategy's score, the one
sentence a report prints, and the principle and citation it comes from. Adding a rule means
adding a row. Conditions are a small declarative language, never `eval()`:

    {field: knowledge_update_frequency, op: ">=", value: weekly}   # a leaf
    {all: [cond, ...]}   {any: [cond, ...]}   {not: cond}           # combinators

Ops: == != < <= > >= in not_in exists. Ordered enums (update frequency, traceability, style,
maturity) compare by position in the order the profile schema defines, so `>= weekly` means
weekly, daily or realtime. Numbers compare as numbers. The file is validated once, at load,
and every problem is reported with the rule id and the field it is in.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from advisor.features import ORDINALS
from core.errors import ConfigError
from core.profile import Profile
from core.recommendation import FiredRule
from core.registry import STRATEGIES

# libyaml's C loader when present: same safe subset, ~10x faster than the pure-Python one.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
RULES_PATH = Path(__file__).resolve().parent.parent / "data" / "rules.yaml"

# Ordered enum fields (ORDINALS) compare by position; other enums compare by equality only.
ORDER_OPS = {"<", "<=", ">", ">="}
OPS = {"==", "!=", "in", "not_in", "exists"} | ORDER_OPS


@functools.cache
def _schema() -> dict[str, Any]:
    return Profile.model_json_schema()


def _field_kind(name: str) -> str:
    """'ordinal', 'enum', 'number', 'bool' or 'text', from the Profile schema itself."""
    if name in ORDINALS:
        return "ordinal"
    info = _schema()["properties"][name]
    types = {t.get("type") for t in info.get("anyOf", [info])} | {info.get("type")}
    if "$ref" in info or "enum" in info:
        return "enum"
    if types & {"integer", "number"}:
        return "number"
    if "boolean" in types:
        return "bool"
    return "text"


@functools.cache
def _enum_values(name: str) -> list[str] | None:
    schema = _schema()
    ref = schema["properties"][name].get("$ref")
    return schema["$defs"][ref.split("/")[-1]]["enum"] if ref else None


class Leaf(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    field: str
    op: Literal["==", "!=", "<", "<=", ">", ">=", "in", "not_in", "exists"]
    value: Any

    def check(self) -> None:
        """Semantic checks pydantic cannot express: the field exists, the value fits it."""
        if self.field not in Profile.model_fields:
            raise ValueError(f"unknown profile field {self.field!r}")
        kind = _field_kind(self.field)
        if self.op == "exists":
            if not isinstance(self.value, bool):
                raise ValueError(f"`exists` takes true or false, got {self.value!r}")
            return
        values = self.value if self.op in ("in", "not_in") else [self.value]
        if self.op in ("in", "not_in") and not isinstance(self.value, list):
            raise ValueError(f"`{self.op}` needs a list value, got {self.value!r}")
        if self.op in ORDER_OPS and kind not in ("ordinal", "number"):
            raise ValueError(f"`{self.op}` needs an ordered field; {self.field} is {kind}")
        allowed = ORDINALS.get(self.field) or _enum_values(self.field)
        for v in values:
            if allowed is not None and v not in allowed:
                raise ValueError(f"{self.field} has no value {v!r} (allowed: {allowed})")
            if kind == "number" and (isinstance(v, bool) or not isinstance(v, int | float)):
                raise ValueError(f"{self.field} is a number, got {v!r}")
            if kind == "bool" and not isinstance(v, bool):
                raise ValueError(f"{self.field} is true/false, got {v!r}")

    def matches(self, p: Mapping[str, Any]) -> bool:
        x = p.get(self.field)
        if self.op == "exists":
            return bool((x is not None) == self.value)
        if x is None:  # an optional field left unset satisfies no comparison
            return False
        order = ORDINALS.get(self.field)
        key = order.index if order else (lambda v: v)
        if self.op == "in":
            return x in self.value
        if self.op == "not_in":
            return x not in self.value
        a, b = key(x), key(self.value)
        return {
            "==": a == b,
            "!=": a != b,
            "<": a < b,
            "<=": a <= b,
            ">": a > b,
            ">=": a >= b,
        }[self.op]

    def describe(self) -> str:
        return f"{self.field} {self.op} {self.value}"


@dataclass(frozen=True)
class Combo:
    kind: Literal["all", "any", "not"]
    parts: tuple[Condition, ...]

    def matches(self, p: Mapping[str, Any]) -> bool:
        hits = (c.matches(p) for c in self.parts)
        if self.kind == "all":
            return all(hits)
        if self.kind == "any":
            return any(hits)
        return not next(hits)

    def describe(self) -> str:
        if self.kind == "not":
            return f"not ({self.parts[0].describe()})"
        return f" {self.kind.replace('all', 'and').replace('any', 'or')} ".join(
            f"({c.describe()})" for c in self.parts
        )


Condition = Leaf | Combo
COMBINATORS: tuple[Literal["all", "any", "not"], ...] = ("all", "any", "not")


def parse_condition(raw: Any, path: str = "when") -> Condition:
    """Parse one condition; a ValueError names the path inside the condition that is wrong."""
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a mapping, got {type(raw).__name__}")
    combos = [k for k in COMBINATORS if k in raw]
    if combos:
        if len(raw) != 1:
            raise ValueError(f"{path}: `{combos[0]}` must be the only key, got {sorted(raw)}")
        kind = combos[0]
        if kind == "not":
            return Combo("not", (parse_condition(raw["not"], f"{path}.not"),))
        items = raw[kind]
        if not isinstance(items, list) or not items:
            raise ValueError(f"{path}.{kind}: expected a non-empty list of conditions")
        return Combo(
            kind, tuple(parse_condition(c, f"{path}.{kind}[{i}]") for i, c in enumerate(items))
        )
    try:
        leaf = Leaf.model_validate(raw)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise ValueError(f"{path}.{where}: {err['msg'].lower()}") from None
    try:
        leaf.check()
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
    return leaf


def _registered(strategy: str) -> str:
    """A rule may only score strategies in `core.registry.STRATEGIES` (checked at load)."""
    if strategy not in STRATEGIES:
        known = ", ".join(STRATEGIES.values())
        raise ValueError(f"unknown key: {strategy!r} is not a registered strategy (known: {known})")
    return strategy


# Points added to each strategy's rule score when the rule fires; a strategy left out gets 0.
# +-5 bounds one rule: the file's scale is 2 for a strong reason, 0.5 for a tie-breaker.
Effect = dict[Annotated[str, AfterValidator(_registered)], Annotated[float, Field(ge=-5, le=5)]]


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)
    when: Any
    effect: Effect
    sentence: str = Field(min_length=10, max_length=300)
    principle: str = Field(min_length=5, max_length=300)
    citation: str = Field(min_length=3, max_length=300)
    url: str | None = None
    # As for cases: a checked rule quotes the sentence that supports it; an unchecked one says
    # why in `note`. Optional, so a minimal rule file (tests, a user's own) still loads.
    verified: bool | None = None
    quote: str | None = Field(default=None, min_length=10, max_length=800)
    note: str | None = Field(default=None, min_length=5, max_length=400)

    @model_validator(mode="after")
    def _checkable(self) -> Rule:
        if self.verified and not self.quote:
            raise ValueError("`verified: true` needs the supporting `quote`")
        if self.verified is False and not self.note:
            raise ValueError("`verified: false` needs a `note` saying why")
        if "REFERENCES.md" in self.citation:
            raise ValueError("cite the primary source, not REFERENCES.md")
        return self

    @field_validator("when")
    @classmethod
    def _parse_when(cls, v: Any) -> Condition:
        return parse_condition(v)

    def fires(self, profile: Mapping[str, Any]) -> bool:
        return bool(self.when.matches(profile))


class RuleBook(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    version: int = 1
    rules: list[Rule] = Field(min_length=1)

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: list[Rule]) -> list[Rule]:
        seen: set[str] = set()
        for r in rules:
            if r.id in seen:
                raise ValueError(f"rule `{r.id}`: duplicate id")
            seen.add(r.id)
        return rules


def _error_lines(err: ValidationError, raw: Any, source: str) -> list[str]:
    """One line per problem, naming the rule id (not just its index) and the field."""
    lines = []
    rules = raw.get("rules") if isinstance(raw, dict) else None
    for e in err.errors():
        loc = [x for x in e["loc"] if x != "[key]"]  # a bad mapping key: name the key itself
        where = ".".join(str(x) for x in loc) or "(file)"
        if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int) and rules:
            item = rules[loc[1]] if loc[1] < len(rules) else {}
            rid = item.get("id", f"#{loc[1]}") if isinstance(item, dict) else f"#{loc[1]}"
            where = f"rule `{rid}`: " + (".".join(str(x) for x in loc[2:]) or "(rule)")
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        elif e["type"] == "missing":
            msg = "required key is missing"
        lines.append(f"{source}: {where}: {msg}")
    return lines


def parse_rules(raw: Any, source: str = "rules") -> RuleBook:
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping with a `rules` list")
    try:
        return RuleBook.model_validate(raw)
    except ValidationError as e:
        lines = _error_lines(e, raw, source)
        raise ConfigError("; ".join(lines), lines) from None


@functools.cache
def _load_cached(path: str, mtime: float) -> RuleBook:
    try:
        raw = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"{path}: cannot read rules ({e})") from None
    return parse_rules(raw, path)


def load_rules(path: str | Path = RULES_PATH) -> RuleBook:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: rules file not found")
    return _load_cached(str(p), p.stat().st_mtime)


def _as_mapping(profile: Profile | Mapping[str, Any]) -> Mapping[str, Any]:
    return profile.model_dump() if isinstance(profile, Profile) else profile


def fired_rules(
    profile: Profile | Mapping[str, Any], book: RuleBook | None = None
) -> list[FiredRule]:
    book = book or load_rules()
    p = _as_mapping(profile)
    return [
        FiredRule(
            id=r.id,
            sentence=r.sentence,
            effect={s: r.effect.get(s, 0.0) for s in STRATEGIES.values()},
            principle=r.principle,
            citation=r.citation,
            condition=r.when.describe(),
            url=r.url,
        )
        for r in book.rules
        if r.fires(p)
    ]


def rule_scores(fired: list[FiredRule]) -> dict[str, float]:
    """Sum of the fired rules' effects per registered strategy; 0 for all when nothing fires."""
    return {s: round(sum(f.effect.get(s, 0.0) for f in fired), 6) for s in STRATEGIES.values()}


def rules_pick(scores: Mapping[str, float]) -> str:
    """The registered strategy with the most rule points; ties go to the lowest
    `StrategySpec.tie_rank` (RAG, then hybrid, then fine-tuning: see core.registry)."""
    return max(STRATEGIES, key=lambda s: (scores.get(s.value, 0.0), -s.tie_rank)).value
