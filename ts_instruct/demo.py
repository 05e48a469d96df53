"""The end-to-end path on synthetic data, as functions (``terrasense demo`` and the training tests use them).

Steps: synthetic raw datasets in their real layouts → :func:`convert_fakes` → validate → :func:`demo_mixture` +
``terrasense mix`` → :func:`train_tiny` (a tiny random Qwen2.5-VL, LoRA with the shipped ``configs/`` for a few
steps, merged with the shipped export config) → :func:`infer_pair` (the inference demo on one before/after pair).
Training and export run ``llamafactory-cli`` in a subprocess, offline, exactly as a user would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ts_instruct.errors import ConfigError, TerraSenseError

#: repository root (configs/ and scripts/ live there; the demo runs from a checkout)
REPO = Path(__file__).resolve().parents[1]

#: datasets whose train splits feed the demo training run: one per task family, a pair set among them
TRAINING_DATASETS = ("nwpu_resisc45", "dota", "levir_cd", "rsvg", "whu_building", "rsvqa_lr")
#: the first of these with a ``val`` split gives the mixture's eval part (the shipped config names one)
EVAL_DATASETS = ("levir_cd", "dota", "nwpu_resisc45")


def convert_fakes(
    raw: Path, converted: Path, names: Iterable[str], *, style: str = "qwen25vl", seed: int = 0, workers: int = 1
) -> dict[str, dict[str, Any]]:
    """Write each converter's fake raw dataset under ``raw/<name>`` (once) and convert every split of it.

    Returns:
        converter name → the conversion report (``report["dataset_dir"]`` is the folder under ``converted``).
    """
    from data_converters import get_converter
    from data_converters.fakes import make_fake
    from ts_instruct.pipeline import ConvertOptions, convert_dataset, dataset_dir_name

    reports = {}
    for name in names:
        root = raw / name
        if not root.exists():
            make_fake(name, root, seed=seed)
        converter = get_converter(name)(root)
        report = convert_dataset(
            converter, ConvertOptions(out=converted, style=style, seed=seed, workers=workers, progress=False)
        )
        report["dataset_dir"] = dataset_dir_name(converter)
        reports[name] = report
    return reports


def demo_mixture(converted: Path, out: Path, reports: dict[str, dict[str, Any]], *, style: str, seed: int = 0) -> Any:
    """The mixture of the demo and of the training tests.

    The train split of every :data:`TRAINING_DATASETS` member converted, weight 1, plus one ``val`` split as
    ``terrasense_mix_eval`` (the dataset names the shipped training configs use).
    """
    from ts_instruct.mix import MixEntry, MixtureConfig

    train = tuple(
        MixEntry(reports[n]["dataset_dir"], "train", 1.0)
        for n in TRAINING_DATASETS
        if n in reports and reports[n]["splits"].get("train", {}).get("records")
    )
    evals = [n for n in EVAL_DATASETS if n in reports and reports[n]["splits"].get("val", {}).get("records")]
    if not train:
        raise ConfigError(f"none of {TRAINING_DATASETS} was converted with train records; nothing to mix")
    return MixtureConfig(
        name="terrasense_mix",
        converted_root=converted,
        output_dir=out,
        seed=seed,
        style=style,
        train=train,
        eval=tuple(MixEntry(reports[n]["dataset_dir"], "val", 1.0) for n in evals[:1]),
    )


def offline_env() -> dict[str, str]:
    """Environment for ``llamafactory-cli`` and the scripts: offline, this interpreter's tools first on PATH."""
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    return env


def _run(cmd: list[str], log: Path, cwd: Path) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=offline_env(), capture_output=True, text=True, check=False)
    log.write_text(proc.stdout + proc.stderr, encoding="utf-8")
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-5:]
        raise TerraSenseError(f"{' '.join(cmd[:3])} failed (exit {proc.returncode}); see {log}: {' | '.join(tail)}")
    return proc.stdout


@dataclass
class TrainedTiny:
    """Where the demo training put things."""

    base: Path
    adapter: Path
    merged: Path
    train_loss: float


def train_tiny(work: Path, mixture_dir: Path, *, steps: int = 3) -> TrainedTiny:
    """LoRA-train a tiny random Qwen2.5-VL with the shipped configs and merge it.

    ``configs/terrasense_lora.yaml`` trains, ``configs/export_merge.yaml`` merges; only model, data, output, step
    count and precision are overridden.

    Raises:
        ConfigError: the configs are not there (the demo must run from a source checkout).
        TerraSenseError: a ``llamafactory-cli`` step failed (its log is named).
    """
    import json

    from ts_instruct.tiny_models import build_tiny_model

    work, mixture_dir = work.resolve(), mixture_dir.resolve()  # the subprocesses run in `work`
    configs = REPO / "configs"
    if not (configs / "terrasense_lora.yaml").is_file():
        raise ConfigError(f"{configs} not found: run the demo from a TerraSense checkout (make demo)")
    base = build_tiny_model("qwen25vl", work / "tiny-qwen25vl").path
    adapter, merged = work / "lora", work / "merged"
    _run(
        [
            "llamafactory-cli", "train", str(configs / "terrasense_lora.yaml"),
            f"model_name_or_path={base}", f"dataset_dir={mixture_dir}", f"output_dir={adapter}",
            f"max_steps={steps}", "bf16=false", "deepspeed=null",
        ],
        work / "train.log",
        work,
    )  # fmt: skip
    _run(
        [
            "llamafactory-cli", "export", str(configs / "export_merge.yaml"),
            f"model_name_or_path={base}", f"adapter_name_or_path={adapter}", f"export_dir={merged}",
        ],
        work / "export.log",
        work,
    )  # fmt: skip
    loss = float(json.loads((adapter / "all_results.json").read_text(encoding="utf-8"))["train_loss"])
    return TrainedTiny(base=base, adapter=adapter, merged=merged, train_loss=loss)


def infer_pair(model: Path, before: Path, after: Path, work: Path) -> str:
    """Run ``scripts/inference_demo.py`` on a before/after pair; returns the model's answer text."""
    model, before, after, work = model.resolve(), before.resolve(), after.resolve(), work.resolve()
    prompt = "The first image was taken before the second one. Where did changes occur? Give bounding boxes."
    return _run(
        [
            sys.executable, str(REPO / "scripts" / "inference_demo.py"), "--model", str(model),
            "--image", str(before), "--image2", str(after), "--prompt", prompt, "--max-new-tokens", "24",
        ],
        work / "inference.log",
        work,
    ).strip()  # fmt: skip
