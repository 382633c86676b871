"""Load and validate a task dataset (see "Task datasets" in the architecture notes).

Layout::

    TASK/task.yaml          kind: classification | extraction; name; description;
                            classification: labels: {label: one-line description}
                            extraction: fields: {field: {type: string|number|date, description}}
    TASK/train.jsonl        classification {"id", "text", "label"};
                            extraction {"id", "text", "fields": {field: value or null}}
    TASK/test.jsonl         same shape as train.jsonl
    TASK/update/            optional: task.yaml, train.jsonl and test.jsonl after a change.
                            The update's task.yaml keeps the kind and every label or field
                            (same type) and may only add; its examples follow the new schema.

Every problem is reported as a `TaskDataError` whose lines read ``FILE:LINE: what is wrong``,
as the corpus loader does, and the byte-level checks (size, NUL bytes, UTF-8, JSON lines) are
the corpus loader's own, so a task upload is refused for the same reasons as a corpus upload.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from core.errors import TaskDataError
from prototype.corpus import _decode, _json_lines, _Problems, _read_text_file

KINDS = ("classification", "extraction")
FIELD_TYPES = ("string", "number", "date")
MAX_YAML_BYTES = 200_000  # a schema with 200 labels and long descriptions is ~30 kB
MAX_JSONL_BYTES = 10_000_000  # per file, checked before reading; the demo sets are ~100 kB
MAX_LABELS = 200  # a label list longer than this no longer fits a small model's prompt
MAX_FIELDS = 50
# Labels are what the model must print and what the scorer compares: one token-like word.
_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
# Field names are JSON keys the model must reproduce: identifier-like, no spaces.
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
FILES = ("task.yaml", "train.jsonl", "test.jsonl")
UPDATE_FILES = tuple(f"update/{f}" for f in FILES)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str  # "string" | "number" | "date"
    description: str


@dataclass(frozen=True)
class TaskSchema:
    kind: str  # "classification" | "extraction"
    name: str
    description: str
    labels: dict[str, str]  # classification: label -> one-line description ({} for extraction)
    fields: dict[str, FieldSpec]  # extraction: field -> spec ({} for classification)


@dataclass(frozen=True)
class Example:
    id: str
    text: str
    label: str | None = None  # classification
    # extraction: a value per schema field; None when absent; dates ISO strings; numbers int/float
    fields: dict[str, Any] | None = None


@dataclass(frozen=True)
class TaskUpdate:
    schema: TaskSchema
    train: tuple[Example, ...]
    test: tuple[Example, ...]


@dataclass(frozen=True)
class TaskDataset:
    path: Path | None  # None for an upload
    schema: TaskSchema
    train: tuple[Example, ...]
    test: tuple[Example, ...]
    update: TaskUpdate | None

    @property
    def name(self) -> str:
        return self.schema.name

    @property
    def kind(self) -> str:
        return self.schema.kind

    @property
    def new_labels(self) -> tuple[str, ...]:
        """Labels the update adds, in task.yaml order (empty without an update)."""
        if self.update is None:
            return ()
        return tuple(x for x in self.update.schema.labels if x not in self.schema.labels)

    @property
    def new_fields(self) -> tuple[str, ...]:
        """Fields the update adds, in task.yaml order (empty without an update)."""
        if self.update is None:
            return ()
        return tuple(f for f in self.update.schema.fields if f not in self.schema.fields)

    @property
    def new_train(self) -> tuple[Example, ...]:
        """Update training examples whose id is not in train.jsonl: what arrived after launch.

        The update's train.jsonl may repeat the old examples (with a new field filled in) or
        hold only the new ones; either way these are the examples a retrieval index adds.
        """
        if self.update is None:
            return ()
        old = {e.id for e in self.train}
        return tuple(e for e in self.update.train if e.id not in old)


class _TaskProblems(_Problems):
    """The corpus loader's collector, raising TaskDataError with a task-worded headline."""

    def raise_if_any(self) -> None:
        if self.items:
            n = len(self.items)
            head = f"task dataset `{self.name}` is invalid: {self.items[0]}"
            if n > 1:
                head += f" (and {n - 1} more)"
            raise TaskDataError(head, list(self.items))


def _key_lines(
    node: yaml.Node | None, label: str, problems: _Problems
) -> dict[tuple[str, ...], int]:
    """Line number of every mapping key (two levels deep), and duplicate keys as problems.

    PyYAML keeps the last of two equal keys silently; a label written twice is a mistake the
    user should hear about, with both lines.
    """
    lines: dict[tuple[str, ...], int] = {}

    def walk(n: yaml.Node | None, prefix: tuple[str, ...], depth: int) -> None:
        if not isinstance(n, yaml.MappingNode):
            return
        for k, v in n.value:
            key = (*prefix, str(k.value))
            line = k.start_mark.line + 1
            if key in lines:
                dotted = ".".join(key)
                problems.add(
                    f"{label}:{line}: duplicate key `{dotted}` (first on line {lines[key]})"
                )
            lines[key] = line
            if depth < 2:
                walk(v, key, depth + 1)

    walk(node, (), 0)
    return lines


def _parse_schema(label: str, text: str, problems: _Problems) -> TaskSchema | None:
    """task.yaml text -> TaskSchema, or None after recording every problem."""
    if not text.strip():
        problems.add(f"{label}: file is empty; expected kind, name, description and labels/fields")
        return None
    try:
        data = yaml.load(text, Loader=SAFE_LOADER)
        node = yaml.compose(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problems.add(f"{label}{line}: not valid YAML ({getattr(e, 'problem', None) or e})")
        return None
    if not isinstance(data, dict):
        problems.add(f"{label}: expected a mapping (kind, name, ...), got {type(data).__name__}")
        return None
    lines = _key_lines(node, label, problems)

    def at(*key: str) -> str:
        return f"{label}:{lines[key]}" if key in lines else label

    before = len(problems.items)
    kind = data.get("kind")
    if kind not in KINDS:
        problems.add(f"{at('kind')}: `kind` must be one of {', '.join(KINDS)}, got {kind!r}")
        return None
    section = "labels" if kind == "classification" else "fields"
    allowed = {"kind", "name", "description", section}
    for key in data:
        if key not in allowed:
            hint = " (only for the other kind)" if key in ("labels", "fields") else ""
            problems.add(f"{at(str(key))}: unknown key `{key}`{hint}")
    for key in ("name", "description"):
        v = data.get(key)
        if not isinstance(v, str) or not v.strip():
            problems.add(f"{at(key)}: `{key}` must be a non-empty string, got {v!r}")
    entries = data.get(section)
    if not isinstance(entries, dict) or not entries:
        problems.add(f"{at(section)}: `{section}` must be a non-empty mapping, got {entries!r}")
        return None
    limit = MAX_LABELS if kind == "classification" else MAX_FIELDS
    if len(entries) > limit:
        problems.add(f"{at(section)}: {len(entries)} {section}, the limit is {limit}")
        return None
    labels: dict[str, str] = {}
    fields: dict[str, FieldSpec] = {}
    for name, spec in entries.items():
        where = at(section, str(name))
        if kind == "classification":
            if not isinstance(name, str) or not _LABEL.fullmatch(name):
                problems.add(
                    f"{where}: label `{name}` must be one word of letters, digits, _ . - "
                    "(up to 64 characters)"
                )
            elif not isinstance(spec, str) or not spec.strip():
                problems.add(f"{where}: label `{name}` needs a one-line description, got {spec!r}")
            else:
                labels[name] = spec.strip()
            continue
        if not isinstance(name, str) or not _FIELD.fullmatch(name):
            problems.add(
                f"{where}: field `{name}` must be letters, digits and _ (not starting with a digit)"
            )
            continue
        if not isinstance(spec, dict):
            problems.add(f"{where}: field `{name}` must be a mapping with type and description")
            continue
        for key in set(spec) - {"type", "description"}:
            problems.add(f"{where}: field `{name}` has unknown key `{key}`")
        ftype, desc = spec.get("type"), spec.get("description")
        if ftype not in FIELD_TYPES:
            problems.add(
                f"{where}: field `{name}` type must be one of {', '.join(FIELD_TYPES)}, "
                f"got {ftype!r}"
            )
        elif not isinstance(desc, str) or not desc.strip():
            problems.add(f"{where}: field `{name}` needs a description, got {desc!r}")
        else:
            fields[name] = FieldSpec(name, ftype, desc.strip())
    if len(problems.items) > before:
        return None
    return TaskSchema(kind, data["name"].strip(), data["description"].strip(), labels, fields)


def _check_value(spec: FieldSpec, v: Any) -> str | None:
    """Why `v` is not a valid gold value for `spec`, or None if it is (null always is)."""
    if v is None:
        return None
    if spec.type == "number":
        if isinstance(v, bool) or not isinstance(v, int | float):
            return f"must be a number or null, got {v!r}"
        if not math.isfinite(v):
            return f"must be a finite number, got {v!r}"
    elif spec.type == "date":
        if not isinstance(v, str) or not _ISO_DATE.fullmatch(v):
            return f"must be an ISO date YYYY-MM-DD or null, got {v!r}"
        try:
            dt.date.fromisoformat(v)
        except ValueError:
            return f"is not a real date, got {v!r}"
    elif not isinstance(v, str) or not v.strip():
        return f"must be a non-empty string or null, got {v!r}"
    return None


def _parse_examples(
    label: str, text: str, schema: TaskSchema, problems: _Problems
) -> tuple[Example, ...]:
    """JSON lines -> examples valid against `schema`; problems name the file and line."""
    if not text.strip():
        problems.add(f"{label}: file is empty; expected one JSON example per line")
        return ()
    last = text.rstrip("\n").rsplit("\n", 1)[-1]
    if not text.endswith("\n") and last.strip().startswith("{") and not last.rstrip().endswith("}"):
        problems.add(f"{label}:{text.count(chr(10)) + 1}: last line is cut off (truncated file?)")
    target = "label" if schema.kind == "classification" else "fields"
    items: list[Example] = []
    seen: dict[str, int] = {}
    for n, obj in _json_lines(label, text, problems):
        where = f"{label}:{n}"
        before = len(problems.items)
        for key in obj.keys() - {"id", "text", target}:
            problems.add(
                f"{where}: unknown key `{key}` (a {schema.kind} example has id, text, {target})"
            )
        for key in ("id", "text", target):
            if key not in obj:
                problems.add(f"{where}: missing key `{key}`")
        for key in ("id", "text"):
            if key in obj and (not isinstance(obj[key], str) or not obj[key].strip()):
                problems.add(f"{where}: `{key}` must be a non-empty string, got {obj[key]!r}")
        if isinstance(obj.get("id"), str):
            if obj["id"] in seen:
                problems.add(
                    f"{where}: duplicate id `{obj['id']}` (first on line {seen[obj['id']]})"
                )
            else:
                seen[obj["id"]] = n
        if target in obj:
            _check_target(where, obj[target], schema, problems)
        if len(problems.items) > before:
            continue
        if schema.kind == "classification":
            items.append(Example(obj["id"], obj["text"], label=obj["label"]))
        else:
            items.append(Example(obj["id"], obj["text"], fields=dict(obj["fields"])))
    return tuple(items)


def _check_target(where: str, value: Any, schema: TaskSchema, problems: _Problems) -> None:
    if schema.kind == "classification":
        if not isinstance(value, str):
            problems.add(f"{where}: `label` must be a string, got {value!r}")
        elif value not in schema.labels:
            problems.add(f"{where}: label `{value}` is not in task.yaml's labels")
        return
    if not isinstance(value, dict):
        problems.add(f"{where}: `fields` must be a JSON object, got {type(value).__name__}")
        return
    for key in value.keys() - schema.fields.keys():
        problems.add(f"{where}: unknown field `{key}` (not in task.yaml's fields)")
    for name, spec in schema.fields.items():
        if name not in value:
            problems.add(f"{where}: missing field `{name}` (use null when the text lacks it)")
            continue
        why = _check_value(spec, value[name])
        if why:
            problems.add(f"{where}: field `{name}` ({spec.type}) {why}")


def _check_update_schema(old: TaskSchema, new: TaskSchema, problems: _Problems) -> bool:
    """An update may only add labels or fields: the old gold answers must stay valid."""
    label = "update/task.yaml"
    ok = True
    if new.kind != old.kind:
        problems.add(
            f"{label}: `kind` changed from {old.kind} to {new.kind}; an update may only add"
        )
        return False
    for x in old.labels:
        if x not in new.labels:
            problems.add(f"{label}: label `{x}` from task.yaml is missing; an update may only add")
            ok = False
    for f, spec in old.fields.items():
        if f not in new.fields:
            problems.add(f"{label}: field `{f}` from task.yaml is missing; an update may only add")
            ok = False
        elif new.fields[f].type != spec.type:
            problems.add(
                f"{label}: field `{f}` changed type from {spec.type} to {new.fields[f].type}"
            )
            ok = False
    return ok


def _build(path: Path | None, texts: dict[str, str], problems: _Problems) -> TaskDataset:
    """Validate decoded files (relative path -> text) into a dataset, or raise TaskDataError."""
    schema = _parse_schema("task.yaml", texts["task.yaml"], problems)
    problems.raise_if_any()
    assert schema is not None
    train = _parse_examples("train.jsonl", texts["train.jsonl"], schema, problems)
    test = _parse_examples("test.jsonl", texts["test.jsonl"], schema, problems)
    update = None
    if "update/task.yaml" in texts:
        new = _parse_schema("update/task.yaml", texts["update/task.yaml"], problems)
        if new is not None and _check_update_schema(schema, new, problems):
            update = TaskUpdate(
                new,
                _parse_examples("update/train.jsonl", texts["update/train.jsonl"], new, problems),
                _parse_examples("update/test.jsonl", texts["update/test.jsonl"], new, problems),
            )
    problems.raise_if_any()
    return TaskDataset(path, schema, train, test, update)


def _limit(rel: str) -> int:
    return MAX_YAML_BYTES if rel.endswith(".yaml") else MAX_JSONL_BYTES


def _missing(present: set[str], problems: _Problems, where: str) -> None:
    """Record each required file that is absent; update/ files are all or nothing."""
    for rel in FILES:
        if rel not in present:
            problems.add(f"{where}{rel}: missing (a task needs task.yaml, train.jsonl, test.jsonl)")
    if present & set(UPDATE_FILES):
        for rel in UPDATE_FILES:
            if rel not in present:
                problems.add(
                    f"{where}{rel}: missing (update/ needs task.yaml, train.jsonl, test.jsonl)"
                )


def is_task_dir(path: str | Path) -> bool:
    """True when `path` looks like a task dataset (it has a task.yaml), not a corpus."""
    return (Path(path) / "task.yaml").is_file()


def load_task(path: str | Path) -> TaskDataset:
    """Read and validate the task dataset at `path`; raise TaskDataError listing every problem."""
    given = Path(path)
    problems = _TaskProblems(given.name or str(given))
    if not given.is_dir():
        problems.add(f"{given}: task directory not found")
        problems.raise_if_any()
    root = given.resolve()
    present = {rel for rel in (*FILES, *UPDATE_FILES) if (root / rel).exists()}
    if (root / "update").exists() and not present & set(UPDATE_FILES):
        problems.add("update: directory has none of task.yaml, train.jsonl, test.jsonl")
    _missing(present, problems, f"{given}/")
    problems.raise_if_any()
    texts: dict[str, str] = {}
    for rel in sorted(present):
        # the corpus loader's checks: inside the root, a file, size refused before reading
        text = _read_text_file(root / rel, root, _limit(rel), problems)
        if text is not None:
            texts[rel] = text
    problems.raise_if_any()
    return _build(root, texts, problems)


def task_from_uploads(files: dict[str, bytes], name: str) -> TaskDataset:
    """Validate a task uploaded through the UI (relative path -> bytes) into a TaskDataset.

    Only the six known names are accepted (task.yaml, train.jsonl, test.jsonl and the same
    under update/), so a user-controlled name can never reach the file system.
    """
    problems = _TaskProblems(name)
    for rel in files:
        if rel not in FILES and rel not in UPDATE_FILES:
            problems.add(
                f"{rel}: unexpected file; upload task.yaml, train.jsonl, test.jsonl "
                "and optionally update/task.yaml, update/train.jsonl, update/test.jsonl"
            )
    _missing(set(files), problems, "upload: ")
    problems.raise_if_any()
    texts: dict[str, str] = {}
    for rel, data in sorted(files.items()):
        text = _decode(rel, data, _limit(rel), problems)
        if text is not None:
            texts[rel] = text
    problems.raise_if_any()
    return _build(None, texts, problems)
