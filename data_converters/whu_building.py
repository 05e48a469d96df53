"""WHU Building: aerial and satellite building extraction."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from data_converters.families.segmentation import IMAGE_SUFFIXES, SegmentationConverter, binarize_building_mask
from ts_instruct.errors import DatasetNotFoundError, InvalidAnnotationError


class WHUBuilding(SegmentationConverter):
    """WHU Building Dataset: building footprints in aerial and satellite tiles (Ji et al., 2019).

    Homepage: http://gpcv.whu.edu.cn/data/building_dataset.html

    Dataset features:
        * ``aerial`` (default version): Christchurch, New Zealand, 0.3 m, 8,188 RGB tiles of 512x512 pixels,
          split train 4,736 / val 1,036 / test 2,416 (about 187,000 buildings)
        * ``satellite_ii`` (East Asia): six neighbouring satellite scenes at about 2.7 m, 17,388 tiles of 512x512,
          split train 13,662 / test 3,726
        * ``satellite_i`` (global cities): 204 tiles of 512x512 from several satellites and cities, 0.3-2.5 m;
          used for testing only, so all of it is the ``test`` split

    Dataset format:
        * images: 3-band 8-bit TIFF; labels: a TIFF of the same name in the sibling ``label`` folder
        * label pixels: ``255`` = building, ``0`` = background, single band in the release; some mirrors store the
          label as 3-band RGB (``(255, 255, 255)`` = building) or as PNG, or re-saved as 0/1. All are read: a pixel
          is building when its (brightest-channel) value exceeds 127, or exceeds 0 in a mask whose maximum is 1
          (:func:`~data_converters.families.segmentation.binarize_building_mask`)
        * tiles are named by number (``0.tif``, ``1.tif``, ...); the key of a sample is the file stem

    On disk (the folder names of the official archives; the subset folder may also be ``<root>`` itself)::

        <root>/
          3. The cropped image tiles and raster labels/      (aerial; inside "3. The cropped aerial image tiles
            train/image/0.tif ...  train/label/0.tif ...       and raster labels/" when extracted with its zip
            val/image/   val/label/                            name; also accepted: aerial/)
            test/image/  test/label/
          Satellite dataset Ⅱ (East Asia)/1. The cropped image data and raster labels/   (satellite_ii)
            train/image/ train/label/  test/image/ test/label/
          Satellite dataset Ⅰ (global cities)/image/  .../label/                          (satellite_i)

    The Roman numerals in the satellite folder names are Unicode (U+2160/U+2161) and get mangled by some unzip
    tools, so a folder whose name contains ``East Asia`` or ``global cities`` is found too. ``images``/``labels``
    are accepted for ``image``/``label``.

    Classes (mask ids after decoding): 0 background (no polygons), 1 building.

    Splits:
        Folders of the release (aerial: train/val/test; satellite_ii: train/test; satellite_i: test only).

    License:
        Academic use; cite Ji et al. (the exact terms are not stated on the page).

    Citation:
        S. Ji, S. Wei, M. Lu, "Fully Convolutional Networks for Multisource Building Extraction From an Open Aerial
        and Satellite Imagery Data Set", IEEE TGRS 57(1), 2019. https://doi.org/10.1109/TGRS.2018.2858817
    """

    name = "whu_building"
    title = "WHU Building"
    homepage = "http://gpcv.whu.edu.cn/data/building_dataset.html"
    license = "academic use; cite Ji et al., IEEE TGRS 2019"
    layout = "3. The cropped image tiles and raster labels/{train,val,test}/{image,label}/<n>.tif (aerial)"
    versions = ("aerial", "satellite_ii", "satellite_i")
    classes = ("building",)
    mask_classes: ClassVar[dict[int, str]] = {0: "background", 1: "building"}

    #: version → candidate subset folders under root, first match wins
    BASES: ClassVar[dict[str, tuple[str, ...]]] = {
        "aerial": (
            "3. The cropped image tiles and raster labels",
            "3. The cropped aerial image tiles and raster labels/3. The cropped image tiles and raster labels",
            "aerial",
            ".",
        ),
        "satellite_ii": (
            "Satellite dataset Ⅱ (East Asia)/1. The cropped image data and raster labels",
            "1. The cropped image data and raster labels",
            "satellite_ii",
            ".",
        ),
        "satellite_i": (
            "Satellite dataset Ⅰ (global cities)",
            "Satellite dataset Ⅰ (global cities)/Satellite dataset Ⅰ (global cities)",
            "satellite_i",
            ".",
        ),
    }
    #: version → words of the subset folder name, used when the Unicode numerals were mangled on extraction
    NAME_HINTS: ClassVar[dict[str, str]] = {"satellite_ii": "East Asia", "satellite_i": "global cities"}
    #: version → split → folder under the subset folder
    SPLIT_DIRS: ClassVar[dict[str, dict[str, str]]] = {
        "aerial": {"train": "train", "val": "val", "test": "test"},
        "satellite_ii": {"train": "train", "test": "test"},
        "satellite_i": {"test": "."},
    }
    #: (image folder, label folder) spellings
    FOLDERS: ClassVar[tuple[tuple[str, str], ...]] = (("image", "label"), ("images", "labels"))
    GSD: ClassVar[dict[str, float | None]] = {"aerial": 0.3, "satellite_ii": 2.7, "satellite_i": None}

    def source_gsd(self) -> float | None:
        """0.3 m (aerial), 2.7 m (satellite II), unknown for satellite I (0.3-2.5 m depending on the city)."""
        return self.GSD[self.version]

    def _split_dirs(self, base: Path) -> list[Path]:
        return [base / d for d in self.SPLIT_DIRS[self.version].values()]

    def _has_images(self, split_dir: Path) -> bool:
        return any((split_dir / img).is_dir() for img, _ in self.FOLDERS)

    def _base(self) -> Path:
        candidates = [self.root / b for b in self.BASES[self.version]]
        hint = self.NAME_HINTS.get(self.version)
        if hint:
            for pattern in (f"*{hint}*", f"*/*{hint}*", f"*{hint}*/*", f"*{hint}*/*/*"):
                candidates.extend(p for p in sorted(self.root.glob(pattern)) if p.is_dir())
        for base in candidates:
            if any(self._has_images(d) for d in self._split_dirs(base)):
                return base
        raise DatasetNotFoundError(
            self.name, self.root, f"the {self.version} subset: {self.BASES[self.version][0]!r}/<split>/image/*.tif"
        )

    def image_files(self, split: str) -> list[Path]:
        """Images of the split's ``image`` folder, sorted; ``[]`` for a split the version does not have."""
        base = self._base()
        sub = self.SPLIT_DIRS[self.version].get(split)
        if sub is None:
            return []
        for img, _ in self.FOLDERS:
            folder = base / sub / img
            if folder.is_dir():
                return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        return []

    def mask_path(self, split: str, image: Path) -> Path | None:
        """``../label/<same stem>`` (``.tif``, else ``.tiff`` or ``.png``)."""
        label_dir = dict(self.FOLDERS).get(image.parent.name, "label")
        return self.find_mask(image.parent.parent / label_dir, image)

    def decode_mask(self, raw: NDArray[Any], where: str) -> NDArray[np.uint8]:
        """0/255 (or 0/1, or RGB) building mask → 0/1."""
        try:
            return binarize_building_mask(raw)
        except ValueError as e:
            raise InvalidAnnotationError(where, str(e), field="mask") from e
