"""``terrasense validate PATH``: check every record; exit 1 on any issue."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of the validate command."""
    parser.add_argument("path", type=Path, help="a .jsonl file, a converted dataset folder, or a folder of them")
    parser.add_argument("--max-issues", type=int, default=50, help="issues listed (all are counted)")
    parser.add_argument("--no-images", action="store_true", help="skip opening images")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def run(args: argparse.Namespace) -> int:
    """Print issues then a summary line."""
    from ts_instruct.validate import summary_json, validate_path

    summary, issues = validate_path(args.path, max_issues=args.max_issues, check_images=not args.no_images)
    if args.json:
        print(summary_json(summary, issues))
    else:
        for issue in issues:
            print(issue)
        state = "OK" if summary.ok else "FAILED"
        print(
            f"{state}: {summary.records} records in {summary.files} files, "
            f"{summary.bad_records} with issues ({summary.issues_total} issues)"
        )
    if summary.files == 0:
        print(f"no .jsonl files under {args.path}")
        return 1
    return 0 if summary.ok else 1
