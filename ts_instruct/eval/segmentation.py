"""Pixel scores: masks (rasterised polygons) against reference masks, binary change, SECOND's semantic change.

Polygons are rasterised with :func:`ts_instruct.masks.polygons_to_mask` (a pixel is set when its centre is inside,
top-left rule on edges), the exact inverse of how reference polygons are traced from masks, so a perfect polygon
answer gives back the reference pixels.

Binary scores (:class:`PixelCounts`) are accumulated over the whole evaluation set before dividing (the usual
convention of change detection benchmarks such as LEVIR-CD): precision ``TP / (TP + FP)``, recall
``TP / (TP + FN)``, F1 and IoU ``TP / (TP + FP + FN)``. A ratio whose denominator is 0 (no pixel of the class in
the reference or the prediction) is 1.0 when both are empty and 0.0 otherwise.

Semantic change (:func:`second_scores`) follows the SECOND benchmark's ``Eval_SCD.py`` (Bi-SRNet, SCanNet):
one ``num_class x num_class`` histogram ``hist[pred, label]`` over the maps of both dates, class 0 meaning
"no change"; ``mIoU`` is the mean of the IoU of no-change and of change; ``SeK = kappa(hist with hist[0, 0] = 0) *
exp(IoU_change) / e``; ``Score = 0.3 mIoU + 0.7 SeK``; ``Fscd`` the F1 of the semantic classes inside change.
Differences, only where the original has no value: pixels whose *label* is out of range (no-data) are left out
(the original filters on the prediction only and fails on such labels); an IoU of 0/0 is 1.0 (the original gives
NaN). Like the original, SeK is 0 when kappa is undefined (``pe == 1``, e.g. every changed pixel of one class).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np


def _safe(num: float, den: float, both_empty: bool) -> float:
    if den:
        return float(num) / float(den)
    return 1.0 if both_empty else 0.0


@dataclass
class PixelCounts:
    """True positive, false positive and false negative pixels of one binary class, summed over images."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, reference: np.ndarray, prediction: np.ndarray, valid: np.ndarray | None = None) -> None:
        """Add one image: boolean masks of the same shape; ``valid`` masks out no-data pixels."""
        if reference.shape != prediction.shape:
            raise ValueError(
                f"prediction mask must have the reference's shape {reference.shape}, got {prediction.shape}"
            )
        ref, pred = reference.astype(bool), prediction.astype(bool)
        if valid is not None:
            ref, pred = ref & valid, pred & valid
        self.tp += int(np.count_nonzero(ref & pred))
        self.fp += int(np.count_nonzero(~ref & pred))
        self.fn += int(np.count_nonzero(ref & ~pred))

    def scores(self) -> dict[str, float]:
        """Precision, recall, F1 and IoU (see the module docstring for empty classes)."""
        empty = self.tp + self.fp + self.fn == 0
        precision = _safe(self.tp, self.tp + self.fp, empty)
        recall = _safe(self.tp, self.tp + self.fn, empty)
        return {
            "precision": precision,
            "recall": recall,
            "f1": _safe(2 * self.tp, 2 * self.tp + self.fp + self.fn, empty),
            "iou": _safe(self.tp, self.tp + self.fp + self.fn, empty),
        }


def class_mask_scores(counts: dict[str, PixelCounts]) -> dict[str, Any]:
    """Per-class IoU/F1 and their means (mIoU, mF1) from accumulated counts.

    >>> c = PixelCounts(); c.add(np.array([1, 1, 0, 0]), np.array([1, 0, 1, 0]))
    >>> s = class_mask_scores({"building": c})
    >>> s["miou"], s["mf1"]
    (0.3333333333333333, 0.5)
    """
    per_class = {name: c.scores() for name, c in sorted(counts.items())}
    return {
        "miou": float(np.mean([s["iou"] for s in per_class.values()])) if per_class else 0.0,
        "mf1": float(np.mean([s["f1"] for s in per_class.values()])) if per_class else 0.0,
        "per_class": per_class,
    }


def fast_hist(prediction: np.ndarray, label: np.ndarray, num_class: int) -> np.ndarray:
    """``hist[pred, label]`` pixel counts, SECOND's ``fast_hist`` (pixels with a label out of range are left out).

    Returns:
        int64 array of shape (num_class, num_class).
    """
    a, b = prediction.ravel().astype(np.int64), label.ravel().astype(np.int64)
    k = (a >= 0) & (a < num_class) & (b >= 0) & (b < num_class)
    return np.bincount(num_class * a[k] + b[k], minlength=num_class**2).reshape(num_class, num_class)


def _kappa(hist: np.ndarray) -> float:
    """SECOND's ``cal_kappa``."""
    if hist.sum() == 0:
        return 0.0
    po = np.diag(hist).sum() / hist.sum()
    pe = np.matmul(hist.sum(1), hist.sum(0).T) / hist.sum() ** 2
    if pe == 1:
        return 0.0
    return float((po - pe) / (1 - pe))


def second_scores(hist: np.ndarray) -> dict[str, float]:
    """SECOND's semantic change scores from an accumulated :func:`fast_hist` (class 0 = no change).

    Returns:
        ``{"miou", "sek", "score", "fscd", "iou_change", "kappa_n0", "oa"}``.

    >>> h = fast_hist(np.array([0, 0, 1, 2, 2]), np.array([0, 0, 1, 2, 1]), 3)
    >>> s = second_scores(h)
    >>> round(s["miou"], 4), round(s["sek"], 4), round(s["fscd"], 4)
    (1.0, 0.4, 0.6667)
    """
    hist = np.asarray(hist, dtype=np.float64)
    c2 = np.zeros((2, 2))
    c2[0][0] = hist[0][0]
    c2[0][1] = hist.sum(1)[0] - hist[0][0]
    c2[1][0] = hist.sum(0)[0] - hist[0][0]
    c2[1][1] = hist[1:, 1:].sum()
    hist_n0 = hist.copy()
    hist_n0[0][0] = 0
    kappa_n0 = _kappa(hist_n0)
    den = c2.sum(1) + c2.sum(0) - np.diag(c2)
    iu = [_safe(c2[i][i], den[i], den[i] == 0) for i in range(2)]
    miou = (iu[0] + iu[1]) / 2
    sek = (kappa_n0 * math.exp(iu[1])) / math.e
    pixel_sum = hist.sum()
    change_pred = pixel_sum - hist.sum(1)[0]
    change_label = pixel_sum - hist.sum(0)[0]
    sc_tp = np.diag(hist[1:, 1:]).sum()
    both_empty = change_pred == 0 and change_label == 0
    precision = _safe(sc_tp, change_pred, both_empty)
    recall = _safe(sc_tp, change_label, both_empty)
    return {
        "miou": float(miou),
        "sek": float(sek),
        "score": float(0.3 * miou + 0.7 * sek),
        "fscd": _safe(2 * precision * recall, precision + recall, both_empty),
        "iou_change": float(iu[1]),
        "kappa_n0": kappa_n0,
        "oa": _safe(np.diag(hist).sum(), pixel_sum, pixel_sum == 0),
    }
