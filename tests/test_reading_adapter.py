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
    assert reference["recipe_version"] == ra.RECIPE_VERSION


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


# contrast(): (passages, answer) -> (passages after the swap, the answer there), or None.
CONTRASTS = [
    # the nearest value of the same shape trades places; the label stays
    ("opens at 06:15, closes at 14:00, tea at 10:30", "06:15",
     ("opens at 14:00, closes at 06:15, tea at 10:30", "14:00")),
    ("| A | 07:10 | 21:45 |\n| B | 08:00 | 20:15 |", "21:45",
     ("| A | 21:45 | 07:10 |\n| B | 08:00 | 20:15 |", "07:10")),
    ("cars £131, bikes £44", "£44", ("cars £44, bikes £131", "£131")),
    ("loans 3 weeks, renewals 2 weeks, holds 14 days", "3 weeks",
     ("loans 2 weeks, renewals 3 weeks, holds 14 days", "2 weeks")),
    # no pair: another shape only ("14 days" is not "3 weeks", 1.5 is not a whole number)
    ("loans 3 weeks, holds 14 days", "3 weeks", None),
    ("weighs 1.5 kg, 2 bags", "2", None),
    ("room 12 and room 12 again, room 7", "12", None),  # the answer twice: which one?
    ("the Linden car park, the Quarry car park", "Linden car park", None),  # no digits
]  # fmt: skip


@pytest.mark.parametrize(("text", "span", "want"), CONTRASTS)
def test_contrast_swaps_the_answer_with_its_nearest_look_alike(text, span, want):
    prompt = f"Document: d\n{text}\n\nQuestion: What is asked?"
    got = ra.contrast(prompt, span)
    assert got == (
        None if want is None else (f"Document: d\n{want[0]}\n\nQuestion: What is asked?", want[1])
    )


def test_contrast_splits_the_reader_prompt_where_the_question_starts():
    """contrast() finds the question by the reader prompt's "\n\nQuestion:" (rag_messages):
    if that format changed, a value in the question could be swapped into the passages."""
    from prototype.passages import Passage
    from prototype.rag import rag_messages

    text = "Opens at 09:00, closes at 17:00."
    user = rag_messages("Open at 12:00?", [Passage("d", text, 1.0)], "plain")[-1]["content"]
    assert user.count("\n\nQuestion:") == 1 and user.endswith("Question: Open at 12:00?")
    swapped, value = ra.contrast(user, "09:00")
    assert value == "17:00" and "Opens at 17:00, closes at 09:00." in swapped
    assert swapped.endswith("Question: Open at 12:00?")


def test_contrast_never_touches_the_question():
    assert (
        ra.contrast("Document: d\nfrom 09:00 to 17:00\n\nQuestion: After 17:00?", "09:00") is None
    )


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
# The same passages asked for their *first* value: above, the asked-for value always came
# second, so a reader that merely preferred a sentence's later value passed (README: the
# four-corpus adapter of b81ef5d did, and answered "when does it open" with the closing time).
TWO_VALUES += [
    (TWO_VALUES[0][0], "What does an adult pay for a day pass?", "12 EUR", "7 EUR"),
    (TWO_VALUES[1][0], "When does the library open on weekdays?", "09:30", "11:00"),
    (TWO_VALUES[2][0], "How much is the joining fee for new members?", "40 GBP", "180 GBP"),
    (
        TWO_VALUES[3][0],
        "How long do parcels to the islands take?",
        "3 working days",
        "2 working days",
    ),
    (TWO_VALUES[4][0], "How many beds does the Ferncliff ward have?", "24 beds", "18 beds"),
    (TWO_VALUES[5][0], "Where do visitors park?", "Linden car park", "Quarry car park"),
]


@pytest.mark.slow
@pytest.mark.skipif(
    not ra.available(),
    reason="the reading adapter is not built here (`make adapter`, ~12-20 min; CI builds it)",
)
def test_the_real_reader_reads_the_asked_for_value_first_or_second():
    """The reader as shipped (reading adapter, its weights, MiniLM, FAISS) on passages in no
    corpus: it must find the asked-for value whether that value comes first or second.
    Measured 2026-12-07: 5 + 5 of 12 exact, the two misses "Quarry" / "Linden" for
    "... car park" in both halves; the plain model with its weights, and the four-corpus
    adapter that was not adopted, score the same. That adapter still answered the demo's
    opening-time question with the closing time, so that question is asked here too, outside
    the browser test. The LM's own margins: data/runs/reader_experiments_2026-12-07.json."""
    from prototype.corpus import load_corpus
    from prototype.index import RagIndex
    from prototype.rag import RagReader
    from prototype.rows import SharedModels

    models = SharedModels("cpu")
    assert models.reader.name.endswith(ra.SUFFIX)

    def answer(docs, question: str) -> str:
        index = RagIndex.build(docs, models.embedder)
        (a,) = RagReader(index, models.reader, constrained=True)([question])
        return json.loads(a.raw)["answer"]

    right = [answer({"doc": text}, q) == want for text, q, want, _ in TWO_VALUES]
    later, earlier = sum(right[:6]), sum(right[6:])
    assert later >= 5 and earlier >= 5, (later, earlier)
    tiny = load_corpus(Path(__file__).parent / "fixtures" / "tiny_corpus")
    assert answer(tiny.docs, "What time does Glimmerbrook Bakery open?") == "06:15"
