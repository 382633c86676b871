"""The row registry: each prototype row registers the function that builds and measures it.

A row's value comes from `core.registry.ROWS`; its module registers
`run(corpus, ctx: RunContext) -> PrototypeResult` with `@register_row(value)`, and the runner
dispatches through `row_runner(value)`. Adding a row is a `RowSpec` plus one decorated
function, not a branch in the runner.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.errors import ConfigError
from core.registry import ROWS

if TYPE_CHECKING:
    from core.progress import Progress
    from core.prototype_result import PrototypeResult
    from prototype.generator import Generator

# The modules that register the built-in rows, imported on first dispatch (they load no
# model at import time).
BUILTIN_ROW_MODULES = ("prototype.base", "prototype.rag", "prototype.fine_tune", "prototype.hybrid")


class SharedModels:
    """The generator and embedder the inference-only rows share, each loaded on first use.
    Training rows load their own base model, which LoRA modifies."""

    def __init__(
        self,
        device: str,
        generator: Generator | None = None,
        embedder: Any = None,
    ):
        self.device = device
        self._generator = generator
        self._embedder = embedder
        # The extractive reader's span scorer: the given generator when one was given (a
        # caller's own model gets no adapter), else the base model with the reading adapter.
        self._reader = generator
        self._lock = threading.Lock()

    @property
    def generator(self) -> Generator:
        with self._lock:
            return self._generator_unlocked()

    def _generator_unlocked(self) -> Generator:
        if self._generator is None:
            from prototype.generator import LocalGenerator

            self._generator = LocalGenerator.load(self.device)
        return self._generator

    @property
    def reader(self) -> Generator:
        """The span scorer of `rag+constrained` and of the hybrid's pick
        (`prototype.reading_adapter`): a separate model, so the free-text reader and the
        LoRA rows keep the plain base model."""
        with self._lock:
            if self._reader is None:
                from prototype import reading_adapter
                from prototype.generator import LocalGenerator

                if not reading_adapter.available():  # not built: no second plain copy
                    return self._generator_unlocked()
                self._reader = LocalGenerator(*reading_adapter.load_reading_model(self.device))
            return self._reader

    @property
    def embedder(self):
        with self._lock:
            if self._embedder is None:
                from prototype.backbone import load_embedder

                self._embedder = load_embedder(self.device)
            return self._embedder


@dataclass(frozen=True)
class RunContext:
    """What every row run receives besides the corpus."""

    device: str
    progress: Progress | None = None
    cancel: threading.Event | None = None
    retrain: bool = False  # training rows: also retrain on the updated corpus
    augment: bool = True  # training rows: also train on rule-based question rewrites
    models: SharedModels | None = None  # None: the device's models, loaded on first use
    # Task rows: wall-clock cap of each LoRA run, in place of the row's own (`--train-budget`)
    train_budget_s: float | None = None

    def __post_init__(self):
        if self.models is None:
            object.__setattr__(self, "models", SharedModels(self.device))


RowRunner = Callable[[Any, RunContext], "PrototypeResult"]
_RUNNERS: dict[str, RowRunner] = {}


def register_row(value: str) -> Callable[[RowRunner], RowRunner]:
    """Decorator: `fn` builds and measures the row `value` (which ROWS must know)."""
    ROWS.get(value)  # an unknown row is a ConfigError naming it

    def deco(fn: RowRunner) -> RowRunner:
        if value in _RUNNERS:
            raise ConfigError(f"prototype row `{value}` has a runner already")
        _RUNNERS[value] = fn
        return fn

    return deco


def unregister_row(value: str) -> None:
    """Remove a row's runner (tests that register a toy row clean up with this)."""
    _RUNNERS.pop(value, None)


def row_runner(value: str) -> RowRunner:
    """The registered runner of row `value`; a ConfigError naming it when there is none."""
    if value not in _RUNNERS:
        for module in BUILTIN_ROW_MODULES:
            importlib.import_module(module)
    try:
        return _RUNNERS[value]
    except KeyError:
        known = ", ".join(v for v in ROWS.values() if v in _RUNNERS)
        raise ConfigError(f"strategy: unknown prototype row {value!r}; known: {known}") from None
