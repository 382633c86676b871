"""The task dataset loader: the bad-input table, good loads, uploads, and the shipped datasets."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from core.errors import TaskDataError
from prototype import task_data as T
from prototype.corpus import MAX_PROBLEMS
from prototype.task_data import is_task_dir, load_task, task_from_uploads

ROOT = Path(__file__).resolve().parents[1]
TASKS = ROOT / "data" / "tasks"

CLS_YAML = """kind: classification
name: tiny_intents
description: Route a message.
labels:
  refund: wants money back
  cancel: wants to stop the plan
"""
CLS_UPDATE_YAML = CLS_YAML + "  pause: wants to stop for a while\n"
EXT_YAML = """kind: extraction
name: tiny_notes
description: Read a delivery note.
fields:
  order: {type: string, description: order number}
  due: {type: date, description: delivery date}
  boxes: {type: number, description: package count}
"""
EXT_UPDATE_YAML = EXT_YAML + "  window: {type: string, description: delivery window}\n"


def jl(*objs) -> str:
    return "".join((o if isinstance(o, str) else json.dumps(o)) + "\n" for o in objs)


def cls(i: str, label: str = "refund", text: str = "money back please") -> dict:
    return {"id": i, "text": text, "label": label}


def ext(i: str, **over) -> dict:
    fields = {"order": "A-1", "due": "2026-03-03", "boxes": 2, **over}
    return {"id": i, "text": "Order A-1, 2 boxes, 3 March 2026", "fields": fields}


def cls_files() -> dict[str, str | bytes]:
    return {
        "task.yaml": CLS_YAML,
        "train.jsonl": jl(cls("t1"), cls("t2", "cancel", "stop my plan")),
        "test.jsonl": jl(cls("s1")),
        "update/task.yaml": CLS_UPDATE_YAML,
        "update/train.jsonl": jl(cls("t1"), cls("t3", "pause", "hold it for a month")),
        "update/test.jsonl": jl(cls("s1"), cls("s2", "pause", "pause me")),
    }


def ext_files() -> dict[str, str | bytes]:
    upd = {"window": "9-12"}
    return {
        "task.yaml": EXT_YAML,
        "train.jsonl": jl(ext("t1"), ext("t2", boxes=None, due=None)),
        "test.jsonl": jl(ext("s1", boxes=1.5)),
        "update/task.yaml": EXT_UPDATE_YAML,
        "update/train.jsonl": jl(ext("t1", **upd), ext("t9", window=None)),
        "update/test.jsonl": jl(ext("s1", **upd)),
    }


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(content if isinstance(content, bytes) else content.encode())
    return root


def with_(base, **changes):
    """A copy of a good dataset with files replaced (value None removes the file)."""

    def make():
        files = base()
        for key, value in changes.items():
            rel = key.replace("__", "/").replace("_jsonl", ".jsonl").replace("_yaml", ".yaml")
            if value is None:
                files.pop(rel)
            else:
                files[rel] = value
        return files

    return make


# (case id, files of the dataset, text the problem lines must contain)
BAD = [
    ("missing_train", with_(cls_files, train_jsonl=None), "train.jsonl: missing"),
    ("update_incomplete", with_(cls_files, update__test_jsonl=None), "update/test.jsonl: missing"),
    ("empty_yaml", with_(cls_files, task_yaml=""), "task.yaml: file is empty"),
    ("bad_yaml", with_(cls_files, task_yaml="kind: [classification\n"), "task.yaml:2: not valid"),
    ("yaml_list", with_(cls_files, task_yaml="- a\n- b\n"), "task.yaml: expected a mapping"),
    ("kind_unknown", with_(cls_files, task_yaml="kind: ranking\n"), "task.yaml:1: `kind` must be"),
    ("no_labels", with_(cls_files, task_yaml=CLS_YAML.split("labels")[0]), "`labels` must be"),
    (
        "label_no_description",
        with_(cls_files, task_yaml=CLS_YAML + "  other:\n"),
        "task.yaml:7: label `other` needs a one-line description",
    ),
    (
        "label_with_space",
        with_(cls_files, task_yaml=CLS_YAML + "  two words: x\n"),
        "task.yaml:7: label `two words` must be one word",
    ),
    (
        "duplicate_label",
        with_(cls_files, task_yaml=CLS_YAML + "  refund: again\n"),
        "task.yaml:7: duplicate key `labels.refund` (first on line 5)",
    ),
    (
        "fields_in_classification",
        with_(cls_files, task_yaml=CLS_YAML + "fields: {a: {type: string, description: x}}\n"),
        "task.yaml:7: unknown key `fields`",
    ),
    (
        "field_type_unknown",
        with_(ext_files, task_yaml=EXT_YAML + "  ok: {type: boolean, description: x}\n"),
        "task.yaml:8: field `ok` type must be one of",
    ),
    ("empty_train", with_(cls_files, train_jsonl=""), "train.jsonl: file is empty"),
    ("binary_train", with_(cls_files, train_jsonl=b'{"id"\x00}\n'), "train.jsonl:1: binary"),
    ("not_utf8", with_(cls_files, test_jsonl=b"\n\xff\xfe\n"), "test.jsonl:2: not valid UTF-8"),
    (
        "truncated",
        with_(cls_files, test_jsonl=jl(cls("s1")) + '{"id": "s2", "text": "hal'),
        "test.jsonl:2: last line is cut off",
    ),
    ("bad_json", with_(cls_files, train_jsonl="{id: 1}\n"), "train.jsonl:1: invalid JSON"),
    ("json_array", with_(cls_files, train_jsonl="[1, 2]\n"), "train.jsonl:1: expected a JSON"),
    (
        "unknown_label",
        with_(cls_files, test_jsonl=jl(cls("s1", "pause"))),
        "test.jsonl:1: label `pause` is not in task.yaml",
    ),
    (
        "new_label_in_old_test",
        with_(cls_files, train_jsonl=jl(cls("t1"), cls("t2", "pause"))),
        "train.jsonl:2: label `pause`",
    ),
    ("label_not_string", with_(cls_files, test_jsonl=jl(cls("s1", 3))), "`label` must be a string"),
    (
        "missing_text",
        with_(cls_files, test_jsonl=jl({"id": "s1", "label": "refund"})),
        "test.jsonl:1: missing key `text`",
    ),
    (
        "extra_key",
        with_(cls_files, test_jsonl=jl({**cls("s1"), "lang": "en"})),
        "test.jsonl:1: unknown key `lang`",
    ),
    ("id_not_string", with_(cls_files, test_jsonl=jl(cls(7))), "`id` must be a non-empty string"),
    (
        "duplicate_id",
        with_(cls_files, train_jsonl=jl(cls("t1"), cls("t1", "cancel"))),
        "train.jsonl:2: duplicate id `t1` (first on line 1)",
    ),
    (
        "number_as_string",
        with_(ext_files, train_jsonl=jl(ext("t1", boxes="2"))),
        "train.jsonl:1: field `boxes` (number) must be a number",
    ),
    ("number_bool", with_(ext_files, test_jsonl=jl(ext("s1", boxes=True))), "field `boxes`"),
    (
        "number_nan",
        with_(
            ext_files,
            test_jsonl='{"id": "s", "text": "x", "fields": '
            '{"order": "A", "due": null, "boxes": NaN}}\n',
        ),
        "must be a finite number",
    ),
    (
        "date_not_iso",
        with_(ext_files, test_jsonl=jl(ext("s1", due="03/03/2026"))),
        "test.jsonl:1: field `due` (date) must be an ISO date",
    ),
    ("date_impossible", with_(ext_files, test_jsonl=jl(ext("s1", due="2026-02-30"))), "real date"),
    ("empty_string", with_(ext_files, test_jsonl=jl(ext("s1", order=" "))), "non-empty string"),
    (
        "unknown_field",
        with_(ext_files, train_jsonl=jl(ext("t1", window="9-12"))),
        "train.jsonl:1: unknown field `window`",
    ),
    (
        "missing_field",
        with_(ext_files, test_jsonl=jl({"id": "s", "text": "x", "fields": {"order": "A"}})),
        "missing field `due` (use null",
    ),
    (
        "fields_not_object",
        with_(ext_files, test_jsonl=jl({"id": "s", "text": "x", "fields": ["A"]})),
        "`fields` must be a JSON object",
    ),
    (
        "update_missing_new_field",
        with_(ext_files, update__test_jsonl=jl(ext("s1"))),
        "update/test.jsonl:1: missing field `window`",
    ),
    (
        "update_changes_kind",
        with_(cls_files, update__task_yaml=EXT_YAML),
        "update/task.yaml: `kind` changed from classification to extraction",
    ),
    (
        "update_drops_label",
        with_(
            cls_files, update__task_yaml=CLS_YAML.replace("  cancel: wants to stop the plan\n", "")
        ),
        "update/task.yaml: label `cancel` from task.yaml is missing",
    ),
    (
        "update_retypes_field",
        with_(
            ext_files,
            update__task_yaml=EXT_UPDATE_YAML.replace(
                "boxes: {type: number", "boxes: {type: string"
            ),
        ),
        "field `boxes` changed type from number to string",
    ),
]


@pytest.mark.parametrize("files,expected", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_task_names_file_and_line(tmp_path, files, expected):
    root = write(tmp_path / "task", files())
    with pytest.raises(TaskDataError) as e:
        load_task(root)
    assert any(expected in line for line in e.value.lines()), e.value.lines()
    # The same bytes uploaded through the app give the same problem.
    data = {k: v.encode() if isinstance(v, str) else v for k, v in files().items()}
    with pytest.raises(TaskDataError) as u:
        task_from_uploads(data, "upload")
    assert any(expected in line for line in u.value.lines()), u.value.lines()


def test_huge_file_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(T, "MAX_JSONL_BYTES", 100)
    root = write(tmp_path / "t", cls_files())
    (root / "train.jsonl").write_text(jl(*(cls(f"t{i}") for i in range(10))), encoding="utf-8")
    with pytest.raises(TaskDataError, match=r"train.jsonl: file is [\d,]+ bytes, the limit is 100"):
        load_task(root)


def test_symlink_outside_is_refused(tmp_path):
    root = write(tmp_path / "t", cls_files())
    outside = tmp_path / "outside.jsonl"
    outside.write_text(jl(cls("x")), encoding="utf-8")
    (root / "test.jsonl").unlink()
    os.symlink(outside, root / "test.jsonl")
    with pytest.raises(TaskDataError, match="symlink points outside"):
        load_task(root)


def test_many_problems_are_reported_together(tmp_path):
    bad = jl(*(cls(f"s{i}", "nope") for i in range(50)))
    root = write(tmp_path / "t", {**cls_files(), "test.jsonl": bad})
    with pytest.raises(TaskDataError) as e:
        load_task(root)
    lines = e.value.lines()
    assert len(lines) == MAX_PROBLEMS + 1 and lines[-1].startswith("... further")
    assert str(e.value).startswith("task dataset `t` is invalid: test.jsonl:1: label `nope`")
    assert str(e.value).endswith("(and 20 more)")


def test_missing_dir_and_upload_names(tmp_path):
    with pytest.raises(TaskDataError, match="task directory not found"):
        load_task(tmp_path / "nope")
    files = {k: v.encode() for k, v in cls_files().items() if isinstance(v, str)}
    with pytest.raises(TaskDataError, match=r"\.\./x.jsonl: unexpected file"):
        task_from_uploads({**files, "../x.jsonl": b"{}\n"}, "up")


def test_good_classification(tmp_path):
    root = write(tmp_path / "tiny", cls_files())
    assert is_task_dir(root) and not is_task_dir(tmp_path)
    t = load_task(root)
    assert (t.name, t.kind, t.path) == ("tiny_intents", "classification", root.resolve())
    assert t.schema.labels == {"refund": "wants money back", "cancel": "wants to stop the plan"}
    assert t.schema.fields == {}
    assert [(e.id, e.label) for e in t.train] == [("t1", "refund"), ("t2", "cancel")]
    assert t.test[0].fields is None
    assert t.update is not None and t.new_labels == ("pause",) and t.new_fields == ()
    assert [e.label for e in t.update.test] == ["refund", "pause"]
    assert [e.id for e in t.new_train] == ["t3"]


def test_good_extraction_without_update(tmp_path):
    files = ext_files()
    for rel in T.UPDATE_FILES:
        files.pop(rel)
    t = load_task(write(tmp_path / "x", files))
    assert t.kind == "extraction" and t.update is None and t.new_fields == () and t.new_train == ()
    assert t.schema.fields["due"] == T.FieldSpec("due", "date", "delivery date")
    assert t.train[1].fields == {"order": "A-1", "due": None, "boxes": None}
    assert t.test[0].fields["boxes"] == 1.5 and t.test[0].label is None


def test_extraction_update_and_upload_agree(tmp_path):
    files = ext_files()
    loaded = load_task(write(tmp_path / "x", files))
    up = task_from_uploads({k: str(v).encode("utf-8") for k, v in files.items()}, "mine")
    assert up.path is None
    assert (up.schema, up.train, up.test, up.update) == (
        loaded.schema,
        loaded.train,
        loaded.test,
        loaded.update,
    )
    assert loaded.new_fields == ("window",)
    assert loaded.update is not None
    assert loaded.update.train[0].fields == {**ext("t1")["fields"], "window": "9-12"}
    assert [e.id for e in loaded.new_train] == ["t9"]


def test_bom_and_blank_lines_are_tolerated(tmp_path):
    files = cls_files()
    files["train.jsonl"] = b"\xef\xbb\xbf" + ("\n" + str(files["train.jsonl"]) + "\n\n").encode()
    t = load_task(write(tmp_path / "b", files))
    assert len(t.train) == 2


# --- the shipped datasets: sizes the issue requires (labels, examples per label, fields) ---


def _per_label(examples) -> Counter:
    return Counter(e.label for e in examples)


@pytest.mark.parametrize(
    "name,min_labels,min_train,min_test,max_new",
    [("support_intents", 10, 35, 10, 2), ("it_helpdesk", 8, 15, 8, 2)],
)
def test_shipped_classification(name, min_labels, min_train, min_test, max_new):
    t = load_task(TASKS / name)
    labels = t.schema.labels
    assert t.kind == "classification" and len(labels) >= min_labels
    assert min(_per_label(t.train)[x] for x in labels) >= min_train
    assert min(_per_label(t.test)[x] for x in labels) >= min_test
    assert t.update is not None and 1 <= len(t.new_labels) <= max_new
    new = _per_label(t.new_train)
    assert set(new) == set(t.new_labels) and max(new.values()) <= 5
    # The update's train keeps every old example, so retrieval after the update sees them too.
    assert {e.id for e in t.train} <= {e.id for e in t.update.train}
    updated = _per_label(t.update.test)
    share_new = sum(updated[x] for x in t.new_labels) / len(t.update.test)
    assert 0.3 <= share_new <= 0.7 and all(updated[x] >= 5 for x in t.new_labels)
    # Train and test texts do not overlap: test accuracy is not recall of a training line.
    texts = {e.text.strip().lower() for e in t.train + t.update.train}
    assert not texts & {e.text.strip().lower() for e in t.test + t.update.test}


def _words(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"\w+", text.lower()))


# Word-set Jaccard at which a training text counts as a near-duplicate of a test text. The
# shipped messages are written one by one and their closest train/test pair scores 0.39
# (support_intents) and 0.35 (it_helpdesk); the same template dressed twice (another greeting,
# sign-off, slot value, typo) scores 0.77 at the median and at least 0.5 in 96 % of pairs, so
# 0.5 catches a reworded copy while leaving room above what independent messages reach.
NEAR_DUPLICATE = 0.5


@pytest.mark.parametrize("name", ["support_intents", "it_helpdesk"])
def test_shipped_classification_has_no_near_duplicates_across_train_and_test(name):
    """No training text is a light rewording of a test text (a later batch of training
    messages, such as support_intents_more.txt, must not re-create a test message)."""
    t = load_task(TASKS / name)
    assert t.update is not None
    train = {e.id: _words(e.text) for e in t.train + t.update.train}
    test = {e.id: _words(e.text) for e in t.test + t.update.test}
    close = [
        (tr, te, round(len(a & b) / len(a | b), 2))
        for tr, a in train.items()
        for te, b in test.items()
        if len(a & b) >= NEAR_DUPLICATE * len(a | b)
    ]
    assert not close, close


@pytest.mark.parametrize("name", ["delivery_notes", "supplier_invoices"])
def test_shipped_extraction(name):
    t = load_task(TASKS / name)
    fields = t.schema.fields
    assert t.kind == "extraction" and len(fields) >= 5
    assert {"string", "number", "date"} <= {f.type for f in fields.values()}
    assert len(t.train) >= 100 and len(t.test) >= 50
    # Every field is sometimes absent and usually present: null is part of the task, not noise.
    for f in fields:
        nulls = sum(e.fields[f] is None for e in t.train + t.test) / len(t.train + t.test)
        assert nulls < 0.6, f
    assert any(e.fields[f] is None for e in t.train for f in fields)
    assert t.update is not None and len(t.new_fields) == 1
    (new,) = t.new_fields
    assert len(t.update.test) >= 20
    assert sum(e.fields[new] is not None for e in t.update.test) >= 10
    assert sum(e.fields[new] is not None for e in t.new_train) >= 1
    # The update only adds the field: the old examples keep their texts and gold values.
    old = {e.id: e for e in t.train + t.test}
    for e in t.update.train + t.update.test:
        if e.id in old:
            kept = {f: v for f, v in e.fields.items() if f != new}
            assert (e.text, kept) == (old[e.id].text, old[e.id].fields), e.id
    texts = {e.text.strip().lower() for e in t.train + t.update.train}
    assert not texts & {e.text.strip().lower() for e in t.test + t.update.test}


def test_shipped_datasets_are_split():
    """Every shipped dataset is either tuning or test (SPLITS.yaml), never both."""
    splits = yaml.safe_load((TASKS / "SPLITS.yaml").read_text(encoding="utf-8"))
    tuning, test = splits["tuning"], splits["test"]
    shipped = {
        p.parent.name for p in TASKS.glob("*/task.yaml") if not p.parent.name.startswith("_")
    }
    assert not set(tuning) & set(test)
    assert sorted(tuning + test) == sorted(shipped)
