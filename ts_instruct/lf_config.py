"""LLaMA-Factory configuration files: load them, check their keys, and tell which Qwen-VL family they train.

LLaMA-Factory reads a flat YAML mapping whose keys are the fields of its argument dataclasses (``ModelArguments``,
``DataArguments``, ``TrainingArguments``, ``FinetuningArguments``, ``GeneratingArguments``); an unknown key makes
it stop with a parse error. :func:`unknown_keys` finds those keys before a GPU job is queued.

The *model family* decides how coordinates are written in the training text (see ``ts_instruct.render``): Qwen2-VL
and Qwen3-VL use a 0–1000 grid, Qwen2.5-VL absolute pixels of the resized input. LLaMA-Factory's ``template``
alone cannot tell Qwen2-VL from Qwen2.5-VL (both use ``qwen2_vl``), so :func:`model_family` also looks at the model
(its ``config.json`` when it is a local folder, else its name).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml

from ts_instruct.errors import ConfigError

ConfigKind = Literal["train", "infer"]

#: LLaMA-Factory template → the model families (render style names) it serves.
TEMPLATE_FAMILIES: dict[str, frozenset[str]] = {
    "qwen2_vl": frozenset({"qwen2vl", "qwen25vl"}),
    "qwen3_vl": frozenset({"qwen3vl"}),
    "qwen3_vl_nothink": frozenset({"qwen3vl"}),
}

#: transformers ``model_type`` → model family.
MODEL_TYPE_FAMILIES: dict[str, str] = {
    "qwen2_vl": "qwen2vl",
    "qwen2_5_vl": "qwen25vl",
    "qwen3_vl": "qwen3vl",
    "qwen3_vl_moe": "qwen3vl",
}

# Hub names: "Qwen/Qwen2.5-VL-7B-Instruct", "Qwen/Qwen2-VL-7B-Instruct", "Qwen/Qwen3-VL-8B-Instruct", ...
_NAME_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"qwen2[._]?5[-_]?vl", re.IGNORECASE), "qwen25vl"),
    (re.compile(r"qwen2[-_]?vl", re.IGNORECASE), "qwen2vl"),
    (re.compile(r"qwen3[-_]?vl", re.IGNORECASE), "qwen3vl"),
)

#: LLaMA-Factory's own defaults (``ProcessorArguments``), used when a config leaves the key out.
DEFAULT_IMAGE_MAX_PIXELS = 768 * 768
DEFAULT_IMAGE_MIN_PIXELS = 32 * 32


def load_lf_yaml(path: str | Path) -> dict[str, Any]:
    """Read a LLaMA-Factory YAML config into a flat dict.

    Args:
        path: the ``.yaml`` file.

    Returns:
        the mapping, keys in file order.

    Raises:
        ConfigError: when the file is not a YAML mapping of string keys to scalars or lists.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a LLaMA-Factory config must be a YAML mapping, got {type(data).__name__}")
    for key, value in data.items():
        if isinstance(value, Mapping):
            raise ConfigError(f"{path}: key {key!r} must be a scalar (LLaMA-Factory configs are flat), got a mapping")
    return {str(k): v for k, v in data.items()}


def llamafactory_argument_names(kind: ConfigKind = "train") -> frozenset[str]:
    """The keys LLaMA-Factory accepts in a config of ``kind``, read from its argument dataclasses.

    Args:
        kind: ``"train"`` (``llamafactory-cli train``: model, data, training, finetuning and generating arguments) or
            ``"infer"`` (``export``, ``api``, ``chat``: the same without ``TrainingArguments``).

    Returns:
        every field name of those dataclasses.
    """
    from llamafactory.hparams import (
        DataArguments,
        FinetuningArguments,
        GeneratingArguments,
        ModelArguments,
        TrainingArguments,
    )

    classes: list[type[Any]] = [ModelArguments, DataArguments, FinetuningArguments, GeneratingArguments]
    if kind == "train":
        classes.append(TrainingArguments)
    return frozenset(f.name for cls in classes for f in dataclasses.fields(cls))


def unknown_keys(config: Mapping[str, Any], kind: ConfigKind = "train") -> list[str]:
    """The keys of ``config`` that LLaMA-Factory would reject (empty when the config is valid), in file order."""
    valid = llamafactory_argument_names(kind)
    return [k for k in config if k not in valid]


def model_family(model_name_or_path: str) -> str | None:
    """The family (``"qwen2vl"``, ``"qwen25vl"``, ``"qwen3vl"``) of a model, or ``None`` when it cannot be told.

    A local folder is identified by its ``config.json`` ``model_type``; otherwise the hub name is matched.

    >>> model_family("Qwen/Qwen2.5-VL-7B-Instruct"), model_family("Qwen/Qwen2-VL-2B"), model_family("my-model")
    ('qwen25vl', 'qwen2vl', None)
    """
    config = Path(model_name_or_path) / "config.json"
    if config.is_file():
        try:
            model_type = json.loads(config.read_text(encoding="utf-8")).get("model_type")
        except (json.JSONDecodeError, AttributeError) as e:
            raise ConfigError(f"{config}: not a valid model config: {e}") from e
        return MODEL_TYPE_FAMILIES.get(str(model_type))
    for pattern, family in _NAME_PATTERNS:
        if pattern.search(model_name_or_path):
            return family
    return None


def check_render_matches(render: Mapping[str, Any], config: Mapping[str, Any], *, source: str) -> None:
    """Refuse a training config that would read text rendered for another model family or image size.

    Args:
        render: a record's ``meta["render"]`` (``style``, ``template``, ``image_max_pixels``, ``image_min_pixels``).
        config: the LLaMA-Factory training config (flat dict).
        source: where ``config`` came from, for messages.

    Raises:
        ConfigError: when the template, the model family or the image pixel limits disagree; wrong coordinates
            would otherwise train silently.
    """
    style = str(render.get("style"))
    template = config.get("template")
    if template != render.get("template"):
        raise ConfigError(
            f"{source}: template must be {render.get('template')!r} for data rendered in style {style!r}, "
            f"got {template!r}; convert the data for this template or use a matching training config"
        )
    families = TEMPLATE_FAMILIES.get(str(template))
    if families is None:
        raise ConfigError(f"{source}: template must be one of {sorted(TEMPLATE_FAMILIES)}, got {template!r}")
    if style not in families:
        raise ConfigError(
            f"{source}: template {template!r} serves {sorted(families)}, but the data is rendered in style {style!r}"
        )
    model = config.get("model_name_or_path")
    family = model_family(str(model)) if model else None
    if family is not None and family != style:
        raise ConfigError(
            f"{source}: model {model!r} is a {family} model, but the data is rendered in style {style!r}; "
            f"re-convert the data with the {family} style or train a {style} model"
        )
    for key, default in (
        ("image_max_pixels", DEFAULT_IMAGE_MAX_PIXELS),
        ("image_min_pixels", DEFAULT_IMAGE_MIN_PIXELS),
    ):
        if key not in render:
            continue
        value = config.get(key, default)
        if value != render[key]:
            raise ConfigError(
                f"{source}: {key} must be {render[key]} (the value the data's coordinates were written for), "
                f"got {value}"
            )
