"""Synthetic WHU Building in the real layouts of its three subsets, tiles of 128 (aerial) and 64 (satellite) px.

Aerial (``3. The cropped image tiles and raster labels/<split>/{image,label}/<n>.tif``), three tiles per split, with
quirks on purpose:

* ``train/label/1.tif`` is stored as 3-band RGB (as some mirrors ship it);
* ``train/label/2.tif`` is all background (an empty mask: a negative sample);
* ``val/label/4.tif`` is smaller than its image (skipped and reported);
* ``val/label/5.tif`` is missing (skipped and reported);
* ``test/image/7.tif`` is truncated (a corrupt TIFF, skipped and reported);
* ``test/label/8.tif`` is stored as 0/1 instead of 0/255;
* every tile but the empty one has a building with a courtyard (a polygon hole) and one stray pixel (below
  ``min_area``, so no polygon).

Satellite II (``Satellite dataset Ⅱ (East Asia)/1. The cropped image data and raster labels/{train,test}/...``) and
Satellite I, whose folder is written with a plain ``I`` (``Satellite dataset I (global cities)/{image,label}``) as
unzip tools that mangle the Unicode numeral leave it, two tiles each.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from data_converters.fakes.common import truncate
from data_converters.fakes.masks import building_mask, count_components, paint_buildings, write_tiff

AERIAL = "3. The cropped image tiles and raster labels"
SATELLITE_II = "Satellite dataset Ⅱ (East Asia)/1. The cropped image data and raster labels"
SATELLITE_I = "Satellite dataset I (global cities)"
SIZE = 128
SAT_SIZE = 64


def _tile(
    rng: np.random.Generator,
    folder: Path,
    name: str,
    size: int,
    n: int,
    *,
    label_form: str = "gray",
    label_size: int | None = None,
    write_label: bool = True,
) -> np.ndarray:
    mask = building_mask(rng, size, size, n) if n else np.zeros((size, size), np.uint8)
    write_tiff(folder / "image" / f"{name}.tif", paint_buildings(rng, mask))
    if write_label:
        lab = mask[: label_size or size, : label_size or size]
        stored = {"gray": lab * 255, "rgb": np.repeat((lab * 255)[..., None], 3, axis=2), "01": lab}[label_form]
        write_tiff(folder / "label" / f"{name}.tif", stored.astype(np.uint8))
    return mask


def make_fake(root: Path, *, seed: int = 0) -> dict[str, Any]:
    """Write the three subsets under ``root`` and return what a correct conversion must find.

    Returns:
        ``{"versions": {version: {"splits": {split: samples}, "skipped": {split: [files]}}}, "buildings":
        {"<version>/<split>/<key>": polygons}, "pixels": {"<version>/<split>/<key>": building pixels}}``: samples per
        split after the skips, the files the skips must name, the number of building polygons (4-connected
        components of at least 4 pixels) and of building pixels of every converted tile.
    """
    rng = np.random.default_rng(seed)
    root = Path(root)
    buildings: dict[str, int] = {}
    pixels: dict[str, int] = {}
    aerial = root / AERIAL
    plan: dict[str, list[tuple[str, dict[str, Any]]]] = {
        "train": [("0", {}), ("1", {"label_form": "rgb"}), ("2", {"n": 0})],
        "val": [("3", {}), ("4", {"label_size": SIZE - 16}), ("5", {"write_label": False})],
        "test": [("6", {}), ("7", {}), ("8", {"label_form": "01"})],
    }
    for split, tiles in plan.items():
        for name, kw in tiles:
            n = kw.pop("n", 5)
            mask = _tile(rng, aerial / split, name, SIZE, n, **kw)
            buildings[f"aerial/{split}/{name}"] = count_components(mask)
            pixels[f"aerial/{split}/{name}"] = int(mask.sum())
    truncate(aerial / "test" / "image" / "7.tif")
    for version, base, splits in (
        ("satellite_ii", root / SATELLITE_II, ("train", "test")),
        ("satellite_i", root / SATELLITE_I, ("test",)),
    ):
        for i, split in enumerate(splits):
            folder = base / split if version == "satellite_ii" else base
            for j in range(2):
                name = f"{version}_{i}{j}"
                mask = _tile(rng, folder, name, SAT_SIZE, 3, label_form="rgb" if j else "gray")
                buildings[f"{version}/{split}/{name}"] = count_components(mask)
                pixels[f"{version}/{split}/{name}"] = int(mask.sum())
    for k in ("aerial/val/4", "aerial/val/5", "aerial/test/7"):
        del buildings[k], pixels[k]
    return {
        "versions": {
            "aerial": {
                "splits": {"train": 3, "val": 1, "test": 2},
                "skipped": {
                    "val": [f"{AERIAL}/val/label/4.tif", f"{AERIAL}/val/image/5.tif"],
                    "test": [f"{AERIAL}/test/image/7.tif"],
                },
            },
            "satellite_ii": {"splits": {"train": 2, "test": 2}, "skipped": {}},
            "satellite_i": {"splits": {"test": 2}, "skipped": {}},
        },
        "buildings": buildings,
        "pixels": pixels,
    }
