"""The ``terrasense`` command line.

Each sub-command lives in its own module under :mod:`ts_instruct.commands` exposing two functions::

    def add_arguments(parser: argparse.ArgumentParser) -> None: ...
    def run(args: argparse.Namespace) -> int: ...   # the exit status

and is listed in :data:`COMMANDS` below (an explicit registry: no import-time discovery). Modules are imported only
when their command runs, so ``terrasense list`` stays fast and does not import torch.

Errors of the :class:`~ts_instruct.errors.TerraSenseError` family (and missing files) end the program with a
one-line cause on stderr and exit status 2; ``--traceback`` shows the full trace for bug reports.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ts_instruct.errors import TerraSenseError

#: name → (module under ts_instruct.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "list": ("list_converters", "list every converter: task family, raw layout expected, licence"),
    "convert": ("convert", "convert one raw dataset into TS-Instruct records"),
    "merge-shards": ("merge_shards", "merge the output of `convert --shard i/n` runs into one dataset"),
    "validate": ("validate", "check every record of converted datasets; non-zero exit on any error"),
    "demo": ("demo", "synthetic raw datasets → convert → validate → mix (→ tiny training), on CPU"),
    "make-fake": ("make_fake", "write a synthetic raw dataset in the real on-disk layout of a converter"),
    "eval": ("eval", "score model answers (LLaMA-Factory predictions) against TS-Instruct test records"),
    "mix": ("mix", "mix converted datasets with weights; write the mixture and LLaMA-Factory's dataset_info.json"),
    "tiny-model": ("tiny_model", "write a tiny random Qwen2-VL / Qwen2.5-VL / Qwen3-VL checkpoint, offline"),
    "predict": ("predict", "send TS-Instruct test records to an OpenAI-style endpoint; write predictions JSONL"),
    "preview": ("preview", "draw records (and a model's answers) into contact sheets and an offline HTML page"),
    "stats": ("stats", "samples, records, token lengths against the training cutoff and class frequencies"),
    "export-hf": ("export_hf", "Hugging Face dataset: Parquet shards with embedded images, a dataset card, upload"),
    "export-geojson": ("export_geojson", "annotations or parsed answers as GeoJSON (WGS 84 where georeferenced)"),
}


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with one sub-parser per registered command."""
    parser = argparse.ArgumentParser(prog="terrasense", description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--traceback", action="store_true", help="show the full traceback on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        _load(module).add_arguments(p)
    return parser


def _load(module: str):  # type: ignore[no-untyped-def]
    return importlib.import_module(f"ts_instruct.commands.{module}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 1 failed checks, 2 usage or input error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    module, _ = COMMANDS[args.command]
    try:
        return int(_load(module).run(args))
    except (TerraSenseError, FileNotFoundError, PermissionError, OSError) as e:
        if args.traceback:
            raise
        print(f"terrasense {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"terrasense {args.command}: interrupted; run the same command again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
