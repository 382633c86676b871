"""A progress bar with an ETA for work done in the script thread (ingesting an upload,
embedding a corpus), fed by the project's one `Progress(stage, done, total, info)` callback.

The ETA is the rate so far times what is left, counted from the first finished unit (so model
loading before it does not skew the rate); the bar shows nothing until a stage has a total.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import streamlit as st


class StageBar:
    def __init__(self, what: str):
        self.what = what
        self.slot = st.empty()
        self._start: tuple[str, float, int] | None = None  # (stage, time, done) at its start

    def __call__(
        self, stage: str, done: int, total: int, info: Mapping[str, Any] | None = None
    ) -> None:
        if not total:
            return
        now = time.perf_counter()
        if self._start is None or self._start[0] != stage:
            self._start = (stage, now, done)
        _, t0, d0 = self._start
        text = f"{self.what} ({stage}): {done:,} of {total:,}"
        cached = (info or {}).get("cached")
        if cached:
            text += f", {cached:,} reused from disk"
        if done > d0 and done < total:
            text += f", about {(now - t0) / (done - d0) * (total - done):.0f} s left"
        self.slot.progress(min(1.0, done / total), text=text)

    def clear(self) -> None:
        self.slot.empty()
