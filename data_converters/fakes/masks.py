"""Building blocks for fake segmentation datasets: building masks, land-cover maps, painted images, GeoTIFFs.

Shapes are drawn so that what a correct conversion must find is known without running the converter: buildings are
placed apart (never touching, not even at a corner), so the number of polygons equals the number of 4-connected
components of at least ``min_area`` pixels, which :func:`count_components` computes independently of the contour
tracing the converter uses.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image, TiffImagePlugin, TiffTags

from data_converters.fakes.common import texture

#: roof colours painted over the texture where the mask says building
_ROOFS = np.array([[180, 70, 60], [200, 200, 205], [90, 90, 100], [160, 120, 80]], np.uint8)

#: LoveDA palette of the authors' code (id 1..7); id 0 (no-data) is painted black
LANDCOVER_COLOURS = np.array(
    [
        [0, 0, 0],
        [255, 255, 255],
        [255, 0, 0],
        [255, 255, 0],
        [0, 0, 255],
        [159, 129, 183],
        [0, 255, 0],
        [255, 195, 128],
    ],
    np.uint8,
)


def building_mask(
    rng: np.random.Generator,
    height: int,
    width: int,
    n: int,
    *,
    courtyard: bool = True,
    specks: int = 1,
    sizes: tuple[float, float] = (0.1, 0.3),
) -> NDArray[np.uint8]:
    """A 0/1 mask of ``n`` buildings, shape ``(height, width)``, uint8.

    Shapes: axis-aligned and rotated rectangles, an L-shape, optionally one building with a courtyard (a hole), plus
    ``specks`` single pixels (under the default ``min_area``, so they get no polygon). Building sides are ``sizes``
    (fractions of the shorter image side); buildings keep 3 pixels from each other and from the image border; fewer
    than ``n`` are drawn when they do not fit.
    """
    mask = np.zeros((height, width), np.uint8)
    side = min(height, width)
    placed = 0
    for _ in range(30 * n):
        if placed >= n:
            break
        # the first building has a courtyard when asked; then plain, rotated and L-shaped ones in turn
        kind = 0 if courtyard and placed == 0 else 1 + placed % 3
        low = max(16 if kind == 0 else 6, int(side * sizes[0]))
        w, h = (int(rng.integers(low, max(low + 2, int(side * sizes[1])))) for _ in range(2))
        r = int(np.hypot(w, h) / 2) + 2  # the shape fits in a canvas of side 2r around its centre
        cx, cy = (
            int(rng.integers(r + 3, max(r + 4, width - r - 3))),
            int(rng.integers(r + 3, max(r + 4, height - r - 3))),
        )
        if cx + r + 3 > width or cy + r + 3 > height:
            continue
        shape = np.zeros((2 * r, 2 * r), np.uint8)
        x0, y0, x1, y1 = r - w // 2, r - h // 2, r + (w - 1) // 2, r + (h - 1) // 2
        if kind == 0:  # courtyard: a hole of about a third of each side
            cv2.rectangle(shape, (x0, y0), (x1, y1), 1, -1)
            cv2.rectangle(shape, (r - w // 6, r - h // 6), (r + w // 6, r + h // 6), 0, -1)
        elif kind == 2:  # rotated rectangle
            box = cv2.boxPoints(((float(r), float(r)), (float(w), float(h)), float(rng.uniform(10, 80))))
            cv2.fillPoly(shape, [np.round(box).astype(np.int32)], 1)
        elif kind == 3:  # L-shape
            cv2.rectangle(shape, (x0, y0), (x1, r), 1, -1)
            cv2.rectangle(shape, (x0, y0), (r, y1), 1, -1)
        else:
            cv2.rectangle(shape, (x0, y0), (x1, y1), 1, -1)
        top, left = cy - r, cx - r
        if mask[max(0, top - 3) : top + 2 * r + 3, max(0, left - 3) : left + 2 * r + 3].any():
            continue  # would come within 3 px of a building already drawn
        mask[top : top + 2 * r, left : left + 2 * r] |= shape
        placed += 1
    free = np.argwhere(cv2.dilate(mask, np.ones((5, 5), np.uint8))[1:-1, 1:-1] == 0) + 1
    for i in rng.choice(len(free), size=min(specks, len(free)), replace=False) if len(free) else []:
        y, x = free[i]
        mask[y, x] = 1
    return mask


def count_components(mask: NDArray[np.uint8], *, min_area: int = 4) -> int:
    """Number of 4-connected foreground components with at least ``min_area`` pixels."""
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=4)
    return int((stats[1:, cv2.CC_STAT_AREA] >= min_area).sum())


def paint_buildings(rng: np.random.Generator, mask: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """An RGB image ``(H, W, 3)``: a smooth texture with roofs painted where ``mask`` is set."""
    img = texture(rng, *mask.shape)
    roof = _ROOFS[int(rng.integers(len(_ROOFS)))]
    img[mask.astype(bool)] = roof
    return img


def landcover_map(rng: np.random.Generator, height: int, width: int) -> NDArray[np.uint8]:
    """A LoveDA-style class map ``(H, W)`` of ids 1-7.

    Voronoi regions drawn from background, water, barren, forest and agriculture, usually a road (id 3) across and a
    few buildings (id 2); some classes are absent from each map.
    """
    seeds = rng.uniform(0, [width, height], size=(6, 2))
    labels = rng.choice(np.array([1, 4, 5, 6, 7], np.uint8), size=6)  # a random subset: some classes are absent
    yy, xx = np.mgrid[0:height, 0:width]
    d = (xx[..., None] - seeds[:, 0]) ** 2 + (yy[..., None] - seeds[:, 1]) ** 2
    cmap: NDArray[np.uint8] = np.ascontiguousarray(labels[np.argmin(d, axis=2)], dtype=np.uint8)
    if rng.random() < 0.7:
        y0, y1 = int(rng.uniform(0.2, 0.8) * height), int(rng.uniform(0.2, 0.8) * height)
        cv2.line(cmap, (0, y0), (width - 1, y1), 3, thickness=max(3, height // 25))
    if rng.random() < 0.7:
        cmap[building_mask(rng, height, width, 3, courtyard=False, specks=0).astype(bool)] = 2
    return cmap


def paint_landcover(rng: np.random.Generator, cmap: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """An RGB image ``(H, W, 3)``: the palette colour of each class blended with a texture."""
    tex = texture(rng, *cmap.shape).astype(np.float32)
    img = 0.6 * LANDCOVER_COLOURS[cmap].astype(np.float32) + 0.4 * tex
    return np.asarray(np.clip(img, 0, 255), dtype=np.uint8)


def write_tiff(path: Path, arr: NDArray[np.uint8]) -> Path:
    """A plain (uncompressed) TIFF, single band for ``(H, W)``, RGB for ``(H, W, 3)``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(arr)).save(path, format="TIFF")
    return path


def write_geotiff(
    path: Path, arr: NDArray[np.uint8], *, origin: tuple[float, float], pixel_size: float, epsg: int
) -> Path:
    """A north-up GeoTIFF, as the Inria tiles are.

    Tags: ModelPixelScale + ModelTiepoint (pixel corner (0, 0) at ``origin``) and a GeoKeyDirectory with a projected
    CRS (``ProjectedCSTypeGeoKey = epsg``, PixelIsArea, metres).
    """
    ifd = TiffImagePlugin.ImageFileDirectory_v2()
    ifd[33550] = (pixel_size, pixel_size, 0.0)
    ifd.tagtype[33550] = TiffTags.DOUBLE
    ifd[33922] = (0.0, 0.0, 0.0, origin[0], origin[1], 0.0)
    ifd.tagtype[33922] = TiffTags.DOUBLE
    # GeoKeyDirectory: version 1.1.0, 4 keys: GTModelType=Projected(1), GTRasterType=PixelIsArea(1),
    # ProjectedCSType=epsg, ProjLinearUnits=metre(9001)
    ifd[34735] = (1, 1, 0, 4, 1024, 0, 1, 1, 1025, 0, 1, 1, 3072, 0, 1, epsg, 3076, 0, 1, 9001)
    ifd.tagtype[34735] = TiffTags.SHORT
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(arr)).save(path, format="TIFF", tiffinfo=ifd)
    return path
