"""One History row per distinct profile (issue 19.6): the store dedupes by a content hash, and
a version-1 database with duplicates upgrades in place."""

from __future__ import annotations

import json
import sqlite3

import pytest
from conftest import VALID_PROFILE

from pipeline.store import MIGRATIONS, SCHEMA_VERSION, Store, profile_hash


@pytest.mark.parametrize(
    ("saves", "rows"),
    [
        ([VALID_PROFILE, VALID_PROFILE], 1),  # an example clicked twice
        ([VALID_PROFILE, dict(reversed(VALID_PROFILE.items()))], 1),  # key order is not identity
        ([VALID_PROFILE, {**VALID_PROFILE, "name": "Other"}], 2),
        ([VALID_PROFILE, {**VALID_PROFILE, "queries_per_month": 1}, VALID_PROFILE], 2),
    ],
)
def test_saving_the_same_profile_again_keeps_one_row(tmp_store, saves, rows):
    ids = [tmp_store.save_profile(p) for p in saves]
    listed = tmp_store.list_profiles()
    assert len(listed) == rows
    assert listed[0]["id"] == ids[-1]  # the last one saved is the newest row
    assert listed[0]["payload"] == saves[-1] and "content_hash" not in listed[0]


def test_profile_hash_is_the_json_content():
    assert profile_hash({"a": 1, "b": 2}) == profile_hash({"b": 2, "a": 1})
    assert profile_hash({"a": 1}) != profile_hash({"a": 1.5})


def test_a_version_1_database_with_duplicates_upgrades_in_place(tmp_path):
    path = tmp_path / "v1.sqlite"
    con = sqlite3.connect(path)
    con.executescript(MIGRATIONS[0])
    con.execute("PRAGMA user_version=1")
    payloads = [VALID_PROFILE, VALID_PROFILE, {**VALID_PROFILE, "name": "B"}, VALID_PROFILE]
    for i, p in enumerate(payloads):
        con.execute(
            "INSERT INTO profiles (name, payload, created_at) VALUES (?, ?, ?)",
            (p["name"], json.dumps(p), 1000.0 + i),
        )
    con.execute(
        "INSERT INTO runs (corpus, strategy, payload, created_at) VALUES ('c', 'rag', '{}', 1)"
    )
    con.commit()
    con.close()

    store = Store(path)
    assert store.schema_version == SCHEMA_VERSION == 2
    rows = store.list_profiles()
    assert [(r["id"], r["name"]) for r in rows] == [(4, VALID_PROFILE["name"]), (3, "B")]
    assert store.list_runs()[0]["strategy"] == "rag"  # other tables untouched
    assert store.save_profile(VALID_PROFILE) == 4 and len(store.list_profiles()) == 2
    Store(path)  # reopening runs no migration twice
