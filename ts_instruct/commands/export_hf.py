"""``terrasense export-hf PATH --out DIR``: Parquet shards with embedded images and a dataset card; optional upload."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of the export-hf command."""
    parser.add_argument("path", type=Path, help="a .jsonl file, a converted dataset folder, or a folder of them")
    parser.add_argument("--out", type=Path, required=True, help="export folder (data/*.parquet and README.md)")
    parser.add_argument("--task", action="append", help="only this task (repeat for several)")
    parser.add_argument("--dataset", action="append", help="only this dataset (repeat for several)")
    parser.add_argument("--split", action="append", help="only this split (repeat for several)")
    parser.add_argument("--name", default="TerraSense TS-Instruct", help="dataset name shown in the card")
    parser.add_argument("--max-shard-mb", type=float, default=500.0, help="close a Parquet shard at this size")
    parser.add_argument("--row-group", type=int, default=100, help="records per Parquet row group")
    parser.add_argument("--push-to", metavar="OWNER/NAME", help="then upload the export to this Hub dataset repo")
    parser.add_argument("--private", action="store_true", help="create the Hub repo private")
    parser.add_argument("--token", help="Hub token (default: HF_TOKEN or the saved login)")
    parser.add_argument(
        "--dry-run", action="store_true", help="with --push-to: list what would be uploaded, send nothing"
    )
    parser.add_argument("--no-export", action="store_true", help="with --push-to: upload an existing export in --out")


def run(args: argparse.Namespace) -> int:
    """Export, print the summary, and upload when asked."""
    from ts_instruct.errors import ConfigError
    from ts_instruct.export_hf import HFExportOptions, export_hf, push_to_hub
    from ts_instruct.recordset import iter_records

    if (args.dry_run or args.no_export) and not args.push_to:
        raise ConfigError("--dry-run and --no-export go with --push-to OWNER/NAME")
    if not args.no_export:
        options = HFExportOptions(max_shard_mb=args.max_shard_mb, row_group=args.row_group, name=args.name)
        refs = iter_records(args.path, tasks=args.task, datasets=args.dataset, splits=args.split)
        summary = export_hf(refs, args.out, options)
        for split in summary.splits:
            n = sum(v for (s, _), v in summary.records.items() if s == split)
            size = summary.bytes[split] / 1e6
            print(f"{split:<10} {n:>8} records  {len(summary.shards[split])} shard(s)  {size:.1f} MB")
        print(f"wrote {args.out / 'README.md'}; load it with datasets.load_dataset({str(args.out)!r})")
    if args.push_to:
        plan = push_to_hub(args.out, args.push_to, private=args.private, token=args.token, dry_run=args.dry_run)
        verb = "would upload" if args.dry_run else "uploaded"
        for name, size in plan:
            print(f"  {name}  {size / 1e6:.2f} MB")
        print(
            f"{verb} {len(plan)} files ({sum(s for _, s in plan) / 1e6:.1f} MB) to https://huggingface.co/datasets/{args.push_to}"
        )
    return 0
