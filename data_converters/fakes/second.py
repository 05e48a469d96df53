"""Synthetic SECOND in the real layout: ``SECOND_train_set/{im1,im2,label1,label2}/NNNNN.png``.

Label maps are RGB in the SECOND palette, white outside changed regions, coloured at both dates inside them; the
later image is painted with the later class's colour. File names are 5-digit and not contiguous, as in the release.
Quirks included on purpose: ``00021`` is an all-unchanged pair (both maps white), ``00046`` has a blob of a colour
outside the palette in ``label2`` (reported, its pixels ignored), and ``00052`` has two regions of different
from → to pairs that touch (they must stay two regions). With ``lists=True`` (default) Bi-SRNet-style
``train_list.txt``/``val_list.txt`` with absolute paths define the split; with ``lists=False`` the converter's seeded
hash split applies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from data_converters.fakes.change_pairs import paint, pair_images, shapes
from data_converters.fakes.common import save_image

SIZE = 48
BASE = "SECOND_train_set"
NAMES = ("00003", "00011", "00021", "00046", "00052", "00079")
VAL = ("00011", "00079")
UNCHANGED = "00021"
OFF_PALETTE = "00046"
TOUCHING = "00052"
BAD_COLOUR = (250, 128, 10)
PALETTE = {
    1: (0, 0, 255),
    2: (128, 128, 128),
    3: (0, 128, 0),
    4: (0, 255, 0),
    5: (128, 0, 0),
    6: (255, 0, 0),
}
NAMES_BY_ID = {1: "water", 2: "ground", 3: "low_vegetation", 4: "tree", 5: "building", 6: "sports_field"}


def _draw(label: NDArray[np.uint8], mask: NDArray[np.bool_], cid: int) -> None:
    label[mask] = PALETTE[cid]


def make_fake(root: Path, *, seed: int = 0, lists: bool = True) -> dict[str, Any]:
    """Write the fake dataset under ``root`` and return what a correct conversion must find.

    Returns:
        ``pairs`` (all keys), ``splits`` (split → keys when ``lists``), ``transitions`` (key → {"from → to": number
        of regions}), ``unchanged`` (keys), ``off_palette`` (the label file with the unknown colour).
    """
    rng = np.random.default_rng(seed)
    base = Path(root) / BASE
    transitions: dict[str, dict[str, int]] = {}
    for name in NAMES:
        before, after = pair_images(rng, SIZE, SIZE)
        label1 = np.full((SIZE, SIZE, 3), 255, np.uint8)
        label2 = label1.copy()
        counts: dict[str, int] = {}
        if name != UNCHANGED:
            blobs = shapes(rng, SIZE, SIZE, int(rng.integers(2, 5)))
            if name == TOUCHING:
                left = np.zeros((SIZE, SIZE), bool)
                left[4:14, 4:12] = True
                right = np.zeros((SIZE, SIZE), bool)
                right[4:14, 12:20] = True
                blobs = [left, right]
            for j, m in enumerate(blobs):
                f = int(rng.integers(1, 7))
                others = [c for c in PALETTE if c != f]
                t = 5 if j % 2 == 0 and f != 5 else int(rng.choice(others))  # buildings appear most, as in SECOND
                if name == TOUCHING:
                    f, t = (3, 5) if j == 0 else (2, 4)
                _draw(label1, m, f)
                _draw(label2, m, t)
                before = paint(before, m, PALETTE[f])
                after = paint(after, m, PALETTE[t])
                key = f"{NAMES_BY_ID[f]} → {NAMES_BY_ID[t]}"
                counts[key] = counts.get(key, 0) + 1
        if name == OFF_PALETTE:
            spot = np.zeros((SIZE, SIZE), bool)
            spot[40:44, 40:44] = True
            label2[spot] = BAD_COLOUR  # coloured in label2 only, and in no palette colour
        transitions[name] = counts
        for folder, arr in (("im1", before), ("im2", after), ("label1", label1), ("label2", label2)):
            save_image(base / folder / f"{name}.png", arr)
    splits = {"train": [n for n in NAMES if n not in VAL], "val": list(VAL)}
    if lists:
        for split, names in splits.items():
            lines = [f"/data/ChangeDetection/ST/{split}/im1/{n}.png" for n in names]
            (base / f"{split}_list.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {
        "pairs": list(NAMES),
        "splits": splits if lists else None,
        "transitions": transitions,
        "unchanged": [UNCHANGED],
        "off_palette": f"{BASE}/label2/{OFF_PALETTE}.png",
    }
