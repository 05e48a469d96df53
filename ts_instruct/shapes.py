"""The geometry of a record, as flat shapes to draw or export: stored annotations, and model answers read back.

A :class:`Shape` is one ring (or point) in pixels of one emitted image of the record (origin at the top-left corner
of the top-left pixel, x right, y down; see :mod:`ts_instruct.sample`). What becomes a shape:

==================  ====================================================  ===========================
source              shape                                                 drawn on
==================  ====================================================  ===========================
``objects``         ``qbox`` (4 corners) when set, else ``hbox`` corners  the last image
``polygons``        exterior ring plus holes                              the last image
``refs``            ``qbox`` or ``hbox``, labelled with the expression    the last image
``changes``         polygon (or ``hbox`` corners), label ``from→to``      every image of the pair
model answer        what the record's render style parses, in the kind   the last image (every image
                    of ``meta.target`` (geometry targets only); hole      for change tasks)
                    rings (``"building hole"``) go inside their polygon
==================  ====================================================  ===========================

"The last image": a record's geometry refers to its last image (for a before/after pair, the later one), as in the
validator; change regions are drawn on both images of a pair since they share one pixel grid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ts_instruct.errors import TerraSenseError
from ts_instruct.record import Record

__all__ = ["Shape", "annotation_shapes", "image_sizes", "prediction_shapes"]

Point = tuple[float, float]


@dataclass(frozen=True)
class Shape:
    """One geometry of a record.

    Attributes:
        kind: ``"box"`` (an hbox as its 4 corners), ``"quad"``, ``"polygon"`` or ``"point"``.
        ring: ``[(x, y), ...]`` in pixels, not closed; one point for ``"point"``.
        label: class, expression or change label; ``None`` when the source has none.
        image: index of the record image it belongs to; ``None`` for every image (change regions of a pair).
        holes: inner rings of a polygon, each like ``ring``.
        source: ``"annotation"`` or ``"prediction"``.
        props: extra facts kept for export (``difficult``, ``truncated``, ``category``, ``score``).
    """

    kind: Literal["box", "quad", "polygon", "point"]
    ring: list[Point]
    label: str | None
    image: int | None
    holes: list[list[Point]] = field(default_factory=list)
    source: Literal["annotation", "prediction"] = "annotation"
    props: dict[str, Any] = field(default_factory=dict)


def _pairs(flat: list[float]) -> list[Point]:
    return [(float(flat[i]), float(flat[i + 1])) for i in range(0, len(flat) - 1, 2)]


def _hbox_ring(b: list[float]) -> list[Point]:
    x1, y1, x2, y2 = (float(v) for v in b[:4])
    return [(x1, y1), (x2, y1), (x2, y2), (x1, y2)]


def _ring(points: list[list[float]]) -> list[Point]:
    return [(float(p[0]), float(p[1])) for p in points]


def _box_shape(hbox: list[float], qbox: list[float] | None, label: str | None, image: int, **props: Any) -> Shape:
    if qbox:
        return Shape("quad", _pairs(qbox), label, image, props=props)
    return Shape("box", _hbox_ring(hbox), label, image, props=props)


def _change_label(c: dict[str, Any]) -> str | None:
    if c.get("from_label") or c.get("to_label"):
        return f"{c.get('from_label') or '?'}→{c.get('to_label') or '?'}"
    return c.get("category")


def annotation_shapes(rec: Record) -> list[Shape]:
    """The stored ground truth of a record (``annotations``) as shapes, in the order of the table above.

    Example:
        >>> from ts_instruct.record import Message
        >>> r = Record("d/train/k/t", "d", "t", [Message("user", "<image>?"), Message("assistant", "x")], ["a.png"],
        ...            annotations={"objects": [{"label": "plane", "hbox": [1, 2, 5, 6]}]})
        >>> annotation_shapes(r)[0].ring
        [(1.0, 2.0), (5.0, 2.0), (5.0, 6.0), (1.0, 6.0)]
    """
    ann = rec.annotations
    last = max(len(rec.images) - 1, 0)
    out: list[Shape] = []
    for o in ann.get("objects", []):
        flags = {k: True for k in ("difficult", "truncated") if o.get(k)}
        out.append(_box_shape(o["hbox"], o.get("qbox"), o.get("label"), last, **flags))
    for p in ann.get("polygons", []):
        out.append(Shape("polygon", _ring(p["exterior"]), p.get("label"), last, [_ring(h) for h in p.get("holes", [])]))
    for r in ann.get("refs", []):
        out.append(_box_shape(r["hbox"], r.get("qbox"), r.get("expression") or r.get("label"), last))
    for c in ann.get("changes", []):
        props = {"category": c["category"]} if c.get("category") else {}
        if c.get("polygon"):
            holes = [_ring(h) for h in c.get("holes", [])]
            out.append(Shape("polygon", _ring(c["polygon"]), _change_label(c), None, holes, props=props))
        else:
            out.append(Shape("box", _hbox_ring(c["hbox"]), _change_label(c), None, props=props))
    return out


def image_sizes(rec: Record) -> list[tuple[int, int]]:
    """``(width, height)`` of each record image, from ``meta.images``."""
    return [(int(m["width"]), int(m["height"])) for m in rec.meta.get("images", [])]


def prediction_shapes(rec: Record, text: str) -> tuple[list[Shape], list[str]]:
    """Read a model answer back into shapes with the record's render style, in the kind of its geometry target.

    Args:
        rec: the record the answer replies to (its ``meta.render``, ``meta.target`` and ``meta.images`` are used).
        text: the model's answer.

    Returns:
        ``(shapes, problems)``: the geometries read (possibly partial), and one line per problem the parser met.
        Records whose target is not geometry give no shapes and no problems.
    """
    target = rec.meta.get("target") or {}
    sizes = image_sizes(rec)
    if target.get("type") != "geometry" or not sizes:
        return [], []
    from ts_instruct.render import style_from_meta

    try:
        style = style_from_meta(rec.meta["render"])
    except (KeyError, TerraSenseError) as e:
        return [], [f"cannot rebuild the render style: {e}"]
    frame = style.frame(*sizes[-1])
    result = style.parse(text, frame, kind=target.get("kind"))
    image = None if rec.task.startswith("change") and len(sizes) > 1 else len(sizes) - 1
    kinds = {"hbox": "box", "qbox": "quad", "polygon": "polygon", "point": "point"}
    shapes = []
    for item in result.items:
        ring = _hbox_ring(list(item.coords)) if item.kind == "hbox" else list(item.points)
        props = {} if item.score is None else {"score": item.score}
        shapes.append(Shape(kinds[item.kind], ring, item.label, image, source="prediction", props=props))  # type: ignore[arg-type]
    return _attach_holes(shapes), list(result.errors)


def _attach_holes(shapes: list[Shape]) -> list[Shape]:
    """Put each ``"<class> hole"`` ring of a polygon answer inside the smallest ``<class>`` polygon holding it.

    Polygon answers write holes as rings of their own (:data:`ts_instruct.tasks.segmentation.HOLE_SUFFIX`); a hole
    ring that no polygon of its class contains stays a shape of its own, label unchanged.
    """
    from shapely import Point as SPoint
    from shapely import Polygon as SPolygon

    from ts_instruct.tasks.segmentation import HOLE_SUFFIX

    def is_hole(s: Shape) -> bool:
        return s.kind == "polygon" and bool(s.label) and str(s.label).endswith(HOLE_SUFFIX)

    if not any(is_hole(s) for s in shapes):
        return shapes
    outers = [s for s in shapes if not is_hole(s)]
    areas = [SPolygon(s.ring).area if s.kind == "polygon" and len(s.ring) >= 3 else 0.0 for s in outers]
    holes_of: dict[int, list[list[Point]]] = {}
    loose: list[Shape] = []
    for hole in (s for s in shapes if is_hole(s)):
        base = str(hole.label)[: -len(HOLE_SUFFIX)]
        inside = SPolygon(hole.ring).representative_point() if len(hole.ring) >= 3 else SPoint(hole.ring[0])
        candidates = [
            k
            for k, s in enumerate(outers)
            if s.kind == "polygon" and s.label == base and areas[k] > 0 and SPolygon(s.ring).covers(inside)
        ]
        if candidates:
            holes_of.setdefault(min(candidates, key=lambda k: areas[k]), []).append(hole.ring)
        else:
            loose.append(hole)
    out = [
        Shape(s.kind, s.ring, s.label, s.image, [*s.holes, *holes_of.get(k, [])], s.source, s.props)
        for k, s in enumerate(outers)
    ]
    return out + loose
