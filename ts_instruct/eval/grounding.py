"""Visual grounding: one predicted box per referring expression, scored by IoU in pixels of the image.

Boxes are in pixel coordinates of the emitted image, continuous (a pixel ``(i, j)`` covers ``[j, j+1)``), so a
box ``[x1, y1, x2, y2]`` has width ``x2 - x1``: no "+1 pixel". Public remote-sensing grounding evaluators that add
1 to widths of boxes in normalised (0-1 or 0-1000) coordinates inflate the IoU of small boxes; this module does not.
Horizontal boxes have 4 values, oriented boxes 8 (``[x1, y1, ..., x4, y4]``); a pair with an oriented box is
scored by exact polygon IoU (the horizontal box taken as its rectangle).

``Acc@t`` is the share of expressions whose predicted box has IoU >= t with the reference box (the RefCOCO
convention); ``mean_iou`` averages IoU over all expressions. An unparsed answer has IoU 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ts_instruct.eval.detection import hbox_iou_pairs, poly_iou_pairs
from ts_instruct.geometry import qbox_geometries


def _as_quad(box: np.ndarray) -> np.ndarray:
    if len(box) == 8:
        return box
    x1, y1, x2, y2 = box
    return np.array([x1, y1, x2, y1, x2, y2, x1, y2], dtype=np.float64)


def box_iou(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float:
    """IoU of two boxes of 4 (horizontal) or 8 (oriented) values, continuous pixel coordinates.

    Raises:
        ValueError: when a box has neither 4 nor 8 values.

    >>> box_iou([0, 0, 10, 10], [5, 0, 15, 10])
    0.3333333333333333
    >>> box_iou([0, 0, 10, 10], [0, 0, 10, 0, 10, 10, 0, 10])
    1.0
    """
    pa, pb = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    for name, box in (("a", pa), ("b", pb)):
        if len(box) not in (4, 8):
            raise ValueError(f"box {name} must have 4 (x1, y1, x2, y2) or 8 (4 corners) values, got {len(box)}")
    if len(pa) == 4 and len(pb) == 4:
        return float(hbox_iou_pairs(pa[None], pb[None], plus_one=False)[0])
    polys = qbox_geometries(np.stack([_as_quad(pa), _as_quad(pb)]))
    return float(poly_iou_pairs(polys[:1], polys[1:])[0])


def grounding_scores(
    references: Sequence[Sequence[float] | np.ndarray],
    predictions: Sequence[Sequence[float] | np.ndarray | None],
    thresholds: Sequence[float] = (0.5, 0.7),
) -> dict[str, Any]:
    """Acc@t for each threshold, mean IoU, and the number of unparsed answers.

    Args:
        references: the reference box of each expression (4 or 8 values, pixels).
        predictions: the predicted box, or ``None`` when no box could be read.
        thresholds: IoU thresholds of the ``Acc@t`` entries.

    Returns:
        ``{"n", "unparsed", "Acc@0.5", "Acc@0.7", "mean_iou"}``.

    >>> s = grounding_scores([[0, 0, 10, 10], [0, 0, 10, 10]], [[0, 0, 10, 8], None])
    >>> s["Acc@0.5"], s["Acc@0.7"], s["mean_iou"], s["unparsed"]
    (0.5, 0.5, 0.4, 1)
    """
    if len(references) != len(predictions):
        raise ValueError(f"predictions must have one entry per reference ({len(references)}), got {len(predictions)}")
    ious = np.array([0.0 if p is None else box_iou(r, p) for r, p in zip(references, predictions, strict=True)])
    out: dict[str, Any] = {"n": len(ious), "unparsed": sum(p is None for p in predictions)}
    for t in thresholds:
        out[f"Acc@{t:g}"] = float((ious >= t).mean()) if len(ious) else 0.0
    out["mean_iou"] = float(ious.mean()) if len(ious) else 0.0
    return out
