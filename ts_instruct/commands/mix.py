"""``terrasense mix``: weighted, deterministic mixture of converted datasets + LLaMA-Factory's dataset_info.json."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from ts_instruct.errors import ConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the mixture config, the optional training config and path overrides."""
    parser.add_argument("config", help="mixture config YAML (configs/mixture.yaml)")
    parser.add_argument(
        "--train-config",
        help="LLaMA-Factory training YAML the records' render style must match (template, model family, "
        "image_max_pixels/image_min_pixels); e.g. configs/terrasense_sft.yaml",
    )
    parser.add_argument("--converted-root", help="override the config's converted_root")
    parser.add_argument("--output-dir", help="override the config's output_dir (the training config's dataset_dir)")
    parser.add_argument(
        "--holdout",
        action="append",
        default=[],
        metavar="NAME:SPLIT",
        help="a converted split kept out of training without being written (repeatable; adds to the config's "
        "holdout list), e.g. --holdout rsvg:test",
    )
    parser.add_argument(
        "--allow-leakage",
        action="store_true",
        help="keep training records whose images match evaluation or held-out images (still reported)",
    )
    parser.add_argument(
        "--collapse-duplicates",
        action="store_true",
        help="drop training records whose images repeat earlier training images (reported either way)",
    )


def run(args: argparse.Namespace) -> int:
    """Write the mixture and print one summary line per part."""
    from ts_instruct.leakage import LeakageOptions, parse_holdout
    from ts_instruct.lf_config import load_lf_yaml
    from ts_instruct.mix import MixEntry, MixtureConfig, mix

    config = MixtureConfig.from_yaml(args.config)
    if args.converted_root:
        config = dataclasses.replace(config, converted_root=Path(args.converted_root))
    if args.output_dir:
        config = dataclasses.replace(config, output_dir=Path(args.output_dir))
    if args.holdout:
        extra = []
        for text in args.holdout:
            try:
                extra.append(MixEntry(*parse_holdout(text)))
            except ValueError as e:
                raise ConfigError(f"--holdout: {e}") from None
        config = dataclasses.replace(config, holdout=(*config.holdout, *extra))
    train_config = load_lf_yaml(args.train_config) if args.train_config else None
    leakage = LeakageOptions(allow=args.allow_leakage, collapse_duplicates=args.collapse_duplicates)
    report = mix(config, train_config=train_config, train_config_source=args.train_config or "", leakage=leakage)
    for part, entries in report.parts.items():
        total = sum(e.records_out for e in entries)
        print(f"{part}: {total} records from {len(entries)} splits → {config.output_dir / report.files[part]}")
    print(report.leakage["summary"])
    print(f"dataset_info.json, mix_report.json and leakage_report.json written to {config.output_dir}")
    return 0
