"""Resizing a sample: images to the size the model will see, annotations with them.

Used when records are written for Qwen2.5-VL with ``--resize-images``: each image is stored at exactly the model-input
size (multiples of 28, within ``image_max_pixels``), so LLaMA-Factory and a plain vLLM server leave it untouched and
absolute pixel coordinates mean the same in training and serving.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PIL import Image

from ts_instruct.sample import Annotations, ChangeRegion, MaskRef, ObjectAnn, PolygonAnn, RefExpr


def _scale_flat(values: list[float] | None, sx: float, sy: float) -> list[float] | None:
    if values is None:
        return None
    return [v * (sx if i % 2 == 0 else sy) for i, v in enumerate(values)]


def _scale_ring(ring: list[list[float]], sx: float, sy: float) -> list[list[float]]:
    return [[x * sx, y * sy] for x, y in ring]


def scale_annotations(ann: Annotations, sx: float, sy: float, size: tuple[int, int] | None = None) -> Annotations:
    """Return a copy of ``ann`` with every coordinate multiplied by ``(sx, sy)``.

    Masks held in memory are resized with nearest-neighbour sampling to ``size`` ``(width, height)`` (required when
    any mask has pixels). Areas in ``changes`` scale by ``sx * sy``; ``stats`` fractions are unchanged.
    """
    masks = []
    for m in ann.masks:
        if m.pixels is not None:
            if size is None:
                raise ValueError("size must be given to resize masks held in memory")
            resized = np.asarray(Image.fromarray(m.pixels).resize(size, Image.Resampling.NEAREST))
            masks.append(replace(m, pixels=resized))
        else:
            masks.append(MaskRef(**{**m.__dict__}))
    return replace(
        ann,
        objects=[
            ObjectAnn(o.label, _scale_flat(o.hbox, sx, sy) or [], _scale_flat(o.qbox, sx, sy), o.difficult, o.truncated)
            for o in ann.objects
        ],
        polygons=[
            PolygonAnn(p.label, _scale_ring(p.exterior, sx, sy), [_scale_ring(h, sx, sy) for h in p.holes])
            for p in ann.polygons
        ],
        refs=[
            RefExpr(r.expression, _scale_flat(r.hbox, sx, sy) or [], r.label, _scale_flat(r.qbox, sx, sy))
            for r in ann.refs
        ],
        changes=[
            ChangeRegion(
                hbox=_scale_flat(c.hbox, sx, sy) or [],
                polygon=_scale_ring(c.polygon, sx, sy),
                holes=[_scale_ring(h, sx, sy) for h in c.holes],
                from_label=c.from_label,
                to_label=c.to_label,
                category=c.category,
                area=c.area * sx * sy,
            )
            for c in ann.changes
        ],
        masks=masks,
    )


def resize_rgb(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize an ``(H, W, 3)`` image to ``size`` ``(width, height)`` with bicubic filtering.

    Bicubic is what the Qwen image processors use, so the stored image matches what the model would have seen.
    """
    if (pixels.shape[1], pixels.shape[0]) == size:
        return pixels
    return np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.BICUBIC))
