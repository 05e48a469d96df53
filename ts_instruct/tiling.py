"""Cut large scenes into overlapping tiles and clip their objects to each tile.

Window grid (:func:`iter_windows`) is the one of mmrotate 1.x ``tools/data/dota/split/img_split.py``
(``get_sliding_window``) and DOTA_devkit ``ImgSplit``, so tiles line up with published DOTA splits. Along each axis of
length ``L``, windows are ``patch`` pixels long and start every ``stride = patch - gap`` pixels::

    n      = 1 if L <= patch else ceil((L - patch) / stride + 1)
    starts = [0, stride, 2 * stride, ...]              (n of them)
    starts[-1] = L - patch   if n > 1 and starts[-1] + patch > L     (the last window ends on the image edge)

Windows are listed x-major, ``itertools.product(x_starts, y_starts)`` as in mmrotate. Two deliberate differences:
a window never extends past the image (an image smaller than ``patch`` on an axis gives one window of its own length
there, not a zero-padded ``patch``: a vision-language model takes any size, and padding would only add black pixels),
and mmrotate's ``img_rate_thr`` filter is not applied (on this grid every window covers the same share of the image,
so the filter never removes one).

Rescaling (multi-scale splits, mmrotate's ``rates``): the whole scene is resized once per rate to
:func:`scaled_size` (``int(W * s + 0.5)``, mmcv's ``imrescale``) with :func:`rescale`, objects are multiplied by ``s``
(:func:`scale_objects`), and the scaled scene is tiled on the grid above. A tile then records two windows: ``window``
in pixels of the scaled scene, and ``source_window`` in source pixels (``window / s`` rounded to whole pixels, because
:class:`~ts_instruct.sample.Window` holds integers). At ``s = 1`` both are the same and mapping a tile pixel back to the
source, ``(x0 + x / s, y0 + y / s)``, is exact; at other rates it is exact to half a source pixel.

Objects (:func:`clip_objects`): an object is clipped to the window (oriented boxes with
:func:`ts_instruct.geometry.clip_qbox`, horizontal boxes with :func:`~ts_instruct.geometry.clip_hbox`) and its kept
area ratio (area inside / whole area) decides its fate. At ``kept >= min_kept`` (default 0.7, mmrotate's ``iof_thr``
and DOTA_devkit's ``thresh``) it is an ordinary object of the tile; below, it is dropped (``partial="drop"``, as
mmrotate does) or kept with ``truncated=True`` (``partial="flag"``, like DOTA_devkit's ``difficult=2``). Unlike
mmrotate, which keeps the whole original box of a cut object, the geometry written here always lies inside the tile:
a cut oriented box becomes the minimum-area rectangle of the part inside (corners that would stick out are clamped to
the tile edge; if that leaves no valid quadrilateral, the axis-aligned box of the part inside).

Memory: :func:`iter_tiles` yields one tile at a time and a tile's ``pixels`` is a view into the scene, so a consumer
holds the scene plus one tile, whatever the number of tiles. :func:`read_scene` decodes with OpenCV and converts BGR to
RGB in place: its peak is about twice the decoded scene (the PNG decoder's working buffer), against about 4.5 times
through Pillow (its own buffer, the numpy copy, the RGB conversion); see ``benchmarks/bench_tiling.py`` part 2.

The same functions serve masks: ``crop(mask, window)`` cuts a label mask on the windows of :func:`iter_windows`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import shapely

from ts_instruct.errors import ConfigError, InvalidImageError
from ts_instruct.geometry import (
    canonical_qbox,
    clip_hbox,
    clip_qbox,
    hbox2qbox,
    is_valid_qbox,
    poly2hbox,
)
from ts_instruct.imageio import MAX_IMAGE_PIXELS, image_size, read_rgb
from ts_instruct.sample import ObjectAnn, Window

PartialPolicy = Literal["drop", "flag"]

_CV2_MAX_PIXELS = 1 << 30  # OpenCV's default CV_IO_MAX_IMAGE_PIXELS; larger images go through Pillow
_CV2_SUFFIXES = (".png", ".bmp", ".tif", ".tiff")  # OpenCV reports truncated JPEGs as warnings, Pillow as errors
_INSIDE_TOL = 1e-6  # pixels: a clipped corner this close to the tile edge counts as inside


def check_grid(patch: int, gap: int) -> None:
    """Raise ConfigError unless ``patch > gap >= 0`` are integers (the stride ``patch - gap`` must be positive)."""
    if isinstance(patch, bool) or not isinstance(patch, int) or patch < 1:
        raise ConfigError(f"patch must be a positive int (pixels), got {patch!r}")
    if isinstance(gap, bool) or not isinstance(gap, int) or gap < 0 or gap >= patch:
        raise ConfigError(f"gap must be an int with 0 <= gap < patch ({patch}), got {gap!r}")


def window_starts(length: int, patch: int, gap: int) -> list[int]:
    """Start offsets of the windows along one axis of ``length`` pixels (mmrotate's grid, see the module docstring).

    Example:
        >>> window_starts(1500, 1024, 200), window_starts(800, 1024, 200), window_starts(2048, 1024, 0)
        ([0, 476], [0], [0, 1024])
    """
    check_grid(patch, gap)
    if length < 1:
        raise ConfigError(f"length must be a positive number of pixels, got {length}")
    stride = patch - gap
    n = 1 if length <= patch else math.ceil((length - patch) / stride + 1)
    starts = [stride * i for i in range(n)]
    if len(starts) > 1 and starts[-1] + patch > length:
        starts[-1] = length - patch
    return starts


def iter_windows(width: int, height: int, *, patch: int = 1024, gap: int = 200) -> Iterator[Window]:
    """Yield the tile windows of a ``width`` x ``height`` image, x-major, each clipped to the image.

    Args:
        width: image width in pixels.
        height: image height in pixels.
        patch: window side in pixels.
        gap: overlap of neighbouring windows in pixels (``0 <= gap < patch``).

    Yields:
        Half-open windows ``[x0, x1) x [y0, y1)`` in pixels of the image.

    Example:
        >>> [w.to_list() for w in iter_windows(1500, 900, patch=1024, gap=200)]
        [[0, 0, 1024, 900], [476, 0, 1500, 900]]
    """
    ys = window_starts(height, patch, gap)
    for x in window_starts(width, patch, gap):
        for y in ys:
            yield Window(x, y, min(x + patch, width), min(y + patch, height))


def window_grid(width: int, height: int, *, patch: int = 1024, gap: int = 200) -> list[Window]:
    """All windows of :func:`iter_windows` as a list."""
    return list(iter_windows(width, height, patch=patch, gap=gap))


def crop(array: np.ndarray, window: Window) -> np.ndarray:
    """The window of an image ``(H, W, C)`` or mask ``(H, W)``, as a view (no copy).

    Raises:
        ConfigError: when the window is empty or does not lie inside the array.

    Example:
        >>> crop(np.arange(20).reshape(4, 5), Window(1, 2, 3, 4)).tolist()
        [[11, 12], [16, 17]]
    """
    h, w = array.shape[:2]
    if not (0 <= window.x0 < window.x1 <= w and 0 <= window.y0 < window.y1 <= h):
        raise ConfigError(f"window must lie inside the {w}x{h} array, got {window.to_list()}")
    return array[window.y0 : window.y1, window.x0 : window.x1]


def scaled_size(width: int, height: int, scale: float) -> tuple[int, int]:
    """``(width, height)`` of an image rescaled by ``scale``: ``int(n * scale + 0.5)``, at least 1 (mmcv's rule).

    Example:
        >>> scaled_size(1500, 1001, 0.5)
        (750, 501)
    """
    if not (math.isfinite(scale) and scale > 0):
        raise ConfigError(f"scale must be a positive finite number, got {scale!r}")
    return max(1, int(width * scale + 0.5)), max(1, int(height * scale + 0.5))


def rescale(pixels: np.ndarray, scale: float) -> np.ndarray:
    """Resize a whole image by ``scale`` with OpenCV (area averaging to shrink, bilinear to enlarge).

    Returns the input itself when ``scale == 1``.
    """
    if scale == 1.0:
        return pixels
    h, w = pixels.shape[:2]
    size = scaled_size(w, h, scale)
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return np.asarray(cv2.resize(pixels, size, interpolation=interpolation))


def source_window(window: Window, scale: float, source_size: tuple[int, int]) -> Window:
    """The source pixels under a window of the image rescaled by ``scale``, rounded to whole pixels.

    Example:
        >>> source_window(Window(824, 0, 1848, 1024), 0.5, (4000, 3000)).to_list()
        [1648, 0, 3696, 2048]
    """
    if scale == 1.0:
        return window
    w, h = source_size

    def back(v: int, limit: int) -> int:
        return min(limit, max(0, math.floor(v / scale + 0.5)))

    return Window(back(window.x0, w), back(window.y0, h), back(window.x1, w), back(window.y1, h))


def read_scene(path: str | Path, *, max_pixels: int = MAX_IMAGE_PIXELS) -> np.ndarray:
    """Decode a (possibly huge) image into one ``(H, W, 3)`` uint8 RGB array; grayscale becomes RGB.

    PNG, BMP and TIFF up to 2^30 pixels are decoded by OpenCV into a single buffer (converted BGR to RGB in place);
    other formats and larger images go through :func:`ts_instruct.imageio.read_rgb`.

    Raises:
        InvalidImageError: missing, truncated or undecodable file, or over ``max_pixels``.
    """
    w, h = image_size(path, max_pixels=max_pixels)
    if Path(path).suffix.lower() not in _CV2_SUFFIXES or w * h > _CV2_MAX_PIXELS:
        return read_rgb(path, max_pixels=max_pixels)
    arr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if arr is None:
        raise InvalidImageError(path, "cannot decode image; the file may be truncated or corrupt")
    if arr.shape[:2] != (h, w):
        raise InvalidImageError(path, f"decoded {arr.shape[1]}x{arr.shape[0]} pixels but the header says {w}x{h}")
    cv2.cvtColor(arr, cv2.COLOR_BGR2RGB, dst=arr)
    return arr


# --------------------------------------------------------------------------------------------- objects
def scale_objects(objects: Sequence[ObjectAnn], scale: float) -> list[ObjectAnn]:
    """Multiply every coordinate of the objects by ``scale`` (flags kept)."""
    if scale == 1.0:
        return list(objects)
    return [
        replace(o, hbox=[v * scale for v in o.hbox], qbox=None if o.qbox is None else [v * scale for v in o.qbox])
        for o in objects
    ]


def _fit_qbox(poly: np.ndarray, q: np.ndarray, width: float, height: float) -> np.ndarray:
    """A qbox for a clipped polygon that lies inside ``[0, width] x [0, height]``."""
    lo, hi = np.zeros(8), np.tile([width, height], 4)
    if np.all(q >= lo - _INSIDE_TOL) and np.all(q <= hi + _INSIDE_TOL):
        return np.asarray(np.clip(q, lo, hi), dtype=np.float64)
    clamped = canonical_qbox(np.clip(q, lo, hi))
    if is_valid_qbox(clamped):
        return clamped
    return hbox2qbox(poly2hbox(poly))


def clip_object(obj: ObjectAnn, window: Window) -> tuple[ObjectAnn | None, float]:
    """Clip one object to a window and express it in window coordinates.

    Args:
        obj: the object, in the pixels the window refers to.
        window: the tile window.

    Returns:
        ``(object in window coordinates or None, kept area ratio in [0, 1])``. The returned geometry lies inside
        ``[0, window.width] x [0, window.height]``; flags are copied unchanged (see :func:`clip_objects`).

    Example:
        >>> o = ObjectAnn("ship", hbox=[90, 10, 110, 30], qbox=[90, 10, 110, 10, 110, 30, 90, 30])
        >>> cut, kept = clip_object(o, Window(0, 0, 100, 100))
        >>> cut.hbox, cut.qbox, kept
        ([90.0, 10.0, 100.0, 30.0], [90.0, 10.0, 100.0, 10.0, 100.0, 30.0, 90.0, 30.0], 0.5)
    """
    x0, y0, x1, y1 = window.x0, window.y0, window.x1, window.y1
    hb = obj.hbox
    if hb[0] >= x0 and hb[1] >= y0 and hb[2] <= x1 and hb[3] <= y1:
        shift = [x0, y0] * 4
        return replace(
            obj,
            hbox=[hb[0] - x0, hb[1] - y0, hb[2] - x0, hb[3] - y0],
            qbox=None if obj.qbox is None else [v - s for v, s in zip(obj.qbox, shift, strict=True)],
        ), 1.0
    if obj.qbox is None:
        box, kept = clip_hbox(hb, window)
        if box is None:
            return None, 0.0
        return replace(obj, hbox=box.tolist()), kept
    poly, q, kept = clip_qbox(obj.qbox, window)
    if poly is None or q is None:
        return None, 0.0
    q = _fit_qbox(poly, q, window.width, window.height)
    hbox = poly2hbox(poly)
    if hbox[2] <= hbox[0] or hbox[3] <= hbox[1]:
        return None, 0.0
    return replace(obj, hbox=hbox.tolist(), qbox=q.tolist()), kept


def _surely_partial(objects: Sequence[ObjectAnn], window: Window, min_kept: float) -> frozenset[int]:
    """Indices of oriented boxes that keep clearly less than ``min_kept`` of their area in the window.

    One vectorised shapely pass over the boxes that cross the window's border, so that the ones to be dropped skip
    the exact clipping of :func:`clip_object`. Only valid boxes with an area count, and the margin of 1e-9 leaves
    every close call to the exact path: the result never differs from clipping each box.
    """
    x0, y0, x1, y1 = window.x0, window.y0, window.x1, window.y1
    crossing = [
        i
        for i, o in enumerate(objects)
        if o.qbox is not None and not (o.hbox[0] >= x0 and o.hbox[1] >= y0 and o.hbox[2] <= x1 and o.hbox[3] <= y1)
    ]
    if not crossing:
        return frozenset()
    polys = shapely.polygons(np.array([objects[i].qbox for i in crossing], dtype=np.float64).reshape(-1, 4, 2))
    area = shapely.area(polys)
    usable = shapely.is_valid(polys) & (area > 0)
    kept = shapely.area(shapely.intersection(polys, shapely.box(x0, y0, x1, y1))) / np.where(usable, area, 1.0)
    return frozenset(crossing[k] for k in np.flatnonzero(usable & (kept < min_kept - 1e-9)))


def clip_objects(
    objects: Sequence[ObjectAnn], window: Window, *, min_kept: float = 0.7, partial: PartialPolicy = "drop"
) -> list[ObjectAnn]:
    """Clip objects to a window, in window coordinates, applying the kept-area threshold.

    Args:
        objects: objects in the pixels the window refers to.
        window: the tile window.
        min_kept: an object keeping less than this share of its area inside the window is partial.
        partial: ``"drop"`` partial objects, or keep them with ``truncated=True`` (``"flag"``).

    Returns:
        The objects that touch the window, in input order.
    """
    out = []
    hopeless = _surely_partial(objects, window, min_kept) if partial == "drop" else frozenset()
    for i, obj in enumerate(objects):
        if i in hopeless:
            continue
        cut, kept = clip_object(obj, window)
        if cut is None:
            continue
        if kept < min_kept:
            if partial == "drop":
                continue
            cut = replace(cut, truncated=True)
        out.append(cut)
    return out


@dataclass
class Tile:
    """One tile of a scene.

    Attributes:
        window: the tile in pixels of the (rescaled) scene that was cut.
        source_window: the same region in source pixels (equal to ``window`` at scale 1).
        scale: emitted pixels per source pixel.
        pixels: ``(h, w, C)`` view into the scene.
        objects: objects in tile coordinates (see :func:`clip_objects`).
    """

    window: Window
    source_window: Window
    scale: float
    pixels: np.ndarray
    objects: list[ObjectAnn]


def iter_tiles(
    pixels: np.ndarray,
    objects: Sequence[ObjectAnn],
    *,
    patch: int = 1024,
    gap: int = 200,
    scale: float = 1.0,
    source_size: tuple[int, int] | None = None,
    min_kept: float = 0.7,
    partial: PartialPolicy = "drop",
) -> Iterator[Tile]:
    """Cut an already rescaled scene into tiles, one at a time, with the objects of each tile.

    Args:
        pixels: the scene at ``scale``, ``(H, W, C)``.
        objects: the scene's objects in pixels of ``pixels`` (use :func:`scale_objects` first).
        patch: tile side in pixels.
        gap: overlap of neighbouring tiles in pixels.
        scale: the scale ``pixels`` was made at (recorded on each tile, used for ``source_window``).
        source_size: ``(width, height)`` of the unscaled source (default: the size of ``pixels``).
        min_kept: kept-area threshold of :func:`clip_objects`.
        partial: ``"drop"`` or ``"flag"`` objects under the threshold.

    Yields:
        :class:`Tile` objects in the window order of :func:`iter_windows`.
    """
    if partial not in ("drop", "flag"):
        raise ConfigError(f"partial must be 'drop' or 'flag', got {partial!r}")
    if not 0.0 <= min_kept <= 1.0:
        raise ConfigError(f"min_kept must be a ratio in [0, 1], got {min_kept!r}")
    h, w = pixels.shape[:2]
    size = source_size or (w, h)
    boxes = np.array([o.hbox for o in objects], dtype=np.float64).reshape(-1, 4)
    for window in iter_windows(w, h, patch=patch, gap=gap):
        touching = (
            (boxes[:, 2] > window.x0)
            & (boxes[:, 0] < window.x1)
            & (boxes[:, 3] > window.y0)
            & (boxes[:, 1] < window.y1)
        )
        members = [objects[int(i)] for i in np.flatnonzero(touching)]
        yield Tile(
            window=window,
            source_window=source_window(window, scale, size),
            scale=scale,
            pixels=crop(pixels, window),
            objects=clip_objects(members, window, min_kept=min_kept, partial=partial),
        )
