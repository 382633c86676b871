"""Benchmark: CPU seconds of one `ftrag recommend` call, cold process, cache filled.

Reference, in the same process: a bare `python -c pass` start, so the ratio shows how much
of a call is the CLI's own work rather than the interpreter starting. CPU seconds of the
child (user + system), not wall time, because the machine may be shared.
"""

from __future__ import annotations

import os
import platform
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROFILE = ROOT / "data" / "profiles" / "support_chatbot_policies.yaml"
REPEATS = 5


def _cpu(args: list[str], env: dict[str, str]) -> float:
    """Median CPU seconds of REPEATS runs of a child process."""
    times = []
    for _ in range(REPEATS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(args, capture_output=True, env=env, cwd=ROOT, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        times.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    return sorted(times)[REPEATS // 2]


def main() -> None:
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "FTRAG_CACHE": cache}
        cli = [sys.executable, "-m", "pipeline.cli", "recommend", str(PROFILE)]
        subprocess.run(cli, capture_output=True, env=env, cwd=ROOT, check=True)  # fill cache
        bare = _cpu([sys.executable, "-c", "pass"], env)
        rec = _cpu(cli, env)
    print(f"python -c pass      {bare:6.3f} s CPU (reference)")
    print(f"ftrag recommend     {rec:6.3f} s CPU  ({rec / bare:.1f}x the bare start)")


if __name__ == "__main__":
    main()
