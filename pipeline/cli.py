"""`ftrag` command line. The only module that imports typer.

Every AdvisorError becomes one line per problem on stderr and exit status 2; no traceback.
Heavy imports (torch, transformers, faiss) happen inside the commands that need them.
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path

import typer

from core.errors import AdvisorError
from core.registry import QA_ROWS, ROWS, STRATEGIES

app = typer.Typer(
    help="ftrag: decide between fine-tuning, RAG or a hybrid, and prove it with numbers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
advisor_app = typer.Typer(help="Evaluate and retrain the learned scorer.", no_args_is_help=True)
app.add_typer(advisor_app, name="advisor")


@app.callback()
def _global_options(
    generator: Path | None = typer.Option(
        None, "--generator", help="Local Hugging Face model directory to use as generator."
    ),
    endpoint: str | None = typer.Option(
        None, "--endpoint", help="OpenAI-compatible base URL (e.g. http://localhost:8000/v1)."
    ),
) -> None:
    """Options before the command override FTRAG_GENERATOR / FTRAG_ENDPOINT."""
    import os

    if generator is not None:
        os.environ["FTRAG_GENERATOR"] = str(generator)
    if endpoint is not None:
        from prototype.generator import EndpointGenerator

        EndpointGenerator(endpoint)  # validates the URL now, with a clear message
        os.environ["FTRAG_ENDPOINT"] = endpoint


class OutFormat(str, Enum):
    json = "json"
    md = "md"
    text = "text"


def fail(lines: list[str]) -> None:
    for line in lines:
        typer.echo(f"error: {line}", err=True)
    sys.exit(2)


def emit_json(obj) -> None:
    typer.echo(json.dumps(obj, indent=2, default=str))


@app.command()
def schema() -> None:
    """Print the profile JSON Schema (field names, allowed values, bounds, help)."""
    from core.profile import profile_json_schema

    emit_json(profile_json_schema())


@app.command()
def validate(profile: Path = typer.Argument(..., help="Profile file, JSON or YAML.")) -> None:
    """Check a profile file; print one line per bad field and exit 2 if it is invalid."""
    from core.profile import load_profile

    p = load_profile(profile)
    typer.echo(f"ok: {profile} is a valid profile ({p.name})")


@app.command()
def doctor(
    format: OutFormat = typer.Option(OutFormat.text, "--format", help="text or json"),
    prepare: bool = typer.Option(False, "--prepare", help="Convert and cache the generator now."),
    reading_adapter: bool = typer.Option(
        False,
        "--reading-adapter",
        help="Build the extractive reader's reading adapter now if it is not built "
        "(trained on the tuning corpora; about 12-20 min on a 2-core CPU, once).",
    ),
) -> None:
    """Show which models are available offline, the cache, the device and versions."""
    from prototype.backbone import doctor_report, prepare_cache

    if prepare or reading_adapter:
        prepare_cache(progress=_stderr_progress)
    if reading_adapter:
        from prototype import reading_adapter as ra
        from prototype.backbone import pick_device
        from prototype.rows import SharedModels

        if not ra.available():
            typer.echo(f"building the reading adapter (about {ra.BUILD_MINUTES} min)", err=True)
            ra.build(SharedModels(pick_device(None)), progress=_stderr_progress)
    report = doctor_report()
    if format == OutFormat.json:
        emit_json(report)
        return
    for key, value in report.items():
        if isinstance(value, dict):
            typer.echo(f"{key}:")
            for k, v in value.items():
                typer.echo(f"  {k}: {v}")
        else:
            typer.echo(f"{key}: {value}")


# --- commands added by the capability modules go below this line ---


# -- prototype: run / ask (prototype/runner.py, rag.py, base.py) --
def _choice(value: str, allowed: tuple[str, ...], option: str) -> str:
    """Validate a registry-backed option (typer enums cannot follow a registry)."""
    if value not in allowed:
        fail([f"{option}: must be one of {', '.join(allowed)}, got {value!r}"])
    return value


class ProtoFormat(str, Enum):
    table = "table"
    json = "json"


def _stderr_progress(stage: str, done: int, total: int, info: dict) -> None:
    # Scalars only: `answers` (the streamed records the app shows) would flood the terminal.
    extra = " ".join(f"{k}={v}" for k, v in info.items() if not isinstance(v, list | dict))
    typer.echo(f"[{stage}] {done}/{total} {extra}".rstrip(), err=True)


def _fmt_metric(v) -> str:
    if v is None:
        return "-"
    return f"{v:.2f}" if isinstance(v, float) and abs(v) < 10 else f"{v:,.0f}"


def _metrics_table(results: list[dict]) -> str:
    """One row per result; the columns are the metric keys of the results' task (knowledge QA
    for a corpus run), so a task run shows its own metric names."""
    from core.prototype_result import cut_short, metric_keys

    keys = metric_keys(results[0].get("task") if results else None)
    heads = ["strategy", *(k.replace("accuracy", "acc") for k in keys)]
    rows = [[r["strategy"], *(_fmt_metric(r["metrics"].get(k)) for k in keys)] for r in results]
    widths = [max(len(str(x)) for x in col) for col in zip(heads, *rows, strict=True)]
    line = lambda cells: "  ".join(str(c).rjust(w) for c, w in zip(cells, widths, strict=True))  # noqa: E731
    # Figures beside the contract's metrics (FT after retraining, hybrid transfer) go under
    # the table, one line per strategy, so the table stays one screen wide.
    extras = [(r["strategy"], sorted(set(r["metrics"]) - set(keys))) for r in results]
    notes = [
        f"{name}: " + ", ".join(f"{k} {_fmt_metric(r['metrics'][k])}" for k in keys)
        for (name, keys), r in zip(extras, results, strict=True)
        if keys
    ]
    # As the app's task results warn: a LoRA run the time cap stopped before it fit.
    notes += [
        ", ".join(f"{s} (retrained)" if retrained else s for s, retrained in users)
        + f": training stopped by the time cap after {t.get('steps')} steps, train exact "
        f"{_fmt_metric(t.get('train_exact'))}; a larger --train-budget is likely to raise "
        "its scores"
        for users, t in cut_short(results)
    ]
    return "\n".join([line(heads), line(["-" * w for w in widths]), *map(line, rows), *notes])


@app.command()
def prototype(
    strategy: str = typer.Option(
        ..., "--strategy", help="A prototype row (base, rag, rag+constrained, ...) or all."
    ),
    corpus: Path | None = typer.Option(
        None, "--corpus", help="Corpus directory (docs/, qa.jsonl): knowledge QA."
    ),
    task: Path | None = typer.Option(
        None,
        "--task",
        help="Task dataset directory (task.yaml, train/test.jsonl): classification, extraction.",
    ),
    format: ProtoFormat = typer.Option(ProtoFormat.table, "--format", help="table or json"),
    device: str = typer.Option("auto", "--device", help="cpu, cuda or auto"),
    retrain: bool = typer.Option(False, "--retrain", help="FT: also retrain after the update."),
    augment: bool = typer.Option(
        True, "--augment/--no-augment", help="FT on a corpus: also train on question rewrites."
    ),
    train_budget: float | None = typer.Option(
        None,
        "--train-budget",
        help="Task datasets: seconds each LoRA run may train (default: the row's 165 s cap).",
    ),
    output: Path | None = typer.Option(None, "-o", "--output", help="Also write JSON here."),
) -> None:
    """Run a real prototype (base, RAG, fine-tuning, hybrid) on a corpus or a task dataset and
    print metrics."""
    if (corpus is None) == (task is None):
        fail(["give exactly one of --corpus DIR (knowledge QA) or --task DIR (a task dataset)"])
    if train_budget is not None:
        if task is None:
            fail(["--train-budget: applies to task datasets (--task); corpus rows keep their caps"])
        from prototype.task_rows import TRAIN_BUDGET_RANGE

        low, high = TRAIN_BUDGET_RANGE
        if not low <= train_budget <= high:
            fail([f"--train-budget: seconds from {low:g} to {high:,.0f}, got {train_budget:g}"])
    if task is not None:
        payload, results = _task_run(strategy, task, device, retrain, train_budget)
    else:
        payload, results = _corpus_run(strategy, corpus, device, retrain, augment)
    if output is not None:
        output.write_text(json.dumps(payload, indent=2, default=str))
        typer.echo(f"wrote {output}", err=True)
    if format == ProtoFormat.json:
        emit_json(payload)
    else:
        typer.echo(_metrics_table(results))


def _corpus_run(strategy, corpus, device, retrain, augment) -> tuple[dict, list[dict]]:
    from prototype.corpus import load_corpus
    from prototype.runner import run_all, run_strategy

    strategy = _choice(strategy, (*QA_ROWS, "all"), "--strategy")
    c = load_corpus(corpus)
    if strategy == "all":
        runs = run_all(c, device, _stderr_progress, retrain=retrain, augment=augment)
        results = [r.to_dict() for r in runs]
        return {
            "corpus": c.name,
            "strategies": [r.strategy for r in runs],
            "results": results,
        }, results
    payload = run_strategy(
        strategy, c, device, _stderr_progress, retrain=retrain, augment=augment
    ).to_dict()
    return payload, [payload]


def _task_run(strategy, task, device, retrain, train_budget=None) -> tuple[dict, list[dict]]:
    from core.registry import TASKS
    from prototype.runner import run_task_all, run_task_strategy
    from prototype.task_data import load_task

    ds = load_task(task)  # a bad directory is a TaskDataError naming file and line
    strategy = _choice(strategy, (*TASKS.get(ds.kind).rows, "all"), "--strategy")
    if strategy == "all":
        runs = run_task_all(
            ds, device, _stderr_progress, retrain=retrain, train_budget_s=train_budget
        )
        results = [r.to_dict() for r in runs]
        return {
            "task": ds.name,
            "kind": ds.kind,
            "strategies": [r.strategy for r in runs],
            "results": results,
        }, results
    payload = run_task_strategy(
        strategy, ds, device, _stderr_progress, retrain=retrain, train_budget_s=train_budget
    ).to_dict()
    return payload, [payload]


@app.command()
def ask(
    question: str = typer.Argument(..., help="The question to answer."),
    strategy: str = typer.Option("rag", "--strategy", help="base, rag or rag+constrained"),
    corpus: Path = typer.Option(..., "--corpus", help="Corpus directory (docs/)."),
    device: str = typer.Option("auto", "--device", help="cpu, cuda or auto"),
) -> None:
    """Answer one live question; prints the model's raw text and the retrieved documents
    (and, for the extractive reader, how sure it is)."""
    from prototype.corpus import load_corpus
    from prototype.extract import confidence_band
    from prototype.runner import answer_live

    strategy = _choice(strategy, ROWS.values(), "--strategy")
    a = answer_live(strategy, load_corpus(corpus), question, device)
    typer.echo(a.raw)
    typer.echo(f"retrieved: {', '.join(a.retrieved) or '(none: closed book)'}", err=True)
    typer.echo(f"latency: {a.seconds * 1000:.0f} ms, prompt tokens: {a.prompt_tokens}", err=True)
    conf = (a.extra or {}).get("confidence")
    if conf is not None:
        band = confidence_band(conf)
        check = ": check the passages" if band == "unsure" else ""
        typer.echo(f"confidence: {conf:.2f} ({band}{check})", err=True)


# -- advisor: recommend / evaluate / retrain / feedback (advisor/recommend.py, evaluate.py) --
@app.command()
def recommend(
    profile: Path = typer.Argument(..., help="Profile file, JSON or YAML."),
    format: OutFormat = typer.Option(OutFormat.json, "--format", help="json or md"),
) -> None:
    """Recommend fine-tuning, RAG or a hybrid, with the rules and learned evidence behind it."""
    from advisor.recommend import recommend as run_recommend
    from advisor.recommend import to_markdown
    from core.profile import load_profile

    rec = run_recommend(load_profile(profile))
    if format == OutFormat.json:
        emit_json(rec.to_dict())
    else:
        typer.echo(to_markdown(rec), nl=False)


@advisor_app.command("evaluate")
def advisor_evaluate(
    format: OutFormat = typer.Option(OutFormat.text, "--format", help="text or json"),
    folds: int = typer.Option(5, "--folds", min=2, max=20, help="Cross-validation folds."),
) -> None:
    """Source-grouped CV of rules-only, learned-only and blended (per source type, ECE), the
    confidence calibration, and accuracy on the held-out borderline cases (never fitted)."""
    from advisor.evaluate import evaluation_summary, summary_dict, summary_text

    summary = evaluation_summary(k=folds)
    if format == OutFormat.json:
        emit_json(summary_dict(summary))
    else:
        typer.echo(summary_text(summary))


@advisor_app.command("retrain")
def advisor_retrain(
    store: Path | None = typer.Option(None, "--store", help="SQLite store (default: FTRAG_DB)."),
    out: Path | None = typer.Option(None, "--out", help="Where to write the JSON coefficients."),
    format: OutFormat = typer.Option(OutFormat.text, "--format", help="text or json"),
) -> None:
    """Retrain the scorer on the case library plus store feedback; report CV before and after."""
    from advisor.evaluate import retrain
    from advisor.recommend import MODEL_PATH
    from pipeline.store import Store

    result = retrain(Store(store).list_feedback(), out or MODEL_PATH)
    if format == OutFormat.json:
        emit_json(result)
    else:
        typer.echo(result["text"])


class FeedbackOutcome(str, Enum):
    worked = "worked"
    mixed = "mixed"
    failed = "failed"


@advisor_app.command("feedback")
def advisor_feedback(
    profile: Path = typer.Argument(..., help="Profile file the decision was about."),
    chosen: str = typer.Option(..., "--chosen", help="Strategy that was built."),
    outcome: FeedbackOutcome = typer.Option(..., "--outcome", help="worked, mixed or failed"),
    rating: int | None = typer.Option(None, "--rating", min=1, max=5, help="1-5, optional."),
    note: str = typer.Option("", "--note", help="Free text: what happened."),
    store: Path | None = typer.Option(None, "--store", help="SQLite store (default: FTRAG_DB)."),
) -> None:
    """Record how a chosen strategy worked out; `ftrag advisor retrain` learns from it."""
    from core.profile import load_profile
    from pipeline.store import Store

    chosen = _choice(chosen, STRATEGIES.values(), "--chosen")
    p = load_profile(profile)
    s = Store(store)
    row = s.save_feedback(p.model_dump(), chosen, outcome.value, rating, note)
    typer.echo(f"recorded feedback #{row} ({chosen}: {outcome.value}) in {s.path}")


class SimFormat(str, Enum):
    json = "json"
    csv = "csv"


@app.command()
def simulate(
    profile: Path = typer.Argument(..., help="Profile file, JSON or YAML."),
    months: int = typer.Option(36, "--months", min=1, max=600, help="Horizon in months."),
    format: SimFormat = typer.Option(SimFormat.json, "--format", help="json or csv"),
    calibration: Path | None = typer.Option(
        None, "--calibration", help="Prototype metrics JSON: measured accuracy replaces cited."
    ),
    set_: list[str] | None = typer.Option(
        None, "--set", help="Override an assumption or price: key=value (repeatable)."
    ),
    prices: Path | None = typer.Option(None, "--prices", help="Price file overriding the book."),
    seed: int = typer.Option(0, "--seed", help="Monte Carlo seed (same seed, same bands)."),
    draws: int = typer.Option(2000, "--draws", min=0, max=100_000, help="Monte Carlo draws."),
    review_floor: float | None = typer.Option(
        None,
        "--review-floor",
        min=0.0,
        max=1.0,
        help="A person checks the answers under this confidence floor: the share checked and "
        "the wrong answers caught are measured on --calibration's answers.",
    ),
) -> None:
    """Simulate cost, freshness and latency of fine-tuning, RAG and hybrid over time."""
    from core.profile import load_profile
    from simulator.runner import run

    result = run(
        load_profile(profile),
        months=months,
        seed=seed,
        draws=draws,
        prices_file=prices,
        sets=set_,
        calibration_file=calibration,
        review_floor=review_floor,
    )
    if format == SimFormat.csv:
        typer.echo(result.rows.to_csv(index=False), nl=False)
    else:
        emit_json(result.to_dict())


class ReportFormat(str, Enum):
    md = "md"
    html = "html"
    pdf = "pdf"
    json = "json"
    adr = "adr"  # a Markdown Architecture Decision Record (MADR layout)


@app.command()
def report(
    profile: Path | None = typer.Argument(
        None, help="Profile file, JSON or YAML (omit when re-rendering with --from)."
    ),
    output: Path = typer.Option(..., "-o", "--output", help="Report file to write."),
    format: ReportFormat | None = typer.Option(
        None,
        "--format",
        help="md, html, pdf, json or adr (a Markdown ADR in the MADR layout; default: from the "
        "-o suffix).",
    ),
    from_: Path | None = typer.Option(
        None, "--from", help="Re-render a decision JSON written by `--format json`."
    ),
    prototype: Path | None = typer.Option(
        None, "--prototype", help="Prototype run JSON (`ftrag prototype --format json`)."
    ),
    months: int | None = typer.Option(
        None, "--months", min=1, max=600, help="Horizon in months (default 36)."
    ),
    set_: list[str] | None = typer.Option(
        None, "--set", help="Override an assumption or price: key=value (repeatable)."
    ),
    calibration: Path | None = typer.Option(
        None, "--calibration", help="Prototype metrics JSON: measured accuracy replaces cited."
    ),
    seed: int = typer.Option(0, "--seed", help="Monte Carlo seed (same seed, same bands)."),
) -> None:
    """Write the decision report (Markdown, offline HTML, PDF, re-importable JSON, or a
    Markdown Architecture Decision Record with --format adr)."""
    from dataclasses import replace

    from core.decision import load_decision, load_prototype_run
    from core.prototype_result import PrototypeRun
    from pipeline.decide import build_decision
    from report import format_for, write_report

    fmt = format.value if format else format_for(output)
    if fmt is None:
        fail([f"{output}: cannot tell the format from its name; add --format md|html|pdf|json|adr"])
    if from_ is not None:
        if profile is not None:
            fail(["give a PROFILE or --from DECISION.json, not both"])
        if set_ or calibration or months is not None:
            fail(
                [
                    "--from re-renders a saved decision as it is; --set, --calibration and "
                    "--months need a PROFILE"
                ]
            )
        decision = load_decision(from_)
        if prototype is not None:
            decision = replace(
                decision, prototype=PrototypeRun.from_dict(load_prototype_run(prototype))
            )
    elif profile is None:
        fail(["missing PROFILE (or --from DECISION.json)"])
    else:
        from core.profile import load_profile

        run = load_prototype_run(prototype) if prototype is not None else None
        decision = build_decision(
            load_profile(profile),
            months=months or 36,
            overrides=set_,
            calibration=calibration,
            prototype=run,
            seed=seed,
        )
    written = write_report(decision, fmt, output)
    if written.note:
        typer.echo(f"note: {written.note}", err=True)
    typer.echo(f"wrote {written.path} ({written.format}, {written.size:,} bytes)")


# -- corpus: import / suggest-qa (prototype/ingest.py, corpus_write.py, suggest_qa.py) --
corpus_app = typer.Typer(help="Bring your own documents: import them, suggest a golden set.")
app.add_typer(corpus_app, name="corpus")


@corpus_app.command("import")
def corpus_import(
    sources: list[Path] = typer.Argument(..., help="Files, folders or .zip archives to import."),
    output: Path = typer.Option(..., "-o", "--output", help="Corpus directory to write."),
    force: bool = typer.Option(False, "--force", help="Replace the docs of a non-empty CORPUS."),
) -> None:
    """Import PDF, DOCX, HTML, Markdown, text and CSV files as a corpus (CORPUS/docs/<id>.md).

    A file that cannot be read is reported on its own line and the rest are imported; the
    exit status is 2 only when nothing could be imported.
    """
    from prototype.corpus_write import check_output, write_corpus
    from prototype.ingest import ingest

    check_output(output, force)
    result = ingest(sources)
    for line in result.problems:
        typer.echo(f"skipped: {line}", err=True)
    if not result.docs:
        fail(
            [f"nothing imported from {len(result.problems)} problem file(s); {output} not written"]
        )
    write_corpus(result, output, force)
    formats: dict[str, int] = {}
    for d in result.docs:
        formats[d.format] = formats.get(d.format, 0) + 1
    kinds = ", ".join(f"{n} {f}" for f, n in sorted(formats.items()))
    typer.echo(
        f"imported {len(result.docs)} document(s) ({kinds}) into {output / 'docs'}; "
        f"{len(result.problems)} file(s) skipped"
    )
    if not (output / "qa.jsonl").exists():
        typer.echo(f"next: ftrag corpus suggest-qa {output} -o {output / 'qa.jsonl'}", err=True)


@corpus_app.command("suggest-qa")
def corpus_suggest_qa(
    corpus: Path = typer.Argument(..., help="Corpus directory (docs/)."),
    n: int = typer.Option(20, "-n", min=1, max=10_000, help="How many pairs to suggest."),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="JSONL file to write (default: print to stdout)."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing output file."),
) -> None:
    """Suggest question-answer pairs drawn from the documents by rules (marked generated)."""
    from prototype.suggest_qa import corpus_docs, suggest_qa

    docs = corpus_docs(corpus)
    if output is not None and output.exists() and not force:
        fail([f"{output}: exists; pass --force to overwrite it"])
    rows = suggest_qa(docs, n)
    if not rows:
        fail([f"{corpus}: no sentence with a number, date, name or defined term to ask about"])
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(
            f"wrote {len(rows)} suggested pair(s) from {len(docs)} document(s) to {output}; "
            'each is marked "generated": true until reviewed',
            err=True,
        )


def main() -> None:
    """Console entry point. Click handles usage errors (exit 2); domain errors become one
    line per problem and exit 2; Ctrl-C exits 130 without a traceback."""
    try:
        app()
    except AdvisorError as e:
        fail(e.lines())
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
