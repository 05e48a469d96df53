"""``terrasense preview PATH``: draw records (and a model's answers) into contact sheets and an offline HTML page."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of the preview command."""
    parser.add_argument("path", type=Path, help="a .jsonl file, a converted dataset folder, or a folder of them")
    parser.add_argument("--n", type=int, default=24, help="records to draw (default 24)")
    parser.add_argument("--task", action="append", help="only this task (repeat for several)")
    parser.add_argument("--dataset", action="append", help="only this dataset (repeat for several)")
    parser.add_argument("--split", action="append", help="only this split (repeat for several)")
    parser.add_argument("--pred", type=Path, help="predictions JSONL ({id, predict} lines or generated_predictions)")
    parser.add_argument("--seed", type=int, help="draw a random sample of --n records with this seed (default: first)")
    parser.add_argument("--per-task", type=int, help="at most this many records of each (dataset, task)")
    parser.add_argument("--cell", type=int, default=256, help="each image is scaled to fit this square, in pixels")
    parser.add_argument("--columns", type=int, default=4, help="panels per row on a contact sheet")
    parser.add_argument("--rows", type=int, default=3, help="rows per contact sheet")
    parser.add_argument("--out", type=Path, default=Path("preview"), help="output folder (default ./preview)")


def run(args: argparse.Namespace) -> int:
    """Write the preview and print where it is."""
    from ts_instruct.preview import PreviewOptions, write_preview
    from ts_instruct.recordset import Predictions, iter_records

    options = PreviewOptions(
        n=args.n, seed=args.seed, cell=args.cell, columns=args.columns, rows=args.rows, per_task=args.per_task
    )
    predictions = Predictions(args.pred) if args.pred else None
    refs = iter_records(args.path, tasks=args.task, datasets=args.dataset, splits=args.split, predictions=predictions)
    counts = write_preview(refs, args.out, options)
    if counts["records"] == 0:
        print(f"no record matched under {args.path}")
        return 1
    print(
        f"{counts['records']} records drawn ({counts['shapes_annotation']} annotation shapes, "
        f"{counts['shapes_prediction']} predicted shapes, {counts['problems']} answers with parse problems) "
        f"in {counts['sheets']} contact sheet(s)"
    )
    print(f"open {args.out / 'index.html'}")
    return 0
