"""The canonical Sample: what every converter yields, whatever the dataset.

A :class:`Sample` holds one or two images (a before/after pair keeps the earlier image first), their ground truth in
pixel coordinates of the *emitted* image, and where it all came from. Converters know nothing about prompts or
render styles; :mod:`ts_instruct.tasks` turns a Sample into conversations.

Coordinate system (for every field below): pixels of the emitted image, origin at the top-left corner of the
top-left pixel, x to the right, y down, floats. A pixel ``(i, j)`` covers ``[j, j+1) x [i, i+1)``; an image of
width ``W`` spans ``0 <= x <= W``. Oriented boxes are 4 corners ``[x1, y1, ..., x4, y4]`` in the canonical order of
:mod:`ts_instruct.geometry` (clockwise on screen, first corner nearest the image's top-left).

Mapping back to the source scene: an emitted pixel ``(x, y)`` of an image with ``window=(x0, y0, x1, y1)`` and
``scale=s`` is source pixel ``(x0 + x / s, y0 + y / s)``.

Every dataclass round-trips through JSON: ``Sample.from_dict(json.loads(json.dumps(s.to_dict()))) == s``
(decoded pixel arrays are never serialised).
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

import numpy as np

#: Families of converters; each has a base class in :mod:`data_converters.base`.
Family = Literal["classification", "detection", "segmentation", "caption", "vqa", "grounding", "change", "video"]

_ROUND = 3  # decimals kept for float coordinates in JSON: sub-milli-pixel noise is meaningless and costs bytes


def _ring(points: list[list[float]]) -> list[list[float]]:
    """A copy of a ring ``[[x, y], ...]``."""
    return [[p[0], p[1]] for p in points]


def _r(values: list[float] | None) -> list[float] | None:
    return None if values is None else [round(float(v), _ROUND) for v in values]


@dataclass(frozen=True)
class Window:
    """A crop of the source image in source pixels, half-open: columns ``[x0, x1)`` and rows ``[y0, y1)``."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        """Width of the window in source pixels."""
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        """Height of the window in source pixels."""
        return self.y1 - self.y0

    def to_list(self) -> list[int]:
        """Return ``[x0, y0, x1, y1]``."""
        return [self.x0, self.y0, self.x1, self.y1]


@dataclass
class ImageRef:
    """One emitted image and its provenance.

    Attributes:
        source: the source file, POSIX path relative to the raw dataset root (``"train/images/P0001.png"``).
        width: width of the emitted image in pixels.
        height: height of the emitted image in pixels.
        window: the part of the source cut out for this image, or ``None`` for the whole image.
        scale: emitted pixels per source pixel (``1.0`` unless the scene was rescaled before tiling).
        source_size: ``(width, height)`` of the whole source image.
        path: the emitted file, relative to the dataset output directory; filled by the writer.
        pixels: decoded pixels (H, W, 3) uint8 when the converter already holds them (tiles); never serialised.
        fingerprint: content and perceptual hashes of the emitted image, filled by the writer when enabled.
        resized_from: ``(width, height)`` before the writer resized the image to the model-input size
            (``--resize-images``); map a point back with ``x * resized_from[0] / width`` first, then the window.
    """

    source: str
    width: int
    height: int
    window: Window | None = None
    scale: float = 1.0
    source_size: tuple[int, int] | None = None
    path: str | None = None
    pixels: np.ndarray | None = field(default=None, repr=False, compare=False)
    fingerprint: dict[str, str] | None = None
    resized_from: tuple[int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Serialise to plain JSON types (``pixels`` is dropped)."""
        return {
            "source": self.source,
            "path": self.path,
            "width": self.width,
            "height": self.height,
            "window": None if self.window is None else self.window.to_list(),
            "scale": self.scale,
            "source_size": None if self.source_size is None else list(self.source_size),
            "resized_from": None if self.resized_from is None else list(self.resized_from),
            "fingerprint": self.fingerprint,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ImageRef:
        """Inverse of :meth:`to_dict`."""
        return cls(
            source=d["source"],
            path=d.get("path"),
            width=int(d["width"]),
            height=int(d["height"]),
            window=None if d.get("window") is None else Window(*d["window"]),
            scale=float(d.get("scale", 1.0)),
            source_size=None if d.get("source_size") is None else (int(d["source_size"][0]), int(d["source_size"][1])),
            fingerprint=d.get("fingerprint"),
            resized_from=None
            if d.get("resized_from") is None
            else (int(d["resized_from"][0]), int(d["resized_from"][1])),
        )


@dataclass
class ObjectAnn:
    """One object: class, horizontal box ``[x1, y1, x2, y2]`` (x1 < x2, y1 < y2) and/or oriented box (8 floats).

    ``qbox`` is set when the source has oriented boxes (DOTA, DIOR-R); ``hbox`` is always set (derived from
    ``qbox`` when needed). ``difficult`` is the source's flag; ``truncated`` marks objects clipped by tiling.
    """

    label: str
    hbox: list[float]
    qbox: list[float] | None = None
    difficult: bool = False
    truncated: bool = False

    def __post_init__(self) -> None:
        self.hbox = _r(self.hbox)  # type: ignore[assignment]
        self.qbox = _r(self.qbox)

    def to_dict(self) -> dict[str, Any]:
        """Serialise to plain JSON types (fields in declaration order, lists copied)."""
        return {
            "label": self.label,
            "hbox": list(self.hbox),
            "qbox": None if self.qbox is None else list(self.qbox),
            "difficult": self.difficult,
            "truncated": self.truncated,
        }


@dataclass
class PolygonAnn:
    """A polygon of one class: ``exterior`` ring as ``[[x, y], ...]`` (not closed) plus optional holes."""

    label: str
    exterior: list[list[float]]
    holes: list[list[list[float]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.exterior = [[round(float(x), _ROUND), round(float(y), _ROUND)] for x, y in self.exterior]
        self.holes = [[[round(float(x), _ROUND), round(float(y), _ROUND)] for x, y in h] for h in self.holes]

    def to_dict(self) -> dict[str, Any]:
        """Serialise to plain JSON types (fields in declaration order, lists copied)."""
        return {"label": self.label, "exterior": _ring(self.exterior), "holes": [_ring(h) for h in self.holes]}


@dataclass
class MaskRef:
    """A label mask kept beside the record for pixel-level training and evaluation.

    Attributes:
        kind: ``"semantic"`` (class ids), ``"binary"`` (0/1), ``"change"`` (0 unchanged / 1 changed) or
            ``"semantic_change"`` (class ids inside changed pixels, 0 elsewhere: of image ``image_index``, or change
            categories when ``image_index`` is -1).
        classes: id → class name for the values in the mask (ids absent here are ignored/no-data).
        path: emitted lossless PNG, relative to the dataset output directory; filled by the writer.
        pixels: (H, W) uint8 array, never serialised; the writer encodes it.
        image_index: which image of the sample the mask belongs to (``-1``: the pair).
        ignore_index: value that means no-data, if any.
    """

    kind: Literal["semantic", "binary", "change", "semantic_change"]
    classes: dict[int, str]
    path: str | None = None
    pixels: np.ndarray | None = field(default=None, repr=False, compare=False)
    image_index: int = 0
    ignore_index: int | None = None
    name: str = "mask"

    def to_dict(self) -> dict[str, Any]:
        """Serialise to plain JSON types (``pixels`` dropped, class ids as strings keys)."""
        return {
            "kind": self.kind,
            "name": self.name,
            "path": self.path,
            "classes": {str(k): v for k, v in sorted(self.classes.items())},
            "image_index": self.image_index,
            "ignore_index": self.ignore_index,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MaskRef:
        """Inverse of :meth:`to_dict`."""
        return cls(
            kind=d["kind"],
            name=d.get("name", "mask"),
            path=d.get("path"),
            classes={int(k): v for k, v in d["classes"].items()},
            image_index=int(d.get("image_index", 0)),
            ignore_index=d.get("ignore_index"),
        )


@dataclass
class QAPair:
    """A question with its answer; ``qtype`` is the source's question type (``"count"``, ``"presence"``...).

    ``id`` is the source's question id when it has one (RSVQA); tasks use it to keep record ids stable.
    """

    question: str
    answer: str
    qtype: str | None = None
    id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Serialise to plain JSON types (fields in declaration order)."""
        return {"question": self.question, "answer": self.answer, "qtype": self.qtype, "id": self.id}


@dataclass
class RefExpr:
    """A referring expression and the box of the object it refers to (``hbox`` and optionally ``qbox``).

    ``id`` is the source's identifier of the expression when it has one (DIOR-RSVG: the global object index).
    """

    expression: str
    hbox: list[float]
    label: str | None = None
    qbox: list[float] | None = None
    id: str | None = None

    def __post_init__(self) -> None:
        self.hbox = _r(self.hbox)  # type: ignore[assignment]
        self.qbox = _r(self.qbox)

    def to_dict(self) -> dict[str, Any]:
        """Serialise to plain JSON types (fields in declaration order, lists copied)."""
        return {
            "expression": self.expression,
            "hbox": list(self.hbox),
            "label": self.label,
            "qbox": None if self.qbox is None else list(self.qbox),
            "id": self.id,
        }


@dataclass
class ChangeRegion:
    """One connected changed region between the two images of a pair.

    ``polygon`` is the exterior ring ``[[x, y], ...]``; ``hbox`` its bounding box. ``from_label``/``to_label`` are set
    for semantic change sets (class before → class after); ``category`` for multi-class change sets
    (``"building"``, ``"road"``).
    """

    hbox: list[float]
    polygon: list[list[float]] = field(default_factory=list)
    holes: list[list[list[float]]] = field(default_factory=list)
    from_label: str | None = None
    to_label: str | None = None
    category: str | None = None
    area: float = 0.0

    def __post_init__(self) -> None:
        self.hbox = _r(self.hbox)  # type: ignore[assignment]
        self.polygon = [[round(float(x), _ROUND), round(float(y), _ROUND)] for x, y in self.polygon]
        self.holes = [[[round(float(x), _ROUND), round(float(y), _ROUND)] for x, y in h] for h in self.holes]
        self.area = round(float(self.area), _ROUND)

    def to_dict(self) -> dict[str, Any]:
        """Serialise to plain JSON types (fields in declaration order, lists copied)."""
        return {
            "hbox": list(self.hbox),
            "polygon": _ring(self.polygon),
            "holes": [_ring(h) for h in self.holes],
            "from_label": self.from_label,
            "to_label": self.to_label,
            "category": self.category,
            "area": self.area,
        }


@dataclass
class Annotations:
    """All ground truth of a Sample. Empty lists mean "none in the source", not "unknown".

    ``stats`` holds derived facts that tasks need (e.g. ``{"class_fractions": {"building": 0.12}}``,
    ``{"changed_fraction": 0.03}``); ``extra`` holds dataset-specific fields kept for users (keywords, event class).
    ``negative`` marks a sample known to contain no object of interest (NWPU VHR-10 negatives, unchanged pairs).
    """

    objects: list[ObjectAnn] = field(default_factory=list)
    polygons: list[PolygonAnn] = field(default_factory=list)
    masks: list[MaskRef] = field(default_factory=list)
    scene: str | None = None
    captions: list[str] = field(default_factory=list)
    qa: list[QAPair] = field(default_factory=list)
    refs: list[RefExpr] = field(default_factory=list)
    changes: list[ChangeRegion] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    negative: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Serialise to plain JSON types; empty fields are omitted to keep records small."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):  # objects, polygons, masks, qa, refs, changes: each serialises itself
                value = [v.to_dict() if hasattr(v, "to_dict") else v for v in value]
            elif isinstance(value, dict):
                value = copy.deepcopy(value)  # stats and extra: nested source facts, not shared with the record
            if value or (f.name == "negative" and value):
                out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Annotations:
        """Inverse of :meth:`to_dict`."""
        return cls(
            objects=[ObjectAnn(**o) for o in d.get("objects", [])],
            polygons=[PolygonAnn(**p) for p in d.get("polygons", [])],
            masks=[MaskRef.from_dict(m) for m in d.get("masks", [])],
            scene=d.get("scene"),
            captions=list(d.get("captions", [])),
            qa=[QAPair(**q) for q in d.get("qa", [])],
            refs=[RefExpr(**r) for r in d.get("refs", [])],
            changes=[ChangeRegion(**c) for c in d.get("changes", [])],
            classes=list(d.get("classes", [])),
            stats=dict(d.get("stats", {})),
            extra=dict(d.get("extra", {})),
            negative=bool(d.get("negative", False)),
        )


@dataclass
class SampleMeta:
    """Where a sample comes from.

    ``georef`` holds ``{"crs": "EPSG:…", "transform": [a, b, c, d, e, f]}`` (GDAL
    order, for the emitted image) when the source is georeferenced; ``extra`` holds any other source facts.
    """

    dataset: str
    split: str
    version: str | None = None
    gsd: float | None = None
    license: str | None = None
    georef: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Serialise to plain JSON types."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SampleMeta:
        """Inverse of :meth:`to_dict`."""
        return cls(**{f.name: d[f.name] for f in fields(cls) if f.name in d})


@dataclass
class Sample:
    """One unit of ground truth: one image, or a pair (earlier first), with its annotations and provenance.

    ``key`` is stable and unique within (dataset, split): derived from source file names (and the tile window),
    never from enumeration order, so records keep their ids when files are added or workers change.

    ``videos`` holds video files (``<video>`` records, CapERA): paths relative to the raw root as the converter
    yields them, replaced by the emitted paths (``videos/<split>/<key>.<ext>``) when the writer copies them. A video
    sample may have no image at all.
    """

    key: str
    images: list[ImageRef]
    annotations: Annotations
    meta: SampleMeta
    videos: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Serialise to plain JSON types."""
        return {
            "key": self.key,
            "images": [i.to_dict() for i in self.images],
            "videos": list(self.videos),
            "annotations": self.annotations.to_dict(),
            "meta": self.meta.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Sample:
        """Inverse of :meth:`to_dict`."""
        return cls(
            key=d["key"],
            images=[ImageRef.from_dict(i) for i in d["images"]],
            videos=list(d.get("videos", [])),
            annotations=Annotations.from_dict(d["annotations"]),
            meta=SampleMeta.from_dict(d["meta"]),
        )


@dataclass
class Skip:
    """A source item that could not be converted. The writer reports it; ``--strict`` turns it into an error.

    Attributes:
        file: the offending file, relative to the raw root when possible.
        reason: one line saying what was wrong and, where useful, how to fix it.
        line: 1-based line number in ``file`` when the problem is on one line.
        key: the sample key, when known.
        kept: True when the sample itself was kept and only a part (one object line) was dropped.
    """

    file: str
    reason: str
    line: int | None = None
    key: str | None = None
    kept: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Serialise to plain JSON types."""
        return asdict(self)
