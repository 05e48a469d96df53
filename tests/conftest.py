"""Shared fixtures: synthetic raw datasets from the seeded fake generators; tiny checkpoints, fake converted
datasets, a mixture and subprocess environments for the training, serving and publishing tests."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from data_converters.fakes import make_fake
from tests.fake_records import write_fake_converted
from ts_instruct import cli
from ts_instruct.mix import mix

# No per-example deadline: CI machines are shared and a slow example is not a failure. On CI the examples are
# derandomized (a fixed seed per test), so a red run replays exactly; locally every run explores new examples.
settings.register_profile("terrasense", deadline=None, print_blob=True)
settings.register_profile("ci", parent=settings.get_profile("terrasense"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "terrasense")

GOLDEN_DIR = Path(__file__).parent / "golden"
#: ds_cpu_fix/sitecustomize.py is for training subprocesses only: importing it here would patch this process
collect_ignore = ["ds_cpu_fix"]


@pytest.fixture(scope="session")
def fake_dataset(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., tuple[Path, dict[str, Any]]]:
    """``fake_dataset(name, **kw) -> (root, info)``; each distinct (name, kw) is generated once per session."""
    cache: dict[tuple[str, str], tuple[Path, dict[str, Any]]] = {}

    def build(name: str, **kwargs: Any) -> tuple[Path, dict[str, Any]]:
        key = (name, json.dumps(kwargs, sort_keys=True))
        if key not in cache:
            root = tmp_path_factory.mktemp(f"raw_{name}")
            cache[key] = (root, make_fake(name, root, seed=0, **kwargs))
        return cache[key]

    return build


def read_jsonl(folder: Path, pattern: str = "*.jsonl") -> list[dict[str, Any]]:
    """All records of the shards matching ``pattern`` in ``folder``, in shard order."""
    out = []
    for f in sorted(folder.glob(pattern)):
        out.extend(json.loads(line) for line in f.read_text(encoding="utf-8").splitlines() if line)
    return out


def check_golden(name: str, record: dict[str, Any]) -> None:
    """Compare a record with ``tests/golden/<name>.json``; ``TS_UPDATE_GOLDEN=1`` rewrites the file."""
    path = GOLDEN_DIR / f"{name}.json"
    text = json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if os.environ.get("TS_UPDATE_GOLDEN") == "1" or not path.exists():
        if os.environ.get("CI") and not path.exists():
            raise AssertionError(f"golden file {path} is missing; run the tests locally with TS_UPDATE_GOLDEN=1")
        path.write_text(text, encoding="utf-8")
    assert json.loads(path.read_text(encoding="utf-8")) == record, f"record differs from golden {path.name}"


REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"
#: Test-only sitecustomize fixing a gloo race of deepspeed < 0.19 in ZeRO-3 gathers (see its docstring).
DS_CPU_FIX = Path(__file__).resolve().parent / "ds_cpu_fix"


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run ``terrasense <argv>`` in-process through :func:`ts_instruct.cli.main`; returns (status, stdout, stderr).

    Only the command being run is registered, so commands whose modules live elsewhere do not get imported.
    """

    def run(*argv: str) -> tuple[int, str, str]:
        saved = dict(cli.COMMANDS)
        cli.COMMANDS.clear()
        cli.COMMANDS[argv[0]] = saved[argv[0]]
        try:
            status = cli.main(list(argv))
        finally:
            cli.COMMANDS.clear()
            cli.COMMANDS.update(saved)
        out, err = capsys.readouterr()
        return status, out, err

    return run


@pytest.fixture(scope="session")
def subprocess_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for llamafactory-cli / torchrun / scripts: offline, this checkout first, venv tools on PATH."""
    hf_home = tmp_path_factory.mktemp("hf_home")
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HF_HOME=str(hf_home),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        PYTHONPATH=os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])]),
        TOKENIZERS_PARALLELISM="false",
    )
    return env


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``tiny_model(family)`` → folder of a tiny random checkpoint, built once per session and family."""
    from ts_instruct.tiny_models import build_tiny_model

    built: dict[str, Path] = {}

    def get(family: str) -> Path:
        if family not in built:
            built[family] = build_tiny_model(family, tmp_path_factory.mktemp(f"tiny_{family}")).path
        return built[family]

    return get


@pytest.fixture(scope="session")
def converted_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Converted datasets in the Qwen2.5-VL style: ``fake_det`` (train, val, test) and ``fake_cd`` (train)."""
    root = tmp_path_factory.mktemp("converted")
    write_fake_converted(root, "fake_det", "train", seed=0)
    write_fake_converted(root, "fake_det", "val", seed=1, n_single=2, n_pairs=1)
    write_fake_converted(root, "fake_det", "test", seed=2, n_single=2, n_pairs=1)
    write_fake_converted(root, "fake_cd", "train", seed=3, license="CC-BY-NC-4.0")
    return root


@pytest.fixture(scope="session")
def fake_records_mixture(converted_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A mixture of the hand-made records of ``tests/fake_records.py`` (known licences, prompts, answers)."""
    from ts_instruct.mix import MixEntry, MixtureConfig

    out = tmp_path_factory.mktemp("fake_records_mixture")
    train = (MixEntry("fake_det", "train", 2.0), MixEntry("fake_cd", "train", 1.0))
    mix(MixtureConfig("terrasense_mix", converted_root, out, 0, "qwen25vl", train, (MixEntry("fake_det", "val"),)))
    return out


@pytest.fixture(scope="session")
def mixture_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Training data produced by our converters from fake raw data, mixed with ``terrasense mix``.

    Named like the shipped training configs expect (``terrasense_mix`` + ``terrasense_mix_eval``); the same path as
    ``terrasense demo`` (detection tiles, scene classification, a before/after pair set, grounding, polygons, VQA).
    """
    from ts_instruct.demo import TRAINING_DATASETS, convert_fakes, demo_mixture

    work = tmp_path_factory.mktemp("mixture_from_converters")
    reports = convert_fakes(work / "raw", work / "converted", TRAINING_DATASETS, style="qwen25vl")
    mix(demo_mixture(work / "converted", work / "mixture", reports, style="qwen25vl"))
    yield work / "mixture"
