"""The one progress callback shape every long job reports through (CLI, app, queue)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class Progress(Protocol):
    """`progress(stage, done, total, info)`: `stage` names the step ("rag: index"), `done` of
    `total` units are finished (total 0 = unknown), `info` carries extras such as loss or ETA.
    The callback must be cheap and must not raise; a worker thread calls it."""

    def __call__(
        self, stage: str, done: int, total: int, info: Mapping[str, Any] | None = None
    ) -> None: ...
