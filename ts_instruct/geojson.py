"""GeoJSON export of annotations or parsed model answers: world coordinates where samples are georeferenced.

Decision on coordinates. RFC 7946 GeoJSON has one coordinate reference system, WGS 84 longitude/latitude in decimal
degrees (§4), and dropped the ``crs`` member. Georeferenced sources are projected (Inria: UTM in metres), so every
vertex is mapped from pixels to the source CRS with the sample's geotransform (``meta.georef``, GDAL order,
:class:`ts_instruct.georef.GeoRef`) and then reprojected to WGS 84 with PROJ through ``rasterio.warp.transform``
(pyproj is not needed). Only vertices are reprojected: a straight edge of a projected tile bends a little in
longitude/latitude, far below a pixel for tiles of a few hundred metres. Positions are ``[longitude, latitude]``
(that order, §3.1.1) rounded to 7 decimals (about 1 cm). For GIS work in the source CRS, ``meta.georef`` and
:func:`ts_instruct.georef.polygons_to_geojson` give projected coordinates instead.

Samples without a georeference (or whose CRS has no EPSG code) are written in **pixel coordinates** of their image
(x right, y down, see :mod:`ts_instruct.sample`) to separate ``*.pixel.geojson`` files, whose FeatureCollection
carries the foreign member ``"coordinates": "pixel"``; they follow the structure of RFC 7946 but are not in WGS 84.

Winding (§3.1.6, right-hand rule): exterior rings counter-clockwise and holes clockwise *in the coordinates as
written*, i.e. by the sign of the shoelace area of the numbers. In longitude/latitude that is counter-clockwise on a
map; in pixel files (y down) it is the project's own convention, clockwise on screen. Rings are closed (first
position repeated), with at least 4 positions. Features are not cut at the antimeridian: one that would span more
than 180 degrees of longitude is skipped and counted.

Output, one pair of files per dataset and split, written as records stream in::

    <out>/<dataset>/<split>.geojson          georeferenced samples, WGS 84, with a ``bbox`` member
    <out>/<dataset>/<split>.pixel.geojson    every other sample, pixel coordinates

Each feature's ``properties``: ``dataset``, ``split``, ``key`` (the sample), ``image`` (relative path; a list for a
change region of a pair), ``source`` (``annotation`` or ``prediction``), ``kind`` (``box``, ``quad``, ``polygon``,
``point``), ``label``, plus ``id`` and ``task`` for predictions and the source flags (``difficult``, ``truncated``,
``category``, ``score``). Annotations are written once per sample; predictions once per record.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np

from ts_instruct.errors import ConfigError
from ts_instruct.georef import GeoRef
from ts_instruct.recordset import RecordRef, sample_runs
from ts_instruct.shapes import Shape, annotation_shapes, prediction_shapes

__all__ = ["GeoJSONSummary", "ring_area", "shape_geometry", "to_wgs84", "write_geojson"]

Space = Literal["wgs84", "pixel"]

_DEGREE_DECIMALS = 7
_PIXEL_DECIMALS = 3


def ring_area(ring: list[list[float]] | list[tuple[float, float]]) -> float:
    """Signed shoelace area of a ring of ``[x, y]`` positions, closed or not.

    Positive when the ring turns counter-clockwise in a plane with the y axis up.

    Example:
        >>> ring_area([[0, 0], [1, 0], [1, 1], [0, 1]])
        1.0
    """
    n = len(ring)
    return 0.5 * sum(ring[i][0] * ring[(i + 1) % n][1] - ring[(i + 1) % n][0] * ring[i][1] for i in range(n))


def _close(ring: list[list[float]], ccw: bool) -> list[list[float]]:
    if (ring_area(ring) > 0) != ccw:
        ring = ring[::-1]
    return [*ring, ring[0]]


def to_wgs84(points: np.ndarray, crs: str) -> np.ndarray:
    """Reproject ``(N, 2)`` points from ``crs`` to WGS 84 ``(longitude, latitude)`` degrees, shape ``(N, 2)``.

    Raises:
        ConfigError: rasterio is missing, or PROJ does not know ``crs``.
    """
    if crs.upper() in ("EPSG:4326", "OGC:CRS84"):
        return np.asarray(points, dtype=np.float64)
    try:
        from rasterio.errors import CRSError
        from rasterio.warp import transform
    except ImportError as e:
        raise ConfigError("reprojecting to WGS 84 needs rasterio: pip install 'terrasense[share]'") from e
    try:
        lon, lat = transform(crs, "EPSG:4326", points[:, 0].tolist(), points[:, 1].tolist())
    except CRSError as e:
        raise ConfigError(f"meta.georef crs must be a CRS PROJ knows, got {crs!r} ({e})") from e
    return np.stack([np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)], axis=1)


def shape_geometry(shape: Shape, mapped: list[np.ndarray], decimals: int) -> dict[str, Any] | None:
    """The GeoJSON geometry of a shape whose rings were already mapped (``mapped[0]`` exterior, then holes).

    Returns:
        A ``Point`` or ``Polygon`` geometry, or ``None`` for a ring with fewer than 3 distinct positions.
    """
    rings = [[[round(float(x), decimals), round(float(y), decimals)] for x, y in r] for r in mapped]
    if shape.kind == "point":
        return {"type": "Point", "coordinates": rings[0][0]}
    if len({tuple(p) for p in rings[0]}) < 3 or ring_area(rings[0]) == 0:
        return None
    coords = [_close(rings[0], ccw=True)]
    coords += [_close(h, ccw=False) for h in rings[1:] if len({tuple(p) for p in h}) >= 3 and ring_area(h) != 0]
    return {"type": "Polygon", "coordinates": coords}


@dataclass
class GeoJSONSummary:
    """Features written per file (relative to the output folder) and shapes skipped, by reason."""

    features: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)


class _Collection:
    """A FeatureCollection written as features arrive: header, features joined by commas, then the closing part."""

    def __init__(self, path: Path, space: Space) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fh: IO[str] = open(path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        self.space = space
        self.count = 0
        self.bbox = [math.inf, math.inf, -math.inf, -math.inf]
        head = '{"type": "FeatureCollection", '
        if space == "pixel":
            head += '"coordinates": "pixel", '
        self.fh.write(head + '"features": [')

    def add(self, feature: dict[str, Any]) -> None:
        self.fh.write(("\n" if self.count == 0 else ",\n") + json.dumps(feature, ensure_ascii=False))
        self.count += 1
        geom = feature["geometry"]
        rings = [[geom["coordinates"]]] if geom["type"] == "Point" else [geom["coordinates"][0]]
        for ring in rings:
            for x, y in ring:
                self.bbox = [min(self.bbox[0], x), min(self.bbox[1], y), max(self.bbox[2], x), max(self.bbox[3], y)]

    def close(self) -> None:
        tail = "\n]"
        if self.space == "wgs84" and self.count:
            tail += ', "bbox": ' + json.dumps(self.bbox)
        self.fh.write(tail + "}\n")
        self.fh.close()


def _georef(ref: RecordRef) -> GeoRef | None:
    g = ref.record.meta.get("georef")
    if not g or not g.get("crs"):
        return None
    return GeoRef.from_dict(g)


def _features(
    ref: RecordRef, shapes: list[Shape], georef: GeoRef | None, summary: GeoJSONSummary
) -> list[dict[str, Any]]:
    """GeoJSON features of one record's shapes, every vertex mapped in one batch."""
    rec = ref.record
    rings = [[shape.ring, *shape.holes] for shape in shapes]
    flat = np.asarray([p for rs in rings for r in rs for p in r], dtype=np.float64).reshape(-1, 2)
    if georef is not None and len(flat):
        flat = to_wgs84(georef.pixel_to_world(flat), str(georef.crs))
    decimals = _DEGREE_DECIMALS if georef is not None else _PIXEL_DECIMALS
    out = []
    k = 0
    dataset, split, key = ref.sample_key
    for shape, rs in zip(shapes, rings, strict=True):
        mapped = []
        for r in rs:
            mapped.append(flat[k : k + len(r)])
            k += len(r)
        if georef is not None and float(np.ptp(mapped[0][:, 0])) > 180:
            summary.skipped["crosses the antimeridian"] += 1
            continue
        flat_in_pixels = shape.kind != "point" and abs(ring_area(shape.ring)) < 1e-9  # before rounding hides it
        geometry = None if flat_in_pixels else shape_geometry(shape, mapped, decimals)
        if geometry is None:
            summary.skipped["degenerate ring"] += 1
            continue
        image: str | list[str] | None
        image = list(rec.images) if shape.image is None else rec.images[shape.image] if rec.images else None
        props: dict[str, Any] = {"dataset": dataset, "split": split, "key": key, "image": image}
        if shape.source == "prediction":
            props.update(id=rec.id, task=rec.task)
        props.update(source=shape.source, kind=shape.kind, label=shape.label, **shape.props)
        out.append({"type": "Feature", "geometry": geometry, "properties": props})
    return out


def write_geojson(refs: Iterable[RecordRef], out: Path, *, predictions: bool = False) -> GeoJSONSummary:
    """Write FeatureCollections of annotations (default) or of the predictions attached to the records.

    Args:
        refs: the record stream (:func:`ts_instruct.recordset.iter_records`, with predictions attached when
            ``predictions`` is True).
        out: output folder; the files listed in the module docstring are replaced.
        predictions: export each record's parsed answer (records with a geometry target) instead of annotations.

    Returns:
        Features per file and skipped shapes.

    Raises:
        ConfigError: a georeferenced sample names a CRS PROJ does not know, or rasterio is missing.
    """
    summary = GeoJSONSummary()
    files: dict[tuple[str, str, Space], _Collection] = {}
    try:
        for first, ref in sample_runs(refs):
            if predictions:
                if ref.prediction is None:
                    continue
                shapes, problems = prediction_shapes(ref.record, ref.prediction)
                summary.skipped["answers with parse problems"] += bool(problems)
            elif first:
                shapes = annotation_shapes(ref.record)
            else:
                continue
            if not shapes:
                continue
            georef = _georef(ref)
            space: Space = "wgs84" if georef is not None else "pixel"
            dataset, split, _ = ref.sample_key
            name = f"{dataset}/{split}.geojson" if space == "wgs84" else f"{dataset}/{split}.pixel.geojson"
            if (dataset, split, space) not in files:
                files[(dataset, split, space)] = _Collection(out / name, space)
            for feature in _features(ref, shapes, georef, summary):
                files[(dataset, split, space)].add(feature)
                summary.features[name] += 1
    finally:
        for collection in files.values():
            collection.close()
    return summary
