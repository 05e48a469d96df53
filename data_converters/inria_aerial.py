"""Inria Aerial Image Labeling: building footprints in 5000x5000 GeoTIFF scenes, tiled into patches."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from data_converters.families.segmentation import SegmentationConverter, binarize_building_mask, window_starts
from ts_instruct.errors import ConfigError, DatasetNotFoundError, InvalidAnnotationError
from ts_instruct.sample import Window

_TILE_NAME = re.compile(r"^(?P<city>.*?)(?P<number>\d+)$")


def tile_number(stem: str) -> int | None:
    """The tile number of an Inria file stem (``"tyrol-w12"`` → 12), ``None`` when it has none.

    >>> tile_number("tyrol-w12"), tile_number("austin1"), tile_number("readme")
    (12, 1, None)
    """
    m = _TILE_NAME.match(stem)
    return int(m.group("number")) if m else None


class InriaAerial(SegmentationConverter):
    """Inria Aerial Image Labeling: building / not-building over ten cities, 0.3 m (Maggiori et al., 2017).

    Homepage: https://project.inria.fr/aerialimagelabeling/

    Dataset features:
        * 360 orthorectified RGB GeoTIFF scenes of 5000x5000 pixels at 0.3 m (1.5 km x 1.5 km each), 8-bit
        * training cities Austin, Chicago, Kitsap County, Western Tyrol, Vienna (36 scenes each, with labels); test
          cities Bellingham, Bloomington, Innsbruck, San Francisco, Eastern Tyrol (36 each, labels withheld)
        * every scene is georeferenced (a projected CRS, UTM for the US cities); the georeference of each patch is
          kept in ``meta.georef`` (CRS and the patch's own GDAL geotransform), so polygons can be exported as
          real-world GeoJSON with :func:`ts_instruct.georef.polygons_to_geojson`

    Dataset format:
        * ``gt/<name>.tif``: single-band GeoTIFF, ``255`` = building, ``0`` = not building, the same name and size
          as ``images/<name>.tif`` (some re-distributions store it as 3 bands; both are read, see
          :func:`~data_converters.families.segmentation.binarize_building_mask`)
        * names are ``<city><n>.tif`` with ``n`` = 1..36; cities may hold a hyphen (``tyrol-w``, ``tyrol-e``) and
          San Francisco is ``sfo``
        * each scene is cut into windows of ``patch`` pixels with stride ``patch - overlap``, the last window of a
          row or column aligned to the scene edge; a patch's key is ``<name>__<x0>_<y0>`` (its top-left corner in
          scene pixels) and ``meta.images[0].window`` gives its place in the scene

    On disk (``AerialImageDataset/`` as extracted from ``NEW2-AerialImageDataset.zip`` or the official 7z parts;
    ``<root>`` may also be ``AerialImageDataset`` itself)::

        <root>/AerialImageDataset/
          train/images/austin1.tif ... vienna36.tif    (180)
          train/gt/austin1.tif ... vienna36.tif        (180)
          test/images/bellingham1.tif ... tyrol-e36.tif (180, no gt)

    Classes (mask ids after decoding): 0 background (no polygons), 1 building.

    Splits:
        ``train``: scenes 6-36 of every training city; ``val``: scenes 1-5 of every training city (the customary
        validation split of the benchmark's guidelines, also torchgeo's; the ``val_tiles`` option moves the bound,
        0 puts every labelled scene in ``train``); ``test``: the test cities, whose labels are withheld by the
        benchmark server: each test scene is reported as skipped ("no ground truth"), none is dropped silently.

    Options:
        patch (default 500: a 5000-pixel scene gives an exact 10x10 grid without overlap), overlap (default 0),
        val_tiles (default 5), plus the family's ``min_area`` and ``simplify``.

    License:
        Free for research and non-commercial use; see the dataset page for the exact terms.

    Citation:
        E. Maggiori, Y. Tarabalka, G. Charpiat, P. Alliez, "Can Semantic Labeling Methods Generalize to Any City?
        The Inria Aerial Image Labeling Benchmark", IGARSS 2017. https://doi.org/10.1109/IGARSS.2017.8127684
    """

    name = "inria_aerial"
    title = "Inria Aerial Image Labeling"
    homepage = "https://project.inria.fr/aerialimagelabeling/"
    license = "research and non-commercial use; cite Maggiori et al., IGARSS 2017"
    layout = "AerialImageDataset/{train,test}/images/<city><n>.tif + train/gt/<city><n>.tif"
    classes = ("building",)
    mask_classes: ClassVar[dict[int, str]] = {0: "background", 1: "building"}
    gsd = 0.3
    option_defaults: ClassVar[dict[str, Any]] = {
        **SegmentationConverter.option_defaults,
        "patch": 500,
        "overlap": 0,
        "val_tiles": 5,
    }
    no_labels_reason = "no ground truth: Inria test labels are withheld by the benchmark server; scene not converted"
    BASES: ClassVar[tuple[str, ...]] = ("AerialImageDataset", ".", "NEW2-AerialImageDataset/AerialImageDataset")

    def __init__(self, root: str | Path, *, version: str | None = None, **options: Any) -> None:
        super().__init__(root, version=version, **options)
        patch, overlap, val_tiles = self.options["patch"], self.options["overlap"], self.options["val_tiles"]
        for name, value in (("patch", patch), ("overlap", overlap), ("val_tiles", val_tiles)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{self.name}: option {name} must be an int >= 0, got {value!r}")
        if patch < 1 or overlap >= patch:
            raise ConfigError(
                f"{self.name}: options must satisfy patch >= 1 and overlap < patch, got "
                f"patch={patch}, overlap={overlap}"
            )

    def _base(self) -> Path:
        for b in self.BASES:
            base = self.root / b
            if (base / "train" / "images").is_dir() or (base / "test" / "images").is_dir():
                return base
        raise DatasetNotFoundError(self.name, self.root, "'AerialImageDataset/train/images/*.tif'")

    def image_files(self, split: str) -> list[Path]:
        """Scenes of the split: train/val from ``train/images`` by tile number, test from ``test/images``."""
        folder = self._base() / ("test" if split == "test" else "train") / "images"
        if not folder.is_dir():
            return []
        files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (".tif", ".tiff"))
        if split == "test":
            return files
        bound = int(self.options["val_tiles"])

        def is_val(p: Path) -> bool:
            n = tile_number(p.stem)
            return n is not None and n <= bound

        return [p for p in files if is_val(p) == (split == "val")]

    def mask_path(self, split: str, image: Path) -> Path | None:
        """``train/gt/<same name>``; ``None`` for test scenes (labels withheld)."""
        if split == "test":
            return None
        return self.find_mask(image.parent.parent / "gt", image)

    def decode_mask(self, raw: NDArray[Any], where: str) -> NDArray[np.uint8]:
        """0/255 building mask (single band or RGB) → 0/1."""
        try:
            return binarize_building_mask(raw)
        except ValueError as e:
            raise InvalidAnnotationError(where, str(e), field="mask") from e

    def windows(self, width: int, height: int) -> list[Window]:
        """The patch grid of a scene (see the class docstring)."""
        patch = int(self.options["patch"])
        stride = patch - int(self.options["overlap"])
        return [
            Window(x0, y0, min(x0 + patch, width), min(y0 + patch, height))
            for y0 in window_starts(height, patch, stride)
            for x0 in window_starts(width, patch, stride)
        ]
