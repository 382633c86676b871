"""Real offline model loading: both models load with every socket blocked."""

from __future__ import annotations

import json
import socket
import subprocess
import time

import pytest
from conftest import FTRAG, ROOT

from core.errors import ConfigError, ModelUnavailableError
from prototype import backbone
from prototype.generator import EndpointGenerator


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.mark.slow
def test_both_models_load_offline_and_work(no_network):
    import numpy as np

    t0 = time.perf_counter()
    model, tok = backbone.load_generator("cpu")
    print(f"generator load (cached): {time.perf_counter() - t0:.2f} s")
    from prototype.generate import generate

    [g] = generate(
        model,
        tok,
        [[{"role": "user", "content": "What is the capital of France?"}]],
        max_new_tokens=12,
    )
    assert "paris" in g.text.lower()
    assert g.prompt_tokens > 5 and 0 < g.new_tokens <= 12
    assert not getattr(model, "is_quantized", False)

    emb = backbone.load_embedder("cpu")
    v = emb.encode(["ferry timetable", "boat schedule", "tax law"], normalize_embeddings=True)
    assert v.shape == (3, 384)
    assert float(np.dot(v[0], v[1])) > float(np.dot(v[0], v[2]))  # real semantics


def test_cached_generator_is_safetensors_without_quantization_tags():
    path = backbone.prepare_cache()
    assert (path / "model.safetensors").stat().st_size > 100_000_000
    config = json.loads((path / "config.json").read_text())
    assert "quantization_config" not in config


def test_missing_generator_override_is_clear(monkeypatch, tmp_path):
    monkeypatch.setenv("FTRAG_GENERATOR", str(tmp_path))
    with pytest.raises(ModelUnavailableError, match="FTRAG_GENERATOR"):
        backbone.generator_source()


def test_device_choice():
    assert backbone.pick_device("cpu") == "cpu"
    with pytest.raises(ConfigError, match="device"):
        backbone.pick_device("tpu")


def test_endpoint_url_is_checked():
    with pytest.raises(ConfigError, match="endpoint"):
        EndpointGenerator("ftp://example")


def test_doctor_json_reports_models_and_device():
    r = subprocess.run(
        [*FTRAG, "doctor", "--format", "json"], capture_output=True, text=True, cwd=ROOT
    )
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["models"]["generator_gguf"].endswith(".gguf")
    assert report["models"]["embedder"].endswith("model")
    assert report["device"]["device"] in ("cpu", "cuda")
    assert report["versions"]["torch"].startswith("2.")
    assert report["cache"]["size_mb"] > 100


@pytest.mark.slow  # real MiniLM retrieval: not part of `make test-fast`
def test_ask_through_a_configured_endpoint(tmp_path):
    """`--endpoint` routes generation to an OpenAI-compatible server (here a loopback fake
    that echoes what it received); retrieval stays local and real."""
    import http.server
    import threading

    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append((self.path, body))
            reply = json.dumps({"answer": "ok", "source": "endpoint"})
            out = json.dumps({"choices": [{"message": {"content": reply}}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *a):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.handle_request, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/v1"
    tiny = ROOT / "tests" / "fixtures" / "tiny_corpus"
    r = subprocess.run(
        [
            *FTRAG,
            "--endpoint",
            url,
            "ask",
            "--strategy",
            "rag",
            "--corpus",
            str(tiny),
            "What time does the bakery open?",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    server.server_close()
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"answer": "ok", "source": "endpoint"}
    path, body = seen[0]
    assert path == "/v1/chat/completions"
    assert "Document:" in body["messages"][-1]["content"]  # retrieved context was sent
    assert "retrieved:" in r.stderr


def test_bad_endpoint_flag_exits_2():
    r = subprocess.run(
        [*FTRAG, "--endpoint", "ftp://x", "doctor"], capture_output=True, text=True, cwd=ROOT
    )
    assert r.returncode == 2 and "endpoint: must be an http(s) URL" in r.stderr
