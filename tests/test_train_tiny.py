"""The shipped configs train, export and generate for real, on tiny random Qwen-VL checkpoints, on CPU.

Only the model path, the data (dataset_dir), the output dir, the step count and the precision are overridden on the
``llamafactory-cli`` command line (plus ``deepspeed=null`` for the single-process runs); every other setting is the
shipped one. Training data comes from ``terrasense mix`` over converted records (``mixture_dir`` fixture).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fake_records import HEIGHT, RENDER, WIDTH
from ts_instruct.render import ParseResult, style_from_meta

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"
DS_CPU_FIX = Path(__file__).resolve().parent / "ds_cpu_fix"  # see its sitecustomize.py

pytestmark = pytest.mark.slow


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 600) -> str:
    """Run a command; on failure, fail the test with the last lines of its output."""
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    output = proc.stdout + proc.stderr
    (cwd / f"{Path(cmd[0]).name}.log").write_text(output)
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(cmd[:3])} exited {proc.returncode}:\n{output[-4000:]}")
    return output


def _overrides(model: Path, data: Path, out: Path, steps: int = 3) -> list[str]:
    return [
        f"model_name_or_path={model}",
        f"dataset_dir={data}",
        f"output_dir={out}",
        f"max_steps={steps}",
        "bf16=false",
    ]


def _weights(folder: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    weights: dict[str, Any] = {}
    for shard in sorted(folder.glob("*.safetensors")):
        weights.update(load_file(shard))
    assert weights, f"no safetensors in {folder}"
    return weights


def _assert_frozen_unchanged_and_language_trained(base: Path, trained: Path) -> None:
    import torch

    before, after = _weights(base), _weights(trained)
    assert before.keys() == after.keys()
    frozen = [k for k in before if k.startswith("visual.")]  # vision tower (patch_embed, blocks) + projector (merger)
    assert any(".merger." in k for k in frozen) and any(".blocks." in k for k in frozen)
    changed_frozen = [k for k in frozen if not torch.equal(before[k], after[k])]
    assert changed_frozen == []
    changed = [k for k in before if k not in frozen and not torch.equal(before[k], after[k])]
    assert any(k.startswith("model.layers.") for k in changed), "the language model did not change"


def _train_loss(out: Path) -> float:
    loss = json.loads((out / "all_results.json").read_text())["train_loss"]
    assert math.isfinite(loss) and loss > 0
    return float(loss)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_tiny_model_is_deterministic(tmp_path: Path, run_cli: Any) -> None:
    status, out, _ = run_cli("tiny-model", "--family", "qwen2vl", "--out", str(tmp_path / "a"))
    assert status == 0 and "template=qwen2_vl" in out
    from ts_instruct.tiny_models import build_tiny_model

    build_tiny_model("qwen2vl", tmp_path / "b")
    build_tiny_model("qwen2vl", tmp_path / "c", seed=1)

    def digest(d: Path) -> dict[str, str]:
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.iterdir())}

    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert digest(tmp_path / "a")["model.safetensors"] != digest(tmp_path / "c")["model.safetensors"]
    assert digest(tmp_path / "a")["tokenizer.json"] == digest(tmp_path / "c")["tokenizer.json"]


@pytest.mark.parametrize("family", ["qwen2vl", "qwen25vl", "qwen3vl"])
def test_tiny_model_loads_and_generates_with_two_images(tiny_model: Any, converted_root: Path, family: str) -> None:
    import torch
    from PIL import Image
    from transformers import AutoModelForImageTextToText, AutoProcessor, AutoTokenizer

    path = tiny_model(family)
    config = json.loads((path / "config.json").read_text())
    tok = AutoTokenizer.from_pretrained(path)
    for key, token in [("image_token_id", "<|image_pad|>"), ("vision_start_token_id", "<|vision_start|>")]:
        assert config[key] == tok.convert_tokens_to_ids(token)
    assert tok.tokenize("<|box_start|>(1,2)<|box_end|>")[0] == "<|box_start|>"  # special tokens stay whole
    processor = AutoProcessor.from_pretrained(path)
    model = AutoModelForImageTextToText.from_pretrained(path)
    assert sum(p.numel() for p in model.parameters()) < 500_000
    images = [Image.open(p) for p in sorted((converted_root / "fake_det" / "images" / "train").glob("*_000_[AB].png"))]
    assert len(images) == 2
    messages = [
        {"role": "user", "content": [{"type": "image"}, {"type": "image"}, {"type": "text", "text": "What changed?"}]}
    ]
    text = processor.apply_chat_template(messages, add_generation_prompt=True)
    assert text.count("<|vision_start|><|image_pad|><|vision_end|>") == 2
    inputs = processor(text=[text], images=images, return_tensors="pt")
    with torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=5, do_sample=False)
    assert out.shape[1] > inputs["input_ids"].shape[1]


def test_sft_full_finetuning_freezes_vision_and_projector(
    tiny_model: Any, mixture_dir: Path, subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    base = tiny_model("qwen25vl")
    out = tmp_path / "sft"
    cmd = ["llamafactory-cli", "train", str(CONFIGS / "terrasense_sft.yaml"), *_overrides(base, mixture_dir, out)]
    log = _run([*cmd, "deepspeed=null"], cwd=tmp_path, env=subprocess_env)
    assert "Set vision model not trainable" in log and "Set multi model projector not trainable" in log
    state = json.loads((out / "trainer_state.json").read_text())
    assert state["global_step"] == 3
    _train_loss(out)
    _assert_frozen_unchanged_and_language_trained(base, out)


def test_sft_zero3_two_processes(
    tiny_model: Any, mixture_dir: Path, subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    base = tiny_model("qwen25vl")
    out = tmp_path / "zero3"
    env = dict(subprocess_env)
    env.update(
        DS_ACCELERATOR="cpu",
        NPROC_PER_NODE="2",
        MASTER_PORT=str(_free_port()),
        EFFECTIVE_BATCH="4",  # 2 processes x 1 per device x the shipped 2 accumulation steps
        PYTHONPATH=os.pathsep.join([str(DS_CPU_FIX), env["PYTHONPATH"]]),
    )
    ds = CONFIGS / "deepspeed" / "ds_z3_config.json"
    cmd = ["bash", str(REPO / "scripts" / "train.sh"), str(CONFIGS / "terrasense_sft.yaml")]
    # first run on a machine JIT-compiles a DeepSpeed comm op (~3 min on 2 cores), cached afterwards
    log = _run([*cmd, *_overrides(base, mixture_dir, out), f"deepspeed={ds}"], cwd=tmp_path, env=env, timeout=1200)
    assert "world size: 2" in log
    assert "ZeRO stage 3 optimizer" in log
    assert "batch 1 x 2 x 2 = 4" in log  # printed by train.sh
    _train_loss(out)
    _assert_frozen_unchanged_and_language_trained(base, out)


@pytest.fixture(scope="module")
def lora_export(
    tiny_model: Any, mixture_dir: Path, subprocess_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """LoRA training with the shipped LoRA config, then the shipped merge config: returns base, adapter, merged."""
    base = tiny_model("qwen25vl")
    work = tmp_path_factory.mktemp("lora")
    adapter, merged = work / "adapter", work / "merged"
    train = [
        "llamafactory-cli",
        "train",
        str(CONFIGS / "terrasense_lora.yaml"),
        *_overrides(base, mixture_dir, adapter),
    ]
    _run([*train, "deepspeed=null"], cwd=work, env=subprocess_env)
    export = [
        "llamafactory-cli",
        "export",
        str(CONFIGS / "export_merge.yaml"),
        f"model_name_or_path={base}",
        f"adapter_name_or_path={adapter}",
        f"export_dir={merged}",
    ]
    _run(export, cwd=work, env=subprocess_env)
    return {"base": base, "adapter": adapter, "merged": merged}


def test_lora_adapter_leaves_vision_and_projector_alone(lora_export: dict[str, Path]) -> None:
    adapter = lora_export["adapter"]
    _train_loss(adapter)
    config = json.loads((adapter / "adapter_config.json").read_text())
    assert config["peft_type"] == "LORA" and config["r"] == 16
    keys = _weights(adapter).keys()
    assert keys and not [k for k in keys if "visual" in k]
    assert {k.split(".")[-3] for k in keys if "lora_A" in k} == {
        "q_proj",
        "k_proj",
        "v_proj",
        "o_proj",
        "gate_proj",
        "up_proj",
        "down_proj",
    }


def test_merged_checkpoint_is_standalone_and_generates(lora_export: dict[str, Path], converted_root: Path) -> None:
    import torch
    from PIL import Image
    from transformers import AutoModelForImageTextToText, AutoProcessor

    merged = lora_export["merged"]
    for name in ("config.json", "model.safetensors", "tokenizer.json", "chat_template.jinja", "processor_config.json"):
        assert (merged / name).is_file(), name
    assert not (merged / "adapter_config.json").exists()
    _assert_frozen_unchanged_and_language_trained(lora_export["base"], merged)

    processor = AutoProcessor.from_pretrained(merged)
    model = AutoModelForImageTextToText.from_pretrained(merged)
    image = Image.open(converted_root / "fake_det" / "images" / "test" / "fake_det_000.png")
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Detect every ship."}]}]
    text = processor.apply_chat_template(messages, add_generation_prompt=True)
    inputs = processor(text=[text], images=[image], return_tensors="pt")
    with torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=8, do_sample=False)
    assert out.shape[1] > inputs["input_ids"].shape[1]


@pytest.mark.parametrize("pair", [False, True], ids=["single", "pair"])
def test_inference_demo(
    lora_export: dict[str, Path], converted_root: Path, subprocess_env: dict[str, str], tmp_path: Path, pair: bool
) -> None:
    images = converted_root / "fake_det" / "images" / "test"
    cmd = [sys.executable, str(REPO / "scripts" / "inference_demo.py"), "--model", str(lora_export["merged"])]
    if pair:
        cmd += ["--image", str(images / "fake_det_000_A.png"), "--image2", str(images / "fake_det_000_B.png")]
        cmd += ["--prompt", "Image 1 was taken before image 2. Box every new building."]
    else:
        cmd += ["--image", str(images / "fake_det_000.png"), "--prompt", "Detect every ship. Answer with boxes."]
    proc = subprocess.run(
        [*cmd, "--max-new-tokens", "12"], cwd=tmp_path, env=subprocess_env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    frames = [line for line in proc.stderr.splitlines() if line.startswith("frame: ")]
    assert frames == [f"frame: image {i}: 112 x 84" for i in range(1, 3 if pair else 2)]
    answer = proc.stdout.rstrip("\n")
    assert answer and "<|im_end|>" not in answer
    # the answer reads back through the render parser of the data's style (a random model writes no geometry,
    # so the items may be empty; what matters is that the text goes through, as it would for a trained model)
    style = style_from_meta(RENDER["qwen25vl"])
    frame = style.frame(WIDTH, HEIGHT)
    assert (frame.text_width, frame.text_height) == (112, 84)  # the frame the demo reported
    result = style.parse(answer, frame, kind="hbox")
    assert isinstance(result, ParseResult)
    assert all(item.kind == "hbox" for item in result.items)


def test_inference_demo_refuses_a_missing_image(
    lora_export: dict[str, Path], subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    cmd = [sys.executable, str(REPO / "scripts" / "inference_demo.py"), "--model", str(lora_export["merged"])]
    proc = subprocess.run(
        [*cmd, "--image", str(tmp_path / "nope.png"), "--prompt", "hi"],
        env=subprocess_env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"inference_demo: error: image {tmp_path / 'nope.png'} not found"]
