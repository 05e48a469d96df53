"""LEVIR-CD building change detection."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import ClassVar

from data_converters.base import safe_key
from data_converters.families.change import (
    ChangeLabels,
    ChangePairConverter,
    PairFiles,
    binary_change,
    existing_dirs,
    list_images,
)
from ts_instruct.errors import DatasetNotFoundError


class LEVIRCD(ChangePairConverter):
    """LEVIR-CD: a large-scale remote sensing building change detection dataset.

    Homepage: https://justchenhao.github.io/LEVIR/

    Dataset features:
        * 637 pairs of 1024x1024 RGB PNG (Google Earth, 0.5 m/pixel), 20 regions of Texas, 2002-2018
        * time span of 5-14 years per pair; 31,333 changed building instances
        * binary change labels: building growth and building decline

    Dataset format:
        * ``A/`` holds the earlier image, ``B/`` the later one and ``label/`` the change mask, all with the same name
        * labels are PNG with 0 = no change and 255 = change; some copies store them as 3-channel RGB (a pixel is
          changed when any channel is ``>= 128``), and 0/1-valued copies are read too
        * the official zips prefix file names with the split (``train_1.png`` ... ``train_445.png``); torchgeo
          extracts all three into one root, most users put each split in its own folder. Both layouts are read

    On disk (either layout)::

        <root>/                              <root>/
          A/train_1.png ... test_128.png       train/A/train_1.png ...
          B/...                                train/B/...
          label/...                            train/label/...
                                               val/{A,B,label}/  test/{A,B,label}/

    Classes: 1. building. Every region is a ``building`` change (the dataset does not say whether the building
    appeared or disappeared). ``change_count`` counts building changes as the connected components of the change
    mask (pixels joined by an edge, at least ``min_region_area`` square pixels), the regions listed by
    ``change_regions``; touching buildings therefore count as one. Change-Agent counts LEVIR-MCI buildings with
    8-connectivity and more than 5 pixels, which differs only for buildings touching at a corner.

    Splits:
        The official train/val/test split of 445/64/128 pairs (Chen & Shi 2020), taken from the folder or the file
        name prefix.

    License:
        Academic research only; cite Chen & Shi 2020.

    Citation:
        H. Chen, Z. Shi, "A Spatial-Temporal Attention-Based Method and a New Dataset for Remote Sensing Image Change
        Detection", Remote Sensing 12(10):1662, 2020. https://doi.org/10.3390/rs12101662
    """

    name = "levir_cd"
    title = "LEVIR-CD"
    homepage = "https://justchenhao.github.io/LEVIR/"
    license = "academic research only; cite Chen & Shi, Remote Sensing 2020"
    layout = "{A,B,label}/<split>_N.png or <split>/{A,B,label}/*.png"
    classes = ("building",)
    binary_category = "building"
    countable = ("building",)
    gsd = 0.5
    default_tasks = ("change_exists", "change_regions", "change_fraction", "change_count")
    base_dirs: ClassVar[tuple[str, ...]] = (".", "LEVIR-CD")
    extensions: ClassVar[tuple[str, ...]] = (".png",)

    def _a_files(self, split: str) -> list[Path]:
        for base in existing_dirs(self.root, self.base_dirs):
            if (base / split / "A").is_dir():
                return list_images(base / split / "A", self.extensions)
            if (base / "A").is_dir():
                return [p for p in list_images(base / "A", self.extensions) if p.name.startswith(f"{split}_")]
        raise DatasetNotFoundError(self.name, self.root, f"'{split}/A/*.png' or 'A/{split}_*.png'")

    def units(self, split: str) -> Sequence[str]:
        """Relative paths of the split's earlier (``A``) images, sorted."""
        self.check_split(split)
        files = self._a_files(split)
        if not files:
            raise DatasetNotFoundError(self.name, self.root, f"'{split}/A/*.png' or 'A/{split}_*.png'")
        return [self.rel(p) for p in files]

    def pair(self, split: str, unit: str) -> PairFiles:
        """``.../A/<name>`` → ``.../B/<name>`` and ``.../label/<name>``."""
        a = PurePosixPath(unit)
        base = a.parent.parent
        return PairFiles(
            key=safe_key(a.stem),
            before=unit,
            after=str(base / "B" / a.name),
            labels=(str(base / "label" / a.name),),
        )

    def decode(self, files: PairFiles, size: tuple[int, int]) -> ChangeLabels:
        """0/255 (or RGB, or 0/1) label → 0/1 change mask."""
        return ChangeLabels(change=binary_change(self.read_label(files.labels[0], size)))
