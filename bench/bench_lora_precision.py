"""Benchmark: LoRA training steps under bf16 autocast against fp32, in one process.

The task rows' fine-tuning setting (`task_rows.FT_LORA`, the top 16 layers) trains one epoch
on the first `--examples` training rows of each task kind's tuning dataset, alternately in
fp32 and in bf16 autocast, `--rounds` times each, from the same fresh adapter. Printed: the
frozen-layer cache time, the seconds per optimiser step (the best round of each), and the
ratio bf16 / fp32. The ratio is what decides how many epochs fit in the rows' time cap.
Where the CPU has no native bf16 (`prototype.lora.native_bf16`) both runs are fp32 and the
ratio is ~1.
"""

from __future__ import annotations

import argparse
import platform
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATASETS = {"classification": "support_intents", "extraction": "delivery_notes"}


def main(argv: list[str] | None = None) -> None:
    import torch

    from prototype import task_rows
    from prototype.backbone import load_generator, pick_device
    from prototype.lora import add_lora, native_bf16, train_lora
    from prototype.task_data import load_task

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=48)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--device", default=None)
    a = ap.parse_args(argv if argv is not None else [])
    dev = pick_device(a.device)
    model, tok = load_generator(dev)
    print(
        f"lora precision bench: device {dev}, {platform.processor() or platform.machine()}, "
        f"native bf16 {native_bf16(torch.device(dev))}, {torch.get_num_threads()} threads"
    )
    for kind, name in DATASETS.items():
        ds = load_task(ROOT / "data" / "tasks" / name)
        base = replace(task_rows.FT_LORA[kind], max_epochs=1, max_seconds=1e9, stop_at=1.0)
        rows = task_rows.ft_examples(ds.schema, ds.train[: a.examples])
        best: dict[bool, tuple[float, float]] = {}
        for _ in range(a.rounds):
            for bf16 in (False, True):
                pm = add_lora(model, replace(base, bf16=bf16))
                st = train_lora(pm, tok, rows, replace(base, bf16=bf16))
                model = pm.unload()  # the plain model again, for the next fresh adapter
                per_step = (st.seconds - st.precompute_seconds) / st.steps
                if bf16 not in best or per_step < best[bf16][1]:
                    best[bf16] = (st.precompute_seconds, per_step)
        (c32, s32), (c16, s16) = best[False], best[True]
        print(
            f"  {kind:14s} {name}: {len(rows)} rows, top {base.top_layers} layers | cache "
            f"fp32 {c32:5.2f} s, bf16 {c16:5.2f} s | step fp32 {s32:5.2f} s, bf16 {s16:5.2f} s"
            f" | ratio bf16/fp32 {s16 / s32:.2f}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
