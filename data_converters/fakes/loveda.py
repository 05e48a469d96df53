"""Synthetic LoveDA in the real layout: ``{Train,Val,Test}/{Urban,Rural}/{images_png,masks_png}/<n>.png``, 96 px.

Masks are single-band PNGs of class ids 0-7 (0 = no-data). Quirks on purpose:

* ``Train/Urban/masks_png/2.png`` has a no-data band (id 0) along its top rows;
* ``Train/Rural/masks_png/4.png`` is all no-data (skipped and reported);
* ``Val/Rural/masks_png/7.png`` holds an id (9) LoveDA does not define (skipped and reported with the id);
* ``Test`` has images only (masks withheld): every test image is reported, none dropped silently.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from data_converters.fakes.common import save_image
from data_converters.fakes.masks import landcover_map, paint_landcover

SIZE = 96
NODATA_ROWS = 20
#: (split folder, domain, file number, quirk)
FILES = (
    ("Train", "Urban", 1, None),
    ("Train", "Urban", 2, "nodata_band"),
    ("Train", "Rural", 3, None),
    ("Train", "Rural", 4, "all_nodata"),
    ("Val", "Urban", 5, None),
    ("Val", "Rural", 6, None),
    ("Val", "Rural", 7, "unknown_id"),
    ("Test", "Urban", 8, None),
    ("Test", "Rural", 9, None),
)


def make_fake(root: Path, *, seed: int = 0) -> dict[str, Any]:
    """Write the fake under ``root`` and return what a correct conversion must find.

    Returns:
        ``{"splits": {split: samples}, "skipped": {split: [files the skips name]}, "fractions": {key: {class:
        share of the valid pixels}}, "nodata": {key: share of no-data pixels}}``.
    """
    rng = np.random.default_rng(seed)
    classes = ("background", "building", "road", "water", "barren", "forest", "agriculture")
    fractions: dict[str, dict[str, float]] = {}
    nodata: dict[str, float] = {}
    for split, domain, n, quirk in FILES:
        folder = Path(root) / split / domain
        cmap = landcover_map(rng, SIZE, SIZE)
        if quirk == "nodata_band":
            cmap[:NODATA_ROWS] = 0
        elif quirk == "all_nodata":
            cmap[:] = 0
        elif quirk == "unknown_id":
            cmap[40:44, 40:44] = 9
        save_image(folder / "images_png" / f"{n}.png", paint_landcover(rng, np.minimum(cmap, 7)))
        if split != "Test":
            save_image(folder / "masks_png" / f"{n}.png", cmap)
        key = f"{domain.lower()}_{n}"
        valid = cmap[cmap != 0]
        nodata[key] = 1 - valid.size / cmap.size
        if valid.size:
            fractions[key] = {c: float(np.mean(valid == i + 1)) for i, c in enumerate(classes)}
    return {
        "splits": {"train": 3, "val": 2, "test": 0},
        "skipped": {
            "train": ["Train/Rural/images_png/4.png"],
            "val": ["Val/Rural/masks_png/7.png"],
            "test": ["Test/Rural/images_png/9.png", "Test/Urban/images_png/8.png"],
        },
        "fractions": fractions,
        "nodata": nodata,
    }
