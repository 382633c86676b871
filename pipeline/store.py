"""SQLite persistence: profiles, decisions, prototype runs, feedback.

One small interface so a PostgreSQL store can replace it later. WAL mode and one
transaction per write: a writer killed mid-write leaves every committed row intact.
Payloads are JSON text (never pickle), so a user-writable database is safe to open.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from platformdirs import user_data_dir

from core.errors import StoreError

SCHEMA_VERSION = 2


def profile_hash(profile: dict) -> str:
    """The identity of a saved profile: sha256 of its JSON with sorted keys, so the same
    profile saved twice (an example clicked twice, Apply pressed again) is one row."""
    text = json.dumps(profile, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _dedupe_profiles(con: sqlite3.Connection) -> None:
    """Version 1 -> 2: profiles get a content hash, unique. Rows saved twice before this
    version collapse onto the newest copy (the same payload, so nothing is lost but the older
    timestamps); a payload that no longer parses keeps its own row."""
    con.execute("ALTER TABLE profiles ADD COLUMN content_hash TEXT")
    newest: dict[str, int] = {}
    for rid, payload in con.execute("SELECT id, payload FROM profiles ORDER BY id"):
        try:
            h = profile_hash(json.loads(payload))
        except ValueError:
            h = f"unreadable:{rid}"
        newest[h] = rid
    keep = {rid: h for h, rid in newest.items()}
    for (rid,) in con.execute("SELECT id FROM profiles").fetchall():
        if rid in keep:
            con.execute("UPDATE profiles SET content_hash = ? WHERE id = ?", (keep[rid], rid))
        else:
            con.execute("DELETE FROM profiles WHERE id = ?", (rid,))
    con.execute("CREATE UNIQUE INDEX profiles_content_hash ON profiles (content_hash)")


# Migrations are applied in order; index i upgrades version i -> i + 1. Each is SQL text or a
# function of the connection, run inside the migration's transaction.
MIGRATIONS: list[str | Callable[[sqlite3.Connection], None]] = [
    """
    CREATE TABLE profiles (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE TABLE decisions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        profile_name TEXT NOT NULL,
        strategy TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        corpus TEXT NOT NULL,
        strategy TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        profile TEXT NOT NULL,
        chosen_strategy TEXT NOT NULL,
        outcome TEXT NOT NULL,
        rating INTEGER,
        note TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL
    );
    """,
    _dedupe_profiles,
]
assert len(MIGRATIONS) == SCHEMA_VERSION

TABLES = {"profiles", "decisions", "runs", "feedback"}


def default_store_path() -> Path:
    """`FTRAG_DB` wins; otherwise the user's data dir."""
    env = os.environ.get("FTRAG_DB")
    if env:
        return Path(env)
    return Path(user_data_dir("ftrag")) / "ftrag.sqlite"


class Store:
    """Thread-safe enough for Streamlit: one short-lived connection per operation."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else default_store_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as con:
                con.execute("PRAGMA journal_mode=WAL")
                self._migrate(con)
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{self.path}: not a usable ftrag database ({e})") from None
        except OSError as e:
            raise StoreError(f"{self.path}: cannot open store ({e.strerror})") from None

    @contextmanager
    def _connect(self):
        con = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            con.execute("PRAGMA synchronous=NORMAL")
            con.execute("PRAGMA busy_timeout=10000")
            yield con
        finally:
            con.close()

    @contextmanager
    def _tx(self):
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def _migrate(self, con: sqlite3.Connection) -> None:
        version = con.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: schema version {version} is newer than this ftrag "
                f"({SCHEMA_VERSION}); upgrade ftrag"
            )
        for v in range(version, SCHEMA_VERSION):
            con.execute("BEGIN IMMEDIATE")
            try:
                step = MIGRATIONS[v]
                if callable(step):
                    step(con)
                else:
                    for stmt in filter(str.strip, step.split(";")):
                        con.execute(stmt)
                con.execute(f"PRAGMA user_version={v + 1}")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        with self._connect() as con:
            return con.execute("PRAGMA user_version").fetchone()[0]

    # --- writes -----------------------------------------------------------------------
    def save_profile(self, profile: dict) -> int:
        """Save a profile once: saving one already in the store only marks it as the latest
        (its `created_at` moves to now) and returns its id."""
        return self._insert(
            "INSERT INTO profiles (name, payload, created_at, content_hash) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (content_hash) DO UPDATE SET created_at = excluded.created_at"
            " RETURNING id",
            (profile.get("name", ""), json.dumps(profile), time.time(), profile_hash(profile)),
        )

    def save_decision(self, decision: dict) -> int:
        profile_name = decision.get("profile", {}).get("name", "")
        strategy = decision.get("recommendation", {}).get("strategy", "")
        return self._insert(
            "INSERT INTO decisions (profile_name, strategy, payload, created_at) "
            "VALUES (?, ?, ?, ?)",
            (profile_name, strategy, json.dumps(decision, default=str), time.time()),
        )

    def save_run(self, run: dict, corpus: str = "") -> int:
        strategy = run.get("strategy") or ",".join(
            r.get("strategy", "") for r in run.get("results", [])
        )
        return self._insert(
            "INSERT INTO runs (corpus, strategy, payload, created_at) VALUES (?, ?, ?, ?)",
            (corpus, strategy, json.dumps(run, default=str), time.time()),
        )

    def save_feedback(
        self,
        profile: dict,
        chosen_strategy: str,
        outcome: str,
        rating: int | None = None,
        note: str = "",
    ) -> int:
        return self._insert(
            "INSERT INTO feedback (profile, chosen_strategy, outcome, rating, note, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (json.dumps(profile), chosen_strategy, outcome, rating, note, time.time()),
        )

    def _insert(self, sql: str, params: tuple) -> int:
        try:
            with self._tx() as con:
                cur = con.execute(sql, params)
                rows = cur.fetchall() if "RETURNING" in sql else []  # step to the end
                return rows[0][0] if rows else cur.lastrowid
        except sqlite3.Error as e:
            raise StoreError(f"{self.path}: write failed ({e})") from None

    # --- reads ------------------------------------------------------------------------
    def _rows(self, sql: str, params: tuple = ()) -> list[dict]:
        try:
            with self._connect() as con:
                con.row_factory = sqlite3.Row
                return [dict(r) for r in con.execute(sql, params)]
        except sqlite3.Error as e:
            raise StoreError(f"{self.path}: read failed ({e})") from None

    def _list(self, table: str, limit: int, order: str = "id DESC") -> list[dict]:
        assert table in TABLES  # table names are never user input
        rows = self._rows(f"SELECT * FROM {table} ORDER BY {order} LIMIT ?", (limit,))
        for r in rows:
            for key in ("payload", "profile"):
                if key in r and isinstance(r[key], str):
                    r[key] = json.loads(r[key])
        return rows

    def list_profiles(self, limit: int = 100) -> list[dict]:
        """Newest first: a profile saved again moves to the top instead of repeating."""
        rows = self._list("profiles", limit, "created_at DESC, id DESC")
        for r in rows:
            r.pop("content_hash", None)
        return rows

    def list_decisions(self, limit: int = 100) -> list[dict]:
        return self._list("decisions", limit)

    def list_runs(self, limit: int = 100) -> list[dict]:
        return self._list("runs", limit)

    def list_feedback(self, limit: int = 10_000) -> list[dict]:
        return self._list("feedback", limit)

    def _load(self, table: str, row_id: int) -> dict:
        assert table in TABLES
        rows = self._rows(f"SELECT payload FROM {table} WHERE id = ?", (row_id,))
        if not rows:
            raise StoreError(f"{table[:-1]} {row_id} not found in {self.path}")
        return json.loads(rows[0]["payload"])

    def load_profile(self, row_id: int) -> dict:
        return self._load("profiles", row_id)

    def load_decision(self, row_id: int) -> dict:
        return self._load("decisions", row_id)

    def load_run(self, row_id: int) -> dict:
        return self._load("runs", row_id)

    def latest_run(self) -> dict | None:
        rows = self.list_runs(limit=1)
        return rows[0]["payload"] if rows else None
