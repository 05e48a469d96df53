"""Change tasks on before/after pairs: has anything changed, where, what, how much, how many, and captions.

Every task needs a sample with exactly two images, the earlier first (``to_record`` puts both ``<image>``
placeholders first, in that order), and every prompt begins with a sentence from the ``change_preamble`` pool saying
which image is which (``change_preamble_dated`` names the years when ``annotations.extra["years"]`` has them).

Ground truth comes from the change family (:mod:`data_converters.families.change`): ``annotations.changes`` holds
the change regions (connected pieces of the change mask with one label each), ``annotations.stats`` holds
``changed_fraction``, ``change_labels`` and, where objects can be counted, ``change_counts``.

==================  ==========================================================================================
task                answer
==================  ==========================================================================================
change_exists       ``Yes`` / ``No`` (``No`` for pairs without any change region); target ``yes_no``
change_regions      the regions as unlabelled geometry (polygons or boxes, chosen per sample by the seeded RNG)
change_semantic     the regions labelled ``from class → to class`` (semantic sets) or with their change category
                    (multi-class sets); only for those sets
change_fraction     the changed share of the labelled area in percent (``12.3%``; two decimals below 1%)
change_count        the number of changed objects of a countable category (LEVIR-CD / LIM-CD buildings)
change_caption      one of the pair's change captions (chosen by the seeded RNG); all are in ``annotations``
==================  ==========================================================================================

Geometry answers go through :func:`ts_instruct.tasks.answers.geometry_answer` (order, object cap, character
budget). Polygon answers write exterior rings only (holes are in ``annotations.changes``) and are simplified to fit
``max_polygon_vertices`` for the whole answer; when even that cannot fit every region, the list keeps the first
regions in answer order and says it is cut, like any capped answer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ts_instruct.masks import Polygon, simplify_to_budget
from ts_instruct.render import GeomKind, RenderItem
from ts_instruct.sample import ChangeRegion, Sample
from ts_instruct.tasks.answers import GEOM_WORDS, geometry_answer, order_items
from ts_instruct.tasks.base import TaskContext, TaskOutput, escape_placeholders
from ts_instruct.templates import choose, display_name, plural

#: Geometry kinds a change-region answer may use; one is drawn per sample and task.
REGION_KINDS: tuple[GeomKind, ...] = ("polygon", "hbox")
ARROW = " → "


def _is_pair(sample: Sample) -> bool:
    return len(sample.images) == 2


def _key(sample: Sample) -> str:
    return f"{sample.meta.split}/{sample.key}"


def preamble(sample: Sample, ctx: TaskContext) -> str:
    """The sentence that says which image is the earlier one (with the years when they are known)."""
    years = sample.annotations.extra.get("years")
    if isinstance(years, list) and len(years) == 2:
        return choose("change_preamble_dated", seed=ctx.seed, key=_key(sample), year1=years[0], year2=years[1])
    return choose("change_preamble", seed=ctx.seed, key=_key(sample))


def _prompt(sample: Sample, ctx: TaskContext, pool: str, **fields: object) -> str:
    return preamble(sample, ctx) + " " + choose(pool, seed=ctx.seed, key=_key(sample), **fields)


def region_kind(sample: Sample, ctx: TaskContext, task: str) -> GeomKind:
    """The geometry kind of a region answer: polygon or box, drawn by the sample's RNG for ``task``."""
    return ctx.rng(sample, f"{task}/geometry").choice(REGION_KINDS)


def region_label(region: ChangeRegion) -> str | None:
    """``"low vegetation → building"`` for semantic regions, ``"road"`` for categories, ``None`` otherwise."""
    if region.from_label is not None or region.to_label is not None:
        return display_name(region.from_label or "unknown") + ARROW + display_name(region.to_label or "unknown")
    return display_name(region.category) if region.category else None


def _items(regions: Sequence[ChangeRegion], kind: GeomKind, labelled: bool) -> list[RenderItem]:
    out = []
    for r in regions:
        label = region_label(r) if labelled else None
        if kind == "hbox":
            out.append(RenderItem("hbox", tuple(r.hbox), label=label))
        else:
            out.append(RenderItem("polygon", tuple(c for pt in r.polygon for c in pt), label=label))
    return out


def _fit_polygons(items: list[RenderItem], budget: int) -> list[RenderItem]:
    """Simplify polygon items to ``budget`` vertices in total, keeping a prefix of them when all cannot fit."""
    kept = items
    while kept:
        polys = [Polygon(np.asarray(it.coords, float).reshape(-1, 2)) for it in kept]
        fitted = simplify_to_budget(polys, budget)
        if len(fitted) == len(kept):
            return [
                RenderItem("polygon", tuple(float(v) for v in p.exterior.reshape(-1)), label=it.label)
                for p, it in zip(fitted, kept, strict=True)
            ]
        kept = kept[: len(fitted)]
    return []


def region_answer(sample: Sample, ctx: TaskContext, kind: GeomKind, *, labelled: bool) -> tuple[str, dict[str, Any]]:
    """Answer text and target listing the sample's change regions as ``kind`` geometry in the later image's frame.

    Returns:
        ``(text, target)`` as :func:`ts_instruct.tasks.answers.geometry_answer` makes them; ``target["total"]``
        counts every region, also those left out to fit the caps.
    """
    items = order_items(_items(sample.annotations.changes, kind, labelled))
    total = len(items)
    kept = items[: ctx.options.max_objects]
    if kind == "polygon":
        kept = _fit_polygons(kept, ctx.options.max_polygon_vertices)
    text, target = geometry_answer(ctx, sample.images[-1], kept, kind)
    shown = len(target["items"])
    if shown < total:
        if target["truncated"]:  # geometry_answer already said it cut; say it against the full count instead
            text = text.rsplit("\n", 1)[0]
        text += f"\nThe list is cut after {shown} of {total} objects."
        target = {**target, "truncated": True, "total": total}
    return text, target


def change_exists(sample: Sample, ctx: TaskContext) -> Iterator[TaskOutput]:
    """Yes/no: is there any change region between the two images (unchanged pairs answer no)."""
    if not _is_pair(sample):
        return
    value = "yes" if sample.annotations.changes else "no"
    yield TaskOutput(
        task="change_exists",
        prompt=_prompt(sample, ctx, "change_exists"),
        answer=value.capitalize(),
        target={"type": "yes_no", "value": value},
    )


def change_regions(sample: Sample, ctx: TaskContext) -> Iterator[TaskOutput]:
    """Where did it change: every change region as an unlabelled polygon or box."""
    if not _is_pair(sample):
        return
    kind = region_kind(sample, ctx, "change_regions")
    text, target = region_answer(sample, ctx, kind, labelled=False)
    yield TaskOutput(
        task="change_regions",
        prompt=_prompt(sample, ctx, "change_regions", geom=GEOM_WORDS[kind]),
        answer=text,
        target=target,
    )


def change_semantic(sample: Sample, ctx: TaskContext) -> Iterator[TaskOutput]:
    """What changed: every region with ``from → to`` classes, or with its change category (multi-class sets)."""
    mode = sample.annotations.stats.get("change_labels")
    if not _is_pair(sample) or mode not in ("from_to", "category"):
        return
    kind = region_kind(sample, ctx, "change_semantic")
    text, target = region_answer(sample, ctx, kind, labelled=True)
    if mode == "from_to":
        prompt = _prompt(sample, ctx, "change_semantic", geom=GEOM_WORDS[kind])
    else:
        names = ", ".join(display_name(c) for c in sample.annotations.classes)
        prompt = _prompt(sample, ctx, "change_semantic_category", geom=GEOM_WORDS[kind], classes=names)
    yield TaskOutput(task="change_semantic", prompt=prompt, answer=text, target=target)


def percent(fraction: float) -> float:
    """A fraction as the percentage written in answers: one decimal from 1%, two below.

    Example:
        >>> percent(0.12345), percent(0.0042), percent(0.0)
        (12.3, 0.42, 0.0)
    """
    pct = 100.0 * float(fraction)
    return round(pct, 1) if pct >= 1.0 else round(pct, 2)


def change_fraction(sample: Sample, ctx: TaskContext) -> Iterator[TaskOutput]:
    """How much changed: the changed share of the labelled area, in percent."""
    fraction = sample.annotations.stats.get("changed_fraction")
    if not _is_pair(sample) or fraction is None:
        return
    value = percent(fraction)
    yield TaskOutput(
        task="change_fraction",
        prompt=_prompt(sample, ctx, "change_fraction"),
        answer=f"{value}%",
        target={"type": "number", "value": value, "unit": "percent"},
    )


def change_count(sample: Sample, ctx: TaskContext) -> Iterator[TaskOutput]:
    """How many objects of each countable category changed (appeared or disappeared)."""
    counts = sample.annotations.stats.get("change_counts")
    if not _is_pair(sample) or not counts:
        return
    for cls, n in sorted(counts.items()):
        name = display_name(cls)
        yield TaskOutput(
            task="change_count",
            prompt=_prompt(sample, ctx, "change_count", cls=name, cls_plural=plural(name)),
            answer=str(int(n)),
            target={"type": "number", "value": int(n), "label": cls},
            suffix="" if len(counts) == 1 else f"/{cls}",
        )


def change_caption(sample: Sample, ctx: TaskContext) -> Iterator[TaskOutput]:
    """Describe the change: one of the pair's captions, drawn by the sample's RNG."""
    captions = sample.annotations.captions
    if not _is_pair(sample) or not captions:
        return
    caption = escape_placeholders(ctx.rng(sample, "change_caption").choice(captions))
    yield TaskOutput(
        task="change_caption",
        prompt=_prompt(sample, ctx, "change_caption"),
        answer=caption,
        target={"type": "text", "value": caption},
    )
