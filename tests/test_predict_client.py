"""terrasense predict: messages and images sent, retries, concurrency, resume; then against LLaMA-Factory's API."""

from __future__ import annotations

import base64
import io
import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import nullcontext as does_not_raise
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from ts_instruct.errors import ConfigError, InvalidImageError, RecordValidationError
from ts_instruct.lf_resize import preprocess_size
from ts_instruct.predict import PredictOptions, build_messages, image_data_url
from ts_instruct.render import style_from_meta

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def _png(path: Path, size: tuple[int, int] = (40, 30), color: tuple[int, int, int] = (10, 200, 30)) -> Path:
    Image.new("RGB", size, color).save(path)
    return path


def _decode(url: str) -> tuple[str, bytes]:
    head, data = url.split(",", 1)
    return head, base64.b64decode(data)


def _record(messages: list[tuple[str, str]], images: list[str], rid: str = "d/test/k/t") -> dict[str, Any]:
    return {
        "id": rid,
        "dataset": "d",
        "task": "t",
        "messages": [{"role": r, "content": c} for r, c in messages],
        "images": images,
    }


# --------------------------------------------------------------------------------------------- messages and images


@pytest.mark.parametrize(
    "messages, n_images, expected, expectation",
    [
        # one image before the question
        ([("user", "<image>Detect."), ("assistant", "x")], 1, [("user", ["img", "Detect."])], does_not_raise()),
        # a before/after pair: two images then the text, earlier image first
        (
            [("user", "<image><image>Compare."), ("assistant", "x")],
            2,
            [("user", ["img", "img", "Compare."])],
            does_not_raise(),
        ),
        # text around and between the placeholders keeps its place
        (
            [("user", "A <image> B <image> C"), ("assistant", "x")],
            2,
            [("user", ["A ", "img", " B ", "img", " C"])],
            does_not_raise(),
        ),
        # the system turn is sent as it is
        (
            [("system", "You are an RS expert."), ("user", "<image>Q"), ("assistant", "x")],
            1,
            [("system", "You are an RS expert."), ("user", ["img", "Q"])],
            does_not_raise(),
        ),
        # multi-turn: everything before the last answer, images consumed across turns
        (
            [("user", "<image>Q1"), ("assistant", "A1"), ("user", "<image>Q2"), ("assistant", "A2")],
            2,
            [("user", ["img", "Q1"]), ("assistant", "A1"), ("user", ["img", "Q2"])],
            does_not_raise(),
        ),
        # text-only record
        ([("user", "Hello"), ("assistant", "x")], 0, [("user", "Hello")], does_not_raise()),
        # no answer to predict
        ([("user", "<image>Q")], 1, None, pytest.raises(RecordValidationError, match="assistant turn")),
        # placeholders and images disagree
        ([("user", "<image>Q"), ("assistant", "x")], 2, None, pytest.raises(RecordValidationError, match="1 <image>")),
    ],
)
def test_build_messages(tmp_path: Path, messages: Any, n_images: int, expected: Any, expectation: Any) -> None:
    paths = [_png(tmp_path / f"{i}.png", color=(i * 50, 0, 0)).name for i in range(n_images)]
    with expectation:
        sent = build_messages(_record(messages, paths), tmp_path)
        shape = []
        seen_images = []
        for m in sent:
            if isinstance(m["content"], str):
                shape.append((m["role"], m["content"]))
                continue
            parts = []
            for part in m["content"]:
                if part["type"] == "image_url":
                    parts.append("img")
                    seen_images.append(_decode(part["image_url"]["url"]))
                else:
                    parts.append(part["text"])
            shape.append((m["role"], parts))
        assert shape == expected
        # images go out in record order, PNG bytes untouched
        assert seen_images == [("data:image/png;base64", (tmp_path / p).read_bytes()) for p in paths]


def test_image_data_url_formats_and_resizing(tmp_path: Path) -> None:
    png = _png(tmp_path / "a.png")
    assert _decode(image_data_url(png)) == ("data:image/png;base64", png.read_bytes())
    jpg = tmp_path / "b.JPG"
    Image.new("RGB", (20, 20), (1, 2, 3)).save(jpg, format="JPEG")
    assert _decode(image_data_url(jpg)) == ("data:image/jpeg;base64", jpg.read_bytes())
    # servers only decode a few formats from data URLs: others are re-encoded losslessly as PNG
    tif = tmp_path / "c.tif"
    Image.new("RGB", (30, 10), (9, 8, 7)).save(tif)
    head, data = _decode(image_data_url(tif))
    assert head == "data:image/png;base64"
    assert Image.open(io.BytesIO(data)).tobytes() == Image.open(tif).convert("RGB").tobytes()
    # client-side LLaMA-Factory scaling: large images shrink to the training frame, small ones go out untouched
    big = _png(tmp_path / "big.png", size=(2000, 1000))
    head, data = _decode(image_data_url(big, (589824, 1024)))
    assert Image.open(io.BytesIO(data)).size == preprocess_size(2000, 1000, 589824, 1024) == (1086, 543)
    assert _decode(image_data_url(png, (589824, 1024)))[1] == png.read_bytes()
    with pytest.raises(InvalidImageError, match="not found"):
        image_data_url(tmp_path / "missing.png")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"endpoint": "127.0.0.1:8000/v1"}, "http"),
        ({"endpoint": "http://h/v1", "concurrency": 0}, "concurrency"),
        ({"endpoint": "http://h/v1", "retries": -1}, "retries"),
        ({"endpoint": "http://h/v1", "image_max_pixels": 100, "image_min_pixels": 200}, "min <= max"),
    ],
)
def test_options_are_checked(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        PredictOptions(**kwargs)


@pytest.mark.parametrize(
    "endpoint, chat, models",
    [
        ("http://h:1/v1", "http://h:1/v1/chat/completions", "http://h:1/v1/models"),
        ("http://h:1/v1/", "http://h:1/v1/chat/completions", "http://h:1/v1/models"),
        ("https://h/x/v1/chat/completions", "https://h/x/v1/chat/completions", "https://h/x/v1/models"),
    ],
)
def test_endpoint_urls(endpoint: str, chat: str, models: str) -> None:
    options = PredictOptions(endpoint=endpoint)
    assert (options.chat_url, options.models_url) == (chat, models)


# --------------------------------------------------------------------------------------------- against a fake server


class FakeServer:
    """An OpenAI-style server whose answers come from ``respond(body, attempt) -> (status, json, headers)``."""

    def __init__(self, respond: Callable[[dict[str, Any], int], tuple[int, Any, dict[str, str]]]) -> None:
        self.respond = respond
        self.requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, payload: Any, headers: dict[str, str]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._send(200, {"object": "list", "data": [{"id": "fake-model"}]}, {})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.requests.append(body)
                    attempt = len(server.requests)
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    self._send(*server.respond(body, attempt))
                finally:
                    with server.lock:
                        server.in_flight -= 1

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _answer(body: dict[str, Any]) -> dict[str, Any]:
    user = body["messages"][-1]["content"]
    n_images = sum(p["type"] == "image_url" for p in user) if isinstance(user, list) else 0
    return {
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": f"{n_images} images"}, "finish_reason": "stop"}
        ]
    }


@pytest.fixture
def server() -> Iterator[Callable[..., FakeServer]]:
    servers: list[FakeServer] = []

    def start(respond: Callable[[dict[str, Any], int], tuple[int, Any, dict[str, str]]] | None = None) -> FakeServer:
        s = FakeServer(respond or (lambda body, attempt: (200, _answer(body), {})))
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.close()


@pytest.fixture
def test_split(converted_root: Path) -> Path:
    return converted_root / "fake_det" / "test-00000.jsonl"


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_predicts_every_record_in_input_order(server: Any, test_split: Path, tmp_path: Path, run_cli: Any) -> None:
    def slow(body: dict[str, Any], attempt: int) -> tuple[int, Any, dict[str, str]]:
        time.sleep(0.3)  # keep requests in flight long enough to overlap
        return 200, _answer(body), {}

    fake = server(slow)
    out = tmp_path / "pred.jsonl"
    status, stdout, err = run_cli("predict", "--endpoint", fake.url, "--input", str(test_split), "--out", str(out))
    assert (status, err) == (0, "")
    records = _records(test_split)
    rows = _records(out)
    assert [r["id"] for r in rows] == [r["id"] for r in records]
    for row, record in zip(rows, records, strict=True):
        assert row == {
            "id": record["id"],
            "dataset": "fake_det",
            "task": record["task"],
            "predict": f"{len(record['images'])} images",
            "label": record["messages"][-1]["content"],
            "finish_reason": "stop",
        }
    assert {b["model"] for b in fake.requests} == {"fake-model"}  # asked /v1/models
    assert {b["temperature"] for b in fake.requests} == {0.0} and all("max_tokens" not in b for b in fake.requests)
    pair = next(b for b in fake.requests if b["messages"][-1]["content"][1]["type"] == "image_url")
    assert [p["type"] for p in pair["messages"][-1]["content"]] == ["image_url", "image_url", "text"]
    assert fake.max_in_flight >= 2  # --concurrency 4 (default) sends records in parallel
    assert f"{len(records)} answered, 0 already in" in stdout


def test_retries_transient_errors_with_backoff(server: Any, test_split: Path, tmp_path: Path, run_cli: Any) -> None:
    failures = {1: 503, 2: 429, 3: 502}

    def flaky(body: dict[str, Any], attempt: int) -> tuple[int, Any, dict[str, str]]:
        if attempt in failures:
            return failures[attempt], {"error": "busy"}, {"Retry-After": "0"} if failures[attempt] == 429 else {}
        return 200, _answer(body), {}

    fake = server(flaky)
    out = tmp_path / "pred.jsonl"
    args = ["--endpoint", fake.url, "--input", str(test_split), "--out", str(out), "--backoff", "0.01"]
    status, _, _ = run_cli("predict", *args, "--concurrency", "1", "--max-tokens", "7", "--model", "m")
    assert status == 0
    n = len(_records(test_split))
    assert len(fake.requests) == n + len(failures)
    assert len(_records(out)) == n
    assert {(b["model"], b["max_tokens"]) for b in fake.requests} == {("m", 7)}


def test_failed_records_are_retried_by_the_next_run(
    server: Any, test_split: Path, tmp_path: Path, run_cli: Any
) -> None:
    records = _records(test_split)
    refused = records[1]["messages"][0]["content"]
    broken = {"on": True}

    def picky(body: dict[str, Any], attempt: int) -> tuple[int, Any, dict[str, str]]:
        texts = [p.get("text") for p in body["messages"][-1]["content"] if isinstance(p, dict)]
        if broken["on"] and any(t and t in refused for t in texts):
            return 400, {"error": "bad request"}, {}
        return 200, _answer(body), {}

    fake = server(picky)
    out = tmp_path / "pred.jsonl"
    args = ["predict", "--endpoint", fake.url, "--input", str(test_split), "--out", str(out), "--backoff", "0"]
    status, _, err = run_cli(*args)
    assert status == 1
    assert "HTTP 400" in err and "run the same command again" in err
    n_refused = sum(r["messages"][0]["content"] == refused for r in records)
    assert len(_records(out)) == len(records) - n_refused
    assert len(fake.requests) == len(records)  # 400 is not retried

    broken["on"] = False
    fake.requests.clear()
    status, _, _ = run_cli(*args)
    assert status == 0
    assert len(fake.requests) == n_refused
    assert [r["id"] for r in _records(out)] == [r["id"] for r in records]


def test_resumes_after_a_crash_mid_line(server: Any, test_split: Path, tmp_path: Path, run_cli: Any) -> None:
    records = _records(test_split)
    out = tmp_path / "pred.jsonl"
    done = {"id": records[2]["id"], "predict": "earlier", "label": "x"}
    out.write_text(json.dumps(done) + "\n" + '{"id": "' + records[0]["id"] + '", "pre')
    fake = server()
    status, stdout, _ = run_cli("predict", "--endpoint", fake.url, "--input", str(test_split), "--out", str(out))
    assert status == 0
    assert len(fake.requests) == len(records) - 1
    rows = _records(out)
    assert [r["id"] for r in rows] == [r["id"] for r in records]
    assert rows[2] == done
    assert "1 already in" in stdout


def test_gives_up_after_the_retries(server: Any, test_split: Path, tmp_path: Path, run_cli: Any) -> None:
    fake = server(lambda body, attempt: (503, {"error": "down"}, {}))
    out = tmp_path / "pred.jsonl"
    args = ["--endpoint", fake.url, "--input", str(test_split), "--out", str(out), "--retries", "2", "--backoff", "0"]
    status, _, err = run_cli("predict", *args)
    assert status == 1
    assert len(fake.requests) == 3 * len(_records(test_split))
    assert "gave up after 3 attempts" in err
    assert out.read_text() == ""


def test_unreachable_endpoint_is_a_one_line_error(test_split: Path, tmp_path: Path, run_cli: Any) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = ["--input", str(test_split), "--out", str(tmp_path / "p.jsonl"), "--retries", "0"]
    status, _, err = run_cli("predict", "--endpoint", f"http://127.0.0.1:{port}/v1", *args)
    assert status == 2
    assert err.count("\n") == 1 and "terrasense predict: error:" in err


# --------------------------------------------------------------------------------------------- LLaMA-Factory's API


@pytest.mark.slow
def test_against_llamafactory_api_server(
    tiny_model: Any, test_split: Path, subprocess_env: dict[str, str], tmp_path: Path, run_cli: Any
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(subprocess_env, API_HOST="127.0.0.1", API_PORT=str(port), API_MODEL_NAME="terrasense-tiny")
    cmd = ["llamafactory-cli", "api", str(CONFIGS / "inference.yaml"), f"model_name_or_path={tiny_model('qwen25vl')}"]
    log = (tmp_path / "api.log").open("w")
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    endpoint = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 300
        while True:
            assert proc.poll() is None, (tmp_path / "api.log").read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"{endpoint}/models", timeout=5) as r:
                    assert json.loads(r.read())["data"][0]["id"] == "terrasense-tiny"
                break
            except OSError:
                assert time.monotonic() < deadline, "API server did not come up"
                time.sleep(1)
        out = tmp_path / "pred.jsonl"
        args = ["--input", str(test_split), "--out", str(out), "--max-tokens", "8", "--concurrency", "2"]
        status, stdout, err = run_cli("predict", "--endpoint", endpoint, *args, "--image-max-pixels", "589824")
        records = _records(test_split)
        assert status == 0, err
        assert f"{len(records)} answered, 0 already in" in stdout
        rows = _records(out)
        assert [r["id"] for r in rows] == [r["id"] for r in records]
        assert all(isinstance(r["predict"], str) and r["finish_reason"] in ("stop", "length") for r in rows)
        for row, record in zip(rows, records, strict=True):  # answers read back with the record's render style
            style = style_from_meta(record["meta"]["render"])
            result = style.parse(row["predict"], style.frame(112, 84))
            assert all(item.kind in ("hbox", "qbox", "polygon", "point") for item in result.items)
        # the predictions file is what `terrasense eval` scores, keyed by id
        status, table, err = run_cli("eval", "--pred", str(out), "--ref", str(test_split))
        assert status == 0, err
        assert "detection_hbb" in table or "change_boxes" in table
        assert any(len(r["images"]) == 2 for r in records)  # a before/after pair went through
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
