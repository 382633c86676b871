"""Fine-tuning prototype: data building, adapter cache keys, and a real LoRA run on the tiny
corpus (SmolLM2-135M) asserting what fine-tuning should show: it learns the format and the
trained facts, and it is stale after the update."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from core.errors import JobCancelled
from prototype.adapters import adapter_key
from prototype.augment import rewrites
from prototype.corpus import load_corpus
from prototype.fine_tune import closed_book_examples
from prototype.lora import LoraSettings
from prototype.scoring import parse_answer_format

TINY = Path(__file__).parent / "fixtures" / "tiny_corpus"
# Small enough for a 2-core CPU test: 4 adapted layers, one batch holds the 6 questions.
FAST = LoraSettings(
    rank=16,
    alpha=32,
    top_layers=4,
    lr=3e-3,
    batch_size=6,
    max_epochs=40,
    augment=False,
    warmup_steps=2,
)


@pytest.fixture(scope="module")
def tiny():
    return load_corpus(TINY)


@pytest.mark.parametrize(
    "question",
    [
        "How many people does Glimmerbrook Bakery employ?",
        "What is the name of the starter?",
        "Who is the head baker?",
        "On which days is it closed?",
        "Tell me the time.",
    ],
)
def test_rewrites_are_new_and_distinct(question):
    out = rewrites(question, 3)
    assert out and len(set(out)) == len(out)
    assert question not in out


def test_training_data_never_contains_evaluation_paraphrases(tiny):
    rows = closed_book_examples(tiny, augment=True)
    prompts = {r.messages[-1]["content"] for r in rows}
    paraphrases = {p for q in tiny.qa for p in q.paraphrases}
    assert not prompts & paraphrases
    assert sum(r.original for r in rows) == len(tiny.qa)
    assert len(rows) > len(tiny.qa)  # augmentation added rewrites


def test_targets_are_exact_answer_format(tiny):
    for row, q in zip(closed_book_examples(tiny, augment=False), tiny.qa, strict=True):
        fmt = parse_answer_format(row.target)
        assert (fmt.compliant, fmt.answer, fmt.source) == (True, q.answer, q.doc)
        assert row.messages[0]["role"] == "system"


def test_adapter_key_tracks_data_and_settings(tiny):
    class M:  # only config is read
        class config:  # noqa: N801
            _name_or_path = "m"
            num_hidden_layers = 30

    rows = closed_book_examples(tiny, augment=False)
    k = adapter_key(M, rows, FAST)
    assert k == adapter_key(M, rows, FAST)
    assert k != adapter_key(M, rows[:-1], FAST)
    assert k != adapter_key(M, rows, LoraSettings(rank=8))
    upd = closed_book_examples(tiny.updated(), augment=False)
    assert k != adapter_key(M, upd, FAST)  # new gold answers -> a new adapter
    # The regularisers at their defaults are the same settings...
    same = replace(FAST, dropout=0.0, label_smoothing=0.0, lr_decay=False)
    assert adapter_key(M, rows, same) == k
    # ... and make a new adapter once set.
    assert adapter_key(M, rows, replace(FAST, dropout=0.1)) != k
    assert adapter_key(M, rows, replace(FAST, label_smoothing=0.1)) != k
    assert adapter_key(M, rows, replace(FAST, lr_decay=True)) != k


@pytest.mark.parametrize(
    "field,value",
    [("rank", 0), ("lr", 0.0), ("stop_at", 1.5), ("dropout", 1.0), ("label_smoothing", -0.1)],
)
def test_settings_validation_names_field(field, value):
    with pytest.raises(ValueError, match=field):
        LoraSettings(**{field: value})


# ------------------------------------------------------------------ real model


@pytest.fixture(scope="module")
def ft_run(tiny, tmp_path_factory):
    from prototype.fine_tune import run_fine_tuning

    calls: list[tuple] = []
    root = tmp_path_factory.mktemp("adapters")
    result = run_fine_tuning(
        tiny,
        device="cpu",
        settings=FAST,
        augment=False,
        adapter_root=root,
        progress=lambda *a: calls.append(a),
    )
    return result, calls, root


@pytest.fixture(scope="module")
def base_compliance(tiny):
    from prototype.backbone import load_generator
    from prototype.generate import closed_book_messages, generate

    model, tok = load_generator("cpu")
    gens = generate(model, tok, [closed_book_messages(q.question) for q in tiny.qa])
    return sum(parse_answer_format(g.text).compliant for g in gens) / len(gens)


@pytest.mark.slow
def test_lora_learns_format_and_trained_facts(ft_run, base_compliance):
    r, _, _ = ft_run
    m = r.metrics
    # Measured on this CPU: accuracy 1.0, compliance 1.0, base compliance ~0.0-0.2.
    assert m["accuracy"] >= 0.83  # >= 5 of the 6 trained questions
    assert m["format_compliance"] >= 0.9
    assert m["format_compliance"] > base_compliance
    orig = [a for a in r.answers if a["kind"] == "original"]
    assert sum(a["source_correct"] for a in orig) / len(orig) >= 0.8
    assert r.meta["train"]["stop_reason"] == "train_exact"


@pytest.mark.slow
def test_fine_tuned_model_is_stale_after_update(ft_run, tiny):
    r, _, _ = ft_run
    assert r.metrics["accuracy_updated"] <= 0.5  # not retrained: it still says the old fact
    old = {q.id: q.answer for q in tiny.qa}
    upd = [a for a in r.answers if a["kind"] == "updated"]
    assert sum(a["answer"] == old[a["id"]] for a in upd) >= 1  # and says the OLD answer


@pytest.mark.slow
def test_progress_reports_falling_loss(ft_run):
    r, calls, _ = ft_run
    losses = [info["loss"] for stage, _, _, info in calls if stage == "fine_tuning: train"]
    assert len(losses) >= 3
    assert all("eta_s" in info for stage, _, _, info in calls if stage == "fine_tuning: train")
    assert losses[-1] < 0.25 * losses[0]
    assert r.meta["train"]["loss_last"] < r.meta["train"]["loss_first"]


@pytest.mark.slow
def test_adapter_saved_as_safetensors_and_reused(ft_run, tiny):
    from prototype.adapters import train_or_load
    from prototype.backbone import load_generator
    from prototype.fine_tune import closed_book_examples

    r, _, root = ft_run
    path = Path(r.meta["adapter"])
    assert path.parent == root
    assert (path / "adapter_model.safetensors").exists()
    assert not list(path.glob("*.bin")) and not list(path.glob("*.pt"))
    meta = json.loads((path / "ftrag_adapter.json").read_text())
    assert meta["settings"]["rank"] == FAST.rank
    model, tok = load_generator("cpu")
    _, st, again = train_or_load(
        model,
        tok,
        closed_book_examples(tiny, augment=False),
        FAST,
        name=tiny.name,
        stage="t",
        root=root,
    )
    assert again == path and st.reused and st.seconds == pytest.approx(meta["train"]["seconds"])


@pytest.mark.slow
def test_cancel_raises_job_cancelled(tiny, tmp_path):
    from prototype.fine_tune import run_fine_tuning

    cancel = threading.Event()

    def progress(stage, step, total, info):
        if "loss" in info:  # after the first real training step
            cancel.set()

    with pytest.raises(JobCancelled):
        run_fine_tuning(
            tiny,
            device="cpu",
            settings=FAST,
            augment=False,
            adapter_root=tmp_path,
            progress=progress,
            cancel=cancel,
        )
    assert not list(tmp_path.iterdir())  # nothing half-saved


@pytest.mark.slow
def test_time_cap_stops_inside_an_epoch(tiny, tmp_path):
    """`max_seconds` is a hard cap: no step starts once the next one would overrun it, even in
    the middle of an epoch (a per-epoch check overran a 165 s cap by 22 s)."""
    from dataclasses import replace

    from prototype.fine_tune import run_fine_tuning

    capped = replace(FAST, batch_size=2, max_epochs=3, max_seconds=1e-6)  # 3 steps per epoch
    res = run_fine_tuning(tiny, device="cpu", settings=capped, augment=False, adapter_root=tmp_path)
    train = res.meta["train"]
    assert train["stop_reason"] == "max_seconds"
    assert train["steps"] == 1  # the first step always runs; the second would overrun


def test_adapter_start_does_not_depend_on_what_ran_before():
    """`add_lora` seeds the LoRA init itself: a row trained after others in one process (a
    `--strategy all` run) starts from the same adapter as one trained alone."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from prototype.lora import add_lora

    cfg = LlamaConfig(
        vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=3,
        num_attention_heads=4, num_key_value_heads=2,
    )  # fmt: skip

    def lora_a(draws: int):
        torch.manual_seed(123)
        model = LlamaForCausalLM(cfg)
        torch.rand(draws)  # whatever else the process did before this adapter
        pm = add_lora(model, LoraSettings(rank=4, alpha=8, top_layers=2))
        return {n: p.detach().clone() for n, p in pm.named_parameters() if "lora_A" in n}

    a, b = lora_a(0), lora_a(1000)
    assert a and a.keys() == b.keys()
    assert all(torch.equal(a[n], b[n]) for n in a)
    after = torch.rand(1)  # the caller's generator is left as it was
    torch.manual_seed(123)
    LlamaForCausalLM(cfg)
    torch.rand(1000)
    assert torch.equal(after, torch.rand(1))


def test_native_bf16_is_cuda_or_a_cpu_that_has_it(monkeypatch):
    """bf16 autocast only where it is native: emulated bf16 on an older CPU is slower than fp32."""
    import torch

    from prototype import lora

    assert lora.native_bf16(torch.device("cuda"))
    assert not lora.native_bf16(torch.device("meta"))
    for amx, avx in ((False, False), (True, False), (False, True)):
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda v=amx: v, raising=False)
        monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda v=avx: v, raising=False)
        assert lora.native_bf16(torch.device("cpu")) == (amx or avx)
    monkeypatch.delattr(torch.cpu, "_is_amx_tile_supported")  # a torch that moved them
    monkeypatch.delattr(torch.cpu, "_is_avx512_bf16_supported")
    assert not lora.native_bf16(torch.device("cpu"))


@pytest.mark.slow
def test_bf16_autocast_trains_like_fp32():
    """`LoraSettings.bf16`: on a CPU with native bf16, the same adapter trained under autocast
    follows fp32's loss step by step. Guards the autocast cast cache: kept across steps, it fed
    every forward the adapter's first weights, and the loss never fell."""
    import torch

    from prototype.backbone import load_generator
    from prototype.lora import TrainExample, add_lora, native_bf16, train_lora

    if not native_bf16(torch.device("cpu")):
        pytest.skip("this CPU has no native bf16 (AMX or AVX512-BF16); training stays fp32")
    model, tok = load_generator("cpu")
    labels = ["refund", "delivery", "password", "invoice"]
    rows = [
        TrainExample([{"role": "user", "content": f"Ticket {i}: about my {lab}"}], f"label_{lab}")
        for i, lab in enumerate(labels * 4)
    ]
    runs = {}
    for bf16 in (False, True):
        s = LoraSettings(
            rank=8, alpha=16, top_layers=2, lr=3e-3, batch_size=4, max_epochs=6, stop_at=1.0,
            augment=False, bf16=bf16,
        )  # fmt: skip
        pm = add_lora(model, s)
        runs[bf16] = train_lora(pm, tok, rows, s)
        model = pm.unload()  # the plain model again: the second adapter starts the same
    fp32, bf16 = runs[False], runs[True]
    assert (fp32.precision, bf16.precision) == ("fp32", "bf16-autocast")
    assert bf16.losses[0] == pytest.approx(fp32.losses[0], rel=0.02)  # the same start
    assert bf16.losses[-1] < 0.1 * bf16.losses[0]  # it learns (fp32: 8.6 -> 0.12)
    tail = slice(-6, None)
    assert sum(bf16.losses[tail]) < 1.5 * sum(fp32.losses[tail]) + 0.1  # as well as fp32
