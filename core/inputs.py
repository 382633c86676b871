"""The simulator's inputs in plain words: every assumption and price, as users read them.

Assumptions are named by their `--set` key (`change_rate_per_month`), prices by the model's
parameter name (`ft.training_per_mtok`). Those keys stay in the assumptions table, where a
user needs them to override a value; everywhere else (sensitivity, sliders, charts) an input
prints through `input_label`. The labels live in core because the report, which cannot import
the simulator, prints them; tests check that every simulator spec and price has one.
"""

from __future__ import annotations

from core.registry import STRATEGIES

ASSUMPTION_LABELS: dict[str, str] = {
    "change_rate_per_month": "Knowledge changing per month",
    "ingestion_lag_days": "Days until a change is searchable",
    "retrain_interval_months": "Fine-tune retrain interval (months, 0 = never)",
    "hybrid_retrain_interval_months": "Hybrid retrain interval (months, 0 = never)",
    "chunk_tokens": "Chunk size (tokens)",
    "k_retrieved": "Chunks retrieved per query",
    "prompt_tokens": "User prompt (tokens per query)",
    "answer_tokens": "Answer length (tokens per query)",
    "instruction_tokens": "Instructions without fine-tuning (tokens)",
    "ft_instruction_tokens": "Instructions after fine-tuning (tokens)",
    "cached_prefix_fraction": "Prompt-cache hit share",
    "paraphrases_per_chunk": "Training paraphrases per chunk",
    "epochs": "Fine-tuning epochs",
    "retrain_corpus_fraction": "Share of the corpus each retrain reads",
    "hybrid_min_examples": "Hybrid training examples (minimum)",
    "query_growth_per_month": "Query growth per month",
    "ft_examples_target": "Fine-tuning examples needed",
    "eval_examples_per_release": "Examples judged per release",
    "eng_hours_per_retrain": "Engineer-hours per retrain",
    "eng_hours_per_index_refresh": "Engineer-hours per index refresh",
    "rag_release_interval_months": "RAG release interval (months, 0 = never)",
    "review_share": "Answers a person checks",
    "review_catch": "Wrong answers among those checked",
    "review_minutes_per_answer": "Minutes to check an answer",
    "embed_ms_p50": "Query embedding, p50 (ms)",
    "embed_ms_p95": "Query embedding, p95 (ms)",
    "search_ms_p50": "Vector search, p50 (ms)",
    "search_ms_p95": "Vector search, p95 (ms)",
    "ttft_ms_p50": "Time to first token, p50 (ms)",
    "ttft_ms_p95": "Time to first token, p95 (ms)",
    "prefill_tokens_per_s_stream": "Prompt reading speed (tokens/s)",
    "decode_tokens_per_s_p50": "Answer writing speed, p50 (tokens/s)",
    "decode_tokens_per_s_p95": "Answer writing speed, slow tail (tokens/s)",
    "generator_model": "Generator model",
    "embedding_model": "Embedding model",
    "vector_store": "Vector store",
    "fine_tuning_model": "Fine-tuning model",
    "billing": "Billing",
    "ft_billing": "Fine-tuning billing",
    "start_date": "First simulated day",
}
ACCURACY_PREFIX = "base_accuracy_"  # + strategy: simulator.assumptions.accuracy_name

# Price keys are `<subject>.<field>`: what the price is for, then which price it is.
PRICE_SUBJECTS: dict[str, str] = {
    "gen": "Generator",
    "ft": "Fine-tuned model",
    "emb": "Embeddings",
    "vs": "Vector store",
    "gpu": "GPU",
    "people": "People",
}
PRICE_FIELDS: dict[str, str] = {
    "input_per_mtok": "input, USD / 1M tokens",
    "output_per_mtok": "output, USD / 1M tokens",
    "cached_input_per_mtok": "cached input, USD / 1M tokens",
    "training_per_mtok": "training, USD / 1M tokens",
    "hosting_per_hour": "hosting, USD / hour",
    "usd_per_mtok": "USD / 1M tokens",
    "usd_per_hour": "USD / GPU-hour",
    "storage_per_gb_month": "storage, USD / GB-month",
    "read_per_munits": "reads, USD / 1M units",
    "write_per_munits": "writes, USD / 1M units",
    "monthly_minimum": "monthly minimum, USD",
    "fixed_monthly": "fixed, USD / month",
    "prefill_tokens_per_s": "prompt reading speed, tokens/s",
    "decode_tokens_per_s": "answer writing speed, tokens/s",
    "min_gpus": "GPUs reserved (minimum)",
    "lora_train_tokens_per_gpu_hour": "LoRA training, tokens / GPU-hour",
    "gb_per_million_vectors": "GB per 1M vectors",
    "read_units_per_gb": "read units per GB searched",
    "min_read_units_per_query": "read units per query (minimum)",
    "write_units_per_vector": "write units per vector",
    "usd_per_example": "USD per example written or judged",
    "hourly_rate_usd": "USD per engineer-hour",
    "review_usd_per_hour": "USD per reviewer-hour",
}


def price_field_label(field: str) -> str:
    return PRICE_FIELDS.get(field) or field.replace("_", " ")


def input_label(name: str) -> str:
    """`ft.training_per_mtok` -> "Fine-tuned model: training, USD / 1M tokens";
    `change_rate_per_month` -> "Knowledge changing per month"; `base_accuracy_rag` -> "Base
    accuracy: RAG". A name with no label (a newer file's) prints in plain words."""
    if name in ASSUMPTION_LABELS:
        return ASSUMPTION_LABELS[name]
    if name.startswith(ACCURACY_PREFIX):
        return f"Base accuracy: {STRATEGIES.label(name.removeprefix(ACCURACY_PREFIX))}"
    subject, dot, field = name.partition(".")
    if dot and subject in PRICE_SUBJECTS:
        return f"{PRICE_SUBJECTS[subject]}: {price_field_label(field)}"
    return name.replace("_", " ").replace(".", ": ")
