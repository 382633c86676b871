"""The Cost page's tables: the horizon summary (the report's own Table) and the monthly rows,
with plain column names and rounded numbers."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from core.simulation import SimulationResult, column_label
from report.sections.horizon import horizon_table
from ui.common import label

FRACTIONS = ("stale_fraction", "expected_accuracy")


def summary_frame(sim: SimulationResult, profile: dict, strategy: str) -> pd.DataFrame:
    """The horizon summary as the report prints it, one row per strategy."""
    t = horizon_table(sim, profile, strategy)
    return pd.DataFrame(t.rows, columns=t.columns).set_index("Strategy")


def monthly_frame(sim: SimulationResult) -> tuple[pd.DataFrame, dict]:
    """(rows, column config): month, strategy, the central cumulative cost with its band, the
    central stale share and accuracy, then the monthly bill at central inputs by component."""
    central = [sim.central(c) for c in ("cumulative_cost_usd", *FRACTIONS)]
    band = ["cumulative_cost_usd_p10", "cumulative_cost_usd_p90"] if sim.is_drawn() else []
    cols = ["month", "strategy", central[0], *band, *central[1:], "monthly_cost_usd"]
    cols += sim.component_columns()
    df = pd.DataFrame(sim.rows)
    cols = [c for c in dict.fromkeys(cols) if c in df.columns]
    out = df[cols].copy()
    out["strategy"] = out["strategy"].map(label)
    config = {}
    for c in cols:
        if c.endswith(("_usd", "_usd_p10", "_usd_p50", "_usd_p90")):
            out[c] = out[c].astype(float).round(2)
            config[c] = st.column_config.NumberColumn(column_label(c), format="dollar")
        elif c.startswith(FRACTIONS):
            out[c] = out[c].astype(float).round(4)
            config[c] = st.column_config.NumberColumn(column_label(c), format="percent")
        else:
            config[c] = st.column_config.Column(column_label(c))
    return out, config


def old_price_lines(sim: SimulationResult, today: date) -> list[str]:
    """One warning per price-book entry used that is more than six months old today."""
    return [
        f"Price older than six months: {o.sentence()}. Check it, or override it in the "
        "sidebar or with `--set prices.FILE.ENTRY.FIELD=VALUE`."
        for o in sim.old_prices(today)
    ]
