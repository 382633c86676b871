"""`make bench`: run every benchmark's main() in turn. Add a module here when you add one."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MODULES = [
    "bench.bench_simulator",
    "bench.bench_report",
    "bench.bench_cli_start",
    "bench.bench_lora",
    "bench.bench_lora_precision",
    "bench.bench_rag",
    "bench.bench_bm25",
    "bench.bench_ingest",  # 2,000 pages: about 7 minutes on the 2-core CPU
]


def main() -> None:
    for name in MODULES:
        print(f"== {name}")
        importlib.import_module(name).main()


if __name__ == "__main__":
    main()
