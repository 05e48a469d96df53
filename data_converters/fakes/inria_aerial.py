"""Synthetic Inria Aerial Image Labeling: real GeoTIFF scenes of 600x600 px in ``AerialImageDataset/``.

Each scene is a north-up GeoTIFF with a real geotransform (0.3 m pixels) and a projected CRS in its GeoKeyDirectory:
Austin in UTM zone 14N (EPSG:26914), Chicago in UTM 16N (EPSG:26916), Kitsap in UTM 10N (EPSG:26910), Tyrol in
ETRS89 / UTM 32N (EPSG:25832); origins are plausible easting/northing values of each city. Quirks on purpose:

* ``train/gt/chicago1.tif`` is stored as 3-band RGB (torchgeo's docstring calls the labels RGB);
* ``train/gt/tyrol-w7.tif`` is missing (skipped and reported) and the hyphenated city name must parse;
* ``train/images/kitsap6.tif`` is truncated (a corrupt TIFF, skipped and reported);
* ``test/images/bellingham1.tif`` and ``sfo2.tif`` have no gt (test labels are withheld): reported, not dropped;
* buildings stay off the scene border, so the only cut buildings are those cut by the patch grid.

Scenes 1-5 of a city fall in ``val`` by default (``austin1``, ``chicago1``), the others in ``train``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from data_converters.fakes.common import truncate
from data_converters.fakes.masks import building_mask, paint_buildings, write_geotiff

SIZE = 600
PIXEL = 0.3
#: scene → (EPSG code, (easting, northing) of the top-left corner)
SCENES: dict[str, tuple[int, tuple[float, float]]] = {
    "austin1": (26914, (616500.0, 3352500.0)),
    "austin6": (26914, (618000.0, 3352500.0)),
    "chicago1": (26916, (445500.0, 4638000.0)),
    "chicago6": (26916, (447000.0, 4638000.0)),
    "kitsap6": (26910, (520500.0, 5273000.0)),
    "tyrol-w7": (25832, (640500.0, 5247000.0)),
}
TEST_SCENES: dict[str, tuple[int, tuple[float, float]]] = {
    "bellingham1": (26910, (538500.0, 5401500.0)),
    "sfo2": (26910, (551000.0, 4183500.0)),
}


def make_fake(root: Path, *, seed: int = 0) -> dict[str, Any]:
    """Write the fake under ``root`` and return what a correct conversion must find.

    Returns:
        ``{"scenes": {split: [scenes converted]}, "skipped": {split: [files the skips name]}, "georef": {scene:
        (epsg, (easting, northing) of the top-left corner)}, "size": 600}``.
    """
    rng = np.random.default_rng(seed)
    base = Path(root) / "AerialImageDataset"
    for name, (epsg, origin) in SCENES.items():
        mask = building_mask(rng, SIZE, SIZE, 24, sizes=(0.04, 0.12))
        write_geotiff(
            base / "train" / "images" / f"{name}.tif",
            paint_buildings(rng, mask),
            origin=origin,
            pixel_size=PIXEL,
            epsg=epsg,
        )
        if name == "tyrol-w7":
            continue
        gt = (mask * 255).astype(np.uint8)
        if name == "chicago1":
            gt = np.repeat(gt[..., None], 3, axis=2)
        write_geotiff(base / "train" / "gt" / f"{name}.tif", gt, origin=origin, pixel_size=PIXEL, epsg=epsg)
    truncate(base / "train" / "images" / "kitsap6.tif")
    for name, (epsg, origin) in TEST_SCENES.items():
        mask = building_mask(rng, SIZE, SIZE, 12, sizes=(0.04, 0.12))
        write_geotiff(
            base / "test" / "images" / f"{name}.tif",
            paint_buildings(rng, mask),
            origin=origin,
            pixel_size=PIXEL,
            epsg=epsg,
        )
    prefix = "AerialImageDataset"
    return {
        "size": SIZE,
        "scenes": {"train": ["austin6", "chicago6"], "val": ["austin1", "chicago1"], "test": []},
        "skipped": {
            "train": [f"{prefix}/train/images/kitsap6.tif", f"{prefix}/train/images/tyrol-w7.tif"],
            "val": [],
            "test": [f"{prefix}/test/images/bellingham1.tif", f"{prefix}/test/images/sfo2.tif"],
        },
        "georef": {name: (epsg, origin) for name, (epsg, origin) in {**SCENES, **TEST_SCENES}.items()},
    }
