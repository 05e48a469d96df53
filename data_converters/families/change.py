"""Family base for bi-temporal change-detection datasets: one unit = one before/after pair.

A dataset module says only where a pair's files lie (:meth:`ChangePairConverter.pair`) and how its label files
decode into a :class:`ChangeLabels` (:meth:`ChangePairConverter.decode`). This base does the rest, the same way for
every dataset:

1. both images must exist, decode, and have the same size (a pair that is not co-registered is skipped and
   reported, never resized);
2. the labels must have that size too;
3. the change mask (``0`` unchanged, ``1`` changed, :data:`IGNORE` no label) is cut into *regions*: the connected
   pieces of changed pixels that share one label, outlined by :func:`ts_instruct.masks.mask_to_polygons` (vertices
   on pixel corners, holes kept). Binary sets give one region per connected component; multi-class sets (building,
   road) one per component of each category; semantic sets one per component of each (class before, class after)
   pair, so every region carries a single ``from → to``. Components smaller than the ``min_region_area`` option (in
   square pixels) are not listed as regions, but their pixels stay in the change mask and in the changed fraction;
4. the sample keeps the change mask (and the class maps, when the dataset has them) as lossless PNG masks for
   pixel-level evaluation, and ``annotations.stats`` holds ``changed_fraction`` (changed pixels over labelled pixels),
   ``change_labels`` (``"binary"``, ``"category"`` or ``"from_to"``) and, where changed objects can be counted,
   ``change_counts`` (``{"building": 3}``: regions of that category).

A pair with no region is a negative (``annotations.negative``): the tasks answer "no change" for it.

Images are listed in time order, earlier first (``A``/``im1``/t1 before ``B``/``im2``/t2) and written as
``<key>_A`` and ``<key>_B``.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from numpy.typing import NDArray

from data_converters.base import Converter
from ts_instruct.errors import InvalidAnnotationError, InvalidImageError
from ts_instruct.imageio import read_mask, read_rgb
from ts_instruct.masks import Polygon, mask_to_polygons
from ts_instruct.sample import Annotations, ChangeRegion, ImageRef, MaskRef, Sample, SampleMeta, Skip

#: Value of a change mask (and of the class maps) for pixels without a usable label.
IGNORE = 255

ChangeLabelKind = Literal["binary", "category", "from_to"]


@dataclass
class PairFiles:
    """Where one pair lies, as POSIX paths relative to the dataset root.

    Attributes:
        key: the sample key (stable, file-name-safe, unique within the split).
        before: the earlier image.
        after: the later image.
        labels: the label files, in the order :meth:`ChangePairConverter.decode` reads them.
        captions: change captions of the pair, if the dataset has them.
        extra: dataset facts kept in ``annotations.extra`` (acquisition years, the change flag ...).
        problems: ``(file, reason)`` of problems found while locating the pair that do not stop it (no captions);
            each is reported as a kept skip.
    """

    key: str
    before: str
    after: str
    labels: tuple[str, ...]
    captions: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ChangeLabels:
    """The decoded ground truth of one pair, every array of shape (H, W) and dtype uint8.

    Attributes:
        change: ``0`` unchanged, ``1`` changed, :data:`IGNORE` unlabelled or unusable.
        category: change-category id of each changed pixel (multi-class sets), names in
            :attr:`ChangePairConverter.category_names`; ``None`` otherwise.
        before: land-cover class id at the earlier date (semantic sets), names in
            :attr:`ChangePairConverter.class_names`; ``None`` otherwise.
        after: land-cover class id at the later date, like ``before``.
        masks: masks to keep besides the change mask (class maps), with their pixels.
        problems: ``(file, reason)`` of label problems that did not stop the pair (an unknown colour, inconsistent
            pixels); each is reported as a kept skip.
    """

    change: NDArray[np.uint8]
    category: NDArray[np.uint8] | None = None
    before: NDArray[np.uint8] | None = None
    after: NDArray[np.uint8] | None = None
    masks: list[MaskRef] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)


def binary_change(label: NDArray[Any], *, threshold: int = 128) -> NDArray[np.uint8]:
    """A 0/1 change mask from a binary label image, whatever its encoding.

    Accepts (H, W) or (H, W, C) arrays (RGB copies of binary masks: a pixel is changed when any channel is),
    0/255 or 0/1 values, and JPEG-compressed masks whose values scatter around 0 and 255 (``>= threshold`` is
    changed, as open-cd's ``to_binary`` and CDLab do).

    Args:
        label: decoded label image.
        threshold: smallest value counted as changed for 8-bit labels.

    Returns:
        (H, W) uint8 array of 0 and 1.

    Example:
        >>> binary_change(np.array([[0, 255], [130, 90]], np.uint8)).tolist()
        [[0, 1], [1, 0]]
        >>> binary_change(np.array([[0, 1]], np.uint8)).tolist()
        [[0, 1]]
    """
    arr = np.asarray(label)
    if arr.ndim == 3:
        arr = arr[..., :3].max(axis=2)
    if arr.dtype == bool or (arr.size and int(arr.max()) == 1):
        return np.asarray(arr != 0, dtype=np.uint8)
    return np.asarray(arr >= threshold, dtype=np.uint8)


class ChangePairConverter(Converter):
    """Before/after image pairs with a change label; subclasses give the layout and the label decoding.

    Subclasses implement :meth:`units` (sorted unit strings, usually the relative path of the earlier image),
    :meth:`pair` (unit → :class:`PairFiles`) and :meth:`decode` (label files → :class:`ChangeLabels`), and set
    :attr:`change_labels` plus :attr:`category_names` or :attr:`class_names` where they apply.
    """

    family = "change"
    #: what a change region is labelled with: nothing, a change category, or a from → to class pair
    change_labels: ClassVar[ChangeLabelKind] = "binary"
    #: category given to every region of a binary set whose changes are all of one kind (LEVIR-CD: building)
    binary_category: ClassVar[str | None] = None
    #: category id → name, for ``category`` maps (0 is never a category: it is "no change")
    category_names: ClassVar[dict[int, str]] = {}
    #: class id → name, for ``before``/``after`` maps
    class_names: ClassVar[dict[int, str]] = {}
    #: categories whose regions are counted into ``stats["change_counts"]`` (objects that can be told apart)
    countable: ClassVar[tuple[str, ...]] = ()
    #: ground sample distance in metres, where the dataset has a single one
    gsd: ClassVar[float | None] = None
    option_defaults: ClassVar[dict[str, Any]] = {"min_region_area": 4.0, "simplify_tolerance": 0.5}

    # -- to implement -------------------------------------------------------------------------------------------
    @abstractmethod
    def pair(self, split: str, unit: str) -> PairFiles:
        """The files of one pair.

        Raises:
            InvalidAnnotationError: the unit cannot be resolved (reported as a skip).
        """

    @abstractmethod
    def decode(self, files: PairFiles, size: tuple[int, int]) -> ChangeLabels:
        """Decode the pair's label files into a :class:`ChangeLabels` of ``size`` ``(width, height)``.

        Raises:
            InvalidImageError: a label file is missing, unreadable or of another size (reported as a skip).
            InvalidAnnotationError: a label file holds values that cannot be used at all.
        """

    # -- shared behaviour ---------------------------------------------------------------------------------------
    def read_label(self, rel: str, size: tuple[int, int], *, colours: bool = False) -> NDArray[Any]:
        """Decode one label file and check that it is ``size`` ``(width, height)``.

        Args:
            rel: the label file, relative to the root.
            size: ``(width, height)`` of the pair's images.
            colours: decode to (H, W, 3) RGB colours (palette and grayscale files converted), for colour-coded
                labels; otherwise values are returned as stored (palette indices for palette files).

        Raises:
            InvalidImageError: missing, unreadable, or of another size than the images.
        """
        arr = read_rgb(self.root / rel) if colours else read_mask(self.root / rel)
        h, w = arr.shape[:2]
        if (w, h) != size:
            raise InvalidImageError(
                rel, f"label is {w}x{h} but the images are {size[0]}x{size[1]}; label and images must match"
            )
        return arr

    def _image_size(self, rel: str, role: str) -> tuple[int, int]:
        path = self.root / rel
        if not path.is_file():
            raise InvalidImageError(rel, f"{role} image is missing; a pair needs both images")
        pixels = read_rgb(path)  # full decode: a truncated file fails here, not in training
        return int(pixels.shape[1]), int(pixels.shape[0])

    def read(self, split: str, unit: str) -> Iterator[Sample | Skip]:
        """One pair → one sample with its change regions, masks and stats (or a skip saying why not)."""
        try:
            files = self.pair(split, unit)
        except InvalidAnnotationError as e:
            yield Skip(unit, e.reason, line=e.line)
            return
        try:
            size_a = self._image_size(files.before, "earlier (A)")
            size_b = self._image_size(files.after, "later (B)")
            if size_a != size_b:
                raise InvalidImageError(
                    files.after,
                    f"the pair's images differ in size; A is {size_a[0]}x{size_a[1]} ({files.before}), "
                    f"B is {size_b[0]}x{size_b[1]}: change pairs must be co-registered at one size",
                )
            labels = self.decode(files, size_a)
        except (InvalidImageError, InvalidAnnotationError) as e:
            yield Skip(getattr(e, "path", unit), e.reason, key=files.key)
            return
        for file, reason in [*files.problems, *labels.problems]:
            yield Skip(file, reason, key=files.key, kept=True)
        yield self._sample(split, files, size_a, labels)

    def _sample(self, split: str, files: PairFiles, size: tuple[int, int], labels: ChangeLabels) -> Sample:
        w, h = size
        change = labels.change
        regions = self.regions(labels)
        changed = int(np.count_nonzero(change == 1))
        valid = int(np.count_nonzero(change != IGNORE))
        stats: dict[str, Any] = {
            "changed_fraction": round(changed / valid, 6) if valid else 0.0,
            "change_labels": self.change_labels,
        }
        if self.countable:
            stats["change_counts"] = {c: sum(1 for r in regions if r.category == c) for c in self.countable}
        has_ignore = bool(np.any(change == IGNORE))
        change_mask = MaskRef(
            kind="change",
            name="change",
            classes={0: "unchanged", 1: "changed"},
            pixels=change,
            image_index=-1,
            ignore_index=IGNORE if has_ignore else None,
        )
        if self.change_labels == "from_to":
            classes = [self.class_names[k] for k in sorted(self.class_names) if k != 0]
        elif self.change_labels == "category":
            classes = [self.category_names[k] for k in sorted(self.category_names)]
        else:
            classes = [self.binary_category] if self.binary_category else []
        images = [ImageRef(source=src, width=w, height=h, source_size=(w, h)) for src in (files.before, files.after)]
        return Sample(
            key=files.key,
            images=images,
            annotations=Annotations(
                masks=[change_mask, *labels.masks],
                captions=list(files.captions),
                changes=regions,
                classes=classes,
                stats=stats,
                extra=dict(files.extra),
                negative=not regions,
            ),
            meta=SampleMeta(dataset=self.name, split=split, version=self.version, gsd=self.gsd, license=self.license),
        )

    def regions(self, labels: ChangeLabels) -> list[ChangeRegion]:
        """Change regions of a pair: connected pieces of changed pixels sharing one label.

        Returns:
            Regions sorted by label, then by their top-most, left-most vertex.
        """
        changed = labels.change == 1
        groups: list[tuple[NDArray[np.bool_], dict[str, str | None]]] = []
        if self.change_labels == "from_to":
            if labels.before is None or labels.after is None:
                raise ValueError(f"{self.name}: change_labels='from_to' needs ChangeLabels.before and .after")
            pair_id = labels.before.astype(np.int32) * 256 + labels.after.astype(np.int32)
            for pid in np.unique(pair_id[changed]).tolist():
                f, t = divmod(int(pid), 256)
                groups.append((changed & (pair_id == pid), {"from_label": self._cls(f), "to_label": self._cls(t)}))
        elif self.change_labels == "category":
            if labels.category is None:
                raise ValueError(f"{self.name}: change_labels='category' needs ChangeLabels.category")
            for cid in np.unique(labels.category[changed]).tolist():
                name = self.category_names.get(int(cid), f"category {cid}")
                groups.append((changed & (labels.category == cid), {"category": name}))
        elif changed.any():
            groups.append((changed, {"category": self.binary_category}))
        out: list[ChangeRegion] = []
        for mask, label in groups:
            for poly in outline(
                mask,
                min_area=float(self.options["min_region_area"]),
                simplify_tolerance=float(self.options["simplify_tolerance"]),
            ):
                xs, ys = poly.exterior[:, 0], poly.exterior[:, 1]
                out.append(
                    ChangeRegion(
                        hbox=[float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())],
                        polygon=poly.exterior.tolist(),
                        holes=[hole.tolist() for hole in poly.holes],
                        area=poly.area,
                        **label,
                    )
                )
        out.sort(key=lambda r: (r.category or "", r.from_label or "", r.to_label or "", r.hbox[1], r.hbox[0]))
        return out

    def _cls(self, cid: int) -> str:
        return self.class_names.get(cid, f"class {cid}")


def outline(mask: NDArray[np.bool_], *, min_area: float, simplify_tolerance: float) -> list[Polygon]:
    """:func:`ts_instruct.masks.mask_to_polygons` of ``mask``, traced inside its bounding box only.

    The result is the same as tracing the whole image (the trace pads its input, and the offset is a whole number of
    pixels), but a semantic pair with dozens of small (from, to) groups on a 1024 px tile is traced many times
    faster (``benchmarks/bench_change_regions.py``).

    Args:
        mask: (H, W) boolean mask of one group of changed pixels.
        min_area: smallest polygon kept, in square pixels.
        simplify_tolerance: Douglas-Peucker tolerance in pixels.

    Returns:
        Polygons in image coordinates, in :func:`~ts_instruct.masks.mask_to_polygons` order.
    """
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return []
    y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    polys = mask_to_polygons(mask[y0:y1, x0:x1], min_area=min_area, simplify_tolerance=simplify_tolerance)
    shift = np.array([x0, y0], dtype=np.float64)
    return [Polygon(p.exterior + shift, [h + shift for h in p.holes]) for p in polys]


def list_images(folder: Path, extensions: Sequence[str]) -> list[Path]:
    """Files of ``folder`` with one of ``extensions`` (case-insensitive), sorted by name; ``[]`` if it is absent."""
    if not folder.is_dir():
        return []
    exts = {e.lower() for e in extensions}
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in exts)


def existing_dirs(root: Path, candidates: Sequence[str]) -> list[Path]:
    """The candidate folders (relative to ``root``) that exist, in the given order."""
    return [root / c for c in candidates if (root / c).is_dir()]
