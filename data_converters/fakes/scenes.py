"""Synthetic overhead scenes with detail at the scale of real imagery: fields, roads, roofs and sensor noise.

:func:`~data_converters.fakes.common.texture` gives smooth ground; real RS images also hold sharp, small structures
(a roof is 5-20 px at 0.5-1 m GSD, whatever the image size). Perceptual hashes need that detail to tell images apart
and to recognise a re-encoded copy, so the leakage tests and benchmark draw images from :func:`scene`. Sizes are in
pixels, independent of the image size, as a fixed ground sampling distance would make them.
"""

from __future__ import annotations

import numpy as np

from data_converters.fakes.common import texture


def scene(rng: np.random.Generator, height: int, width: int, *, ground: np.ndarray | None = None) -> np.ndarray:
    """A random scene ``(H, W, 3)`` uint8: textured ground, tinted fields, straight roads, roofs, noise.

    Two calls with independent generators give unrelated scenes (different layouts everywhere); the same generator
    state gives the same bytes.

    Args:
        rng: the generator every choice is drawn from.
        height: rows.
        width: columns.
        ground: an ``(H, W, 3)`` uint8 ground to build on instead of a fresh texture: scenes of one area, with the
            same ground and palette and different structures.
    """
    img = (texture(rng, height, width) if ground is None else ground).astype(np.float32)
    area = height * width
    for _ in range(int(rng.integers(1, 4 + area // 8192))):  # fields: large tinted rectangles
        h = int(rng.integers(max(4, height // 8), max(5, height // 2)))
        w = int(rng.integers(max(4, width // 8), max(5, width // 2)))
        y, x = int(rng.integers(0, max(1, height - h))), int(rng.integers(0, max(1, width - w)))
        img[y : y + h, x : x + w] += rng.uniform(-35, 35, size=3).astype(np.float32)
    for _ in range(int(rng.integers(1, 2 + (height + width) // 96))):  # roads: grey straight bands
        thick = int(rng.integers(2, 6))
        grey = float(rng.uniform(90, 170))
        if rng.random() < 0.5:
            y = int(rng.integers(0, max(1, height - thick)))
            img[y : y + thick, :] = grey
        else:
            x = int(rng.integers(0, max(1, width - thick)))
            img[:, x : x + thick] = grey
    for _ in range(int(area / 400 * rng.uniform(0.2, 1.0))):  # roofs: small bright or dark rectangles
        h, w = (int(v) for v in rng.integers(3, 15, size=2))
        y, x = int(rng.integers(0, max(1, height - h))), int(rng.integers(0, max(1, width - w)))
        img[y : y + h, x : x + w] = rng.uniform(20, 240, size=3).astype(np.float32)
    img += rng.normal(0.0, 2.0, size=img.shape).astype(np.float32)
    out: np.ndarray = np.clip(img, 0, 255).astype(np.uint8)
    return out
