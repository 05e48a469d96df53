"""``terrasense make-fake NAME --root DIR``: a synthetic raw dataset in the converter's real layout."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of the make-fake command."""
    parser.add_argument("name", help="converter name, or 'all'")
    parser.add_argument("--root", required=True, type=Path, help="folder to write into (NAME/ below it for 'all')")
    parser.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    """Write the fake(s) and print what a correct conversion must find."""
    from data_converters.fakes import FAKES, make_fake

    names = sorted(FAKES) if args.name == "all" else [args.name]
    for name in names:
        root = args.root / name if args.name == "all" else args.root
        info = make_fake(name, root, seed=args.seed)
        print(json.dumps({"name": name, "root": str(root), **info}, ensure_ascii=False))
    return 0
