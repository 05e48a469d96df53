"""Synthetic Hi-UCD (mini or full) in the real layout.

Images lie in ``<split>/image/<year>/9/``, labels in ``<split>/mask_merge/<year1>_<year2>/9/``.

``mask_merge`` tiles are 3-channel class-id PNGs (R: land cover of year 1, G: of year 2, B: change state 0
unlabelled / 1 unchanged / 2 changed); land cover is drawn everywhere, changes as separated shapes whose class
differs between the years. The test split pairs 2018 with 2019, train and val 2017 with 2018, as in Hi-UCD mini.
Quirks included on purpose: ``train/9/0002`` is all unchanged, ``train/9/0001`` has an unlabelled band (state 0),
and ``val/9/0001`` has a few pixels with class id 12 (reported, ignored). The ``full`` version withholds the test
labels (no ``mask_merge`` in ``test``), as the real release does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
from numpy.typing import NDArray

from data_converters.fakes.change_pairs import paint, pair_images, shapes
from data_converters.fakes.common import save_image

SIZE = 32
YEARS = {"train": (2017, 2018), "val": (2017, 2018), "test": (2018, 2019)}
TILES = {"train": ("0001", "0002"), "val": ("0001",), "test": ("0001", "0002")}
UNCHANGED = ("train", "0002")
UNLABELLED = ("train", "0001")
BAD_ID = ("val", "0001")
FOLDERS = {"mini": "HiUCD_mini", "full": "HiUCD"}
COLOURS = {
    1: (0, 153, 255),
    2: (202, 255, 122),
    3: (230, 0, 0),
    4: (230, 0, 255),
    5: (255, 230, 0),
    6: (255, 181, 197),
    7: (0, 255, 230),
    8: (175, 122, 255),
    9: (26, 255, 0),
}
NAMES = {1: "water", 2: "grass", 3: "building", 4: "greenhouse", 5: "road", 6: "bridge", 7: "others", 8: "bare_land",
         9: "woodland"}  # fmt: skip


def _land_cover(rng: np.random.Generator) -> NDArray[np.uint8]:
    """Four quadrants of random classes."""
    lc = np.zeros((SIZE, SIZE), np.uint8)
    h = SIZE // 2
    for y in (0, h):
        for x in (0, h):
            lc[y : y + h, x : x + h] = int(rng.integers(1, 10))
    return lc


def make_fake(root: Path, *, seed: int = 0, version: Literal["mini", "full"] = "mini") -> dict[str, Any]:
    """Write the fake dataset under ``root`` and return what a correct conversion must find.

    Returns:
        ``units`` (split → tiles with labels), ``years`` (split → year pair), ``transitions`` (``"<split>/<key>"`` →
        {"from → to": regions}), ``unchanged`` and ``bad_id`` (keys), ``version``.
    """
    if version not in FOLDERS:
        raise ValueError(f"version must be one of {sorted(FOLDERS)}, got {version!r}")
    rng = np.random.default_rng(seed)
    base = Path(root) / FOLDERS[version]
    transitions: dict[str, dict[str, int]] = {}
    units: dict[str, int] = {}
    for split, names in TILES.items():
        y1, y2 = YEARS[split]
        withheld = version == "full" and split == "test"
        for name in names:
            before, after = pair_images(rng, SIZE, SIZE)
            t1 = _land_cover(rng)
            t2 = t1.copy()
            state = np.ones((SIZE, SIZE), np.uint8)
            counts: dict[str, int] = {}
            if (split, name) != UNCHANGED:
                for m in shapes(rng, SIZE, SIZE, int(rng.integers(1, 4)), cell=16, margin=3):
                    # a shape may straddle quadrants of different year-1 classes: each part is its own region
                    new = int(rng.integers(1, 10))
                    t2[m] = new
                    state[m & (t1 != new)] = 2
                    t2[m & (t1 == new)] = new
            if (split, name) == UNLABELLED:
                state[:, :3] = 0
            for cid, colour in COLOURS.items():
                before = paint(before, t1 == cid, colour)
                after = paint(after, t2 == cid, colour)
            merged = np.stack([t1, t2, state], axis=2)
            if (split, name) == BAD_ID:
                merged[0:2, 0:2, 0] = 12
            save_image(base / split / "image" / str(y1) / "9" / f"{name}.png", before)
            save_image(base / split / "image" / str(y2) / "9" / f"{name}.png", after)
            if withheld:
                continue
            save_image(base / split / "mask_merge" / f"{y1}_{y2}" / "9" / f"{name}.png", merged)
            changed = state == 2
            if (split, name) == BAD_ID:
                changed[0:2, 0:2] = False
            for f in range(1, 10):
                for t in range(1, 10):
                    n = _components(changed & (t1 == f) & (t2 == t))
                    if n:
                        counts[f"{NAMES[f]} → {NAMES[t]}"] = n
            transitions[f"{split}/9__{name}"] = counts
        if not withheld:
            units[split] = len(names)
    return {
        "units": units,
        "years": {s: list(y) for s, y in YEARS.items()},
        "transitions": transitions,
        "unchanged": [f"{UNCHANGED[0]}/9__{UNCHANGED[1]}"],
        "bad_id": [f"{BAD_ID[0]}/9__{BAD_ID[1]}"],
        "version": version,
    }


def _components(mask: NDArray[np.bool_], min_area: int = 4) -> int:
    """Edge-connected components of at least ``min_area`` pixels (the converter's default region floor)."""
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=4)
    return int(np.count_nonzero(stats[1:n, cv2.CC_STAT_AREA] >= min_area))
