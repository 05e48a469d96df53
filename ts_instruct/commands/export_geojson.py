"""``terrasense export-geojson PATH --out DIR``: annotations or parsed predictions as GeoJSON FeatureCollections."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of the export-geojson command."""
    parser.add_argument("path", type=Path, help="a .jsonl file, a converted dataset folder, or a folder of them")
    parser.add_argument("--out", type=Path, required=True, help="output folder (<dataset>/<split>[.pixel].geojson)")
    parser.add_argument("--pred", type=Path, help="export these predictions ({id, predict} or generated_predictions)")
    parser.add_argument("--task", action="append", help="only this task (repeat for several)")
    parser.add_argument("--dataset", action="append", help="only this dataset (repeat for several)")
    parser.add_argument("--split", action="append", help="only this split (repeat for several)")


def run(args: argparse.Namespace) -> int:
    """Write the collections and print how many features each holds."""
    from ts_instruct.geojson import write_geojson
    from ts_instruct.recordset import Predictions, iter_records

    predictions = Predictions(args.pred) if args.pred else None
    refs = iter_records(args.path, tasks=args.task, datasets=args.dataset, splits=args.split, predictions=predictions)
    summary = write_geojson(refs, args.out, predictions=predictions is not None)
    for name, n in sorted(summary.features.items()):
        print(f"{n:>8} features  {args.out / name}")
    for reason, n in sorted(summary.skipped.items()):
        if n:
            print(f"{n:>8} skipped   {reason}")
    if not summary.features:
        print(f"no geometry to export under {args.path}")
        return 1
    return 0
