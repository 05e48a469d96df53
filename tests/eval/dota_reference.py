"""A faithful Python port of DOTA_devkit's official evaluation, the reference for agreement tests.

``voc_eval_task1`` follows ``dota_evaluation_task1.py`` and ``voc_eval_task2`` follows ``dota_evaluation_task2.py``
line for line, with the files replaced by in-memory lists: ``annotations[image] = [(bbox, name, difficult), ...]``
and ``detections[class] = [(image, confidence, bbox), ...]`` in the order of the lines of ``Task*_<class>.txt``.
``iou_poly`` ports ``polyiou.cpp`` (signed-triangle polygon clipping) so the OBB reference uses no shapely.
The task-2 ``parse_gt`` truncates ground truth with ``int(float(v))``; the tests feed integer boxes, so the port
keeps the values as given.
"""

from __future__ import annotations

import numpy as np

EPS = 1e-8


def _sig(d: float) -> int:
    return int(d > EPS) - int(d < -EPS)


def _cross(o, a, b):
    return (a[0] - o[0]) * (b[1] - o[1]) - (b[0] - o[0]) * (a[1] - o[1])


def _area(ps):
    n = len(ps)
    res = 0.0
    for i in range(n):
        j = (i + 1) % n
        res += ps[i][0] * ps[j][1] - ps[i][1] * ps[j][0]
    return res / 2.0


def _line_cross(a, b, c, d):
    s1 = _cross(a, b, c)
    s2 = _cross(a, b, d)
    if _sig(s1) == 0 and _sig(s2) == 0:
        return 2, None
    if _sig(s2 - s1) == 0:
        return 0, None
    return 1, ((c[0] * s2 - d[0] * s1) / (s2 - s1), (c[1] * s2 - d[1] * s1) / (s2 - s1))


def _same(p, q):
    return _sig(p[0] - q[0]) == 0 and _sig(p[1] - q[1]) == 0


def _polygon_cut(p, a, b):
    pp = []
    n = len(p)
    p = [*p, p[0]]
    for i in range(n):
        if _sig(_cross(a, b, p[i])) > 0:
            pp.append(p[i])
        if _sig(_cross(a, b, p[i])) != _sig(_cross(a, b, p[i + 1])):
            # the C++ writes the intersection (or leaves an uninitialised point when parallel); only the
            # non-parallel case can occur when the signs differ
            _, q = _line_cross(a, b, p[i], p[i + 1])
            pp.append(q)
    out = []
    for i, q in enumerate(pp):
        if i == 0 or not _same(q, pp[i - 1]):
            out.append(q)
    while len(out) > 1 and _same(out[-1], out[0]):
        out.pop()
    return out


def _tri_intersect(a, b, c, d):
    o = (0.0, 0.0)
    s1 = _sig(_cross(o, a, b))
    s2 = _sig(_cross(o, c, d))
    if s1 == 0 or s2 == 0:
        return 0.0
    if s1 == -1:
        a, b = b, a
    if s2 == -1:
        c, d = d, c
    p = [o, a, b]
    p = _polygon_cut(p, o, c)
    p = _polygon_cut(p, c, d)
    p = _polygon_cut(p, d, o)
    res = abs(_area(p)) if len(p) > 0 else 0.0
    if s1 * s2 == -1:
        res = -res
    return res


def _poly_intersect(ps1, ps2):
    if _area(ps1) < 0:
        ps1 = ps1[::-1]
    if _area(ps2) < 0:
        ps2 = ps2[::-1]
    n1, n2 = len(ps1), len(ps2)
    res = 0.0
    for i in range(n1):
        for j in range(n2):
            res += _tri_intersect(ps1[i], ps1[(i + 1) % n1], ps2[j], ps2[(j + 1) % n2])
    return res


def iou_poly(p, q) -> float:
    """``polyiou.iou_poly`` on two 8-value quadrilaterals."""
    ps1 = [(float(p[2 * i]), float(p[2 * i + 1])) for i in range(4)]
    ps2 = [(float(q[2 * i]), float(q[2 * i + 1])) for i in range(4)]
    inter = _poly_intersect(ps1, ps2)
    union = abs(_area(ps1)) + abs(_area(ps2)) - inter
    return inter / union


def voc_ap(rec, prec, use_07_metric=False):
    if use_07_metric:
        ap = 0.0
        for t in np.arange(0.0, 1.1, 0.1):
            if np.sum(rec >= t) == 0:  # noqa: SIM108 (kept as in the official code)
                p = 0
            else:
                p = np.max(prec[rec >= t])
            ap = ap + p / 11.0
    else:
        mrec = np.concatenate(([0.0], rec, [1.0]))
        mpre = np.concatenate(([0.0], prec, [0.0]))
        for i in range(mpre.size - 1, 0, -1):
            mpre[i - 1] = np.maximum(mpre[i - 1], mpre[i])
        i = np.where(mrec[1:] != mrec[:-1])[0]
        ap = np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1])
    return ap


def _class_recs(annotations, classname):
    class_recs = {}
    npos = 0
    for imagename, objs in annotations.items():
        R = [o for o in objs if o[1] == classname]
        bbox = np.array([o[0] for o in R])
        difficult = np.array([o[2] for o in R]).astype(bool)
        det = [False] * len(R)
        npos = npos + sum(~difficult)
        class_recs[imagename] = {"bbox": bbox, "difficult": difficult, "det": det}
    return class_recs, npos


def _finish(tp, fp, npos, use_07_metric):
    fp = np.cumsum(fp)
    tp = np.cumsum(tp)
    rec = tp / float(npos)
    prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    return rec, prec, voc_ap(rec, prec, use_07_metric)


def voc_eval_task1(detections, annotations, classname, ovthresh=0.5, use_07_metric=False):
    """``dota_evaluation_task1.voc_eval`` (OBB)."""
    class_recs, npos = _class_recs(annotations, classname)
    lines = detections[classname]
    image_ids = [x[0] for x in lines]
    confidence = np.array([float(x[1]) for x in lines])
    BB = np.array([[float(z) for z in x[2]] for x in lines])
    sorted_ind = np.argsort(-confidence)
    BB = BB[sorted_ind, :]
    image_ids = [image_ids[x] for x in sorted_ind]
    nd = len(image_ids)
    tp = np.zeros(nd)
    fp = np.zeros(nd)
    for d in range(nd):
        R = class_recs[image_ids[d]]
        bb = BB[d, :].astype(float)
        ovmax = -np.inf
        BBGT = R["bbox"].astype(float)
        if BBGT.size > 0:
            BBGT_xmin = np.min(BBGT[:, 0::2], axis=1)
            BBGT_ymin = np.min(BBGT[:, 1::2], axis=1)
            BBGT_xmax = np.max(BBGT[:, 0::2], axis=1)
            BBGT_ymax = np.max(BBGT[:, 1::2], axis=1)
            bb_xmin = np.min(bb[0::2])
            bb_ymin = np.min(bb[1::2])
            bb_xmax = np.max(bb[0::2])
            bb_ymax = np.max(bb[1::2])
            ixmin = np.maximum(BBGT_xmin, bb_xmin)
            iymin = np.maximum(BBGT_ymin, bb_ymin)
            ixmax = np.minimum(BBGT_xmax, bb_xmax)
            iymax = np.minimum(BBGT_ymax, bb_ymax)
            iw = np.maximum(ixmax - ixmin + 1.0, 0.0)
            ih = np.maximum(iymax - iymin + 1.0, 0.0)
            inters = iw * ih
            uni = (
                (bb_xmax - bb_xmin + 1.0) * (bb_ymax - bb_ymin + 1.0)
                + (BBGT_xmax - BBGT_xmin + 1.0) * (BBGT_ymax - BBGT_ymin + 1.0)
                - inters
            )
            overlaps = inters / uni
            BBGT_keep_mask = overlaps > 0
            BBGT_keep = BBGT[BBGT_keep_mask, :]
            BBGT_keep_index = np.where(overlaps > 0)[0]
            if len(BBGT_keep) > 0:
                overlaps = [iou_poly(g, bb) for g in BBGT_keep]
                ovmax = np.max(overlaps)
                jmax = np.argmax(overlaps)
                jmax = BBGT_keep_index[jmax]
        if ovmax > ovthresh:
            if not R["difficult"][jmax]:
                if not R["det"][jmax]:
                    tp[d] = 1.0
                    R["det"][jmax] = 1
                else:
                    fp[d] = 1.0
        else:
            fp[d] = 1.0
    return _finish(tp, fp, npos, use_07_metric)


def voc_eval_task2(detections, annotations, classname, ovthresh=0.5, use_07_metric=False):
    """``dota_evaluation_task2.voc_eval`` (HBB, "+1" pixels)."""
    class_recs, npos = _class_recs(annotations, classname)
    lines = detections[classname]
    image_ids = [x[0] for x in lines]
    confidence = np.array([float(x[1]) for x in lines])
    BB = np.array([[float(z) for z in x[2]] for x in lines])
    sorted_ind = np.argsort(-confidence)
    BB = BB[sorted_ind, :]
    image_ids = [image_ids[x] for x in sorted_ind]
    nd = len(image_ids)
    tp = np.zeros(nd)
    fp = np.zeros(nd)
    for d in range(nd):
        R = class_recs[image_ids[d]]
        bb = BB[d, :].astype(float)
        ovmax = -np.inf
        BBGT = R["bbox"].astype(float)
        if BBGT.size > 0:
            ixmin = np.maximum(BBGT[:, 0], bb[0])
            iymin = np.maximum(BBGT[:, 1], bb[1])
            ixmax = np.minimum(BBGT[:, 2], bb[2])
            iymax = np.minimum(BBGT[:, 3], bb[3])
            iw = np.maximum(ixmax - ixmin + 1.0, 0.0)
            ih = np.maximum(iymax - iymin + 1.0, 0.0)
            inters = iw * ih
            uni = (
                (bb[2] - bb[0] + 1.0) * (bb[3] - bb[1] + 1.0)
                + (BBGT[:, 2] - BBGT[:, 0] + 1.0) * (BBGT[:, 3] - BBGT[:, 1] + 1.0)
                - inters
            )
            overlaps = inters / uni
            ovmax = np.max(overlaps)
            jmax = np.argmax(overlaps)
        if ovmax > ovthresh:
            if not R["difficult"][jmax]:
                if not R["det"][jmax]:
                    tp[d] = 1.0
                    R["det"][jmax] = 1
                else:
                    fp[d] = 1.0
        else:
            fp[d] = 1.0
    return _finish(tp, fp, npos, use_07_metric)
