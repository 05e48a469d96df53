"""Synthetic LIM-CD in the LEVIR-MCI layout: ``Levir-MCI-dataset/images/<split>/{A,B,label}/`` + captions JSON.

Like the real LEVIR-MCI, whose 256x256 pairs are cut from LEVIR-CD's scenes, every tile is cut from a LEVIR-CD fake
pair: by default from the pairs :func:`data_converters.fakes.levir_cd.make_pairs` builds with the same ``seed`` (so
the LEVIR-CD fake written with that seed holds the very same pixels), or, with ``source_images=``, from the files of
a LEVIR-CD fake already on disk. The returned ``sources`` say which LEVIR-CD file and window each tile comes from,
for overlap (leakage) checks between the two datasets.

Labels are 3-channel PNG with 0 / 128 (road) / 255 (building) in every channel; buildings come from the LEVIR-CD
label, and a road is painted into the later image of some tiles. Quirks included on purpose: ``train_000002`` is an
unchanged pair (change flag 0, "the scene is the same as before" captions), ``test_000002`` has no later image
(skipped and reported), and captions keep the source's leading spaces and a non-ASCII character.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from data_converters.fakes import levir_cd
from data_converters.fakes.change_pairs import paint
from data_converters.fakes.common import save_image

TILE = 32
BASE = "Levir-MCI-dataset"
#: LIM-CD file name → (LEVIR-CD pair name, rank of the quadrant by changed pixels, most first); only LEVIR-CD pairs
#: without quirks are used
TILES: dict[str, tuple[str, int]] = {
    "train_000001.png": ("train_1", 0),
    "train_000002.png": ("train_2", 0),
    "train_000003.png": ("train_3", 0),
    "val_000001.png": ("val_1", 0),
    "val_000002.png": ("val_1", 1),
    "test_000001.png": ("test_1", 0),
    "test_000002.png": ("test_1", 1),
}
ROADS = ("train_000001.png", "val_000002.png")
UNCHANGED = "train_000002.png"
MISSING_B = "test_000002.png"
ROAD_COLOUR = (120, 120, 124)
NO_CHANGE = " the scene is the same as before "


def _read_source(root: Path, name: str) -> levir_cd.Pair:
    split = name.split("_")[0]
    for prefix in (f"{split}/", ""):
        if (root / prefix / "A" / f"{name}.png").is_file():
            a, b, lab = (np.asarray(Image.open(root / prefix / f / f"{name}.png")) for f in ("A", "B", "label"))
            return a, b, (lab[..., 0] if lab.ndim == 3 else lab)
    raise FileNotFoundError(f"source_images must hold a LEVIR-CD fake; {name}.png not found under {root}")


def _captions(name: str, rng: np.random.Generator, n_buildings: int, road: bool) -> list[str]:
    if name == UNCHANGED or (n_buildings == 0 and not road):
        return [NO_CHANGE] * 3 + [" there is no difference ", "the two scenes seem identical ."]
    what = []
    if n_buildings:
        what.append(f"{n_buildings} building{'s' if n_buildings > 1 else ''} changed")
    if road:
        what.append("a road is built")
    base = " and ".join(what)
    return [f" {base} .", f"{base} near the trees", f" {base} · in the scene", f"  {base}  .", f"{base} ."][
        : 3 + int(rng.integers(0, 3))
    ]


def make_fake(root: Path, *, seed: int = 0, source_images: str | Path | None = None) -> dict[str, Any]:
    """Write the fake dataset under ``root`` and return what a correct conversion must find.

    Args:
        root: output folder.
        seed: seed of the LEVIR-CD pairs the tiles are cut from (when ``source_images`` is not given) and of the
            roads and captions.
        source_images: root of a LEVIR-CD fake on disk (either layout) to cut the tiles from instead.

    Returns:
        ``units``/``samples`` per split, ``skipped`` (split → files), ``categories`` (file name → {"road": n,
        "building": n} regions), ``captions`` (file name → number of captions), ``unchanged`` (keys) and
        ``sources`` (``images/<split>/A/<name>`` → ``{"levir_cd": "<pair name>", "window": [x0, y0, x1, y1]}``).
    """
    rng = np.random.default_rng(seed + 1)
    pairs = None if source_images is not None else levir_cd.make_pairs(seed)
    base = Path(root) / BASE
    entries: list[dict[str, Any]] = []
    units: dict[str, int] = {"train": 0, "val": 0, "test": 0}
    skipped: dict[str, list[str]] = {s: [] for s in units}
    categories: dict[str, dict[str, int]] = {}
    sources: dict[str, dict[str, Any]] = {}
    for name, (src, rank) in TILES.items():
        split = name.split("_")[0]
        units[split] += 1
        a, b, lab = pairs[src] if pairs is not None else _read_source(Path(source_images), src)  # type: ignore[arg-type]
        x0, y0 = _quadrant(lab, rank)
        win = (slice(y0, y0 + TILE), slice(x0, x0 + TILE))
        before, after = a[win].copy(), b[win].copy()
        building = lab[win] > 127
        label = np.where(building, 255, 0).astype(np.uint8)
        road = name in ROADS
        if road:
            stripe = np.zeros((TILE, TILE), bool)
            col = int(rng.integers(4, TILE - 8))
            stripe[:, col : col + 3] = True
            stripe &= ~_dilate(building)  # the road never touches a building, so regions stay apart
            after = paint(after, stripe, ROAD_COLOUR)
            label[stripe] = 128
        n_buildings = _components(building)
        folder = base / "images" / split
        save_image(folder / "A" / name, before)
        save_image(folder / "label" / name, np.repeat(label[:, :, None], 3, axis=2))
        if name == MISSING_B:
            skipped[split].append(f"{BASE}/images/{split}/B/{name}")
        else:
            save_image(folder / "B" / name, after)
            categories[name] = {"road": _components(label == 128), "building": n_buildings}
        sources[f"images/{split}/A/{name}"] = {"levir_cd": src, "window": [x0, y0, x0 + TILE, y0 + TILE]}
        captions = _captions(name, rng, n_buildings, road)
        entries.append(
            {
                "filename": name,
                "filepath": split,
                "split": split,
                "imgid": len(entries),
                "changeflag": int(n_buildings > 0 or road),
                "sentences": [{"raw": c, "tokens": c.split(), "imgid": len(entries)} for c in captions],
            }
        )
    (base / "LevirCCcaptions.json").write_text(json.dumps({"images": entries}, ensure_ascii=False), encoding="utf-8")
    return {
        "units": units,
        "samples": {s: n - len(skipped[s]) for s, n in units.items()},
        "skipped": skipped,
        "categories": categories,
        "captions": {e["filename"]: len(e["sentences"]) for e in entries},
        "unchanged": [UNCHANGED.removesuffix(".png")],
        "sources": sources,
    }


def _quadrant(label: NDArray[np.uint8], rank: int) -> tuple[int, int]:
    """``(x0, y0)`` of the ``rank``-th quadrant of a LEVIR-CD label by changed pixels (ties: row-major order)."""
    corners = [(x, y) for y in range(0, label.shape[0], TILE) for x in range(0, label.shape[1], TILE)]
    counts = [int(np.count_nonzero(label[y : y + TILE, x : x + TILE] > 127)) for x, y in corners]
    order = sorted(range(len(corners)), key=lambda i: (-counts[i], i))
    return corners[order[rank]]


def _dilate(mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
    out = mask.copy()
    out[1:] |= mask[:-1]
    out[:-1] |= mask[1:]
    out[:, 1:] |= mask[:, :-1]
    out[:, :-1] |= mask[:, 1:]
    return out


def _components(mask: NDArray[np.bool_], min_area: int = 4) -> int:
    """Edge-connected components of at least ``min_area`` pixels (the converter's default region floor)."""
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=4)
    return int(np.count_nonzero(stats[1:n, cv2.CC_STAT_AREA] >= min_area))
