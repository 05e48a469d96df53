"""``terrasense tiny-model``: write a tiny random Qwen-VL checkpoint (offline, seeded) for smoke tests and demos."""

from __future__ import annotations

import argparse

from ts_instruct.tiny_models import FAMILIES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``--family``, ``--out`` and ``--seed``."""
    parser.add_argument("--family", choices=FAMILIES, required=True, help="model family to imitate")
    parser.add_argument("--out", required=True, help="destination folder (created)")
    parser.add_argument("--seed", type=int, default=0, help="weight seed; same seed → byte-identical files")


def run(args: argparse.Namespace) -> int:
    """Build the checkpoint and print where it went and which LLaMA-Factory template to use."""
    from ts_instruct.tiny_models import build_tiny_model

    info = build_tiny_model(args.family, args.out, seed=args.seed)
    print(f"{info.path}\tmodel_type={info.model_type}\ttemplate={info.template}\tparameters={info.num_parameters}")
    return 0
