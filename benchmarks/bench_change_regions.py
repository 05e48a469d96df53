"""Change regions: tracing each (from, to) group inside its bounding box vs over the whole tile, in one run.

Run: ``python benchmarks/bench_change_regions.py [--size 1024] [--groups 40] [--repeats 3]``.

A semantic change tile (SECOND, Hi-UCD) splits its changed pixels into one group per (class before, class after)
pair and outlines each group. ``whole`` traces every group over the full tile with
:func:`ts_instruct.masks.mask_to_polygons`; ``cropped`` is :func:`data_converters.families.change.outline`, which
traces inside the group's bounding box. The script checks both give identical polygons and prints the median times
and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from data_converters.families.change import outline
from ts_instruct.masks import mask_to_polygons


def groups(size: int, count: int, seed: int) -> list[np.ndarray]:
    """``count`` masks of a few blobs each, scattered over a ``size`` tile."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        m = np.zeros((size, size), bool)
        for _ in range(int(rng.integers(1, 4))):
            x, y = (int(v) for v in rng.integers(0, size - 60, 2))
            w, h = (int(v) for v in rng.integers(6, 60, 2))
            m[y : y + h, x : x + w] = True
        out.append(m)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--groups", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    masks = groups(args.size, args.groups, seed=0)
    kw = {"min_area": 4.0, "simplify_tolerance": 0.5}
    whole = [mask_to_polygons(m, **kw) for m in masks]
    cropped = [outline(m, **kw) for m in masks]
    assert all(a == b for ws, cs in zip(whole, cropped, strict=True) for a, b in zip(ws, cs, strict=True))
    times = {}
    for name, fn in (("whole", lambda m: mask_to_polygons(m, **kw)), ("cropped", lambda m: outline(m, **kw))):
        runs = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            for m in masks:
                fn(m)
            runs.append(time.perf_counter() - t0)
        times[name] = statistics.median(runs)
    print(f"{args.groups} groups on a {args.size} px tile, median of {args.repeats}")
    for name, t in times.items():
        print(f"  {name:8s} {t * 1000:8.1f} ms   x{t / times['whole']:.3f} of whole")


if __name__ == "__main__":
    main()
