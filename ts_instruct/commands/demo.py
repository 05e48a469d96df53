"""``terrasense demo``: the whole path on synthetic data, on CPU, in one command.

Steps: a synthetic raw dataset in the real on-disk layout for every converter → convert each (all splits) → validate
every record → mix (the shipped ``configs/terrasense_lora.yaml`` must accept the mixture's render style) → build a
tiny random Qwen2.5-VL → LoRA-train it a few steps with the shipped config → merge it with the shipped export config
→ answer one before/after pair with ``scripts/inference_demo.py`` and parse the answer back. Prints where
everything is.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of the demo command."""
    parser.add_argument("--workdir", type=Path, default=Path("runs/demo"), help="where everything is written")
    parser.add_argument("--style", default="qwen25vl", help="render style of the records")
    parser.add_argument("--only", default=None, help="comma-separated converter names (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3, help="training steps of the tiny model")
    parser.add_argument("--no-train", action="store_true", help="stop after mixing")
    parser.add_argument("--keep", action="store_true", help="keep an existing workdir instead of starting afresh")


def run(args: argparse.Namespace) -> int:
    """Run the demo; exit 1 when validation finds any issue."""
    from data_converters.fakes import FAKES
    from ts_instruct.commands.convert import format_summary
    from ts_instruct.demo import convert_fakes, demo_mixture, infer_pair, train_tiny
    from ts_instruct.lf_config import load_lf_yaml
    from ts_instruct.mix import mix
    from ts_instruct.render import get_style, style_from_meta
    from ts_instruct.validate import validate_path

    work: Path = args.workdir.resolve()  # training runs in subprocesses with their own working directory
    if work.exists() and not args.keep:
        shutil.rmtree(work)
    raw, converted, mixture = work / "raw", work / "converted", work / "mixture"
    names = args.only.split(",") if args.only else sorted(FAKES)
    t0 = time.perf_counter()
    reports = convert_fakes(raw, converted, names, style=args.style, seed=args.seed, workers=args.workers)
    for report in reports.values():
        print(format_summary(report))
    summary, issues = validate_path(converted)
    for issue in issues:
        print(issue)
    print(f"\nvalidate: {summary.records} records in {summary.files} files, {summary.issues_total} issues")
    if not summary.ok:
        return 1
    config = demo_mixture(converted, mixture, reports, style=args.style, seed=args.seed)
    train_config = None
    if args.style == "qwen25vl":  # the shipped configs train Qwen2.5-VL; other styles mix without the config check
        from ts_instruct.demo import REPO

        train_config = load_lf_yaml(REPO / "configs" / "terrasense_lora.yaml")
    mixed = mix(config, train_config=train_config, train_config_source="configs/terrasense_lora.yaml")
    counts = {part: sum(c.records_out for c in entries) for part, entries in mixed.parts.items()}
    print(f"mix: {counts} records → {mixture / 'dataset_info.json'}")
    if mixed.leakage.get("summary"):
        print("  " + mixed.leakage["summary"].replace("\n", "\n  "))
    print(f"\nraw datasets (real layouts):  {raw}\nconverted records:            {converted}\nmixture:   {mixture}")
    if args.no_train or args.style != "qwen25vl":
        print(f"done in {time.perf_counter() - t0:.1f} s (no training)")
        return 0
    trained = train_tiny(work / "train", mixture, steps=args.steps)
    print(f"\ntiny Qwen2.5-VL:              {trained.base}")
    print(f"LoRA adapter ({args.steps} steps, loss {trained.train_loss:.3f}): {trained.adapter}")
    print(f"merged checkpoint:            {trained.merged}")
    pair = sorted((converted / reports["levir_cd"]["dataset_dir"] / "images" / "test").glob("*_A.*"))[0]
    answer = infer_pair(trained.merged, pair, pair.with_name(pair.name.replace("_A.", "_B.")), work / "train")
    style = style_from_meta(mixed.render) if mixed.render else get_style("qwen25vl")
    parsed = style.parse(answer, style.frame(*_size(pair)))
    print(f"inference on {pair.name} + its B image: {answer[:120]!r}")
    print(f"  parsed back: {len(parsed.items)} geometries, {len(parsed.errors)} unreadable fragments (a random model)")
    print(f"done in {time.perf_counter() - t0:.1f} s")
    return 0


def _size(path: Path) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as im:
        width, height = im.size
    return int(width), int(height)
