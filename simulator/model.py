"""The model itself: cost, freshness and latency as array arithmetic.

Every parameter may be a float or an array of shape (draws, 1); months run along axis 1. So the
same code gives the deterministic run (one draw), the Monte Carlo (thousands of draws) and the
tornado (one draw per low/high variant) with no Python loop over draws. No I/O, no randomness.

Conventions (month m = 1..M is the m-th month in production):
- Upfront work (data prep, first training, first embedding) is billed in month 1.
- Fine-tuning retrains at the start of months 1+T, 1+2T, ... (T = retrain interval, 0 = never).
- stale_fraction is measured at the end of each month, the worst point of the month.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from simulator.assumptions import DAYS_PER_MONTH, SPECS, STRATEGIES, UNCERTAIN, Assumptions

HOURS_PER_MONTH = 730.0  # 8760 h / 12
M = 1e6  # prices are per million tokens / units
COMPONENTS = (
    "data_prep_usd",  # paraphrase or example synthesis with the generator
    "training_usd",  # first training + retrains
    "embedding_usd",  # first embedding + re-embedding changed documents
    "vector_store_usd",  # storage, writes, fixed VM, plan minimum
    "retrieval_usd",  # query embedding + vector reads
    "hosting_usd",  # GPU capacity not used by tokens (self-hosted) or FT hosting fee
    "inference_input_usd",  # prompt tokens incl. instructions and retrieved chunks
    "inference_output_usd",  # answer tokens
)


def profile_params(profile) -> dict[str, float]:
    return {
        "queries_per_month": float(profile.queries_per_month),
        "knowledge_base_tokens": float(profile.knowledge_base_tokens),
        "labeled_examples": float(profile.labeled_examples),
    }


def central_params(profile, a: Assumptions) -> dict[str, float]:
    """All numeric inputs of the model at their central values, by name."""
    p = profile_params(profile)
    p.update({name: a.value(name) for name, spec in SPECS.items() if not spec.integer})
    p.update({name: pp.value for name, pp in a.prices.items()})
    return p


def uncertain_ranges(a: Assumptions) -> dict[str, tuple[float, float]]:
    """(low, high) of every input that is uncertain: ranged assumptions and [U] prices."""
    out = {n: tuple(a.ranges[n]) for n in UNCERTAIN}
    out.update({n: (pp.low, pp.high) for n, pp in a.prices.items()})
    return {n: r for n, r in out.items() if r[1] > r[0]}


def retrain_mask(months: int, interval: int) -> np.ndarray:
    """1.0 in months that start with a retrain (1+T, 1+2T, ...), else 0; shape (months,)."""
    m = np.arange(1, months + 1)
    if interval <= 0:
        return np.zeros(months)
    return ((m > 1) & ((m - 1) % interval == 0)).astype(float)


def stale_fractions(p: Mapping, retrain_interval: int, months: int) -> dict[str, np.ndarray]:
    """Share of the knowledge that changed since each strategy last saw it (end of month).

    Fine-tuning: a sawtooth, 1 - (1 - c)^age with age = months since the last (re)training,
    reset at every retrain. RAG: only what changed within the ingestion lag,
    1 - (1 - c)^(lag / 30.44 days), constant over time and independent of retraining. Hybrid
    reads its facts from retrieval, so it is as fresh as RAG.
    """
    keep = 1.0 - np.asarray(p["change_rate_per_month"], dtype=float)
    m = np.arange(1, months + 1)[None, :]
    age = (m - 1) % retrain_interval + 1 if retrain_interval > 0 else m
    ft = 1.0 - keep**age
    rag = 1.0 - keep ** (np.asarray(p["ingestion_lag_days"]) / DAYS_PER_MONTH)
    return {"fine_tuning": ft, "rag": rag, "hybrid": rag}


def full(x, draws: int, months: int) -> np.ndarray:
    """Expand a natural-shape result to (draws, months)."""
    return np.broadcast_to(np.asarray(x, dtype=float), (draws, months))


def evaluate(
    p: Mapping, billing: str, retrain_interval: int, hybrid_retrain_interval: int, months: int
) -> dict[str, dict[str, np.ndarray]]:
    """Monthly cost components, stale fraction and expected accuracy for every strategy.

    Returns {strategy: {component: array, "monthly_cost_usd", "stale_fraction",
    "expected_accuracy"}}. Arrays keep their natural shape, which broadcasts to (draws, months):
    a cost that does not vary by month stays (draws, 1). Use `full` to expand one.
    """
    m = np.arange(1, months + 1)[None, :]
    first = (m == 1).astype(float)
    zero = np.zeros((1, 1))

    q = p["queries_per_month"] * (1.0 + p["query_growth_per_month"]) ** (m - 1)
    n_tok, labeled = p["knowledge_base_tokens"], p["labeled_examples"]
    c = p["change_rate_per_month"]
    chunk, k = p["chunk_tokens"], p["k_retrieved"]
    prompt, answer, epochs = p["prompt_tokens"], p["answer_tokens"], p["epochs"]
    cache = p["cached_prefix_fraction"]

    # Effective USD per 1M tokens. Self-hosted: a GPU-hour buys prefill_tokens_per_s * 3600
    # input tokens or decode_tokens_per_s * 3600 output tokens at full batching; a LoRA adapter
    # merged into the weights serves at the base model's cost.
    if billing == "gpu_hours":
        gpu = p["gpu.usd_per_hour"]
        gen_in = gpu / (p["gen.prefill_tokens_per_s"] * 3600) * M
        gen_out = gpu / (p["gen.decode_tokens_per_s"] * 3600) * M
        gen_cached, ft_in, ft_cached, ft_out = gen_in, gen_in, gen_in, gen_out
        train_per_mtok = gpu / p["gen.lora_train_tokens_per_gpu_hour"] * M
        floor = p["gen.min_gpus"] * HOURS_PER_MONTH * gpu  # reserved capacity, all strategies
        ft_fee = 0.0
    else:
        gen_in, gen_out = p["gen.input_per_mtok"], p["gen.output_per_mtok"]
        gen_cached = p["gen.cached_input_per_mtok"]
        ft_in, ft_out = p["ft.input_per_mtok"], p["ft.output_per_mtok"]
        ft_cached = p["ft.cached_input_per_mtok"]
        train_per_mtok = p["ft.training_per_mtok"]
        floor = 0.0
        ft_fee = p["ft.hosting_per_hour"] * HOURS_PER_MONTH  # hosted FT deployments only

    def inference(static, dynamic, price_in, price_cached, price_out):
        """Per-query tokens -> monthly USD. The static prefix (instructions) is cacheable."""
        cached = static * cache
        usd_in = q * ((static - cached + dynamic) * price_in + cached * price_cached) / M
        usd_out = q * answer * price_out / M
        return usd_in, usd_out

    # --- retrieval side, shared by RAG and hybrid -------------------------------------------
    emb = p["emb.usd_per_mtok"]
    vectors = n_tok / chunk
    gb = vectors / M * p["vs.gb_per_million_vectors"]
    # First embedding in month 1, then every month the changed share is re-embedded.
    embedding = (first + c) * n_tok * emb / M
    writes = (first + c) * vectors * p["vs.write_units_per_vector"] * p["vs.write_per_munits"] / M
    storage = gb * p["vs.storage_per_gb_month"] + p["vs.fixed_monthly"]
    read_units = np.maximum(p["vs.min_read_units_per_query"], gb * p["vs.read_units_per_gb"])
    reads = q * read_units * p["vs.read_per_munits"] / M
    # The plan minimum tops up storage + writes + reads to the minimum monthly bill.
    top_up = np.maximum(0.0, p["vs.monthly_minimum"] - (storage + writes + reads))
    vector_store = storage + writes + top_up
    retrieval = reads + q * prompt * emb / M  # the query itself is embedded

    # --- fine-tuning side ---------------------------------------------------------------------
    # Knowledge FT trains on the corpus plus paraphrases (Ovadia et al.: paraphrases are how
    # FT learns facts) and on the labelled examples; retrains redo retrain_corpus_fraction of it.
    example_tok = labeled * (prompt + answer)
    corpus_tok = n_tok * (1.0 + p["paraphrases_per_chunk"])
    ft_mask = retrain_mask(months, retrain_interval)[None, :]
    ft_train_tok = epochs * (
        first * (corpus_tok + example_tok)
        + ft_mask * (corpus_tok * p["retrain_corpus_fraction"] + example_tok)
    )
    # Paraphrases are generated per chunk once (month 1) and for the share that changed since
    # the previous training at each retrain.
    changed_since = 1.0 - (1.0 - c) ** max(retrain_interval, 1)
    para_usd = n_tok * (gen_in + p["paraphrases_per_chunk"] * gen_out) / M
    ft_prep = (first + ft_mask * changed_since) * para_usd

    # Hybrid FT teaches behaviour, RAFT-style: examples with oracle + distractor chunks in
    # context (Zhang et al. 2024). Missing examples are synthesised by the generator.
    n_ex = np.maximum(labeled, p["hybrid_min_examples"])
    synth = n_ex - labeled
    ctx = k * chunk
    hyb_prep = first * synth * ((ctx + prompt) * gen_in + (prompt + answer) * gen_out) / M
    hyb_mask = first + retrain_mask(months, hybrid_retrain_interval)[None, :]
    hyb_train_tok = hyb_mask * epochs * n_ex * (prompt + answer + ctx)

    instr, ft_instr = p["instruction_tokens"], p["ft_instruction_tokens"]
    out: dict[str, dict[str, np.ndarray]] = {}
    for s in STRATEGIES:
        if s == "rag":
            usd_in, usd_out = inference(instr, prompt + ctx, gen_in, gen_cached, gen_out)
            parts = dict(
                data_prep_usd=zero,
                training_usd=zero,
                embedding_usd=embedding,
                vector_store_usd=vector_store,
                retrieval_usd=retrieval,
            )
            fee = 0.0
        elif s == "fine_tuning":
            usd_in, usd_out = inference(ft_instr, prompt, ft_in, ft_cached, ft_out)
            parts = dict(
                data_prep_usd=ft_prep,
                training_usd=ft_train_tok * train_per_mtok / M,
                embedding_usd=zero,
                vector_store_usd=zero,
                retrieval_usd=zero,
            )
            fee = ft_fee
        else:
            usd_in, usd_out = inference(ft_instr, prompt + ctx, ft_in, ft_cached, ft_out)
            parts = dict(
                data_prep_usd=hyb_prep,
                training_usd=hyb_train_tok * train_per_mtok / M,
                embedding_usd=embedding,
                vector_store_usd=vector_store,
                retrieval_usd=retrieval,
            )
            fee = ft_fee
        # Self-hosted: the reserved GPUs cost at least `floor`; tokens use part of it, hosting
        # is the rest (idle capacity). API: hosting is the FT deployment fee, if any.
        hosting = np.maximum(0.0, floor - (usd_in + usd_out)) + fee
        parts.update(hosting_usd=hosting, inference_input_usd=usd_in, inference_output_usd=usd_out)
        parts["monthly_cost_usd"] = sum(parts[c_] for c_ in COMPONENTS)
        out[s] = parts

    stale = stale_fractions(p, retrain_interval, months)
    for s in STRATEGIES:
        out[s]["stale_fraction"] = stale[s]
        # A question whose fact changed since the strategy last saw it is answered with the
        # old fact: wrong. So accuracy scales with the fresh share.
        out[s]["expected_accuracy"] = p[f"base_accuracy_{s}"] * (1.0 - stale[s])
    return out


def latency(a: Assumptions) -> dict[str, dict]:
    """p50/p95 per strategy: (embedding + vector search) + TTFT + prefill + decode.

    p95 combines the components' tails as independent: p95 = p50 + sqrt(sum((p95_i - p50_i)^2)),
    which is tighter than adding p95s (tails rarely coincide) and exact for normal components.
    """
    ctx = a.k_retrieved * a.chunk_tokens
    tokens_in = {
        "fine_tuning": a.ft_instruction_tokens + a.prompt_tokens,
        "rag": a.instruction_tokens + a.prompt_tokens + ctx,
        "hybrid": a.ft_instruction_tokens + a.prompt_tokens + ctx,
    }
    out = {}
    for s in STRATEGIES:
        prefill = tokens_in[s] / a.prefill_tokens_per_s_stream * 1000
        comps = {  # name: (p50, p95)
            "ttft_ms": (a.ttft_ms_p50, a.ttft_ms_p95),
            "prefill_ms": (prefill, prefill),
            "decode_ms": (
                a.answer_tokens / a.decode_tokens_per_s_p50 * 1000,
                a.answer_tokens / a.decode_tokens_per_s_p95 * 1000,
            ),
        }
        if s != "fine_tuning":
            comps["embed_ms"] = (a.embed_ms_p50, a.embed_ms_p95)
            comps["search_ms"] = (a.search_ms_p50, a.search_ms_p95)
        p50 = sum(v[0] for v in comps.values())
        p95 = p50 + float(np.sqrt(sum((v[1] - v[0]) ** 2 for v in comps.values())))
        out[s] = {
            "p50_ms": p50,
            "p95_ms": p95,
            "prompt_tokens": tokens_in[s],
            "components_ms": {k: {"p50": v[0], "p95": v[1]} for k, v in comps.items()},
        }
    return out
