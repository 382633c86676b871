"""The report's view model: one Decision -> sections of already-formatted tables and sentences.

Markdown, HTML and PDF all render this same context, so the three formats cannot disagree on a
number. Everything here is pure formatting of numbers that are already in the Decision; nothing
is recomputed except sums and picks over the simulation rows (horizon values, means, maxima).
Missing or null data prints as "n/a": a report never invents a figure.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.decision import STRATEGY_VALUES, Decision

LABELS = {
    "fine_tuning": "Fine-tuning",
    "rag": "RAG",
    "hybrid": "Hybrid (FT + RAG)",
    "base": "Closed-book base",
}
NA = "n/a"
MILESTONES = (1, 3, 6, 12, 24, 36, 60, 120, 240, 600)
PROTO_COLUMNS = (
    ("accuracy", "Accuracy", "pct"),
    ("accuracy_paraphrased", "Paraphrased", "pct"),
    ("accuracy_updated", "After update", "pct"),
    ("format_compliance", "Format", "pct"),
    ("source_accuracy", "Source", "pct"),
    ("latency_ms_p50", "p50 ms", "ms"),
    ("latency_ms_p95", "p95 ms", "ms"),
    ("build_seconds", "Build s", "sec"),
    ("prompt_tokens_mean", "Prompt tok", "int"),
    ("peak_rss_mb", "Peak RSS MB", "int"),
)
# Extra metrics the prototype may add beside METRIC_KEYS (EVAL_API.md).
EXTRA_TITLES = {"accuracy_updated_retrained": "After update, retrained"}
# Plain-language names for the price keys the simulator uses (prefix.field).
PRICE_FIELDS = {
    "input_per_mtok": "input, USD / 1M tokens",
    "output_per_mtok": "output, USD / 1M tokens",
    "cached_input_per_mtok": "cached input, USD / 1M tokens",
    "training_per_mtok": "training, USD / 1M tokens",
    "hosting_per_hour": "hosting, USD / hour",
    "usd_per_mtok": "USD / 1M tokens",
    "usd_per_hour": "USD / GPU-hour",
    "storage_per_gb_month": "storage, USD / GB-month",
    "read_per_munits": "reads, USD / 1M units",
    "write_per_munits": "writes, USD / 1M units",
    "monthly_minimum": "monthly minimum, USD",
    "fixed_monthly": "fixed, USD / month",
}

CAVEATS_ALWAYS = (
    "Costs are infrastructure only (tokens, training, embedding, vector store, GPU hours); "
    "engineering labour, evaluation and data curation are not included.",
    "Prices carry the as-of date printed beside them and can be stale; entries marked "
    "low-confidence come from secondary pages and are sampled across their range in the "
    "P10-P90 bands. Override any of them with --set prices.FILE.ENTRY.FIELD=VALUE.",
    "Expected accuracy starts from published 7B-model results (Ovadia et al. 2024, "
    "arXiv 2312.05934) unless a calibration file replaced them; treat it as a relative guide "
    "between strategies, not a forecast for your model.",
    "Latency is an estimate from typical component timings (embedding, search, time to first "
    "token, decode speed), several of them low-confidence; measure your own stack before "
    "committing to a budget.",
)
PROTOTYPE_CAN = (
    "RAG scoring far above the closed-book base on facts the model never saw.",
    "Fine-tuning memorising the trained questions but dropping on paraphrases, and "
    "paraphrase augmentation helping it.",
    "After a knowledge update, RAG answering from the new documents while the fine-tuned "
    "model stays stale (it is not retrained).",
    "Fine-tuning (and the hybrid) winning on output format and style compliance.",
)
PROTOTYPE_CANNOT = (
    "Absolute accuracy of a 7B+ production model: a 135M model's numbers will not match "
    "the papers, so read the gaps between strategies, not the levels.",
    "Production latency or throughput: CPU timings of a tiny model say nothing about a "
    "served GPU model or a cloud API.",
    "How the hybrid behaves at scale: FT+RAG helps small models but can hurt 7B+ ones "
    "(Soudani et al. 2024, arXiv 2403.01432), and it must be trained to read retrieved "
    "documents (RAFT, arXiv 2403.10131).",
    "Cost: the prototype measures build time on this machine, not a bill; the simulation "
    "above carries the cost argument.",
)


# --- formatting -------------------------------------------------------------------------------


def _num(x: Any) -> float | None:
    if isinstance(x, bool) or x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def usd(x: Any) -> str:
    v = _num(x)
    if v is None:
        return NA
    sign = "-" if v < 0 else ""
    v = abs(v)
    return f"{sign}${v:,.0f}" if v >= 100 else f"{sign}${v:,.2f}"


def pct(x: Any, digits: int = 1) -> str:
    v = _num(x)
    return NA if v is None else f"{v * 100:.{digits}f}%"


def num(x: Any) -> str:
    """General number: thousands separators, at most 4 significant digits after the point."""
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, str):
        return x
    v = _num(x)
    if v is None:
        return NA
    if v == int(v) and abs(v) < 1e15:
        return f"{int(v):,}"
    if abs(v) >= 100:
        return f"{v:,.1f}"
    return f"{v:.4g}"


def ms(x: Any) -> str:
    v = _num(x)
    return NA if v is None else f"{v:,.0f}"


def sec(x: Any) -> str:
    v = _num(x)
    return NA if v is None else (f"{v:,.1f}" if v >= 10 else f"{v:.2f}")


def integer(x: Any) -> str:
    v = _num(x)
    return NA if v is None else f"{v:,.0f}"


FORMATTERS = {"pct": pct, "ms": ms, "sec": sec, "int": integer, "usd": usd, "num": num}


def label(strategy: Any) -> str:
    return LABELS.get(str(strategy), str(strategy))


def band(lo: Any, hi: Any, fmt=usd) -> str:
    if _num(lo) is None or _num(hi) is None:
        return NA
    return f"{fmt(lo)} - {fmt(hi)}"


def display_date(iso: str) -> str:
    try:
        dt = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    tz = " UTC" if dt.utcoffset() is not None and dt.utcoffset().total_seconds() == 0 else ""
    return dt.strftime("%Y-%m-%d %H:%M") + tz


def url_text(url: Any) -> str:
    """Citation URLs print as text without the scheme: a reader can find the paper, and the
    HTML never links out (the report must work, and stay quiet, offline)."""
    if not url:
        return ""
    text = str(url)
    for scheme in ("https://", "http://"):
        text = text.removeprefix(scheme)
    return text


# --- structures the templates iterate ---------------------------------------------------------


@dataclass
class Table:
    """A table the templates print as is. `align` is "l" or "r" per column; `highlight` holds
    row indices to emphasise (the recommended strategy)."""

    id: str
    columns: list[str]
    rows: list[list[str]]
    align: list[str] = field(default_factory=list)
    caption: str = ""
    highlight: list[int] = field(default_factory=list)

    def __post_init__(self):
        if not self.align:
            self.align = ["l"] + ["r"] * (len(self.columns) - 1)


def _strategies(present: Iterable[str]) -> list[str]:
    """Canonical order first, anything unexpected after it."""
    present = list(dict.fromkeys(present))
    return [s for s in STRATEGY_VALUES if s in present] + [
        s for s in present if s not in STRATEGY_VALUES
    ]


# --- recommendation ---------------------------------------------------------------------------


def _effect_text(effect: Mapping[str, Any]) -> str:
    parts = []
    for s in _strategies(effect):
        v = _num(effect[s])
        if v:
            parts.append(f"{label(s).split(' ')[0]} {v:+g}")
    return ", ".join(parts) or "no change"


def _disagreement(rec: Mapping[str, Any]) -> str | None:
    d = rec.get("disagreement")
    if not d:
        return None
    if isinstance(d, str):
        return d
    if isinstance(d, Mapping):
        for key in ("note", "message", "sentence", "text"):
            if d.get(key):
                return str(d[key])
        parts = [
            f"{k}: {label(v) if k.endswith(('strategy', 'pick')) else v}"
            for k, v in d.items()
            if not isinstance(v, dict | list)
        ]
        return "; ".join(parts) or None
    return "The rules and the learned scorer disagree on the best strategy."


def recommendation_section(rec: Mapping[str, Any]) -> dict:
    strategy = rec.get("strategy")
    scores = rec.get("scores") or {}
    learned = rec.get("learned") or {}
    probs = learned.get("probabilities") or {}
    rules = rec.get("rules") or []
    rule_sum: dict[str, float] = dict(rec.get("rule_scores") or {})
    if not rule_sum:  # older producers: add up the fired rules' effects
        for r in rules:
            for s, v in (r.get("effect") or r.get("effects") or {}).items():
                if _num(v) is not None:
                    rule_sum[s] = rule_sum.get(s, 0.0) + float(v)
    order = _strategies([*scores, *probs, *rule_sum])
    score_rows = [
        [
            label(s),
            pct(scores.get(s)),
            f"{_num(rule_sum[s]):+g}" if _num(rule_sum.get(s)) is not None else NA,
            pct(probs.get(s)),
        ]
        for s in order
    ]
    blend = rec.get("blend") or {}
    how = ""
    if _num(blend.get("weight")) is not None and _num(blend.get("temperature")) is not None:
        w, t = float(blend["weight"]), float(blend["temperature"])
        how = (
            f" The blend is softmax({w:g} x rule points / {t:g} + {1 - w:g} x log learned "
            f"probability) ({blend.get('method', 'log-linear pooling')})."
        )
    scores_table = Table(
        "scores",
        ["Strategy", "Blended", "Rule points", "Learned"],
        score_rows,
        caption="Blended is the probability the recommendation ranks by; rule points sum the "
        "effects of the rules that fired; learned is the probability from the scorer trained "
        "on the labelled case library." + how,
        highlight=[i for i, s in enumerate(order) if s == strategy],
    )
    fired = []
    for r in rules:
        fired.append(
            {
                "id": str(r.get("id", "")),
                "sentence": " ".join(str(r.get("sentence", "")).split()),
                "effect": _effect_text(r.get("effect") or r.get("effects") or {}),
                "principle": str(r.get("principle") or ""),
                "citation": str(r.get("citation") or ""),
                "url": url_text(r.get("url")),
            }
        )
    contributions = []
    top = learned.get("top_contributions")
    if isinstance(top, list) and top:
        for c in top:
            v = _num(c.get("contribution"))
            if v is None:
                continue
            contributions.append(
                [
                    str(c.get("feature", "")).replace("_", " "),
                    num(c.get("value")),
                    f"{v:+.2f}",
                    "toward" if v > 0 else "against",
                ]
            )
    else:
        contrib = (learned.get("contributions") or {}).get(strategy) or {}
        pairs = sorted(
            ((k, _num(v)) for k, v in contrib.items() if _num(v) is not None),
            key=lambda kv: -abs(kv[1]),
        )[:5]
        contributions = [
            [k.replace("_", " "), NA, f"{v:+.2f}", "toward" if v > 0 else "against"]
            for k, v in pairs
            if v
        ]
    learned_pick = learned.get("pick") or (
        max(probs, key=lambda s: _num(probs[s]) or 0) if probs else None
    )
    model = learned.get("model") or {}
    similar = [
        [
            str(c.get("id", "")),
            label(c.get("strategy")),
            " ".join(str(c.get("justification", "")).split()),
            str(c.get("citation", "")),
        ]
        for c in rec.get("similar_cases") or []
        if isinstance(c, Mapping)
    ]
    return {
        "strategy": strategy,
        "label": label(strategy),
        "confidence": pct(rec.get("confidence"), 0),
        "scores": scores_table,
        "rules": fired,
        "rules_pick": label(rec["rules_pick"]) if rec.get("rules_pick") else None,
        "contributions": Table(
            "contributions",
            ["Feature", "Value", "Push", "Direction"],
            contributions,
            align=["l", "r", "r", "l"],
            caption=f"The profile features that pushed the learned scorer most toward or "
            f"against {label(strategy)} (standardised logit contributions, relative to the "
            "other strategies)."
            + (
                f" Scorer trained on {model['n_cases']} cases"
                + (
                    f" and {model.get('n_feedback', 0)} feedback rows."
                    if "n_feedback" in model
                    else "."
                )
                if model.get("n_cases") is not None
                else ""
            ),
        )
        if contributions
        else None,
        "similar": Table(
            "similar-cases",
            ["Case", "Chose", "Why", "Source"],
            similar,
            align=["l", "l", "l", "l"],
            caption="The closest labelled cases in the scorer's feature space.",
        )
        if similar
        else None,
        "learned_pick": label(learned_pick) if learned_pick else None,
        "disagreement": _disagreement(rec),
    }


# --- simulation -------------------------------------------------------------------------------


def _by_strategy(rows: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(str(r.get("strategy")), []).append(r)
    for rs in out.values():
        rs.sort(key=lambda r: r.get("month") or 0)
    return out


def _mean(values: list[Any]) -> float | None:
    vs = [v for v in (_num(x) for x in values) if v is not None]
    return sum(vs) / len(vs) if vs else None


def _max(values: list[Any]) -> float | None:
    vs = [v for v in (_num(x) for x in values) if v is not None]
    return max(vs) if vs else None


def simulation_section(sim: Mapping[str, Any], profile: Mapping[str, Any], strategy: str) -> dict:
    months = int(sim.get("months") or 0)
    by = _by_strategy(sim.get("rows") or [])
    order = _strategies(by)
    hl = [i for i, s in enumerate(order) if s == strategy]
    latency = sim.get("latency") or {}
    budget = _num(profile.get("monthly_budget_usd"))

    summary = []
    for s in order:
        rs, last = by[s], by[s][-1]
        over = sum(
            1 for r in rs if budget is not None and (_num(r.get("monthly_cost_usd")) or 0) > budget
        )
        lat = latency.get(s) or {}
        row = [
            label(s),
            usd(rs[0].get("monthly_cost_usd")),
            usd(last.get("monthly_cost_usd")),
            usd(last.get("cumulative_cost_usd")),
            band(last.get("cumulative_cost_usd_p10"), last.get("cumulative_cost_usd_p90")),
            pct(_mean([r.get("stale_fraction") for r in rs])),
            pct(_max([r.get("stale_fraction") for r in rs])),
            pct(_mean([r.get("expected_accuracy") for r in rs])),
            ms(lat.get("p95_ms")),
        ]
        if budget is not None:
            row.append(f"{over} of {len(rs)}")
        summary.append(row)
    cols = [
        "Strategy",
        "Month 1",
        f"Month {months}",
        f"Total, {months} mo",
        "P10 - P90 total",
        "Mean stale",
        "Peak stale",
        "Mean accuracy",
        "p95 ms",
    ]
    if budget is not None:
        cols.append(f"Months over {usd(budget)}")
    summary_table = Table(
        "cost-summary",
        cols,
        summary,
        highlight=hl,
        caption=f"Monthly and cumulative cost over {months} months (central estimate) with the "
        f"Monte Carlo P10-P90 range of the total ({sim.get('draws', NA)} draws, seed "
        f"{sim.get('seed', NA)}); stale is the share of knowledge changed since the model or "
        "index last saw it.",
    )

    marks = [m for m in MILESTONES if m < months] + [months]
    mrows = []
    for s in order:
        rs = {r.get("month"): r for r in by[s]}
        cells = [label(s)]
        for m in marks:
            r = rs.get(m, {})
            lo, hi = r.get("cumulative_cost_usd_p10"), r.get("cumulative_cost_usd_p90")
            # No spaces in the range, so it never breaks inside a narrow PDF column.
            rng = "" if NA in (usd(lo), usd(hi)) else f"\n({usd(lo)}-{usd(hi)})"
            cells.append(usd(r.get("cumulative_cost_usd")) + rng)
        mrows.append(cells)
    milestones = Table(
        "cost-milestones",
        ["Strategy", *[f"Month {m}" for m in marks]],
        mrows,
        highlight=hl,
        caption="Cumulative cost: central estimate (P10 - P90).",
    )

    fresh_rows = []
    for s in order:
        rs = {r.get("month"): r for r in by[s]}
        cells = [label(s)]
        for m in marks:
            r = rs.get(m, {})
            cells.append(
                f"{pct(r.get('stale_fraction'), 0)} / {pct(r.get('expected_accuracy'), 0)}"
            )
        fresh_rows.append(cells)
    freshness = Table(
        "freshness",
        ["Strategy", *[f"Month {m}" for m in marks]],
        fresh_rows,
        highlight=hl,
        caption="Stale fraction / expected accuracy at the end of each month shown.",
    )

    be_rows = []
    for b in sim.get("break_even") or []:
        a_, b_ = b.get("a"), b.get("b")
        dearer = b.get("dearer_at_start")
        if b.get("month") is not None:
            when = f"month {b['month']}"
        elif dearer is None:
            when = "equal at start"
        else:
            when = f"not within {months} months"
        diff = _num(b.get("difference_at_horizon_usd"))
        if diff is None:
            gap = NA
        elif abs(diff) < 0.005:
            gap = "same total"
        else:
            gap = f"{label(a_) if diff > 0 else label(b_)} costs {usd(abs(diff))} more"
        be_rows.append([f"{label(a_)} vs {label(b_)}", label(dearer) if dearer else NA, when, gap])
    break_even = Table(
        "break-even",
        ["Pair", "Dearer at start", "Break-even", f"At month {months}"],
        be_rows,
        align=["l", "l", "r", "l"],
        caption="Break-even is the first month the strategy that was dearer in "
        "month 1 becomes no dearer in cumulative cost.",
    )

    comp_names = [
        k
        for k in (sim.get("rows") or [{}])[0]
        if k.endswith("_usd") and k not in ("monthly_cost_usd", "cumulative_cost_usd")
    ]
    comp_rows = []
    for name in comp_names:
        comp_rows.append(
            [name.removesuffix("_usd").replace("_", " ")]
            + [usd(sum(_num(r.get(name)) or 0 for r in by[s])) for s in order]
        )
    components = Table(
        "components",
        ["Component", *[label(s) for s in order]],
        comp_rows,
        caption=f"Where the {months}-month total goes (central estimate).",
    )

    lat_rows = []
    for s in _strategies(latency):
        v = latency[s] or {}
        comps = v.get("components_ms") or {}
        parts = ", ".join(
            f"{k.removesuffix('_ms')} {ms((c or {}).get('p95'))}" for k, c in comps.items()
        )
        ok = v.get("meets_budget")
        lat_rows.append(
            [
                label(s),
                ms(v.get("p50_ms")),
                ms(v.get("p95_ms")),
                ms(v.get("budget_ms")),
                NA if ok is None else ("yes" if ok else "NO"),
                integer(v.get("prompt_tokens")),
                parts,
            ]
        )
    lat_table = Table(
        "latency",
        [
            "Strategy",
            "p50 ms",
            "p95 ms",
            "Budget ms",
            "Meets budget",
            "Prompt tokens",
            "p95 parts (ms)",
        ],
        lat_rows,
        align=["l", "r", "r", "r", "r", "r", "l"],
        highlight=[i for i, s in enumerate(_strategies(latency)) if s == strategy],
        caption="Latency of one answer, end to end, against the profile's p95 budget.",
    )

    sens = [r for r in sim.get("sensitivity") or [] if r.get("strategy") == strategy]
    sens.sort(key=lambda r: -(_num(r.get("swing_usd")) or 0))
    sens_table = Table(
        "sensitivity",
        ["Input", "Low", "High", "Total at low", "Total at high", "Swing"],
        [
            [
                str(r.get("parameter", "")),
                num(r.get("low_value")),
                num(r.get("high_value")),
                usd(r.get("cost_at_low_usd")),
                usd(r.get("cost_at_high_usd")),
                usd(r.get("swing_usd")),
            ]
            for r in sens[:8]
        ],
        caption=f"The inputs that move the {months}-month cost of {label(strategy)} most, "
        "each swung alone across its range with everything else central.",
    )

    return {
        "months": months,
        "seed": sim.get("seed"),
        "draws": sim.get("draws"),
        "summary": summary_table,
        "milestones": milestones,
        "freshness": freshness,
        "break_even": break_even,
        "components": components,
        "latency": lat_table,
        "sensitivity": sens_table if sens else None,
        "notes": [str(n) for n in sim.get("notes") or []],
        **assumptions_tables(sim),
    }


def _price_entry_key(prefix: str, values: Mapping[str, Any]) -> str | None:
    """The price-book path a simulator price key came from, as `--set prices.` keys name it."""
    gen = values.get("generator_model")
    return {
        "gen": f"prices.models.{gen}",
        "ft": f"prices.models.{gen}.fine_tuning",
        "emb": f"prices.embeddings.{values.get('embedding_model')}",
        "vs": f"prices.vector_stores.{values.get('vector_store')}",
        "gpu": "prices.gpus",
    }.get(prefix)


def assumptions_tables(sim: Mapping[str, Any]) -> dict:
    a = sim.get("assumptions") or {}
    values = a.get("values") or {}
    ranges = a.get("ranges") or {}
    sources = a.get("sources") or {}
    units = a.get("units") or {}
    overrides = sim.get("overrides") or a.get("overrides") or []
    overridden = {str(o.get("key")) for o in overrides} | set(a.get("overridden") or [])
    origin = {str(o.get("key")): str(o.get("origin", "")) for o in overrides}

    rows, marked, previous = [], [], None
    for name, value in values.items():
        rng = ranges.get(name)
        source = str(sources.get(name, ""))
        is_over = name in overridden or source.startswith(("override", "user override"))
        rows.append(
            [
                name,
                num(value),
                str(units.get(name, "")),
                f"{num(rng[0])} - {num(rng[1])}"
                if isinstance(rng, list | tuple) and len(rng) == 2
                else "",
                "as above" if source and source == previous else source,
                "overridden" if is_over else "",
            ]
        )
        previous = source
        if is_over:
            marked.append(len(rows) - 1)
    assumptions = Table(
        "assumptions",
        ["Assumption", "Value", "Unit", "Range", "Source", ""],
        rows,
        align=["l", "r", "l", "r", "l", "l"],
        highlight=marked,
        caption="Every number the simulator used that the profile does not "
        "state; ranges feed the Monte Carlo bands and the sensitivity table.",
    )

    prows, pmarked = [], []
    prices = sim.get("prices_used") or a.get("prices") or {}
    for key, p in prices.items():
        p = p or {}
        prefix, _, fld = key.partition(".")
        entry = _price_entry_key(prefix, values)
        book_key = f"{entry}.{fld}" if entry else None
        is_over = bool(
            book_key
            and (
                book_key in overridden
                or any(
                    k.startswith("prices.gpus.") and k.endswith("." + fld)
                    for k in overridden
                    if prefix == "gpu"
                )
            )
        )
        what = {
            "gen": values.get("generator_model"),
            "ft": f"{values.get('generator_model')} fine-tuned",
            "emb": values.get("embedding_model"),
            "vs": values.get("vector_store"),
            "gpu": "GPU",
        }.get(prefix, prefix)
        lo, hi = p.get("low"), p.get("high")
        rng = f"{num(lo)} - {num(hi)}" if _num(lo) is not None and lo != hi else ""
        conf = str(p.get("confidence") or "")
        prows.append(
            [
                f"{what}: {PRICE_FIELDS.get(fld, fld.replace('_', ' '))}",
                num(p.get("value")),
                rng,
                str(p.get("source", "")),
                str(p.get("as_of", "")),
                conf,
                (f"overridden ({origin.get(book_key, '')})".replace(" ()", "") if is_over else ""),
            ]
        )
        if is_over:
            pmarked.append(len(prows) - 1)
    prices_table = Table(
        "prices",
        ["Price", "Value", "Range", "Source", "As of", "Confidence", ""],
        prows,
        align=["l", "r", "r", "l", "l", "l", "l"],
        highlight=pmarked,
        caption="Every price the simulation used, with its source and as-of "
        "date. Ranges are sampled in the P10-P90 bands.",
    )
    orows = [
        [str(o.get("key", "")), num(o.get("old")), num(o.get("new")), str(o.get("origin", ""))]
        for o in overrides
    ]
    overrides_table = (
        Table("overrides", ["Key", "Default", "Used", "Set by"], orows, align=["l", "r", "r", "l"])
        if orows
        else None
    )
    return {"assumptions": assumptions, "prices": prices_table, "overrides": overrides_table}


# --- prototype --------------------------------------------------------------------------------


def _alias_meta(r: Mapping[str, Any]) -> Mapping[str, Any]:
    """Some runners name the model `generator`; the report calls it `model` either way."""
    meta = dict(r.get("meta") or {})
    if "generator" in meta and not meta.get("model"):
        meta["model"] = meta.pop("generator")
    return {**r, "meta": meta}


def prototype_section(proto: Mapping[str, Any]) -> dict:
    results = [_alias_meta(r) for r in proto.get("results") or [] if isinstance(r, Mapping)]
    known = {k for k, _, _ in PROTO_COLUMNS}
    extra = list(
        dict.fromkeys(k for r in results for k in (r.get("metrics") or {}) if k not in known)
    )
    cols = (
        [("Strategy", None)]
        + [(title, (k, f)) for k, title, f in PROTO_COLUMNS]
        + [
            (
                EXTRA_TITLES.get(k, k.replace("_", " ")),
                (k, "pct" if "accuracy" in k or "compliance" in k else "num"),
            )
            for k in extra
        ]
    )
    rows = []
    for r in results:
        m = r.get("metrics") or {}
        name = label(r.get("strategy"))
        if r.get("variant"):
            name += f" ({r['variant']})"
        rows.append([name] + [FORMATTERS[f](m.get(k)) for _, (k, f) in cols[1:]])
    metrics = Table(
        "prototype-metrics",
        [c for c, _ in cols],
        rows,
        caption="Measured on the corpus named above; accuracy columns are shares of "
        "questions answered correctly, scored on the text as generated.",
    )

    meta_keys = ("corpus", "model", "device")
    shared = {}
    for k in meta_keys:
        vals = {str((r.get("meta") or {}).get(k)) for r in results if (r.get("meta") or {}).get(k)}
        if len(vals) == 1:
            shared[k] = vals.pop()
    meta_rows = []
    for r in results:
        meta = r.get("meta") or {}
        detail = []
        for k, v in meta.items():
            if k in shared or v is None or v == "" or isinstance(v, list):
                continue
            if isinstance(v, Mapping):
                inner = ", ".join(
                    f"{ik} {num(iv)}" for ik, iv in v.items() if not isinstance(iv, dict | list)
                )
                if inner:
                    detail.append(f"{k}: {inner}")
            else:
                detail.append(f"{k}: {num(v)}")
        meta_rows.append(
            [
                label(r.get("strategy")) + (f" ({r['variant']})" if r.get("variant") else ""),
                "; ".join(detail) or NA,
            ]
        )
    meta_table = Table(
        "prototype-meta",
        ["Strategy", "Run details (timings, settings)"],
        meta_rows,
        align=["l", "l"],
    )
    return {
        "metrics": metrics,
        "corpus": shared.get("corpus", "see run details"),
        "model": shared.get("model", "see run details"),
        "device": shared.get("device", "see run details"),
        "details": meta_table,
        "n_answers": sum(len(r.get("answers") or []) for r in results),
    }


# --- the whole report -------------------------------------------------------------------------


PROFILE_LABELS = {
    "name": "Name",
    "task": "Task",
    "knowledge_update_frequency": "Knowledge changes",
    "latency_budget_ms": "Latency budget (p95, ms)",
    "traceability": "Traceability",
    "style_consistency": "Style consistency",
    "structured_output": "Structured output",
    "knowledge_base_tokens": "Knowledge base (tokens)",
    "labeled_examples": "Labelled examples",
    "queries_per_month": "Queries per month",
    "deployment": "Deployment",
    "ml_maturity": "ML maturity",
    "access_control": "Per-user access control",
    "monthly_budget_usd": "Monthly budget (USD)",
}


def _glance(decision: Decision) -> list[str]:
    """Four or five sentences a reader gets from page one, every number from the sections."""
    out = []
    rec = decision.recommendation
    out.append(
        f"Recommended: {label(rec.get('strategy'))} (confidence {pct(rec.get('confidence'), 0)})."
    )
    if rec.get("disagreement"):
        out.append("The rules and the learned scorer disagree; see the recommendation section.")
    sim = decision.simulation
    if sim:
        by = _by_strategy(sim.get("rows") or [])
        order = _strategies(by)
        months = sim.get("months")
        totals = ", ".join(f"{label(s)} {usd(by[s][-1].get('cumulative_cost_usd'))}" for s in order)
        out.append(f"Cost over {months} months (central estimate): {totals}.")
        stale = ", ".join(
            f"{label(s)} {pct(_max([r.get('stale_fraction') for r in by[s]]), 0)}" for s in order
        )
        out.append(f"Peak share of stale knowledge: {stale}.")
        lat = sim.get("latency") or {}
        meets = [label(s) for s in _strategies(lat) if (lat[s] or {}).get("meets_budget")]
        budget = decision.profile.get("latency_budget_ms")
        if lat:
            out.append(
                f"Latency: {', '.join(meets) if meets else 'no strategy'} "
                f"{'meets' if len(meets) == 1 else 'meet'} the {num(budget)} ms p95 "
                "budget"
                + (
                    "."
                    if meets
                    else " in this estimate; see the latency section for where the time goes."
                )
            )
    proto = decision.prototype
    if proto and proto.get("results"):
        accs = ", ".join(
            f"{label(r.get('strategy'))} {pct((r.get('metrics') or {}).get('accuracy'), 0)}"
            for r in proto["results"]
            if not r.get("variant")
        )
        out.append(f"Prototype accuracy (measured): {accs}.")
    return out


def build_context(decision: Decision) -> dict:
    """Everything the templates print, formatted once."""
    profile = decision.profile
    rec = recommendation_section(decision.recommendation)
    sim = (
        simulation_section(decision.simulation, profile, decision.strategy)
        if decision.simulation
        else None
    )
    proto = prototype_section(decision.prototype) if decision.prototype else None
    prows = [
        [
            PROFILE_LABELS.get(k, k.replace("_", " ")),
            "not set" if v is None else num(v).replace("_", " ") if isinstance(v, str) else num(v),
        ]
        for k, v in profile.items()
        if k != "name"
    ]
    sections = [("recommendation", "Recommendation"), ("profile", "Use-case profile")]
    if sim:
        sections += [
            ("cost", "Cost over time"),
            ("freshness", "Knowledge freshness"),
            ("latency", "Latency vs budget"),
        ]
    sections.append(("prototype", "Prototype measurements"))
    if sim:
        sections.append(("assumptions", "Assumptions and prices"))
    sections += [("caveats", "Caveats"), ("versions", "Provenance")]
    return {
        "title": decision.title,
        "name": str(profile.get("name", "")),
        "created_at": display_date(decision.created_at),
        "created_at_iso": decision.created_at,
        "ftrag_version": str(decision.versions.get("ftrag", "(version unknown)")),
        "profile": Table("profile", ["Field", "Value"], prows, align=["l", "l"]),
        "glance": _glance(decision),
        "rec": rec,
        "sim": sim,
        "proto": proto,
        "caveats": list(CAVEATS_ALWAYS),
        "proto_can": list(PROTOTYPE_CAN),
        "proto_cannot": list(PROTOTYPE_CANNOT),
        "versions": Table(
            "versions",
            ["Component", "Version"],
            [[k, str(v)] for k, v in decision.versions.items()],
            align=["l", "l"],
        ),
        "sections": sections,
    }
