"""Tiling large scenes: the DOTA converter against the codec floor and a DOTA_devkit-style splitter, in one run.

Run: ``python benchmarks/bench_tiling_reference.py [--objects 3000] [--big] [--cases 8000,geotiff]``.

Cases: a synthetic 8,000 x 8,000 aerial-like PNG and a 5,000 x 5,000 GeoTIFF, each with ``--objects`` oriented
boxes of the DOTA classes; ``--big`` adds a 20,000 x 20,000 PNG (1.2 GB decoded; a few minutes, about 4 GB of
memory at peak). Each method runs in a fresh process (peak RSS is its own) on the same scene, with the same
1024 px / 200 px grid and the same PNG codec settings (libpng's SUB filter, zlib level 1, RLE strategy: the writer's
:data:`ts_instruct.imageio.PNG_FAST`, which is also OpenCV's default and so what DOTA_devkit writes):

* ``ours``: ``terrasense convert dota`` on a one-scene DOTA layout, one worker: decode, tile, clip the boxes, encode
  and write every tile, build and write the records;
* ``floor``: decode the scene once and PNG-encode the same tile windows, nothing else (the codec's lower bound);
* ``devkit``: a straight re-implementation of DOTA_devkit's ``ImgSplit``: decode the whole image with
  ``cv2.imread``, copy each window, test every object against every window with shapely (intersection area over
  object area, 0.7), write the kept objects' lines to the tile's label file and the tile with ``cv2.imwrite``.

Printed per case: tiles per second per core (one process each), ``ours / floor`` time (goal: at most 1.3),
``devkit / ours`` time (goal: at least 3) and ``devkit / floor``, the most that ``devkit / ours`` can be for any
splitter that writes the same tiles with the same codec: where the codec is most of the devkit's time, no
implementation reaches 3x (see the README's benchmark notes), and peak RSS. A last row converts 1 and 3 scenes of
the 5,000 px case with the converter: its peak RSS does not depend on the number of scenes (one scene, one tile at
a time).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import shapely
from common import Results, add_json_argument, peak_rss_mb

from data_converters import get_converter
from data_converters.dota import DOTA
from ts_instruct.imageio import encode_png
from ts_instruct.pipeline import ConvertOptions, convert_dataset
from ts_instruct.tiling import iter_windows

PATCH, GAP, MIN_KEPT = 1024, 200, 0.7
#: scenes and outputs live in memory when the machine has a RAM disk: ours and the devkit write every tile, the floor
#: writes none, and a disk's write-back stalls would otherwise decide the ratios (set TS_BENCH_SCRATCH to override)
SCRATCH = os.environ.get("TS_BENCH_SCRATCH") or ("/dev/shm" if Path("/dev/shm").is_dir() else None)
LABEL_DIR = "train/labelTxt-v1.0/labelTxt"


# -- synthetic scenes ----------------------------------------------------------------------------------------------
def texture_block(size: int, seed: int) -> np.ndarray:
    """An aerial-like block: 1/f noise over octaves plus pixel noise (entropy close to real aerial imagery)."""
    rng = np.random.default_rng(seed)
    img = np.zeros((size, size, 3), np.float32)
    octave = 4
    while octave <= size:
        layer = rng.standard_normal((octave, octave, 3)).astype(np.float32)
        img += cv2.resize(layer, (size, size), interpolation=cv2.INTER_CUBIC) * (size / octave) ** -0.8 * 60
        octave *= 2
    img += rng.standard_normal((size, size, 3)).astype(np.float32) * 2
    img = (img - img.mean()) / (img.std() + 1e-6) * 45 + 120
    return np.clip(img, 0, 255).astype(np.uint8)


def scene(size: int, seed: int) -> np.ndarray:
    """A ``size`` square scene built from flipped and shifted copies of one 2048 px block (memory: the scene)."""
    block = texture_block(2048, seed)
    rng = np.random.default_rng(seed + 1)
    out = np.empty((size, size, 3), np.uint8)
    for y in range(0, size, 2048):
        for x in range(0, size, 2048):
            b = block[:: int(rng.choice([-1, 1])), :: int(rng.choice([-1, 1]))]
            b = np.roll(b, int(rng.integers(0, 2048)), axis=int(rng.integers(0, 2)))
            out[y : y + 2048, x : x + 2048] = b[: size - y, : size - x]
    return out


def objects(size: int, n: int, seed: int) -> list[str]:
    """``n`` DOTA label lines: rotated rectangles of 10-80 px inside the scene."""
    rng = np.random.default_rng(seed)
    lines = ["imagesource:GoogleEarth", "gsd:0.3"]
    for _ in range(n):
        cx, cy = rng.uniform(60, size - 60, 2)
        w, h = rng.uniform(10, 80, 2)
        t = math.radians(float(rng.uniform(0, 180)))
        c, s = math.cos(t), math.sin(t)
        corners = ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2))
        coords = " ".join(f"{cx + dx * c - dy * s:.1f} {cy + dx * s + dy * c:.1f}" for dx, dy in corners)
        lines.append(f"{coords} {DOTA.classes[int(rng.integers(0, 15))]} 0")
    return lines


def write_case(folder: Path, size: int, n_objects: int, *, suffix: str, scenes: int = 1) -> Path:
    """A DOTA layout holding ``scenes`` copies of one scene (different names) and its labels; returns the root."""
    from data_converters.fakes.masks import write_geotiff

    pixels = scene(size, seed=size)
    labels = "\n".join(objects(size, n_objects, seed=size)) + "\n"
    for k in range(scenes):
        image = folder / "train" / "images" / f"P{9000 + k}{suffix}"
        image.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".tif":
            write_geotiff(image, pixels, origin=(500000.0, 4000000.0), pixel_size=0.3, epsg=32633)
        else:
            cv2.imwrite(str(image), cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 1])
        label = folder / LABEL_DIR / f"P{9000 + k}.txt"
        label.parent.mkdir(parents=True, exist_ok=True)
        label.write_text(labels, encoding="utf-8")
    return folder


# -- the three methods (each runs in its own process) --------------------------------------------------------------
def run_ours(root: Path, out: Path) -> int:
    report = convert_dataset(get_converter("dota")(root), ConvertOptions(out=out, workers=1, progress=False))
    return int(sum(s["samples"] for s in report["splits"].values()))


def _decode(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise SystemExit(f"cannot decode {path}")
    return img


def run_floor(root: Path, out: Path) -> int:
    n = 0
    for image in sorted((root / "train" / "images").iterdir()):
        pixels = _decode(image)
        h, w = pixels.shape[:2]
        for win in iter_windows(w, h, patch=PATCH, gap=GAP):
            encode_png(pixels[win.y0 : win.y1, win.x0 : win.x1])
            n += 1
    return n


def _poly4(coords: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """DOTA_devkit's ``GetPoly4FromPoly5``: merge the closest pair of neighbouring corners of a 5-gon."""
    d = [math.dist(coords[i], coords[(i + 1) % 5]) for i in range(5)]
    i = int(np.argmin(d))
    merged = ((coords[i][0] + coords[(i + 1) % 5][0]) / 2, (coords[i][1] + coords[(i + 1) % 5][1]) / 2)
    return [merged if k == i else coords[k] for k in range(5) if k != (i + 1) % 5]


def run_devkit(root: Path, out: Path) -> int:
    n = 0
    (out / "images").mkdir(parents=True)
    (out / "labelTxt").mkdir(parents=True)
    for image in sorted((root / "train" / "images").iterdir()):
        text = (root / LABEL_DIR / f"{image.stem}.txt").read_text(encoding="utf-8")
        objs = []
        for line in text.splitlines():
            parts = line.split()
            if len(parts) >= 9:
                objs.append(([float(v) for v in parts[:8]], parts[8], parts[9]))
        img = _decode(image)
        h, w = img.shape[:2]
        for win in iter_windows(w, h, patch=PATCH, gap=GAP):
            sub = copy.deepcopy(img[win.y0 : win.y1, win.x0 : win.x1])
            window = shapely.box(win.x0, win.y0, win.x1, win.y1)
            lines = []
            for pts8, label, difficult in objs:  # every object against every window, as ImgSplit does
                poly = shapely.Polygon(list(zip(pts8[0::2], pts8[1::2], strict=True)))  # built per window, as there
                inter = poly.intersection(window)
                if inter.is_empty or inter.geom_type != "Polygon":
                    continue
                half_iou = inter.area / poly.area
                if half_iou == 1:
                    pts = list(poly.exterior.coords)[:-1]
                elif half_iou >= MIN_KEPT:
                    pts = list(shapely.geometry.polygon.orient(inter, sign=1).exterior.coords)[:-1]
                    if len(pts) < 4:
                        continue
                    if len(pts) == 5:
                        pts = _poly4(pts)
                    elif len(pts) > 5:
                        continue
                else:
                    continue
                lines.append(" ".join(f"{x - win.x0:.1f} {y - win.y0:.1f}" for x, y in pts) + f" {label} {difficult}")
            name = f"{image.stem}__1__{win.x0}___{win.y0}"  # ImgSplit's tile name: <scene>__<rate>__<left>___<up>
            (out / "labelTxt" / f"{name}.txt").write_text("\n".join(lines) + "\n" if lines else "", encoding="utf-8")
            cv2.imwrite(str(out / "images" / f"{name}.png"), sub)  # OpenCV's default PNG settings, as ImgSplit
            n += 1
    return n


METHODS = {"ours": run_ours, "floor": run_floor, "devkit": run_devkit}


def child(method: str, root: str, out: str) -> None:
    t0 = time.perf_counter()
    tiles = METHODS[method](Path(root), Path(out))
    print(json.dumps({"seconds": time.perf_counter() - t0, "tiles": tiles, "rss_mb": peak_rss_mb()}))


def run_child(method: str, root: Path, out: Path) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", method, str(root), str(out)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


CASES = {"8000": (8000, ".png"), "geotiff": (5000, ".tif"), "20000": (20000, ".png")}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=3000, help="oriented boxes per scene")
    parser.add_argument("--cases", default="8000,geotiff", help=f"comma-separated, from {sorted(CASES)}")
    parser.add_argument("--big", action="store_true", help="add the 20,000 px case (minutes, ~4 GB of memory)")
    parser.add_argument("--scenes", type=int, default=3, help="scenes of the memory row (against 1)")
    add_json_argument(parser)
    args = parser.parse_args()
    cases = [c for c in args.cases.split(",") if c] + (["20000"] if args.big and "20000" not in args.cases else [])
    unknown = sorted(set(cases) - set(CASES))
    if unknown:
        parser.error(f"--cases must name cases from {sorted(CASES)}, got {unknown}")
    results = Results("tiling")
    header = (
        f"{'case':<22} {'tiles':>5} {'ours t/s':>9} {'floor t/s':>9} {'devkit t/s':>10} {'ours/floor':>10} "
        f"{'devkit/ours':>11} {'devkit/floor':>12} {'RSS ours MB':>11} {'floor MB':>8} {'devkit MB':>9}"
    )
    print(f"tiling, {args.objects} oriented boxes per scene, 1024 px / 200 px grid, one process per method")
    print(f"{header}\n{'-' * len(header)}")
    for case in cases:
        size, suffix = CASES[case]
        with tempfile.TemporaryDirectory(prefix=f"tiling_{case}_", dir=SCRATCH) as d:
            root = write_case(Path(d) / "raw", size, args.objects, suffix=suffix)
            r = {m: run_child(m, root, Path(d) / f"out_{m}") for m in METHODS}
        tiles = r["floor"]["tiles"]
        rate = {m: r[m]["tiles"] / r[m]["seconds"] for m in METHODS}
        name = f"{size}x{size} {suffix[1:].upper()}"
        vs_floor = r["ours"]["seconds"] / r["ours"]["tiles"] / (r["floor"]["seconds"] / tiles)
        vs_devkit = r["devkit"]["seconds"] / tiles / (r["ours"]["seconds"] / r["ours"]["tiles"])
        bound = r["devkit"]["seconds"] / r["floor"]["seconds"]
        print(f"{name:<22} {tiles:>5} {rate['ours']:>9.2f} {rate['floor']:>9.2f} {rate['devkit']:>10.2f} "
              f"{vs_floor:>10.2f} {vs_devkit:>11.2f} {bound:>12.2f} {r['ours']['rss_mb']:>11.0f} "
              f"{r['floor']['rss_mb']:>8.0f} {r['devkit']['rss_mb']:>9.0f}", flush=True)  # fmt: skip
        results.add(name, "tiles_per_s_per_core", rate["ours"], "tiles/s")
        results.add(name, "ours_time_over_codec_floor", vs_floor, "x", "lower")
        results.add(name, "devkit_time_over_ours", vs_devkit, "x", "higher")
        results.add(name, "devkit_time_over_codec_floor", bound, "x")
        results.add(name, "peak_rss_mb", r["ours"]["rss_mb"], "MB")
    size, suffix = CASES["geotiff"]
    rss = {}
    for n in (1, args.scenes):
        with tempfile.TemporaryDirectory(prefix="tiling_rss_") as d:
            root = write_case(Path(d) / "raw", size, args.objects // 3, suffix=suffix, scenes=n)
            rss[n] = run_child("ours", root, Path(d) / "out")["rss_mb"]
    ratio = rss[args.scenes] / rss[1]
    print(f"peak RSS converting 1 and {args.scenes} {size}x{size} scenes: {rss[1]:.0f} MB and "
          f"{rss[args.scenes]:.0f} MB ({ratio:.2f}x)")  # fmt: skip
    results.add(f"{args.scenes} scenes vs 1", "peak_rss_ratio", ratio, "x", "lower")
    results.write(args.json)


if __name__ == "__main__":
    main()
