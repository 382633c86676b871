"""The reading adapter: a LoRA adapter that makes SmolLM2-135M a better span scorer for the
extractive reader (`prototype.extract`), trained once on the tuning corpora and shipped.

Why: the base model, asked to write the answer span after the reader's prompt, ranks the
right span first for only about a quarter of the tuning questions; the hand-written evidence
did the rest, and it is what failed on corpora nobody tuned on. Trained on the reader prompts
of other corpora (the gold span as target, plus a copy with the span swapped for another value
of its kind, so it learns to read rather than to recall), the same model ranks it first for
0.62 of a corpus it never saw (aurora_handbook, trained on kestrel and harbour; README).

It is trained on the tuning corpora of data/corpora/SPLITS.yaml only, by
`python bench/reader_adapter.py --final`, which writes `data/reading_adapter/` (PEFT
safetensors and config, plus `reading_adapter.json`: corpora, settings, date). It is merged
into its own copy of the base model, so the free-text reader and the LoRA rows keep the plain
base model. A generator other than SmolLM2-135M (FTRAG_GENERATOR) gets no adapter: it
would not fit, and the reader then scores with the plain model.
"""

from __future__ import annotations

import json
from pathlib import Path

ADAPTER_DIR = Path(__file__).resolve().parents[1] / "data" / "reading_adapter"
PROVENANCE = ADAPTER_DIR / "reading_adapter.json"


def available() -> bool:
    return (ADAPTER_DIR / "adapter_model.safetensors").exists() and PROVENANCE.exists()


def fits(model) -> bool:
    """Whether `model` is the architecture the adapter was trained on."""
    base = json.loads(PROVENANCE.read_text())["base"]
    cfg = model.config
    return cfg.num_hidden_layers == base["layers"] and cfg.hidden_size == base["hidden"]


def load_reading_model(device: str | None = None):
    """(model, tokenizer, name): a fresh base model with the reading adapter merged in, or
    the plain base model (and its plain name) when the adapter is missing or does not fit.
    Safetensors only: nothing here unpickles."""
    from peft import PeftModel

    from prototype.backbone import GENERATOR_NAME, load_generator

    model, tok = load_generator(device)
    if not available() or not fits(model):
        return model, tok, GENERATOR_NAME
    merged = PeftModel.from_pretrained(model, ADAPTER_DIR, is_trainable=False).merge_and_unload()
    return merged.eval(), tok, f"{GENERATOR_NAME}+reading-adapter"
