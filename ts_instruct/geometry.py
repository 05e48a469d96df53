"""Box and polygon geometry in pixel coordinates: conversions, canonical order, clipping (IoU: :mod:`~ts_instruct.iou`).

Conventions (every function below follows them):

- **Pixel coordinates.** Origin at the top-left corner of the top-left pixel, x to the right, y down, floats, in
  pixels. Pixel ``(row i, column j)`` covers ``[j, j+1) x [i, i+1)``; an image of width ``W`` spans ``0..W``.
- **hbox** (horizontal box): array of shape ``(..., 4)``, ``[x1, y1, x2, y2]`` with ``x1 <= x2`` and ``y1 <= y2``.
- **qbox** (oriented box as 4 corners): array of shape ``(..., 8)``, ``[x1, y1, x2, y2, x3, y3, x4, y4]``.
  Canonical order: clockwise *as seen on screen* (y down), which is a **positive** shoelace sum in image
  coordinates; the first corner is the one with the smallest ``x + y`` (nearest the image's top-left), ties
  (within ``1e-9`` relative) broken by smaller ``y``, then smaller ``x``. An axis-aligned box becomes TL, TR, BR, BL,
  exactly :func:`hbox2qbox`.
- **rbox** (rotated box): array of shape ``(..., 5)``, ``[cx, cy, w, h, theta]``: centre, side lengths in pixels and
  the angle in **radians**; the box is the hbox ``(cx, cy, w, h)`` rotated about its centre by ``theta``, positive
  = **clockwise on screen** (the direction of mmrotate 1.x ``RotatedBoxes``). Regularised like mmrotate ``'le90'``:
  ``w >= h`` (``w`` is the long side; the sides are swapped and ``pi/2`` added to ``theta`` when ``h > w``), then
  ``theta`` is wrapped into ``[-pi/2, pi/2)``. mmrotate also swaps when ``w == h``, which leaves a square with
  two representations; here a square (``|w - h| <= 1e-9 * max(w, h)``) keeps ``w, h`` and wraps ``theta`` into
  ``[-pi/4, pi/4)`` instead (a square repeats every quarter turn), so each box has exactly one rbox. ``w >= h``
  holds in every case.
- **polygon**: array of shape ``(M, 2)`` of vertices, not closed (the first vertex is not repeated). Exterior rings
  run clockwise on screen (positive shoelace sum), holes the opposite way.
- **window**: a crop ``(x0, y0, x1, y1)`` in source pixels, half-open (columns ``x0..x1-1``), as a tuple or a
  :class:`ts_instruct.sample.Window`. Geometry clipped to a window is returned in window coordinates
  ``(x - x0, y - y0)``; an emitted image made from a window at ``scale`` holds ``(source - origin) * scale``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from ts_instruct.errors import GeometryError

FloatArray = NDArray[np.float64]

_TIE_RTOL = 1e-9  # relative tolerance for "same x + y" when choosing the first corner, so float noise cannot flip it
_SQUARE_RTOL = 1e-9  # relative tolerance for "w == h" in the le90 regularisation


class _WindowLike(Protocol):
    @property
    def x0(self) -> float: ...
    @property
    def y0(self) -> float: ...
    @property
    def x1(self) -> float: ...
    @property
    def y1(self) -> float: ...


WindowLike = _WindowLike | Sequence[float]


def as_boxes(boxes: ArrayLike, dim: int, name: str) -> FloatArray:
    """``boxes`` as a float array of shape ``(..., dim)``; raises :class:`GeometryError` naming ``name`` otherwise."""
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.ndim == 0 or arr.shape[-1] != dim:
        raise GeometryError(f"{name} must be an array of shape (..., {dim}), got shape {arr.shape}")
    return arr


def as_poly(poly: ArrayLike, name: str = "poly") -> FloatArray:
    """``poly`` as a float array of shape ``(M, 2)`` (a flat ``(2M,)`` is reshaped); raises naming ``name``."""
    arr = np.asarray(poly, dtype=np.float64)
    if arr.ndim == 1 and arr.size % 2 == 0:
        arr = arr.reshape(-1, 2)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise GeometryError(f"{name} must be an array of shape (M, 2) (or flat (2M,)), got shape {arr.shape}")
    return arr


def _window(window: WindowLike) -> tuple[float, float, float, float]:
    if isinstance(window, (Sequence, np.ndarray)):
        seq = list(window)
        if len(seq) != 4:
            raise GeometryError(f"window must be (x0, y0, x1, y1) or a Window, got {window!r}")
        x0, y0, x1, y1 = seq
    else:
        x0, y0, x1, y1 = window.x0, window.y0, window.x1, window.y1
    if not (x1 > x0 and y1 > y0):
        raise GeometryError(f"window must have x1 > x0 and y1 > y0, got {(x0, y0, x1, y1)}")
    return float(x0), float(y0), float(x1), float(y1)


# --------------------------------------------------------------------------------------------- areas, validity
def signed_area(poly: ArrayLike) -> float:
    """Shoelace area of a ring; positive when the ring runs clockwise on screen (y down).

    Args:
        poly: vertices, array of shape (M, 2) or flat (2M,) such as a qbox; closed or not.

    Returns:
        The signed area in square pixels.

    Example:
        >>> signed_area([[0, 0], [2, 0], [2, 1], [0, 1]])  # TL, TR, BR, BL: clockwise on screen
        2.0
    """
    p = as_poly(poly)
    if len(p) < 3:
        return 0.0
    x, y = p[:, 0] - p[0, 0], p[:, 1] - p[0, 1]  # relative to the first vertex: less cancellation
    return float(0.5 * (np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]) + x[-1] * y[0] - x[0] * y[-1]))


def polygon_area(poly: ArrayLike, holes: Sequence[ArrayLike] = ()) -> float:
    """Unsigned area of a polygon with optional holes.

    Args:
        poly: exterior vertices, array of shape (M, 2).
        holes: hole rings, each of shape (K, 2); their areas are subtracted.

    Returns:
        Area in square pixels, never negative for a valid polygon.

    Example:
        >>> polygon_area([[0, 0], [0, 4], [4, 4], [4, 0]], holes=[[[1, 1], [2, 1], [2, 2], [1, 2]]])
        15.0
    """
    return abs(signed_area(poly)) - sum(abs(signed_area(h)) for h in holes)


def _shoelace2(pts: FloatArray) -> FloatArray:
    """Twice the signed area of rings (N, K, 2), relative to each first vertex to limit cancellation."""
    rel = pts - pts[:, :1]
    x, y = rel[..., 0], rel[..., 1]
    return np.asarray(np.sum(x * np.roll(y, -1, axis=1) - np.roll(x, -1, axis=1) * y, axis=1), dtype=np.float64)


def _qbox_polygons(qboxes: FloatArray) -> NDArray[np.object_]:
    return np.asarray(shapely.polygons(qboxes.reshape(-1, 4, 2)), dtype=object)


def qbox_geometries(qboxes: ArrayLike) -> NDArray[np.object_]:
    """Shapely geometries of qboxes (N, 8) in any corner order, made valid.

    A quad that is not simple (a bow-tie) is repaired with ``shapely.make_valid`` (its two lobes); a degenerate one
    gives a geometry of area 0.
    """
    geoms = _qbox_polygons(as_boxes(qboxes, 8, "qboxes").reshape(-1, 8))
    bad = ~shapely.is_valid(geoms)
    if bad.any():
        geoms[bad] = shapely.make_valid(geoms[bad])
    return geoms


def valid_qbox_mask(qboxes: ArrayLike, eps: float = 1e-6) -> NDArray[np.bool_]:
    """Which qboxes are usable: finite, area above ``eps`` and not self-intersecting (no bow-tie).

    Args:
        qboxes: array of shape (N, 8), either orientation.
        eps: smallest area in square pixels that still counts as a box.

    Returns:
        Boolean array of shape (N,).

    Example:
        >>> valid_qbox_mask([[0, 0, 4, 0, 4, 2, 0, 2], [0, 0, 4, 2, 4, 0, 0, 2]]).tolist()  # box, bow-tie
        [True, False]
    """
    q = as_boxes(qboxes, 8, "qboxes").reshape(-1, 8)
    finite = np.asarray(np.isfinite(q).all(axis=1), dtype=bool)
    q = np.where(finite[:, None], q, 0.0)
    area = 0.5 * np.abs(_shoelace2(q.reshape(-1, 4, 2)))
    simple = shapely.is_valid(_qbox_polygons(q))
    return np.asarray(finite & (area > eps) & simple, dtype=bool)


def is_valid_qbox(q: ArrayLike, eps: float = 1e-6) -> bool:
    """Whether one qbox (shape (8,)) is non-degenerate (area > ``eps``) and not self-intersecting.

    Example:
        >>> is_valid_qbox([0, 0, 4, 0, 4, 2, 0, 2]), is_valid_qbox([0, 0, 4, 0, 8, 0, 2, 0])
        (True, False)
    """
    arr = np.asarray(q, dtype=np.float64)
    return arr.shape == (8,) and bool(valid_qbox_mask(arr[None], eps)[0])


def validate_qbox(q: ArrayLike, *, where: str, eps: float = 1e-6) -> FloatArray:
    """Check one qbox and return it in canonical order, or raise naming ``where``.

    Args:
        q: the 8 corner coordinates, array of shape (8,).
        where: what the box is, for the message (``"P0001.txt:12"``).
        eps: smallest area in square pixels that still counts as a box.

    Returns:
        The canonical qbox, array of shape (8,).

    Raises:
        GeometryError: wrong shape, non-finite values, zero area or self-intersecting corners.

    Example:
        >>> validate_qbox([0, 2, 4, 2, 4, 0, 0, 0], where="demo").tolist()
        [0.0, 0.0, 4.0, 0.0, 4.0, 2.0, 0.0, 2.0]
    """
    arr = np.asarray(q, dtype=np.float64)
    if arr.shape != (8,):
        raise GeometryError(f"{where}: qbox must have 8 numbers (x1 y1 ... x4 y4), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise GeometryError(f"{where}: qbox must be finite, got {arr.tolist()}")
    if not is_valid_qbox(arr, eps):
        repaired = float(shapely.area(shapely.make_valid(shapely.Polygon(arr.reshape(4, 2)))))
        if repaired > eps:  # a bow-tie can have zero shoelace area, yet cover area once its edges are untangled
            raise GeometryError(f"{where}: qbox must not self-intersect (corners out of order?), got {arr.tolist()}")
        raise GeometryError(f"{where}: qbox must have area > {eps} (degenerate), got {arr.tolist()}")
    return canonical_qbox(arr)


# --------------------------------------------------------------------------------------------- conversions
def hbox2qbox(hboxes: ArrayLike) -> FloatArray:
    """Horizontal boxes (..., 4) ``[x1, y1, x2, y2]`` to canonical qboxes (..., 8): TL, TR, BR, BL.

    Example:
        >>> hbox2qbox([10, 20, 30, 40]).tolist()
        [10.0, 20.0, 30.0, 20.0, 30.0, 40.0, 10.0, 40.0]
        >>> qbox2hbox(hbox2qbox([10, 20, 30, 40])).tolist()
        [10.0, 20.0, 30.0, 40.0]
    """
    b = as_boxes(hboxes, 4, "hboxes")
    x1, y1, x2, y2 = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return np.stack([x1, y1, x2, y1, x2, y2, x1, y2], axis=-1)


def qbox2hbox(qboxes: ArrayLike) -> FloatArray:
    """Qboxes (..., 8) to their enclosing horizontal boxes (..., 4) ``[x1, y1, x2, y2]``.

    Example:
        >>> qbox2hbox([2, 0, 4, 2, 2, 4, 0, 2]).tolist()
        [0.0, 0.0, 4.0, 4.0]
    """
    q = as_boxes(qboxes, 8, "qboxes")
    x, y = q[..., 0::2], q[..., 1::2]
    return np.stack([x.min(-1), y.min(-1), x.max(-1), y.max(-1)], axis=-1)


def canonical_qbox(qboxes: ArrayLike) -> FloatArray:
    """Reorder 4-corner boxes (..., 8), given in either orientation from any corner, to the canonical order.

    The cyclic order of the corners is kept (only the direction and the first corner change), so a bow-tie stays a
    bow-tie: check with :func:`is_valid_qbox` or repair with :func:`poly2qbox`. A zero-area box keeps its direction;
    a corner given twice starts at its first copy, so the output does not depend on where the input started.

    Raises:
        GeometryError: when the last dimension is not 8.

    Example:
        >>> canonical_qbox([0, 2, 4, 2, 4, 0, 0, 0]).tolist()  # counter-clockwise on screen, from BL
        [0.0, 0.0, 4.0, 0.0, 4.0, 2.0, 0.0, 2.0]
    """
    q = as_boxes(qboxes, 8, "qboxes")
    shape = q.shape
    pts = q.reshape(-1, 4, 2)
    pts = np.where((_shoelace2(pts) < 0)[:, None, None], pts[:, ::-1], pts)
    x, y = pts[..., 0], pts[..., 1]
    s = x + y
    tol = _TIE_RTOL * np.maximum(1.0, np.abs(pts).max(axis=(1, 2)))[:, None]
    cand = s <= s.min(axis=1, keepdims=True) + tol
    ym = np.where(cand, y, np.inf)
    cand &= ym <= ym.min(axis=1, keepdims=True) + tol
    # a corner given twice: start at the first copy, so that a cyclic shift of the input cannot change the output
    run_start = cand & np.any(np.abs(pts - np.roll(pts, 1, axis=1)) > tol[..., None], axis=-1)
    cand = np.where(run_start.any(axis=1, keepdims=True), run_start, cand)
    first = np.argmin(np.where(cand, x, np.inf), axis=1)
    order = (first[:, None] + np.arange(4)[None]) % 4
    out = np.take_along_axis(pts, order[..., None], axis=1)
    return out.reshape(shape)


def regularize_rbox(rboxes: ArrayLike) -> FloatArray:
    """Put rboxes (..., 5) in the 'le90' form of the module docstring (``w >= h``, ``theta`` in [-pi/2, pi/2)).

    Example:
        >>> regularize_rbox([5, 5, 2, 4, 0.0]).round(4).tolist()  # tall box: long side becomes w
        [5.0, 5.0, 4.0, 2.0, -1.5708]
    """
    r = as_boxes(rboxes, 5, "rboxes").copy()
    w, h, t = r[..., 2], r[..., 3], r[..., 4]
    square = np.abs(w - h) <= _SQUARE_RTOL * np.maximum(w, h)
    swap = (h > w) & ~square
    w_, h_ = np.maximum(w, h), np.minimum(w, h)  # for a square this only moves float noise, keeping w >= h
    t = np.where(swap, t + np.pi / 2, t)
    period = np.where(square, np.pi / 2, np.pi)
    t = np.mod(t + period / 2, period) - period / 2
    t = np.where(t >= period / 2, t - period, t)  # np.mod can round up to the period itself
    r[..., 2], r[..., 3], r[..., 4] = w_, h_, t
    return r


def rbox2qbox(rboxes: ArrayLike) -> FloatArray:
    """Rotated boxes (..., 5) ``[cx, cy, w, h, theta]`` to canonical qboxes (..., 8).

    Example:
        >>> rbox2qbox([2, 1, 4, 2, 0.0]).tolist()
        [0.0, 0.0, 4.0, 0.0, 4.0, 2.0, 0.0, 2.0]
        >>> qbox2rbox(rbox2qbox([50, 50, 40, 10, 0.3])).round(6).tolist()
        [50.0, 50.0, 40.0, 10.0, 0.3]
    """
    r = as_boxes(rboxes, 5, "rboxes")
    c, w, h, t = r[..., 0:2], r[..., 2:3], r[..., 3:4], r[..., 4:5]
    cos, sin = np.cos(t), np.sin(t)
    u = np.concatenate([w / 2 * cos, w / 2 * sin], axis=-1)  # half of the w side, rotated clockwise on screen
    v = np.concatenate([-h / 2 * sin, h / 2 * cos], axis=-1)
    pts = np.stack([c - u - v, c + u - v, c + u + v, c - u + v], axis=-2)
    return canonical_qbox(pts.reshape(*r.shape[:-1], 8))


def _min_area_rect(pts: FloatArray, dirs: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Smallest rectangle around points (N, K, 2) with a side along one of the directions (N, C, 2).

    Returns the rectangle as (N, 4, 2) corners and the rbox (N, 5) before regularisation.
    """
    norm = np.linalg.norm(dirs, axis=-1, keepdims=True)
    d = np.where(norm > 0, dirs / np.where(norm > 0, norm, 1.0), np.array([1.0, 0.0]))
    n = np.stack([-d[..., 1], d[..., 0]], axis=-1)
    u = np.einsum("nkd,ncd->nck", pts, d)  # projections: (N, C, K)
    v = np.einsum("nkd,ncd->nck", pts, n)
    area = (u.max(-1) - u.min(-1)) * (v.max(-1) - v.min(-1))
    best = np.argmin(area, axis=1)
    rows = np.arange(len(pts))
    d, n, u, v = d[rows, best], n[rows, best], u[rows, best], v[rows, best]
    u0, u1, v0, v1 = u.min(-1)[:, None], u.max(-1)[:, None], v.min(-1)[:, None], v.max(-1)[:, None]
    corners = np.stack([u0 * d + v0 * n, u1 * d + v0 * n, u1 * d + v1 * n, u0 * d + v1 * n], axis=1)
    centre = (u0 + u1) / 2 * d + (v0 + v1) / 2 * n
    theta = np.arctan2(d[:, 1], d[:, 0])
    rbox = np.concatenate([centre, u1 - u0, v1 - v0, theta[:, None]], axis=1)
    return corners, rbox


def qbox2rbox(qboxes: ArrayLike) -> FloatArray:
    """Qboxes (..., 8) to regularised rboxes (..., 5) via the minimum-area enclosing rectangle.

    A rectangle maps exactly; any other quadrilateral maps to the smallest rotated rectangle around its corners
    (what mmrotate's ``qbox2rbox`` gets from ``cv2.minAreaRect``), computed in float64 without OpenCV.

    Example:
        >>> qbox2rbox([0, 0, 4, 0, 4, 2, 0, 2]).tolist()
        [2.0, 1.0, 4.0, 2.0, 0.0]
    """
    q = as_boxes(qboxes, 8, "qboxes")
    pts = q.reshape(-1, 4, 2)
    i, j = np.triu_indices(4, k=1)  # the 6 corner pairs include every hull edge, whatever the corner order
    _, rbox = _min_area_rect(pts, pts[:, j] - pts[:, i])
    return regularize_rbox(rbox).reshape(*q.shape[:-1], 5)


def hbox2rbox(hboxes: ArrayLike) -> FloatArray:
    """Horizontal boxes (..., 4) to regularised rboxes (..., 5).

    Example:
        >>> hbox2rbox([0, 0, 4, 2]).tolist()
        [2.0, 1.0, 4.0, 2.0, 0.0]
    """
    b = as_boxes(hboxes, 4, "hboxes")
    r = np.stack([(b[..., 0] + b[..., 2]) / 2, (b[..., 1] + b[..., 3]) / 2, b[..., 2] - b[..., 0],
                  b[..., 3] - b[..., 1], np.zeros(b.shape[:-1])], axis=-1)  # fmt: skip
    return regularize_rbox(r)


def poly2hbox(poly: ArrayLike) -> FloatArray:
    """Bounding box (4,) ``[x1, y1, x2, y2]`` of a polygon (M, 2).

    Raises:
        GeometryError: for an empty polygon.

    Example:
        >>> poly2hbox([[1, 5], [3, 2], [4, 6]]).tolist()
        [1.0, 2.0, 4.0, 6.0]
    """
    p = as_poly(poly)
    if len(p) == 0:
        raise GeometryError("poly must have at least one vertex, got an empty array")
    return np.array([p[:, 0].min(), p[:, 1].min(), p[:, 0].max(), p[:, 1].max()])


def poly2qbox(poly: ArrayLike) -> FloatArray:
    """Minimum-area rotated rectangle (8,) around a polygon (M, 2), in canonical order.

    A collinear or single-point input gives a zero-area rectangle (check with :func:`is_valid_qbox`).

    Raises:
        GeometryError: for an empty polygon.

    Example:
        >>> poly2qbox([[0, 0], [4, 0], [4, 2], [2, 3], [0, 2]]).tolist()
        [0.0, 0.0, 4.0, 0.0, 4.0, 3.0, 0.0, 3.0]
    """
    p = as_poly(poly)
    if len(p) == 0:
        raise GeometryError("poly must have at least one vertex, got an empty array")
    hull = np.asarray(shapely.get_coordinates(shapely.convex_hull(shapely.multipoints(p))))
    dirs = np.diff(hull, axis=0) if len(hull) > 1 else np.array([[1.0, 0.0]])
    corners, _ = _min_area_rect(hull[None], dirs[None])
    return canonical_qbox(corners.reshape(8))


# --------------------------------------------------------------------------------------------- windows, clipping
def to_window(coords: ArrayLike, window: WindowLike | None, scale: float = 1.0) -> FloatArray:
    """Map flat source coordinates (..., 2k) ``[x, y, x, y, ...]`` to the emitted image: ``(src - origin) * scale``.

    ``window=None`` means the whole image (origin 0, 0). :func:`from_window` is the inverse, exact up to float
    rounding (bit-exact for integer coordinates and power-of-two scales).

    Example:
        >>> to_window([110, 220, 130, 240], (100, 200, 612, 712), scale=0.5).tolist()
        [5.0, 10.0, 15.0, 20.0]
        >>> from_window(to_window([110, 220], (100, 200, 612, 712), 0.5), (100, 200, 612, 712), 0.5).tolist()
        [110.0, 220.0]
    """
    c, origin = _flat_coords(coords, window, scale)
    return (c - origin) * scale


def from_window(coords: ArrayLike, window: WindowLike | None, scale: float = 1.0) -> FloatArray:
    """Map flat emitted-image coordinates (..., 2k) back to the source: ``emitted / scale + origin``."""
    c, origin = _flat_coords(coords, window, scale)
    return c / scale + origin


def _flat_coords(coords: ArrayLike, window: WindowLike | None, scale: float) -> tuple[FloatArray, FloatArray]:
    c = np.asarray(coords, dtype=np.float64)
    if c.ndim == 0 or c.shape[-1] % 2:
        raise GeometryError(f"coords must have shape (..., 2k) as [x, y, x, y, ...], got shape {c.shape}")
    if not (np.isfinite(scale) and scale > 0):
        raise GeometryError(f"scale must be a positive finite number, got {scale}")
    x0, y0 = (0.0, 0.0) if window is None else _window(window)[:2]
    return c, np.tile(np.array([x0, y0]), c.shape[-1] // 2)


def clamp_to_image(coords: ArrayLike, width: float, height: float) -> FloatArray:
    """Clamp flat coordinates (..., 2k) into ``[0, width] x [0, height]``.

    Right for hboxes and points; a clamped qbox is generally no longer a rectangle, so clip those with
    :func:`clip_qbox` instead.

    Example:
        >>> clamp_to_image([-3, 5, 120, 99], 100, 50).tolist()
        [0.0, 5.0, 100.0, 50.0]
    """
    c = np.asarray(coords, dtype=np.float64)
    if c.ndim == 0 or c.shape[-1] % 2:
        raise GeometryError(f"coords must have shape (..., 2k) as [x, y, x, y, ...], got shape {c.shape}")
    hi = np.tile(np.array([float(width), float(height)]), c.shape[-1] // 2)
    return np.clip(c, 0.0, hi)


def clip_hbox(hbox: ArrayLike, window: WindowLike) -> tuple[FloatArray | None, float]:
    """Clip one hbox (4,) to a window; return it in window coordinates and the kept-area ratio.

    A zero-area box is kept whole (ratio 1.0) when it lies inside the closed window and lost otherwise, so no
    division by zero happens.

    Returns:
        ``(clipped hbox (4,) or None, kept ratio in [0, 1])``; ``None`` and ``0.0`` when nothing is left.

    Example:
        >>> box, kept = clip_hbox([90, 10, 110, 20], (0, 0, 100, 100))  # half of it sticks out on the right
        >>> box.tolist(), kept
        ([90.0, 10.0, 100.0, 20.0], 0.5)
    """
    b = as_boxes(hbox, 4, "hbox").reshape(4)
    x0, y0, x1, y1 = _window(window)
    area = (b[2] - b[0]) * (b[3] - b[1])
    c = np.array([max(b[0], x0), max(b[1], y0), min(b[2], x1), min(b[3], y1)])
    if area <= 0:
        inside = b[0] >= x0 and b[1] >= y0 and b[2] <= x1 and b[3] <= y1
        return (b - [x0, y0, x0, y0], 1.0) if inside else (None, 0.0)
    if c[2] <= c[0] or c[3] <= c[1]:
        return None, 0.0
    kept = (c[2] - c[0]) * (c[3] - c[1])
    return c - [x0, y0, x0, y0], float(min(1.0, kept / area))


def orient_ring(ring: ArrayLike, *, hole: bool = False) -> FloatArray:
    """Orient a ring (M, 2) and start it at its top-most, then left-most vertex.

    Exteriors run clockwise on screen, holes (``hole=True``) the opposite way, so that equal rings give equal
    arrays. A closing duplicate vertex is dropped.

    Example:
        >>> orient_ring([[0, 2], [2, 2], [2, 0], [0, 0]]).tolist()
        [[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0]]
    """
    r = as_poly(ring, "ring")
    if len(r) > 1 and np.array_equal(r[0], r[-1]):
        r = r[:-1]
    if len(r) == 0:
        return r.copy()
    if (signed_area(r) < 0) != hole:
        r = r[::-1]
    first = int(np.lexsort((r[:, 0], r[:, 1]))[0])
    return np.ascontiguousarray(np.roll(r, -first, axis=0))


def clip_polygon(poly: ArrayLike, window: WindowLike) -> tuple[list[FloatArray], float]:
    """Clip a polygon (M, 2) to a window; return the pieces in window coordinates and the kept-area ratio.

    Invalid input (self-intersecting) is repaired with ``shapely.make_valid`` first. Each piece is an exterior
    ring (K, 2), clockwise on screen, not closed. A zero-area polygon is kept whole (ratio 1.0) when it lies inside
    the closed window and lost otherwise.

    Returns:
        ``(pieces, kept ratio in [0, 1])``; ``([], 0.0)`` when nothing is left.

    Example:
        >>> pieces, kept = clip_polygon([[-2, 0], [2, 0], [2, 2], [-2, 2]], (0, 0, 10, 10))
        >>> [p.tolist() for p in pieces], kept
        ([[[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0]]], 0.5)
    """
    p = as_poly(poly)
    x0, y0, x1, y1 = _window(window)
    geom = shapely.make_valid(shapely.Polygon(p)) if len(p) >= 3 else None
    area = 0.0 if geom is None else float(shapely.area(geom))
    if geom is None or area <= 0:
        inside = len(p) > 0 and bool(np.all((p >= [x0, y0]) & (p <= [x1, y1])))
        return ([orient_ring(p - [x0, y0])], 1.0) if inside else ([], 0.0)
    inter = shapely.intersection(geom, shapely.box(x0, y0, x1, y1))
    pieces = [g for g in shapely.get_parts(inter) if isinstance(g, shapely.Polygon) and g.area > 0]
    if not pieces:
        return [], 0.0
    kept = sum(g.area for g in pieces)
    rings = [orient_ring(np.asarray(g.exterior.coords)[:-1] - [x0, y0]) for g in pieces]
    return rings, float(min(1.0, kept / area))


def clip_qbox(qbox: ArrayLike, window: WindowLike) -> tuple[FloatArray | None, FloatArray | None, float]:
    """Clip one qbox (8,) to a window, as DOTA tiling (DOTA_devkit, mmrotate ``img_split``) does.

    Returns:
        ``(clipped polygon (K, 2), qbox (8,), kept ratio)`` in window coordinates. The qbox is the original box
        (canonical order) when it lies wholly inside, else the minimum-area rectangle of the clipped polygon.
        Only a concave quadrilateral can split into several pieces; the polygon is then their convex hull.
        ``(None, None, 0.0)`` when nothing is left.

    Example:
        >>> poly, q, kept = clip_qbox([-10, 0, 10, 0, 10, 10, -10, 10], (0, 0, 100, 100))
        >>> q.tolist(), kept
        ([0.0, 0.0, 10.0, 0.0, 10.0, 10.0, 0.0, 10.0], 0.5)
    """
    q = as_boxes(qbox, 8, "qbox").reshape(8)
    pieces, kept = clip_polygon(q.reshape(4, 2), window)
    if not pieces:
        return None, None, 0.0
    x0, y0, _, _ = _window(window)
    if kept >= 1.0 and len(pieces) == 1:
        return pieces[0], canonical_qbox(q - np.tile([x0, y0], 4)), kept
    if len(pieces) == 1:
        poly = pieces[0]
    else:
        hull = shapely.convex_hull(shapely.multipoints(np.concatenate(pieces)))
        poly = orient_ring(np.asarray(hull.exterior.coords)[:-1])
    return poly, poly2qbox(poly), kept
