"""``terrasense demo`` on every converter: each fake converts, every record validates, the mixture passes the
render check of the shipped training config. (The training half of the demo is covered by test_train_tiny.py.)"""

import json

import pytest

from data_converters.fakes import FAKES
from ts_instruct.cli import main


def test_demo_without_training_validates_every_converter(tmp_path, capsys):
    assert main(["demo", "--workdir", str(tmp_path / "demo"), "--no-train", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert ", 0 issues" in out
    converted = tmp_path / "demo" / "converted"
    reports = [json.loads(p.read_text()) for p in converted.glob("*/report.json")]
    assert {r["dataset"] for r in reports} == set(FAKES)
    for r in reports:  # every converter yields records for at least one split of its fake
        assert sum(s["records"] for s in r["splits"].values()) > 0, r["dataset"]
    info = json.loads((tmp_path / "demo" / "mixture" / "dataset_info.json").read_text())
    assert set(info) == {"terrasense_mix", "terrasense_mix_eval"}
    assert info["terrasense_mix"]["formatting"] == "sharegpt"


@pytest.mark.slow
def test_demo_trains_exports_and_answers_from_a_relative_workdir(tmp_path, monkeypatch, capsys):
    # `make demo` passes a relative --workdir; training and export run in subprocesses with their own cwd
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    argv = ["demo", "--workdir", "runs/demo", "--only", "nwpu_resisc45,levir_cd", "--steps", "1", "--workers", "1"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "LoRA adapter (1 steps" in out and "parsed back:" in out
    merged = tmp_path / "runs" / "demo" / "train" / "merged"
    assert (merged / "config.json").is_file() and list(merged.glob("*.safetensors"))
