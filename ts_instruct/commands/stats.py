"""``terrasense stats PATH``: samples, records, token lengths against the training cutoff, class frequencies."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of the stats command."""
    from ts_instruct.stats import DEFAULT_CUTOFF_LEN

    parser.add_argument("path", type=Path, help="a .jsonl file, a converted dataset folder, or a folder of them")
    parser.add_argument("--tokenizer", help="tokenizer of the model to train (folder or Hub name); default: estimate")
    parser.add_argument(
        "--cutoff-len",
        type=int,
        default=DEFAULT_CUTOFF_LEN,
        help=f"LLaMA-Factory cutoff_len (default {DEFAULT_CUTOFF_LEN})",
    )
    parser.add_argument("--task", action="append", help="only this task (repeat for several)")
    parser.add_argument("--dataset", action="append", help="only this dataset (repeat for several)")
    parser.add_argument("--split", action="append", help="only this split (repeat for several)")
    parser.add_argument("--top-classes", type=int, default=10, help="classes listed per dataset (default 10)")
    parser.add_argument("--out", type=Path, help="also write stats.json and PNG plots into this folder")


def run(args: argparse.Namespace) -> int:
    """Print the tables (and write the plots)."""
    from ts_instruct.recordset import iter_records
    from ts_instruct.stats import collect, format_tables, write_plots

    refs = iter_records(args.path, tasks=args.task, datasets=args.dataset, splits=args.split)
    stats = collect(refs, tokenizer=args.tokenizer, cutoff_len=args.cutoff_len)
    if not stats.records:
        print(f"no record matched under {args.path}")
        return 1
    print(format_tables(stats, top_classes=args.top_classes), end="")
    if args.out:
        paths = write_plots(stats, args.out)
        print(f"\nwrote {args.out / 'stats.json'} and {', '.join(p.name for p in paths)}")
    return 0
