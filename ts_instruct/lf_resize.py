"""LLaMA-Factory's image pre-scaling for Qwen-VL models, reproduced so inference sees the training frame.

In training, LLaMA-Factory scales every image into ``[image_min_pixels, image_max_pixels]`` (both sides by the same
factor, truncated with ``int()``) and then makes the shorter side at least 28 pixels (``Qwen2VLPlugin``), *before*
the Hugging Face processor's own ``smart_resize``. A plain ``vllm serve`` or ``transformers`` pipeline only runs
``smart_resize``; for large images the two paths end a few pixels apart, which shifts Qwen2.5-VL's absolute pixel
boxes. Applying :func:`preprocess_image` client-side (it is idempotent) makes every server see what training saw.
"""

from __future__ import annotations

import math
from typing import Any


def _steps(width: int, height: int, max_pixels: int, min_pixels: int) -> list[tuple[int, int]]:
    """The sizes after each of LLaMA-Factory's resize steps (a step that changes nothing repeats the size)."""
    sizes = []
    if width * height > max_pixels:
        r = math.sqrt(max_pixels / (width * height))
        width, height = int(width * r), int(height * r)
    sizes.append((width, height))
    if width * height < min_pixels:
        r = math.sqrt(min_pixels / (width * height))
        width, height = int(width * r), int(height * r)
    sizes.append((width, height))
    if min(width, height) < 28:  # Qwen2VLPlugin: both sides at least 28
        width, height = max(width, 28), max(height, 28)
    sizes.append((width, height))
    if width / height > 200:  # Qwen2VLPlugin: aspect ratio at most 180 after clamping
        width = height * 180
    sizes.append((width, height))
    if height / width > 200:
        height = width * 180
    sizes.append((width, height))
    return sizes


def preprocess_size(width: int, height: int, max_pixels: int, min_pixels: int) -> tuple[int, int]:
    """The ``(width, height)`` LLaMA-Factory scales an image of ``width x height`` pixels to.

    Args:
        width: image width in pixels.
        height: image height in pixels.
        max_pixels: the training config's ``image_max_pixels``.
        min_pixels: the training config's ``image_min_pixels``.

    Returns:
        the size after LLaMA-Factory's pre-scaling (the processor's ``smart_resize`` still follows).

    >>> preprocess_size(4000, 3000, 589824, 1024)
    (886, 665)
    >>> preprocess_size(886, 665, 589824, 1024)  # idempotent
    (886, 665)
    >>> preprocess_size(20, 10, 589824, 1024)  # up to min_pixels, then the short side to 28
    (45, 28)
    """
    return _steps(width, height, max_pixels, min_pixels)[-1]


def preprocess_image(image: Any, max_pixels: int, min_pixels: int) -> Any:
    """Scale a PIL image as LLaMA-Factory does, then convert it to RGB.

    One ``Image.resize`` per step with the default filter, as LLaMA-Factory calls it, so the pixels match training,
    not only the size.
    """
    for size in _steps(image.width, image.height, max_pixels, min_pixels):
        if size != (image.width, image.height):
            image = image.resize(size)
    return image.convert("RGB") if image.mode != "RGB" else image
