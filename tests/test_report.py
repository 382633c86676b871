"""The decision report: golden Markdown, offline HTML, PDF pages, JSON round trip, safe writes.

Golden files (tests/golden/):
- example_profile.json   the example use case;
- prototype_run.json     a hand-built `ftrag prototype --strategy all` result (fixture, not a
                         measurement) so the prototype section is exercised without models;
- example_decision.json  build_decision(example profile, prototype run) with a fixed
                         created_at, seed and versions;
- example_report.md      render_markdown(example_decision.json);
- example_decision_old_format.json
                         example_decision.json as older producers wrote it (hand-edited, never
                         regenerated): rules with `effects`, no `rule_scores`, a plain-string
                         disagreement, prices only inside `assumptions`, a prototype run in run
                         order with metric keys missing, `generator` for `model`, and a row
                         no longer registered.

The golden Markdown test renders the *stored* decision, so it checks the renderer and does not
break when a price, rule or scorer changes upstream. To refresh both files after an intended
change (new rule, price, template edit), run:

    FTRAG_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_report.py -k golden

and review the diff of tests/golden/ before committing it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import replace
from html.parser import HTMLParser

import pytest
from conftest import FTRAG, ROOT

from core.decision import Decision, DecisionError, load_decision, load_prototype_run, plain
from core.prototype_result import PrototypeResult, PrototypeRun
from core.recommendation import Disagreement, Recommendation
from core.simulation import PriceUsed, SimulationResult
from pipeline.decide import build_decision
from report import ReportError, render_html, render_markdown, write_atomic, write_report

GOLDEN = ROOT / "tests" / "golden"
PROFILE = GOLDEN / "example_profile.json"
PROTOTYPE = GOLDEN / "prototype_run.json"
DECISION = GOLDEN / "example_decision.json"
REPORT_MD = GOLDEN / "example_report.md"
OLD_DECISION = GOLDEN / "example_decision_old_format.json"
FIXED = dict(created_at="2026-01-15T09:30:00+00:00", versions={"ftrag": "0.1.0", "golden": "1"})
UPDATE = os.environ.get("FTRAG_UPDATE_GOLDEN") == "1"


def _build(**kw) -> Decision:
    profile = json.loads(PROFILE.read_text())
    return build_decision(
        profile, months=36, prototype=PROTOTYPE, seed=0, draws=400, **{**FIXED, **kw}
    )


@pytest.fixture(scope="module")
def decision() -> Decision:
    if UPDATE:
        DECISION.write_text(_build().to_json(), encoding="utf-8")
    return load_decision(DECISION)


def ftrag(*args):
    return subprocess.run([*FTRAG, *args], capture_output=True, text=True, cwd=ROOT)


# --- Markdown ---------------------------------------------------------------------------------


def test_golden_markdown(decision):
    md = render_markdown(decision)
    if UPDATE:
        REPORT_MD.write_text(md, encoding="utf-8")
    assert md == REPORT_MD.read_text(encoding="utf-8"), (
        "report Markdown changed; if intended, regenerate with FTRAG_UPDATE_GOLDEN=1 (see the "
        "module docstring) and review the diff"
    )


def _an_as_of_date(decision) -> str:
    """The as-of date of the first price the decision's simulation used."""
    return next(iter(decision.simulation.prices_used.values())).as_of


def test_markdown_has_every_section(decision):
    md = render_markdown(decision)
    for heading in (
        "## Recommendation",
        "## Use-case profile",
        "## Cost over time",
        "### Break-even",
        "## Knowledge freshness",
        "## Latency vs budget",
        "## Prototype measurements",
        "## Assumptions and prices",
        "### Prices used",
        "## Caveats",
        "## Provenance",
    ):
        assert heading in md
    assert "P10 - P90" in md and _an_as_of_date(decision) in md  # bands; prices carry dates
    assert "aurora\\_handbook" in md or "aurora_handbook" in md
    assert "SmolLM2-135M-Instruct" in md


def test_live_build_is_deterministic_and_json_round_trips():
    a, b = _build(), _build()
    assert a.to_json() == b.to_json()
    again = Decision.from_dict(json.loads(a.to_json()))
    assert again == a
    assert render_markdown(again) == render_markdown(a)


def test_user_text_is_escaped_in_markdown_and_html(decision):
    hostile = "<script>alert(1)</script> & *bold* | [x](javascript:y)"
    d = replace(decision, title=hostile, profile={**decision.profile, "name": hostile})
    md = render_markdown(d)
    assert "<script>" not in md and "[x](javascript" not in md
    assert "\\<script\\>" in md and "\\| \\[x\\]" in md
    html = render_html(d)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; *bold*" in html


def test_overridden_values_are_marked():
    d = _build(
        overrides=["change_rate_per_month=0.2", "prices.models.gpt-6-luna.input_per_mtok=0.2"]
    )
    md = render_markdown(d)
    assert "### Overridden by the user" in md
    line = next(s for s in md.splitlines() if s.startswith("| **change_rate_per_month** | 0.2 |"))
    assert "fraction/month" in line and line.endswith("| overridden |")
    price = next(s for s in md.splitlines() if "gpt-6-luna: input, USD" in s)
    assert "overridden (--set)" in price and "| 0.2 |" in price


# --- decision files ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mutate,fragment",
    [
        (lambda d: [], "expected a JSON object"),
        (lambda d: {k: v for k, v in d.items() if k != "kind"}, "kind: key is missing"),
        (lambda d: {**d, "kind": "something.else"}, "kind: is 'something.else'"),
        (lambda d: {**d, "schema_version": 99}, "schema_version: "),
        (lambda d: {**d, "surprise": 1}, "surprise: unknown key"),
        (
            lambda d: {**d, "recommendation": {**d["recommendation"], "strategy": "magic"}},
            "recommendation.strategy",
        ),
        (
            lambda d: {
                **d,
                "recommendation": {
                    k: v for k, v in d["recommendation"].items() if k != "confidence"
                },
            },
            "recommendation.confidence: required key is missing",
        ),
        (lambda d: {**d, "simulation": {**d["simulation"], "rows": []}}, "simulation.rows"),
        (
            lambda d: {**d, "prototype": {"results": [{"metrics": {}}]}},
            "prototype.results.0.strategy",
        ),
        (
            lambda d: {**d, "profile": {**d["profile"], "latency_budget_ms": -1}},
            "profile.latency_budget_ms",
        ),
        (lambda d: {**d, "created_at": "yesterday"}, "created_at"),
    ],
)
def test_bad_decision_names_the_key(decision, mutate, fragment):
    with pytest.raises(DecisionError) as e:
        Decision.from_dict(mutate(decision.to_dict()), "d.json")
    assert fragment in str(e.value)
    assert str(e.value).startswith("d.json")


@pytest.mark.parametrize(
    "content,fragment",
    [
        (b"", "file is empty"),
        (b"{nope", "not valid JSON (line 1"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b'{"results": []}', "results: list should have at least 1 item"),
    ],
)
def test_bad_prototype_file_names_the_file(tmp_path, content, fragment):
    p = tmp_path / "run.json"
    p.write_bytes(content)
    with pytest.raises(DecisionError) as e:
        load_prototype_run(p)
    assert str(p) in str(e.value) and fragment in str(e.value)


def test_single_prototype_result_is_wrapped(tmp_path):
    p = tmp_path / "one.json"
    p.write_text(json.dumps(json.loads(PROTOTYPE.read_text())["results"][1]))
    assert [r["strategy"] for r in load_prototype_run(p)["results"]] == ["rag"]


# --- typed values and older files ------------------------------------------------------------


@pytest.mark.parametrize(
    "kind,part",
    [
        (Recommendation, lambda d: d["recommendation"]),
        (SimulationResult, lambda d: d["simulation"]),
        (PrototypeRun, lambda d: d["prototype"]),
        (PrototypeResult, lambda d: d["prototype"]["results"][2]),  # has an extra metric
    ],
)
def test_each_part_round_trips_its_json(kind, part):
    data = part(json.loads(DECISION.read_text(encoding="utf-8")))
    value = kind.from_dict(data)
    assert value.to_dict() == data
    assert kind.from_dict(json.loads(json.dumps(value.to_dict()))) == value


def test_golden_decision_file_round_trips_byte_for_byte(decision):
    assert decision.to_json() == DECISION.read_text(encoding="utf-8")


def test_simulation_value_reads_what_the_simulator_writes():
    from core.profile import profile_from_dict
    from simulator.runner import run

    live = run(profile_from_dict(json.loads(PROFILE.read_text())), months=6, draws=50)
    data = json.loads(json.dumps(plain(live.to_dict()), allow_nan=False))
    assert SimulationResult.from_dict(data).to_dict() == data


def test_old_format_file_reads_its_old_spellings_once():
    old, new = load_decision(OLD_DECISION), load_decision(DECISION)
    rec = old.recommendation
    assert [r.effect for r in rec.rules] == [r.effect for r in new.recommendation.rules]
    assert rec.rule_scores == new.recommendation.rule_scores  # summed from the fired rules
    assert rec.learned.pick == new.recommendation.learned.pick  # from the probabilities
    # A disagreement was once a plain string: it reads as a sentence with no picks.
    raw = json.loads(OLD_DECISION.read_text())
    raw["recommendation"]["disagreement"] = "The rules favour a hybrid, the cases RAG."
    said = Decision.from_dict(raw).recommendation.disagreement
    assert said == Disagreement(None, None, "The rules favour a hybrid, the cases RAG.")
    assert old.simulation is not None and new.simulation is not None
    # The old file kept its prices only inside `assumptions`: they are read as prices_used.
    raw = json.loads(OLD_DECISION.read_text())["simulation"]["assumptions"]["prices"]
    assert old.simulation.prices_used == {k: PriceUsed.from_dict(v) for k, v in raw.items()}
    assert old.prototype is not None and old.prototype.extra == {"corpus": "aurora_handbook"}
    ft = next(r for r in old.prototype.results if r.strategy == "fine_tuning")
    assert ft.metrics["source_accuracy"] is None and ft.metrics["peak_rss_mb"] is None
    assert ft.extra_metrics == {"accuracy_updated_retrained": 0.52}
    assert {r.meta["model"] for r in old.prototype.results} == {"SmolLM2-135M-Instruct"}
    again = Decision.from_dict(json.loads(old.to_json()))
    assert again == old and render_markdown(again) == render_markdown(old)


def test_old_format_file_renders_like_the_current_one():
    md = render_markdown(load_decision(OLD_DECISION))
    golden = REPORT_MD.read_text(encoding="utf-8")

    def section(text: str, start: str, end: str) -> str:
        return text[text.index(start) : text.index(end)]

    # Same numbers, whichever spelling the file used: recommendation (effects, disagreement,
    # rule points) through latency, and the assumptions and prices.
    for start, end in (
        ("## Recommendation", "## Prototype measurements"),
        ("## Assumptions and prices", "## Provenance"),
    ):
        assert section(md, start, end) == section(golden, start, end)
    assert "*Effect: Fine-tuning -2, RAG +2, Hybrid +0.5." in md
    # Prototype rows in registry order whatever the run order; an unregistered row goes last
    # under its raw name; a metric the old run lacks is n/a; `generator` reads as the model.
    proto = section(md, "## Prototype measurements", "## Assumptions and prices")
    table = proto[: proto.index("*Measured on")]
    rows = [line for line in table.splitlines() if line.startswith("| ")][1:]  # past the header
    names = [line.split(" | ")[0].removeprefix("| ") for line in rows]
    assert names == ["Closed-book base", "RAG", "Fine-tuning", "Hybrid (FT + RAG)", "rag+rerank"]
    assert (
        "| Fine-tuning | 58.0% | 24.0% | 3.0% | n/a | n/a | 93.0% | n/a | 450 | 690 | 612.0 | n/a "
        "| n/a |" in md  # exact match and token F1: not measured by old runs
    )
    assert "model **SmolLM2-135M-Instruct**" in proto
    assert "Hybrid (FT + RAG) 74%, rag+rerank 73%." in md  # the glance, in the same order
    assert '"name":"rag+rerank"' in render_html(load_decision(OLD_DECISION))  # charted too


# --- HTML -------------------------------------------------------------------------------------


class _Attrs(HTMLParser):
    """Collects element attributes and script bodies (script text is not parsed as tags)."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.scripts: list[tuple[dict, str]] = []
        self.divs: list[dict] = []
        self._in_script: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.links += [v or "" for k, v in attrs if k in ("src", "href", "action", "data")]
        if tag == "script":
            self._in_script = a
            self.scripts.append((a, ""))
        if tag == "div":
            self.divs.append(a)

    def handle_data(self, data):
        if self._in_script is not None:
            a, body = self.scripts[-1]
            self.scripts[-1] = (a, body + data)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None


@pytest.fixture(scope="module")
def html(decision) -> str:
    return render_html(decision)


def test_html_is_offline(html):
    from plotly.offline import get_plotlyjs

    p = _Attrs()
    p.feed(html)
    # No element loads or links to anything outside the file.
    assert p.links, "expected internal table-of-contents links"
    for link in p.links:
        assert not link.lower().startswith(("http:", "https:", "//", "file:")), link
    assert all(not a.get("src") for a, _ in p.scripts)
    # Outside the vendored plotly.js bundle, no URL appears at all (citations print as text).
    ours = html.replace(get_plotlyjs(), "")
    assert "http://" not in ours and "https://" not in ours
    # Plotly's modebar must not link out either.
    assert '"displaylogo": false' in ours and '"showLink": false' in ours


def test_html_embeds_plotly_once_and_draws_every_chart(html, decision):
    from plotly.offline import get_plotlyjs

    p = _Attrs()
    p.feed(html)
    assert html.count(get_plotlyjs()) == 1
    assert sum(len(body) > 1_000_000 for _, body in p.scripts) == 1
    chart_divs = [d["data-chart"] for d in p.divs if "data-chart" in d]
    data = {a["id"]: body for a, body in p.scripts if a.get("type") == "application/json"}
    assert len(chart_divs) >= 6  # cost, breakdown, tornado, freshness, latency, prototype
    for cid in chart_divs:
        fig = json.loads(data[f"{cid}-data"])
        assert fig["data"], cid
    assert "Plotly.newPlot" in html
    assert '<nav class="toc"' in html and 'href="#cost"' in html


# --- PDF --------------------------------------------------------------------------------------

POPPLER = shutil.which("pdftoppm") and shutil.which("pdftotext")


@pytest.mark.skipif(not POPPLER, reason="poppler-utils (pdftoppm, pdftotext) is not installed")
def test_pdf_renders_pages_with_strategy_and_cost_table(decision, tmp_path):
    out = write_report(decision, "pdf", tmp_path / "r.pdf")
    assert out.path.read_bytes().startswith(b"%PDF-")
    text = subprocess.run(
        ["pdftotext", "-layout", str(out.path), "-"], capture_output=True, text=True, check=True
    ).stdout
    from report.sections.feasibility import verdict

    # The strategy recommended within the budgets (the advisor's own pick when it meets them).
    assert "Recommended strategy: " + verdict(decision)["label"] in text
    assert "Cost over time" in text and "Break-even" in text and "P10 - P90 total" in text
    from report.text import usd

    for s in ("fine_tuning", "rag", "hybrid"):  # every strategy's 36-month total is printed
        last = [r for r in decision.simulation.rows if r["strategy"] == s][-1]
        assert usd(last["cumulative_cost_usd_p50"]) in text  # the central line: P50
    assert "Prices used" in text and _an_as_of_date(decision) in text
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "30",
            "-f",
            "1",
            "-l",
            "3",
            str(out.path),
            str(tmp_path / "page"),
        ],
        check=True,
    )
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == 3 and all(p.stat().st_size > 1000 for p in pages)
    if out.note is None:  # chromium present: charts are in, as images
        assert "Cumulative cost." in text


def test_pdf_without_chromium_says_why(decision, monkeypatch):
    from report.formats import render_print_html

    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    html, note = render_print_html(decision)
    assert note and "BROWSER_PATH=/nonexistent/chromium" in note
    assert note in html
    assert "Cost over time" in html and "<img" not in html


# --- writing ----------------------------------------------------------------------------------


def test_json_file_round_trips_to_identical_markdown(decision, tmp_path):
    out = write_report(decision, "json", tmp_path / "d.json")
    assert render_markdown(load_decision(out.path)) == render_markdown(decision)


@pytest.mark.parametrize("target", ["missing/dir/r.md", "a_file/r.md", "."])
def test_unwritable_output_is_a_clear_error_and_writes_nothing(decision, tmp_path, target):
    (tmp_path / "a_file").write_text("x")
    before = sorted(tmp_path.rglob("*"))
    path = tmp_path / target
    with pytest.raises(ReportError) as e:
        write_report(decision, "md", path)
    assert str(path) in str(e.value)
    assert sorted(tmp_path.rglob("*")) == before


def test_failed_replace_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "r.md"
    target.write_text("old")

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(ReportError, match="No space left"):
        write_atomic(target, b"new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.md"]


# --- CLI --------------------------------------------------------------------------------------


def test_cli_from_bad_json_exits_2_naming_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"kind": "ftrag.decision", "schema_version": 1}')
    out = tmp_path / "r.md"
    r = ftrag("report", "--from", str(bad), "--format", "md", "-o", str(out))
    assert r.returncode == 2
    assert str(bad) in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()


def test_cli_bad_prototype_and_unwritable_output(tmp_path):
    bad = tmp_path / "run.json"
    bad.write_text("[1, 2]")
    r = ftrag(
        "report", "--from", str(DECISION), "--prototype", str(bad), "-o", str(tmp_path / "r.md")
    )
    assert r.returncode == 2 and str(bad) in r.stderr
    target = tmp_path / "nope" / "r.html"
    r = ftrag("report", "--from", str(DECISION), "--format", "html", "-o", str(target))
    assert r.returncode == 2 and str(target) in r.stderr and "Traceback" not in r.stderr
    assert not target.parent.exists()


def test_cli_profile_to_json_then_from_to_markdown(tmp_path):
    j, md = tmp_path / "d.json", tmp_path / "r.md"
    r = ftrag(
        "report",
        str(PROFILE),
        "--format",
        "json",
        "-o",
        str(j),
        "--months",
        "12",
        "--prototype",
        str(PROTOTYPE),
    )
    assert r.returncode == 0, r.stderr
    r = ftrag("report", "--from", str(j), "-o", str(md))
    assert r.returncode == 0, r.stderr
    assert md.read_text() == render_markdown(load_decision(j))
    assert "Horizon 12 months" in md.read_text()


def test_decision_without_simulation_or_prototype_still_renders(decision):
    d = replace(decision, simulation=None, prototype=None)
    md = render_markdown(d)
    assert "## Cost over time" not in md and "No prototype run is attached" in md
    html = render_html(d)
    assert "chart-cumulative-cost" not in html and "chart-cost-breakdown" not in html
    assert Decision.from_dict(json.loads(d.to_json())) == d
    # Without the confidence's reliability diagram either, there is no chart at all.
    bare = replace(d, recommendation=replace(d.recommendation, confidence_info=None))
    html = render_html(bare)
    assert "Plotly.newPlot" not in html and len(html) < 200_000  # no charts, no plotly.js
