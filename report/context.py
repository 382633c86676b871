"""The report's view model: one Decision -> the sections' formatted tables and sentences.

Markdown, HTML and PDF all render this same context, so the three formats cannot disagree on a
number. Each section is built by its own module under `report.sections`; this one puts them in
reading order and adds the caveats and provenance.
"""

from __future__ import annotations

from core.decision import Decision
from report.sections.feasibility import verdict
from report.sections.glance import glance
from report.sections.profile import profile_table
from report.sections.prototype import PROTOTYPE_CAN, PROTOTYPE_CANNOT, prototype_section
from report.sections.recommendation import recommendation_section
from report.sections.simulation import simulation_section
from report.table import Table
from report.text import day_of, display_date

CAVEATS_ALWAYS = (
    "Costs count infrastructure (tokens, training, embedding, vector store, GPU hours) and, "
    "apart, people and data: labelling, golden-set evaluation per release and engineer-hours "
    "per retrain and per index refresh, at cited rates with wide ranges. Organisation "
    "overheads (project management, security review, on-call) are not included.",
    "Prices carry the as-of date printed beside them and can be stale: those over six months "
    "old on the decision's date are named; entries marked low-confidence come from secondary "
    "pages and are sampled across their range in the P10-P90 bands. A model, GPU or service "
    "closed to new users or shutting down within the simulated months is never priced. "
    "Override any price with --set prices.FILE.ENTRY.FIELD=VALUE.",
    "Expected accuracy starts from published 7B-model results (Ovadia et al. 2024, "
    "arXiv 2312.05934) unless a calibration file replaced them; treat it as a relative guide "
    "between strategies, not a forecast for your model.",
    "Latency is an estimate from typical component timings (embedding, search, time to first "
    "token, decode speed), several of them low-confidence; measure your own stack before "
    "committing to a budget.",
)


def _sections(has_simulation: bool) -> list[tuple[str, str]]:
    """(anchor, heading) of every section, in reading order."""
    sections = [("recommendation", "Recommendation"), ("profile", "Use-case profile")]
    if has_simulation:
        sections += [
            ("cost", "Cost over time"),
            ("freshness", "Knowledge freshness"),
            ("latency", "Latency vs budget"),
        ]
    sections.append(("prototype", "Prototype measurements"))
    if has_simulation:
        sections.append(("assumptions", "Assumptions and prices"))
    return sections + [("caveats", "Caveats"), ("versions", "Provenance")]


def build_context(decision: Decision) -> dict:
    """Everything the templates print, formatted once."""
    profile = decision.profile
    sim = decision.simulation
    return {
        "title": decision.title,
        "name": str(profile.get("name", "")),
        "created_at": display_date(decision.created_at),
        "created_at_iso": decision.created_at,
        "ftrag_version": str(decision.versions.get("ftrag", "(version unknown)")),
        "profile": profile_table(profile),
        "verdict": verdict(decision),
        "glance": glance(decision),
        "rec": recommendation_section(decision.recommendation),
        "sim": simulation_section(sim, profile, decision.strategy, day_of(decision.created_at))
        if sim
        else None,
        "proto": prototype_section(decision.prototype) if decision.prototype else None,
        "caveats": list(CAVEATS_ALWAYS),
        "proto_can": list(PROTOTYPE_CAN),
        "proto_cannot": list(PROTOTYPE_CANNOT),
        "versions": Table(
            "versions",
            ["Component", "Version"],
            [[k, str(v)] for k, v in decision.versions.items()],
            align=["l", "l"],
        ),
        "sections": _sections(sim is not None),
    }
