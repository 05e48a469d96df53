"""Georeference of GeoTIFF sources: read from the GeoTIFF tags, carried to every tile, mapped to world coordinates.

A :class:`GeoRef` is a CRS plus an affine geotransform in **GDAL order** ``(x0, dx, rx, y0, ry, dy)``: the world
position of the emitted pixel corner ``(x, y)`` (pixel coordinates of :mod:`ts_instruct.geometry`, origin at the
top-left corner of the top-left pixel) is::

    X = x0 + x * dx + y * rx
    Y = y0 + x * ry + y * dy

which is what GDAL's ``GetGeoTransform()`` and rasterio's ``transform.to_gdal()`` return for the same file. North-up
rasters have ``rx = ry = 0`` and ``dy < 0``. It is stored in ``SampleMeta.georef`` as
``{"crs": "EPSG:26914", "transform": [x0, dx, rx, y0, ry, dy]}`` for the *emitted* image, so a tile carries its own
transform (see :meth:`GeoRef.window`) and any polygon of its annotations can be exported as GeoJSON in the source's
CRS with :func:`polygons_to_geojson`.

Tags read (with Pillow, no GDAL needed): ModelPixelScaleTag (33550) with ModelTiepointTag (33922), or
ModelTransformationTag (34264); GeoKeyDirectoryTag (34735) for ``ProjectedCSTypeGeoKey`` (3072), else
``GeographicTypeGeoKey`` (2048), and ``GTRasterTypeGeoKey`` (1025): a PixelIsPoint raster has its tiepoint on a
pixel centre and is shifted by half a pixel, as GDAL does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from PIL import Image, UnidentifiedImageError
from shapely.geometry.polygon import orient

from ts_instruct.errors import InvalidImageError
from ts_instruct.sample import PolygonAnn

__all__ = ["GeoRef", "polygons_to_geojson", "read_georef"]

MODEL_PIXEL_SCALE_TAG = 33550
MODEL_TIEPOINT_TAG = 33922
MODEL_TRANSFORMATION_TAG = 34264
GEO_KEY_DIRECTORY_TAG = 34735

_GT_RASTER_TYPE_KEY = 1025
_GEOGRAPHIC_TYPE_KEY = 2048
_PROJECTED_CS_TYPE_KEY = 3072
_RASTER_PIXEL_IS_POINT = 2
_USER_DEFINED = 32767  # GeoTIFF's "user-defined" code: no EPSG code to report


@dataclass(frozen=True)
class GeoRef:
    """A CRS and a GDAL-order geotransform for one image (see the module docstring).

    Attributes:
        crs: ``"EPSG:<code>"``, or ``None`` when the file declares no EPSG code (user-defined CRS).
        transform: ``(x0, dx, rx, y0, ry, dy)``, world units per pixel.

    Example:
        >>> g = GeoRef("EPSG:26914", (600000.0, 0.3, 0.0, 3350000.0, 0.0, -0.3))
        >>> g.window(100, 200).transform
        (600030.0, 0.3, 0.0, 3349940.0, 0.0, -0.3)
        >>> g.pixel_to_world([[10, 20]]).tolist()
        [[600003.0, 3349994.0]]
    """

    crs: str | None
    transform: tuple[float, float, float, float, float, float]

    def window(self, x0: float, y0: float, scale: float = 1.0) -> GeoRef:
        """The georeference of a crop whose top-left corner is source pixel ``(x0, y0)``.

        ``scale`` is the resampling of the crop, in emitted pixels per source pixel.
        """
        ox, dx, rx, oy, ry, dy = self.transform
        return GeoRef(self.crs, (ox + x0 * dx + y0 * rx, dx, rx, oy + x0 * ry + y0 * dy, ry, dy)).scaled(scale, scale)

    def scaled(self, sx: float, sy: float) -> GeoRef:
        """The georeference of the same image resized by ``sx`` along x and ``sy`` along y (new pixels per old).

        Raises:
            ValueError: for a factor that is not positive.
        """
        if sx <= 0 or sy <= 0:
            raise ValueError(f"scale factors must be > 0, got {sx} and {sy}")
        ox, dx, rx, oy, ry, dy = self.transform
        return GeoRef(self.crs, (ox, dx / sx, rx / sy, oy, ry / sx, dy / sy))

    def pixel_to_world(self, points: ArrayLike) -> NDArray[np.float64]:
        """Map pixel coordinates, array of shape (N, 2), to world coordinates of the same shape."""
        p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        ox, dx, rx, oy, ry, dy = self.transform
        return np.stack([ox + p[:, 0] * dx + p[:, 1] * rx, oy + p[:, 0] * ry + p[:, 1] * dy], axis=1)

    @property
    def gsd(self) -> float:
        """Ground sample distance: the side of one pixel in world units (geometric mean of both axes)."""
        _, dx, rx, _, ry, dy = self.transform
        return float(np.sqrt(abs(dx * dy - rx * ry)))

    def to_dict(self) -> dict[str, Any]:
        """``{"crs": ..., "transform": [...]}``, the form stored in ``SampleMeta.georef``."""
        return {"crs": self.crs, "transform": [float(v) for v in self.transform]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GeoRef:
        """Inverse of :meth:`to_dict`.

        Raises:
            ValueError: when ``transform`` does not hold 6 numbers.
        """
        t = [float(v) for v in d["transform"]]
        if len(t) != 6:
            raise ValueError(f"georef transform must hold 6 numbers (GDAL order), got {len(t)}")
        return cls(d.get("crs"), (t[0], t[1], t[2], t[3], t[4], t[5]))


def _geo_keys(directory: Sequence[int]) -> dict[int, int]:
    """Short-valued keys of a GeoKeyDirectory: header of 4 shorts, then (key, location, count, value) entries."""
    keys: dict[int, int] = {}
    if len(directory) < 4:
        return keys
    n = int(directory[3])
    for i in range(n):
        entry = directory[4 + 4 * i : 8 + 4 * i]
        if len(entry) < 4:
            break
        key, location, _, value = (int(v) for v in entry)
        if location == 0:  # value stored in place (the case for every code read here)
            keys[key] = value
    return keys


def read_georef(path: str | Path) -> GeoRef | None:
    """Read the georeference of a GeoTIFF from its tags, without decoding pixels.

    Args:
        path: a TIFF file.

    Returns:
        The georeference, or ``None`` when the file has no geotransform tags (a plain TIFF, PNG or JPEG).

    Raises:
        InvalidImageError: the file is missing or not a readable image, or its geotransform tags are malformed.
    """
    try:
        with Image.open(path) as im:
            tags = dict(getattr(im, "tag_v2", {}) or {})
    except FileNotFoundError:
        raise InvalidImageError(path, "image file is missing") from None
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise InvalidImageError(path, f"not a readable image ({e})") from e
    keys = _geo_keys(tags.get(GEO_KEY_DIRECTORY_TAG, ()))
    try:
        if MODEL_TRANSFORMATION_TAG in tags:
            m = [float(v) for v in tags[MODEL_TRANSFORMATION_TAG]]
            if len(m) != 16:
                raise ValueError(f"ModelTransformationTag must hold 16 numbers, got {len(m)}")
            gt = [m[3], m[0], m[1], m[7], m[4], m[5]]
        elif MODEL_PIXEL_SCALE_TAG in tags and MODEL_TIEPOINT_TAG in tags:
            sx, sy = (float(v) for v in tags[MODEL_PIXEL_SCALE_TAG][:2])
            tie = [float(v) for v in tags[MODEL_TIEPOINT_TAG]]
            if len(tie) < 6:
                raise ValueError(f"ModelTiepointTag must hold at least 6 numbers, got {len(tie)}")
            i, j, _, x, y, _ = tie[:6]
            gt = [x - i * sx, sx, 0.0, y + j * sy, 0.0, -sy]
        else:
            return None
    except (TypeError, ValueError) as e:
        raise InvalidImageError(path, f"malformed GeoTIFF geotransform tags ({e})") from e
    if keys.get(_GT_RASTER_TYPE_KEY) == _RASTER_PIXEL_IS_POINT:
        gt[0] -= 0.5 * (gt[1] + gt[2])
        gt[3] -= 0.5 * (gt[4] + gt[5])
    code = keys.get(_PROJECTED_CS_TYPE_KEY) or keys.get(_GEOGRAPHIC_TYPE_KEY)
    crs = f"EPSG:{code}" if code and code != _USER_DEFINED else None
    return GeoRef(crs, (gt[0], gt[1], gt[2], gt[3], gt[4], gt[5]))


def polygons_to_geojson(polygons: Iterable[PolygonAnn], georef: GeoRef | dict[str, Any]) -> dict[str, Any]:
    """Polygons in pixels of an emitted image as a GeoJSON FeatureCollection in the image's CRS.

    Rings follow the right-hand rule (exterior counter-clockwise in world coordinates) and are closed. The CRS is
    named in a top-level ``crs`` member (the GeoJSON 2008 form that GDAL and QGIS read) because RFC 7946 GeoJSON
    assumes WGS 84 longitude/latitude and most sources here are projected (UTM).

    Args:
        polygons: :class:`~ts_instruct.sample.PolygonAnn` in pixel coordinates.
        georef: the emitted image's :class:`GeoRef` or its ``to_dict()`` form (``SampleMeta.georef``).

    Returns:
        ``{"type": "FeatureCollection", "crs": ..., "features": [...]}``, one Polygon feature per input with its
        ``label`` as a property.
    """
    g = georef if isinstance(georef, GeoRef) else GeoRef.from_dict(georef)
    features = []
    for p in polygons:
        world = shapely.Polygon(g.pixel_to_world(p.exterior), [g.pixel_to_world(h) for h in p.holes])
        world = orient(world, sign=1.0)
        features.append(
            {
                "type": "Feature",
                "properties": {"label": p.label},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [list(c) for c in world.exterior.coords],
                        *([list(c) for c in r.coords] for r in world.interiors),
                    ],
                },
            }
        )
    out: dict[str, Any] = {"type": "FeatureCollection"}
    if g.crs:
        out["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:{g.crs.replace(':', '::')}"}}
    out["features"] = features
    return out
