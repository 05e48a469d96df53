"""``terrasense merge-shards DIR``: turn the output of ``convert --shard i/n`` runs into one dataset."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of the merge-shards command."""
    parser.add_argument("dataset_dir", type=Path, help="the dataset folder holding every shard's output (OUT/<name>)")


def run(args: argparse.Namespace) -> int:
    """Merge and print the summary."""
    from ts_instruct.commands.convert import format_summary
    from ts_instruct.shards import merge_shards

    print(format_summary(merge_shards(args.dataset_dir)))
    return 0
