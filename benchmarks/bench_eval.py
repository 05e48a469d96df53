"""Speed of OBB/HBB mAP against a plain per-image shapely loop (the VOC/DOTA loop with shapely as polyiou).

Run on demand: ``python benchmarks/bench_eval.py [--preds 100000] [--images 2000] [--kind qbox]``. Both sides
score the same random set; the script prints both times, their ratio, and checks that every AP is identical.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import shapely

from ts_instruct.eval.detection import ImageDetections, evaluate_detections, voc_ap

CLASSES = [f"class{i:02d}" for i in range(15)]


def rect(rng, n):
    cx, cy = rng.uniform(0, 1024, (2, n))
    w, h = rng.uniform(8, 80, (2, n))
    a = rng.uniform(0, np.pi, n)
    c, s = np.cos(a), np.sin(a)
    dx = np.array([-1, 1, 1, -1])[None] * w[:, None] / 2
    dy = np.array([-1, -1, 1, 1])[None] * h[:, None] / 2
    xs = cx[:, None] + dx * c[:, None] - dy * s[:, None]
    ys = cy[:, None] + dx * s[:, None] + dy * c[:, None]
    return np.stack([xs, ys], axis=2).reshape(n, 8)


def make_set(n_preds, n_images, kind, seed=0):
    rng = np.random.default_rng(seed)
    gts, preds = [], []
    per_image = n_preds // n_images
    for _ in range(n_images):
        n_gt = per_image // 2
        g = rect(rng, n_gt)
        gl = rng.choice(CLASSES, n_gt)
        p = np.concatenate([g + rng.normal(0, 4, g.shape), rect(rng, per_image - n_gt)])
        pl = np.concatenate([gl, rng.choice(CLASSES, per_image - n_gt)])
        if kind == "hbox":
            g = np.stack([g[:, 0::2].min(1), g[:, 1::2].min(1), g[:, 0::2].max(1), g[:, 1::2].max(1)], 1)
            p = np.stack([p[:, 0::2].min(1), p[:, 1::2].min(1), p[:, 0::2].max(1), p[:, 1::2].max(1)], 1)
        gts.append(ImageDetections(g, list(gl), difficult=rng.random(n_gt) < 0.1))
        preds.append(ImageDetections(p, list(pl), rng.random(per_image)))
    return gts, preds


def plain_loop(gts, preds, kind, cls):
    """The official per-detection loop, one image at a time, shapely for polygon IoU."""
    boxes_gt = {}
    npos = 0
    for i, g in enumerate(gts):
        sel = [j for j, lab in enumerate(g.labels) if lab == cls]
        boxes_gt[i] = (g.boxes[sel], g.difficult[sel], [False] * len(sel))
        npos += int((~g.difficult[sel]).sum())
    lines = [
        (i, s, b)
        for i, p in enumerate(preds)
        for b, lab, s in zip(p.boxes, p.labels, p.scores, strict=True)
        if lab == cls
    ]
    confidence = np.array([x[1] for x in lines])
    order = np.argsort(-confidence)
    tp, fp = np.zeros(len(lines)), np.zeros(len(lines))
    for d, k in enumerate(order):
        img, _, bb = lines[k]
        bbgt, difficult, det = boxes_gt[img]
        ovmax, jmax = -np.inf, -1
        if len(bbgt):
            if kind == "qbox":
                p = shapely.make_valid(shapely.Polygon(bb.reshape(4, 2)))  # noisy corners can cross
                overlaps = []
                for g in bbgt:
                    q = shapely.Polygon(g.reshape(4, 2))
                    inter = p.intersection(q).area
                    overlaps.append(inter / (p.area + q.area - inter))
            else:
                iw = np.maximum(np.minimum(bbgt[:, 2], bb[2]) - np.maximum(bbgt[:, 0], bb[0]) + 1.0, 0.0)
                ih = np.maximum(np.minimum(bbgt[:, 3], bb[3]) - np.maximum(bbgt[:, 1], bb[1]) + 1.0, 0.0)
                inters = iw * ih
                uni = (
                    (bb[2] - bb[0] + 1.0) * (bb[3] - bb[1] + 1.0)
                    + (bbgt[:, 2] - bbgt[:, 0] + 1.0) * (bbgt[:, 3] - bbgt[:, 1] + 1.0)
                    - inters
                )
                overlaps = inters / uni
            ovmax, jmax = np.max(overlaps), int(np.argmax(overlaps))
        if ovmax > 0.5:
            if not difficult[jmax]:
                if not det[jmax]:
                    tp[d], det[jmax] = 1.0, True
                else:
                    fp[d] = 1.0
        else:
            fp[d] = 1.0
    ctp, cfp = np.cumsum(tp), np.cumsum(fp)
    rec = ctp / float(npos)
    prec = ctp / np.maximum(ctp + cfp, np.finfo(np.float64).eps)
    return voc_ap(rec, prec, "voc07")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preds", type=int, default=100_000)
    parser.add_argument("--images", type=int, default=2_000)
    parser.add_argument("--kind", choices=["qbox", "hbox", "both"], default="both")
    args = parser.parse_args()
    for kind in ("qbox", "hbox") if args.kind == "both" else (args.kind,):
        gts, preds = make_set(args.preds, args.images, kind)
        t0 = time.perf_counter()
        ours = evaluate_detections(gts, preds, kind=kind)
        t_ours = time.perf_counter() - t0
        t0 = time.perf_counter()
        plain = {c: plain_loop(gts, preds, kind, c) for c in CLASSES}
        t_plain = time.perf_counter() - t0
        same = all(ours.classes[c].ap["voc07"][0] == plain[c] for c in CLASSES)
        print(f"{kind}: {args.preds} predictions, {args.images} images, {len(CLASSES)} classes")
        print(f"  vectorised: {t_ours:.2f} s   plain loop: {t_plain:.2f} s   speed-up: {t_plain / t_ours:.1f}x")
        print(f"  mAP (VOC-07) {ours.map('voc07', 0.5):.6f}; every class AP identical: {same}")
        if not same:
            raise SystemExit("the two evaluations disagree")


if __name__ == "__main__":
    main()
