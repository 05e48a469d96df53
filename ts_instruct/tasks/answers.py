"""Geometry answers shared by every task family: order, caps, budget, and the structured target.

Object order is deterministic: by label, then by the top edge (smallest y), then by the left edge (smallest x).
An answer never lists more than ``ctx.options.max_objects`` items nor exceeds ``ctx.options.max_answer_chars``
characters; when it is cut, a final sentence says so (``The list is cut after 100 of 342 objects.``) and the target
records ``truncated: true`` and the ``total``, so evaluation knows the reference was cut too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ts_instruct.render import RenderItem
from ts_instruct.sample import ImageRef
from ts_instruct.tasks.base import TaskContext

GEOM_WORDS = {
    "hbox": "bounding boxes",
    "qbox": "oriented bounding boxes (four corners)",
    "polygon": "polygons",
    "point": "points",
}


def order_items(items: Sequence[RenderItem]) -> list[RenderItem]:
    """Sort by (label, top y, left x), the documented answer order."""
    return sorted(items, key=lambda it: (it.label or "", min(it.coords[1::2]), min(it.coords[0::2]), it.coords))


def item_target(item: RenderItem) -> dict[str, Any]:
    """The JSON form of one item in ``meta.target``."""
    return {"label": item.label, "coords": [round(float(c), 3) for c in item.coords]}


def geometry_answer(
    ctx: TaskContext,
    image: ImageRef,
    items: Sequence[RenderItem],
    kind: str,
    *,
    empty_text: str | None = None,
    total: int | None = None,
) -> tuple[str, dict[str, Any]]:
    """Render items of one kind for one image, ordered, capped and within the character budget.

    Args:
        ctx: task context (style and limits).
        image: the image the coordinates refer to (its emitted size sets the frame).
        items: geometry in pixels of that image.
        kind: ``"hbox"``, ``"qbox"``, ``"polygon"`` or ``"point"`` (all items share it).
        empty_text: the answer when there are no items (default: the style's empty rendering).
        total: number of items before a cut made upstream (e.g. a vertex budget that dropped polygons); the
            answer is marked as cut when it lists fewer (default: ``len(items)``).

    Returns:
        ``(answer text, target dict)``; see :mod:`ts_instruct.tasks.base` for the target format.
    """
    frame = ctx.style.frame(image.width, image.height)
    ordered = order_items(items)
    total = max(len(ordered), total or 0)
    kept = ordered[: ctx.options.max_objects]
    text = ctx.style.render(kept, frame) if kept or empty_text is None else empty_text
    while kept and len(text) > ctx.options.max_answer_chars:
        kept = kept[: max(1, int(len(kept) * 0.8))] if len(kept) > 1 else []
        text = ctx.style.render(kept, frame)
    truncated = len(kept) < total
    if truncated:
        text += f"\nThe list is cut after {len(kept)} of {total} objects."
    target = {
        "type": "geometry",
        "kind": kind,
        "items": [item_target(it) for it in kept],
        "truncated": truncated,
        "total": total,
    }
    return text, target
