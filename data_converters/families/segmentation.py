"""Family base for segmentation datasets: an image beside a label mask of the same size and name.

Layout read (each dataset module says where the folders are)::

    <images folder>/<name>.<ext>      RGB image (TIFF, PNG, ...)
    <masks folder>/<name>.<ext>       label mask: class ids, or 0/255 building masks (single band or RGB)

What every dataset of the family gets from :class:`SegmentationConverter`:

* the mask is decoded by the dataset (:meth:`SegmentationConverter.decode_mask`: thresholding for binary building
  masks, a check of the id range for class maps) into an ``(H, W)`` uint8 map of the ids of :attr:`mask_classes`;
* a mask whose size differs from its image, a missing mask, an undecodable image or mask, and a mask that is
  entirely no-data are each skipped and reported (file and reason); images of a split without labels (withheld
  test ground truth) are reported one by one, never dropped silently;
* optional tiling of large scenes into windows (:meth:`SegmentationConverter.windows`), each window a sample with
  its own key, crop of the mask and world transform;
* per sample: polygons of every foreground class (:func:`ts_instruct.masks.mask_to_polygons`, vertices on pixel
  corners, holes kept, components under ``min_area`` pixels dropped), ``stats["class_fractions"]`` (share of the
  valid, non-no-data pixels held by each class, every class listed, zeros included), ``stats["nodata_fraction"]``
  when the dataset has a no-data id, and the mask itself (lossless PNG written by the pipeline, stored ids
  unchanged) as a :class:`~ts_instruct.sample.MaskRef`;
* the georeference of GeoTIFF sources (:mod:`ts_instruct.georef`) carried to each emitted image in
  ``SampleMeta.georef``, and the GSD taken from it.

``Annotations.classes`` lists the *foreground* classes (those described by polygons); background and no-data have
no polygons but appear in ``class_fractions`` (background only; no-data is what the fractions exclude).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from numpy.typing import NDArray

from data_converters.base import Converter, safe_key
from ts_instruct import tiling
from ts_instruct.errors import ConfigError, DatasetNotFoundError, InvalidAnnotationError, InvalidImageError
from ts_instruct.georef import GeoRef, read_georef
from ts_instruct.imageio import read_mask, read_rgb
from ts_instruct.masks import mask_to_polygons
from ts_instruct.sample import Annotations, ImageRef, MaskRef, PolygonAnn, Sample, SampleMeta, Skip, Window

#: Image suffixes the pipeline copies unchanged; other sources (TIFF) are handed over decoded, to save a decode.
_COPYABLE = (".jpg", ".jpeg", ".png")
#: Image files listed in image folders (other files, e.g. ``.tfw`` world files or ``.aux.xml``, are ignored).
IMAGE_SUFFIXES = (".tif", ".tiff", ".png", ".jpg", ".jpeg")
#: Suffixes tried, in this order, for a mask that shares its image's stem.
MASK_SUFFIXES = (".tif", ".tiff", ".png")

_FRACTION_DECIMALS = 6  # class shares kept to 1e-6: one pixel of a 1000x1000 image


def window_starts(size: int, patch: int, stride: int) -> list[int]:
    """Start offsets of windows of ``patch`` pixels every ``stride`` pixels along a side of ``size`` pixels.

    The last window is aligned to the far edge (it overlaps its neighbour more than the others), as in mmrotate's
    ``img_split``; a side shorter than ``patch`` gets one window at 0 (the caller crops it short).

    >>> window_starts(600, 256, 256)
    [0, 256, 344]
    >>> window_starts(5000, 500, 500)[-2:]
    [4000, 4500]
    >>> window_starts(100, 256, 256)
    [0]
    """
    if patch < 1 or not 1 <= stride <= patch:
        raise ConfigError(f"patch must be >= 1 and 1 <= stride <= patch, got patch={patch}, stride={stride}")
    return tiling.window_starts(size, patch, patch - stride)  # one grid rule for DOTA tiles and mask patches


def binarize_building_mask(raw: NDArray[Any]) -> NDArray[np.uint8]:
    """A building mask as stored by WHU/Inria mirrors → ``(H, W)`` uint8 of 0 (background) and 1 (building).

    Accepted forms: single band 0/255 (the release), single band 0/1 (re-saved copies), RGB or RGBA 0/255 (some
    mirrors), palette indices. A pixel is building when its value exceeds 127, or exceeds 0 when the whole mask holds
    no value above 1 (a 0/1 mask); for RGB the brightest of the three colour channels counts.

    >>> binarize_building_mask(np.array([[0, 255], [128, 3]], np.uint8)).tolist()
    [[0, 1], [1, 0]]
    >>> binarize_building_mask(np.array([[0, 1]], np.uint8)).tolist()
    [[0, 1]]
    """
    m = np.asarray(raw)
    if m.ndim == 3:
        m = m[..., :3].max(axis=2)
    if m.ndim != 2:
        raise ValueError(f"mask must be (H, W) or (H, W, C), got shape {np.asarray(raw).shape}")
    threshold = 0 if m.size and m.max() <= 1 else 127
    return np.asarray(m > threshold, dtype=np.uint8)


class SegmentationConverter(Converter):
    """An image and its label mask per sample; optional tiling of large scenes.

    Subclasses set :attr:`mask_classes` (and :attr:`ignore_index`, :attr:`background_ids`, :attr:`mask_kind`,
    :attr:`gsd`) and implement :meth:`image_files`, :meth:`mask_path` and :meth:`decode_mask`; tiling datasets
    also override :meth:`windows`.

    Options (every dataset of the family):
        min_area: connected components (and holes) under this many square pixels get no polygon (default 4).
        simplify: Douglas-Peucker tolerance in pixels for the stored polygons (default 1.0: removes the pixel
            staircase of slanted edges, which at 0.5 px is kept and makes polygons about 5x larger; vertices stay on
            pixel corners, and the lossless mask beside the record keeps every pixel).
    """

    family = "segmentation"
    default_tasks: ClassVar[tuple[str, ...]] = ("seg_polygons", "seg_count", "seg_exists")
    option_defaults: ClassVar[dict[str, Any]] = {"min_area": 4.0, "simplify": 1.0}
    #: ``"binary"`` (0 background / 1 foreground) or ``"semantic"`` (class ids).
    mask_kind: ClassVar[Literal["binary", "semantic"]] = "binary"
    #: id → class name of the decoded mask (every id that may occur, except :attr:`ignore_index`).
    mask_classes: ClassVar[dict[int, str]] = {0: "background", 1: "building"}
    #: ids without polygons (besides no-data)
    background_ids: ClassVar[tuple[int, ...]] = (0,)
    #: no-data id, excluded from class fractions and never outlined
    ignore_index: ClassVar[int | None] = None
    #: ground sample distance in metres when the files carry none
    gsd: ClassVar[float | None] = None
    #: reason reported for every image of a split that has no labels
    no_labels_reason: ClassVar[str] = "no ground truth for this split; image not converted"

    def __init__(self, root: str | Path, *, version: str | None = None, **options: Any) -> None:
        super().__init__(root, version=version, **options)
        for name in ("min_area", "simplify"):
            value = self.options[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ConfigError(f"{self.name}: option {name} must be a number >= 0, got {value!r}")

    # -- to implement -------------------------------------------------------------------------------------------
    @abstractmethod
    def image_files(self, split: str) -> list[Path]:
        """The split's image files, sorted; ``[]`` for a split this version does not have.

        Raises:
            DatasetNotFoundError: the dataset is not under the root.
        """

    @abstractmethod
    def mask_path(self, split: str, image: Path) -> Path | None:
        """The mask file expected for ``image`` (it may not exist), or ``None`` when the split has no labels."""

    @abstractmethod
    def decode_mask(self, raw: NDArray[Any], where: str) -> NDArray[np.uint8]:
        """Decode raw mask pixels into an ``(H, W)`` uint8 map of the ids of :attr:`mask_classes`.

        ``raw`` is what :func:`ts_instruct.imageio.read_mask` returns; no-data pixels get :attr:`ignore_index`.

        Raises:
            InvalidAnnotationError: the mask holds values the dataset does not define (``where`` names the file).
        """

    # -- overridable --------------------------------------------------------------------------------------------
    def sample_key(self, split: str, image: Path) -> str:
        """Key of the whole-image sample (default: the file stem, file-name-safe)."""
        return safe_key(image.stem)

    def windows(self, width: int, height: int) -> list[Window] | None:
        """Windows to cut from an image of this size, or ``None`` to emit the whole image (the default)."""
        return None

    def source_gsd(self) -> float | None:
        """GSD in metres of images without a georeference (default: :attr:`gsd`)."""
        return self.gsd

    def sample_extra(self, split: str, image: Path) -> dict[str, Any]:
        """Dataset-specific facts stored in ``SampleMeta.extra`` (e.g. the LoveDA domain)."""
        return {}

    # -- shared behaviour ---------------------------------------------------------------------------------------
    def units(self, split: str) -> Sequence[str]:
        """Relative paths of the split's images, sorted."""
        self.check_split(split)
        return [self.rel(p) for p in self.image_files(split)]

    def _mask_folders(self, split: str) -> dict[Path, Path]:
        """Mask folder → image folder, over the split's images (``{}`` for a split without images or labels)."""
        try:
            images = self.image_files(split)
        except DatasetNotFoundError:
            return {}
        folders: dict[Path, Path] = {}
        for image in images:
            mask = self.mask_path(split, image)
            if mask is not None:
                folders.setdefault(mask.parent, image.parent)
        return folders

    def image_split(self, image: Path) -> str | None:
        """The split an image at this path would belong to (``None``: ask no one, the default).

        Datasets whose splits share one image folder override it, so that an orphan mask is reported with its split.
        """
        return None

    def list_problems(self, split: str) -> Iterator[Skip]:
        """Masks whose image is missing (nothing else names such a pair).

        Each orphan mask is reported once: with :meth:`image_split` of its would-be image when that says, else with
        the first split whose images use the mask's folder.
        """
        earlier: set[Path] = set()
        for other in self.splits[: self.splits.index(split)]:
            earlier |= set(self._mask_folders(other))
        first_use = set(self._mask_folders(split)) - earlier  # folders this split reports for
        folders = {m: i for s in self.splits for m, i in self._mask_folders(s).items()}
        for mask_dir in sorted(folders):
            image_dir = folders[mask_dir]
            if not mask_dir.is_dir():
                continue
            images = [p for p in image_dir.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
            stems = {p.stem for p in images}
            suffix = images[0].suffix if images else ".*"
            for mask in sorted(mask_dir.iterdir()):
                if not (mask.is_file() and mask.suffix.lower() in MASK_SUFFIXES and mask.stem not in stems):
                    continue
                expected = image_dir / f"{mask.stem}{suffix}"
                owner = self.image_split(expected)
                if owner == split or (owner is None and mask_dir in first_use):
                    yield Skip(self.rel(mask), f"mask without its image: expected {self.rel(expected)}; not converted")

    @property
    def foreground(self) -> dict[int, str]:
        """Class id → name of the classes described by polygons."""
        skip = set(self.background_ids) | {self.ignore_index}
        return {i: n for i, n in sorted(self.mask_classes.items()) if i not in skip}

    def read(self, split: str, unit: str) -> Iterator[Sample | Skip]:
        """One image (and its mask) → one sample, or one per window when the dataset tiles its scenes."""
        image = self.root / unit
        key = self.sample_key(split, image)
        mask_file = self.mask_path(split, image)
        if mask_file is None:
            yield Skip(unit, self.no_labels_reason, key=key)
            return
        mask_rel = self.rel(mask_file)
        if not mask_file.is_file():
            yield Skip(unit, f"ground-truth mask is missing: expected {mask_rel}", key=key)
            return
        try:
            pixels = read_rgb(image)
        except InvalidImageError as e:
            yield Skip(unit, e.reason, key=key)
            return
        try:
            raw = read_mask(mask_file)
        except InvalidImageError as e:
            yield Skip(mask_rel, e.reason, key=key)
            return
        height, width = pixels.shape[:2]
        if raw.shape[:2] != (height, width):
            yield Skip(
                mask_rel,
                f"mask is {raw.shape[1]}x{raw.shape[0]} but its image {unit} is {width}x{height}; a mask must have "
                "the size of its image (re-export the pair, or remove it)",
                key=key,
            )
            return
        try:
            class_map = self.decode_mask(raw, mask_rel)
        except InvalidAnnotationError as e:
            yield Skip(mask_rel, e.reason, key=key)
            return
        del raw
        georef: GeoRef | None = None
        if image.suffix.lower() in (".tif", ".tiff"):
            try:
                georef = read_georef(image)
            except InvalidImageError as e:
                yield Skip(unit, f"{e.reason}; converted without georeference", key=key, kept=True)
        extra = self.sample_extra(split, image)
        windows = self.windows(width, height)
        if windows is None:
            copy_source = image.suffix.lower() in _COPYABLE
            ref = ImageRef(
                source=unit,
                width=width,
                height=height,
                source_size=(width, height),
                pixels=None if copy_source else pixels,
            )
            yield self._sample(split, key, ref, class_map, georef, extra, mask_rel)
            return
        for win in windows:
            crop = np.ascontiguousarray(pixels[win.y0 : win.y1, win.x0 : win.x1])
            ref = ImageRef(
                source=unit, width=win.width, height=win.height, window=win, source_size=(width, height), pixels=crop
            )
            yield self._sample(
                split,
                f"{key}__{win.x0}_{win.y0}",
                ref,
                np.ascontiguousarray(class_map[win.y0 : win.y1, win.x0 : win.x1]),
                None if georef is None else georef.window(win.x0, win.y0),
                extra,
                mask_rel,
            )

    def _sample(
        self,
        split: str,
        key: str,
        ref: ImageRef,
        class_map: NDArray[np.uint8],
        georef: GeoRef | None,
        extra: dict[str, Any],
        mask_rel: str,
    ) -> Sample | Skip:
        """Polygons, class fractions and the mask of one emitted image (a skip naming the mask when it is empty)."""
        counts = np.bincount(class_map.ravel(), minlength=256)
        total = int(class_map.size)
        nodata = int(counts[self.ignore_index]) if self.ignore_index is not None else 0
        valid = total - nodata
        if valid == 0:
            return Skip(mask_rel, f"mask holds only no-data (id {self.ignore_index}) pixels; nothing to learn", key=key)
        polygons: list[PolygonAnn] = []
        for cid, name in self.foreground.items():
            if counts[cid] == 0:
                continue
            for poly in mask_to_polygons(
                class_map == cid,
                min_area=float(self.options["min_area"]),
                simplify_tolerance=float(self.options["simplify"]),
            ):
                polygons.append(poly.to_ann(name))
        stats: dict[str, Any] = {
            "class_fractions": {
                name: round(int(counts[cid]) / valid, _FRACTION_DECIMALS)
                for cid, name in sorted(self.mask_classes.items())
            }
        }
        if self.ignore_index is not None:
            stats["nodata_fraction"] = round(nodata / total, _FRACTION_DECIMALS)
        mask = MaskRef(
            kind=self.mask_kind,
            classes=dict(sorted(self.mask_classes.items())),
            pixels=class_map,
            ignore_index=self.ignore_index,
        )
        gsd = self.source_gsd() if georef is None else round(georef.gsd, 6)
        return Sample(
            key=key,
            images=[ref],
            annotations=Annotations(
                polygons=polygons, masks=[mask], classes=list(self.foreground.values()), stats=stats
            ),
            meta=SampleMeta(
                dataset=self.name,
                split=split,
                version=self.version,
                gsd=gsd,
                license=self.license,
                georef=None if georef is None else georef.to_dict(),
                extra=dict(extra),
            ),
        )

    # -- helpers for dataset modules ----------------------------------------------------------------------------
    @staticmethod
    def find_mask(folder: Path, image: Path) -> Path:
        """The mask of ``image`` in ``folder``: same stem; the image's own suffix first, then :data:`MASK_SUFFIXES`.

        When none exists, the path with the image's suffix (reported as the one expected).
        """
        suffixes = [image.suffix, *(s for s in MASK_SUFFIXES if s != image.suffix.lower())]
        for suffix in suffixes:
            p = folder / f"{image.stem}{suffix}"
            if p.is_file():
                return p
        return folder / image.name

    def class_id_map(self, raw: NDArray[Any], where: str) -> NDArray[np.uint8]:
        """Check a single-band class-id mask against :attr:`mask_classes` and :attr:`ignore_index`.

        Raises:
            InvalidAnnotationError: the mask is not single band, or holds ids the dataset does not define.
        """
        m = np.asarray(raw)
        if (
            m.ndim == 3
            and m.shape[2] >= 3
            and np.array_equal(m[..., 0], m[..., 1])
            and np.array_equal(m[..., 0], m[..., 2])
        ):
            m = m[..., 0]  # a grey mask saved as RGB
        if m.ndim != 2:
            raise InvalidAnnotationError(where, f"class-id mask must be single band, got shape {m.shape}", field="mask")
        if m.dtype.kind not in "ui":
            raise InvalidAnnotationError(where, f"class-id mask must hold integers, got {m.dtype}", field="mask")
        known = set(self.mask_classes) | ({self.ignore_index} if self.ignore_index is not None else set())
        if m.dtype.kind == "u" and m.dtype.itemsize <= 2:  # bincount is ~10x faster than unique on 8/16-bit maps
            present = np.flatnonzero(np.bincount(m.ravel())).tolist() if m.size else []
        else:
            present = np.unique(m).tolist()
        unknown = sorted(set(present) - known)
        if unknown:
            raise InvalidAnnotationError(
                where, f"mask holds class id(s) {unknown}, expected only {sorted(known)}", field="class id"
            )
        return m.astype(np.uint8, copy=False)
