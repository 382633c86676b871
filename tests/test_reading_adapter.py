"""The reading adapter (prototype.reading_adapter): what it is built from, when it is used,
and that the real one changes the span scores the way it was trained to."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from prototype import reading_adapter as ra

DATA = Path(__file__).parents[1] / "data"


def test_the_adapter_trains_on_tuning_corpora_only():
    splits = yaml.safe_load((DATA / "corpora/SPLITS.yaml").read_text())
    assert ra.tuning_corpora() == splits["tuning"]
    reference = json.loads((DATA / "runs/reading_adapter_build.json").read_text())
    assert reference["tuning_corpora"] == splits["tuning"]
    assert not set(reference["tuning_corpora"]) & set(splits["test"])
    assert reference["settings"] == ra.SETTINGS  # the README's build is today's recipe


def test_a_changed_tuning_corpus_asks_for_a_rebuild(monkeypatch, tmp_path):
    import shutil

    for name in ra.tuning_corpora():
        shutil.copytree(ra.CORPORA / name, tmp_path / name)
    shutil.copy(ra.CORPORA / "SPLITS.yaml", tmp_path / "SPLITS.yaml")
    monkeypatch.setattr(ra, "CORPORA", tmp_path)
    before = ra.recipe_key()
    assert ra.recipe_key() == before  # stable
    qa = tmp_path / ra.tuning_corpora()[0] / "qa.jsonl"
    qa.write_text(qa.read_text() + "\n")
    assert ra.recipe_key() != before


@pytest.fixture
def no_build(monkeypatch, tmp_path):
    """An empty build folder: no reading adapter is built."""
    monkeypatch.setattr(ra, "builds_root", lambda: tmp_path / "reading_adapter")
    return tmp_path


def test_without_a_build_the_app_and_doctor_say_how_to_make_one(no_build):
    assert not ra.available()
    assert ra.status().startswith("MISSING (not built)") and "make adapter" in ra.status()
    (no_build / "reading_adapter" / "0123456789ab").mkdir(parents=True)  # another recipe's
    assert "built for other tuning corpora or settings" in ra.status()


def test_each_scoring_model_gets_the_weights_fitted_on_its_scores():
    from prototype.backbone import GENERATOR_NAME
    from prototype.candidates import BASE_WEIGHTS, Weights

    assert ra.weights_for(GENERATOR_NAME + ra.SUFFIX) == Weights()
    assert ra.weights_for(GENERATOR_NAME) == BASE_WEIGHTS != Weights()
    assert ra.weights_for("some-endpoint-model") == BASE_WEIGHTS


def test_fits_only_the_architecture_it_was_trained_on(no_build):
    ra.adapter_dir().mkdir(parents=True)
    info = {"base": {"layers": 30, "hidden": 576}}
    (ra.adapter_dir() / "reading_adapter.json").write_text(json.dumps(info))

    def model(hidden):
        return SimpleNamespace(config=SimpleNamespace(num_hidden_layers=30, hidden_size=hidden))

    assert ra.fits(model(576)) and not ra.fits(model(1152))


def test_a_given_generator_is_the_reader_and_gets_no_adapter():
    from prototype.rows import SharedModels

    gen = object()
    assert SharedModels("cpu", generator=gen).reader is gen


def test_without_a_build_the_reader_is_the_shared_plain_model(no_build):
    """No second copy of the plain model is loaded for the reader."""
    from prototype.rows import SharedModels

    models = SharedModels("cpu")
    models._generator = gen = object()
    assert models.reader is gen


@pytest.mark.slow
def test_without_the_adapter_files_the_reader_is_the_plain_model(no_build):
    from prototype.backbone import GENERATOR_NAME

    _, _, name = ra.load_reading_model("cpu")
    assert name == GENERATOR_NAME


# Made-up passages in no corpus, each with two values of one kind: (text, question, the
# asked-for value, the other one).
TWO_VALUES = [
    (
        "A day pass for the Brimwick lido costs 12 EUR for adults. "
        "Children under 16 pay 7 EUR for the same pass.",
        "What does a child pay for a day pass?",
        "7 EUR",
        "12 EUR",
    ),
    (
        "The Tollmere library opens at 09:30 on weekdays. On Saturdays it opens at 11:00.",
        "When does the library open on Saturdays?",
        "11:00",
        "09:30",
    ),
    (
        "New members of the Oakridge rowing club pay a joining fee of 40 GBP. "
        "The yearly subscription is 180 GBP.",
        "How much is the yearly subscription?",
        "180 GBP",
        "40 GBP",
    ),
    (
        "Parcels to the islands take 3 working days. Letters to the islands take 2 working days.",
        "How long do letters to the islands take?",
        "2 working days",
        "3 working days",
    ),
    (
        "The Ferncliff ward has 24 beds. The Harrow ward next to it has 18 beds.",
        "How many beds does the Harrow ward have?",
        "18 beds",
        "24 beds",
    ),
    (
        "Visitors park in the Linden car park. Staff park in the Quarry car park behind the depot.",
        "Where do staff park?",
        "Quarry car park",
        "Linden car park",
    ),
]


@pytest.mark.slow
@pytest.mark.skipif(
    not ra.available(),
    reason="the reading adapter is not built here (`make adapter`, ~10-16 min; CI builds it)",
)
def test_the_real_adapter_prefers_the_asked_for_value_more_than_the_base_model():
    """The LM's span score alone (what the adapter changes): log-prob margin of the asked-for
    value over the other. Measured 2026-12-07: base model mean -0.01 (3 of 6 preferred),
    adapter 0.39 (4 of 6); the reader's real gain is the README's cross-validation."""
    from prototype.backbone import load_generator
    from prototype.candidates import candidates
    from prototype.extract import SpanExtractor
    from prototype.generate import render
    from prototype.passages import Passage
    from prototype.rag import rag_messages

    def margins(model, tok) -> list[float]:
        out = []
        for text, question, right, wrong in TWO_VALUES:
            sents = [("doc", s.strip()) for s in text.split(". ")]
            cands = [c for c in candidates(question, sents) if c.text in (right, wrong)]
            assert len(cands) == 2, question
            prompt = render(tok, rag_messages(question, [Passage("doc", text, 1.0)], "plain"))
            _, _, lms = SpanExtractor(model, tok, starts=64).score(prompt, cands)
            by = {c.text: v for c, v in lms.items()}
            out.append(by[right] - by[wrong])
        return out

    base = margins(*load_generator("cpu"))
    adapted = margins(*ra.load_reading_model("cpu")[:2])
    assert sum(adapted) / len(adapted) > sum(base) / len(base) + 0.2, (base, adapted)
    assert sum(m > 0 for m in adapted) >= sum(m > 0 for m in base), (base, adapted)
