"""A conversion killed with SIGKILL mid-way and restarted ends byte-identical to an uninterrupted run."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from data_converters import get_converter
from data_converters.fakes import make_fake
from ts_instruct.pipeline import dataset_dir_name

from .test_pipeline import tree_bytes

#: converter → (fake size arguments, split): enough units that the third shard of 20 records closes well before the end
CASES = {
    "nwpu_resisc45": ({"per_class": 300}, "train"),  # 400 train images, 2 records each → 40 shards
    "levir_cd": ({"scale": 40}, "train"),  # 120 train pairs, 4 records each → 24 shards
    "dota": ({"scale": 8}, "train"),  # 28 extra 1200 px scenes: 112 tiles cut from decoded scenes → 20+ shards
}


def _cmd(name: str, root: Path, out: Path, split: str) -> list[str]:
    return [sys.executable, "-m", "ts_instruct.cli", "convert", name, "--root", str(root), "--out", str(out),
            "--shard-size", "20", "--split", split, "--no-progress"]  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
def test_sigkill_then_resume_gives_identical_output(name, tmp_path):
    kwargs, split = CASES[name]
    root = tmp_path / "raw"
    make_fake(name, root, **kwargs)
    subprocess.run(_cmd(name, root, tmp_path / "ref", split), check=True, capture_output=True)

    proc = subprocess.Popen(
        _cmd(name, root, tmp_path / "run", split), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    folder = tmp_path / "run" / dataset_dir_name(get_converter(name)(root))
    third = folder / f"{split}-00002.jsonl"
    deadline = time.monotonic() + 120
    while not third.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL, "the conversion finished before it could be killed; enlarge the fake"
    assert not (folder / "report.json").exists()

    subprocess.run(_cmd(name, root, tmp_path / "run", split), check=True, capture_output=True)
    assert tree_bytes(tmp_path / "run") == tree_bytes(tmp_path / "ref")
