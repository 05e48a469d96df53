"""Leakage checks: recall on copies, false positives on unrelated images, index vs brute force, fingerprint cost.

Run: ``python benchmarks/bench_leakage.py [--train 100000] [--eval 30000] [--size 128] [--workers 2]``
(``--quick`` runs every part at a tenth of the scale).

Part 1, recall. ``--recall`` synthetic scenes of 256 px (:func:`data_converters.fakes.scenes.scene`: ground, fields,
roads, roofs) and as many smooth textures (:func:`data_converters.fakes.common.texture`, the fakes' look, with
almost no detail) are held out; each transformed copy is checked against them with the default thresholds. Prints
the share caught per transform.

Part 2, false positives on smooth textures. ``--textures`` pairs of unrelated smooth textures (the worst case:
little detail, unstable hashes), every pair compared; prints the false pairs per million and the images with any.

Part 3, scale. ``--eval`` held-out and ``--train`` training scenes of ``--size`` px, all drawn independently, except
that 1 % of the training images are copies of held-out ones (JPEG, half size, grey, a 2x2 tile, a 4x4 tile). The
guard (:class:`ts_instruct.leakage.LeakageGuard`, one ``admit`` per record, multi-index hashing) runs on all of
them; brute force (every training image against every held-out image, whole and grid cells both ways, the same
rules) runs on ``--brute`` training images, in pure Python and vectorised with numpy, and is extrapolated. Prints
times, the ratio, recall on the planted copies and the false-positive rate on the unrelated images (per image and
per pair), and checks that index and brute force agree on the subset.

Part 4, conversion. ``--convert`` 256 px JPEG scenes in the NWPU-RESISC45 layout, converted with and without
fingerprints, copying the files and re-encoding them; and the DOTA fake (tiles of a 1500 px scene). Prints ms per
sample and the ratio (best of two runs each).
"""

from __future__ import annotations

import argparse
import io
import multiprocessing as mp
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from data_converters.fakes.common import texture
from data_converters.fakes.scenes import scene
from ts_instruct.fingerprint import Fingerprint, fingerprint_pixels, sha256_bytes
from ts_instruct.hamming import popcount64
from ts_instruct.image_index import ImageInfo, ReferenceIndex, Thresholds
from ts_instruct.leakage import LeakageGuard

Array = np.ndarray


def jpeg(a: Array, quality: int = 75) -> Array:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="JPEG", quality=quality)
    return np.asarray(Image.open(buf).convert("RGB"))


def half(a: Array) -> Array:
    return np.asarray(Image.fromarray(a).resize((a.shape[1] // 2, a.shape[0] // 2), Image.Resampling.BILINEAR))


def grey(a: Array) -> Array:
    return np.asarray(Image.fromarray(a).convert("L"))


def tile(g: int, r: int, c: int) -> Callable[[Array], Array]:
    def cut(a: Array) -> Array:
        h, w = a.shape[:2]
        return a[r * h // g : (r + 1) * h // g, c * w // g : (c + 1) * w // g]

    return cut


def crop(f: float) -> Callable[[Array], Array]:
    def cut(a: Array) -> Array:
        d = round(a.shape[0] * f)
        return a[d:, d:]

    return cut


TRANSFORMS: dict[str, Callable[[Array], Array]] = {
    "jpeg q75": jpeg,
    "jpeg q90 twice": lambda a: jpeg(jpeg(a, 90), 90),
    "half size": half,
    "half + jpeg q85": lambda a: jpeg(half(a), 85),
    "grey": grey,
    "crop 2 %": crop(0.02),
    "crop 4 %": crop(0.04),
    "tile 2x2": tile(2, 1, 0),
    "tile 4x4": tile(4, 2, 1),
    "tile 2x2 + jpeg q90": lambda a: jpeg(tile(2, 0, 1)(a), 90),
    "tile 4x4 + jpeg q90": lambda a: jpeg(tile(4, 1, 3)(a), 90),
}
PLANTED = ("jpeg q75", "half size", "grey", "tile 2x2", "tile 4x4")


def fp_of(a: Array) -> dict[str, str]:
    return fingerprint_pixels(a, sha256=sha256_bytes(np.ascontiguousarray(a).tobytes()))


def rngs(seed: int, n: int) -> list[np.random.Generator]:
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(n)]


# -- part 1 ----------------------------------------------------------------------------------------------------------
def part_recall(n: int) -> None:
    print(f"Part 1: recall, {n} held-out images of 256 px per kind, default thresholds {Thresholds()}")
    header = f"{'transform':<22} {'scenes':>8} {'textures':>9}"
    print(f"{header}\n{'-' * len(header)}")
    kinds = {
        "scenes": [scene(r, 256, 256) for r in rngs(1, n)],
        "textures": [texture(r, 256, 256) for r in rngs(2, n)],
    }
    indexes = {}
    for kind, images in kinds.items():
        index = ReferenceIndex(Thresholds())
        for i, a in enumerate(images):
            index.add(str(i), ImageInfo(kind, str(i), str(i)), Fingerprint.from_dict(fp_of(a)))
        index.freeze()
        indexes[kind] = index
    for name, transform in TRANSFORMS.items():
        shares = []
        for kind, images in kinds.items():
            hit = sum(any(m.reference == i for m in indexes[kind].match(Fingerprint.from_dict(fp_of(transform(a)))))
                      for i, a in enumerate(images))  # fmt: skip
            shares.append(100.0 * hit / n)
        print(f"{name:<22} {shares[0]:>7.1f}% {shares[1]:>8.1f}%")
    shares = []
    for kind, images in kinds.items():  # the reverse direction: the held-out image is the tile
        index = ReferenceIndex(Thresholds())
        for i, a in enumerate(images):
            index.add(str(i), ImageInfo(kind, str(i), str(i)), Fingerprint.from_dict(fp_of(tile(2, 1, 1)(a))))
        index.freeze()
        found = [{m.reference for m in index.match(Fingerprint.from_dict(fp_of(a)))} for a in images]
        shares.append(100.0 * sum(i in f for i, f in enumerate(found)) / n)
    print(f"{'held out: a 2x2 tile':<22} {shares[0]:>7.1f}% {shares[1]:>8.1f}%")


# -- part 2 ----------------------------------------------------------------------------------------------------------
def part_textures(n: int, size: int) -> None:
    refs = [texture(r, size, size) for r in rngs(3, n)]
    train = [texture(r, size, size) for r in rngs(4, n)]
    index = ReferenceIndex(Thresholds())
    for i, a in enumerate(refs):
        index.add(str(i), ImageInfo("t", str(i), str(i)), Fingerprint.from_dict(fp_of(a)))
    index.freeze()
    pairs, images, kinds = 0, 0, {}
    for a in train:
        found = index.match(Fingerprint.from_dict(fp_of(a)))
        pairs += len(found)
        images += bool(found)
        for m in found:
            kinds[m.kind] = kinds.get(m.kind, 0) + 1
    print(f"\nPart 2: {n} x {n} unrelated smooth textures of {size} px (the fakes' look, little detail)")
    print(f"  false pairs {pairs} = {1e6 * pairs / n / n:.1f} per million pairs; training images with any: "
          f"{images} ({100.0 * images / n:.2f} %); by kind {kinds}")  # fmt: skip


# -- part 3 ----------------------------------------------------------------------------------------------------------
def _make(job: tuple[int, int, int, str | None]) -> dict[str, str]:
    """Fingerprint of one image: (seed entropy, child index, size, transform applied or None)."""
    entropy, index, size, transform = job
    rng = np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(index,)))
    a = scene(rng, size, size)
    return fp_of(TRANSFORMS[transform](a) if transform else a)


def _fingerprints(jobs: list[tuple[int, int, int, str | None]], workers: int) -> list[dict[str, str]]:
    if workers <= 1:
        return [_make(j) for j in jobs]
    with mp.get_context("fork").Pool(workers) as pool:
        return pool.map(_make, jobs, chunksize=256)


def _record(i: int, prefix: str, fp: dict[str, str]) -> dict[str, Any]:
    return {"id": f"{prefix}{i}", "images": [f"{prefix}{i}.png"], "meta": {"images": [{"fingerprint": fp}]}}


def _brute_python(train: list[Fingerprint], refs: list[Fingerprint], t: Thresholds) -> list[set[int]]:
    out = []
    for f in train:
        hits = set()
        for j, r in enumerate(refs):
            if f.sha256 == r.sha256:
                hits.add(j)
                continue
            whole = f.phash is not None and r.phash is not None and f.dhash is not None and r.dhash is not None
            if whole and (f.phash ^ r.phash).bit_count() <= t.phash and (f.dhash ^ r.dhash).bit_count() <= t.dhash:
                hits.add(j)
                continue
            if (
                f.phash is not None
                and f.dhash is not None
                and any(
                    (f.phash ^ c[2]).bit_count() <= t.cell and (f.dhash ^ c[3]).bit_count() <= t.cell for c in r.cells
                )
            ):
                hits.add(j)
                continue
            if (
                r.phash is not None
                and r.dhash is not None
                and any(
                    (c[2] ^ r.phash).bit_count() <= t.cell and (c[3] ^ r.dhash).bit_count() <= t.cell for c in f.cells
                )
            ):
                hits.add(j)
        out.append(hits)
    return out


def _brute_numpy(train: list[Fingerprint], refs: list[Fingerprint], t: Thresholds) -> list[set[int]]:
    rp = np.array([r.phash or 0 for r in refs], dtype=np.uint64)
    rd = np.array([r.dhash or 0 for r in refs], dtype=np.uint64)
    has = np.array([r.phash is not None for r in refs])
    cp = np.array([c[2] for r in refs for c in r.cells], dtype=np.uint64)
    cd = np.array([c[3] for r in refs for c in r.cells], dtype=np.uint64)
    owner = np.array([j for j, r in enumerate(refs) for _ in r.cells], dtype=np.int64)
    sha = {r.sha256: j for j, r in enumerate(refs)}
    out = []
    for f in train:
        hits = {sha[f.sha256]} if f.sha256 in sha else set()
        if f.phash is not None and f.dhash is not None:
            ok = (popcount64(rp ^ np.uint64(f.phash)) <= t.phash) & (popcount64(rd ^ np.uint64(f.dhash)) <= t.dhash)
            hits |= set(np.nonzero(ok & has)[0].tolist())
            ok = (popcount64(cp ^ np.uint64(f.phash)) <= t.cell) & (popcount64(cd ^ np.uint64(f.dhash)) <= t.cell)
            hits |= set(owner[ok].tolist())
        if f.cells:
            fp_ = np.array([c[2] for c in f.cells], dtype=np.uint64)[:, None]
            fd_ = np.array([c[3] for c in f.cells], dtype=np.uint64)[:, None]
            ok = (popcount64(fp_ ^ rp[None]) <= t.cell) & (popcount64(fd_ ^ rd[None]) <= t.cell) & has[None]
            hits |= set(np.nonzero(ok.any(axis=0))[0].tolist())
        out.append(hits)
    return out


def part_scale(n_train: int, n_eval: int, size: int, brute: int, workers: int) -> None:
    print(f"\nPart 3: {n_train} training vs {n_eval} held-out scenes of {size} px, {workers} worker(s) for hashing")
    planted = max(1, n_train // 100)
    jobs = [(11, i, size, None) for i in range(n_eval)]
    jobs += [(11, i, size, PLANTED[i % len(PLANTED)]) for i in range(planted)]  # copies of held-out i
    jobs += [(12, i, size, None) for i in range(planted, n_train)]
    t0 = time.perf_counter()
    fps = _fingerprints(jobs, workers)
    print(f"  images drawn and fingerprinted in {time.perf_counter() - t0:.0f} s (not part of the matching time)")
    ref_fps, train_fps = fps[:n_eval], fps[n_eval:]

    t0 = time.perf_counter()
    guard = LeakageGuard()
    for i, fp in enumerate(ref_fps):
        guard.add_reference(_record(i, "e", fp), "bench", label="eval/test", dataset_dir=Path("/"))
    t_ref = time.perf_counter() - t0
    t0 = time.perf_counter()
    kept = [guard.admit(_record(i, "t", fp), "bench", label="train/train", dataset_dir=Path("/"))
            for i, fp in enumerate(train_fps)]  # fmt: skip
    t_admit = time.perf_counter() - t0
    t_index = t_ref + t_admit
    caught = sum(not k for k in kept[:planted])
    false = sum(not k for k in kept[planted:])
    rep = guard.report()
    print(f"  index (LeakageGuard): references {t_ref:.1f} s + {n_train} admit calls {t_admit:.1f} s = {t_index:.1f} s")
    print(f"  recall on planted copies {caught}/{planted} ({100.0 * caught / planted:.1f} %); "
          f"false positives {false}/{n_train - planted} unrelated training images "
          f"({100.0 * false / (n_train - planted):.4f} %); duplicates inside training "
          f"{rep['duplicates']['records']}")  # fmt: skip

    refs = [Fingerprint.from_dict(f) for f in ref_fps]
    # brute force on planted copies and unrelated images alike
    subset = list(range(min(brute // 2, planted))) + list(range(planted, min(n_train, planted + brute - brute // 2)))
    sub = [Fingerprint.from_dict(train_fps[i]) for i in subset]
    t0 = time.perf_counter()
    bp = _brute_python(sub, refs, Thresholds())
    t_py = (time.perf_counter() - t0) / len(sub) * n_train
    t0 = time.perf_counter()
    bn = _brute_numpy(sub, refs, Thresholds())
    t_np = (time.perf_counter() - t0) / len(sub) * n_train
    bi = [{m.reference for m in guard.reference.match(f)} for f in sub]
    agree = bp == bn == bi
    print(f"  brute force on {len(sub)} training images, extrapolated to {n_train}: pure Python {t_py:.0f} s "
          f"({t_py / 3600:.1f} h), numpy {t_np:.0f} s")  # fmt: skip
    print(f"  index is x{t_py / t_index:.0f} faster than pure Python and x{t_np / t_index:.1f} faster than numpy "
          f"brute force; index and brute force agree on the {len(sub)}: {agree}")  # fmt: skip
    unrelated = [b for i, b in zip(subset, bi, strict=True) if i >= planted]
    pairs, n_pairs = sum(len(b) for b in unrelated), max(1, len(unrelated) * n_eval)
    print(f"  false pairs among the unrelated of the subset: {pairs} of {n_pairs} ({pairs / n_pairs:.1e} per pair)")
    kinds: dict[str, int] = {}
    for i in range(planted, n_train):
        if not kept[i]:
            for m in guard.reference.match(Fingerprint.from_dict(train_fps[i])):
                kinds[m.kind] = kinds.get(m.kind, 0) + 1
    print(f"  false positives by kind: {kinds}")


# -- part 4 ----------------------------------------------------------------------------------------------------------
def _convert(raw: Path, name: str, out: Path, **kw: Any) -> tuple[float, int]:
    from data_converters import get_converter
    from ts_instruct.pipeline import ConvertOptions, convert_dataset

    best = float("inf")
    samples = 0
    for _ in range(2):
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.perf_counter()
        report = convert_dataset(get_converter(name)(raw), ConvertOptions(out=out, progress=False, **kw))
        best = min(best, time.perf_counter() - t0)
        samples = sum(s["samples"] for s in report["splits"].values())
    return best, samples


def part_convert(n: int) -> None:
    from data_converters.fakes import make_fake

    print("\nPart 4: conversion with and without fingerprints (best of 2 runs, one process)")
    header = f"{'dataset':<34} {'samples':>7} {'ms/sample off':>14} {'on':>8} {'ratio':>6}"
    print(f"{header}\n{'-' * len(header)}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        classes = ("airplane", "forest", "harbor", "river")
        for i, r in enumerate(rngs(5, n)):
            cls = classes[i % len(classes)]
            path = root / "nwpu" / "NWPU-RESISC45" / cls / f"{cls}_{i // len(classes) + 1:03d}.jpg"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(scene(r, 256, 256)).save(path, quality=90)
        make_fake("dota", root / "dota")
        cases = [
            ("NWPU layout, 256 px JPEG, copied", "nwpu_resisc45", root / "nwpu", {}),
            ("NWPU layout, 256 px JPEG, re-encoded", "nwpu_resisc45", root / "nwpu", {"image_mode": "reencode"}),
            ("DOTA fake, 1500 px scene tiled", "dota", root / "dota", {}),
        ]
        for label, name, raw, kw in cases:
            off, samples = _convert(raw, name, root / "out", fingerprints=False, **kw)
            on, _ = _convert(raw, name, root / "out", fingerprints=True, **kw)
            print(f"{label:<34} {samples:>7} {1e3 * off / samples:>14.2f} {1e3 * on / samples:>8.2f} {on / off:>6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=100_000)
    parser.add_argument("--eval", type=int, default=30_000)
    parser.add_argument("--size", type=int, default=128, help="side of the part 3 scenes (128: 2x2 and 4x4 grids)")
    parser.add_argument("--brute", type=int, default=200, help="training images brute force runs on (half copies)")
    parser.add_argument("--recall", type=int, default=200)
    parser.add_argument("--textures", type=int, default=1500)
    parser.add_argument("--convert", type=int, default=600)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--parts", default="1234", help="which parts to run, e.g. 13")
    parser.add_argument("--quick", action="store_true", help="a tenth of every size")
    args = parser.parse_args()
    if args.quick:
        for name in ("train", "eval", "brute", "recall", "textures", "convert"):
            setattr(args, name, max(20, getattr(args, name) // 10))
    if "1" in args.parts:
        part_recall(args.recall)
    if "2" in args.parts:
        part_textures(args.textures, 128)
    if "3" in args.parts:
        part_scale(args.train, args.eval, args.size, args.brute, args.workers)
    if "4" in args.parts:
        part_convert(args.convert)


if __name__ == "__main__":
    main()
