"""The adapter store: trained LoRA adapters saved as safetensors, keyed by what made them."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from prototype.lora import LoraSettings, TrainExample, TrainStats, add_lora, train_lora

if TYPE_CHECKING:
    from core.progress import Progress

# Bump when the saved layout or the key's payload changes: older adapters are then retrained.
# 2: LoRA's starting matrices are seeded in `add_lora`. Adapters saved before drew them from
# whatever the process had done first, so they are not what this code would train.
ADAPTER_FORMAT_VERSION = 2


def adapters_root() -> Path:
    """`FTRAG_ADAPTERS` wins; else models/adapters/ in the repository (gitignored)."""
    env = os.environ.get("FTRAG_ADAPTERS")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "models" / "adapters"


def adapter_key(model, examples: Sequence[TrainExample], s: LoraSettings) -> str:
    """Hash of everything that determines the adapter: base model, data, settings."""
    payload = {
        "version": ADAPTER_FORMAT_VERSION,
        "base": getattr(model.config, "_name_or_path", "") or type(model).__name__,
        "layers": model.config.num_hidden_layers,
        # The cap too: a run it stopped is a different adapter from one given more time.
        "settings": asdict(s),
        "examples": [[ex.messages, ex.target, ex.original] for ex in examples],
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:60] or "corpus"


def train_or_load(
    model,
    tok,
    examples: Sequence[TrainExample],
    s: LoraSettings,
    *,
    name: str,
    stage: str,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    root: Path | None = None,
):
    """(peft model, TrainStats, adapter dir): reuse a saved adapter whose hash matches, else
    train one and save it (safetensors via PEFT, plus ftrag_adapter.json metadata)."""
    from peft import PeftModel

    from prototype.backbone import clear_quantization

    clear_quantization(model)
    key = adapter_key(model, examples, s)
    path = (root or adapters_root()) / f"{_safe(name)}-{key}"
    meta_file = path / "ftrag_adapter.json"
    if meta_file.exists() and (path / "adapter_model.safetensors").exists():
        meta = json.loads(meta_file.read_text())
        pm = PeftModel.from_pretrained(model, path, is_trainable=False)
        pm.eval()
        st = TrainStats(
            **{
                k: meta["train"][k]
                for k in (
                    "seconds",
                    "precompute_seconds",
                    "steps",
                    "epochs",
                    "stop_reason",
                    "train_exact",
                )
            },
            losses=list(meta["train"]["losses"]),
            reused=True,
        )
        if progress:
            progress(
                f"{stage} (reused adapter)",
                1,
                1,
                {"loss": st.losses[-1] if st.losses else None, "eta_s": 0},
            )
        return pm, st, path
    pm = add_lora(model, s)
    st = train_lora(pm, tok, examples, s, stage=stage, progress=progress, cancel=cancel)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    pm.save_pretrained(tmp, safe_serialization=True)
    (tmp / "ftrag_adapter.json").write_text(
        json.dumps(
            {
                "corpus": name,
                "key": key,
                "created": time.time(),
                "settings": asdict(s),
                "n_examples": len(examples),
                "n_original": sum(e.original for e in examples),
                "train": st.to_dict(),
                "format_version": ADAPTER_FORMAT_VERSION,
            },
            indent=1,
            ensure_ascii=False,
        )
    )
    if path.exists():  # a concurrent run finished first; keep theirs
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    else:
        tmp.rename(path)
    return pm, st, path
