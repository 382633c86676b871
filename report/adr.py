"""The decision as an Architecture Decision Record in the MADR layout (adr/madr, template 4.0:
front matter, context and problem statement, decision drivers, considered options, decision
outcome with consequences and confirmation, pros and cons of the options, more information).

Every figure comes from the Decision: the fired rules and their citations, the similar cases,
the simulated cost over the horizon (infrastructure and people apart), freshness and latency,
and the measured prototype numbers when a run is attached. Nothing is recomputed except sums
and picks over the simulation rows, as in the report.
"""

from __future__ import annotations

from typing import Any

from core.decision import Decision
from core.inputs import input_label
from core.profile import FIELD_LABELS
from core.registry import ROWS, STRATEGIES
from core.simulation import SimulationResult, component_kind
from report.sections.feasibility import verdict
from report.sections.prototype import METRIC_COLUMNS, ordered_results, row_name
from report.sections.simulation import component_totals
from report.text import FORMATTERS, NA, day_of, in_order, max_of, num, pct, url_text, usd

# MADR 4.0 section headings, in template order (checked against github:adr/madr,
# template/adr-template.md): the ADR test asserts each one is present.
MADR_HEADINGS = (
    "## Context and Problem Statement",
    "## Decision Drivers",
    "## Considered Options",
    "## Decision Outcome",
    "### Consequences",
    "### Confirmation",
    "## Pros and Cons of the Options",
    "## More Information",
)
label = STRATEGIES.label
# The prototype metrics an ADR quotes per strategy: answer quality and freshness first.
ADR_METRICS = ("accuracy", "accuracy_paraphrased", "accuracy_updated", "format_compliance")


def _line(text: Any) -> str:
    """One bullet's text: whitespace folded, so a value never breaks the list."""
    return " ".join(str(text).split())


def _clause(sentence: Any) -> str:
    """A sentence as the clause after "because": first letter lower-cased unless an acronym."""
    t = _line(sentence)
    return t[0].lower() + t[1:] if len(t) > 1 and t[1].islower() else t


def _cite(citation: str, url: Any = None) -> str:
    where = url_text(url)
    return f"{citation} ({where})" if where and where not in citation else citation


class _Sim:
    """The simulation figures one ADR quotes, per strategy."""

    def __init__(self, sim: SimulationResult) -> None:
        self.sim = sim
        by = sim.rows_by_strategy()
        self.order = in_order(by, STRATEGIES)
        cost, stale = sim.central("cumulative_cost_usd"), sim.central("stale_fraction")
        self.total = {s: by[s][-1].get(cost) for s in self.order}
        self.low = {s: by[s][-1].get("cumulative_cost_usd_p10") for s in self.order}
        self.high = {s: by[s][-1].get("cumulative_cost_usd_p90") for s in self.order}
        self.stale = {s: max_of(r.get(stale) for r in by[s]) for s in self.order}
        parts = component_totals(sim)
        self.has_people = any(component_kind(c) == "people" for c in sim.component_columns())
        self.people = {
            s: sum(v for c, v in parts[s].items() if component_kind(c) == "people")
            for s in self.order
        }
        self.infra = {s: sum(parts[s].values()) - self.people[s] for s in self.order}

    def cost_sentence(self, s: str) -> str:
        band = ""
        if self.low[s] is not None and self.high[s] is not None:
            band = f" (P10-P90 {usd(self.low[s])}-{usd(self.high[s])})"
        if not self.has_people:  # a decision made before people costs were counted
            return f"{usd(self.total[s])} over {self.sim.months} months{band}, infrastructure only"
        return (
            f"{usd(self.total[s])} over {self.sim.months} months{band}; at central inputs "
            f"{usd(self.infra[s])} infrastructure + {usd(self.people[s])} people and data"
        )

    def cheapest(self) -> str | None:
        known = [s for s in self.order if isinstance(self.total[s], int | float)]
        return min(known, key=lambda s: self.total[s]) if known else None


def _prototype_rows(decision: Decision) -> dict[str, list[str]]:
    """strategy -> one sentence per measured prototype row of it (and the base floor)."""
    out: dict[str, list[str]] = {}
    run = decision.prototype
    if not run or not run.results:
        return out
    for r in ordered_results(run):
        spec = ROWS.get(r.strategy) if r.strategy in ROWS else None
        strategy = spec.strategy if spec else None
        figures = []
        for k in ADR_METRICS:
            if k in r.metrics and r.metrics[k] is not None:
                name, kind = METRIC_COLUMNS.get(k, (k, "pct"))
                figures.append(f"{name.lower()} {FORMATTERS[kind](r.metrics[k])}")
        if figures:
            out.setdefault(strategy or "base", []).append(f"{row_name(r)}: {', '.join(figures)}")
    return out


def _pros_cons(decision: Decision, s: str, sim: _Sim | None, measured: list[str]) -> list[str]:
    rec = decision.recommendation
    items: list[str] = []
    for r in sorted(rec.rules, key=lambda r: -abs(r.effect.get(s, 0.0))):
        e = r.effect.get(s, 0.0)
        if e:
            kind = "Good" if e > 0 else "Bad"
            items.append(
                f"{kind}, because {_line(r.sentence)} [{r.id}: {_cite(r.citation, r.url)}]"
            )
    if sim:
        cheapest = sim.cheapest()
        cost = sim.cost_sentence(s)
        if s == cheapest:
            items.append(f"Good, because it is the cheapest option: {cost}")
        elif cheapest is not None and isinstance(sim.total[s], int | float):
            more = sim.total[s] - sim.total[cheapest]
            items.append(f"Bad, because it costs {usd(more)} more than {label(cheapest)}: {cost}")
        stale = sim.stale[s]
        if stale is not None:
            kind = "Good" if stale <= 0.05 else ("Neutral" if stale <= 0.2 else "Bad")
            items.append(f"{kind}, because at most {pct(stale, 0)} of the knowledge is stale")
        lat = sim.sim.latency.get(s)
        if lat and lat.meets_budget is not None:
            kind = "Good" if lat.meets_budget else "Bad"
            verb = "meets" if lat.meets_budget else "misses"
            items.append(
                f"{kind}, because its estimated p95 latency {num(round(lat.p95_ms or 0))} ms "
                f"{verb} the {num(lat.budget_ms)} ms budget"
            )
    for m in measured:
        items.append(f"Neutral, because the prototype measured {m}")
    return items


def _drivers(decision: Decision) -> list[str]:
    p = decision.profile
    keys = (
        "knowledge_update_frequency",
        "traceability",
        "style_consistency",
        "structured_output",
        "labeled_examples",
        "queries_per_month",
        "latency_budget_ms",
        "monthly_budget_usd",
        "deployment",
        "ml_maturity",
    )
    out = [
        f"{FIELD_LABELS.get(k, k)}: {num(p[k]).replace('_', ' ')}"
        for k in keys
        if p.get(k) is not None
    ]
    rules = sorted(
        decision.recommendation.rules, key=lambda r: -max(abs(v) for v in r.effect.values() or [0])
    )
    out += [f"{_line(r.sentence)} [{r.id}]" for r in rules[:6]]
    return out


def adr_context(decision: Decision) -> dict[str, Any]:
    """Everything the ADR template prints, formatted once."""
    rec, p = decision.recommendation, decision.profile
    v = verdict(decision)
    chosen = v["strategy"]
    sim = _Sim(decision.simulation) if decision.simulation else None
    measured = _prototype_rows(decision)
    options = [s for s in STRATEGIES.values() if s in rec.scores or (sim and s in sim.order)]
    day = day_of(decision.created_at)
    info = rec.confidence_info
    because = [
        f"the advisor gives it {v['score_name']} {v['confidence']} "
        f"({', '.join(f'{label(s)} {pct(rec.scores.get(s), 0)}' for s in options)})"
    ]
    if info and info.meaning:
        because.append(_line(info.meaning))
    if sim:
        because.append(f"its simulated cost is {sim.cost_sentence(chosen)}")
    consequences = [c for c in _pros_cons(decision, chosen, sim, []) if not c.startswith("Neutral")]
    if v["warnings"]:
        consequences += [f"Bad, because {_clause(w)}" for w in v["warnings"]]
    if rec.disagreement:
        consequences.append(f"Neutral, because {_clause(rec.disagreement.sentence)}")
    old = decision.simulation.old_prices(day) if decision.simulation and day else []
    if measured.get(chosen):
        confirmation = (
            "The prototype attached to this decision measured, on corpus "
            f"{_line(decision.prototype.results[0].meta.get('corpus', NA))}: "  # type: ignore[union-attr]
            + "; ".join(measured[chosen])
            + ". Confirm by re-running `ftrag prototype --strategy all` on the team's own "
            "documents and golden set before launch, and re-run this decision when the profile "
            "changes."
        )
    else:
        confirmation = (
            "No prototype run is attached. Confirm with `ftrag prototype --strategy all --corpus "
            "DIR --format json > run.json` on the team's own documents, then `ftrag report "
            "PROFILE --prototype run.json --format adr`."
        )
    more = []
    for r in rec.rules:
        more.append(f"Rule {r.id}: {_line(r.sentence)} Source: {_cite(r.citation, r.url)}.")
    for c in rec.similar_cases[:5]:
        more.append(
            f"Similar case {c.id} ({label(c.strategy)}): {_line(c.justification)} "
            f"Source: {_line(c.citation)}."
        )
    for cf in rec.counterfactuals:
        more.append(f"What would change the answer ({label(cf.target)}): {_line(cf.sentence)}")
    if decision.simulation:
        s = decision.simulation
        a = s.assumptions.values
        more.append(
            f"Simulation: {s.months} months, {num(s.draws or 0)} Monte Carlo draws, seed "
            f"{s.seed}; generator {a.get('generator_model', NA)}, fine-tuning priced on "
            f"{a.get('fine_tuning_model', a.get('generator_model', NA))}, embeddings "
            f"{a.get('embedding_model', NA)}, vector store {a.get('vector_store', NA)}."
        )
        for o in s.overrides:
            more.append(f"Overridden: {input_label(o.key)} = {num(o.new)} ({o.origin}).")
        if old:
            more.append(
                "Prices over six months old on the decision's date: "
                + "; ".join(o.sentence() for o in old)
                + "."
            )
    if measured.get("base"):
        more.append("Prototype floor (no retrieval, no training): " + "; ".join(measured["base"]))
    return {
        "date": day.isoformat() if day else decision.created_at,
        "title": f"Use {STRATEGIES.get(chosen).phrase} for {_line(p.get('name', 'this use case'))}",
        "version": decision.versions.get("ftrag", "?"),
        "context": (
            f"{_line(p.get('name', 'The use case'))} is a "
            f"{str(p.get('task', '')).replace('_', ' ')} "
            f"use case whose knowledge ({num(p.get('knowledge_base_tokens'))} tokens) changes "
            f"{p.get('knowledge_update_frequency', NA)}, with {num(p.get('labeled_examples'))} "
            f"labelled examples and {num(p.get('queries_per_month'))} queries a month, deployed "
            f"on {str(p.get('deployment', NA)).replace('_', ' ')}."
        ),
        "question": (
            "Should it fine-tune a language model, retrieve its knowledge at run time (RAG), "
            "or combine both, given what each costs over time, how fresh each stays, and what "
            "each measured on a prototype?"
        ),
        "drivers": _drivers(decision),
        "options": [label(s) for s in options],
        "chosen": label(chosen),
        "because": "; ".join(because),
        "changed": v["advisor_label"] if v["changed"] else None,
        "consequences": consequences,
        "confirmation": confirmation,
        "pros_cons": [
            (label(s), _pros_cons(decision, s, sim, measured.get(s, []))) for s in options
        ],
        "more": more,
    }
