"""Tiling large scenes: the PNG codec of tiles, scene decoding, and tiles per second at flat memory.

Run: ``python benchmarks/bench_tiling.py [--scene 8000] [--tiles 12] [--repeats 3]``.

Part 1, PNG codec. Encodes ``--tiles`` 1024 x 1024 RGB tiles with the writer's codec (libpng through OpenCV: SUB row
filter, zlib level 1, RLE strategy, :data:`ts_instruct.imageio.PNG_FAST`), with libpng at zlib levels 1 and 6 and its
own filter choice, and with Pillow at levels 1 and 6 (Pillow's default; it tries every row filter on every row), and
prints median ms per tile, time and file size relative to Pillow level 1, and decode ms (decoding speed hardly
depends on the settings, so a fast codec costs nothing at training time). Two kinds of content: ``smooth`` (a
gradient with soft blobs, what the fakes use; compresses far better than real imagery) and ``aerial-like`` (1/f
noise over several octaves plus fine texture, close to the entropy of real aerial scenes).

Part 2, scene. Writes one ``--scene`` square aerial-like PNG, then in fresh processes (so peak memory is that of the
step alone): decodes it with :func:`ts_instruct.tiling.read_scene` (OpenCV, one buffer) and with
:func:`ts_instruct.imageio.read_rgb` (Pillow + numpy copy), printing time and peak RSS relative to the scene's bytes;
and tiles it at rates 1.0 and 0.5 (1024 px patch, 200 px gap, each tile PNG-encoded as the writer does),
printing tiles/s and the resident memory at the first and at the last tile (flat: one tile at a time).
"""

from __future__ import annotations

import argparse
import io
import multiprocessing as mp
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from common import Results, add_json_argument
from PIL import Image

from ts_instruct.imageio import encode_png, read_rgb
from ts_instruct.tiling import iter_tiles, read_scene, rescale


def _pillow(level: int) -> Callable[[np.ndarray], bytes]:
    def encode(arr: np.ndarray) -> bytes:
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, format="PNG", compress_level=level)
        return buf.getvalue()

    return encode


#: name → encoder; the first is the writer's
CODECS: dict[str, Callable[[np.ndarray], bytes]] = {
    "writer (SUB, zlib 1, RLE)": encode_png,
    "libpng zlib 1": lambda a: encode_png(a, compress_level=1),
    "libpng zlib 6": lambda a: encode_png(a, compress_level=6),
    "Pillow level 1": _pillow(1),
    "Pillow level 6": _pillow(6),
}
REFERENCE = "Pillow level 1"


def smooth(size: int, seed: int) -> np.ndarray:
    """A colour gradient with soft blobs (the fakes' texture)."""
    from data_converters.fakes.common import texture

    small = texture(np.random.default_rng(seed), size // 8, size // 8)
    return np.asarray(cv2.resize(small, (size, size), interpolation=cv2.INTER_LINEAR))


def aerial_like(size: int, seed: int) -> np.ndarray:
    """1/f-like noise (octave ``o`` weighted by ``(size / o) ** 0.8``) plus sensor noise (sigma 2), in 0..255.

    Its PNG sizes (about 0.47 of raw at level 6, 0.56 at level 1) are in the range of real aerial PNGs.
    """
    rng = np.random.default_rng(seed)
    img = np.zeros((size, size, 3), np.float32)
    octave = 4
    while octave <= size:
        layer = rng.standard_normal((octave, octave, 3)).astype(np.float32)
        img += cv2.resize(layer, (size, size), interpolation=cv2.INTER_CUBIC) * (size / octave) ** 0.8
        octave *= 2
    img = (img - img.mean()) / (img.std() + 1e-6) * 45 + 120
    img += rng.standard_normal((size, size, 3)).astype(np.float32) * 2
    return np.clip(img, 0, 255).astype(np.uint8)


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def png_codecs(tiles: int, repeats: int, results: Results) -> None:
    print(f"Part 1: PNG codec, {tiles} tiles of 1024x1024 RGB, median of {repeats} runs (per tile)")
    header = (
        f"{'content':<12} {'codec':<26} {'encode ms':>10} {'x ' + REFERENCE:>17} {'size MB':>8} "
        f"{'size x ref':>10} {'decode ms':>10}"
    )
    print(f"{header}\n{'-' * len(header)}")
    for name, make in (("smooth", smooth), ("aerial-like", aerial_like)):
        batch = [make(1024, seed) for seed in range(tiles)]
        rows = {}
        for codec, encode in CODECS.items():
            ms = median_ms(lambda e=encode, b=batch: [e(t) for t in b], repeats) / tiles
            data = [encode(t) for t in batch]
            size = sum(map(len, data)) / tiles / 1e6
            dec = median_ms(lambda d=data: [cv2.imdecode(np.frombuffer(b, np.uint8), cv2.IMREAD_COLOR) for b in d], 1)
            rows[codec] = (ms, size, dec / tiles)
        ref = rows[REFERENCE]
        for codec, (ms, size, dec) in rows.items():
            print(f"{name:<12} {codec:<26} {ms:>10.1f} {ms / ref[0]:>17.2f} {size:>8.2f} {size / ref[1]:>10.2f} "
                  f"{dec:>10.1f}")  # fmt: skip
        ours = rows[next(iter(CODECS))]
        results.add(f"PNG {name} 1024px", "writer_encode_time_over_pillow_level1", ours[0] / ref[0], "x", "lower")
        results.add(f"PNG {name} 1024px", "writer_size_over_pillow_level1", ours[1] / ref[1], "x")
        results.add(
            f"PNG {name} 1024px", "writer_encode_time_over_pillow_level6", ours[0] / rows["Pillow level 6"][0], "x",
            "lower",
        )  # fmt: skip


def _status_mb(field: str) -> float:
    """A memory figure of this process from /proc (Linux), in MB; VmHWM is the peak since exec (getrusage's
    ru_maxrss would include the parent's memory at fork time)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _peak_rss_mb() -> float:
    return _status_mb("VmHWM")


def _rss_mb() -> float:
    return _status_mb("VmRSS")


def _write_scene(args: tuple[str, int]) -> float:
    path, size = args
    scene = aerial_like(size, 0)
    cv2.imwrite(path, scene, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    return scene.nbytes / 1e6


def _decode_job(args: tuple[str, str]) -> tuple[float, float, float]:
    path, how = args
    base = _peak_rss_mb()
    t0 = time.perf_counter()
    arr = read_scene(path) if how == "cv2" else read_rgb(path)
    secs = time.perf_counter() - t0
    assert arr.ndim == 3
    return secs, base, _peak_rss_mb()


def _tile_job(args: tuple[str, float]) -> tuple[int, float, float, float, float]:
    path, rate = args
    t0 = time.perf_counter()
    scene = rescale(read_scene(path), rate)
    t1 = time.perf_counter()
    n, first, last = 0, 0.0, 0.0
    for tile in iter_tiles(scene, [], patch=1024, gap=200, scale=rate):
        encode_png(tile.pixels)
        n += 1
        if n == 1:
            first = _rss_mb()
        last = _rss_mb()
    return n, t1 - t0, time.perf_counter() - t1, first, last


def scene_run(size: int, results: Results) -> None:
    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "scene.png")
        with ctx.Pool(1) as pool:
            mb = pool.map(_write_scene, [(path, size)])[0]
        print(f"\nPart 2: one {size}x{size} aerial-like scene ({mb:.0f} MB decoded), each step in a fresh process")
        times = {}
        for how in ("pil", "cv2"):
            with ctx.Pool(1) as pool:
                times[how] = pool.map(_decode_job, [(path, how)])[0]
        for how, label in (("pil", "read_rgb (Pillow)"), ("cv2", "read_scene (OpenCV)")):
            secs, base, peak = times[how]
            print(f"  decode {label:<20} {secs:6.2f} s  x Pillow {secs / times['pil'][0]:5.2f}  "
                  f"peak RSS +{peak - base:6.0f} MB = {(peak - base) / mb:4.2f} x scene")  # fmt: skip
        for rate in (1.0, 0.5):
            with ctx.Pool(1) as pool:
                n, t_read, t_tiles, first, last = pool.map(_tile_job, [(path, rate)])[0]
            print(f"  tile rate {rate:<4} {n:4d} tiles  decode+resize {t_read:5.2f} s  tiles {n / t_tiles:6.1f}/s "
                  f"(writer PNG)  RSS first tile {first:6.0f} MB, last tile {last:6.0f} MB")  # fmt: skip
            results.add(f"{size}px scene, rate {rate}", "rss_last_tile_over_first", last / first, "x", "lower")
        decode_ratio = times["cv2"][0] / times["pil"][0]
        results.add(f"{size}px scene", "read_scene_time_over_pillow", decode_ratio, "x", "lower")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scene", type=int, default=8000, help="side of the synthetic scene in pixels")
    parser.add_argument("--tiles", type=int, default=12, help="tiles encoded per PNG level")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-scene", action="store_true", help="run part 1 only")
    add_json_argument(parser)
    args = parser.parse_args()
    results = Results("tiling_png")
    png_codecs(args.tiles, args.repeats, results)
    if not args.no_scene:
        scene_run(args.scene, results)
    results.write(args.json)


if __name__ == "__main__":
    main()
