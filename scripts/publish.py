#!/usr/bin/env python
"""Publish a TerraSense checkpoint to the Hugging Face Hub with a model card.

    python scripts/publish.py --model-dir saves/terrasense-qwen2.5-vl-7b/full/sft --repo-id org/terrasense-7b \
        --train-config configs/terrasense_sft.yaml --mix-report data/terrasense/mix_report.json [--dry-run]

The card (``README.md`` in the repo) is written from the training config (base model, template, image size,
method) and the mixture report (datasets with their licences and record counts, render style, one example prompt
and answer per task). Only the files a user needs are uploaded: weights, configs, tokenizer, processor, chat
template, training results and plots (no optimizer states, ``checkpoint-*`` folders or ``training_args.bin``).
``--dry-run`` prints exactly that list and uploads nothing; ``--card-out FILE`` also writes the card to a file.
The token comes from ``--token``, ``HF_TOKEN`` or ``huggingface-cli login``.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys
from pathlib import Path
from typing import Any

#: Top-level files of a checkpoint folder that are uploaded (anything else stays local).
UPLOAD_PATTERNS: tuple[str, ...] = (
    "*.safetensors",
    "*.safetensors.index.json",
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "merges.txt",
    "chat_template.jinja",
    "chat_template.json",
    "processor_config.json",
    "preprocessor_config.json",
    "video_preprocessor_config.json",
    "*_results.json",
    "training_*.png",
    "Modelfile",
)

#: How each render style writes geometry (the card tells users how to read answers).
STYLE_NOTES: dict[str, str] = {
    "qwen2vl": "integers on a 0-1000 grid relative to the image width and height, in "
    "`<|box_start|>(x1,y1),(x2,y2)<|box_end|>` (quads: `<|quad_start|>`...`<|quad_end|>`)",
    "qwen25vl": "absolute pixels of the image *as the processor resized it* (LLaMA-Factory pre-scaling to "
    "`image_max_pixels`, then rounding to multiples of 28), as JSON `bbox_2d` lists",
    "qwen3vl": "integers on a 0-1000 grid relative to the image width and height, as JSON `bbox_2d` lists",
}


def files_to_upload(model_dir: Path) -> list[Path]:
    """The files of ``model_dir`` that go to the Hub, sorted (README.md is generated, not taken from the folder).

    Raises:
        FileNotFoundError: when ``model_dir`` holds no ``config.json`` or no ``*.safetensors`` weights.
    """
    files = sorted(
        p for p in model_dir.iterdir() if p.is_file() and any(fnmatch.fnmatch(p.name, pat) for pat in UPLOAD_PATTERNS)
    )
    names = {p.name for p in files}
    if "config.json" not in names or not any(n.endswith(".safetensors") for n in names):
        raise FileNotFoundError(f"{model_dir} is not a checkpoint: it needs config.json and *.safetensors weights")
    return files


def _load_yaml(path: Path) -> dict[str, Any]:
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a training config must be a YAML mapping")
    return data


def _fenced(text: str) -> list[str]:
    """``text`` in a Markdown code block whose fence is longer than any backtick run inside (answers hold
    fenced JSON)."""
    fence = "```"
    while fence in text:
        fence += "`"
    return [f"{fence}text", text, fence]


def model_card(train_config: dict[str, Any], report: dict[str, Any], *, repo_id: str, license: str) -> str:
    """The model card (YAML metadata + Markdown), from the training config and ``mix_report.json``.

    Args:
        train_config: the LLaMA-Factory training config used (flat dict).
        report: the mixture report written by ``terrasense mix``.
        repo_id: the Hub repository, ``org/name``.
        license: the licence id to declare for the weights (``other`` when the data licences restrict use).

    Returns:
        the text of ``README.md``.
    """
    import yaml

    base = str(train_config.get("model_name_or_path", "unknown"))
    template = str(train_config.get("template", "unknown"))
    render = dict(report.get("render") or {})
    style = str(report.get("style") or render.get("style", "unknown"))
    max_px = train_config.get("image_max_pixels", render.get("image_max_pixels"))
    min_px = train_config.get("image_min_pixels", render.get("image_min_pixels"))
    datasets = report.get("datasets") or {}
    per_dataset: dict[str, int] = {}
    for entry in (report.get("train") or {}).get("entries", []):
        per_dataset[entry["name"]] = per_dataset.get(entry["name"], 0) + int(entry["records_out"])
    metadata = {
        "base_model": base,
        "library_name": "transformers",
        "pipeline_tag": "image-text-to-text",
        "license": license,
        "tags": ["remote-sensing", "earth-observation", "llama-factory", "terrasense", f"render-style-{style}"],
    }
    lines = [
        "---",
        yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True).strip(),
        "---",
        "",
        f"# {repo_id.split('/')[-1]}",
        "",
        f"`{base}` fine-tuned with LLaMA-Factory ({train_config.get('finetuning_type', 'full')} fine-tuning, vision "
        f"tower and projector frozen) on the TerraSense mixture `{report.get('name')}`: "
        f"{(report.get('train') or {}).get('records', 0)} conversations from {len(per_dataset)} remote-sensing "
        "datasets.",
        "",
        "## Training data",
        "",
        "| dataset | conversations | licence |",
        "|---|---:|---|",
    ]
    for name in sorted(per_dataset):
        lic = (datasets.get(name) or {}).get("license") or "see the dataset's terms"
        lines.append(f"| {name} | {per_dataset[name]} | {lic} |")
    lines += [
        "",
        "The weights inherit the terms of these datasets: check each licence before any use beyond research.",
        "",
        "## Render style and template",
        "",
        f"- Template: `{template}` (use the same one to serve or fine-tune further).",
        f"- Render style: `{style}`: geometry in answers is written as {STYLE_NOTES.get(style, 'the style defines')}.",
        f"- Images: `image_max_pixels={max_px}`, `image_min_pixels={min_px}` "
        "(the training values; serve with the same).",
        "- A before/after pair is sent as two images in one user turn, the earlier image first, then the text.",
        "",
        "## How to prompt",
        "",
        "Each `<image>` below stands for one image part of the message, at that position.",
        "",
    ]
    for task, example in sorted((report.get("examples") or {}).items()):
        system = example.get("system") or ""
        lines += [
            f"### {task}",
            "",
            f"System prompt: `{system}`" if system else "System prompt: none (the template's default is used)",
            "",
            f"Prompt (from `{example.get('dataset')}`):",
            "",
            *_fenced(str(example.get("prompt", ""))),
            "",
            "Answer:",
            "",
            *_fenced(str(example.get("answer", ""))),
            "",
        ]
    lines += [
        "## Use",
        "",
        "```bash",
        f"scripts/serve_vllm.sh {repo_id}   # MAX_PIXELS={max_px}",
        "terrasense predict --endpoint http://127.0.0.1:8000/v1 --input test-00000.jsonl --out predictions.jsonl"
        f" --image-max-pixels {max_px} --image-min-pixels {min_px}",
        f"python scripts/inference_demo.py --model {repo_id} --image scene.png --prompt '...'"
        f" --image-max-pixels {max_px} --image-min-pixels {min_px}",
        "```",
        "",
        "## Training",
        "",
        "| setting | value |",
        "|---|---|",
    ]
    for key in (
        "finetuning_type",
        "freeze_vision_tower",
        "freeze_multi_modal_projector",
        "learning_rate",
        "lr_scheduler_type",
        "warmup_ratio",
        "num_train_epochs",
        "cutoff_len",
        "per_device_train_batch_size",
        "gradient_accumulation_steps",
        "bf16",
        "deepspeed",
        "lora_rank",
        "lora_target",
    ):
        if key in train_config:
            lines.append(f"| {key} | {train_config[key]} |")
    lines += [
        "",
        f"Mixture seed {report.get('seed')}; counts per dataset, split and task are in `mix_report.json`.",
        "",
    ]
    return "\n".join(lines)


def publish(
    model_dir: Path,
    repo_id: str,
    train_config_path: Path,
    mix_report_path: Path,
    *,
    dry_run: bool = False,
    card_out: Path | None = None,
    private: bool = False,
    token: str | None = None,
    license: str = "other",
) -> list[str]:
    """Write the card and upload; returns the paths in the repo (the same list with or without ``dry_run``)."""
    files = files_to_upload(model_dir)
    report = json.loads(mix_report_path.read_text(encoding="utf-8"))
    card = model_card(_load_yaml(train_config_path), report, repo_id=repo_id, license=license)
    if card_out is not None:
        card_out.write_text(card, encoding="utf-8")
    in_repo = ["README.md", *(p.name for p in files)]
    if dry_run:
        return in_repo
    from huggingface_hub import CommitOperationAdd, HfApi

    api = HfApi(token=token)
    api.create_repo(repo_id, private=private, exist_ok=True)
    operations = [CommitOperationAdd(path_in_repo="README.md", path_or_fileobj=card.encode("utf-8"))]
    operations += [CommitOperationAdd(path_in_repo=p.name, path_or_fileobj=str(p)) for p in files]
    api.create_commit(repo_id, operations=operations, commit_message=f"Upload {model_dir.name} with its model card")
    return in_repo


def main() -> int:
    """Parse arguments, publish (or list), print the repo paths."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model-dir", required=True, type=Path, help="full-SFT output_dir or merged export_dir")
    p.add_argument("--repo-id", required=True, help="Hub repository, org/name")
    p.add_argument("--train-config", required=True, type=Path, help="the training YAML used")
    p.add_argument("--mix-report", required=True, type=Path, help="mix_report.json of the training mixture")
    p.add_argument("--license", default="other", help="licence id declared for the weights (default: other)")
    p.add_argument("--private", action="store_true", help="create the repository private")
    p.add_argument("--token", help="Hub token (default: HF_TOKEN or the saved login)")
    p.add_argument("--dry-run", action="store_true", help="list what would be uploaded; upload nothing")
    p.add_argument("--card-out", type=Path, help="also write the model card to this file")
    args = p.parse_args()
    import httpx

    if "/" not in args.repo_id:
        print(f"publish: error: --repo-id must be org/name, got {args.repo_id!r}", file=sys.stderr)
        return 2
    try:
        paths = publish(
            args.model_dir,
            args.repo_id,
            args.train_config,
            args.mix_report,
            dry_run=args.dry_run,
            card_out=args.card_out,
            private=args.private,
            token=args.token,
            license=args.license,
        )
    except (OSError, ValueError, httpx.HTTPError) as e:  # Hub errors are OSError or httpx errors
        print(f"publish: error: {e}", file=sys.stderr)
        return 2
    verb = "would upload" if args.dry_run else "uploaded"
    print(f"{verb} to {args.repo_id}:")
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
