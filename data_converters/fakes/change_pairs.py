"""Building blocks for fake change pairs: an earlier texture, separated changed shapes, and the later image.

Shapes are placed one per grid cell with a margin, so they never touch: each is exactly one connected component of
the change mask, and a correct conversion finds exactly one region per shape.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from data_converters.fakes.common import texture

Mask = NDArray[np.bool_]


def shapes(rng: np.random.Generator, height: int, width: int, n: int, *, cell: int = 16, margin: int = 2) -> list[Mask]:
    """Up to ``n`` non-touching shapes (rectangles, ellipses, L-shapes), one per ``cell`` x ``cell`` grid cell.

    Returns:
        Boolean masks of shape (H, W), one per shape, in grid order (row-major).
    """
    cells = [(r, c) for r in range(height // cell) for c in range(width // cell)]
    order = rng.permutation(len(cells))[:n]
    out = []
    yy, xx = np.mgrid[0:height, 0:width]
    for i in sorted(order.tolist()):
        r, c = cells[i]
        y0, x0 = r * cell + margin, c * cell + margin
        span = cell - 2 * margin
        h = int(rng.integers(max(3, span // 2), span + 1))
        w = int(rng.integers(max(3, span // 2), span + 1))
        oy, ox = y0 + int(rng.integers(0, span - h + 1)), x0 + int(rng.integers(0, span - w + 1))
        m = np.zeros((height, width), bool)
        kind = int(rng.integers(0, 3))
        if kind == 0:
            m[oy : oy + h, ox : ox + w] = True
        elif kind == 1:
            cy, cx = oy + (h - 1) / 2, ox + (w - 1) / 2
            m = ((yy - cy) / max(h / 2, 1)) ** 2 + ((xx - cx) / max(w / 2, 1)) ** 2 <= 1.0
        else:
            m[oy : oy + h, ox : ox + max(2, w // 3)] = True
            m[oy + h - max(2, h // 3) : oy + h, ox : ox + w] = True
        out.append(m)
    return out


def paint(image: NDArray[np.uint8], mask: Mask, colour: tuple[int, int, int]) -> NDArray[np.uint8]:
    """A copy of ``image`` with ``mask`` filled by ``colour`` (a roof, a road, water), lightly shaded."""
    out = image.copy()
    shade = (np.arange(image.shape[1]) % 3 - 1).astype(np.int16)[None, :, None] * 6
    fill = np.clip(np.asarray(colour, np.int16)[None, None, :] + shade, 0, 255).astype(np.uint8)
    fill = np.broadcast_to(fill, image.shape)
    out[mask] = fill[mask]
    return out


def pair_images(rng: np.random.Generator, height: int, width: int) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """An earlier texture and a later copy of it with a small global brightness shift (a different date)."""
    before = texture(rng, height, width)
    shift = int(rng.integers(-12, 13))
    after = np.clip(before.astype(np.int16) + shift, 0, 255).astype(np.uint8)
    return before, after
