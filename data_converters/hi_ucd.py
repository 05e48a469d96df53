"""Hi-UCD and Hi-UCD mini: ultra-high-resolution urban semantic change detection (Tallinn)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import ClassVar

import numpy as np

from data_converters.base import safe_key
from data_converters.families.change import IGNORE, ChangeLabels, ChangePairConverter, PairFiles, existing_dirs
from ts_instruct.errors import DatasetNotFoundError, InvalidAnnotationError
from ts_instruct.sample import MaskRef

_YEAR_PAIR = re.compile(r"^(\d{4})_(\d{4})$")


class HiUCD(ChangePairConverter):
    """Hi-UCD: ultra-High Urban Change Detection, semantic change between two years over Tallinn, Estonia.

    Homepage: https://github.com/Daisy-7/Hi-UCD-S

    Dataset features:
        * 0.1 m/pixel aerial orthophotos of the Estonian Land Board, Tallinn; three phases: 2017, 2018, 2019
        * ``mini`` version (released 2023-09): train and val pair 2017 with 2018, test pairs 2018 with 2019
          (about 1,293 / 129 / 148 tiles of 1024x1024, per the authors' announcement; unconfirmed)
        * ``full`` version (released 2024-07): 40,800 pairs, 9 land-cover classes, 48 semantic change classes; test
          labels are withheld (scored on Codabench), so a split without ``mask_merge`` is simply not available. A
          2025-11-01 patch replaced the training images: record which download you converted
        * land cover is labelled at both dates everywhere, not only inside changed areas

    Dataset format:
        * ``<split>/image/<year>/9/<name>.png`` holds the image of each year (the ``9`` sub-folder is in every
          path); ``<split>/mask_merge/<year1>_<year2>/9/<name>.png`` the labels of the pair
        * ``mask_merge`` is a 3-channel PNG of class ids, not colours. Decided from the authors' README and a
          third-party loader (``HiUCDDataset``, which reads the channels as ``[:, :, 0]``, ``[:, :, 1]``, ``[:, :, 2]``
          with an RGB reader): channel 0 (R) is the land cover of ``year1`` (0-9), channel 1 (G) that of ``year2``,
          channel 2 (B) the change state: 0 unlabelled, 1 unchanged, 2 changed. Unlabelled pixels are
          :data:`IGNORE` in the change mask and left out of the changed fraction; values out of range are reported
          and ignored; pixels whose change state disagrees with their two classes are reported and kept as labelled
        * the year pair is read from the ``mask_merge`` folder name, so the test split's different pair (2018_2019)
          needs nothing special; the years are kept in ``annotations.extra["years"]`` and named in the prompts
        * kept masks: ``change`` (0/1, 255 unlabelled), ``t1`` and ``t2`` (land-cover ids, 0 unlabelled)
        * a changed pixel whose class at one date is 0 keeps that: its region reads ``unlabelled → building``

    On disk::

        <root>/HiUCD_mini/                       (full: <root>/HiUCD/; or the split folders directly under <root>)
          train/image/2017/9/*.png  train/image/2018/9/*.png  train/mask_merge/2017_2018/9/*.png
          val/  image/2017/9, image/2018/9, mask_merge/2017_2018/9
          test/ image/2018/9, image/2019/9, mask_merge/2018_2019/9

    Classes (id: name, the authors' visualisation colour): 0 unlabelled (255, 255, 255); 1 water (0, 153, 255);
    2 grass (202, 255, 122); 3 building (230, 0, 0); 4 greenhouse (230, 0, 255); 5 road (255, 230, 0); 6 bridge
    (255, 181, 197); 7 others (0, 255, 230); 8 bare land (175, 122, 255); 9 woodland (26, 255, 0).

    Splits:
        The official train/val/test folders.

    License:
        Estonian Land Board open data; academic use only, commercial use prohibited (authors' README).

    Citation:
        S. Tian, A. Ma, Z. Zheng, Y. Zhong, "Hi-UCD: A large-scale dataset for urban semantic change detection in
        remote sensing imagery", arXiv:2011.03247, 2020; S. Tian et al., ISPRS J. Photogramm. Remote Sens. 193,
        164-186, 2022. https://arxiv.org/abs/2011.03247
    """

    name = "hi_ucd"
    title = "Hi-UCD (urban semantic change detection)"
    homepage = "https://github.com/Daisy-7/Hi-UCD-S"
    license = "Estonian Land Board open data; academic use only, commercial use prohibited"
    layout = "HiUCD_mini/<split>/{image/<year>/9,mask_merge/<year1>_<year2>/9}/*.png"
    versions = ("mini", "full")
    classes = ("water", "grass", "building", "greenhouse", "road", "bridge", "others", "bare_land", "woodland")
    change_labels = "from_to"
    class_names: ClassVar[dict[int, str]] = {0: "unlabelled", **{i + 1: c for i, c in enumerate(classes)}}
    gsd = 0.1
    default_tasks = ("change_exists", "change_regions", "change_semantic", "change_fraction")
    version_dirs: ClassVar[dict[str, tuple[str, ...]]] = {
        "mini": ("HiUCD_mini", "Hi-UCD_mini", "Hi-UCD mini", "."),
        "full": ("HiUCD", "Hi-UCD", "Hi-UCD_full", "."),
    }
    image_extensions: ClassVar[tuple[str, ...]] = (".png", ".tif", ".jpg")

    def _split_dir(self, split: str) -> Path:
        for base in existing_dirs(self.root, self.version_dirs[self.version]):
            if (base / split / "mask_merge").is_dir():
                return base / split
        raise DatasetNotFoundError(
            self.name,
            self.root,
            f"'{self.version_dirs[self.version][0]}/{split}/mask_merge/' (version {self.version!r})",
        )

    def units(self, split: str) -> Sequence[str]:
        """Relative paths of the split's ``mask_merge`` files, sorted."""
        self.check_split(split)
        folder = self._split_dir(split) / "mask_merge"
        files = sorted(p for p in folder.rglob("*.png") if p.is_file())
        if not files:
            raise DatasetNotFoundError(self.name, self.root, f"PNG labels under {self.rel(folder)!r}")
        return [self.rel(p) for p in files]

    def pair(self, split: str, unit: str) -> PairFiles:
        """``<split>/mask_merge/<y1>_<y2>/<sub>/<name>`` → ``<split>/image/<y1>/<sub>/<name>`` and ``.../<y2>/...``.

        Raises:
            InvalidAnnotationError: the folder under ``mask_merge`` is not named ``<year1>_<year2>``.
        """
        path = PurePosixPath(unit)
        parts = path.parts
        i = parts.index("mask_merge")
        if i + 2 >= len(parts) or not (m := _YEAR_PAIR.match(parts[i + 1])):
            raise InvalidAnnotationError(unit, "label must lie in mask_merge/<year1>_<year2>/..., e.g. 2017_2018")
        y1, y2 = m.group(1), m.group(2)
        split_dir = PurePosixPath(*parts[:i])
        under = PurePosixPath(*parts[i + 2 :])

        def image(year: str) -> str:
            stem = split_dir / "image" / year / under.with_suffix("")
            for ext in self.image_extensions:
                if (self.root / f"{stem}{ext}").is_file():
                    return f"{stem}{ext}"
            return f"{stem}{under.suffix}"

        return PairFiles(
            key=safe_key(str(under.with_suffix(""))),
            before=image(y1),
            after=image(y2),
            labels=(unit,),
            extra={"years": [int(y1), int(y2)]},
        )

    def decode(self, files: PairFiles, size: tuple[int, int]) -> ChangeLabels:
        """``mask_merge`` (R: class at year 1, G: class at year 2, B: change state) → class maps and change mask.

        Raises:
            InvalidAnnotationError: the label is not a 3-channel image.
        """
        rel = files.labels[0]
        raw = self.read_label(rel, size)
        if raw.ndim != 3 or raw.shape[2] < 3:
            shape = "x".join(map(str, raw.shape))
            raise InvalidAnnotationError(rel, f"mask_merge must be a 3-channel class-id PNG, got shape {shape}")
        t1, t2, state = (raw[..., c].astype(np.uint8) for c in range(3))
        problems: list[tuple[str, str]] = []
        bad = (t1 > 9) | (t2 > 9) | (state > 2)
        if bad.any():
            values = sorted({int(v) for v in np.unique(t1[t1 > 9])} | {int(v) for v in np.unique(t2[t2 > 9])})
            states = sorted(int(v) for v in np.unique(state[state > 2]))
            what = [f"class ids {values} (must be 0-9)"] if values else []
            what += [f"change states {states} (must be 0-2)"] if states else []
            problems.append((rel, f"values out of range; {int(bad.sum())} pixel(s) with {' and '.join(what)} ignored"))
        labelled = ~bad & (state != 0)
        change = np.where(labelled, (state == 2).astype(np.uint8), IGNORE).astype(np.uint8)
        both = labelled & (t1 != 0) & (t2 != 0)
        disagree = both & ((state == 2) == (t1 == t2))
        if disagree.any():
            n = int(disagree.sum())
            problems.append((rel, f"change state disagrees with the two classes; {n} pixel(s), kept as labelled"))
        t1 = np.where(bad, 0, t1).astype(np.uint8)
        t2 = np.where(bad, 0, t2).astype(np.uint8)
        masks = [
            MaskRef(kind="semantic", name=name, classes=dict(self.class_names), pixels=ids, image_index=index,
                    ignore_index=0)
            for name, ids, index in (("t1", t1, 0), ("t2", t2, 1))
        ]  # fmt: skip
        return ChangeLabels(change=change, before=t1, after=t2, masks=masks, problems=problems)
