"""LoveDA: land-cover semantic segmentation, urban and rural domains."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from data_converters.base import safe_key
from data_converters.families.segmentation import IMAGE_SUFFIXES, SegmentationConverter
from ts_instruct.errors import ConfigError, DatasetNotFoundError


class LoveDA(SegmentationConverter):
    """LoveDA: A Remote Sensing Land-Cover Dataset for Domain Adaptive Semantic Segmentation (Wang et al., 2021).

    Homepage: https://github.com/Junjue-Wang/LoveDA (data: https://zenodo.org/record/5706578)

    Dataset features:
        * 5,987 RGB PNG images of 1024x1024 pixels at 0.3 m from Google Earth over Nanjing, Changzhou and Wuhan
        * two domains: urban (2,713 images) and rural (3,274)
        * 7 land-cover classes plus no-data

    Dataset format:
        * ``masks_png/<n>.png``: single-band uint8 class ids, the same name and size as ``images_png/<n>.png``::

              0 = no-data (ignored)   1 = background   2 = building   3 = road
              4 = water               5 = barren       6 = forest     7 = agriculture

          The ids are kept as they are in the stored mask (``MaskRef.ignore_index = 0``); no-data pixels are
          excluded from the class fractions, get no polygons, and a mask made only of no-data is skipped and
          reported. A mask holding any other id is skipped and reported with the ids found.
        * file names are integers, unique over the whole dataset; a sample's key is ``<domain>_<n>``
          (``urban_1366``) and ``meta.extra["domain"]`` holds the domain

    On disk (the three Zenodo archives ``Train.zip``, ``Val.zip``, ``Test.zip`` extracted side by side, optionally
    inside a ``LoveDA/`` folder)::

        <root>/
          Train/Urban/images_png/*.png  Train/Urban/masks_png/*.png
          Train/Rural/images_png/*.png  Train/Rural/masks_png/*.png
          Val/Urban/...                 Val/Rural/...
          Test/Urban/images_png/*.png   Test/Rural/images_png/*.png   (no masks)

    Classes (mask ids; :attr:`classes` is in this order): 1 background (no polygons), 2 building, 3 road, 4 water,
    5 barren, 6 forest, 7 agriculture ("agriculture" in the README, "Agricultural" in the authors' code).

    Splits:
        The folders: train 2,522 (urban 1,156, rural 1,366), val 1,669 (urban 677, rural 992), test 1,796 (urban
        820, rural 976). Test masks are withheld (scored on the benchmark server): each test image is reported as
        skipped ("no ground truth"), none is dropped silently. The ``domain`` option (``all``, ``urban``,
        ``rural``) restricts a conversion to one domain.

    License:
        CC BY-NC-SA 4.0; Google Earth terms apply to the imagery.

    Citation:
        J. Wang, Z. Zheng, A. Ma, X. Lu, Y. Zhong, "LoveDA: A Remote Sensing Land-Cover Dataset for Domain Adaptive
        Semantic Segmentation", NeurIPS Datasets and Benchmarks 2021. https://arxiv.org/abs/2110.08733
    """

    name = "loveda"
    title = "LoveDA"
    homepage = "https://github.com/Junjue-Wang/LoveDA"
    license = "CC BY-NC-SA 4.0"
    layout = "{Train,Val,Test}/{Urban,Rural}/images_png/<n>.png + masks_png/<n>.png"
    mask_kind = "semantic"
    classes = ("background", "building", "road", "water", "barren", "forest", "agriculture")
    mask_classes: ClassVar[dict[int, str]] = {i + 1: c for i, c in enumerate(classes)}
    background_ids = (1,)
    ignore_index = 0
    gsd = 0.3
    default_tasks = ("seg_polygons", "seg_exists", "landcover_present", "landcover_fraction")
    option_defaults: ClassVar[dict[str, Any]] = {**SegmentationConverter.option_defaults, "domain": "all"}
    no_labels_reason = "no ground truth: LoveDA test masks are withheld by the benchmark server; image not converted"
    BASES: ClassVar[tuple[str, ...]] = (".", "LoveDA")
    SPLIT_DIRS: ClassVar[dict[str, str]] = {"train": "Train", "val": "Val", "test": "Test"}
    DOMAINS: ClassVar[tuple[str, ...]] = ("Urban", "Rural")

    def __init__(self, root: str | Path, *, version: str | None = None, **options: Any) -> None:
        super().__init__(root, version=version, **options)
        domain = self.options["domain"]
        if domain not in ("all", "urban", "rural"):
            raise ConfigError(f"{self.name}: option domain must be one of ['all', 'urban', 'rural'], got {domain!r}")

    def _base(self) -> Path:
        for b in self.BASES:
            base = self.root / b
            if any((base / s / d / "images_png").is_dir() for s in self.SPLIT_DIRS.values() for d in self.DOMAINS):
                return base
        raise DatasetNotFoundError(self.name, self.root, "'Train/Urban/images_png/*.png' (and Val/, Test/)")

    def _domains(self) -> tuple[str, ...]:
        domain = self.options["domain"]
        return self.DOMAINS if domain == "all" else tuple(d for d in self.DOMAINS if d.lower() == domain)

    def image_files(self, split: str) -> list[Path]:
        """``<Split>/<Domain>/images_png/*`` over the selected domains, sorted by relative path."""
        base = self._base()
        files: list[Path] = []
        for domain in self._domains():
            folder = base / self.SPLIT_DIRS[split] / domain / "images_png"
            if folder.is_dir():
                files.extend(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        return sorted(files)

    def mask_path(self, split: str, image: Path) -> Path | None:
        """``../masks_png/<same name>``; ``None`` for the test split (masks withheld)."""
        if split == "test":
            return None
        return self.find_mask(image.parent.parent / "masks_png", image)

    def sample_key(self, split: str, image: Path) -> str:
        """``<domain>_<n>``, e.g. ``urban_1366``."""
        return safe_key(f"{image.parent.parent.name.lower()}_{image.stem}")

    def sample_extra(self, split: str, image: Path) -> dict[str, Any]:
        """The domain (``urban`` or ``rural``)."""
        return {"domain": image.parent.parent.name.lower()}

    def decode_mask(self, raw: NDArray[Any], where: str) -> NDArray[np.uint8]:
        """Class ids 0-7 as stored (checked)."""
        return self.class_id_map(raw, where)
