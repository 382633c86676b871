"""ExampleIndex: labelled training examples under MiniLM vectors in FAISS, for few-shot prompts.

Unlike `prototype.index.RagIndex` (documents cut into heading-labelled chunks, fused with
BM25), a task example is one short text that is retrieved whole, so the index is one
normalised vector per example in an exact inner-product FAISS index (cosine). Examples added
after launch are embedded and appended (`add`); nothing already indexed is embedded again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


class ExampleIndex:
    def __init__(self, embedder):
        self.embedder = embedder
        self.examples: list = []  # task_data.Example, in FAISS id order
        self.index = None
        self.embedded_total = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vecs = self.embedder.encode(
            list(texts),
            batch_size=64,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def add(self, examples: Sequence) -> float:
        """Embed and append `examples`; returns the seconds it took. An example whose id and
        text are indexed already only has its annotation replaced (an update that fills in a
        new field on an old example): the text, and so its vector, is unchanged."""
        import faiss

        t0 = time.perf_counter()
        at = {e.id: i for i, e in enumerate(self.examples)}
        fresh = []
        for e in examples:
            i = at.get(e.id)
            if i is not None and self.examples[i].text == e.text:
                self.examples[i] = e
            else:
                fresh.append(e)
        examples = fresh
        if not examples:
            return time.perf_counter() - t0
        vecs = self.embed([e.text for e in examples])
        if self.index is None:
            self.index = faiss.IndexFlatIP(vecs.shape[1])
        self.index.add(vecs)
        self.examples += list(examples)
        self.embedded_total += len(examples)
        return time.perf_counter() - t0

    def __len__(self) -> int:
        return len(self.examples)

    def scored(self, texts: Sequence[str], k: int) -> list[list[tuple[Any, float]]]:
        """The `k` nearest examples per text with their cosine, nearest first."""
        if not texts or self.index is None:
            return [[] for _ in texts]
        sims, ids = self.index.search(self.embed(texts), min(k, len(self.examples)))
        return [
            [(self.examples[j], float(s)) for s, j in zip(srow, irow, strict=True) if j >= 0]
            for srow, irow in zip(sims, ids, strict=True)
        ]

    def search(
        self,
        texts: Sequence[str],
        k: int,
        exclude: Sequence[str | None] | None = None,
        prefer: Callable[[object], bool] | None = None,
    ) -> list[list]:
        """The `k` nearest examples per text, nearest first. `exclude[i]` is an example id
        never returned for text i (a training example is not its own neighbour). With
        `prefer`, examples it accepts come first, the nearest others fill up to `k`."""
        if not texts or self.index is None:
            return [[] for _ in texts]
        n = len(self.examples)
        # Exact search over every example: a few thousand dot products per query, and the
        # filters below need the full ranking.
        _, ids = self.index.search(self.embed(texts), n)
        out = []
        for i, row in enumerate(ids):
            ranked = [self.examples[j] for j in row if j >= 0]
            if exclude is not None and exclude[i] is not None:
                ranked = [e for e in ranked if e.id != exclude[i]]
            if prefer is not None:
                good = [e for e in ranked if prefer(e)]
                ranked = good[:k] + [e for e in ranked if not prefer(e)][: max(0, k - len(good))]
            out.append(ranked[:k])
        return out
