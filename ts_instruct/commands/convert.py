"""``terrasense convert NAME --root RAW --out OUT``: one raw dataset to TS-Instruct records."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ts_instruct.errors import ConfigError


def _kv(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"options must look like key=value, got {text!r}")
    k, v = text.split("=", 1)
    try:
        return k, json.loads(v)
    except json.JSONDecodeError:
        return k, v


def _shard(text: str) -> tuple[int, int]:
    try:
        i, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shard must look like I/N (e.g. 0/4), got {text!r}") from None
    return i, n


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of the convert command."""
    parser.add_argument("name", help="converter name (see `terrasense list`)")
    parser.add_argument("--root", required=True, type=Path, help="folder the raw dataset was extracted into")
    parser.add_argument("--out", required=True, type=Path, help="output root; the dataset goes to OUT/<name>")
    parser.add_argument("--split", action="append", dest="splits", help="split to convert (repeatable; default all)")
    parser.add_argument("--version", default=None, help="dataset version, for datasets that have several")
    parser.add_argument("--style", default="qwen25vl", help="render style: qwen2vl | qwen25vl | qwen3vl")
    parser.add_argument("--image-max-pixels", type=int, default=None, help="LLaMA-Factory image_max_pixels (int)")
    parser.add_argument("--image-min-pixels", type=int, default=None, help="LLaMA-Factory image_min_pixels (int)")
    parser.add_argument(
        "--resize-images",
        action="store_true",
        help="store images at the model-input size of the style (recommended for qwen25vl serving)",
    )
    parser.add_argument("--tasks", default=None, help="comma-separated task names (default: the converter's)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (output is identical for any N)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random choice")
    parser.add_argument("--limit", type=int, default=None, help="at most N samples per split")
    parser.add_argument("--strict", action="store_true", help="fail on the first skipped sample or dropped line")
    parser.add_argument(
        "--image-mode",
        choices=["copy", "hardlink", "reencode"],
        default="copy",
        help="how JPEG/PNG sources are emitted (others are always re-encoded to PNG)",
    )
    parser.add_argument("--tile-format", choices=["png", "jpg"], default="png", help="format of tiles and re-encodes")
    parser.add_argument("--shard-size", type=int, default=10_000, help="records per JSONL shard")
    parser.add_argument("--max-objects", type=int, default=100, help="most objects listed in one answer")
    parser.add_argument("--overwrite", action="store_true", help="replace output of a run with other options")
    parser.add_argument(
        "--option",
        "-o",
        action="append",
        type=_kv,
        default=[],
        metavar="KEY=VALUE",
        help="converter-specific option (repeatable), e.g. -o patch_size=1024",
    )
    parser.add_argument(
        "--shard",
        type=_shard,
        default=None,
        metavar="I/N",
        help="convert only block I of N (0-based) of each split; merge with `terrasense merge-shards`",
    )
    parser.add_argument(
        "--no-fingerprints",
        action="store_true",
        help="do not hash emitted images (terrasense mix then hashes them itself, without source-scene identity)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Convert and print a one-paragraph summary; exit 0 even with skips (they are in report.json)."""
    from data_converters import get_converter
    from ts_instruct.pipeline import ConvertOptions, convert_dataset
    from ts_instruct.tasks import TaskOptions

    if args.workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {args.workers}")
    style_options = {}
    if args.image_max_pixels is not None:
        style_options["image_max_pixels"] = args.image_max_pixels
    if args.image_min_pixels is not None:
        style_options["image_min_pixels"] = args.image_min_pixels
    converter = get_converter(args.name)(args.root, version=args.version, **dict(args.option))
    opts = ConvertOptions(
        out=args.out,
        splits=args.splits,
        style=args.style,
        style_options=style_options,
        tasks=args.tasks.split(",") if args.tasks else None,
        task_options=TaskOptions(max_objects=args.max_objects),
        workers=args.workers,
        seed=args.seed,
        limit=args.limit,
        strict=args.strict,
        image_mode=args.image_mode,
        tile_format=args.tile_format,
        resize_images=args.resize_images,
        shard_size=args.shard_size,
        overwrite=args.overwrite,
        shard=args.shard,
        fingerprints=not args.no_fingerprints,
        progress=not args.no_progress and sys.stderr.isatty(),
    )
    report = convert_dataset(converter, opts)
    print(format_summary(report))
    return 0


def format_summary(report: dict[str, Any]) -> str:
    """A few lines: samples, records and skips per split."""
    lines = [f"{report['dataset']} ({report['version']}), style {report['style']['style']}:"]
    for split, s in report["splits"].items():
        lines.append(
            f"  {split:<8} {s['samples']:>7} samples  {s['records']:>7} records  "
            f"{s['skipped']:>4} skipped  {s['dropped_parts']:>4} lines dropped"
        )
        for reason, n in list(s["skip_reasons"].items())[:5]:
            lines.append(f"           {n} x {reason}")
    return "\n".join(lines)
