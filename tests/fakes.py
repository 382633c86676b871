"""Fakes shared by the plumbing tests (the real models are tested elsewhere)."""

from __future__ import annotations

import hashlib
import re

import numpy as np


class HashingEmbedder:
    """A deterministic bag-of-words hashing embedder (same words, same direction) that
    records every text it is asked to embed; `salt` makes a different "model"."""

    def __init__(self, dim: int = 64, salt: str = ""):
        self.dim, self.salt = dim, salt
        self.encoded: list[str] = []

    def get_embedding_dimension(self) -> int:
        return self.dim

    def encode(self, texts, **_kw):
        self.encoded += list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in re.findall(r"\w+", t.lower()):
                out[i, int(hashlib.md5((self.salt + w).encode()).hexdigest(), 16) % self.dim] += 1
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)
