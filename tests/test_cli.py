"""CLI exit codes and messages, run as a real subprocess: no traceback ever reaches users."""

from __future__ import annotations

import json
import subprocess

import pytest
from conftest import FTRAG, ROOT, VALID_PROFILE


def ftrag(*args, **kw):
    return subprocess.run([*FTRAG, *args], capture_output=True, text=True, cwd=ROOT, **kw)


def test_help_lists_commands():
    r = ftrag("--help")
    assert r.returncode == 0
    for cmd in ("schema", "validate", "doctor"):
        assert cmd in r.stdout


def test_schema_is_json_schema():
    r = ftrag("schema")
    assert r.returncode == 0
    assert "latency_budget_ms" in json.loads(r.stdout)["properties"]


def test_validate_ok(tmp_path):
    p = tmp_path / "ok.json"
    p.write_text(json.dumps(VALID_PROFILE))
    r = ftrag("validate", str(p))
    assert r.returncode == 0, r.stderr
    assert "valid profile" in r.stdout


@pytest.mark.parametrize(
    "content,fragment",
    [
        (b"", "file is empty"),
        (b'{"name": "x",', "not valid JSON"),
        (b"\x00\x00\x00", "binary file"),
        (b"- a\n- b\n", "expected a mapping"),
        (
            json.dumps({**VALID_PROFILE, "latency_budget_ms": -5}).encode(),
            "latency_budget_ms: input should be greater than 0, got -5",
        ),
        (json.dumps({**VALID_PROFILE, "task": "poetry"}).encode(), "task:"),
        (json.dumps({**VALID_PROFILE, "extra": 1}).encode(), "extra: unknown field"),
    ],
)
def test_validate_bad_input_exits_2_naming_the_problem(tmp_path, content, fragment):
    p = tmp_path / "bad.json"
    p.write_bytes(content)
    r = ftrag("validate", str(p))
    assert r.returncode == 2
    assert fragment in r.stderr
    assert "Traceback" not in r.stderr + r.stdout


def test_missing_file_and_directory(tmp_path):
    for target, fragment in ((tmp_path / "nope.yaml", "file not found"), (tmp_path, "not a file")):
        r = ftrag("validate", str(target))
        assert r.returncode == 2 and fragment in r.stderr
        assert "Traceback" not in r.stderr


def test_usage_error_exits_2():
    r = ftrag("validate")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr


def test_progress_lines_keep_scalars_and_drop_streamed_answers(capsys):
    """The rows stream every scored answer through the progress callback (the app's table);
    the terminal's progress line keeps the counts only."""
    from pipeline.cli import _stderr_progress

    _stderr_progress("rag: test", 3, 9, {"correct": 2, "answers": [{"raw": "x" * 500}]})
    err = capsys.readouterr().err
    assert err.strip() == "[rag: test] 3/9 correct=2"


@pytest.mark.parametrize(
    ("conf", "said"),
    [(0.95, "confidence: 0.95 (confident)"), (0.3, "confidence: 0.30 (unsure: check the passages")],
)
def test_ask_prints_the_extractive_readers_confidence(monkeypatch, conf, said):
    """`ftrag ask` states how sure the extractive reader is; a reader without one says
    nothing about it (plumbing: the answer is faked; the real reader's confidence is
    asserted in tests/test_extract.py)."""
    from typer.testing import CliRunner

    import prototype.runner as runner
    from pipeline import cli
    from prototype.evaluate import Answer

    raw = '{"answer": "06:15", "source": "opening_hours"}'
    for extra, shown in (({"confidence": conf}, True), ({}, False)):
        monkeypatch.setattr(runner, "answer_live", lambda *a, e=extra: Answer(raw, 9, 0.1, (), e))
        tiny = str(ROOT / "tests" / "fixtures" / "tiny_corpus")
        r = CliRunner().invoke(cli.app, ["ask", "When?", "--corpus", tiny, "--strategy", "rag"])
        assert r.exit_code == 0, r.output
        assert r.stdout.splitlines()[0] == raw
        assert (said in r.stderr) is shown
