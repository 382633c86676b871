"""`make eval`: run prototype rows on every corpus of data/corpora/SPLITS.yaml, tuning and test.

The evaluation protocol (ARCHITECTURE.md, "Knowledge corpus"):
- Corpora are split into **tuning** and **test** corpora in data/corpora/SPLITS.yaml. Every
  weight, threshold, feature and prompt is chosen on tuning corpora only.
- Test corpora are run once per change and **never read for misses**. This script prints
  only their aggregate figures; `--misses` lists wrong answers of tuning corpora only. The
  JSON it writes for a test corpus holds every answer record, because a published figure
  must be reproducible from the run behind it, but the protocol is that nobody reads those
  records to change the reader: a test corpus whose misses were read becomes a tuning corpus
  and moves in SPLITS.yaml.

Each corpus's table shows exact match beside the strict containment accuracy, and the
containment accuracy of the scoring before issue 15 ("old": the gold anywhere in the answer,
no source check on changed facts), re-scored from the same answers, so every before/after
comes from one run. The pooled tables pool the answers of all tuning (or all test) corpora:
micro-averages over questions, p50 over every timed query.

Writes data/runs/eval_<corpus>.json (the split, each row's full PrototypeResult with its
answer records, and the old-scoring figures) and, when every corpus of SPLITS.yaml was run
(or with --pool-only, from those files), data/runs/eval_pooled.json.

    python bench/eval_corpora.py                     # base, rag, rag+constrained
    python bench/eval_corpora.py --rows all          # + fine_tuning and hybrid (LoRA training)
    python bench/eval_corpora.py --corpora aurora_handbook --rows rag+constrained
    python bench/eval_corpora.py --pool-only         # re-pool the committed per-corpus runs
    python bench/eval_corpora.py --rows rag --keep   # add or rerun one row, keep the others
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CORPORA = ROOT / "data" / "corpora"
SPLITS = CORPORA / "SPLITS.yaml"
RUNS = ROOT / "data" / "runs"
DEFAULT_ROWS = ("base", "rag", "rag+constrained")
SPLIT_NAMES = ("tuning", "test")

# Columns of every table: (title, metric key or extra key).
COLUMNS = (
    ("acc", "accuracy"),
    ("EM", "exact_match"),
    ("F1", "token_f1"),
    ("para", "accuracy_paraphrased"),
    ("EM para", "exact_match_paraphrased"),
    ("upd", "accuracy_updated"),
    ("EM upd", "exact_match_updated"),
    ("upd any src", "accuracy_updated_any_source"),
    ("format", "format_compliance"),
    ("source", "source_accuracy"),
    ("acc old", "old_accuracy"),
    ("para old", "old_accuracy_paraphrased"),
    ("upd old", "old_accuracy_updated"),
    ("p50 ms", "latency_ms_p50"),
)


def load_splits(path: Path | None = None) -> dict[str, list[str]]:
    """{"tuning": [corpus names], "test": [...]} from SPLITS.yaml: a mapping of split name to
    a list of corpus names (or of mappings with a `name`), relative to data/corpora."""
    import yaml

    from core.errors import ConfigError

    path = path or SPLITS
    if not path.exists():
        raise ConfigError(f"{path}: no splits file; it lists the tuning and test corpora")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    data = data.get("splits", data) if isinstance(data, dict) else data
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of `tuning` and `test` to corpus lists")
    out: dict[str, list[str]] = {}
    for split in SPLIT_NAMES:
        items = data.get(split)
        if not isinstance(items, list) or not items:
            raise ConfigError(f"{path}: `{split}` must be a non-empty list of corpus names")
        names = [i["name"] if isinstance(i, dict) else str(i) for i in items]
        for n in names:
            if not (CORPORA / n).is_dir():
                raise ConfigError(f"{path}: `{split}` names {n!r}, not a folder in {CORPORA}")
        out[split] = names
    both = set(out["tuning"]) & set(out["test"])
    if both:
        raise ConfigError(f"{path}: {sorted(both)} are in both tuning and test")
    return out


def lenient_metrics(answers: list[dict]) -> dict:
    """The scoring before issue 15, re-applied to the same answers: the gold (or an alias)
    anywhere in the judged text as whole tokens, and no source check on changed facts."""
    from prototype.scoring import contains_gold

    out = {}
    for kind, key in (
        ("original", "old_accuracy"),
        ("paraphrase", "old_accuracy_paraphrased"),
        ("updated", "old_accuracy_updated"),
    ):
        rs = [a for a in answers if a["kind"] == kind and a.get("gold") is not None]
        if rs:
            hits = [
                contains_gold(
                    (a["answer"] if a["compliant"] else a["raw"]) or "",
                    a["gold"],
                    a.get("aliases") or (),
                )
                for a in rs
            ]
            out[key] = round(sum(hits) / len(rs), 4)
    return out


def pooled_metrics(results: list[dict]) -> dict:
    """One row's metrics over the answers of several corpora (micro-averages)."""
    from prototype.evaluate import confidence_metrics, metrics_from_records, strict_extras

    answers = [a for r in results for a in r["answers"]]
    m = metrics_from_records(answers, None)
    m.pop("peak_rss_mb", None)
    m.pop("build_seconds", None)
    lat = [a["latency_ms"] for a in answers if a.get("latency_ms") is not None]
    m["latency_ms_p50"] = round(statistics.median(lat), 1) if lat else None
    return {
        **m,
        **strict_extras(answers),
        **lenient_metrics(answers),
        **confidence_metrics(answers),
        "n_questions": {
            k: sum(a["kind"] == k for a in answers) for k in ("original", "paraphrase", "updated")
        },
        "corpora": [r["meta"].get("corpus") for r in results],
    }


def _fmt(v) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float) and v <= 1.0:
        return f"{v:.3f}"
    return f"{v:,.0f}"


def table(title: str, rows: dict[str, dict]) -> str:
    """A Markdown table: one line per row, COLUMNS as columns."""
    head = ["row", *(t for t, _ in COLUMNS)]
    lines = [f"### {title}", "", "| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for row, m in rows.items():
        lines.append("| " + " | ".join([row, *(_fmt(m.get(k)) for _, k in COLUMNS)]) + " |")
    return "\n".join(lines)


def row_figures(result: dict) -> dict:
    from prototype.evaluate import confidence_metrics

    return {
        **result["metrics"],
        **lenient_metrics(result["answers"]),
        **confidence_metrics(result["answers"]),
    }


def confidence_lines(rows: dict[str, dict]) -> list[str]:
    """One line per row whose answers carry the extractive reader's confidence."""
    from prototype.extract import CONFIDENT, UNSURE

    return [
        f"  {row}: confidence >= {CONFIDENT}: {_fmt(m['confident_share'])} of answers, "
        f"accuracy {_fmt(m['accuracy_confident'])}; < {UNSURE}: {_fmt(m['unsure_share'])}, "
        f"accuracy {_fmt(m['accuracy_unsure'])}"
        for row, m in rows.items()
        if "confident_share" in m
    ]


def misses(result: dict, limit: int) -> list[str]:
    """Wrong answers of one row, for a TUNING corpus only (the caller checks)."""
    out = []
    for a in result["answers"]:
        if not a["correct"]:
            said = a["answer"] if a["compliant"] else a["raw"]
            out.append(
                f"  {a['id']:>8} {a['kind']:<10} gold {a['gold']!r} ({a['gold_doc']}) | "
                f"said {said!r} ({a.get('source')}) | {a['question']}"
            )
    return out[:limit]


def run_corpus(
    name: str, split: str, rows: list[str], device: str | None, path: Path, keep: bool
) -> dict:
    """Run `rows` on one corpus, writing `path` after every row (a long run that stops keeps
    what it measured). With `keep`, the rows already in `path` and not rerun stay."""
    from prototype.corpus import load_corpus
    from prototype.runner import run_strategy

    corpus = load_corpus(CORPORA / name)
    old = json.loads(path.read_text(encoding="utf-8")) if keep and path.exists() else {}
    results = [r for r in old.get("results", []) if r["strategy"] not in rows]
    stages: set[str] = set()

    def progress(stage, done, total, info):  # one line per stage, no answers (test corpora)
        if stage not in stages:
            stages.add(stage)
            print(f"    {stage} ({total})", flush=True)

    run: dict = {}
    for row in rows:
        t0 = time.perf_counter()
        results.append(run_strategy(row, corpus, device, progress).to_dict())
        print(f"  {name} / {row}: {time.perf_counter() - t0:.0f} s", flush=True)
        run = {
            "corpus": name,
            "split": split,
            "rows": [r["strategy"] for r in results],
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
            "scoring": "strict (prototype/scoring.py); old_* = containment before issue 15",
            "old_scoring": {r["strategy"]: lenient_metrics(r["answers"]) for r in results},
            "results": results,
        }
        path.write_text(json.dumps(run, indent=1, ensure_ascii=False), encoding="utf-8")
    return run


def pool(runs: dict[str, dict], splits: dict[str, list[str]]) -> dict:
    out: dict = {"splits": splits, "rows": {}}
    for split in SPLIT_NAMES:
        group = [runs[c] for c in splits[split] if c in runs]
        rows = list(dict.fromkeys(r["strategy"] for g in group for r in g["results"]))
        out["rows"][split] = {
            row: pooled_metrics([r for g in group for r in g["results"] if r["strategy"] == row])
            for row in rows
        }
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", default=",".join(DEFAULT_ROWS), help="comma list, or `all`")
    ap.add_argument("--corpora", default="", help="comma list (default: all in SPLITS.yaml)")
    ap.add_argument("--device", default=None)
    ap.add_argument("--pool-only", action="store_true", help="re-pool data/runs/eval_*.json")
    ap.add_argument("--keep", action="store_true", help="keep other rows already in the files")
    ap.add_argument("--misses", type=int, default=0, help="list N misses per row (tuning only)")
    args = ap.parse_args(argv)

    from core.registry import TASKS

    chosen = [c for c in args.corpora.split(",") if c]
    splits = load_splits() if SPLITS.exists() or not chosen else {s: [] for s in SPLIT_NAMES}
    split_of = {c: s for s in SPLIT_NAMES for c in splits[s]}
    wanted = chosen or list(split_of)
    for c in wanted:  # a corpus not in SPLITS.yaml is treated as a test corpus: no misses
        split_of.setdefault(c, "unlisted")
    rows = list(TASKS.get("knowledge_qa").rows) if args.rows == "all" else args.rows.split(",")
    RUNS.mkdir(parents=True, exist_ok=True)

    runs: dict[str, dict] = {}
    for c in wanted:
        path = RUNS / f"eval_{c}.json"
        if args.pool_only:
            if path.exists():
                runs[c] = json.loads(path.read_text(encoding="utf-8"))
            continue
        print(f"== {c} ({split_of[c]})", flush=True)
        runs[c] = run_corpus(c, split_of[c], rows, args.device, path, args.keep)

    for c, run in runs.items():
        figures = {r["strategy"]: row_figures(r) for r in run["results"]}
        print("\n" + table(f"{c} ({run['split']})", figures))
        print("\n".join(confidence_lines(figures)))
        if args.misses and run["split"] == "tuning":
            for r in run["results"]:
                print(f"\nmisses of {r['strategy']} on {c}:")
                print("\n".join(misses(r, args.misses)))

    listed = {c for c, s in split_of.items() if s in SPLIT_NAMES}
    if listed and (args.pool_only or listed <= set(wanted)):
        pooled = pool(runs, splits)
        pooled["date"] = datetime.now(UTC).isoformat(timespec="seconds")
        for split in SPLIT_NAMES:
            names = ", ".join(c for c in splits[split] if c in runs)
            print("\n" + table(f"pooled {split}: {names}", pooled["rows"][split]))
            print("\n".join(confidence_lines(pooled["rows"][split])))
        (RUNS / "eval_pooled.json").write_text(
            json.dumps(pooled, indent=1, ensure_ascii=False), encoding="utf-8"
        )


if __name__ == "__main__":
    main()
