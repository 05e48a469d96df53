"""The size a Qwen-VL model sees: LLaMA-Factory's ``image_max_pixels`` step, then the processor's ``smart_resize``.

Qwen2.5-VL answers in absolute pixels of the image *as the model receives it*, so its boxes must be written in that
frame. LLaMA-Factory 0.9.5 resizes every image twice before the model sees it:

1. ``MMPluginMixin._preprocess_image``: when ``W * H > image_max_pixels`` both sides are scaled by
   ``sqrt(image_max_pixels / (W * H))`` and truncated with ``int()``; then, when ``W * H < image_min_pixels``, both
   are scaled up the same way. ``Qwen2VLPlugin._preprocess_image`` (also used for Qwen3-VL) then forces each side to
   at least 28 pixels and squeezes an aspect ratio above 200 to 180.
2. The HF image processor applies :func:`smart_resize` with ``factor = patch_size * merge_size`` (28 for
   Qwen2/2.5-VL, 32 for Qwen3-VL) and its own ``min_pixels``/``max_pixels`` (``size.shortest_edge`` /
   ``size.longest_edge``).

The result can exceed ``image_max_pixels`` and can be larger than the original on one axis (800x600 -> 812x588).
A plain ``vllm serve`` skips step 1, so pre-resize images on disk when training and serving must agree.
"""

from __future__ import annotations

import math

__all__ = [
    "LF_IMAGE_MAX_PIXELS",
    "LF_IMAGE_MIN_PIXELS",
    "QWEN2VL_FACTOR",
    "QWEN2VL_MAX_PIXELS",
    "QWEN2VL_MIN_PIXELS",
    "QWEN3VL_FACTOR",
    "QWEN3VL_MAX_PIXELS",
    "QWEN3VL_MIN_PIXELS",
    "lf_input_size",
    "smart_resize",
]

#: LLaMA-Factory ``ProcessorArguments`` defaults (ints: 768*768 and 32*32).
LF_IMAGE_MAX_PIXELS = 589824
LF_IMAGE_MIN_PIXELS = 1024
#: Qwen2-VL / Qwen2.5-VL released processor: patch 14 x merge 2, ``shortest_edge`` 56*56, ``longest_edge`` 16384*28*28.
QWEN2VL_FACTOR = 28
QWEN2VL_MIN_PIXELS = 3136
QWEN2VL_MAX_PIXELS = 12845056
#: Qwen3-VL released processor: patch 16 x merge 2, ``shortest_edge`` 65536, ``longest_edge`` 16777216.
QWEN3VL_FACTOR = 32
QWEN3VL_MIN_PIXELS = 65536
QWEN3VL_MAX_PIXELS = 16777216

_MIN_SIDE = 28  # Qwen2VLPlugin forces this for every Qwen-VL generation, whatever the patch size
_MAX_RATIO = 200  # aspect ratio above which the plugin squeezes the image ...
_SQUEEZED_RATIO = 180  # ... down to this one


def _check_positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def smart_resize(
    height: int, width: int, factor: int = 28, min_pixels: int = 56 * 56, max_pixels: int = 14 * 14 * 4 * 1280
) -> tuple[int, int]:
    """Round an image size to multiples of ``factor`` within a pixel budget, as the Qwen-VL image processor does.

    Line for line the function of ``transformers.models.qwen2_vl.image_processing_qwen2_vl`` (same defaults, same
    float operations, same rounding: Python's ``round`` rounds halves to even), so no torch/torchvision is needed.

    Args:
        height: image height in pixels.
        width: image width in pixels.
        factor: side multiple, ``patch_size * merge_size`` (28 for Qwen2/2.5-VL, 32 for Qwen3-VL).
        min_pixels: smallest allowed ``H * W`` (processor ``size.shortest_edge``).
        max_pixels: largest allowed ``H * W`` (processor ``size.longest_edge``).

    Returns:
        ``(resized_height, resized_width)``, both multiples of ``factor`` (note the order: height first).

    Raises:
        ValueError: when the aspect ratio exceeds 200 (same message as transformers).

    Example:
        >>> smart_resize(3000, 4000, max_pixels=589824)
        (644, 868)
    """
    if max(height, width) / min(height, width) > 200:
        raise ValueError(
            f"absolute aspect ratio must be smaller than 200, got {max(height, width) / min(height, width)}"
        )
    h_bar = round(height / factor) * factor
    w_bar = round(width / factor) * factor
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


def lf_input_size(
    w: int,
    h: int,
    max_px: int = LF_IMAGE_MAX_PIXELS,
    min_px: int = LF_IMAGE_MIN_PIXELS,
    proc_min: int = QWEN2VL_MIN_PIXELS,
    proc_max: int = QWEN2VL_MAX_PIXELS,
    factor: int = QWEN2VL_FACTOR,
) -> tuple[int, int]:
    """Size of the image a Qwen-VL model receives from LLaMA-Factory 0.9.5 (both resize steps of the module doc).

    Args:
        w: width of the image file in pixels.
        h: height of the image file in pixels.
        max_px: LLaMA-Factory ``image_max_pixels``.
        min_px: LLaMA-Factory ``image_min_pixels``.
        proc_min: processor ``min_pixels`` (``size.shortest_edge``).
        proc_max: processor ``max_pixels`` (``size.longest_edge``).
        factor: ``patch_size * merge_size`` (28 or 32).

    Returns:
        ``(width, height)`` of the model input in pixels (note the order: width first, unlike :func:`smart_resize`).

    Raises:
        ValueError: when an argument is not a positive int, or the image is so thin that step 1 makes a side 0
            (LLaMA-Factory itself fails on such an image with a division by zero).

    Example:
        >>> lf_input_size(800, 600), lf_input_size(512, 512), lf_input_size(4000, 3000)
        ((812, 588), (504, 504), (896, 672))
    """
    for name, value in (("w", w), ("h", h), ("max_px", max_px), ("min_px", min_px), ("proc_min", proc_min)):
        _check_positive_int(name, value)
    _check_positive_int("proc_max", proc_max)
    _check_positive_int("factor", factor)
    if w * h > max_px:
        r = math.sqrt(max_px / (w * h))
        w, h = int(w * r), int(h * r)
    if w * h == 0:
        raise ValueError(
            f"image must keep both sides >= 1 pixel after scaling to image_max_pixels={max_px}, got {w}x{h}; "
            "crop or pad such thin images before training"
        )
    if w * h < min_px:
        r = math.sqrt(min_px / (w * h))
        w, h = int(w * r), int(h * r)
    if min(w, h) < _MIN_SIDE:
        w, h = max(w, _MIN_SIDE), max(h, _MIN_SIDE)
    if w / h > _MAX_RATIO:
        w = h * _SQUEEZED_RATIO
    if h / w > _MAX_RATIO:
        h = w * _SQUEEZED_RATIO
    out_h, out_w = smart_resize(h, w, factor=factor, min_pixels=proc_min, max_pixels=proc_max)
    return out_w, out_h
