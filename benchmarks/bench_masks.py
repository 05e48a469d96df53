"""Mask -> polygons: speed and fidelity of ts_instruct.masks against plain references, measured in one run.

Run: ``python benchmarks/bench_masks.py [--size 1024] [--repeats 5]``.

Rows per scene:
- ``ours tol=T``: :func:`ts_instruct.masks.mask_to_polygons` (pixel-corner vertices, holes) at simplify tolerance T.
- ``cv2 plain``: ``cv2.findContours(RETR_EXTERNAL, CHAIN_APPROX_SIMPLE)`` on the mask, the usual shortcut: vertices
  on boundary-pixel centres, no holes, no simplification.
- ``rasterio shapes``: ``rasterio.features.shapes`` (pixel-corner polygons with holes, no simplification), when
  rasterio is installed; otherwise the row says it was skipped.

Columns: median time, time relative to ``cv2 plain``, polygons, vertices, and fidelity: ``IoU`` of the mask
rasterised back with :func:`ts_instruct.masks.polygons_to_mask` (pixel centre inside the polygon), ``IoU cv2fill``
of the same vertices filled by ``cv2.fillPoly`` (boundary pixels included, the convention plain contours are made
for), and ``area`` = total polygon area / foreground pixels (1.0 when the polygons describe the region itself).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import cv2
import numpy as np
from common import Results, add_json_argument

from ts_instruct.masks import Polygon, mask_iou, mask_to_polygons, polygons_to_mask

Rings = list[tuple[np.ndarray, list[np.ndarray]]]


def buildings(size: int, count: int, seed: int) -> np.ndarray:
    """Rotated rectangles, L-shapes and courtyard blocks, like a building footprint mask."""
    rng = np.random.default_rng(seed)
    m = np.zeros((size, size), np.uint8)
    for k in range(count):
        cx, cy = (float(v) for v in rng.uniform(0, size, 2))
        w, h = (float(v) for v in rng.uniform(8, 45, 2))
        angle = float(rng.uniform(0, 180))
        pts = np.round(cv2.boxPoints(((cx, cy), (w, h), angle))).astype(np.int32)
        cv2.fillPoly(m, [pts], 1)
        if k % 5 == 0:  # an L: a second box sharing a corner region
            pts = np.round(cv2.boxPoints(((cx + w / 3, cy + h / 3), (w / 2, h * 1.2), angle))).astype(np.int32)
            cv2.fillPoly(m, [pts], 1)
        if k % 17 == 0:  # a courtyard
            pts = np.round(cv2.boxPoints(((cx, cy), (w / 3, h / 3), angle))).astype(np.int32)
            cv2.fillPoly(m, [pts], 0)
    return m


def land_cover(size: int, seed: int) -> np.ndarray:
    """Smooth random regions, like one class of a LoveDA land-cover map."""
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.random((size, size)).astype(np.float32), (0, 0), size / 64)
    return np.asarray(noise > np.quantile(noise, 0.6), dtype=np.uint8)


def ours(tol: float) -> Callable[[np.ndarray], Rings]:
    def run(m: np.ndarray) -> Rings:
        return [(p.exterior, p.holes) for p in mask_to_polygons(m, simplify_tolerance=tol)]

    return run


def cv2_plain(m: np.ndarray) -> Rings:
    contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    # vertices are boundary-pixel indices; +0.5 puts them on those pixels' centres in our coordinates
    return [(c.reshape(-1, 2).astype(np.float64) + 0.5, []) for c in contours]


def rasterio_shapes() -> Callable[[np.ndarray], Rings] | None:
    try:
        from rasterio import features
    except ImportError:
        return None

    def run(m: np.ndarray) -> Rings:
        out: Rings = []
        for geom, value in features.shapes(m, mask=m > 0):
            if value:
                rings = [np.asarray(r, dtype=np.float64)[:-1] for r in geom["coordinates"]]
                out.append((rings[0], rings[1:]))
        return out

    return run


def shoelace(r: np.ndarray) -> float:
    x, y = r[:, 0], r[:, 1]
    return float(0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)))


def fidelity(m: np.ndarray, rings: Rings) -> tuple[float, float, float]:
    polys = [Polygon(ext, holes) for ext, holes in rings]
    iou = mask_iou(m, polygons_to_mask(polys, *m.shape))
    filled = np.zeros_like(m)
    for ext, holes in rings:
        one = np.zeros_like(m)
        cv2.fillPoly(one, [np.round(ext - 0.5).astype(np.int32)], 1)
        for h in holes:
            cv2.fillPoly(one, [np.round(h - 0.5).astype(np.int32)], 0)
        filled |= one
    area = sum(shoelace(e) - sum(shoelace(h) for h in hs) for e, hs in rings)
    return iou, mask_iou(m, filled), area / max(int(m.sum()), 1)


def timed(fn: Callable[[np.ndarray], Rings], m: np.ndarray, repeats: int) -> tuple[float, Rings]:
    times, out = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn(m)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=5)
    add_json_argument(parser)
    args = parser.parse_args()
    results = Results("masks")
    scenes = {f"{n} buildings": buildings(args.size, n, seed=n) for n in (300, 1000)} | {
        "land cover": land_cover(args.size, seed=0)
    }
    methods: dict[str, Callable[[np.ndarray], Rings] | None] = {
        "cv2 plain": cv2_plain,
        "ours tol=0": ours(0.0),
        "ours tol=0.5 (default)": ours(0.5),
        "ours tol=1": ours(1.0),
        "rasterio shapes": rasterio_shapes(),
    }
    header = f"{'scene':<15} {'method':<23} {'ms':>8} {'x plain':>8} {'polys':>6} {'verts':>7} {'IoU':>7} " \
             f"{'IoU cv2fill':>11} {'area':>6}"  # fmt: skip
    print(f"mask {args.size}x{args.size}, median of {args.repeats} runs\n{header}\n{'-' * len(header)}")
    for scene, m in scenes.items():
        base, _ = timed(cv2_plain, m, args.repeats)
        measured: dict[str, tuple[float, float]] = {}
        for name, fn in methods.items():
            if fn is None:
                print(f"{scene:<15} {name:<23} skipped: rasterio is not installed (pip install rasterio)")
                continue
            secs, rings = timed(fn, m, args.repeats)
            iou, iou_fill, area = fidelity(m, rings)
            measured[name] = (secs, iou)
            verts = sum(len(e) + sum(len(h) for h in hs) for e, hs in rings)
            print(f"{scene:<15} {name:<23} {secs * 1e3:8.1f} {secs / base:8.1f} {len(rings):6d} {verts:7d} "
                  f"{iou:7.4f} {iou_fill:11.4f} {area:6.3f}")  # fmt: skip
        ours_s, ours_iou = measured["ours tol=0.5 (default)"]
        case = f"{scene} {args.size}px"
        results.add(case, "ours_time_over_cv2_findContours", ours_s / base, "x", "lower")
        results.add(case, "ours_rasterised_back_iou", ours_iou, "IoU", "higher")
        if "rasterio shapes" in measured:
            rio_s, rio_iou = measured["rasterio shapes"]
            results.add(case, "ours_time_over_rasterio_shapes", ours_s / rio_s, "x", "lower")
            results.add(case, "rasterio_rasterised_back_iou", rio_iou, "IoU")
    results.write(args.json)


if __name__ == "__main__":
    main()
