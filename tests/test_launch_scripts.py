"""scripts/train.sh and scripts/serve_vllm.sh pass the right flags and environment (with stand-in executables).

The real launches run elsewhere: ``test_train_tiny.py`` trains through ``train.sh`` with 2 processes; vLLM needs a
GPU, so here a stand-in ``vllm`` records the exact command line ``serve_vllm.sh`` would run.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SFT = str(REPO / "configs" / "terrasense_sft.yaml")

_RECORDER = """#!/usr/bin/env python3
import json, os, sys
keys = ["FORCE_TORCHRUN", "NNODES", "NODE_RANK", "NPROC_PER_NODE", "MASTER_ADDR", "MASTER_PORT"]
with open(os.environ["RECORD_TO"], "w") as f:
    json.dump({"argv": sys.argv[1:], "env": {k: os.environ.get(k) for k in keys}}, f)
"""


def _recorder(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(_RECORDER)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _run(script: str, args: list[str], env: dict[str, str], tmp_path: Path) -> tuple[int, str, dict[str, Any] | None]:
    record = tmp_path / "record.json"
    record.unlink(missing_ok=True)
    full_env = {"PATH": os.environ["PATH"], "RECORD_TO": str(record), **env}
    proc = subprocess.run(
        ["bash", str(REPO / "scripts" / script), *args], env=full_env, capture_output=True, text=True, timeout=60
    )
    return proc.returncode, proc.stderr, json.loads(record.read_text()) if record.exists() else None


@pytest.fixture
def fake_bin(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    _recorder(bin_dir, "llamafactory-cli")
    return bin_dir


@pytest.mark.parametrize(
    "env, accumulation",
    [
        ({"NPROC_PER_NODE": "8"}, 2),  # one node of 8 GPUs: 1 x 2 x 8 = 16
        ({"NPROC_PER_NODE": "1"}, 16),  # one GPU
        ({"NPROC_PER_NODE": "8", "NNODES": "2", "NODE_RANK": "1", "MASTER_ADDR": "10.0.0.1"}, 1),  # 2 nodes
        ({"NPROC_PER_NODE": "4", "PER_DEVICE_BATCH": "2", "EFFECTIVE_BATCH": "32"}, 4),
    ],
)
def test_train_sh_launches_with_the_effective_batch(
    fake_bin: Path, tmp_path: Path, env: dict[str, str], accumulation: int
) -> None:
    path = f"{fake_bin}{os.pathsep}{os.environ['PATH']}"
    status, err, record = _run("train.sh", [SFT, "max_steps=5"], {**env, "PATH": path}, tmp_path)
    assert status == 0, err
    assert record is not None
    per_device = env.get("PER_DEVICE_BATCH", "1")
    assert record["argv"] == [
        "train",
        SFT,
        f"per_device_train_batch_size={per_device}",
        f"gradient_accumulation_steps={accumulation}",
        "max_steps=5",
    ]
    assert record["env"] == {
        "FORCE_TORCHRUN": "1",
        "NNODES": env.get("NNODES", "1"),
        "NODE_RANK": env.get("NODE_RANK", "0"),
        "NPROC_PER_NODE": env["NPROC_PER_NODE"],
        "MASTER_ADDR": env.get("MASTER_ADDR", "127.0.0.1"),
        "MASTER_PORT": "29500",
    }


@pytest.mark.parametrize(
    "args, env, message",
    [
        ([], {}, "usage: scripts/train.sh CONFIG.yaml"),
        (["nope.yaml"], {}, "config nope.yaml not found"),
        ([SFT], {"NPROC_PER_NODE": "3"}, "EFFECTIVE_BATCH=16 must be a positive multiple of"),
        ([SFT], {"NPROC_PER_NODE": "2", "NNODES": "2", "NODE_RANK": "2"}, "NODE_RANK must be < NNODES=2"),
        ([SFT], {"NPROC_PER_NODE": "two"}, "NPROC_PER_NODE must be a non-negative integer"),
    ],
)
def test_train_sh_refuses_bad_launches(
    fake_bin: Path, tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    path = f"{fake_bin}{os.pathsep}{os.environ['PATH']}"
    status, err, record = _run("train.sh", args, {**env, "PATH": path}, tmp_path)
    assert status == 2 and record is None
    assert err.startswith("train.sh: error: ") and message in err
    assert len(err.strip().splitlines()) == 1


@pytest.fixture
def checkpoint(tmp_path: Path) -> Path:
    model = tmp_path / "ckpt"
    model.mkdir()
    (model / "config.json").write_text("{}")
    return model


def test_serve_vllm_sh_production_flags(tmp_path: Path, checkpoint: Path) -> None:
    vllm = _recorder(tmp_path / "venv-serve", "vllm")
    env = {"VLLM": str(vllm), "TP": "4", "PORT": "9000", "MAX_PIXELS": "1003520"}
    status, err, record = _run("serve_vllm.sh", [str(checkpoint), "--seed", "1"], env, tmp_path)
    assert status == 0, err
    assert record is not None
    argv = record["argv"]
    assert argv[:2] == ["serve", str(checkpoint)]

    def value(flag: str) -> str:
        return str(argv[argv.index(flag) + 1])

    assert "--enable-prefix-caching" in argv
    assert value("--tensor-parallel-size") == "4"
    assert (value("--host"), value("--port")) == ("127.0.0.1", "9000")
    assert value("--max-model-len") == "8192"
    assert value("--served-model-name") == "terrasense"
    assert json.loads(value("--limit-mm-per-prompt")) == {"image": 2, "video": 0}
    assert json.loads(value("--mm-processor-kwargs")) == {"min_pixels": 3136, "max_pixels": 1003520}
    assert argv[-2:] == ["--seed", "1"]  # extra flags go through
    assert "--api-key" not in argv


def test_serve_vllm_sh_accepts_a_hub_id(tmp_path: Path) -> None:
    env = {"VLLM": str(_recorder(tmp_path / "b", "vllm"))}
    status, err, record = _run("serve_vllm.sh", ["org/terrasense-7b"], env, tmp_path)
    assert status == 0, err
    assert record is not None and record["argv"][:2] == ["serve", "org/terrasense-7b"]


@pytest.mark.parametrize(
    "args, env, message",
    [
        ([], {}, "usage: scripts/serve_vllm.sh MODEL_DIR"),
        (["missing-dir"], {}, "missing-dir has no config.json"),
        (None, {"VLLM": "/nonexistent/vllm"}, "'/nonexistent/vllm' not found"),
        (None, {"TP": "0"}, "TP must be a positive integer"),
    ],
)
def test_serve_vllm_sh_refuses(
    tmp_path: Path, checkpoint: Path, args: list[str] | None, env: dict[str, str], message: str
) -> None:
    env = {"VLLM": str(_recorder(tmp_path / "b", "vllm")), **env}
    status, err, record = _run("serve_vllm.sh", [str(checkpoint)] if args is None else args, env, tmp_path)
    assert status == 2 and record is None
    assert len(err.strip().splitlines()) == 1 and message in err
