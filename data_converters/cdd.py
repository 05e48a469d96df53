"""CDD: the season-varying change detection dataset of Lebedev et al. (also called SVCD)."""

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
from ts_instruct.errors import DatasetNotFoundError, InvalidImageError


class CDD(ChangePairConverter):
    """CDD: Change Detection Dataset with season-varying image pairs (Lebedev et al. 2018), a.k.a. SVCD.

    Paper (the download link is given there): https://doi.org/10.5194/isprs-archives-XLII-2-565-2018

    Dataset features:
        * ``real`` version: 16,000 pairs of 256x256 RGB JPEG cut from 11 season-varying Google Earth pairs
          (7 of 4725x2200 and 4 of 1900x1000 pixels), 0.03-1 m/pixel; split 10,000 / 3,000 / 3,000
        * ``with_shift`` and ``without_shift`` versions: the synthetic ``Model/`` pairs (objects added to
          model images, with or without a small shift between dates)
        * binary labels of changed objects (cars, buildings, roads ...), seasonal changes ignored

    Dataset format:
        * ``A/`` (earlier), ``B/`` (later) and ``OUT/`` (change mask) hold files of the same name
        * the masks are JPEG-compressed (``OUT/*.jpg``): values scatter around 0 and 255, so a pixel is changed when
          its value is ``>= 128``, as open-cd's ``to_binary`` and CDLab do; white is change. The synthetic val and
          test masks are ``*.bmp``; any of ``.jpg``, ``.bmp``, ``.png`` is read

    On disk::

        <root>/ChangeDetectionDataset/     (or these folders directly under <root>)
          Real/subset/{train,val,test}/{A,B,OUT}/00000.jpg ...
          Model/with_shift/{train,val,test}/{A,B,OUT}/
          Model/without_shift/{train,val,test}/{A,B,OUT}/

    Classes: none; regions are unlabelled changes.

    Splits:
        The official train/val/test folders.

    License:
        Research use; cite Lebedev et al. 2018 (no explicit terms published).

    Citation:
        M. A. Lebedev, Yu. V. Vizilter, O. V. Vygolov, V. A. Knyaz, A. Yu. Rubis, "Change detection in remote sensing
        images using conditional adversarial networks", ISPRS Archives XLII-2, 565-571, 2018.
        https://doi.org/10.5194/isprs-archives-XLII-2-565-2018
    """

    name = "cdd"
    title = "CDD (season-varying change detection)"
    homepage = "https://doi.org/10.5194/isprs-archives-XLII-2-565-2018"
    license = "research use; cite Lebedev et al., ISPRS Archives 2018"
    layout = "[ChangeDetectionDataset/]Real/subset/<split>/{A,B,OUT}/*.jpg (or Model/{with,without}_shift/...)"
    versions = ("real", "with_shift", "without_shift")
    default_tasks = ("change_exists", "change_regions", "change_fraction")
    base_dirs: ClassVar[tuple[str, ...]] = ("ChangeDetectionDataset", ".")
    #: version → folder of the split folders, relative to the dataset folder
    version_dirs: ClassVar[dict[str, str]] = {
        "real": "Real/subset",
        "with_shift": "Model/with_shift",
        "without_shift": "Model/without_shift",
    }
    image_extensions: ClassVar[tuple[str, ...]] = (".jpg", ".jpeg", ".png", ".bmp")
    mask_extensions: ClassVar[tuple[str, ...]] = (".jpg", ".bmp", ".png", ".jpeg")

    def _split_dir(self, split: str) -> Path:
        sub = self.version_dirs[self.version]
        for base in existing_dirs(self.root, self.base_dirs):
            if (base / sub / split / "A").is_dir():
                return base / sub / split
        raise DatasetNotFoundError(self.name, self.root, f"'{sub}/{split}/A/' (version {self.version!r})")

    def units(self, split: str) -> Sequence[str]:
        """Relative paths of the split's earlier (``A``) images, sorted."""
        self.check_split(split)
        folder = self._split_dir(split)
        files = list_images(folder / "A", self.image_extensions)
        if not files:
            raise DatasetNotFoundError(self.name, self.root, f"images in {self.rel(folder / 'A')!r}")
        return [self.rel(p) for p in files]

    def pair(self, split: str, unit: str) -> PairFiles:
        """``.../A/<name>`` → ``.../B/<name>`` and ``.../OUT/<stem>.{jpg,bmp,png}``."""
        a = PurePosixPath(unit)
        base = a.parent.parent
        candidates = [base / "OUT" / (a.stem + ext) for ext in self.mask_extensions]
        mask = next((m for m in candidates if (self.root / m).is_file()), candidates[0])
        return PairFiles(key=safe_key(a.stem), before=unit, after=str(base / "B" / a.name), labels=(str(mask),))

    def decode(self, files: PairFiles, size: tuple[int, int]) -> ChangeLabels:
        """JPEG/BMP mask → 0/1 change mask (``>= 128`` is changed)."""
        if not (self.root / files.labels[0]).is_file():
            raise InvalidImageError(files.labels[0], "change mask is missing (looked for .jpg, .bmp and .png in OUT/)")
        return ChangeLabels(change=binary_change(self.read_label(files.labels[0], size), threshold=128))
