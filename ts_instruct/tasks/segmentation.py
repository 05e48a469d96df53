"""Segmentation tasks: polygons of one class, instance count, presence with negatives, land-cover classes and shares.

Every task reads what :class:`data_converters.families.segmentation.SegmentationConverter` puts in a Sample:
``annotations.polygons`` (pixel-corner polygons of each foreground class, holes kept), ``annotations.classes`` (the
foreground classes of the dataset), ``annotations.masks[0]`` (``kind`` binary or semantic) and
``annotations.stats`` (``class_fractions`` over valid pixels, ``nodata_fraction``).

Polygons in text. A render style writes a polygon as one ring (its exterior). Holes are written as rings of their
own, labelled ``"<class> hole"`` (``"building hole"``), and listed after the polygons of the class (the documented
order sorts by label, then top edge, then left edge). Reading an answer back (:func:`answer_to_mask`): a pixel belongs
to the class when more class rings than hole rings cover its centre, which restores holes and islands inside holes
exactly. A polygon is written with at most the vertex budget ``ctx.options.max_polygon_vertices`` for the whole
answer (:func:`ts_instruct.masks.simplify_to_budget`: Douglas-Peucker first, then the smallest holes go, then the
smallest polygons); at most ``ctx.options.max_objects`` rings are listed, the polygons nearest the top first. When
polygons or holes are left out the answer ends with the cut sentence of
:func:`ts_instruct.tasks.answers.geometry_answer` and the target says ``truncated`` with the ``total`` of rings.

Prompts come from the object pools (``seg_polygons``, ``count``, ``exists``) for binary building masks and from the
region pools (``seg_polygons_region``, ``seg_exists_region``: "the forest areas", not "every forest") for land-cover
class maps.

Which tasks run where:

* ``seg_polygons`` (suffix ``/<class>``): binary masks: the one foreground class, also when absent (the answer then
  says there is none); class maps: one foreground class present in the image, chosen by the sample's RNG.
* ``seg_count`` (suffix ``/<class>``): binary masks only; the number of polygons (connected components of at least
  the converter's ``min_area``, corner-touching pixels apart), which is what an instance count means for building
  footprints and not for land-cover regions.
* ``seg_exists`` (suffix ``/<class>``): "yes" for a class with polygons; "no" (when ``ctx.options.negatives``) for a
  class with no pixel at all, asked only when the no-data share is at most :data:`NEGATIVE_MAX_NODATA` (an absent
  class could hide under no-data). A class with a few pixels but no polygon is never asked about.
* ``landcover_present`` / ``landcover_fraction``: the classes (background included) whose share of the valid pixels
  is at least :data:`LANDCOVER_MIN_FRACTION`, in class-id order; shares as whole percents, at least 1.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import shapely
from numpy.typing import NDArray

from ts_instruct.masks import Polygon, polygons_to_mask, simplify_to_budget
from ts_instruct.render import RenderItem
from ts_instruct.sample import PolygonAnn, Sample
from ts_instruct.tasks.answers import geometry_answer
from ts_instruct.tasks.base import TaskContext, TaskOutput
from ts_instruct.templates import choose, display_name, plural

__all__ = [
    "HOLE_SUFFIX",
    "LANDCOVER_MIN_FRACTION",
    "NEGATIVE_MAX_NODATA",
    "answer_to_mask",
    "landcover_fraction",
    "landcover_present",
    "polygon_from_ann",
    "polygon_items",
    "seg_count",
    "seg_exists",
    "seg_polygons",
]

#: Label suffix of a hole ring in polygon answers.
HOLE_SUFFIX = " hole"
#: Smallest share of the valid pixels for a class to be listed as present (0.5%: about 1,300 pixels of a 512x512 image).
LANDCOVER_MIN_FRACTION = 0.005
#: Largest no-data share at which a "no" question may still be asked.
NEGATIVE_MAX_NODATA = 0.001


def _key(sample: Sample) -> str:
    return f"{sample.meta.split}/{sample.key}"


def _is_binary(sample: Sample) -> bool:
    return bool(sample.annotations.masks) and sample.annotations.masks[0].kind == "binary"


def _pool(pool: str, sample: Sample) -> str:
    """Object phrasing for binary (building) masks, region phrasing (``<pool>_region``) for land-cover class maps."""
    if _is_binary(sample):
        return pool
    return "seg_polygons_region" if pool == "seg_polygons" else "seg_exists_region"


def _present(sample: Sample) -> list[str]:
    """Foreground classes with at least one polygon, in the order of ``annotations.classes``."""
    labels = {p.label for p in sample.annotations.polygons}
    return [c for c in sample.annotations.classes if c in labels]


def polygon_from_ann(p: PolygonAnn) -> Polygon:
    """The :class:`~ts_instruct.masks.Polygon` of a stored :class:`~ts_instruct.sample.PolygonAnn`."""
    return Polygon(np.asarray(p.exterior, dtype=np.float64), [np.asarray(h, dtype=np.float64) for h in p.holes])


def _simplified(p: Polygon, tolerance: float) -> Polygon:
    """Douglas-Peucker at ``tolerance`` pixels keeping topology; the input when the result is not one valid polygon."""
    out = shapely.simplify(p.to_shapely(), tolerance, preserve_topology=True)
    if isinstance(out, shapely.Polygon) and out.is_valid and out.area > 0:
        return Polygon.from_shapely(out)
    return p


def polygon_items(polygons: Sequence[Polygon], label: str) -> list[RenderItem]:
    """Render items of polygons of one class: each exterior labelled ``label``, each hole ``label + HOLE_SUFFIX``.

    Args:
        polygons: polygons in pixels of the emitted image.
        label: the class as written in the answer (display form, e.g. ``"building"``).

    Returns:
        Items of kind ``"polygon"``, exteriors first then holes, each polygon in input order.
    """
    exteriors = [RenderItem("polygon", tuple(p.exterior.ravel()), label) for p in polygons]
    holes = [RenderItem("polygon", tuple(h.ravel()), label + HOLE_SUFFIX) for p in polygons for h in p.holes]
    return exteriors + holes


def answer_to_mask(
    items: Iterable[RenderItem], height: int, width: int, *, label: str | None = None
) -> NDArray[np.uint8]:
    """Rasterise polygon items read from an answer into an ``(H, W)`` 0/1 mask (the inverse of the text form).

    A pixel is set when the rings labelled as the class that cover its centre outnumber the hole rings (labels
    ending in :data:`HOLE_SUFFIX`) covering it: holes clear, islands inside holes fill again, overlapping rings of
    the class unite.

    Args:
        items: parsed items (kinds other than ``"polygon"`` and rings of fewer than 3 points are ignored).
        height: mask height in pixels.
        width: mask width in pixels.
        label: keep only rings of this class (and its holes); ``None`` keeps every ring.

    Example:
        >>> outer = RenderItem("polygon", (0, 0, 4, 0, 4, 4, 0, 4), "building")
        >>> hole = RenderItem("polygon", (1, 1, 3, 1, 3, 3, 1, 3), "building hole")
        >>> answer_to_mask([outer, hole], 4, 4).tolist()
        [[1, 1, 1, 1], [1, 0, 0, 1], [1, 0, 0, 1], [1, 1, 1, 1]]
    """
    rings: list[NDArray[np.float64]] = []
    holes: list[NDArray[np.float64]] = []
    for it in items:
        if it.kind != "polygon" or len(it.coords) < 6:
            continue
        name = it.label or ""
        is_hole = name.endswith(HOLE_SUFFIX)
        base = name[: -len(HOLE_SUFFIX)] if is_hole else name
        if label is not None and base != label:
            continue
        (holes if is_hole else rings).append(np.asarray(it.coords, dtype=np.float64).reshape(-1, 2))
    if not rings:
        return np.zeros((height, width), np.uint8)
    # polygons_to_mask sums the winding of every ring over all polygons (exteriors +1, holes -1), so the holes may
    # hang on any one polygon: the count "rings minus holes covering a centre" is what decides the pixel.
    polys = [Polygon(r) for r in rings[1:]] + [Polygon(rings[0], holes)]
    return polygons_to_mask(polys, height, width)


def seg_polygons(sample: Sample, ctx: TaskContext) -> Iterator[TaskOutput]:
    """Polygons of one class (see the module docstring for the class chosen, holes and the vertex budget)."""
    classes = sample.annotations.classes
    if not classes or not sample.images:
        return
    if _is_binary(sample) and len(classes) == 1:
        cls = classes[0]
    else:
        present = _present(sample)
        if not present:
            return
        cls = ctx.rng(sample, "seg_polygons").choice(present)
    name = display_name(cls)
    polys = sorted(
        (polygon_from_ann(p) for p in sample.annotations.polygons if p.label == cls),
        key=lambda p: (float(p.exterior[:, 1].min()), float(p.exterior[:, 0].min())),
    )
    total = sum(1 + len(p.holes) for p in polys)
    kept: list[Polygon] = []
    rings = 0
    for p in polys:  # the ring cap, nearest the top first, before spending the vertex budget
        if rings + 1 + len(p.holes) > ctx.options.max_objects:
            break
        kept.append(p)
        rings += 1 + len(p.holes)
    image = sample.images[0]
    step = max(ctx.style.frame(image.width, image.height).pixel_step)
    kept = simplify_to_budget([_simplified(p, step) for p in kept], ctx.options.max_polygon_vertices)
    text, target = geometry_answer(
        ctx,
        image,
        polygon_items(kept, name),
        "polygon",
        empty_text=f"There is no {name} in this image.",
        total=total,
    )
    target["class"] = cls  # the asked class, which evaluation scores this answer against
    yield TaskOutput(
        task="seg_polygons",
        prompt=choose(_pool("seg_polygons", sample), seed=ctx.seed, key=_key(sample), cls=name),
        answer=text,
        target=target,
        suffix=f"/{cls}",
    )


def seg_count(sample: Sample, ctx: TaskContext) -> Iterator[TaskOutput]:
    """Number of polygons of the foreground class of a binary mask (building count)."""
    if not _is_binary(sample) or len(sample.annotations.classes) != 1:
        return
    cls = sample.annotations.classes[0]
    n = sum(1 for p in sample.annotations.polygons if p.label == cls)
    yield TaskOutput(
        task="seg_count",
        prompt=choose("count", seed=ctx.seed, key=_key(sample), cls_plural=plural(display_name(cls))),
        answer=str(n),
        target={"type": "number", "value": n, "class": cls},
        suffix=f"/{cls}",
    )


def seg_exists(sample: Sample, ctx: TaskContext) -> Iterator[TaskOutput]:
    """Yes/no presence: one class with polygons (yes) and, with negatives, one absent class (no)."""
    classes = sample.annotations.classes
    if not classes:
        return
    fractions = sample.annotations.stats.get("class_fractions", {})
    nodata = float(sample.annotations.stats.get("nodata_fraction", 0.0))
    present = _present(sample)
    absent = [c for c in classes if fractions.get(c, None) == 0]
    rng = ctx.rng(sample, "seg_exists")
    asked: list[tuple[str, str]] = []
    if present:
        asked.append((rng.choice(present), "yes"))
    if ctx.options.negatives and absent and nodata <= NEGATIVE_MAX_NODATA:
        asked.append((rng.choice(absent), "no"))
    for cls, value in asked:
        yield TaskOutput(
            task="seg_exists",
            prompt=choose(_pool("exists", sample), seed=ctx.seed, key=f"{_key(sample)}/{cls}", cls=display_name(cls)),
            answer=value.capitalize(),
            target={"type": "yes_no", "value": value, "class": cls},
            suffix=f"/{cls}",
        )


def _listed(sample: Sample) -> list[tuple[str, float]]:
    fractions: dict[str, float] = sample.annotations.stats.get("class_fractions", {})
    return [(c, float(f)) for c, f in fractions.items() if float(f) >= LANDCOVER_MIN_FRACTION]


def _percent(share: float) -> int:
    return max(1, math.floor(100 * share + 0.5))


def landcover_present(sample: Sample, ctx: TaskContext) -> Iterator[TaskOutput]:
    """The land-cover classes present (share of valid pixels >= :data:`LANDCOVER_MIN_FRACTION`), comma-separated."""
    listed = _listed(sample)
    if not listed:
        return
    labels = [display_name(c) for c, _ in listed]
    answer = ", ".join(labels)
    yield TaskOutput(
        task="landcover_present",
        prompt=choose("landcover_present", seed=ctx.seed, key=_key(sample)),
        answer=answer,
        target={"type": "text", "value": answer, "labels": labels},
    )


def landcover_fraction(sample: Sample, ctx: TaskContext) -> Iterator[TaskOutput]:
    """The share of each present class in whole percent of the valid pixels: ``"forest: 41%, water: 12%"``."""
    listed = _listed(sample)
    if not listed:
        return
    answer = ", ".join(f"{display_name(c)}: {_percent(f)}%" for c, f in listed)
    yield TaskOutput(
        task="landcover_fraction",
        prompt=choose("landcover_fraction", seed=ctx.seed, key=_key(sample)),
        answer=answer,
        target={"type": "text", "value": answer, "fractions": {display_name(c): round(f, 4) for c, f in listed}},
    )
