"""SECOND: the SEmantic Change detectiON Dataset (released training set)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from data_converters.base import safe_key
from data_converters.families.change import (
    IGNORE,
    ChangeLabels,
    ChangePairConverter,
    PairFiles,
    existing_dirs,
    list_images,
)
from data_converters.families.classification import stable_split
from ts_instruct.errors import DatasetNotFoundError
from ts_instruct.sample import MaskRef


def palette_to_ids(rgb: NDArray[np.uint8], palette: dict[int, tuple[int, int, int]]) -> NDArray[np.uint8]:
    """Class ids of an RGB label image; colours not in ``palette`` become :data:`IGNORE`.

    Args:
        rgb: (H, W, 3) uint8 label image.
        palette: class id → (R, G, B).

    Returns:
        (H, W) uint8 array of class ids.

    Example:
        >>> palette_to_ids(np.array([[[255, 255, 255], [0, 0, 255], [1, 2, 3]]], np.uint8),
        ...                {0: (255, 255, 255), 1: (0, 0, 255)}).tolist()
        [[0, 1, 255]]
    """
    code = (rgb[..., 0].astype(np.int32) << 16) | (rgb[..., 1].astype(np.int32) << 8) | rgb[..., 2].astype(np.int32)
    out = np.full(code.shape, IGNORE, np.uint8)
    for cid, (r, g, b) in palette.items():
        out[code == (r << 16 | g << 8 | b)] = cid
    return out


def unknown_colours(rgb: NDArray[np.uint8], ids: NDArray[np.uint8], limit: int = 5) -> str:
    """The colours that :func:`palette_to_ids` could not map, most frequent first, as ``"(1, 2, 3) x 40"``."""
    bad = rgb[ids == IGNORE].reshape(-1, 3)
    colours, counts = np.unique(bad, axis=0, return_counts=True)
    order = np.argsort(-counts, kind="stable")[:limit]
    return ", ".join(f"{tuple(int(v) for v in colours[i])} x {int(counts[i])}" for i in order)


class SECOND(ChangePairConverter):
    """SECOND: SEmantic Change detectiON Dataset, land-cover change with from-class and to-class.

    Homepage: https://captain-whu.github.io/SCD/

    Dataset features:
        * 4,662 pairs of 512x512 aerial RGB PNG (0.5-3 m/pixel) over Hangzhou, Chengdu and Shanghai; only the
          2,968 training pairs were released (the 1,694 test pairs are withheld)
        * 6 land-cover classes, labelled at both dates inside the changed regions only

    Dataset format:
        * ``im1/`` (earlier), ``im2/`` (later), ``label1/`` and ``label2/`` hold files of the same name, 5-digit
          zero-padded and not contiguous (``00003.png``)
        * labels are RGB PNG colour-coded by class, white (255, 255, 255) outside changed regions. A pixel is changed
          when it is coloured in both maps; its change is ``label1`` class → ``label2`` class. Colours outside the
          palette (and pixels coloured in one map but white in the other) are reported and ignored, as :data:`IGNORE`
          in the change mask (Bi-SRNet's ``Color2Index`` would silently map them to "unchanged")
        * kept masks: ``change`` (0/1), ``from`` and ``to`` (class ids at each date, 0 where unchanged)

    On disk::

        <root>/SECOND_train_set/         (or these folders directly under <root>)
          im1/00003.png ...  im2/...  label1/...  label2/...
          train_list.txt, val_list.txt   (optional; Bi-SRNet's lists, one path per line, the file name is used)
        or, already split:  <root>/{train,val}/{im1,im2,label1,label2}/

    Classes (id: name, palette colour; the palette of Bi-SRNet ``ST_COLORMAP`` and open-cd, confirmed by several
    independent loaders): 0 unchanged (255, 255, 255); 1 water (0, 0, 255); 2 ground, i.e. non-vegetated ground
    surface (128, 128, 128); 3 low vegetation (0, 128, 0); 4 tree (0, 255, 0); 5 building (128, 0, 0); 6 sports field,
    a.k.a. playground (255, 0, 0).

    Splits:
        There is no official validation split of the released set. With ``{train,val}/`` folders or Bi-SRNet's
        ``train_list.txt``/``val_list.txt`` (2,375 / 593 pairs) those define the splits. Otherwise a seeded hash of
        the file name assigns 80% to train and 20% to val (:func:`stable_split`, salt ``second-split-v1``): stable
        when files are added or removed, and about Bi-SRNet's proportions.

    License:
        Research use only (captain-whu.github.io/SCD; no explicit terms published).

    Citation:
        K. Yang, G.-S. Xia, Z. Liu, B. Du, W. Yang, M. Pelillo, L. Zhang, "Asymmetric Siamese Networks for Semantic
        Change Detection in Aerial Images", IEEE TGRS 60, 2022. https://doi.org/10.1109/TGRS.2021.3113912
    """

    name = "second"
    title = "SECOND (semantic change detection)"
    homepage = "https://captain-whu.github.io/SCD/"
    license = "research use only; cite Yang et al., IEEE TGRS 2022"
    layout = "[SECOND_train_set/]{im1,im2,label1,label2}/NNNNN.png (+ optional train_list.txt/val_list.txt)"
    splits = ("train", "val")
    classes = ("water", "ground", "low_vegetation", "tree", "building", "sports_field")
    change_labels = "from_to"
    class_names: ClassVar[dict[int, str]] = {0: "unchanged", **{i + 1: c for i, c in enumerate(classes)}}
    palette: ClassVar[dict[int, tuple[int, int, int]]] = {
        0: (255, 255, 255),
        1: (0, 0, 255),
        2: (128, 128, 128),
        3: (0, 128, 0),
        4: (0, 255, 0),
        5: (128, 0, 0),
        6: (255, 0, 0),
    }
    default_tasks = ("change_exists", "change_regions", "change_semantic", "change_fraction")
    base_dirs: ClassVar[tuple[str, ...]] = ("SECOND_train_set", "SECOND", ".")
    split_fractions: ClassVar[dict[str, float]] = {"train": 0.8, "val": 0.2}
    split_salt: ClassVar[str] = "second-split-v1"

    def _base(self) -> Path:
        for base in existing_dirs(self.root, self.base_dirs):
            if (base / "im1").is_dir() or (base / "train" / "im1").is_dir():
                return base
        raise DatasetNotFoundError(self.name, self.root, "'SECOND_train_set/im1/' (or 'im1/' or 'train/im1/')")

    def _split_list(self, base: Path, split: str) -> set[str] | None:
        """File names listed for ``split`` by Bi-SRNet-style lists, or ``None`` when there are no lists."""
        found = False
        for folder in dict.fromkeys((base, self.root)):
            for s in self.splits:
                if (folder / f"{s}_list.txt").is_file():
                    found = True
            path = folder / f"{split}_list.txt"
            if path.is_file():
                lines = path.read_text(encoding="utf-8").split()
                return {PurePosixPath(line.replace("\\", "/")).name for line in lines}
        return set() if found else None

    def units(self, split: str) -> Sequence[str]:
        """Relative paths of the split's earlier (``im1``) images, sorted."""
        self.check_split(split)
        base = self._base()
        if (base / split / "im1").is_dir():
            files = list_images(base / split / "im1", (".png",))
        elif (base / "im1").is_dir():
            files = list_images(base / "im1", (".png",))
            members = self._split_list(base, split)
            if members is None:
                files = [p for p in files if stable_split(p.name, self.split_fractions, salt=self.split_salt) == split]
            else:
                files = [p for p in files if p.name in members]
        else:
            files = []
        if not files:
            raise DatasetNotFoundError(self.name, self.root, f"'{split}' pairs under {self.rel(base)!r}")
        return [self.rel(p) for p in files]

    def pair(self, split: str, unit: str) -> PairFiles:
        """``.../im1/<name>`` → ``im2/<name>``, ``label1/<name>`` and ``label2/<name>``."""
        a = PurePosixPath(unit)
        base = a.parent.parent
        return PairFiles(
            key=safe_key(a.stem),
            before=unit,
            after=str(base / "im2" / a.name),
            labels=(str(base / "label1" / a.name), str(base / "label2" / a.name)),
        )

    def _ids(self, rel: str, size: tuple[int, int], problems: list[tuple[str, str]]) -> NDArray[np.uint8]:
        rgb = self.read_label(rel, size, colours=True)  # palette-mode copies decode to their colours too
        ids = palette_to_ids(rgb, self.palette)
        if np.any(ids == IGNORE):
            problems.append((rel, f"colours outside the SECOND palette; ignored: {unknown_colours(rgb, ids)}"))
        return ids

    def decode(self, files: PairFiles, size: tuple[int, int]) -> ChangeLabels:
        """Two RGB label maps → class ids at each date and the change mask (coloured in both = changed)."""
        problems: list[tuple[str, str]] = []
        before = self._ids(files.labels[0], size, problems)
        after = self._ids(files.labels[1], size, problems)
        known = (before != IGNORE) & (after != IGNORE)
        one_sided = known & ((before == 0) != (after == 0))
        if one_sided.any():
            problems.append(
                (
                    files.labels[1],
                    f"pixels coloured in one label map but white in the other; {int(one_sided.sum())} ignored",
                )
            )
        change = np.where(known & ~one_sided, (before != 0).astype(np.uint8), IGNORE).astype(np.uint8)
        changed = change == 1
        from_ids = np.where(changed, before, np.where(change == IGNORE, IGNORE, 0)).astype(np.uint8)
        to_ids = np.where(changed, after, np.where(change == IGNORE, IGNORE, 0)).astype(np.uint8)
        has_ignore = bool((change == IGNORE).any())
        masks = [
            MaskRef(
                kind="semantic_change",
                name=name,
                classes=dict(self.class_names),
                pixels=ids,
                image_index=index,
                ignore_index=IGNORE if has_ignore else None,
            )
            for name, ids, index in (("from", from_ids, 0), ("to", to_ids, 1))
        ]
        return ChangeLabels(change=change, before=from_ids, after=to_ids, masks=masks, problems=problems)
