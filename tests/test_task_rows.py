"""Behaviour-task rows (classification, extraction): scoring tables, the protocol with a fake
generator (numbers worked out by hand), and real-model runs on tiny datasets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes import HashingEmbedder

from core.errors import ConfigError
from core.prototype_result import PrototypeResult, PrototypeRun
from prototype.evaluate import Answer
from prototype.generate import Generation
from prototype.lora import native_bf16
from prototype.rows import RunContext, SharedModels
from prototype.task_data import FieldSpec, load_task
from prototype.task_eval import evaluate_task, score_fields, score_label
from prototype.task_index import ExampleIndex
from prototype.task_rows import (
    TASK_LORA,
    TASK_RUNNERS,
    few_shot_messages,
    ft_examples,
    hybrid_examples,
    target,
)

FIX = Path(__file__).parent / "fixtures"
INTENTS = FIX / "tiny_intents"
NOTES = FIX / "tiny_notes"
LABELS = ("track_order", "reset_password", "cancel_subscription", "opening_hours")


# -- scoring tables ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw,correct,compliant",
    [
        ("track_order", True, True),
        ("  track_order\n", True, True),  # surrounding whitespace is not content
        ("reset_password", False, True),  # a valid label, the wrong one
        ("track_order.", False, False),  # scored as written: no repair
        ("Track_order", False, False),
        ("Label: track_order", False, False),
        ("track_order reset_password", False, False),
        ("", False, False),
    ],
)
def test_score_label(raw, correct, compliant):
    s = score_label(raw, "track_order", LABELS)
    assert (s["correct"], s["compliant"]) == (correct, compliant)
    assert s["parsed"] == (raw.strip() if compliant else None)


FIELDS = {
    "order_no": FieldSpec("order_no", "string", ""),
    "quantity": FieldSpec("quantity", "number", ""),
    "ship_date": FieldSpec("ship_date", "date", ""),
    "city": FieldSpec("city", "string", ""),
}
GOLD = {"order_no": "PO-1", "quantity": 12, "ship_date": "2025-03-04", "city": None}


@pytest.mark.parametrize(
    "raw,hits,compliant,tp_fp_fn",
    [
        ('{"order_no": "PO-1", "quantity": 12, "ship_date": "2025-03-04", "city": null}',
         4, True, [3, 0, 0]),
        # 12.0 is the number 12; whitespace around a string is stripped
        ('{"order_no": " PO-1", "quantity": 12.0, "ship_date": "2025-03-04", "city": null}',
         4, True, [3, 0, 0]),
        # a date in another format is wrong and not compliant (the gold is ISO)
        ('{"order_no": "PO-1", "quantity": 12, "ship_date": "04/03/2025", "city": null}',
         3, False, [2, 1, 1]),
        # a number written as a string is neither the number nor compliant
        ('{"order_no": "PO-1", "quantity": "12", "ship_date": "2025-03-04", "city": null}',
         3, False, [2, 1, 1]),
        # a missing key is wrong even where the gold is null; keys must match the schema
        ('{"order_no": "PO-1", "quantity": 12, "ship_date": "2025-03-04"}', 3, False, [3, 0, 0]),
        # an invented value for an absent field: a false positive
        ('{"order_no": "PO-1", "quantity": 12, "ship_date": "2025-03-04", "city": "Leeds"}',
         3, True, [3, 1, 0]),
        # an extra key makes it non-compliant but scores the fields it has
        ('{"order_no": "PO-1", "quantity": 12, "ship_date": "2025-03-04", "city": null, "x": 1}',
         4, False, [3, 0, 0]),
        # text around the JSON: not parsed, never cut out
        ('Here it is: {"order_no": "PO-1", "quantity": 12, "ship_date": "2025-03-04", '
         '"city": null}', 0, False, [0, 0, 3]),
        ('["PO-1", 12]', 0, False, [0, 0, 3]),
        ('{"order_no": "PO-1", "quantity": true, "ship_date": "2025-02-30", "city": null}',
         2, False, [1, 2, 2]),
    ],
)  # fmt: skip
def test_score_fields(raw, hits, compliant, tp_fp_fn):
    s = score_fields(raw, GOLD, FIELDS)
    assert sum(s["fields_correct"].values()) == hits
    assert s["compliant"] is compliant
    assert s["correct"] is (hits == 4)
    assert s["tp_fp_fn"] == tp_fp_fn


# -- the protocol with fakes ---------------------------------------------------------------
def fixed(raws):
    """An answer function that answers text -> raws[text] (or "?")."""

    def answer(texts):
        return [Answer(raws.get(t, "?"), 7, 0.001) for t in texts]

    return answer


def test_classification_metrics_by_hand():
    ds = load_task(INTENTS)
    # Right on every track_order and opening_hours test text (8 of 16); a valid but wrong
    # label on reset_password; rambling on cancel_subscription.
    raws = {}
    for e in ds.test:
        raws[e.text] = {
            "track_order": e.label,
            "opening_hours": e.label,
            "reset_password": "track_order",
            "cancel_subscription": "I think cancel",
        }[e.label]
    after = {e.text: e.label for e in ds.update.test if e.label != "report_bug"}
    res = evaluate_task(
        "fake",
        ds,
        fixed(raws),
        build_seconds=2.0,
        apply_update=lambda: fixed(after),
        latency_queries=3,
    )
    m = res.metrics
    assert res.task == "classification"
    assert m["accuracy"] == 0.5
    assert m["format_compliance"] == 0.75
    # per class F1: track_order P=4/8 R=1 -> 2/3; opening_hours 1; the other two 0.
    assert m["macro_f1"] == round((2 / 3 + 1) / 4, 4)
    # update test: 4 new-label (all wrong) + 4 old (all right)
    assert m["accuracy_updated"] == 0.5
    assert m["accuracy_new_labels"] == 0.0
    assert m["build_seconds"] == 2.0
    assert m["prompt_tokens_mean"] == 7.0
    assert sum(r["latency_ms"] is not None for r in res.answers) == 3
    kinds = [r["kind"] for r in res.answers]
    assert kinds.count("original") == 16 and kinds.count("updated") == 8
    rec = res.answers[0]
    for key in ("id", "kind", "text", "raw", "parsed", "gold", "correct", "compliant"):
        assert key in rec
    # round trip through JSON keeps the task and its metric keys
    back = PrototypeResult.from_dict(json.loads(json.dumps(res.to_dict())))
    assert back.task == "classification" and back.metrics == res.metrics


def test_extraction_metrics_by_hand():
    ds = load_task(NOTES)
    perfect = {e.text: target(ds.schema, e) for e in ds.test}
    # after the update the model writes the old fields only: the new field is missing
    stale = {e.text: target(ds.schema, e) for e in ds.update.test}
    res = evaluate_task(
        "fake", ds, fixed(perfect), build_seconds=0.0, apply_update=lambda: fixed(stale)
    )
    m = res.metrics
    assert res.task == "extraction"
    assert (m["field_accuracy"], m["field_f1"], m["format_compliance"]) == (1.0, 1.0, 1.0)
    # 4 update test examples x 5 fields: 4 of 5 right each; the new field never
    assert m["field_accuracy_updated"] == 0.8
    assert m["new_field_accuracy"] == 0.0
    assert res.extra_metrics["format_compliance_updated"] == 0.0


def test_old_qa_results_still_read_as_qa():
    old = {"strategy": "rag", "metrics": {"accuracy": 0.5}, "answers": []}
    r = PrototypeResult.from_dict(old)
    assert r.task == "knowledge_qa" and r.metrics["accuracy_paraphrased"] is None
    assert "task" not in r.to_dict()
    run = PrototypeRun.from_dict({"results": [old, {**old, "task": "extraction"}]})
    assert [x.task for x in run.results] == ["knowledge_qa", "extraction"]
    with pytest.raises(ValueError, match="missing"):
        PrototypeResult("rag", {"accuracy": 1.0}, task="classification")


# -- rows with a fake generator ------------------------------------------------------------
class CopyGenerator:
    """Answers with the last assistant turn of the prompt (what the nearest example shows),
    or `fallback` when the prompt has none: a deterministic stand-in for in-context copying."""

    name = "copy-fake"

    def __init__(self, fallback: str = "track_order"):
        self.fallback = fallback
        self.chats: list = []

    def generate(self, chats, max_new_tokens=48):
        self.chats += list(chats)
        out = []
        for c in chats:
            said = [m["content"] for m in c if m["role"] == "assistant"]
            out.append(Generation(said[-1] if said else self.fallback, len(str(c)), 1, 0.001))
        return out


def fake_ctx(gen=None):
    models = SharedModels("cpu", generator=gen or CopyGenerator(), embedder=HashingEmbedder())
    return RunContext("cpu", models=models)


def test_rag_row_indexes_only_new_examples_and_reaches_the_new_label():
    ds = load_task(INTENTS)
    emb = HashingEmbedder()
    gen = CopyGenerator()
    ctx = RunContext("cpu", models=SharedModels("cpu", generator=gen, embedder=emb))
    res = TASK_RUNNERS["rag"](ds, ctx)
    # the training texts and the test texts were embedded; after the update only the 4 new
    # training texts, never the old ones again
    train_texts = [e.text for e in ds.train]
    assert emb.encoded[: len(train_texts)] == train_texts
    new = [e.text for e in ds.new_train]
    assert all(emb.encoded.count(t) == 1 for t in train_texts + new)
    assert res.meta["update"]["examples_added"] == 4
    m = res.metrics
    assert m["accuracy_new_labels"] > 0  # a new-label example was retrieved and copied
    assert m["format_compliance"] == 1.0
    # the prompt holds k examples as chat turns, no label list
    system = gen.chats[0][0]["content"]
    assert "report_bug" not in system and "track_order" not in system
    assert sum(m["role"] == "assistant" for m in gen.chats[0]) == 6
    assert all(r["retrieved"] for r in res.answers)


def test_base_row_reads_the_updated_label_list():
    ds = load_task(INTENTS)
    gen = CopyGenerator(fallback="report_bug")
    res = TASK_RUNNERS["base"](ds, fake_ctx(gen))
    before = gen.chats[0][0]["content"]
    after = gen.chats[-1][0]["content"]
    assert "track_order" in before and "report_bug" not in before
    assert "report_bug" in after
    # "report_bug" is not a label before the update: non-compliant there
    assert res.metrics["format_compliance"] == 0.0
    assert res.metrics["accuracy_new_labels"] == 1.0


def test_extraction_rag_prefers_examples_with_every_field():
    ds = load_task(NOTES)
    gen = CopyGenerator(fallback="{}")
    res = TASK_RUNNERS["rag"](ds, fake_ctx(gen))
    upd = [r for r in res.answers if r["kind"] == "updated"]
    new_ids = {e.id for e in ds.new_train}
    # after the update the nearest shown example always carries the new field
    assert all(r["retrieved"][0] in new_ids for r in upd)
    assert all("carrier" in json.loads(gen.chats[-1][-2]["content"]) for _ in upd)
    assert res.metrics["new_field_accuracy"] is not None


def test_example_index_never_returns_the_example_itself():
    ds = load_task(INTENTS)
    index = ExampleIndex(HashingEmbedder())
    index.add(ds.train)
    got = index.search([e.text for e in ds.train], 3, exclude=[e.id for e in ds.train])
    assert all(e.id not in {x.id for x in shots} for e, shots in zip(ds.train, got, strict=True))
    assert all(len(s) == 3 for s in got)
    # without the exclusion every example retrieves itself first (faiss sanity check)
    first = index.search([e.text for e in ds.train], 1)
    assert [s[0].id for s in first] == [e.id for e in ds.train]


def test_hybrid_training_rows_rename_labels_consistently():
    from prototype.task_rows import PSEUDO_WORDS, HybridTaskSettings

    ds = load_task(INTENTS)
    index = ExampleIndex(HashingEmbedder())
    index.add(ds.train)
    hs = HybridTaskSettings(counterfactual=1.0, train_share=1.0)
    rows = hybrid_examples(ds.schema, list(ds.train), index, hs)
    assert len(rows) == len(ds.train)
    renamed = 0
    for ex, row in zip(ds.train, rows, strict=True):
        shown = [m["content"] for m in row.messages if m["role"] == "assistant"]
        assert row.messages[-1]["content"] == ex.text  # the text itself is never a shot
        assert ex.text not in [m["content"] for m in row.messages[1:-1]]
        if row.target != ex.label:
            renamed += 1
            assert ex.label not in shown and row.target in shown
            # an invented label: writable only by copying it from the examples
            assert row.target not in ds.schema.labels and set(row.target.split("_")) <= set(
                PSEUDO_WORDS
            )
    assert renamed > len(rows) // 2


def test_hybrid_trains_on_a_share_but_at_least_min_rows():
    from prototype.task_rows import HybridTaskSettings

    ds = load_task(INTENTS)
    index = ExampleIndex(HashingEmbedder())
    index.add(ds.train)
    n = len(ds.train)
    rows = lambda **kw: hybrid_examples(ds.schema, list(ds.train), index, HybridTaskSettings(**kw))  # noqa: E731
    assert len(rows(train_share=0.5, min_rows=0)) == round(0.5 * n)
    assert len(rows(train_share=0.1, min_rows=n // 2)) == n // 2
    assert len(rows(train_share=0.1, min_rows=10 * n)) == n  # never more than there are


def test_typo_augmentation_adds_noised_copies_that_do_not_count_as_originals():
    """`augment` on a task row adds `n_rewrites` typo-noised copies of each text (tried on
    support_intents, not adopted: data/runs/task_tuning.json); the label never changes."""
    from dataclasses import replace

    from prototype.augment import typo_noise

    ds = load_task(Path(__file__).parents[1] / "data" / "tasks" / "support_intents")
    train = ds.train[:20]
    plain = ft_examples(ds.schema, train, TASK_LORA)
    rows = ft_examples(ds.schema, train, replace(TASK_LORA, augment=True, n_rewrites=2))
    assert len(plain) == 20 and len(rows) == 60
    assert [r.original for r in rows] == [True] * 20 + [False] * 40
    assert [r.target for r in rows[20:40]] == [e.label for e in train]
    noised = [r.messages[-1]["content"] for r in rows[20:40]]
    changed = [a != e.text for a, e in zip(noised, train, strict=True)]
    assert sum(changed) >= 15  # texts with no word of 5+ letters stay as they are
    assert noised == [typo_noise(e.text, 0) for e in train]  # deterministic
    assert rows[40].messages[-1]["content"] != noised[0] or not changed[0]
    slip = typo_noise("ok thanks", 0).split(" ")
    assert slip[0] == "ok" and slip[1] != "thanks" and abs(len(slip[1]) - 6) <= 1
    assert typo_noise("ok yes", 0) == "ok yes"  # no word long enough to slip


def test_few_shot_prompt_shows_nearest_last():
    ds = load_task(INTENTS)
    shots = list(ds.train[:3])
    msgs = few_shot_messages(ds.schema, "hello", shots)
    assert msgs[-2]["content"] == shots[0].label and msgs[-3]["content"] == shots[0].text


@pytest.mark.parametrize(
    "votes,share,expected",
    [
        ([("a", 0.9), ("a", 0.8), ("b", 0.7)], 0.5, None),  # every label known: the adapter
        ([("new", 0.9), ("new", 0.8), ("a", 0.7)], 0.5, "new"),  # 1.7 of 2.4 on the new label
        ([("new", 0.9), ("a", 0.8), ("a", 0.7)], 0.5, None),  # 0.9 of 2.4: the adapter
        ([("new", 0.9), ("a", 0.8), ("a", 0.7)], 0.3, "new"),  # a lower share routes it
        ([("x", 0.5), ("y", 0.6), ("a", 0.1)], 0.5, "y"),  # two new labels: the stronger
        ([("new", -0.2), ("a", 0.4)], 0.5, None),  # a negative cosine counts as none
        ([], 0.5, None),
    ],
)
def test_new_label_vote(votes, share, expected):
    from types import SimpleNamespace

    from prototype.task_rows import new_label_vote

    near = [(SimpleNamespace(label=lab), sim) for lab, sim in votes]
    assert new_label_vote(near, frozenset({"a", "b"}), share) == expected


def test_routed_answerer_sends_only_unrouted_texts_to_the_adapter():
    from prototype.evaluate import Answer
    from prototype.task_rows import routed_answerer

    ds = load_task(INTENTS)
    index = ExampleIndex(HashingEmbedder())
    index.add(ds.train)
    known = frozenset(e.label for e in ds.train)
    asked: list = []

    def adapter(texts):
        asked.extend(texts)
        return [Answer("track_order", 5, 0.01) for _ in texts]

    # the update's own new-label texts: after the update each is its own nearest neighbour
    texts = [e.text for e in ds.new_train] + [e.text for e in ds.test[:4]]
    before = routed_answerer(adapter, index, known, share=0.1)(texts)
    assert asked == texts and all(a.extra["route"] == "fine_tuning" for a in before)
    index.add(ds.update.train)
    asked.clear()
    after = routed_answerer(adapter, index, known, share=0.1)(texts)
    routed = [a for a in after if a.extra["route"] == "retrieval"]
    assert routed and all(a.raw not in known and a.prompt_tokens == 0 for a in routed)
    assert len(asked) == len(texts) - len(routed)  # a routed text is never generated
    assert all(len(a.retrieved) == 6 for a in after)


@pytest.mark.parametrize(
    "mine,theirs,expected",
    [
        ('{"a": 1, "b": "x"}', '{"a": 9, "c": "new"}', {"a": 1, "b": "x", "c": "new"}),
        ('{"a": 1}', "not json", {"a": 1}),  # retrieval gave nothing: the field stays out
        ('{"a": 1, "zz": 2}', '{"c": null}', {"a": 1, "zz": 2, "c": None}),  # extras kept
    ],
)
def test_merged_answerer_adds_only_the_new_fields(mine, theirs, expected):
    from prototype.evaluate import Answer
    from prototype.task_rows import merged_answerer

    fn = merged_answerer(
        lambda t: [Answer(mine, 10, 0.1) for _ in t],
        lambda t: [Answer(theirs, 30, 0.2, ("e1",)) for _ in t],
        ["c"],
    )
    [a] = fn(["note"])
    assert json.loads(a.raw) == expected
    assert (a.prompt_tokens, a.retrieved) == (40, ("e1",))
    assert a.extra["adapter_raw"] == mine


def test_merged_answerer_leaves_a_broken_adapter_answer_as_written():
    from prototype.evaluate import Answer
    from prototype.task_rows import merged_answerer

    fn = merged_answerer(
        lambda t: [Answer('{"a": 1', 10, 0.1) for _ in t],
        lambda t: [Answer('{"c": 2}', 30, 0.2) for _ in t],
        ["c"],
    )
    assert fn(["note"])[0].raw == '{"a": 1'


def test_unknown_row_for_a_task_is_a_config_error():
    from prototype.runner import run_task_strategy

    ds = load_task(INTENTS)
    with pytest.raises(ConfigError, match="rag\\+constrained"):
        run_task_strategy("rag+constrained", ds, "cpu")


# -- real models -----------------------------------------------------------------------------
@pytest.mark.slow
def test_real_classification_ft_learns_labels_and_cannot_reach_the_new_one(tmp_path, monkeypatch):
    """SmolLM2 + LoRA on 32 messages of 4 intents: fine-tuning learns the labels (well above
    the zero-shot base and chance, 0.25) with format on the raw text, and never writes the
    label added after training; few-shot retrieval writes it, and so does FT retrained."""
    from prototype.runner import run_task_strategy

    monkeypatch.setenv("FTRAG_ADAPTERS", str(tmp_path))
    ds = load_task(INTENTS)
    ft = run_task_strategy("fine_tuning", ds, "cpu", retrain=True)
    base = run_task_strategy("base", ds, "cpu")
    rag = run_task_strategy("rag", ds, "cpu")
    m = ft.metrics
    assert m["accuracy"] >= 0.75
    assert m["accuracy"] > base.metrics["accuracy"] + 0.2
    assert m["format_compliance"] >= 0.9
    # compliance is read from the raw text
    for r in ft.answers:
        if r["kind"] == "original":
            assert r["compliant"] == (r["raw"].strip() in LABELS)
    assert m["accuracy_new_labels"] == 0.0
    assert not any(r["raw"].strip() == "report_bug" for r in ft.answers)
    assert rag.metrics["accuracy_new_labels"] > 0
    # --retrain: a second adapter on the updated training set reaches the new label
    assert ft.extra_metrics["accuracy_new_labels_retrained"] > 0
    assert ft.extra_metrics["retrain_seconds"] > 0
    assert m["prompt_tokens_mean"] < rag.metrics["prompt_tokens_mean"] / 3
    # hybrid+route: the same adapter (reused, not retrained) answers exactly as fine-tuning
    # before the update, and retrieval brings the new label after it
    route = run_task_strategy("hybrid+route", ds, "cpu")
    assert route.meta["train"]["seconds"] == ft.meta["train"]["seconds"]  # one adapter
    before = [r["raw"] for r in route.answers if r["kind"] == "original"]
    assert before == [r["raw"] for r in ft.answers if r["kind"] == "original"]
    assert route.metrics["accuracy"] == m["accuracy"]
    assert route.metrics["accuracy_new_labels"] > 0
    assert route.metrics["accuracy_updated"] > m["accuracy_updated"]
    routes = {(r["kind"], r["extra"]["route"]) for r in route.answers}
    assert ("original", "retrieval") not in routes  # no label is new before the update
    assert ("updated", "retrieval") in routes


@pytest.mark.slow
def test_train_budget_replaces_the_rows_cap_and_keys_the_adapter(tmp_path, monkeypatch):
    """`ftrag prototype --train-budget S`: each LoRA run stops by S seconds, the run records
    the cap it had, and an adapter stopped by one cap is not reused under another."""
    from prototype.runner import run_task_strategy

    monkeypatch.setenv("FTRAG_ADAPTERS", str(tmp_path))
    ds = load_task(INTENTS)
    short = run_task_strategy("fine_tuning", ds, "cpu", train_budget_s=1.0)
    assert short.meta["settings"]["max_seconds"] == 1.0
    assert short.meta["train"]["stop_reason"] == "max_seconds"
    assert short.meta["train"]["epochs"] < TASK_LORA.max_epochs
    again = run_task_strategy("fine_tuning", ds, "cpu", train_budget_s=1.0)
    assert again.meta["train"]["reused"] and again.meta["adapter"] == short.meta["adapter"]
    other = run_task_strategy("fine_tuning", ds, "cpu", train_budget_s=2.0)
    assert not other.meta["train"]["reused"] and other.meta["adapter"] != short.meta["adapter"]


# -- calibration and report take task results ----------------------------------------------
def _task_result(strategy, kind, value):
    from core.registry import TASKS

    metrics = dict.fromkeys(TASKS.get(kind).metric_keys, 0.5)
    metrics[TASKS.get(kind).calibrates[0]] = value
    return PrototypeResult(strategy, metrics, task=kind, meta={"dataset": "d", "model": "m"})


@pytest.mark.parametrize(
    "kind,key", [("classification", "accuracy"), ("extraction", "field_accuracy")]
)
def test_calibration_reads_the_tasks_accuracy(kind, key):
    from simulator.calibration import parse_calibration

    run = PrototypeRun([_task_result("fine_tuning", kind, 0.91), _task_result("rag", kind, 0.7)])
    cal = parse_calibration(json.loads(json.dumps(run.to_dict())), "run.json")
    assert cal.accuracies() == {"fine_tuning": 0.91, "rag": 0.7}
    # what `ftrag prototype --strategy all --task` writes beside the results is accepted
    cli = {**run.to_dict(), "task": "d", "kind": kind, "strategies": ["fine_tuning", "rag"]}
    assert parse_calibration(cli, "run.json").accuracies() == cal.accuracies()
    with pytest.raises(ConfigError, match="task"):
        parse_calibration({"results": [{**run.to_dict()["results"][0], "task": "poems"}]}, "x")


def test_report_section_shows_the_task_metric_names():
    from report.sections.prototype import prototype_section

    sec = prototype_section(PrototypeRun([_task_result("hybrid", "extraction", 0.8)]))
    cols = sec["metrics"].columns
    assert cols[:3] == ["Strategy", "Field exact match", "Field micro-F1"]
    assert "New field" in cols and "Paraphrased" not in cols
    assert sec["corpus"] == "d"
    assert "task dataset" in sec["metrics"].caption


@pytest.mark.slow
def test_real_extraction_ft_learns_the_schema_and_not_the_new_field(tmp_path, monkeypatch):
    """LoRA on 12 delivery notes: fine-tuning writes schema-valid JSON on the raw text and
    gets most fields right, and never writes the field added after training; few-shot
    retrieval, shown an example that has it, writes it."""
    from prototype.runner import run_task_strategy

    monkeypatch.setenv("FTRAG_ADAPTERS", str(tmp_path))
    ds = load_task(NOTES)
    ft = run_task_strategy("fine_tuning", ds, "cpu")
    rag = run_task_strategy("rag", ds, "cpu")
    m = ft.metrics
    assert m["format_compliance"] >= 0.8
    assert m["field_accuracy"] >= 0.7
    for r in ft.answers:  # compliance is json.loads of the raw text, nothing cut away
        if r["compliant"]:
            assert json.loads(r["raw"]) == r["parsed"]
    assert m["new_field_accuracy"] == 0.0
    assert not any("carrier" in (r["parsed"] or {}) for r in ft.answers)
    assert rag.metrics["new_field_accuracy"] > 0
    # extraction trains under bf16 autocast where the CPU computes bf16 natively
    import torch

    bf16 = native_bf16(torch.device("cpu"))
    assert ft.meta["train"]["precision"] == ("bf16-autocast" if bf16 else "fp32")
