"""A persistent store of chunk embeddings keyed by content hash: .npy shards + JSON manifests."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FORMAT = "ftrag-embeddings/1"
PROBE = "ftrag embedding store probe: ferries leave Skarvik at 08:15 on weekdays."
# The probe must come back within this of the stored one: the same weights on another CPU
# differ by ~1e-7; another model differs by ~1e-1.
PROBE_TOLERANCE = 1e-4
# Each incremental write adds a shard; past this many they are merged into one.
MAX_SHARDS = 16
# 200,000 chunks x 384 floats is ~300 MB on disk: past this, a merge keeps the chunks used
# by this process and then the newest ones.
MAX_ENTRIES = 200_000
_SHARD = re.compile(r"^shard-[0-9a-f]{32}$")


def content_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def default_root(embedder_name: str) -> Path:
    """`FTRAG_CACHE/index/<embedder>/` (the user cache directory without FTRAG_CACHE)."""
    from prototype.backbone import cache_dir

    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", embedder_name).strip("._") or "embedder"
    return cache_dir() / "index" / safe


@dataclass
class _Shard:
    stem: Path  # path without suffix
    keys: list[str]
    vectors: np.ndarray  # memory-mapped, read-only


class EmbeddingStore:
    """Chunk vectors on disk by content hash. `open(embed)` reads and checks the shards once;
    `lookup` returns the known vectors; `add` writes the new ones as a shard.

    Layout, under `FTRAG_CACHE/index/<embedder>/`: each write adds one shard,
    `shard-<id>.npy` (float32, one row per chunk) and `shard-<id>.json` (format, embedder name,
    dimension, the embedding of a fixed probe sentence, and each row's key and text). The key is
    the SHA-256 of the text that was embedded, so a chunk whose text is unchanged is never embedded
    again, whichever corpus or version it comes from. Nothing is pickled.

    A shard is read only if every check passes: its format and embedder name, its probe (the
    model loaded now must embed the probe to the same vector, so a different model under the same
    name is not trusted), its shapes and dtype, finite values, and each key being the hash of its
    text. A shard that fails is deleted and its chunks are simply embedded again: a corrupt or
    foreign file costs time, never a crash or a wrong vector. The `.npy` is written before its
    `.json`, each through a rename, so a reader never sees half a shard.
    """

    def __init__(self, root: str | Path, embedder_name: str):
        self.root = Path(root)
        self.name = embedder_name
        self.rejected: list[str] = []  # shard files ignored (and removed), with the reason
        self.write_error: str | None = None  # why the last write failed (read-only disk...)
        self._probe: np.ndarray | None = None
        self._shards: list[_Shard] = []
        self._where: dict[str, tuple[int, int]] = {}  # key -> (shard index, row)
        self._used: set[str] = set()

    @classmethod
    def for_embedder(cls, embedder_name: str) -> EmbeddingStore:
        return cls(default_root(embedder_name), embedder_name)

    def __len__(self) -> int:
        return len(self._where)

    @property
    def is_open(self) -> bool:
        return self._probe is not None

    def open(self, embed: Callable[[list[str]], np.ndarray]) -> EmbeddingStore:
        """Embed the probe and read every shard that passes the checks (once)."""
        if self._probe is None:
            self._probe = np.asarray(embed([PROBE])[0], dtype=np.float32)
            self._load()
        return self

    # -- reading ----------------------------------------------------------------------------
    def _load(self) -> None:
        self._shards, self._where = [], {}
        if not self.root.is_dir():
            return
        for meta in sorted(self.root.glob("shard-*.json"), key=_mtime):
            if not _SHARD.match(meta.stem):
                continue  # not ours: left alone
            try:
                shard = self._read(meta.with_suffix(""))
            except (OSError, ValueError, TypeError, KeyError) as e:
                self.rejected.append(f"{meta.name}: {e}")
                _remove(meta.with_suffix(""))
                continue
            index = len(self._shards)
            self._shards.append(shard)
            for row, key in enumerate(shard.keys):
                self._where[key] = (index, row)

    def _read(self, stem: Path) -> _Shard:
        meta = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ValueError(f"not an {FORMAT} shard")
        if meta.get("embedder") != self.name:
            raise ValueError(f"written for embedder {meta.get('embedder')!r}, not {self.name!r}")
        probe = np.asarray(meta["probe"], dtype=np.float32)
        assert self._probe is not None
        if probe.shape != self._probe.shape or np.abs(probe - self._probe).max() > PROBE_TOLERANCE:
            raise ValueError("written by a different model (probe vector differs)")
        keys, texts = meta["keys"], meta["texts"]
        if not (isinstance(keys, list) and isinstance(texts, list) and len(keys) == len(texts)):
            raise ValueError("keys and texts do not match")
        if any(
            not isinstance(t, str) or content_key(t) != k for k, t in zip(keys, texts, strict=True)
        ):
            raise ValueError("a key is not the hash of its text")
        vectors = np.load(stem.with_suffix(".npy"), mmap_mode="r", allow_pickle=False)
        if vectors.dtype != np.float32 or vectors.shape != (len(keys), len(self._probe)):
            raise ValueError(f"vectors are {vectors.dtype} {vectors.shape}, expected float32")
        if not np.isfinite(vectors).all():
            raise ValueError("vectors hold NaN or infinity")
        return _Shard(stem, keys, vectors)

    def lookup(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """key -> vector (a copy) for every key the store holds."""
        found: dict[str, np.ndarray] = {}
        for key in keys:
            where = self._where.get(key)
            if where is not None:
                shard, row = where
                found[key] = np.array(self._shards[shard].vectors[row], dtype=np.float32)
        self._used.update(found)
        return found

    # -- writing ----------------------------------------------------------------------------
    def add(self, keys: Sequence[str], texts: Sequence[str], vectors: np.ndarray) -> None:
        """Write new vectors as one shard (then merge if there are too many shards). A failed
        write is recorded in `write_error`; the index still has its vectors in memory."""
        if self._probe is None:
            raise RuntimeError("EmbeddingStore.add before open()")
        new = {k: i for i, k in enumerate(keys) if k not in self._where}
        self._used.update(keys)
        if not new:
            return
        rows = list(new.values())
        try:
            self._write_shard([keys[i] for i in rows], [texts[i] for i in rows], vectors[rows])
            if len(self._shards) > MAX_SHARDS or len(self._where) > MAX_ENTRIES:
                self._merge()
        except OSError as e:
            self.write_error = f"{self.root}: {e}"

    def _write_shard(self, keys: list[str], texts: list[str], vectors: np.ndarray) -> None:
        assert self._probe is not None
        self.root.mkdir(parents=True, exist_ok=True)
        stem = self.root / f"shard-{uuid.uuid4().hex}"
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        meta = {
            "format": FORMAT,
            "embedder": self.name,
            "dim": int(vectors.shape[1]),
            "probe": self._probe.tolist(),
            "keys": keys,
            "texts": texts,
        }
        tmp = stem.with_suffix(".npy.tmp")
        with open(tmp, "wb") as f:
            np.save(f, vectors, allow_pickle=False)
        os.replace(tmp, stem.with_suffix(".npy"))
        tmp = stem.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(meta), encoding="utf-8")
        os.replace(tmp, stem.with_suffix(".json"))
        index = len(self._shards)
        self._shards.append(_Shard(stem, keys, vectors))
        for row, key in enumerate(keys):
            self._where[key] = (index, row)

    def _merge(self) -> None:
        """Rewrite every shard as one: the keys used here first, then the newest, up to
        MAX_ENTRIES."""
        order = sorted(self._where, key=lambda k: (k not in self._used, -self._where[k][0]))
        kept = order[:MAX_ENTRIES]
        texts_of: dict[str, str] = {}
        for shard in self._shards:
            meta = json.loads(shard.stem.with_suffix(".json").read_text(encoding="utf-8"))
            texts_of.update(zip(meta["keys"], meta["texts"], strict=False))
        kept = [k for k in kept if k in texts_of]
        vectors = np.stack(
            [self._shards[self._where[k][0]].vectors[self._where[k][1]] for k in kept]
        )
        old = self._shards
        self._shards, self._where = [], {}
        self._write_shard(kept, [texts_of[k] for k in kept], vectors)
        for shard in old:
            _remove(shard.stem)


def _mtime(p: Path) -> float:
    try:
        return p.stat().st_mtime
    except OSError:
        return 0.0


def _remove(stem: Path) -> None:
    for suffix in (".json", ".npy"):
        # Another process may have removed it, or the platform refuses while a map is open.
        with contextlib.suppress(OSError):
            stem.with_suffix(suffix).unlink(missing_ok=True)
