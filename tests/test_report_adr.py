"""The decision as a Markdown ADR in the MADR layout (issue 17, part 6), and the report's
people-and-data breakdown and price-age warning (parts 5 and 7)."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from conftest import FTRAG, ROOT

from core.decision import load_decision
from core.registry import STRATEGIES
from pipeline.decide import build_decision
from report import render, render_adr, render_markdown
from report.adr import MADR_HEADINGS
from report.charts import build_charts
from report.figures import cost_breakdown
from report.sections.feasibility import verdict
from report.text import pct, usd

GOLDEN = ROOT / "tests" / "golden"
PROFILE = json.loads((GOLDEN / "example_profile.json").read_text())
TODAY = "2026-12-06T09:00:00+00:00"


@pytest.fixture(scope="module")
def stored():
    """The golden decision file, with its prototype run (made before people costs existed)."""
    return load_decision(GOLDEN / "example_decision.json")


@pytest.fixture(scope="module")
def live():
    """A decision built now: people costs, the refreshed price book, no prototype."""
    return build_decision(PROFILE, months=36, seed=0, draws=200, created_at=TODAY)


def _sections(md: str) -> list[str]:
    return [line for line in md.splitlines() if line.startswith("#")]


@pytest.mark.parametrize("which", ["stored", "live"])
def test_adr_has_every_madr_section_in_order(which, request):
    md = render_adr(request.getfixturevalue(which))
    assert md.startswith("---\nstatus: proposed\ndate: ")
    heads = _sections(md)
    positions = [heads.index(h) for h in MADR_HEADINGS]
    assert positions == sorted(positions)
    assert len([h for h in heads if h.startswith("# ")]) == 1  # one title
    # One "### option" block per considered option, under "Pros and Cons of the Options".
    options = re.findall(r"^\* (.+)$", md.split("## Considered Options")[1].split("##")[0], re.M)
    assert options == [STRATEGIES.label(s) for s in STRATEGIES.values()]
    pros = md.split("## Pros and Cons of the Options")[1].split("## More Information")[0]
    assert re.findall(r"^### (.+)$", pros, re.M) == options


def test_adr_names_the_chosen_option_and_quotes_the_decision(stored):
    md = render_adr(stored)
    chosen = verdict(stored)["label"]
    assert f'Chosen option: "{chosen}", because' in md
    sim = stored.simulation
    central = sim.central("cumulative_cost_usd")
    last = sim.rows_by_strategy()[verdict(stored)["strategy"]][-1]
    assert f"{usd(last[central])} over 36 months" in md  # the simulated 3-year cost
    for r in stored.recommendation.rules:  # every fired rule, with its citation
        assert f"Rule {r.id}:" in md and r.citation.split(" (")[0] in md
    hybrid = next(r for r in stored.prototype.results if r.strategy == "hybrid")
    assert f"accuracy {pct(hybrid.metrics['accuracy'])}" in md  # the measured prototype
    assert "### Confirmation\n\nThe prototype attached to this decision measured" in md
    assert stored.recommendation.similar_cases[0].id in md


def test_adr_of_a_fresh_decision_counts_people_and_names_old_prices(live):
    md = render_adr(live)
    assert "people and data" in md and "infrastructure +" in md
    assert "No prototype run is attached" in md
    assert "Prices over six months old on the decision's date:" in md
    assert "models.llama-3.1-8b-selfhosted" in md  # its throughput estimates are from 2026-01
    assert "fine-tuning priced on llama-3.1-8b-selfhosted" in md


def test_cli_writes_the_adr(tmp_path):
    out = tmp_path / "decision.adr.md"
    p = subprocess.run(
        [
            *FTRAG,
            "report",
            "--from",
            str(GOLDEN / "example_decision.json"),
            "--format",
            "adr",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert p.returncode == 0, p.stderr
    md = out.read_text()
    assert all(h in md for h in MADR_HEADINGS)
    assert md == render(load_decision(GOLDEN / "example_decision.json"), "adr").decode()


# --- report: people and data, old prices --------------------------------------------------------
def test_report_shows_people_beside_infrastructure(live):
    md = render_markdown(live)
    assert "**Infrastructure, subtotal**" in md and "**People and data, subtotal**" in md
    for name in ("labelling", "evaluation", "engineering time"):
        assert f"| {name} |" in md
    assert "Of which people and data (labelling, evaluation, engineering time)" in md
    fig = cost_breakdown(live.simulation)
    kinds = {t.legendgroup for t in fig.data}
    assert kinds == {"infrastructure", "people"}
    people = [t for t in fig.data if t.legendgroup == "people"]
    assert sum(sum(t.y) for t in people) > 0
    assert "chart-cost-breakdown" in {c.id for c in build_charts(live)}
    [glance] = [line for line in md.splitlines() if "Of which people and data" in line]
    assert "answer review" not in glance  # off by default: not named at a glance


def test_report_names_answer_review_when_people_check_answers():
    d = build_decision(
        PROFILE, months=12, draws=0, created_at=TODAY, overrides={"review_share": 0.2}
    )
    md = render_markdown(d)
    assert "Of which people and data (labelling, evaluation, engineering time, answer review)" in md
    assert "| answer review |" in md
    assert "A person checks 20% of the answers before they go out, 2 min each" in md
    assert "counts the 20% of the wrong answers they see as corrected" in md  # random picks


def test_report_warns_about_old_prices_on_the_decision_date(live, stored):
    md = render_markdown(live)
    warning = next(line for line in md.splitlines() if line.startswith("> **Old prices.**"))
    assert "models.deepseek-chat" not in warning  # not used by this decision
    assert "models.llama-3.1-8b-selfhosted (as of 2026-01-15, 10 months old, not re-checked)" in (
        warning
    )
    assert "pinecone" not in warning  # re-checked 2026-11-04
    assert "embeddings.text-embedding-3-small" not in warning  # re-checked 2026-12-06
    # The golden decision was made on 2026-01-15 with prices from 2025-09-05: 4 months old.
    assert "> **Old prices.**" not in render_markdown(stored)
