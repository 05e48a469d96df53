"""Tiny random Qwen2-VL / Qwen2.5-VL / Qwen3-VL checkpoints, built offline, for smoke tests and demos.

A tiny checkpoint uses the real ``transformers`` classes (``Qwen2VLForConditionalGeneration``, ...), a byte-level
BPE tokenizer trained locally with every Qwen special token (``<|im_start|>``, ``<|image_pad|>``, ``<|box_start|>``
...), the official Qwen2-VL chat template and a real image processor, so LLaMA-Factory, ``transformers`` and the
OpenAI-style API server treat it exactly like the released models. It has about 200k parameters (under 1 MB on
disk) and random weights: what it generates is noise, but every code path (freezing, ZeRO-3, LoRA merge, export,
generation with one or two images) runs on a CPU in seconds.

Deterministic: the same family and seed give byte-identical files. Nothing is downloaded. Usage::

    info = build_tiny_model("qwen25vl", "runs/tiny-qwen25vl")   # or: terrasense tiny-model --family qwen25vl --out ...
    # llamafactory-cli train configs/terrasense_sft.yaml model_name_or_path=runs/tiny-qwen25vl template=<info.template>
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from ts_instruct.errors import ConfigError

TinyFamily = Literal["qwen2vl", "qwen25vl", "qwen3vl"]
FAMILIES: tuple[str, ...] = get_args(TinyFamily)

#: The special tokens of the Qwen2/2.5/3-VL vocabulary, in their released order (ids 0..13 in the tiny vocab).
SPECIAL_TOKENS: tuple[str, ...] = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
)

# Copied from transformers/models/qwen2/tokenization_qwen2.py: the pre-tokenizer split of every Qwen2-family model.
_QWEN2_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

#: The official Qwen2-VL / Qwen2.5-VL chat template (also used for the tiny Qwen3-VL: its own template adds tool and
#: think handling that LLaMA-Factory's ``qwen3_vl_nothink`` template does not need).
QWEN2_VL_CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}<|im_start|>system\n"
    "You are a helpful assistant.<|im_end|>\n{% endif %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}"
    "{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}{% set video_count.value = video_count.value + 1 %}"
    "{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# A few sentences in the register of TS-Instruct conversations, so common words get their own BPE merges.
_CORPUS = (
    "You are a helpful assistant. Describe the remote sensing image.",
    "Detect every airplane, ship, storage tank and vehicle; answer with boxes.",
    'The image shows a harbor with 3 ships. [{"bbox_2d": [12, 40, 96, 120], "label": "ship"}]',
    "<|object_ref_start|>building<|object_ref_end|><|box_start|>(120,45),(300,210)<|box_end|>",
    "Compare the two images taken before and after. What changed? New buildings appeared.",
    "Is there a tennis court? Yes. How many vehicles are there? 12. Which scene is this? airport",
    "Outline the water region as a polygon: (10,20),(40,20),(40,60),(10,60).",
)

#: family → (LLaMA-Factory template, transformers model_type, patch size of the vision tower)
FAMILY_SPECS: dict[str, tuple[str, str, int]] = {
    "qwen2vl": ("qwen2_vl", "qwen2_vl", 14),
    "qwen25vl": ("qwen2_vl", "qwen2_5_vl", 14),
    "qwen3vl": ("qwen3_vl_nothink", "qwen3_vl", 16),
}


@dataclass(frozen=True)
class TinyModelInfo:
    """What :func:`build_tiny_model` wrote.

    Attributes:
        family: ``"qwen2vl"``, ``"qwen25vl"`` or ``"qwen3vl"``.
        path: the checkpoint folder (``config.json``, ``model.safetensors``, tokenizer and processor files).
        model_type: ``config.json``'s ``model_type`` (``"qwen2_vl"``, ``"qwen2_5_vl"``, ``"qwen3_vl"``).
        template: the LLaMA-Factory ``template:`` to train and serve it with.
        num_parameters: total parameter count.
    """

    family: str
    path: Path
    model_type: str
    template: str
    num_parameters: int


def _transformers() -> Any:
    """The ``transformers`` module, typed ``Any``.

    Its annotations are narrower than what these classes accept at runtime (``Qwen2Tokenizer`` takes merges as
    tuples and ``unk_token=None``).
    """
    return importlib.import_module("transformers")


def build_tiny_tokenizer() -> Any:
    """Train a byte-level BPE tokenizer (vocabulary 600) with the Qwen special tokens at ids 0..13.

    Returns:
        a ``transformers.Qwen2Tokenizer`` with ``eos_token="<|im_end|>"``, ``pad_token="<|endoftext|>"`` and the
        Qwen2-VL chat template.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    tf = _transformers()

    bpe = Tokenizer(models.BPE())
    bpe.normalizer = normalizers.NFC()
    bpe.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_QWEN2_REGEX), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(_CORPUS, trainer=trainer)
    state = json.loads(bpe.to_str())["model"]
    vocab: dict[str, int] = state["vocab"]
    # Qwen2Tokenizer wants merges as tuples; the serialised model holds them as 2-lists (or "a b" strings).
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ", 1)) for m in state["merges"]]
    tokenizer = tf.Qwen2Tokenizer(
        vocab=vocab,
        merges=merges,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        bos_token=None,
        unk_token=None,
        additional_special_tokens=[t for t in SPECIAL_TOKENS if t not in ("<|endoftext|>", "<|im_end|>")],
    )
    tokenizer.chat_template = QWEN2_VL_CHAT_TEMPLATE
    return tokenizer


def _config(family: str, tok: Any) -> Any:
    """The model config of a tiny checkpoint: text hidden 64, 2 layers, 4 heads (head_dim 16), vision depth 2."""
    tf = _transformers()
    ids = {t: tok.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    text: dict[str, Any] = {
        "vocab_size": len(tok),
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "max_position_embeddings": 32768,
        "bos_token_id": ids["<|endoftext|>"],
        "eos_token_id": ids["<|im_end|>"],
        "pad_token_id": ids["<|endoftext|>"],
        # sum(mrope_section) must be head_dim / 2 = 8 (the released models use [16, 24, 24] for head_dim 128).
        "rope_parameters": {"rope_type": "default", "rope_theta": 1e6, "mrope_section": [2, 3, 3]},
    }
    special = {
        "image_token_id": ids["<|image_pad|>"],
        "video_token_id": ids["<|video_pad|>"],
        "vision_start_token_id": ids["<|vision_start|>"],
        "vision_end_token_id": ids["<|vision_end|>"],
    }
    common_vision: dict[str, Any] = {"depth": 2, "num_heads": 2, "spatial_merge_size": 2, "temporal_patch_size": 2}
    if family == "qwen2vl":
        vision = {**common_vision, "embed_dim": 32, "hidden_size": 64, "mlp_ratio": 2, "patch_size": 14}
        return tf.Qwen2VLConfig(text_config=text, vision_config=vision, **special)
    if family == "qwen25vl":
        vision = {
            **common_vision,
            "hidden_size": 32,
            "intermediate_size": 64,
            "patch_size": 14,
            "out_hidden_size": 64,
            "window_size": 112,
            "fullatt_block_indexes": [1],
        }
        return tf.Qwen2_5_VLConfig(text_config=text, vision_config=vision, **special)
    text = {**text, "head_dim": 16}
    text["rope_parameters"] = {**text["rope_parameters"], "mrope_interleaved": True}
    vision = {
        **common_vision,
        "hidden_size": 32,
        "intermediate_size": 64,
        "patch_size": 16,
        "out_hidden_size": 64,
        "num_position_embeddings": 64,  # must be a perfect square
        "deepstack_visual_indexes": [0],
    }
    return tf.Qwen3VLConfig(text_config=text, vision_config=vision, **special)


def _processor(family: str, tok: Any) -> Any:
    """The processor: image sizes from 4 to 64 merged patches (a 224×224 image becomes 64 vision tokens)."""
    tf = _transformers()
    _, _, patch = FAMILY_SPECS[family]
    factor = patch * 2
    image = tf.Qwen2VLImageProcessor(
        patch_size=patch, merge_size=2, min_pixels=factor * factor * 4, max_pixels=factor * factor * 64
    )
    if family == "qwen3vl":
        return tf.Qwen3VLProcessor(
            image_processor=image,
            tokenizer=tok,
            video_processor=tf.Qwen3VLVideoProcessor(patch_size=16),
            chat_template=QWEN2_VL_CHAT_TEMPLATE,
        )
    cls = tf.Qwen2VLProcessor if family == "qwen2vl" else tf.Qwen2_5_VLProcessor
    return cls(
        image_processor=image,
        tokenizer=tok,
        video_processor=tf.Qwen2VLVideoProcessor(),
        chat_template=QWEN2_VL_CHAT_TEMPLATE,
    )


def build_tiny_model(family: str, out: str | Path, *, seed: int = 0) -> TinyModelInfo:
    """Write a tiny random checkpoint of ``family`` to ``out`` (created; existing files are overwritten).

    Args:
        family: ``"qwen2vl"``, ``"qwen25vl"`` or ``"qwen3vl"``.
        out: destination folder.
        seed: seeds the random weights; the same family and seed give byte-identical files.

    Returns:
        a :class:`TinyModelInfo` naming the template to train it with.

    Raises:
        ConfigError: for an unknown family.
    """
    if family not in FAMILY_SPECS:
        raise ConfigError(f"family must be one of {list(FAMILIES)}, got {family!r}")
    import torch

    tf = _transformers()

    template, model_type, _ = FAMILY_SPECS[family]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tok = build_tiny_tokenizer()
    config = _config(family, tok)
    model_cls = {
        "qwen2vl": tf.Qwen2VLForConditionalGeneration,
        "qwen25vl": tf.Qwen2_5_VLForConditionalGeneration,
        "qwen3vl": tf.Qwen3VLForConditionalGeneration,
    }[family]
    # fork_rng keeps the caller's global RNG untouched; manual_seed makes the weights a function of `seed` only.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = model_cls(config)
    model.generation_config.eos_token_id = config.text_config.eos_token_id
    model.generation_config.pad_token_id = config.text_config.pad_token_id
    model.save_pretrained(out)
    _processor(family, tok).save_pretrained(out)
    return TinyModelInfo(
        family=family,
        path=out,
        model_type=model_type,
        template=template,
        num_parameters=sum(p.numel() for p in model.parameters()),
    )
