"""The Generator protocol: chats in, texts out, from the local model or an endpoint.

Code that only needs text takes a `Generator`. The paths that read the model's logits or
train it (the extractive reader, LoRA) need the local Hugging Face objects and ask for them
with `require_local`, which names the row that cannot run on an endpoint.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from core.errors import ConfigError, ModelUnavailableError
from prototype.generate import Generation, Messages, generate


@runtime_checkable
class Generator(Protocol):
    """Greedy answers to a batch of chats (`name` goes into a run's metadata)."""

    name: str

    def generate(self, chats: Sequence[Messages], max_new_tokens: int = 48) -> list[Generation]: ...


@dataclass(frozen=True)
class LocalGenerator:
    """The local Hugging Face causal LM and its tokenizer (SmolLM2-135M by default)."""

    model: Any
    tokenizer: Any
    name: str = "SmolLM2-135M-Instruct"

    @classmethod
    def load(cls, device: str | None = None, model_dir: str | Path | None = None):
        """Load offline (prototype.backbone.load_generator) in eval mode on `device`."""
        from prototype.backbone import GENERATOR_NAME, load_generator

        model, tok = load_generator(device, model_dir)
        return cls(model, tok, GENERATOR_NAME)

    def generate(self, chats: Sequence[Messages], max_new_tokens: int = 48) -> list[Generation]:
        return generate(self.model, self.tokenizer, chats, max_new_tokens)


@dataclass(frozen=True)
class EndpointGenerator:
    """An OpenAI-compatible chat endpoint (e.g. vLLM, llama.cpp server, Ollama).

    Only used when the user configures it; the product never calls out by default.
    """

    url: str
    model: str = "default"
    api_key: str | None = None
    timeout_s: float = 60.0

    def __post_init__(self):
        if not self.url.startswith(("http://", "https://")):
            raise ConfigError(f"endpoint: must be an http(s) URL, got {self.url!r}")

    @property
    def name(self) -> str:
        return f"{self.model} at {self.url}"

    def generate(self, chats: Sequence[Messages], max_new_tokens: int = 48) -> list[Generation]:
        """One request per chat, greedy (temperature 0)."""
        return [self.chat(m, max_new_tokens) for m in chats]

    def chat(self, messages: Messages, max_new_tokens: int = 48) -> Generation:
        body = json.dumps(
            {
                "model": self.model,
                "messages": messages,
                "max_tokens": max_new_tokens,
                "temperature": 0,
            }
        ).encode()
        req = urllib.request.Request(
            self.url.rstrip("/") + "/chat/completions",
            data=body,
            headers={
                "Content-Type": "application/json",
                **({"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}),
            },
        )
        t0 = time.perf_counter()
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                data = json.load(resp)
        except OSError as e:
            raise ModelUnavailableError(f"endpoint {self.url}: {e}") from None
        usage = data.get("usage") or {}  # token counts, when the server reports them
        return Generation(
            text=data["choices"][0]["message"]["content"],
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            new_tokens=int(usage.get("completion_tokens") or 0),
            seconds=time.perf_counter() - t0,
        )


def endpoint_from_env() -> EndpointGenerator | None:
    """The endpoint named by FTRAG_ENDPOINT (`--endpoint`), or None."""
    url = os.environ.get("FTRAG_ENDPOINT")
    if not url:
        return None
    return EndpointGenerator(
        url, os.environ.get("FTRAG_ENDPOINT_MODEL", "default"), os.environ.get("FTRAG_API_KEY")
    )


def require_local(generator: Generator, what: str) -> LocalGenerator:
    """`generator` when it is the local model; a ConfigError naming `what` otherwise."""
    if not isinstance(generator, LocalGenerator):
        raise ConfigError(
            f"{what} needs the local generator (its logits or weights), not {generator.name}"
        )
    return generator
