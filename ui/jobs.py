"""Background prototype jobs: a worker thread per job, progress in a record, cancellable.

Why a thread and a record: a LoRA run takes minutes, and Streamlit reruns the page script on
every click. The worker makes no `st.*` call (it has no script context); it only writes
progress into its `Job` under a lock, and a `st.fragment(run_every=1)` panel reads a snapshot.

The registry is keyed by browser session id, so two sessions running jobs at once never see
or overwrite each other's records. It is the only shared mutable object, and it is locked.
Jobs from different sessions run one at a time (`run_lock`): the prototype runner shares one
generator, tokenizer and embedder per process, and HF fast tokenizers are not safe to call
from two threads at once ("Already borrowed"); on a small CPU box a second concurrent run
would only halve the speed of both anyway. A waiting job shows as queued.
Nothing here imports streamlit, so it is testable without a browser.
"""

from __future__ import annotations

import threading
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.errors import AdvisorError, JobCancelled
from ui import eta

# A run function: (strategy, progress, cancel) -> result dict. The UI binds corpus and device.
RunFn = Callable[[str, Callable[[str, int, int, dict], None], threading.Event], dict]

ACTIVE = ("queued", "running")
MAX_JOBS_PER_SESSION = 20  # finished jobs beyond this are forgotten, oldest first
STREAMED_KEPT = 400  # answers streamed to the page while a job runs, newest kept


@dataclass
class Job:
    """One job's record. Mutable fields are written by the worker under `lock` only."""

    id: str
    session_id: str
    corpus: str
    strategies: tuple[str, ...]
    status: str = "queued"  # queued | running | done | failed | cancelled
    strategy: str = ""  # the strategy running now
    stage: str = ""
    done: int = 0
    total: int = 0
    loss: float | None = None
    info: dict = field(default_factory=dict)
    started: float = field(default_factory=time.time)
    stage_started: float = field(default_factory=time.time)
    finished: float | None = None
    results: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    saved_run_id: int | None = None
    plan: tuple[eta.RowPlan, ...] = ()  # expected seconds per row: one honest progress bar
    streamed: list[dict] = field(default_factory=list)  # answers as they come, per row
    answered: int = 0  # answers of the running row so far
    cancel: threading.Event = field(default_factory=threading.Event, repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # --- written by the worker ---------------------------------------------------------
    def on_progress(self, stage: str, done: int, total: int, info: dict | None = None) -> None:
        """The `progress(stage, done, total, info)` callback the prototype runner calls."""
        with self.lock:
            if stage != self.stage:
                self.stage_started = time.time()
            self.stage, self.done, self.total = stage, int(done), int(total)
            self.info = {k: v for k, v in (info or {}).items() if k != "answers"}
            new = (info or {}).get("answers") or ()
            self.answered += len(new)
            self.streamed.extend({**a, "strategy": self.strategy} for a in new)
            del self.streamed[:-STREAMED_KEPT]
            loss = self.info.get("loss")
            if isinstance(loss, int | float):
                self.loss = float(loss)

    # --- read by the UI ----------------------------------------------------------------
    def snapshot(self) -> dict:
        """A consistent copy for rendering. With a plan, the fraction and ETA cover the whole
        job (`ui.eta.overall`); without one, the ETA is linear in the current stage's steps."""
        with self.lock:
            now = time.time()
            eta_s, fraction = None, None
            if self.plan:
                finished = len(self.results)
                current = 0.0
                if finished < len(self.plan) and self.status == "running":
                    p = self.plan[finished]
                    current = eta.row_fraction(p, self.answered, self.done, self.total)
                fraction, eta_s = eta.overall(
                    self.plan, finished, current, now - self.started, self.status == "running"
                )
            elif self.status == "running" and 0 < self.done < self.total:
                rate = (now - self.stage_started) / self.done
                eta_s = rate * (self.total - self.done)
            return {
                "id": self.id,
                "corpus": self.corpus,
                "strategies": list(self.strategies),
                "status": self.status,
                "strategy": self.strategy,
                "stage": self.stage,
                "done": self.done,
                "total": self.total,
                "loss": self.loss,
                "info": dict(self.info),
                "eta_s": eta_s,
                "fraction": fraction,
                "streamed": list(self.streamed),
                "elapsed_s": (self.finished or now) - self.started,
                "results": list(self.results),
                "errors": list(self.errors),
                "saved_run_id": self.saved_run_id,
            }


class JobRegistry:
    """session id -> that session's jobs, newest last. Thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self._jobs: dict[str, list[Job]] = {}
        self.run_lock = threading.Lock()  # one prototype run at a time, across sessions

    def start(
        self,
        session_id: str,
        corpus: str,
        strategies: Sequence[str],
        run: RunFn,
        on_done: Callable[[Job], None] | None = None,
        plan: Sequence[eta.RowPlan] = (),
    ) -> Job:
        """Start a job unless this session already has one running (one CPU, one job)."""
        with self._lock:
            jobs = self._jobs.setdefault(session_id, [])
            if any(j.status in ACTIVE for j in jobs):
                raise AdvisorError(
                    "a prototype job is already running in this session; wait for it or cancel it"
                )
            job = Job(uuid.uuid4().hex[:12], session_id, corpus, tuple(strategies))
            job.plan = tuple(plan)
            jobs.append(job)
            finished = [j for j in jobs if j.status not in ACTIVE and j is not job]
            for old in finished[: max(0, len(jobs) - MAX_JOBS_PER_SESSION)]:
                jobs.remove(old)
        t = threading.Thread(
            target=_work,
            args=(job, run, on_done, self.run_lock),
            daemon=True,
            name=f"ftrag-job-{job.id}",
        )
        t.start()
        return job

    def jobs(self, session_id: str) -> list[Job]:
        with self._lock:
            return list(self._jobs.get(session_id, []))

    def latest(self, session_id: str) -> Job | None:
        jobs = self.jobs(session_id)
        return jobs[-1] if jobs else None

    def cancel(self, session_id: str, job_id: str) -> bool:
        """Only the owning session can cancel: the id is looked up in its own list."""
        for j in self.jobs(session_id):
            if j.id == job_id and j.status in ACTIVE:
                j.cancel.set()
                return True
        return False


def _work(
    job: Job, run: RunFn, on_done: Callable[[Job], None] | None, run_lock: threading.Lock
) -> None:
    """The worker: waits its turn, then runs each strategy in turn; never touches streamlit."""
    with job.lock:
        job.stage = "waiting for another session's run to finish"
    status = "done"
    while not run_lock.acquire(timeout=0.2):
        if job.cancel.is_set():
            with job.lock:
                job.status, job.finished = "cancelled", time.time()
            return
    try:
        with job.lock:
            job.status = "running"
        for strategy in job.strategies:
            if job.cancel.is_set():
                raise JobCancelled("cancelled by the user")
            with job.lock:
                job.strategy, job.stage, job.done, job.total = strategy, "starting", 0, 0
                job.stage_started = time.time()
                job.loss, job.answered = None, 0
            result = run(strategy, job.on_progress, job.cancel)
            with job.lock:
                job.results.append(result)
    except JobCancelled:
        status = "cancelled"
    except AdvisorError as e:
        status = "failed"
        with job.lock:
            job.errors.extend(e.lines())
    except Exception as e:  # noqa: BLE001 - a crash must end in the record, not a dead thread
        status = "failed"
        with job.lock:
            job.errors.append(f"{type(e).__name__}: {e}")
            job.errors.append(traceback.format_exc(limit=4))
    finally:
        run_lock.release()
    # Save before the status turns terminal, so a reader that sees "done" also sees the id.
    if on_done is not None and job.results:
        try:
            on_done(job)
        except AdvisorError as e:
            with job.lock:
                job.errors.extend(e.lines())
    with job.lock:
        job.status = status
        job.finished = time.time()


REGISTRY = JobRegistry()


def progress_fraction(snap: dict[str, Any]) -> float:
    """Overall progress across strategies, for one progress bar (the plan's, when the job
    has one)."""
    if snap.get("fraction") is not None:
        return 1.0 if snap["status"] == "done" else float(snap["fraction"])
    n = max(1, len(snap["strategies"]))
    finished = len(snap["results"])
    inner = snap["done"] / snap["total"] if snap["total"] else 0.0
    if snap["status"] not in ACTIVE:
        return 1.0 if snap["status"] == "done" else min(1.0, finished / n)
    return min(1.0, (finished + inner) / n)
