"""``terrasense eval --pred PRED --ref REF [--out report.json]``: score model answers against TS-Instruct records."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of the eval command."""
    parser.add_argument(
        "--pred",
        type=Path,
        required=True,
        help="LLaMA-Factory's generated_predictions.jsonl (paired by position) or {id, predict} lines",
    )
    parser.add_argument(
        "--ref", type=Path, nargs="+", required=True, help="TS-Instruct test .jsonl file(s) or dataset folder(s)"
    )
    parser.add_argument("--out", type=Path, help="write the full report as JSON here")
    parser.add_argument(
        "--dataset-dir", type=Path, help="folder for relative image/mask paths (default: each reference file's folder)"
    )
    parser.add_argument(
        "--hbb-iou",
        choices=["dota", "continuous"],
        default="dota",
        help="horizontal-box IoU in detection: DOTA's +1-pixel widths (default, official numbers) or x2 - x1",
    )
    parser.add_argument(
        "--tie-order",
        choices=["dota", "stable"],
        default="dota",
        help="ranking of equal detection scores: as DOTA's np.argsort (default) or stable input order",
    )


def run(args: argparse.Namespace) -> int:
    """Print the table and write the JSON report; 0 on success."""
    from ts_instruct.eval.report import format_table, write_report
    from ts_instruct.eval.runner import EvalOptions, evaluate

    report = evaluate(
        args.pred,
        args.ref,
        dataset_dir=args.dataset_dir,
        options=EvalOptions(hbb_iou=args.hbb_iou, tie_order=args.tie_order),
    )
    print(format_table(report))
    if args.out:
        write_report(args.out, report)
        print(f"report written to {args.out}")
    return 0
