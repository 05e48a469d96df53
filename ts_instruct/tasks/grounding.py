"""Visual grounding and its inverse: find the object a phrase refers to; describe the object in a box.

``ground`` answers with the referred object's box in the record's render style (one ``hbox`` item, labelled with its
class when known), through :func:`~ts_instruct.tasks.answers.geometry_answer` like every geometry answer.
``describe_box`` writes the box inline in the prompt (``style.render_inline``) and answers with the expression.
Each record holds only its own expression in ``annotations.refs``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from ts_instruct.render import RenderItem
from ts_instruct.sample import ImageRef, RefExpr, Sample
from ts_instruct.tasks.answers import geometry_answer
from ts_instruct.tasks.base import TaskContext, TaskOutput, escape_placeholders
from ts_instruct.templates import choose, display_name


def _refs(sample: Sample) -> Iterator[tuple[ImageRef, str, RefExpr, dict[str, Any]]]:
    """``(image, suffix id, ref, annotations holding only that ref)`` per usable expression of a one-image sample."""
    if len(sample.images) != 1:
        return
    base = sample.annotations.to_dict()
    for i, ref in enumerate(sample.annotations.refs):
        if ref.expression.strip():
            yield sample.images[0], (ref.id if ref.id is not None else str(i)), ref, {**base, "refs": [asdict(ref)]}


def ground(sample: Sample, ctx: TaskContext) -> Iterator[TaskOutput]:
    """One record per expression: the prompt quotes it, the answer is the referred object's box.

    Target: the geometry target of :func:`geometry_answer` with ``kind="hbox"`` and one item.
    """
    for image, rid, ref, ann in _refs(sample):
        item = RenderItem("hbox", tuple(ref.hbox), label=display_name(ref.label) if ref.label else None)
        answer, target = geometry_answer(ctx, image, [item], "hbox")
        prompt = choose(
            "ground",
            seed=ctx.seed,
            key=f"{sample.meta.split}/{sample.key}/{rid}",
            expr=escape_placeholders(ref.expression.rstrip(".")),
            geom="bounding box",
        )
        yield TaskOutput(task="ground", prompt=prompt, answer=answer, target=target, suffix=f"/r{rid}", annotations=ann)


def describe_box(sample: Sample, ctx: TaskContext) -> Iterator[TaskOutput]:
    """One record per expression: the prompt holds the box written inline, the answer is the expression.

    Target: ``{"type": "text", "value": <expression>}``.
    """
    for image, rid, ref, ann in _refs(sample):
        frame = ctx.style.frame(image.width, image.height)
        box = ctx.style.render_inline(RenderItem("hbox", tuple(ref.hbox)), frame)
        prompt = choose("describe_box", seed=ctx.seed, key=f"{sample.meta.split}/{sample.key}/{rid}", box=box)
        answer = escape_placeholders(ref.expression)
        yield TaskOutput(
            task="describe_box",
            prompt=prompt,
            answer=answer,
            target={"type": "text", "value": answer},
            suffix=f"/r{rid}",
            annotations=ann,
        )
