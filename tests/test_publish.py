"""scripts/publish.py: the model card (parsed by huggingface_hub) and the exact upload list of --dry-run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from huggingface_hub import ModelCard

REPO = Path(__file__).resolve().parents[1]
SFT = REPO / "configs" / "terrasense_sft.yaml"
LORA = REPO / "configs" / "terrasense_lora.yaml"

#: a full-SFT output_dir after training: what must go up and what must stay local
UPLOADED = [
    "all_results.json",
    "chat_template.jinja",
    "config.json",
    "generation_config.json",
    "model-00001-of-00002.safetensors",
    "model-00002-of-00002.safetensors",
    "model.safetensors.index.json",
    "processor_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "train_results.json",
    "training_loss.png",
]
LOCAL = [
    "README.md",
    "training_args.bin",
    "trainer_state.json",
    "trainer_log.jsonl",
    "checkpoint-500/model.safetensors",
]


@pytest.fixture
def output_dir(tmp_path: Path) -> Path:
    out = tmp_path / "sft"
    for name in [*UPLOADED, *LOCAL]:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(b"{}" if name.endswith(".json") else b"x")
    return out


@pytest.fixture
def mix_report(fake_records_mixture: Path) -> Path:
    return fake_records_mixture / "mix_report.json"


def _publish(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, str(REPO / "scripts" / "publish.py"), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_dry_run_lists_exactly_what_would_be_uploaded(output_dir: Path, mix_report: Path, tmp_path: Path) -> None:
    card = tmp_path / "card.md"
    args = ["--model-dir", str(output_dir), "--repo-id", "org/terrasense-tiny", "--train-config", str(SFT)]
    proc = _publish(*args, "--mix-report", str(mix_report), "--dry-run", "--card-out", str(card))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "would upload to org/terrasense-tiny:"
    assert lines[1:] == ["README.md", *UPLOADED]  # the generated card replaces the trainer's README.md
    assert card.is_file()
    assert sorted(p.name for p in output_dir.rglob("*") if p.is_file()) == sorted(
        [*UPLOADED, *(Path(n).name for n in LOCAL)]
    )  # nothing written into the checkpoint


def test_model_card_parses_and_says_how_to_use_the_model(output_dir: Path, mix_report: Path, tmp_path: Path) -> None:
    card_path = tmp_path / "card.md"
    args = ["--model-dir", str(output_dir), "--repo-id", "org/terrasense-tiny", "--train-config", str(SFT)]
    assert _publish(*args, "--mix-report", str(mix_report), "--dry-run", "--card-out", str(card_path)).returncode == 0
    card = ModelCard.load(card_path)
    assert card.data.base_model == "Qwen/Qwen2.5-VL-7B-Instruct"
    assert card.data.pipeline_tag == "image-text-to-text"
    assert card.data.library_name == "transformers"
    assert card.data.license == "other"
    assert "render-style-qwen25vl" in card.data.tags
    report = json.loads(mix_report.read_text())
    text = card.text
    # datasets with their licences and counts
    assert "| fake_det | 12 | CC-BY-4.0 |" in text and "| fake_cd | 6 | CC-BY-NC-4.0 |" in text
    # render style and template
    assert "Template: `qwen2_vl`" in text and "Render style: `qwen25vl`" in text and "absolute pixels" in text
    assert "`image_max_pixels=589824`, `image_min_pixels=1024`" in text
    # how to prompt, for every task in the mixture
    for task, example in report["examples"].items():
        assert f"### {task}" in text
        assert example["prompt"] in text and example["answer"] in text
    # answers hold fenced JSON: the card's own fences are longer, so the blocks stay closed
    assert "````text\nThere is 1 ship: ```json" in text
    assert "System prompt: `You are a remote sensing assistant.`" in text  # the scene record has its own
    assert "System prompt: none (the template's default is used)" in text
    assert "| learning_rate | 1e-05 |" in text and "| finetuning_type | full |" in text


def test_lora_card_names_its_method(output_dir: Path, mix_report: Path, tmp_path: Path) -> None:
    card_path = tmp_path / "card.md"
    args = [
        "--model-dir",
        str(output_dir),
        "--repo-id",
        "org/x",
        "--train-config",
        str(LORA),
        "--license",
        "cc-by-nc-4.0",
    ]
    assert _publish(*args, "--mix-report", str(mix_report), "--dry-run", "--card-out", str(card_path)).returncode == 0
    card = ModelCard.load(card_path)
    assert card.data.license == "cc-by-nc-4.0"
    assert "(lora fine-tuning" in card.text and "| lora_rank | 16 |" in card.text


@pytest.mark.parametrize(
    "setup, extra, message",
    [
        # not a checkpoint: no weights
        (
            lambda d: (
                (d / "model-00001-of-00002.safetensors").unlink() or (d / "model-00002-of-00002.safetensors").unlink()
            ),
            [],
            "is not a checkpoint",
        ),
        # repo id without an organisation
        (lambda d: None, ["--repo-id", "justname"], "--repo-id must be org/name"),
    ],
)
def test_errors_are_one_line(output_dir: Path, mix_report: Path, setup, extra: list[str], message: str) -> None:
    setup(output_dir)
    args = [
        "--model-dir",
        str(output_dir),
        "--repo-id",
        "org/x",
        "--train-config",
        str(SFT),
        "--mix-report",
        str(mix_report),
    ]
    proc = _publish(*args, *extra, "--dry-run")
    assert proc.returncode == 2
    assert proc.stderr.startswith("publish: error: ") and message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
