"""The use-case profile section: every profile field, in plain words."""

from __future__ import annotations

from typing import Any

from report.table import Table
from report.text import num

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


def _value(v: Any) -> str:
    if v is None:
        return "not set"
    return num(v).replace("_", " ") if isinstance(v, str) else num(v)


def profile_table(profile: dict[str, Any]) -> Table:
    """The profile's fields (its name heads the section instead)."""
    rows = [
        [PROFILE_LABELS.get(k, k.replace("_", " ")), _value(v)]
        for k, v in profile.items()
        if k != "name"
    ]
    return Table("profile", ["Field", "Value"], rows, align=["l", "l"])
