"""The UI's doors into the core: cached, thin adapters. All cache decorators live here.

`st.cache_data` wraps pure results (keyed by JSON text, so equal inputs hit the cache);
`st.cache_resource` wraps models, indexes and the store, which are shared read-only across
sessions. Core imports are lazy so the first page renders before torch is ever imported.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import streamlit as st

from core.profile import Profile
from core.registry import ROWS

ROOT = Path(__file__).resolve().parents[1]
PROFILES_DIR = ROOT / "data" / "profiles"
CORPORA_DIR = ROOT / "data" / "corpora"
PROFILE_SUFFIXES = (".json", ".yaml", ".yml")


# --- store -----------------------------------------------------------------------------------
@st.cache_resource(show_spinner=False)
def _store(path: str):
    from pipeline.store import Store

    return Store(path)


def store():
    """The Store at FTRAG_DB (read per call, so tests can point it at a tmp file)."""
    from pipeline.store import default_store_path

    return _store(str(default_store_path()))


@st.cache_data(show_spinner=False, max_entries=8)
def _learnt_timings(db: str, newest_run: int) -> dict:
    from ui import eta

    return eta.learn(r["payload"] for r in _store(db).list_runs(eta.RUNS_CONSIDERED))


def learnt_timings() -> dict:
    """Seconds per question and build seconds per row, learnt from the saved runs (ui.eta);
    re-read only when a run was saved since, not on every rerun of the page."""
    s = store()
    newest = s.list_runs(limit=1)
    return _learnt_timings(str(s.path), newest[0]["id"] if newest else 0)


# --- profiles --------------------------------------------------------------------------------
def example_profiles() -> dict[str, Path]:
    """Example name -> file, from data/profiles (names are file stems, never user input)."""
    if not PROFILES_DIR.is_dir():
        return {}
    return {
        p.stem.replace("_", " "): p
        for p in sorted(PROFILES_DIR.iterdir())
        if p.suffix in PROFILE_SUFFIXES and p.is_file()
    }


# --- recommendation --------------------------------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=256)
def _recommend(profile_json: str) -> dict:
    from advisor.recommend import recommend

    return recommend(Profile.model_validate_json(profile_json)).to_dict()


def recommend_view(profile: Profile) -> dict:
    return _recommend(profile.model_dump_json())


# --- simulation ------------------------------------------------------------------------------
@st.cache_resource(show_spinner=False)
def price_book():
    """The price book as shipped (read-only), for the model / store pickers."""
    from simulator.prices import load_price_book

    return load_price_book()


@st.cache_data(show_spinner=False)
def default_assumptions(profile_json: str) -> dict:
    from simulator.assumptions import derive_assumptions

    return derive_assumptions(Profile.model_validate_json(profile_json), price_book()).to_dict()


@st.cache_data(show_spinner=False, max_entries=64)
def _simulate(
    profile_json: str, sets_json: str, calibration_json: str, months: int, draws: int
) -> dict:
    """The pure simulate call plus its figures. The simulator's result holds mapping proxies
    that do not pickle, so the cache keeps its JSON form and the (picklable) plotly figures,
    drawn from the JSON-side value a Decision carries."""
    from core.simulation import SimulationResult
    from report import figures
    from simulator.runner import run

    profile = Profile.model_validate_json(profile_json)
    sets = [f"{k}={v}" for k, v in json.loads(sets_json).items()]
    calibration = json.loads(calibration_json) or None
    result = run(profile, months=months, draws=draws, sets=sets, calibration_file=calibration)
    data = result.to_dict()
    return {"result": data, "figures": figures.all_figures(SimulationResult.from_dict(data))}


def simulation_view(
    profile: Profile, sets: dict[str, Any], calibration: dict | None, months: int, draws: int
) -> dict:
    return _simulate(
        profile.model_dump_json(),
        json.dumps(sets, sort_keys=True),
        json.dumps(calibration or {}, sort_keys=True),
        months,
        draws,
    )


def calibration_payload(run: dict | None) -> dict | None:
    """A stored prototype run -> the calibration input: strategy + metrics rows only, so the
    cache key stays small (per-answer records are not needed to calibrate)."""
    if not run:
        return None
    rows = run.get("results") or ([run] if "strategy" in run else [])
    out = [
        {
            "strategy": r["strategy"],
            "metrics": r["metrics"],
            **({"variant": r["variant"]} if r.get("variant") else {}),
        }
        for r in rows
        if r.get("strategy") in ROWS and r.get("metrics")
    ]
    return {"results": out} if out else None


# --- corpora ---------------------------------------------------------------------------------
def _is_corpus(p: Path) -> bool:
    return (p / "docs").is_dir()


def saved_corpora_root() -> Path:
    """Where the app saves uploaded corpora with their golden sets: FTRAG_SAVED_CORPORA, else
    the user's data dir (beside the SQLite store)."""
    env = os.environ.get("FTRAG_SAVED_CORPORA")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("ftrag")) / "corpora"


def corpus_dirs() -> dict[str, Path]:
    """Selectable corpora: data/corpora/*, the corpora saved from uploads, and
    FTRAG_CORPORA_DIRS (os.pathsep-separated; each entry is a corpus or a folder of corpora)."""
    roots = [CORPORA_DIR, saved_corpora_root()]
    extra = os.environ.get("FTRAG_CORPORA_DIRS", "")
    roots += [Path(p).expanduser() for p in extra.split(os.pathsep) if p.strip()]
    found: dict[str, Path] = {}
    for root in roots:
        if not root.is_dir():
            continue
        candidates = [root] if _is_corpus(root) else sorted(root.iterdir())
        for c in candidates:
            if c.is_dir() and _is_corpus(c):
                found.setdefault(c.name, c.resolve())
    return found


class _Memo:
    """A process-wide LRU of built objects (ingested uploads, indexes), shared read-only like
    `st.cache_resource`, but filled outside it: a cached function may not draw on elements
    created outside it, and these builds draw a progress bar with an ETA."""

    def __init__(self, size: int):
        import collections
        import threading

        self.size, self.items, self.lock = size, collections.OrderedDict(), threading.Lock()

    def get(self, key, build, what: str):
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        from ui.progress_bar import StageBar

        bar = StageBar(what)
        try:
            value = build(bar)
        finally:
            bar.clear()
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return value


@st.cache_resource(show_spinner=False)
def _memo(kind: str) -> _Memo:
    return _Memo(8)


def ingest_uploads(upload_key: str, files: dict[str, bytes]):
    """Uploaded files -> prototype.ingest.IngestResult, once per distinct upload (`upload_key`
    is the content digest; the bytes themselves are not hashed again)."""
    from prototype.ingest import ingest_files

    return _memo("ingest").get(
        upload_key, lambda bar: ingest_files(files, progress=bar), "Reading your documents"
    )


TASKS_DIR = ROOT / "data" / "tasks"


def task_dirs() -> dict[str, Path]:
    """Demo task datasets: data/tasks/<name>/ holding a task.yaml (names are folder names,
    never user input)."""
    if not TASKS_DIR.is_dir():
        return {}
    import yaml

    splits = yaml.safe_load((TASKS_DIR / "SPLITS.yaml").read_text(encoding="utf-8"))
    order = [*splits.get("tuning", ()), *splits.get("test", ())]  # demo datasets first
    found = [
        p
        for p in TASKS_DIR.iterdir()
        if p.is_dir() and not p.name.startswith("_") and (p / "task.yaml").is_file()
    ]
    found.sort(key=lambda p: (order.index(p.name) if p.name in order else len(order), p.name))
    return {p.name: p for p in found}


@st.cache_data(show_spinner=False, max_entries=64)
def task_kind(path: str) -> str | None:
    """The `kind` a task.yaml declares, without loading the dataset (None when unreadable;
    loading it then says why)."""
    import yaml

    try:
        data = yaml.safe_load((Path(path) / "task.yaml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return data.get("kind") if isinstance(data, dict) else None


@st.cache_resource(show_spinner="Reading the task dataset...", max_entries=16)
def load_task_cached(path: str, mtime: float):
    """A validated TaskDataset (frozen); `mtime` invalidates it when files change."""
    from prototype.task_data import load_task

    return load_task(path)


@st.cache_resource(show_spinner=False, max_entries=16)
def load_corpus_cached(path: str, mtime: float):
    """A validated Corpus (frozen, read-only); `mtime` invalidates it when files change."""
    from prototype.corpus import load_corpus

    return load_corpus(path)


def corpus_mtime(path: Path) -> float:
    return max((p.stat().st_mtime for p in path.rglob("*")), default=0.0)


# --- models (shared, read-only at inference) -------------------------------------------------
@st.cache_resource(show_spinner="Loading the generator (SmolLM2-135M)...")
def generator():
    from prototype.backbone import load_generator

    return load_generator()


@st.cache_resource(show_spinner="Loading the reader (SmolLM2 + reading adapter)...")
def reading_model():
    """The extractive reader's own model, (model, tokenizer, name): the base model with the
    reading adapter merged, or the plain model when none is built
    (prototype.reading_adapter)."""
    from prototype import reading_adapter
    from prototype.backbone import GENERATOR_NAME

    if not reading_adapter.available():  # not built: share the plain model, no second copy
        return (*generator(), GENERATOR_NAME)
    return reading_adapter.load_reading_model()


@st.cache_data(ttl=60, show_spinner=False)
def reading_adapter_note() -> str:
    """Which model scores the extractive reader's spans, for the reader's help text."""
    from prototype.reading_adapter import BUILD_MINUTES, available

    if available():
        return "Span scores: SmolLM2 with the reading adapter (trained on the tuning corpora)."
    return (
        "Span scores: the plain SmolLM2, with the weights fitted for it. The reading adapter "
        f"is not built: `make adapter` builds it (about {BUILD_MINUTES} min, once)."
    )


@st.cache_resource(show_spinner=False)
def span_extractor():
    """The extractive reader's span scorer, kept across questions: it holds the KV cache of
    the system prompt every question shares, computed on the first question only."""
    from prototype.extract import SpanExtractor
    from prototype.reading_adapter import weights_for

    model, tok, name = reading_model()
    return SpanExtractor(model, tok, weights=weights_for(name))


@st.cache_resource(show_spinner="Loading the embedder (MiniLM)...")
def embedder():
    from prototype.backbone import load_embedder

    return load_embedder()


def rag_index(corpus_key: str, updated: bool, corpus):
    """A FAISS index over the corpus (or the corpus after its update), shared read-only.

    Never call `.update()` on it: the "after update" view has its own cached index, so an
    update in one session never changes what another session retrieves.
    """
    from prototype.backbone import EMBEDDER_NAME
    from prototype.index import RagIndex
    from prototype.index_store import EmbeddingStore

    docs = corpus.updated().docs if updated else corpus.docs

    def build(bar):
        # Embeddings persist on disk keyed by content hash: re-opening a corpus, or its
        # updated version, embeds only the chunks never seen before (identical vectors).
        store = EmbeddingStore.for_embedder(EMBEDDER_NAME)
        return RagIndex.build(docs, embedder(), store=store, progress=bar)

    return _memo("index").get((corpus_key, updated), build, "Indexing the documents")


@st.cache_data(show_spinner=False, max_entries=16)
def suggested_questions(corpus_key: str, _corpus, n: int = 4) -> list[str]:
    """Questions to try in the live box, drawn from this corpus: from its golden set when it
    has one (a paraphrase when there is one, so the box shows the reader's robustness), else
    from the rule-based suggestions over its documents. Seeded, so a page rerun keeps them."""
    import random

    if _corpus.qa:
        picked = random.Random(corpus_key).sample(list(_corpus.qa), min(n, len(_corpus.qa)))
        return [(q.paraphrases or (q.question,))[0] for q in picked]
    from prototype.suggest_qa import suggest_qa

    return [s["question"] for s in suggest_qa(_corpus.docs, n=n)]


@st.cache_resource(show_spinner=False)
def inference_lock():
    """One lock around live answers on the shared generator: HF fast tokenizers raise
    "Already borrowed" when two threads pad with the same tokenizer at once."""
    import threading

    return threading.Lock()


def ask(
    corpus_key: str, corpus, question: str, updated: bool = False, constrained: bool = True
) -> dict:
    """Answer one live question with the prototype's own RAG reader over the cached index:
    the reply, the source it cites and the passages it was shown. `constrained` picks the
    extractive reader (rag+constrained) over free generation (rag)."""
    from prototype.backbone import GENERATOR_NAME
    from prototype.generator import LocalGenerator
    from prototype.rag import RagReader
    from prototype.scoring import parse_answer_format

    index = rag_index(corpus_key, updated, corpus)
    model, tok, name = reading_model() if constrained else (*generator(), GENERATOR_NAME)
    # Per call: the reader keeps per-call timings.
    extractor = span_extractor() if constrained else None
    reader = RagReader(
        index, LocalGenerator(model, tok, name), constrained=constrained, extractor=extractor
    )
    from prototype.relevance import not_in_documents

    answer = not_in_documents(index, question)
    if answer is None:
        with inference_lock():
            [answer] = reader([question])
    fmt = parse_answer_format(answer.raw)
    return {
        "raw": answer.raw,
        "answer": fmt.answer,
        "source": fmt.source,
        "compliant": fmt.compliant,
        "passages": answer.extra["passages"],
        "retrieved": list(answer.retrieved),
        "seconds": answer.seconds,
        "confidence": answer.extra.get("confidence"),  # the extractive reader's
        "second_look": bool(answer.extra.get("second_look")),  # an unsure pick, read again
        "not_in_documents": "relevance" in answer.extra,  # the gate refused it
    }


# --- decision and report ---------------------------------------------------------------------
@st.cache_data(show_spinner="Building the decision...", max_entries=32)
def _decision(profile_json: str, sim_json: str, prototype_json: str) -> dict:
    """build_decision with the Cost page's settings (and calibration, when toggled on)."""
    from pipeline.decide import build_decision

    sim = json.loads(sim_json)
    prototype = json.loads(prototype_json) or None
    kwargs = dict(
        months=int(sim.get("months", 36)),
        overrides=sim.get("overrides") or None,
        prototype=prototype,
    )
    return build_decision(
        Profile.model_validate_json(profile_json),
        calibration=sim.get("calibration") or None,
        **kwargs,
    ).to_dict()


def decision_view(profile: Profile, sim_settings: dict, prototype: dict | None) -> dict:
    proto = {"results": prototype["results"]} if prototype and prototype.get("results") else {}
    return _decision(
        profile.model_dump_json(),
        json.dumps(sim_settings, sort_keys=True),
        json.dumps(proto, sort_keys=True),
    )


@st.cache_data(show_spinner=False, max_entries=32)
def _render(decision_json: str, fmt: str) -> bytes:
    from core.decision import Decision
    from report import render

    return render(Decision.from_dict(json.loads(decision_json), "decision"), fmt)


def render_report(decision: dict, fmt: str) -> bytes:
    return _render(json.dumps(decision, sort_keys=True), fmt)
