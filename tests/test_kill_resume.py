"""A conversion killed with SIGKILL mid-way and restarted ends byte-identical to an uninterrupted run."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from data_converters.fakes import make_fake

from .test_pipeline import tree_bytes


def _cmd(root: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "ts_instruct.cli", "convert", "nwpu_resisc45", "--root", str(root), "--out",
            str(out), "--shard-size", "20", "--split", "train", "--no-progress"]  # fmt: skip


def test_sigkill_then_resume_gives_identical_output(tmp_path):
    root = tmp_path / "raw"
    make_fake("nwpu_resisc45", root, per_class=300)  # 1200 images, 400 in train → 40 shards of 20 records
    subprocess.run(_cmd(root, tmp_path / "ref"), check=True, capture_output=True)

    proc = subprocess.Popen(_cmd(root, tmp_path / "run"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    third = tmp_path / "run" / "nwpu_resisc45" / "train-00002.jsonl"
    deadline = time.monotonic() + 120
    while not third.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL, "the conversion finished before it could be killed; enlarge the fake"
    assert not (tmp_path / "run" / "nwpu_resisc45" / "report.json").exists()

    subprocess.run(_cmd(root, tmp_path / "run"), check=True, capture_output=True)
    assert tree_bytes(tmp_path / "run") == tree_bytes(tmp_path / "ref")
