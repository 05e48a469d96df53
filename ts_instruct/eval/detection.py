"""Average precision for horizontal (HBB) and oriented (OBB) boxes, matching DOTA's official evaluation.

The reference is DOTA_devkit's ``dota_evaluation_task1.py`` (OBB) and ``dota_evaluation_task2.py`` (HBB), both
derived from the PASCAL VOC ``voc_eval``. For each class, over the whole evaluation set:

1. Detections keep their input order (record order, then the order inside the answer: the order of the lines of
   DOTA's ``Task1_<class>.txt``) and are ranked with ``np.argsort(-confidence)``, numpy's default (introsort,
   *not stable*) sort, exactly as the official code does. Predictions without a score get confidence ``1.0``, so
   their ranking is what that very call makes of equal scores (for up to 16 detections of a class that is input
   order; beyond that numpy's own unstable order, fixed for a given numpy build). ``tie_order="stable"`` ranks
   ties in input order instead, reproducible across numpy builds, and no longer identical to DOTA.
2. Each detection, in rank order, takes the ground-truth object of its image and class with the largest IoU
   (the first one in annotation order on ties), *whether or not that object is already taken*. If that IoU is
   strictly greater than the threshold (``ovmax > ovthresh``: an IoU of exactly 0.5 is a miss), the detection is
   ignored when the object is ``difficult``, a true positive when the object is not yet taken (the object becomes
   taken), and a false positive (a duplicate) otherwise. Below the threshold it is a false positive.
3. ``recall = cumsum(tp) / npos`` with ``npos`` the number of non-difficult objects;
   ``precision = cumsum(tp) / max(cumsum(tp) + cumsum(fp), eps)``; AP by VOC-07's 11 recall points
   (``np.arange(0., 1.1, 0.1)``, the official default, ``use_07_metric=True``) or by the area under the
   monotone precision envelope (``"all_point"``, VOC 2010+).

IoU conventions, as in the official code:

* HBB (task 2): boxes ``[x1, y1, x2, y2]`` with DOTA's "+1 pixel" convention, width ``x2 - x1 + 1``
  (``iou_convention="dota"``, the default, for numbers identical to the official ones); ``"continuous"`` uses
  width ``x2 - x1``, the convention of :mod:`ts_instruct.sample` coordinates (a pixel covers ``[j, j+1)``).
  The official task-2 ``parse_gt`` truncates its integer label files with ``int(float(v))``; ground truth here is
  taken as given (float pixels), which is the same on integer boxes.
* OBB (task 1): the exact area of intersection over union of the two quadrilaterals (``polyiou.iou_poly``), which
  is independent of corner order and orientation. The official code keeps only ground truth whose bounding box
  "+1" IoU with the detection's is positive; that prefilter never drops a pair of positive polygon IoU, so it
  changes nothing and is replaced here by a strict bounding-box intersection test. Areas come from shapely 2,
  vectorised over all candidate pairs; a predicted quadrilateral that is not a simple polygon (a "bow tie") is
  repaired with ``shapely.make_valid`` (its two lobes), where ``polyiou`` would return an ill-defined signed area.

Differences from the official script, where it has no defined answer: a class with ground truth and no detection
has AP 0 (the script crashes on an empty result file); a class without non-difficult ground truth has AP ``None``
and is left out of the mAP (the script divides by zero); pairs whose union is 0 have IoU 0. The COCO-style
``iou_thresholds=COCO_THRESHOLDS`` averages the VOC AP above over IoU 0.50:0.05:0.95 with the same matching; it
is not pycocotools' 101-point, area-range evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import shapely

from ts_instruct.geometry import qbox_geometries

BoxKind = Literal["hbox", "qbox"]
APMethod = Literal["voc07", "all_point"]

#: IoU thresholds of the COCO-style average: 0.50, 0.55, ..., 0.95.
COCO_THRESHOLDS: tuple[float, ...] = tuple(round(0.5 + 0.05 * i, 2) for i in range(10))

_METHODS: tuple[APMethod, ...] = ("voc07", "all_point")
_MAX_PAIRS = 4_000_000  # candidate (detection, object) pairs held at once; bounds memory on crowded images


@dataclass
class ImageDetections:
    """Boxes of one image: ground truth or predictions.

    Attributes:
        boxes: array of shape (N, 4) ``[x1, y1, x2, y2]`` for ``"hbox"`` or (N, 8) ``[x1, y1, ..., x4, y4]`` for
            ``"qbox"``, pixels of the image.
        labels: N class names.
        scores: N confidences (predictions), or ``None`` when the model gave none (all ranked as equal).
        difficult: N flags (ground truth); ``None`` means none is difficult.
    """

    boxes: np.ndarray
    labels: Sequence[str]
    scores: np.ndarray | None = None
    difficult: np.ndarray | None = None

    @classmethod
    def empty(cls, kind: BoxKind) -> ImageDetections:
        """An image without boxes."""
        return cls(np.zeros((0, 4 if kind == "hbox" else 8)), [])


@dataclass
class ClassAP:
    """AP of one class.

    Attributes:
        npos: non-difficult ground-truth objects.
        ndet: detections of this class.
        ap: ``{method: [AP at each threshold]}``; ``None`` entries when ``npos == 0``.
        tp: true positives at each threshold.
    """

    npos: int
    ndet: int
    ap: dict[str, list[float | None]]
    tp: list[int]


@dataclass
class DetectionResult:
    """Per-class AP and mAP for each AP method and IoU threshold."""

    thresholds: tuple[float, ...]
    classes: dict[str, ClassAP] = field(default_factory=dict)

    def map(self, method: APMethod = "voc07", threshold: float | None = None) -> float:
        """Mean AP over classes with ground truth, at one threshold or averaged over all (COCO style).

        Returns 0.0 when no class has ground truth.
        """
        idx = range(len(self.thresholds)) if threshold is None else [self._index(threshold)]
        per_t = []
        for i in idx:
            aps = [c.ap[method][i] for c in self.classes.values() if c.npos > 0]
            per_t.append(float(np.mean([a for a in aps if a is not None])) if aps else 0.0)
        return float(np.mean(per_t))

    def _index(self, threshold: float) -> int:
        for i, t in enumerate(self.thresholds):
            if abs(t - threshold) < 1e-9:
                return i
        raise ValueError(f"threshold must be one of {self.thresholds}, got {threshold}")


def voc_ap(rec: np.ndarray, prec: np.ndarray, method: APMethod = "voc07") -> float:
    """VOC average precision from cumulative recall and precision, exactly as ``voc_ap`` of the VOC/DOTA code.

    Args:
        rec: recall after each ranked detection, shape (D,).
        prec: precision after each ranked detection, shape (D,).
        method: ``"voc07"`` (11 recall points 0, 0.1, ..., 1.0) or ``"all_point"`` (area under the envelope).

    Returns:
        AP in [0, 1].

    >>> voc_ap(np.array([0.5, 1.0]), np.array([1.0, 0.5]), "all_point")
    0.75
    """
    if method == "voc07":
        ap = 0.0
        for t in np.arange(0.0, 1.1, 0.1):  # the official grid, float steps included
            p = 0.0 if np.sum(rec >= t) == 0 else np.max(prec[rec >= t])
            ap = ap + p / 11.0
        return float(ap)
    if method != "all_point":
        raise ValueError(f"method must be 'voc07' or 'all_point', got {method!r}")
    mrec = np.concatenate(([0.0], rec, [1.0]))
    mpre = np.concatenate(([0.0], prec, [0.0]))
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))


def hbox_iou_pairs(a: np.ndarray, b: np.ndarray, *, plus_one: bool) -> np.ndarray:
    """IoU of paired horizontal boxes, the arithmetic of DOTA task 2 / VOC.

    Args:
        a: boxes of shape (P, 4) ``[x1, y1, x2, y2]``.
        b: boxes of shape (P, 4).
        plus_one: DOTA/VOC's inclusive pixel convention (width ``x2 - x1 + 1``); ``False`` for continuous
            coordinates.

    Returns:
        IoU of shape (P,); 0 where the union is not positive.

    >>> float(hbox_iou_pairs(np.array([[0, 0, 10, 10.]]), np.array([[5, 0, 15, 10.]]), plus_one=False)[0])
    0.3333333333333333
    """
    one = 1.0 if plus_one else 0.0
    ixmin = np.maximum(b[:, 0], a[:, 0])
    iymin = np.maximum(b[:, 1], a[:, 1])
    ixmax = np.minimum(b[:, 2], a[:, 2])
    iymax = np.minimum(b[:, 3], a[:, 3])
    iw = np.maximum(ixmax - ixmin + one, 0.0)
    ih = np.maximum(iymax - iymin + one, 0.0)
    inters = iw * ih
    uni = (
        (a[:, 2] - a[:, 0] + one) * (a[:, 3] - a[:, 1] + one)
        + (b[:, 2] - b[:, 0] + one) * (b[:, 3] - b[:, 1] + one)
        - inters
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = inters / uni
    return np.where(uni > 0, iou, 0.0)


def poly_iou_pairs(pa: np.ndarray, pb: np.ndarray) -> np.ndarray:
    """IoU of paired shapely geometries (exact areas), 0 where the union is empty.

    Args:
        pa: object array of shape (P,) of polygons.
        pb: object array of shape (P,).

    Returns:
        IoU of shape (P,).
    """
    inter = shapely.area(shapely.intersection(pa, pb))
    uni = shapely.area(pa) + shapely.area(pb) - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = inter / uni
    out: np.ndarray = np.where(uni > 0, iou, 0.0)
    return out


def _envelopes(boxes: np.ndarray, kind: BoxKind) -> np.ndarray:
    if kind == "hbox":
        return boxes
    return np.stack(
        [boxes[:, 0::2].min(1), boxes[:, 1::2].min(1), boxes[:, 0::2].max(1), boxes[:, 1::2].max(1)], axis=1
    )


def best_overlaps(
    det_img: np.ndarray,
    det_boxes: np.ndarray,
    gt_img: np.ndarray,
    gt_boxes: np.ndarray,
    *,
    kind: BoxKind,
    plus_one: bool = True,
    min_iou: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """For each detection, the largest IoU with a ground-truth box of the same image and its index.

    Args:
        det_img: image index of each detection, shape (D,), in rank order.
        det_boxes: shape (D, 4) or (D, 8).
        gt_img: image index of each ground-truth box, shape (G,).
        gt_boxes: shape (G, 4) or (G, 8).
        kind: ``"hbox"`` or ``"qbox"``.
        plus_one: HBB pixel convention (see :func:`hbox_iou_pairs`); ignored for ``"qbox"``.
        min_iou: for ``"qbox"``, pairs whose IoU cannot exceed this bound (by their areas and the intersection of
            their bounding boxes) are not intersected and count as IoU 0; a detection's ``ovmax`` and ``jmax`` are
            exact whenever ``ovmax > min_iou``, which is all that matching at thresholds ``>= min_iou`` reads.

    Returns:
        ``(ovmax, jmax)``: shape (D,) each; ``ovmax = -inf`` and ``jmax = -1`` for a detection whose image has no
        candidate object; ties go to the lowest ground-truth index (``np.argmax``).
    """
    nd = len(det_img)
    ovmax = np.full(nd, -np.inf)
    jmax = np.full(nd, -1, dtype=np.int64)
    if nd == 0 or len(gt_img) == 0:
        return ovmax, jmax
    gt_order = np.argsort(gt_img, kind="stable")
    sorted_img = gt_img[gt_order]
    start = np.searchsorted(sorted_img, det_img, side="left")
    count = np.searchsorted(sorted_img, det_img, side="right") - start
    if kind == "qbox":
        det_poly = qbox_geometries(det_boxes)
        gt_poly = qbox_geometries(gt_boxes)
        det_env, gt_env = _envelopes(det_boxes, kind), _envelopes(gt_boxes, kind)
        det_area, gt_area = shapely.area(det_poly), shapely.area(gt_poly)
    # chunks of whole detections with at most _MAX_PAIRS candidate pairs each (bounds memory on crowded images)
    cum = np.concatenate([[0], np.cumsum(count)])
    lo = 0
    while lo < nd:
        hi = min(max(int(np.searchsorted(cum, cum[lo] + _MAX_PAIRS, side="right")) - 1, lo + 1), nd)
        cnt = count[lo:hi]
        n_pairs = int(cnt.sum())
        if n_pairs:
            d = np.repeat(np.arange(lo, hi), cnt)
            offset = np.arange(n_pairs) - np.repeat(np.cumsum(cnt) - cnt, cnt)
            g = gt_order[start[d] + offset]
            if kind == "hbox":
                iou = hbox_iou_pairs(det_boxes[d], gt_boxes[g], plus_one=plus_one)
            else:
                de, ge = det_env[d], gt_env[g]
                iw = np.minimum(de[:, 2], ge[:, 2]) - np.maximum(de[:, 0], ge[:, 0])
                ih = np.minimum(de[:, 3], ge[:, 3]) - np.maximum(de[:, 1], ge[:, 1])
                # IoU <= m / (A + B - m) with m = min(A, B, bounding-box intersection); the margin absorbs rounding
                da, ga = det_area[d], gt_area[g]
                m = np.minimum(np.minimum(da, ga), np.maximum(iw, 0.0) * np.maximum(ih, 0.0))
                with np.errstate(divide="ignore", invalid="ignore"):
                    bound = np.where(da + ga - m > 0, m / (da + ga - m), 0.0)
                keep = (iw > 0) & (ih > 0) & (bound > min_iou - 1e-9)
                iou = np.zeros(n_pairs)
                iou[keep] = poly_iou_pairs(det_poly[d[keep]], gt_poly[g[keep]])
            # pairs run by detection, then by ground-truth index: the first maximum of each run is np.argmax's
            seg = np.flatnonzero(np.r_[True, d[1:] != d[:-1]])
            best = np.maximum.reduceat(iou, seg)
            ovmax[d[seg]] = best
            hit = np.flatnonzero(iou == np.repeat(best, np.diff(np.r_[seg, n_pairs])))
            _, first = np.unique(d[hit], return_index=True)
            jmax[d[hit[first]]] = g[hit[first]]
        lo = hi
    return ovmax, jmax


def _flatten(images: Sequence[ImageDetections], kind: BoxKind, what: str) -> tuple[np.ndarray, ...]:
    width = 4 if kind == "hbox" else 8
    img: list[np.ndarray] = []
    boxes: list[np.ndarray] = []
    labels: list[str] = []
    scores: list[np.ndarray] = []
    difficult: list[np.ndarray] = []
    for i, im in enumerate(images):
        b = np.asarray(im.boxes, dtype=np.float64)
        n = len(im.labels)
        if b.size == 0 and n == 0:
            continue
        if b.ndim != 2 or b.shape != (n, width):
            raise ValueError(f"{what}[{i}].boxes must have shape ({n}, {width}) for {kind!r}, got {b.shape}")
        img.append(np.full(n, i, dtype=np.int64))
        boxes.append(b)
        labels.extend(str(x) for x in im.labels)
        scores.append(np.ones(n) if im.scores is None else np.asarray(im.scores, dtype=np.float64).reshape(n))
        difficult.append(np.zeros(n, bool) if im.difficult is None else np.asarray(im.difficult, bool).reshape(n))
    if not img:
        return (np.zeros(0, np.int64), np.zeros((0, width)), np.array([], dtype=object), np.zeros(0), np.zeros(0, bool))
    return (
        np.concatenate(img),
        np.concatenate(boxes),
        np.array(labels, dtype=object),
        np.concatenate(scores),
        np.concatenate(difficult),
    )


def evaluate_detections(
    ground_truth: Sequence[ImageDetections],
    predictions: Sequence[ImageDetections],
    *,
    kind: BoxKind,
    iou_thresholds: Sequence[float] = (0.5,),
    iou_convention: Literal["dota", "continuous"] = "dota",
    tie_order: Literal["dota", "stable"] = "dota",
    classes: Sequence[str] | None = None,
) -> DetectionResult:
    """Per-class AP (VOC-07 11-point and all-point) and mAP, DOTA's matching (see the module docstring).

    Args:
        ground_truth: one entry per image, with ``difficult`` flags.
        predictions: one entry per image, same order and length as ``ground_truth``; ``scores=None`` ranks the
            image's boxes as equal (confidence 1.0).
        kind: ``"hbox"`` (DOTA task 2) or ``"qbox"`` (task 1).
        iou_thresholds: a detection matches when IoU is strictly greater; :data:`COCO_THRESHOLDS` for 0.5:0.95.
        iou_convention: HBB width ``x2 - x1 + 1`` (``"dota"``) or ``x2 - x1`` (``"continuous"``).
        tie_order: ``"dota"`` ranks with ``np.argsort(-confidence)``; ``"stable"`` keeps input order on ties.
        classes: classes to report even without ground truth or detections; labels found in either are added.

    Returns:
        A :class:`DetectionResult`; ``result.map("voc07", 0.5)`` is DOTA's mAP.

    Raises:
        ValueError: on mismatched lengths, box shapes or options.

    >>> gt = [ImageDetections(np.array([[0, 0, 10, 10.]]), ["car"])]
    >>> pr = [ImageDetections(np.array([[0, 0, 10, 10.], [1, 1, 10, 10.]]), ["car", "car"], np.array([.9, .8]))]
    >>> r = evaluate_detections(gt, pr, kind="hbox")
    >>> r.classes["car"].ap["all_point"], r.classes["car"].tp
    ([1.0], [1])
    """
    if len(ground_truth) != len(predictions):
        raise ValueError(
            f"predictions must have one entry per ground-truth image ({len(ground_truth)}), got {len(predictions)}"
        )
    if kind not in ("hbox", "qbox"):
        raise ValueError(f"kind must be 'hbox' or 'qbox', got {kind!r}")
    if iou_convention not in ("dota", "continuous"):
        raise ValueError(f"iou_convention must be 'dota' or 'continuous', got {iou_convention!r}")
    if tie_order not in ("dota", "stable"):
        raise ValueError(f"tie_order must be 'dota' or 'stable', got {tie_order!r}")
    thresholds = tuple(float(t) for t in iou_thresholds)
    if not thresholds or any(not 0.0 <= t < 1.0 for t in thresholds):
        raise ValueError(f"iou_thresholds must be a non-empty list of values in [0, 1), got {list(iou_thresholds)}")
    g_img, g_box, g_lab, _, g_diff = _flatten(ground_truth, kind, "ground_truth")
    d_img, d_box, d_lab, d_score, _ = _flatten(predictions, kind, "predictions")
    names = sorted(set(classes or ()) | set(g_lab.tolist()) | set(d_lab.tolist()))
    result = DetectionResult(thresholds=thresholds)
    for name in names:
        gsel = np.flatnonzero(g_lab == name)
        dsel = np.flatnonzero(d_lab == name)
        difficult = g_diff[gsel]
        npos = int((~difficult).sum())
        confidence = d_score[dsel]
        order = np.argsort(-confidence, kind="stable" if tie_order == "stable" else None)
        dsel = dsel[order]
        ovmax, jmax = best_overlaps(
            d_img[dsel],
            d_box[dsel],
            g_img[gsel],
            g_box[gsel],
            kind=kind,
            plus_one=iou_convention == "dota",
            min_iou=min(thresholds),
        )
        aps: dict[str, list[float | None]] = {"voc07": [], "all_point": []}
        tps: list[int] = []
        for t in thresholds:
            tp, fp = _mark(ovmax, jmax, difficult, t)
            tps.append(int(tp.sum()))
            for method in _METHODS:
                aps[method].append(_ap(tp, fp, npos, method))
        result.classes[name] = ClassAP(npos=npos, ndet=len(dsel), ap=aps, tp=tps)
    return result


def _mark(ovmax: np.ndarray, jmax: np.ndarray, difficult: np.ndarray, thresh: float) -> tuple[np.ndarray, ...]:
    """True/false positives of ranked detections (floats, as the official code accumulates them)."""
    hit = ovmax > thresh
    on_difficult = np.zeros_like(hit)
    on_difficult[hit] = difficult[jmax[hit]]
    counted = np.flatnonzero(hit & ~on_difficult)
    tp = np.zeros(len(ovmax))
    _, first = np.unique(jmax[counted], return_index=True)  # first detection, in rank order, to take each object
    tp[counted[first]] = 1.0
    fp = np.where(hit, 0.0, 1.0)
    fp[counted] = 1.0 - tp[counted]
    return tp, fp


def _ap(tp: np.ndarray, fp: np.ndarray, npos: int, method: APMethod) -> float | None:
    if npos == 0:
        return None
    ctp, cfp = np.cumsum(tp), np.cumsum(fp)
    rec = ctp / float(npos)
    prec = ctp / np.maximum(ctp + cfp, np.finfo(np.float64).eps)
    return voc_ap(rec, prec, method)
