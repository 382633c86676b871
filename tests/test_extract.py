"""Extractive reader (`rag+constrained`): answer types, span candidates and their evidence
(pure functions), then one real run on the tiny corpus that asserts measured numbers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from prototype.answer_types import answer_type
from prototype.candidates import TOP_SOFTNESS, Weights, candidates, soft_top
from prototype.corpus import load_corpus
from prototype.extract import reply

TINY = Path(__file__).parent / "fixtures" / "tiny_corpus"


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many days of leave do I get?", "number"),
        ("What is the top speed of the catamaran?", "number"),
        ("When does the winter timetable start?", "time"),
        ("In which year was the ship built?", "time"),
        ("Who is the head baker?", "person"),
        ("Which travel agency books business travel?", "other"),
    ],
)
def test_answer_type_from_wording(question, kind):
    assert answer_type(question) == kind


@pytest.mark.parametrize(
    ("question", "sub", "right", "wrong"),
    [
        ("How long is the journey to Vardnes?", "duration", "2 hours 20 minutes", "08:15"),
        ("What time does the first ferry leave?", "clock", "05:40", "2016"),
        ("Where does the ferry call on the way?", "place", "Lyngøy", "14:30"),
        ("On which day is the recycling centre closed?", "date", "Wednesday", "08:00 to 17:30"),
        ("In which year was the ship built?", "date", "2016", "720 passengers"),
        ("How many people can join the class?", "count", "8 places", "10:30"),
        ("How many euros does a season pass cost?", "count", "45 EUR", "09:00"),
        ("How far in advance must I book the boat?", "duration", "48 hours", "10:25"),
        ("How much notice is needed for a repeat prescription?", "duration", "3 days", "£12"),
        ("What do harbour pilots pay for their certificate?", "money", "£131", "24 months"),
        ("What is the single fare for a campervan?", "money", "46.50 EUR", "Band C"),
        ("Which phone line gives out test results?", "phone", "01762 440 163", "14:00"),
        ("Which number should I call about lost property?", "phone", "0341 728 419", "£3"),
        ("How do I call the ferry office?", "phone", "0349 512 880", "Kilbrack"),
    ],
)
def test_answer_subtype_tells_durations_clock_times_and_places_apart(question, sub, right, wrong):
    from prototype.answer_types import answer_subtype, type_score

    assert answer_subtype(question) == sub
    assert type_score(sub, right.split()) == 1.0
    assert type_score(sub, wrong.split()) == 0.0
    assert answer_subtype("Which agency books travel?") is None


@pytest.mark.parametrize(
    ("question", "sub"),
    [
        ("How many days of paid leave do I get?", "duration"),  # "paid" is not a price
        ("What share of the fare is kept when I cancel late?", None),  # a share, not a price
        ("Which line runs to the harbour?", None),  # a bus line, nothing to call
        ("Where is the notice board?", "place"),
        ("What documents must I bring in advance?", None),
        ("Who is in charge of the pharmacy?", None),
    ],
)
def test_answer_subtype_leaves_near_misses_alone(question, sub):
    from prototype.answer_types import answer_subtype

    assert answer_subtype(question) == sub


def _texts(question, sentence):
    return {c.text for c in candidates(question, [("d", sentence)])}


def test_candidates_are_spans_that_do_not_echo_or_cross_clauses():
    texts = _texts("How many days of leave do staff get?", "Staff get 27 days of leave, in May.")
    assert "27 days" in texts
    assert "leave" not in texts and "Staff" not in texts  # the question's own words
    assert not any(t.startswith("of ") or t.endswith(" of") for t in texts)  # function words
    assert not any("leave, in" in t or "leave in" in t for t in texts)  # across the comma
    # a function word after the comma does not carry a span across it, nor across a verb
    texts = _texts("What is the rate?", "For business, you are paid 0.47 EUR per km.")
    assert "0.47 EUR per km" in texts
    assert not any("business" in t and len(t.split()) > 1 for t in texts)
    texts = _texts("How many trailers?", "Vans over 4.5 metres high must be booked on MV Petrel.")
    assert not any(" must " in f" {t} " or " be " in f" {t} " for t in texts)
    # only lower-case auxiliaries stop a span: the month in "1 May" is not the verb "may"
    assert "1 May" in _texts("When does the lido open?", "The lido opens on 1 May each year.")


def _best(question, sentences, cosines=None):
    cands = candidates(question, sentences, cosines)
    return max(cands, key=lambda c: c.evidence)


def test_evidence_prefers_typed_span_next_to_question_words_with_its_unit():
    best = _best(
        "How many days of unused leave can be carried over?",
        [
            ("leave", "Full-time employees receive 27 days of paid annual leave."),
            ("leave", "You may carry over at most 6 days of unused leave."),
        ],
    )
    assert (best.text, best.doc_id) == ("6 days", "leave")


def test_sentence_similarity_decides_between_documents():
    # Neither sentence shares a word with the question (a paraphrase): only the embedding
    # similarity can tell them apart.
    sents = [("a", "The ferry leaves at 08:15."), ("b", "The shop starts at 09:00.")]
    assert _best("When does trading begin?", sents, [0.2, 0.8]).doc_id == "b"
    assert _best("When does trading begin?", sents, [0.8, 0.2]).doc_id == "a"


@pytest.mark.parametrize(
    ("question", "focus"),
    [
        ("In which meeting room does the course start?", {"meeti", "room"}),
        ("Which yard built the flagship?", {"yard", "built"}),
        ("What is the name of the occupational health service used?", {"occup", "healt", "servi"}),
        ("What is the onboarding course every employee takes called?", {"onboa", "cours"}),
        ("How many passengers is the ferry certified to carry?", {"passe"}),
        ("When does the lido open?", set()),
    ],
)
def test_question_focus_is_the_phrase_the_question_asks_about(question, focus):
    from prototype.answer_types import question_focus

    assert question_focus(question) == focus


def _features(question, sentence, text):
    (c,) = [c for c in candidates(question, [("d", sentence)]) if c.text == text]
    return dict(zip(Weights.FEATURES, c.features, strict=True))


def test_field_features_read_key_value_records():
    """Tables are read as "Label: value;" records: a span right after a label is a field
    value, and the label's match with the question says which field is asked for (here by
    shared stem, as no word vectors are given)."""
    s = "Day: Saturday; Doors open: 08:50; Doors close: 12:10; Phone lines open: closed."
    q = "What time do the doors close on Saturdays?"
    close, opens = _features(q, s, "12:10"), _features(q, s, "08:50")
    assert close["field"] == opens["field"] == 1.0
    assert close["label"] > opens["label"] > 0  # "doors close" says more of it than "doors open"
    fee = "Certificate: Harbour pilot; Valid for: 18 months; Fee: £131."
    assert _features("What is the fee for a harbour pilot?", fee, "£131")["label"] > 0
    assert _features("What is the fee for a harbour pilot?", fee, "18 months")["label"] == 0.0
    plain = _features(q, "The doors close at 12:10 on Saturdays.", "12:10")
    assert (plain["field"], plain["label"]) == (0.0, 0.0)


def test_focus_prep_unit_and_boundary_features():
    # the answer sits in the focus noun's own phrase; a name after "room in" does not
    s = "The course starts in the Skjær meeting room in Lanternhuset."
    q = "In which meeting room does the course start?"
    assert _features(q, s, "Skjær")["focus"] == 1.0
    assert _features(q, s, "Skjær")["boundary"] == 1.0  # a name ends where capitals end
    assert _features(q, s, "Lanternhuset")["focus"] == 0.0
    # a focus noun closing the span is the name's head, not an echo
    f = _features("Which yard built the flagship?", "She was built at Vindøy Yard.", "Vindøy Yard")
    assert (f["focus"], f["echo"]) == (1.0, 0.0)
    # "how many X": X is the number's unit, inside the span, never just next to it
    q, s = "How many passengers can she carry?", "She carries 720 passengers and 160 cars."
    assert _features(q, s, "720 passengers")["focus"] == 1.0
    assert _features(q, s, "720")["focus"] == 0.0
    # a unit of several question words after a number is not an echo
    q, s = (
        "For how many calendar days may staff self-certify?",
        "Self-certify up to 4 calendar days.",
    )
    assert _features(q, s, "4 calendar days")["echo"] == 0.0
    # place questions: a span after a place preposition; a clock time is never a place
    q, s = "Where does the ferry call?", "The ferry leaves Skarvik at 08:15 and calls at Lyngøy."
    assert _features(q, s, "Lyngøy")["prep"] == 1.0
    assert _features(q, s, "Skarvik")["prep"] == 0.0
    assert _features(q, s, "08:15")["type"] == 0.0


def test_alignment_rewards_a_span_next_to_the_matched_words():
    import numpy as np

    from prototype.candidates import Alignment

    # one question content word that matches sentence word 4 fully and nothing else
    sims = np.array([[0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0]])
    al = Alignment((sims,), np.array([1.0]))
    assert al.near(0, 5, 6) > al.near(0, 1, 2) > 0  # next to the match beats three words off
    assert al.near(0, 4, 5) < al.near(0, 5, 6)  # the match itself inside the span: not counted
    assert al.near(0, 0, 7) == 0.0  # nothing outside the span
    assert Alignment.build("", np.zeros((0, 3)), [], {}) is None


@pytest.mark.slow
def test_real_word_vectors_match_a_paraphrased_word():
    """MiniLM's contextual word vectors link "final" to "last" (no shared stem, measured
    cosine 0.50 against 0.26 for "first"), which exact-stem proximity cannot see."""
    from prototype.backbone import load_embedder
    from prototype.candidates import Alignment
    from prototype.index import RagIndex

    index = RagIndex.build({"t": "# T\n\nFerries run daily."}, load_embedder("cpu"))
    q = "When does the final boat go?"
    s = "The first ferry leaves at 05:40 and the last ferry leaves at 23:10."
    qv, sv = index.word_vectors([q, s])
    assert qv.shape == (6, 384) and sv.shape == (13, 384)
    al = Alignment.build(q, qv, [sv], index.lexical.idf)
    final, boat = al.sims[0]  # the question's content words, in order
    words = s.split()
    assert words[int(final.argmax())] == "last"
    assert words[int(boat.argmax())] == "ferry"
    assert index.word_vectors([s])[0] is sv  # cached


def test_weights_cover_every_feature():
    w = Weights()
    assert all(hasattr(w, name) for name in Weights.FEATURES)
    (c,) = [c for c in candidates("Who?", [("d", "Mira Tosk.")]) if c.text == "Mira Tosk"]
    assert len(c.features) == len(Weights.FEATURES)
    assert c.evidence == pytest.approx(w.evidence(c.features))


def test_reply_is_the_answer_format():
    (c,) = [
        c
        for c in candidates("Who leads?", [("staff", "Lead: Mira Tosk.")])
        if c.text == "Mira Tosk"
    ]
    assert json.loads(reply(c)) == {"answer": "Mira Tosk", "source": "staff"}
    assert json.loads(reply(None)) == {"answer": "", "source": ""}


@pytest.fixture(scope="module")
def tiny_extractive_result():
    from prototype.rag import run_rag

    return run_rag(load_corpus(TINY), device="cpu", constrained=True)


@pytest.mark.slow
def test_real_extractive_reader_on_tiny_corpus(tiny_extractive_result):
    """Measured on this corpus (CPU, 2026-11-25): accuracy 0.67 (4 of 6), paraphrased 0.50,
    source 0.83; format is 1.00 by construction (it is the constrained row). The thresholds
    sit one answer below the measurement. Changed facts under strict scoring (2026-12-06):
    0.5, both read from the re-indexed documents with the right source, but t1's span
    "07:30 from Tuesday to Saturday" adds two words the question did not ask for, which
    strict containment rejects (containment alone credited it: 1.00)."""
    r = tiny_extractive_result
    m = r.metrics
    assert r.strategy == "rag+constrained"
    assert m["format_compliance"] == 1.0
    assert m["accuracy"] >= 0.5
    assert m["accuracy_paraphrased"] >= 0.4
    assert m["accuracy_updated"] >= 0.5  # re-indexed, never retrained: fresh
    updated = [a for a in r.answers if a["kind"] == "updated"]
    assert all(a["source_correct"] for a in updated)  # each read from the changed document
    assert m["source_accuracy"] >= 0.75
    for a in r.answers:  # every answer is a span copied from what the reader was shown
        answer = json.loads(a["raw"])["answer"]
        assert answer and answer in " ".join(p["text"] for p in a["extra"]["passages"]), a
    # each pick carries its probability among the scored spans, and the run summarises them
    conf = [a["extra"]["confidence"] for a in r.answers]
    assert all(0 < c <= 1 for c in conf), conf
    assert len(set(conf)) > 1  # a probability per question, not a constant
    e = r.extra_metrics
    assert 0 <= e["confident_share"] <= 1 and 0 <= e["unsure_share"] <= 1
    assert e["confident_share"] + e["unsure_share"] <= 1
    # unsure picks were read again with more context: a minority (0.20 measured, 2026-12-08),
    # so the median latency is the first look's
    looked = [a for a in r.answers if a["extra"].get("second_look")]
    assert e["second_look_share"] == round(len(looked) / len(r.answers), 4)
    assert 0 < e["second_look_share"] < 0.5


def test_confidence_is_the_softmax_of_the_picks_score():
    from prototype.extract import confidence

    assert confidence(2.0, [2.0, 2.0]) == 0.5
    assert confidence(0.0, [0.0]) == 1.0
    assert confidence(1.0, [1.0, 1.0 - math.log(3)]) == 0.75
    assert confidence(1000.0, [1000.0, -1000.0]) == 1.0  # no overflow


def test_confidence_metrics_split_answers_by_the_thresholds():
    from prototype.evaluate import confidence_metrics
    from prototype.extract import CONFIDENT, UNSURE

    def rec(c, correct, gold="x"):
        return {"gold": gold, "correct": correct, "extra": {"confidence": c}}

    records = [
        rec(CONFIDENT, True),  # the edge counts as confident
        rec(0.99, False),
        rec(UNSURE, True),  # in between: neither
        rec(UNSURE - 0.01, False),
        rec(0.99, True, gold=None),  # no gold: not scored, left out
        {"gold": "x", "correct": True, "extra": {}},  # no confidence: left out
    ]
    m = confidence_metrics(records)
    assert m == {
        "confident_share": 0.5,
        "accuracy_confident": 0.5,
        "unsure_share": 0.25,
        "accuracy_unsure": 0.0,
    }
    assert confidence_metrics([{"gold": "x", "correct": True}]) == {}
    assert confidence_metrics([rec(0.7, True)])["accuracy_confident"] is None


def test_second_look_share_and_its_threshold_is_the_unsure_band():
    from prototype.evaluate import second_look_share
    from prototype.extract import UNSURE
    from prototype.rag_settings import RagSettings

    twice = {"extra": {"second_look": True}}
    assert second_look_share([twice, {"extra": {}}, {}, twice]) == 0.5
    assert second_look_share([]) == 0.0
    assert RagSettings().second_look_below == UNSURE  # "unsure" means one thing everywhere


@pytest.mark.slow
def test_cached_system_prompt_gives_the_full_forward_logits():
    """The reader reuses the KV cache of the shared chat header + system prompt; for two
    different questions the next-token logits equal those of a full forward."""
    import torch

    from prototype.backbone import load_generator
    from prototype.extract import SpanExtractor
    from prototype.generate import SYSTEM_PROMPT, render

    model, tok = load_generator("cpu")
    ex = SpanExtractor(model, tok)
    heads = []
    for q in ("Who bakes the rye?", "When does the market open on Saturdays?"):
        chat = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": f"Document: staff\nMira Tosk bakes.\n\nQuestion: {q}"},
        ]
        ids = ex.enc(render(tok, chat) + ex.prefix)
        with torch.inference_mode():
            full = model(torch.tensor([ids]), logits_to_keep=1).logits[0, -1]
            cached = ex._forward_prompt(ids).logits[0, -1]
        assert torch.allclose(full, cached, atol=1e-3), float((full - cached).abs().max())
        heads.append(ex._head)
    assert heads[0] is heads[1]  # computed once, reused for the second question
    assert 20 < len(heads[0][0]) < len(ids)  # the system turn, not the whole prompt


def test_reader_weights_are_the_learnt_ones():
    """The reader's weights are the ones bench/learn_reader.py fitted on the tuning corpora
    (data/runs/reader_weights.json): a hand edit of either shows up here."""
    import json
    from dataclasses import asdict
    from pathlib import Path

    import yaml

    from prototype.candidates import BASE_WEIGHTS

    data = Path(__file__).parents[1] / "data"
    run = json.loads((data / "runs/reader_weights.json").read_text())
    splits = yaml.safe_load((data / "corpora/SPLITS.yaml").read_text())
    assert asdict(Weights()) == pytest.approx(run["weights"])
    assert run["chosen"]["top_softness"] == TOP_SOFTNESS
    assert run["tuning_corpora"] == splits["tuning"]  # never a test corpus
    # the plain model's own set, for a reader without a built reading adapter
    base = json.loads((data / "runs/reader_weights_base.json").read_text())
    assert asdict(BASE_WEIGHTS) == pytest.approx(base["weights"])
    assert base["chosen"]["top_softness"] == TOP_SOFTNESS
    assert base["tuning_corpora"] == splits["tuning"]


def test_a_table_row_that_says_the_asked_for_day_beats_a_marginally_closer_row():
    """Near-identical table rows embed almost alike; a hard "most similar sentence" bonus let
    the Monday row win on a cosine .005 higher. The soft `top` leaves the row naming the
    asked-for day to decide."""
    rows = [
        ("hours", f"Day: {d}; Doors open: 07:40; Doors close: {t}; Phone lines open: 08:00.")
        for d, t in (("Monday", "18:30"), ("Tuesday", "18:30"), ("Wednesday", "20:15"))
    ]
    q = "What time does the surgery close on Wednesdays?"
    cands = candidates(q, rows, cosines=[0.598, 0.594, 0.593])
    best = max(cands, key=lambda c: c.evidence)
    assert (best.text, best.sentence) == ("20:15", 2)
    assert soft_top(0.0, TOP_SOFTNESS) == 1.0
    assert soft_top(0.005, 0.0) == 0.0  # the old hard argmax
    assert 0.7 < soft_top(0.005, TOP_SOFTNESS) < 1.0
