"""``terrasense predict``: answers from an OpenAI-style endpoint for every record of a TS-Instruct JSONL."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the endpoint, input/output files and request options."""
    parser.add_argument("--endpoint", required=True, help="base URL, e.g. http://127.0.0.1:8000/v1")
    parser.add_argument("--input", required=True, help="TS-Instruct JSONL (e.g. data/converted/dior/test-00000.jsonl)")
    parser.add_argument("--out", required=True, help="predictions JSONL, keyed by record id (resumed if it exists)")
    parser.add_argument("--model", help="model name to request (default: the first model the server lists)")
    parser.add_argument("--api-key", default=os.environ.get("OPENAI_API_KEY"), help="default: $OPENAI_API_KEY")
    parser.add_argument("--image-root", help="folder image paths are relative to (default: the input file's folder)")
    parser.add_argument(
        "--image-max-pixels",
        type=int,
        help="scale images client-side as LLaMA-Factory did in training (the training config's image_max_pixels); "
        "needed with a plain vllm serve for Qwen2.5-VL pixel boxes",
    )
    parser.add_argument("--image-min-pixels", type=int, default=1024, help="with --image-max-pixels (default 1024)")
    parser.add_argument("--max-tokens", type=int, help="generation limit per answer (default: the server's)")
    parser.add_argument("--temperature", type=float, default=0.0, help="default 0 (greedy)")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight (default 4)")
    parser.add_argument("--retries", type=int, default=5, help="retries per request on 408/429/5xx/network errors")
    parser.add_argument("--backoff", type=float, default=1.0, help="seconds before the first retry, then doubled")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per request (default 600)")


def run(args: argparse.Namespace) -> int:
    """Predict; exit 1 when some records failed (run again to retry only those)."""
    from ts_instruct.predict import PredictOptions, RequestError, predict

    options = PredictOptions(
        endpoint=args.endpoint,
        model=args.model,
        api_key=args.api_key,
        max_tokens=args.max_tokens,
        temperature=args.temperature,
        concurrency=args.concurrency,
        retries=args.retries,
        backoff=args.backoff,
        timeout=args.timeout,
        image_root=Path(args.image_root) if args.image_root else None,
        image_max_pixels=args.image_max_pixels,
        image_min_pixels=args.image_min_pixels,
    )
    try:
        summary = predict(args.input, args.out, options)
    except RequestError as e:
        print(f"terrasense predict: error: {options.endpoint}: {e}", file=sys.stderr)
        return 2
    print(
        f"{summary.answered} answered, {summary.skipped} already in {args.out}, {summary.failed} failed "
        f"(of {summary.total} records)"
    )
    if summary.failed:
        print(
            f"terrasense predict: {summary.failed} records failed; run the same command again to retry them",
            file=sys.stderr,
        )
        return 1
    return 0
