"""Shared fixtures. Tests run offline: backbone sets HF_HUB_OFFLINE before transformers."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Corpora the app saves from uploads go to a temporary folder, never the user's data dir.
os.environ.setdefault("FTRAG_SAVED_CORPORA", tempfile.mkdtemp(prefix="ftrag-saved-corpora-"))

ROOT = Path(__file__).resolve().parents[1]
FTRAG = [sys.executable, "-m", "pipeline.cli"]

VALID_PROFILE = {
    "name": "Policy chatbot",
    "task": "customer_support",
    "knowledge_update_frequency": "weekly",
    "latency_budget_ms": 3000,
    "traceability": "required",
    "style_consistency": "medium",
    "structured_output": False,
    "knowledge_base_tokens": 2_000_000,
    "labeled_examples": 500,
    "queries_per_month": 50_000,
    "deployment": "cloud_api",
    "ml_maturity": "medium",
}


@pytest.fixture
def profile_dict() -> dict:
    return dict(VALID_PROFILE)


@pytest.fixture
def tmp_store(tmp_path, monkeypatch):
    """A fresh SQLite store per test, also picked up by code that reads FTRAG_DB."""
    db = tmp_path / "ftrag.sqlite"
    monkeypatch.setenv("FTRAG_DB", str(db))
    from pipeline.store import Store

    return Store(db)
