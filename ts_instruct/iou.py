"""Intersection over union of boxes and polygons, in the pixel conventions of :mod:`ts_instruct.geometry`.

Pairwise and sparse forms for horizontal boxes, oriented boxes (4 corners) and polygons. Quads that are not simple
are repaired first (:func:`ts_instruct.geometry.qbox_geometries`). The scoring of model answers uses the DOTA/VOC
variants in :mod:`ts_instruct.eval.detection`, which build on the same repaired geometries.
"""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from ts_instruct.geometry import FloatArray, as_boxes, as_poly, qbox_geometries


def iou_hbox(a: ArrayLike, b: ArrayLike) -> FloatArray:
    """Pairwise IoU of hboxes a (N, 4) and b (M, 4), array of shape (N, M); 0 where the union is empty.

    Example:
        >>> iou_hbox([[0, 0, 2, 2]], [[1, 0, 3, 2], [5, 5, 6, 6]]).round(4).tolist()
        [[0.3333, 0.0]]
    """
    a_ = as_boxes(a, 4, "a").reshape(-1, 4)
    b_ = as_boxes(b, 4, "b").reshape(-1, 4)
    area_a = (a_[:, 2] - a_[:, 0]).clip(0) * (a_[:, 3] - a_[:, 1]).clip(0)
    area_b = (b_[:, 2] - b_[:, 0]).clip(0) * (b_[:, 3] - b_[:, 1]).clip(0)
    iw = (np.minimum(a_[:, None, 2], b_[None, :, 2]) - np.maximum(a_[:, None, 0], b_[None, :, 0])).clip(0)
    ih = (np.minimum(a_[:, None, 3], b_[None, :, 3]) - np.maximum(a_[:, None, 1], b_[None, :, 1])).clip(0)
    inter = iw * ih
    union = area_a[:, None] + area_b[None, :] - inter
    return np.asarray(np.divide(inter, union, out=np.zeros_like(inter), where=union > 0), dtype=np.float64)


def iou_poly(a: ArrayLike, b: ArrayLike) -> float:
    """IoU of two polygons (M, 2) and (K, 2); invalid rings are repaired first; 0.0 when the union is empty.

    Example:
        >>> iou_poly([[0, 0], [2, 0], [2, 2], [0, 2]], [[1, 0], [3, 0], [3, 2], [1, 2]])
        0.3333333333333333
    """
    ga = shapely.make_valid(shapely.Polygon(as_poly(a, "a")))
    gb = shapely.make_valid(shapely.Polygon(as_poly(b, "b")))
    inter = float(shapely.area(shapely.intersection(ga, gb)))
    union = float(shapely.area(ga) + shapely.area(gb)) - inter
    return inter / union if union > 0 else 0.0


def iou_qbox(a: ArrayLike, b: ArrayLike) -> FloatArray:
    """Pairwise IoU of qboxes a (N, 8) and b (M, 8), array of shape (N, M).

    Only pairs whose bounding boxes overlap (found with a shapely ``STRtree``) are intersected, so the geometry cost
    grows with the number of overlapping pairs, not N x M; for 100k boxes against thousands the dense (N, M) array
    itself is the cost, and :func:`iou_qbox_pairs` gives the same numbers sparsely. Invalid quads (bow-ties) are
    repaired with ``make_valid``.

    Example:
        >>> iou_qbox([[0, 0, 2, 0, 2, 2, 0, 2]], [[1, 0, 3, 0, 3, 2, 1, 2]]).round(4).tolist()
        [[0.3333]]
    """
    ia, ib, iou = iou_qbox_pairs(a, b)
    out = np.zeros((len(np.reshape(a, (-1, 8))), len(np.reshape(b, (-1, 8)))))
    out[ia, ib] = iou
    return out


def iou_qbox_pairs(a: ArrayLike, b: ArrayLike) -> tuple[NDArray[np.intp], NDArray[np.intp], FloatArray]:
    """IoU of the overlapping pairs of qboxes a (N, 8) and b (M, 8), sparse.

    Returns:
        ``(ia, ib, iou)``: arrays of shape (K,) with ``iou[k]`` the IoU of ``a[ia[k]]`` and ``b[ib[k]]`` for the
        K pairs whose shapes intersect (ordered by ``ia``, then ``ib``); all other pairs have IoU 0.

    Example:
        >>> from ts_instruct.geometry import hbox2qbox
        >>> ia, ib, iou = iou_qbox_pairs(hbox2qbox([[0, 0, 2, 2], [9, 9, 10, 10]]), hbox2qbox([[1, 0, 3, 2]]))
        >>> ia.tolist(), ib.tolist(), iou.round(4).tolist()
        ([0], [0], [0.3333])
    """
    a_ = as_boxes(a, 8, "a").reshape(-1, 8)
    b_ = as_boxes(b, 8, "b").reshape(-1, 8)
    if len(a_) == 0 or len(b_) == 0:
        return np.zeros(0, np.intp), np.zeros(0, np.intp), np.zeros(0)
    ga, gb = qbox_geometries(a_), qbox_geometries(b_)
    ia, ib = shapely.STRtree(gb).query(ga, predicate="intersects")
    order = np.lexsort((ib, ia))
    ia, ib = ia[order].astype(np.intp), ib[order].astype(np.intp)
    inter = np.asarray(shapely.area(shapely.intersection(ga[ia], gb[ib])), dtype=np.float64)
    union = shapely.area(ga[ia]) + shapely.area(gb[ib]) - inter
    return ia, ib, np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
