"""The assumptions section: every number and price the simulation used, its source, overrides."""

from __future__ import annotations

from datetime import date
from typing import Any

from core.inputs import price_field_label
from core.simulation import SimulationResult
from report.table import Table
from report.text import as_number, num


def _price_entry_key(prefix: str, values: dict[str, Any]) -> str | None:
    """The price-book path a simulator price key came from, as `--set prices.` keys name it."""
    gen = values.get("generator_model")
    return {
        "gen": f"prices.models.{gen}",
        "ft": f"prices.models.{gen}.fine_tuning",
        "emb": f"prices.embeddings.{values.get('embedding_model')}",
        "vs": f"prices.vector_stores.{values.get('vector_store')}",
        "gpu": "prices.gpus",
    }.get(prefix)


def _price_subject(prefix: str, values: dict[str, Any]) -> Any:
    """What a price is for: the generator, its fine-tuned version, the embedder, the store."""
    return {
        "gen": values.get("generator_model"),
        "ft": f"{values.get('generator_model')} fine-tuned",
        "emb": values.get("embedding_model"),
        "vs": values.get("vector_store"),
        "gpu": "GPU",
    }.get(prefix, prefix)


def _assumptions(sim: SimulationResult, overridden: set[str]) -> Table:
    a = sim.assumptions
    rows, marked, previous = [], [], None
    for name, value in a.values.items():
        rng = a.ranges.get(name)
        source = a.sources.get(name, "")
        is_over = name in overridden or source.startswith(("override", "user override"))
        rows.append(
            [
                name,
                num(value),
                a.units.get(name, ""),
                f"{num(rng[0])} - {num(rng[1])}" if rng and len(rng) == 2 else "",
                "as above" if source and source == previous else source,
                "overridden" if is_over else "",
            ]
        )
        previous = source
        if is_over:
            marked.append(len(rows) - 1)
    return Table(
        "assumptions",
        ["Assumption", "Value", "Unit", "Range", "Source", ""],
        rows,
        align=["l", "r", "l", "r", "l", "l"],
        highlight=marked,
        caption="Every number the simulator used that the profile does not "
        "state; ranges feed the Monte Carlo bands and the sensitivity table.",
    )


def _prices(sim: SimulationResult, overridden: set[str], today: date | None) -> Table:
    values = sim.assumptions.values
    origin = {o.key: o.origin for o in sim.overrides}
    old = {o.entry for o in sim.old_prices(today)} if today else set()
    rows, marked = [], []
    for key, p in sim.prices_used.items():
        prefix, _, fld = key.partition(".")
        # The entry the price came from; older files did not say, so it is inferred.
        entry = f"prices.{p.entry}" if p.entry else _price_entry_key(prefix, values)
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
        lo, hi = p.low, p.high
        rng = f"{num(lo)} - {num(hi)}" if as_number(lo) is not None and lo != hi else ""
        mark = ""
        if is_over:
            mark = f"overridden ({origin.get(book_key or '', '')})".replace(" ()", "")
        subject = p.entry.partition(".")[2] if p.entry else _price_subject(prefix, values)
        if p.entry.endswith(".fine_tuning"):
            subject = f"{subject.removesuffix('.fine_tuning')} fine-tuned"
        age = "over 6 months old" if (p.entry or key) in old else ""
        if not p.verified:
            age = ", ".join(filter(None, [age, "not re-checked"]))
        rows.append(
            [
                f"{subject}: {price_field_label(fld)}",
                num(p.value),
                rng,
                p.source,
                p.as_of + (f" ({age})" if age else ""),
                p.confidence,
                mark,
            ]
        )
        if is_over:
            marked.append(len(rows) - 1)
    return Table(
        "prices",
        ["Price", "Value", "Range", "Source", "As of", "Confidence", ""],
        rows,
        align=["l", "r", "r", "l", "l", "l", "l"],
        highlight=marked,
        caption="Every price the simulation used, with its source and as-of "
        "date. Ranges are sampled in the P10-P90 bands.",
    )


def price_age_warning(sim: SimulationResult, today: date | None) -> str | None:
    """One sentence naming every price entry over six months old on `today`, or None."""
    old = sim.old_prices(today) if today else []
    if not old:
        return None
    return (
        f"{len(old)} price-book {'entry is' if len(old) == 1 else 'entries are'} more than six "
        f"months old on {today}: " + "; ".join(o.sentence() for o in old) + ". Check them "
        "before relying on the totals, or override them with --set prices.FILE.ENTRY.FIELD=VALUE."
    )


def assumptions_tables(sim: SimulationResult, today: date | None = None) -> dict:
    """`today`: the day the prices are judged against (the decision's date), for the age
    warning."""
    overridden = {o.key for o in sim.overrides} | set(sim.assumptions.overridden)
    rows = [[o.key, num(o.old), num(o.new), o.origin] for o in sim.overrides]
    return {
        "assumptions": _assumptions(sim, overridden),
        "prices": _prices(sim, overridden, today),
        "price_warning": price_age_warning(sim, today),
        "overrides": Table(
            "overrides", ["Key", "Default", "Used", "Set by"], rows, align=["l", "r", "r", "l"]
        )
        if rows
        else None,
    }
