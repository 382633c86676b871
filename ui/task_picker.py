"""The behaviour-task dataset a classification or extraction profile is prototyped on: a demo
dataset of the profile's kind (data/tasks), or the user's own in the same format (the three
files, or a .zip of the folder with its update/)."""

from __future__ import annotations

import posixpath

import streamlit as st

from core.errors import AdvisorError
from ui import services
from ui.common import md, show_error

UPLOAD_TYPES = ["yaml", "yml", "jsonl", "zip"]


def _zip_files(name: str, data: bytes) -> dict[str, bytes]:
    """The members of an uploaded .zip by path relative to the task folder (one wrapping top
    folder is dropped); sizes checked before anything is decompressed. The names are only
    compared with the six known ones (prototype.task_data), never joined to a path."""
    from prototype.ingest_limits import open_zip

    with open_zip(name, data) as zf:
        members = [
            (i, posixpath.normpath(i.filename))
            for i in zf.infolist()
            if not i.is_dir() and not _junk(i.filename)
        ]
        tops = {n.split("/", 1)[0] for _, n in members if "/" in n}
        strip = len(tops) == 1 and all("/" in n for _, n in members)
        return {(n.split("/", 1)[1] if strip else n): zf.read(i) for i, n in members}


def _junk(name: str) -> bool:
    """Files an archiver adds: macOS resource forks and dot files."""
    return "__MACOSX" in name.split("/") or posixpath.basename(name).startswith(".")


def _uploaded():
    files = st.file_uploader(
        "task.yaml, train.jsonl, test.jsonl (or a .zip of the folder, with update/)",
        type=UPLOAD_TYPES,
        accept_multiple_files=True,
        key="w.task.upload",
    )
    if not files:
        st.caption(
            "The format: `task.yaml` (kind, labels or fields), `train.jsonl` and `test.jsonl`; "
            "an optional `update/` folder holds the same files after new labels or a new field "
            "arrived. See data/tasks/README.md."
        )
        return None
    from prototype.task_data import task_from_uploads

    data: dict[str, bytes] = {}
    try:
        for f in files:
            if f.name.lower().endswith(".zip"):
                data.update(_zip_files(f.name, f.getvalue()))
            else:
                data[f.name] = f.getvalue()
        return task_from_uploads(data, "upload")
    except AdvisorError as e:
        show_error(e, "The task dataset cannot be used")
        return None


def pick_task(kind: str):
    """(key, TaskDataset) for the profile's task `kind`, or (None, None)."""
    source = st.radio(
        "Task dataset",
        ("Demo dataset", "Upload a dataset"),
        horizontal=True,
        key="w.task.source",
    )
    if source == "Upload a dataset":
        ds = _uploaded()
        return ("upload", ds) if ds is not None else (None, None)
    dirs = services.task_dirs()
    names = [n for n, p in dirs.items() if services.task_kind(str(p)) == kind]
    if not names:
        st.info(f"No demo dataset for {md(kind)} is installed; upload your own.")
        return None, None
    name = st.selectbox("Demo dataset", names, key="w.task.dataset")
    try:
        return name, services.load_task_cached(str(dirs[name]), services.corpus_mtime(dirs[name]))
    except AdvisorError as e:
        show_error(e, f"The dataset {md(name)} cannot be used")
        return None, None


def describe(ds) -> None:
    s = ds.schema
    what = f"{len(s.labels)} labels" if ds.kind == "classification" else f"{len(s.fields)} fields"
    line = f"{what} · {len(ds.train)} training and {len(ds.test)} test examples"
    if ds.update is not None:
        new = ds.new_labels or ds.new_fields
        line += (
            f" · update: {', '.join(new) or 'no new labels or fields'}, "
            f"{len(ds.new_train)} new training examples, {len(ds.update.test)} test"
        )
    st.caption(line)
    if s.description:
        st.caption(md(s.description))
