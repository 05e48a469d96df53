"""Smoke tests of the shipped configs: LLaMA-Factory accepts every key, datasets resolve, files agree."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fake_records import RENDER, write_fake_converted
from ts_instruct.lf_config import check_render_matches, load_lf_yaml, unknown_keys
from ts_instruct.mix import MixtureConfig, mix

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"

#: config file → kind of LLaMA-Factory command that reads it
LF_CONFIGS = {
    "terrasense_sft.yaml": "train",
    "terrasense_lora.yaml": "train",
    "export_merge.yaml": "infer",
    "inference.yaml": "infer",
}
DEEPSPEED = {"ds_z2_config.json": 2, "ds_z3_config.json": 3, "ds_z3_offload_config.json": 3}
_CHOICES = re.compile(r"^(\w+):\s*(\S+)\s*#\s*choices:\s*\[([^\]]*)\]")


@pytest.mark.parametrize("name, kind", LF_CONFIGS.items())
def test_every_key_is_a_llamafactory_argument(name: str, kind: Any) -> None:
    config = load_lf_yaml(CONFIGS / name)
    assert config
    assert unknown_keys(config, kind) == []


@pytest.mark.parametrize("name", ["terrasense_sft.yaml", "terrasense_lora.yaml"])
def test_training_configs_follow_the_examples_layout(name: str) -> None:
    text = (CONFIGS / name).read_text()
    headers = re.findall(r"^### (\w+)$", text, flags=re.MULTILINE)
    assert headers[:5] == ["model", "method", "dataset", "output", "train"]


@pytest.mark.parametrize("name", LF_CONFIGS)
def test_inline_choices_contain_the_value(name: str) -> None:
    found = 0
    for line in (CONFIGS / name).read_text().splitlines():
        m = _CHOICES.match(line)
        if m:
            found += 1
            key, value, choices = m.groups()
            assert value in [c.strip() for c in choices.split(",")], f"{name}: {key}: {value} not in [{choices}]"
    assert found >= 1


def test_unknown_keys_are_found() -> None:
    assert unknown_keys({"learning_rate": 1e-5, "lora_rnak": 8, "deepspeed": None}, "train") == ["lora_rnak"]
    assert unknown_keys({"template": "qwen2_vl", "learning_rate": 1e-5}, "infer") == ["learning_rate"]


def test_sft_config_is_the_documented_recipe() -> None:
    c = load_lf_yaml(CONFIGS / "terrasense_sft.yaml")
    assert (c["model_name_or_path"], c["template"]) == ("Qwen/Qwen2.5-VL-7B-Instruct", "qwen2_vl")
    assert c["finetuning_type"] == "full"
    assert (c["freeze_vision_tower"], c["freeze_multi_modal_projector"], c["freeze_language_model"]) == (
        True,
        True,
        False,
    )
    assert c["deepspeed"] == "configs/deepspeed/ds_z3_config.json"
    assert (c["bf16"], c["flash_attn"], c["cutoff_len"]) == (True, "fa2", 16384)
    assert (c["learning_rate"], c["lr_scheduler_type"], c["warmup_ratio"]) == (1.0e-5, "cosine", 0.1)
    # effective batch 16 on one node of 8 GPUs
    assert c["per_device_train_batch_size"] * c["gradient_accumulation_steps"] * 8 == 16
    assert isinstance(c["image_max_pixels"], int) and isinstance(c["image_min_pixels"], int)


def test_lora_config_freezes_the_same_parts() -> None:
    sft, lora = load_lf_yaml(CONFIGS / "terrasense_sft.yaml"), load_lf_yaml(CONFIGS / "terrasense_lora.yaml")
    assert lora["finetuning_type"] == "lora"
    for key in ("freeze_vision_tower", "freeze_multi_modal_projector", "freeze_language_model", "model_name_or_path"):
        assert lora[key] == sft[key], key
    for key in ("template", "image_max_pixels", "image_min_pixels", "dataset", "dataset_dir", "cutoff_len"):
        assert lora[key] == sft[key], key


def test_export_and_inference_configs_match_training() -> None:
    sft, lora = load_lf_yaml(CONFIGS / "terrasense_sft.yaml"), load_lf_yaml(CONFIGS / "terrasense_lora.yaml")
    export, infer = load_lf_yaml(CONFIGS / "export_merge.yaml"), load_lf_yaml(CONFIGS / "inference.yaml")
    assert export["adapter_name_or_path"] == lora["output_dir"]
    assert (export["model_name_or_path"], export["template"]) == (lora["model_name_or_path"], lora["template"])
    assert export["finetuning_type"] == "lora" and export["export_dir"]
    assert infer["model_name_or_path"] == sft["output_dir"]
    for key in ("template", "image_max_pixels", "image_min_pixels"):
        assert infer[key] == sft[key], key


@pytest.mark.parametrize("name, stage", DEEPSPEED.items())
def test_deepspeed_files(name: str, stage: int) -> None:
    ds = json.loads((CONFIGS / "deepspeed" / name).read_text())
    for key in (
        "train_batch_size",
        "train_micro_batch_size_per_gpu",
        "gradient_accumulation_steps",
        "gradient_clipping",
    ):
        assert ds[key] == "auto", key  # the trainer decides: values come from the YAML
    assert ds["bf16"]["enabled"] == "auto" and ds["fp16"]["enabled"] == "auto"
    zero = ds["zero_optimization"]
    assert zero["stage"] == stage
    if stage == 3:
        # makes output_dir a loadable HF checkpoint without zero_to_fp32
        assert zero["stage3_gather_16bit_weights_on_model_save"] is True
        assert zero["reduce_bucket_size"] == zero["stage3_prefetch_bucket_size"] == "auto"
    offload = "offload" in name
    assert ("offload_optimizer" in zero, "offload_param" in zero) == (offload, offload)
    if offload:
        assert zero["offload_optimizer"]["device"] == zero["offload_param"]["device"] == "cpu"


@pytest.mark.parametrize("name", ["terrasense_sft.yaml", "terrasense_lora.yaml"])
def test_deepspeed_paths_exist(name: str) -> None:
    text = (CONFIGS / name).read_text()
    line = next(x for x in text.splitlines() if x.startswith("deepspeed:"))
    paths = re.findall(r"configs/deepspeed/\w+\.json", line)
    assert len(paths) == 4  # the value and its three choices
    assert all((REPO / p).is_file() for p in paths)


@pytest.fixture(scope="module")
def shipped_mixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """configs/mixture.yaml run on fake converted data for every dataset and split it names."""
    config = MixtureConfig.from_yaml(CONFIGS / "mixture.yaml")
    root = tmp_path_factory.mktemp("converted_all")
    for i, entry in enumerate(sorted({(e.name, e.split) for e in (*config.train, *config.eval, *config.holdout)})):
        write_fake_converted(root, entry[0], entry[1], style=config.style, seed=i, n_single=1, n_pairs=1)
    out = tmp_path_factory.mktemp("dataset_dir")
    sft = load_lf_yaml(CONFIGS / "terrasense_sft.yaml")
    mix(
        MixtureConfig.from_dict(
            {
                **yaml.safe_load((CONFIGS / "mixture.yaml").read_text()),
                "converted_root": str(root),
                "output_dir": str(out),
            }
        ),
        train_config=sft,
    )
    return out


@pytest.mark.parametrize("name", ["terrasense_sft.yaml", "terrasense_lora.yaml"])
def test_datasets_resolve_in_generated_dataset_info(shipped_mixture: Path, name: str) -> None:
    from llamafactory.data.parser import get_dataset_list

    config = load_lf_yaml(CONFIGS / name)
    info = json.loads((shipped_mixture / "dataset_info.json").read_text())
    for key in ("dataset", "eval_dataset"):
        names = [n.strip() for n in str(config[key]).split(",")]
        assert all(n in info for n in names), (key, names, sorted(info))
        # LLaMA-Factory's own parser reads the entries: local sharegpt files with role/content tags
        for attr in get_dataset_list(names, str(shipped_mixture)):
            assert (attr.load_from, attr.formatting, attr.role_tag, attr.content_tag) == (
                "file",
                "sharegpt",
                "role",
                "content",
            )
            assert (shipped_mixture / attr.dataset_name).is_file()


@pytest.mark.parametrize("style", ["qwen2vl", "qwen25vl", "qwen3vl"])
def test_documented_family_alternatives_match_their_render_style(style: str) -> None:
    text = (CONFIGS / "terrasense_sft.yaml").read_text()
    m = re.search(rf"model_name_or_path: (\S+)\s+template: (\S+)\s+\(style {style}\)", text)
    assert m, f"no documented alternative for {style}"
    sft = load_lf_yaml(CONFIGS / "terrasense_sft.yaml") | {"model_name_or_path": m[1], "template": m[2]}
    check_render_matches(RENDER[style], sft, source="alternative")


def test_mixture_entries_name_converter_folders_and_splits() -> None:
    """Each entry whose converter is registered names the folder `terrasense convert` writes and one of its splits."""
    from data_converters import get_converter, list_converters
    from ts_instruct.pipeline import dataset_dir_name

    registered = {c if isinstance(c, str) else c.name for c in list_converters()}
    config = MixtureConfig.from_yaml(CONFIGS / "mixture.yaml")
    checked = 0
    for entry in (*config.train, *config.eval, *config.holdout):
        name, _, version = entry.name.partition("-")
        if name not in registered:
            continue
        cls = get_converter(name)
        assert (version or None) in (None, *cls.versions) and (len(cls.versions) > 1) == bool(version), entry.name
        assert dataset_dir_name(cls(".", version=version or None)) == entry.name
        assert entry.split in cls.splits, (entry.name, entry.split, cls.splits)
        checked += 1
    assert checked >= 10  # the converters of the classification, caption, VQA, grounding and change families
