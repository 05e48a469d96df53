"""Label masks to polygons and back, with one pixel convention both ways.

Pixel convention: pixel ``(row i, column j)`` is the unit square ``[j, j+1) x [i, i+1)`` (the coordinates of
:mod:`ts_instruct.geometry`), and its centre is ``(j + 0.5, i + 0.5)``.

- :func:`mask_to_polygons` outlines the *pixel squares*, so its vertices lie on pixel **corners** (integer
  coordinates): a single pixel at row 2, column 3 becomes the square ``(3, 2), (4, 2), (4, 3), (3, 3)``, not a point
  at its centre. It gets there by running ``cv2.findContours`` (``RETR_CCOMP``, so holes come out, and
  ``CHAIN_APPROX_SIMPLE``) on the mask upsampled 2x: each pixel becomes 2x2 sub-pixels, every traced sub-pixel lies
  on the left/top or right/bottom half of its pixel, and sub-pixel index ``u`` maps to pixel corner
  ``(u + 1) // 2``. Plain ``findContours`` traces the centres of boundary pixels instead, which loses half a pixel
  all around (a one-pixel-wide line has zero area).
- :func:`polygons_to_mask` sets a pixel when its centre is inside (nonzero winding, so overlapping polygons unite
  and holes clear); a centre exactly on an edge counts as inside for a left edge and outside for a right edge
  (the top-left rule). Without simplification and size filtering,
  ``polygons_to_mask(mask_to_polygons(m, min_area=0, simplify_tolerance=0), H, W)`` gives back ``m`` exactly; at
  the defaults, building-like masks come back with IoU ~0.999 (``benchmarks/bench_masks.py`` measures it).

Polygons are :class:`Polygon` values: an exterior ring clockwise on screen (positive shoelace sum) and holes the
opposite way, each starting at its top-most, then left-most vertex. Pixels that touch only at a corner become
separate polygons (a polygon's interior must be connected, as shapely requires).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from ts_instruct.errors import GeometryError
from ts_instruct.geometry import FloatArray, orient_ring, signed_area
from ts_instruct.sample import PolygonAnn

_TOL_CAP = 0.15  # simplify_to_budget: tolerance cap per polygon, as a fraction of sqrt(area) (its typical size)

__all__ = [
    "Polygon",
    "class_map_to_polygons",
    "mask_iou",
    "mask_to_polygons",
    "polygons_to_mask",
    "simplify_to_budget",
]


@dataclass(frozen=True, eq=False)
class Polygon:
    """A polygon in pixel coordinates.

    Attributes:
        exterior: vertices, array of shape (M, 2), not closed, clockwise on screen.
        holes: hole rings, each of shape (K, 2), not closed, counter-clockwise on screen.
    """

    exterior: FloatArray
    holes: list[FloatArray] = field(default_factory=list)

    @property
    def area(self) -> float:
        """Area in square pixels (holes subtracted)."""
        return abs(signed_area(self.exterior)) - sum(abs(signed_area(h)) for h in self.holes)

    @property
    def num_vertices(self) -> int:
        """Vertices of the exterior and all holes together."""
        return len(self.exterior) + sum(len(h) for h in self.holes)

    def to_shapely(self) -> shapely.Polygon:
        """The same polygon as a ``shapely.Polygon``."""
        return shapely.Polygon(self.exterior, self.holes)

    @classmethod
    def from_shapely(cls, geom: shapely.Polygon) -> Polygon:
        """Build from a ``shapely.Polygon``, orienting the rings and choosing their first vertex."""
        holes = [orient_ring(np.asarray(r.coords), hole=True) for r in geom.interiors]
        holes.sort(key=lambda h: (h[0, 1], h[0, 0]))
        return cls(orient_ring(np.asarray(geom.exterior.coords)), holes)

    def to_ann(self, label: str) -> PolygonAnn:
        """This polygon as the :class:`ts_instruct.sample.PolygonAnn` of class ``label``."""
        return PolygonAnn(label, self.exterior.tolist(), [h.tolist() for h in self.holes])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Polygon):
            return NotImplemented
        return (
            np.array_equal(self.exterior, other.exterior)
            and len(self.holes) == len(other.holes)
            and all(np.array_equal(a, b) for a, b in zip(self.holes, other.holes, strict=True))
        )

    __hash__ = None  # type: ignore[assignment]


def _as_mask(mask: ArrayLike, name: str = "mask") -> NDArray[np.uint8]:
    m = np.asarray(mask)
    if m.ndim != 2:
        raise GeometryError(f"{name} must be a 2-D (H, W) array, got shape {m.shape}")
    return np.asarray(m != 0, dtype=np.uint8)


def _sort_key(p: Polygon) -> tuple[float, float, float]:
    return float(p.exterior[0, 1]), float(p.exterior[0, 0]), -p.area


def _traced_polygons(mask: NDArray[np.uint8]) -> list[shapely.Polygon]:
    """Pixel-corner polygons of the foreground, valid in shapely's sense, unsimplified."""
    up = np.repeat(np.repeat(np.pad(mask, 1), 2, axis=0), 2, axis=1)
    contours, hierarchy = cv2.findContours(up, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return []
    rings = [(c.reshape(-1, 2).astype(np.int64) + 1) // 2 - 1 for c in contours]
    out: list[shapely.Polygon] = []
    for i, (_, _, child, parent) in enumerate(hierarchy[0]):
        if parent != -1:
            continue
        holes = []
        while child != -1:
            holes.append(rings[child])
            child = hierarchy[0][child][0]
        hole_rings = [r for r in map(_ring, holes) if len(r) >= 3]
        shell = _ring(rings[i])
        geom = shapely.Polygon(shell, hole_rings)
        # Pixel-edge rings never cross; they can only touch where pixels meet at a corner, and then both pass
        # through that vertex. So distinct vertices prove validity without the (slower) GEOS check.
        every = np.concatenate([shell, *hole_rings])
        keys = np.sort((every[:, 1] + 1) * (mask.shape[1] + 3) + every[:, 0] + 1)
        if np.any(keys[1:] == keys[:-1]) and not geom.is_valid:
            # corner-touching pixels: split into polygons with connected interiors
            geom = shapely.make_valid(geom, method="structure", keep_collapsed=False)
        out.extend(g for g in shapely.get_parts(geom) if isinstance(g, shapely.Polygon) and g.area > 0)
    return out


def _ring(points: NDArray[np.int64]) -> NDArray[np.int64]:
    keep = np.any(points != np.roll(points, 1, axis=0), axis=1)  # drop repeats left by the corner mapping
    return points[keep] if keep.any() else points[:1]


def _drop_small_holes(geom: shapely.Polygon, min_area: float) -> shapely.Polygon:
    holes = [r for r in geom.interiors if shapely.Polygon(r).area >= min_area]
    return geom if len(holes) == len(geom.interiors) else shapely.Polygon(geom.exterior, holes)


def _simplify(geom: shapely.Polygon, tolerance: float) -> shapely.Polygon:
    """Douglas-Peucker keeping topology; falls back to the input if the result is not one valid polygon."""
    out = shapely.simplify(geom, tolerance, preserve_topology=True)
    if isinstance(out, shapely.Polygon) and out.is_valid and not out.is_empty and out.area > 0:
        return out
    return geom


def _fit_vertices(geom: shapely.Polygon, max_vertices: int, start: float) -> shapely.Polygon:
    """Simplify one polygon until it has at most ``max_vertices``; drop holes, then use its oriented rectangle."""
    tol = max(start, 0.25)
    diag = float(np.hypot(*np.ptp(np.asarray(geom.exterior.coords), axis=0)))
    out = geom
    while Polygon.from_shapely(out).num_vertices > max_vertices and tol <= 2 * diag:
        out, tol = _simplify(geom, tol), tol * 2
    while Polygon.from_shapely(out).num_vertices > max_vertices and out.interiors:
        smallest = min(out.interiors, key=lambda r: shapely.Polygon(r).area)
        out = shapely.Polygon(out.exterior, [r for r in out.interiors if r is not smallest])
    if Polygon.from_shapely(out).num_vertices > max_vertices:
        out = shapely.Polygon(shapely.minimum_rotated_rectangle(out).exterior)
    return out


def mask_to_polygons(
    mask: ArrayLike,
    *,
    min_area: float = 4.0,
    simplify_tolerance: float = 0.5,
    max_vertices: int | None = None,
) -> list[Polygon]:
    """Outline the foreground of a mask as polygons whose vertices lie on pixel corners.

    Args:
        mask: (H, W) array; nonzero pixels are foreground (bool, 0/1 or 0/255 all work).
        min_area: polygons smaller than this many square pixels are dropped and holes smaller than it are filled.
        simplify_tolerance: Douglas-Peucker tolerance in pixels (``shapely.simplify`` with
            ``preserve_topology=True``); 0 keeps every pixel step. Simplified vertices stay on pixel corners.
        max_vertices: if set (at least 4), each polygon is simplified further, then loses its smallest holes,
            and as a last resort becomes its minimum-area rotated rectangle, until it has at most this many
            vertices (exterior plus holes).

    Returns:
        Polygons sorted by their top-most, then left-most vertex; ``[]`` for an empty mask.

    Raises:
        GeometryError: for a mask that is not 2-D.
        ValueError: for a negative ``min_area`` or ``simplify_tolerance`` or ``max_vertices < 4``.

    Example:
        >>> m = np.zeros((4, 5), np.uint8)
        >>> m[1:3, 1:4] = 1
        >>> [p.exterior.tolist() for p in mask_to_polygons(m)]
        [[[1.0, 1.0], [4.0, 1.0], [4.0, 3.0], [1.0, 3.0]]]
        >>> bool((polygons_to_mask(mask_to_polygons(m), 4, 5) == m).all())
        True
    """
    if min_area < 0 or simplify_tolerance < 0:
        raise ValueError(f"min_area and simplify_tolerance must be >= 0, got {min_area} and {simplify_tolerance}")
    if max_vertices is not None and max_vertices < 4:
        raise ValueError(f"max_vertices must be None or >= 4 (a rectangle), got {max_vertices}")
    polys = []
    for geom in _traced_polygons(_as_mask(mask)):
        if geom.area < min_area:
            continue
        g = _simplify(_drop_small_holes(geom, min_area), simplify_tolerance)
        if max_vertices is not None:
            g = _fit_vertices(g, max_vertices, simplify_tolerance)
        polys.append(Polygon.from_shapely(g))
    return sorted(polys, key=_sort_key)


def class_map_to_polygons(
    class_map: ArrayLike,
    classes: dict[int, str],
    *,
    ignore_index: int | None = None,
    **kw: float | int | None,
) -> dict[str, list[Polygon]]:
    """Polygons of every class of a semantic class map (LoveDA-style), with :func:`mask_to_polygons` per class.

    Args:
        class_map: (H, W) integer array of class ids.
        classes: id -> class name; every id present in ``class_map`` must be here unless it is ``ignore_index``.
        ignore_index: no-data id whose pixels are skipped (no polygons for it even if it is in ``classes``).
        **kw: passed to :func:`mask_to_polygons` (``min_area``, ``simplify_tolerance``, ``max_vertices``).

    Returns:
        class name -> polygons, in the order of increasing class id, with an empty list for an absent class.

    Raises:
        GeometryError: for a map that is not 2-D or holds ids missing from ``classes``.

    Example:
        >>> cm = np.array([[0, 1, 1], [0, 1, 1], [2, 2, 2]])
        >>> out = class_map_to_polygons(cm, {1: "building", 2: "road"}, ignore_index=0, min_area=1)
        >>> {k: [p.area for p in v] for k, v in out.items()}
        {'building': [4.0], 'road': [3.0]}
    """
    cm = np.asarray(class_map)
    if cm.ndim != 2:
        raise GeometryError(f"class_map must be a 2-D (H, W) array, got shape {cm.shape}")
    unknown = set(np.unique(cm).tolist()) - set(classes) - {ignore_index}
    if unknown:
        raise GeometryError(
            f"class_map holds ids {sorted(unknown)} that are not in classes {sorted(classes)}; "
            "add them to classes or pass ignore_index"
        )
    return {
        name: [] if cid == ignore_index else mask_to_polygons(cm == cid, **kw)  # type: ignore[arg-type]
        for cid, name in sorted(classes.items())
    }


def simplify_to_budget(polygons: Sequence[Polygon], max_vertices_total: int) -> list[Polygon]:
    """Simplify polygons until their vertices (exteriors plus holes) total at most ``max_vertices_total``.

    Steps, stopping as soon as the total fits: (1) Douglas-Peucker with topology preserved, from the originals
    each time, with one tolerance for all polygons doubling from 0.5 px, but never above ``0.15 * sqrt(area)``
    (at least 0.5 px) for a given polygon, so that a small polygon is not flattened into a sliver or a triangle;
    (2) remove holes, smallest first; (3) as a last resort, drop whole polygons, smallest first. Every returned
    polygon is valid; the survivors keep their input order.

    Args:
        polygons: the polygons, e.g. from :func:`mask_to_polygons`.
        max_vertices_total: the budget, >= 0.

    Returns:
        The simplified polygons (possibly fewer of them).

    Raises:
        ValueError: for a negative budget.

    Example:
        >>> m = np.zeros((40, 40), np.uint8)
        >>> _ = cv2.circle(m, (20, 20), 15, 1, -1)
        >>> polys = mask_to_polygons(m, simplify_tolerance=0)
        >>> sum(p.num_vertices for p in simplify_to_budget(polys, 12)) <= 12
        True
    """
    if max_vertices_total < 0:
        raise ValueError(f"max_vertices_total must be >= 0, got {max_vertices_total}")
    current = list(polygons)
    if _total(current) <= max_vertices_total or not current:
        return current
    geoms = [p.to_shapely() for p in current]
    caps = [max(0.5, _TOL_CAP * float(np.sqrt(max(p.area, 0.0)))) for p in current]
    tol = 0.5
    while True:
        current = [Polygon.from_shapely(_simplify(g, min(tol, cap))) for g, cap in zip(geoms, caps, strict=True)]
        if _total(current) <= max_vertices_total or tol >= max(caps):
            break
        tol *= 2
    holes = sorted(
        ((abs(signed_area(h)), i, j) for i, p in enumerate(current) for j, h in enumerate(p.holes)), reverse=True
    )
    removed: set[tuple[int, int]] = set()
    total = _total(current)
    while total > max_vertices_total and holes:
        _, i, j = holes.pop()
        removed.add((i, j))
        total -= len(current[i].holes[j])
    current = [Polygon(p.exterior, [h for j, h in enumerate(p.holes) if (i, j) not in removed]) for i, p in
               enumerate(current)]  # fmt: skip
    by_area = sorted(range(len(current)), key=lambda i: (current[i].area, i))
    dropped: set[int] = set()
    while total > max_vertices_total:
        i = by_area.pop(0)
        dropped.add(i)
        total -= current[i].num_vertices
    return [p for i, p in enumerate(current) if i not in dropped]


def _total(polygons: Iterable[Polygon]) -> int:
    return sum(p.num_vertices for p in polygons)


def polygons_to_mask(polygons: Iterable[Polygon], height: int, width: int) -> NDArray[np.uint8]:
    """Rasterise polygons into an (H, W) uint8 mask of 0/1: a pixel is set when its centre is inside.

    The exact inverse of :func:`mask_to_polygons` (see the module docstring): nonzero winding, so polygons
    unite, holes clear and an island inside a hole is filled again; the top-left rule for centres on an edge.
    Implemented as a vectorised scanline over pixel-centre rows, with no dependency on a drawing library's
    rounding.

    Example:
        >>> p = Polygon(np.array([[0.0, 0.0], [3.0, 0.0], [3.0, 2.0], [0.0, 2.0]]))
        >>> polygons_to_mask([p], 3, 4).tolist()
        [[1, 1, 1, 0], [1, 1, 1, 0], [0, 0, 0, 0]]
    """
    if height < 0 or width < 0:
        raise ValueError(f"height and width must be >= 0, got {height} and {width}")
    rings = []
    for p in polygons:
        rings.append(orient_ring(p.exterior))
        rings.extend(orient_ring(h, hole=True) for h in p.holes)
    if not rings or height == 0 or width == 0:
        return np.zeros((height, width), np.uint8)
    start = np.concatenate(rings)
    end = np.concatenate([np.roll(r, -1, axis=0) for r in rings])
    x0, y0, x1, y1 = start[:, 0], start[:, 1], end[:, 0], end[:, 1]
    sign = np.where(y1 < y0, 1, -1)  # an upward edge (on screen) is a left edge of a clockwise exterior
    lo, hi = np.minimum(y0, y1), np.maximum(y0, y1)
    # edge covers pixel-centre rows i with lo <= i + 0.5 < hi (half-open, so a shared vertex counts once)
    r0 = np.clip(np.ceil(lo - 0.5), 0, height).astype(np.int64)
    r1 = np.clip(np.ceil(hi - 0.5), 0, height).astype(np.int64)
    n = np.maximum(r1 - r0, 0)
    edge = np.repeat(np.arange(len(n)), n)
    rows = r0[edge] + np.arange(len(edge)) - np.repeat(np.cumsum(n) - n, n)
    t = (rows + 0.5 - y0[edge]) / (y1[edge] - y0[edge])
    x = x0[edge] + t * (x1[edge] - x0[edge])
    # the crossing changes the winding for every pixel whose centre j + 0.5 >= x
    cols = np.clip(np.ceil(x - 0.5), 0, width).astype(np.int64)
    diff = np.bincount(rows * (width + 1) + cols, weights=sign[edge], minlength=height * (width + 1))
    winding = np.cumsum(diff.reshape(height, width + 1), axis=1)[:, :width]
    return np.asarray(np.rint(winding) != 0, dtype=np.uint8)


def mask_iou(a: ArrayLike, b: ArrayLike) -> float:
    """IoU of two (H, W) masks (nonzero = foreground); 1.0 when both are empty.

    Raises:
        GeometryError: when the shapes differ or are not 2-D.

    Example:
        >>> mask_iou([[1, 1, 0]], [[0, 1, 1]])
        0.3333333333333333
    """
    ma, mb = _as_mask(a, "a").astype(bool), _as_mask(b, "b").astype(bool)
    if ma.shape != mb.shape:
        raise GeometryError(f"masks must have the same shape, got {ma.shape} and {mb.shape}")
    union = int(np.count_nonzero(ma | mb))
    return 1.0 if union == 0 else int(np.count_nonzero(ma & mb)) / union
