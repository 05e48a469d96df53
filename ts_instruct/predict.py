"""Send TS-Instruct test records to an OpenAI-style chat-completions endpoint and save the answers.

Works with any server speaking ``POST /v1/chat/completions`` with ``image_url`` content parts: ``vllm serve``
(``scripts/serve_vllm.sh``) in production, LLaMA-Factory's ``llamafactory-cli api`` (CPU-friendly), or a hosted API.

Per record: the conversation up to its last assistant turn is sent (the system turn too, when the record has one;
otherwise the server's chat template adds the same default the training template did). Every ``<image>`` placeholder
becomes an ``image_url`` part holding the image as a base64 data URL, at the placeholder's position, so a
before/after pair goes out as ``[image, image, text]``, as it was trained. PNG and JPEG files are sent as they are;
other formats (TIFF, WebP, ...) are re-encoded as PNG, because servers only decode a few formats from data URLs
(LLaMA-Factory: png/jpg/jpeg/gif/bmp).

Output: one JSON line per record, ``{"id", "dataset", "task", "predict", "label", "finish_reason"}`` (``predict``/
``label`` as in LLaMA-Factory's ``generated_predictions.jsonl``; ``label`` is the reference answer). The file is
resumable: records whose id is already in it are skipped, so running the same command again after a crash or a
failed request only sends the rest. Once every record has an answer, the file is rewritten in input order.

Requests run ``concurrency`` at a time; connection errors, timeouts, HTTP 408/429 and 5xx are retried with
exponential backoff (``backoff * 2**attempt`` seconds, or the server's ``Retry-After``); other HTTP errors fail the
record at once. The input is streamed: only ``2 * concurrency`` records are held at a time.
"""

from __future__ import annotations

import base64
import io
import json
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ts_instruct.errors import ConfigError, InvalidImageError, RecordValidationError
from ts_instruct.lf_resize import preprocess_image, preprocess_size
from ts_instruct.record import IMAGE_PLACEHOLDER

_RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_PASS_THROUGH = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


@dataclass(frozen=True)
class PredictOptions:
    """How to talk to the endpoint.

    Attributes:
        endpoint: base URL (``http://host:8000/v1``) or the full ``.../chat/completions`` URL.
        model: model name to send; ``None`` asks the server (first id of ``GET /v1/models``).
        api_key: sent as ``Authorization: Bearer <key>`` when set.
        max_tokens: generation limit per answer; ``None`` leaves the server's default.
        temperature: ``0.0`` (greedy) by default: boxes and counts should not be sampled.
        concurrency: requests in flight at once.
        retries: extra attempts per request after a retryable failure.
        backoff: seconds before the first retry; doubled at each further retry.
        timeout: seconds per request.
        image_root: folder the records' image paths are relative to; ``None`` means the input file's folder (right
            for a converted split and for a mixture file alike).
        image_max_pixels: when set (with ``image_min_pixels``), images are scaled client-side exactly as
            LLaMA-Factory scaled them in training (:mod:`ts_instruct.lf_resize`): give the training config's values
            when the server is a plain ``vllm serve``, which skips that step.
        image_min_pixels: the training config's ``image_min_pixels`` (used with ``image_max_pixels``).
    """

    endpoint: str
    model: str | None = None
    api_key: str | None = None
    max_tokens: int | None = None
    temperature: float = 0.0
    concurrency: int = 4
    retries: int = 5
    backoff: float = 1.0
    timeout: float = 600.0
    image_root: Path | None = None
    image_max_pixels: int | None = None
    image_min_pixels: int = 1024

    def __post_init__(self) -> None:
        if not self.endpoint.startswith(("http://", "https://")):
            raise ConfigError(f"endpoint must be an http(s) URL, got {self.endpoint!r}")
        if self.concurrency < 1:
            raise ConfigError(f"concurrency must be >= 1, got {self.concurrency}")
        if self.image_max_pixels is not None and not 0 < self.image_min_pixels <= self.image_max_pixels:
            raise ConfigError(
                f"image pixel limits must satisfy 0 < min <= max, got min={self.image_min_pixels} "
                f"max={self.image_max_pixels}"
            )
        if self.retries < 0 or self.backoff < 0:
            raise ConfigError(f"retries and backoff must be >= 0, got {self.retries} and {self.backoff}")

    @property
    def pixel_limits(self) -> tuple[int, int] | None:
        """``(image_max_pixels, image_min_pixels)`` when client-side scaling is on, else ``None``."""
        return None if self.image_max_pixels is None else (self.image_max_pixels, self.image_min_pixels)

    @property
    def chat_url(self) -> str:
        """The ``.../chat/completions`` URL."""
        url = self.endpoint.rstrip("/")
        return url if url.endswith("/chat/completions") else f"{url}/chat/completions"

    @property
    def models_url(self) -> str:
        """The ``.../models`` URL next to :attr:`chat_url`."""
        return self.chat_url[: -len("/chat/completions")] + "/models"


@dataclass(frozen=True)
class PredictSummary:
    """What :func:`predict` did: records in the input, already answered before, answered now, failed."""

    total: int
    skipped: int
    answered: int
    failed: int


class RequestError(Exception):
    """A request failed for good (after retries, or with a non-retryable status)."""


def image_data_url(path: Path, pixel_limits: tuple[int, int] | None = None) -> str:
    """The image at ``path`` as a ``data:image/...;base64,`` URL.

    PNG and JPEG files are sent byte for byte unless they must be rescaled; anything else, or a rescaled image, is
    sent as PNG.

    Args:
        path: the image file.
        pixel_limits: ``(max_pixels, min_pixels)`` to scale the image as LLaMA-Factory does, or ``None``.

    Raises:
        InvalidImageError: when the file is missing or cannot be decoded.
    """
    mime = _PASS_THROUGH.get(path.suffix.lower())
    try:
        if mime is not None and pixel_limits is None:
            data = path.read_bytes()
        else:
            from PIL import Image

            with Image.open(path) as im:
                size = (im.width, im.height)
                unchanged = pixel_limits is not None and preprocess_size(*size, *pixel_limits) == size
                if mime is not None and unchanged:  # nothing to rescale: send the file itself
                    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"
                out = preprocess_image(im, *pixel_limits) if pixel_limits else im.convert("RGB")
                buf = io.BytesIO()
                out.save(buf, format="PNG")
            data, mime = buf.getvalue(), "image/png"
    except FileNotFoundError as e:
        raise InvalidImageError(path, "image not found; pass --image-root to say where image paths start") from e
    except OSError as e:
        raise InvalidImageError(path, f"cannot read image: {e}") from e
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def build_messages(
    record: dict[str, Any], image_root: Path, pixel_limits: tuple[int, int] | None = None
) -> list[dict[str, Any]]:
    """The chat-completions ``messages`` for a record: every turn before the last assistant turn.

    ``<image>`` placeholders become ``image_url`` parts in place, consuming ``record["images"]`` in order;
    ``pixel_limits`` is passed to :func:`image_data_url`.

    Raises:
        RecordValidationError: when the record has no assistant turn to predict, or placeholders and images differ.
    """
    turns = record.get("messages") or []
    last = max((i for i, m in enumerate(turns) if m.get("role") == "assistant"), default=None)
    if last is None or last == 0:
        raise RecordValidationError(f"record {record.get('id')!r}: needs a user turn followed by an assistant turn")
    images = list(record.get("images") or [])
    needed = sum(str(m.get("content", "")).count(IMAGE_PLACEHOLDER) for m in turns[:last])
    if needed != len(images):
        raise RecordValidationError(
            f"record {record.get('id')!r}: {needed} {IMAGE_PLACEHOLDER} placeholders before the answer but "
            f"{len(images)} images"
        )
    queue = iter(images)
    out: list[dict[str, Any]] = []
    for m in turns[:last]:
        content = str(m["content"])
        if IMAGE_PLACEHOLDER not in content:
            out.append({"role": m["role"], "content": content})
            continue
        parts: list[dict[str, Any]] = []
        for i, text in enumerate(content.split(IMAGE_PLACEHOLDER)):
            if i > 0:
                url = image_data_url(image_root / next(queue), pixel_limits)
                parts.append({"type": "image_url", "image_url": {"url": url}})
            if text:
                parts.append({"type": "text", "text": text})
        out.append({"role": m["role"], "content": parts})
    return out


def _http_json(url: str, body: dict[str, Any] | None, options: PredictOptions) -> Any:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if options.api_key:
        headers["Authorization"] = f"Bearer {options.api_key}"
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, headers=headers, method="GET" if body is None else "POST")
    with urllib.request.urlopen(request, timeout=options.timeout) as response:
        return json.loads(response.read().decode("utf-8"))


def call_with_retries(
    fn: Callable[[], Any], options: PredictOptions, *, sleep: Callable[[float], None] = time.sleep
) -> Any:
    """Run ``fn`` (one HTTP call); retry connection errors, timeouts, 408/429/5xx with exponential backoff.

    Raises:
        RequestError: after ``options.retries`` retries, or at once for another HTTP error, with the server's message.
    """
    for attempt in range(options.retries + 1):
        try:
            return fn()
        except urllib.error.HTTPError as e:
            detail = e.read().decode("utf-8", "replace")[:300]
            if e.code not in _RETRY_STATUS:
                raise RequestError(f"HTTP {e.code}: {detail}") from e
            error: Exception = RequestError(f"HTTP {e.code}: {detail}")
            retry_after = e.headers.get("Retry-After") if e.headers else None
            delay = float(retry_after) if retry_after and retry_after.isdigit() else options.backoff * 2**attempt
        except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
            error = RequestError(f"{type(e).__name__}: {getattr(e, 'reason', e)}")
            delay = options.backoff * 2**attempt
        if attempt < options.retries:
            sleep(delay)
    raise RequestError(f"{error} (gave up after {options.retries + 1} attempts)")


def resolve_model(options: PredictOptions) -> str:
    """``options.model``, or the first model the server lists at ``GET .../models``."""
    if options.model:
        return options.model
    listing = call_with_retries(lambda: _http_json(options.models_url, None, options), options)
    try:
        return str(listing["data"][0]["id"])
    except (KeyError, IndexError, TypeError) as e:
        raise RequestError(f"{options.models_url} lists no model; pass --model") from e


def predict_one(record: dict[str, Any], model: str, options: PredictOptions, image_root: Path) -> dict[str, Any]:
    """Ask the endpoint for one record's answer; returns the output line as a dict."""
    body: dict[str, Any] = {
        "model": model,
        "messages": build_messages(record, image_root, options.pixel_limits),
        "temperature": options.temperature,
    }
    if options.max_tokens is not None:
        body["max_tokens"] = options.max_tokens
    response = call_with_retries(lambda: _http_json(options.chat_url, body, options), options)
    try:
        choice = response["choices"][0]
        text = choice["message"]["content"] or ""
    except (KeyError, IndexError, TypeError) as e:
        raise RequestError(f"unexpected response (no choices[0].message.content): {str(response)[:300]}") from e
    answers = [m["content"] for m in record["messages"] if m.get("role") == "assistant"]
    return {
        "id": record["id"],
        "dataset": record.get("dataset"),
        "task": record.get("task"),
        "predict": text,
        "label": answers[-1],
        "finish_reason": choice.get("finish_reason"),
    }


def iter_records(path: Path) -> Iterator[dict[str, Any]]:
    """Stream the records of a JSONL file (blank lines skipped)."""
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise RecordValidationError(f"{path}:{lineno}: not valid JSON: {e}") from e
            if not isinstance(record, dict) or "id" not in record:
                raise RecordValidationError(f"{path}:{lineno}: a record must be a JSON object with an id")
            yield record


def _load_done(output: Path) -> set[str]:
    """Ids already answered in ``output``; drops a line cut short by a crash (rewriting the file without it)."""
    if not output.is_file():
        return set()
    good: list[str] = []
    done: set[str] = set()
    for line in output.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and "id" in row and row["id"] not in done:
            done.add(row["id"])
            good.append(line)
    _atomic_write(output, good)
    return done


def _atomic_write(path: Path, lines: list[str]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
        f.writelines(line + "\n" for line in lines)
    os.replace(tmp, path)


def _reorder(input_path: Path, output: Path) -> None:
    by_id = {json.loads(line)["id"]: line for line in output.read_text(encoding="utf-8").splitlines()}
    ordered = []
    for record in iter_records(input_path):
        line = by_id.pop(record["id"], None)  # pop: an id repeated in the input is written once
        if line is not None:
            ordered.append(line)
    _atomic_write(output, ordered)


def predict(input_path: str | Path, output: str | Path, options: PredictOptions) -> PredictSummary:
    """Answer every record of ``input_path`` not yet in ``output``; append answers to ``output`` as they arrive.

    Args:
        input_path: TS-Instruct JSONL (a converted ``test-NNNNN.jsonl`` or a mixture file).
        output: predictions JSONL (created, or resumed).
        options: endpoint and request options.

    Returns:
        counts; ``failed > 0`` means running again will retry those records.

    Raises:
        RequestError: when the server cannot even be asked which model it serves.
    """
    input_path, output = Path(input_path), Path(output)
    image_root = options.image_root or input_path.parent
    output.parent.mkdir(parents=True, exist_ok=True)
    done = _load_done(output)
    model = resolve_model(options)
    total = skipped = answered = failed = 0
    with output.open("a", encoding="utf-8") as out, ThreadPoolExecutor(options.concurrency) as pool:
        pending: dict[Future[dict[str, Any]], str] = {}

        def drain(block_until: int) -> None:
            nonlocal answered, failed
            while len(pending) > block_until:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    record_id = pending.pop(future)
                    try:
                        row = future.result()
                    except (RequestError, RecordValidationError, InvalidImageError) as e:
                        failed += 1
                        print(f"predict: record {record_id!r} failed: {e}", file=sys.stderr)
                        continue
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
                    out.flush()
                    answered += 1

        for record in iter_records(input_path):
            total += 1
            if record["id"] in done:
                skipped += 1
                continue
            done.add(record["id"])  # a duplicated id in the input is answered once
            pending[pool.submit(predict_one, record, model, options, image_root)] = record["id"]
            drain(2 * options.concurrency)
        drain(0)
    if failed == 0:
        _reorder(input_path, output)
    return PredictSummary(total=total, skipped=skipped, answered=answered, failed=failed)
