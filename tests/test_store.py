"""SQLite store: round-trips, versioned schema, and durability when a writer is killed."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from conftest import ROOT, VALID_PROFILE

from core.errors import StoreError
from pipeline.store import SCHEMA_VERSION, Store


def test_round_trip_every_table(tmp_store):
    pid = tmp_store.save_profile(VALID_PROFILE)
    assert tmp_store.load_profile(pid) == VALID_PROFILE
    decision = {"profile": VALID_PROFILE, "recommendation": {"strategy": "rag"}}
    did = tmp_store.save_decision(decision)
    assert tmp_store.load_decision(did) == decision
    assert tmp_store.list_decisions()[0]["strategy"] == "rag"
    run = {"results": [{"strategy": "base"}, {"strategy": "rag"}]}
    rid = tmp_store.save_run(run, corpus="tiny")
    assert tmp_store.load_run(rid) == run
    assert tmp_store.latest_run() == run
    tmp_store.save_feedback(VALID_PROFILE, "rag", "worked", rating=5, note="fine")
    fb = tmp_store.list_feedback()
    assert fb[0]["profile"] == VALID_PROFILE and fb[0]["rating"] == 5


def test_schema_version_and_wal(tmp_store):
    assert tmp_store.schema_version == SCHEMA_VERSION
    con = sqlite3.connect(tmp_store.path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()
    Store(tmp_store.path)  # reopening does not re-run migrations
    assert tmp_store.schema_version == SCHEMA_VERSION


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "db.sqlite"
    Store(path)
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    con.close()
    with pytest.raises(StoreError, match="newer than this ftrag"):
        Store(path)


def test_garbage_file_is_a_clear_error(tmp_path):
    path = tmp_path / "db.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="not a usable ftrag database"):
        Store(path)
    assert path.read_bytes().startswith(b"this is not")  # nothing overwritten


def test_missing_row_names_it(tmp_store):
    with pytest.raises(StoreError, match="decision 42 not found"):
        tmp_store.load_decision(42)


WRITER = """
import sys
from pipeline.store import Store
s = Store(sys.argv[1])
i = 0
while True:
    s.save_run({"i": i, "blob": "x" * 20000}, corpus="c")
    print(i, flush=True)
    i += 1
"""


def test_killed_writer_loses_nothing_committed(tmp_path):
    path = tmp_path / "db.sqlite"
    Store(path)
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    acknowledged = -1
    deadline = time.time() + 30
    while acknowledged < 40 and time.time() < deadline:
        acknowledged = int(proc.stdout.readline())
    proc.send_signal(signal.SIGKILL)  # mid-write, most likely inside a transaction
    proc.wait()
    runs = Store(path).list_runs(limit=100_000)
    ids = sorted(r["payload"]["i"] for r in runs)
    # every write the writer saw committed is there, intact and in order
    assert ids[: acknowledged + 1] == list(range(acknowledged + 1))
    assert all(r["payload"]["blob"] == "x" * 20000 for r in runs)
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
