"""``terrasense list``: every registered converter with its family, expected layout and licence."""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--json``."""
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def run(args: argparse.Namespace) -> int:
    """Print the catalogue."""
    from data_converters import list_converters

    rows = [c.describe() for c in list_converters()]
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    for r in rows:
        print(f"{r['name']:<16} {r['family']:<15} {r['title']}")
        print(f"{'':<16} layout:  {r['layout']}")
        print(f"{'':<16} splits:  {', '.join(r['splits'])}   versions: {', '.join(r['versions'])}")
        print(f"{'':<16} licence: {r['license']}")
    return 0
