"""Detection tasks: detect all objects, detect one class, count, existence, and classify the object in a box.

All read ``annotations.objects`` (pixels of the emitted image) and ``annotations.classes`` (the dataset's classes,
from which absent classes are drawn). Geometry is written as oriented boxes (4 corners) when the source has them
(objects with a ``qbox``, or ``annotations.extra["box_kind"] == "qbox"`` for a sample without objects), horizontal
boxes otherwise. Class labels are shown as words (``storage-tank`` → ``storage tank``), in prompts, answers and
targets alike.

Targets (``record.meta["target"]``):

- ``detect_all`` / ``detect_class``: geometry targets from :func:`~ts_instruct.tasks.answers.geometry_answer`
  (ordered by label, then top, then left; at most ``max_objects`` items within ``max_answer_chars``, cut with a
  sentence beyond). When the full list of ``detect_all`` would be cut and the image holds several classes, the
  answer is split into one record per class instead (id suffix ``/<class>``), each asking for that class only.
- ``count``: ``{"type": "number", "value": "3", "label": "ship"}`` (the value as written in the answer).
- ``exists``: ``{"type": "yes_no", "value": "yes" | "no", "label": "ship"}``.
- ``classify_box``: ``{"type": "text", "value": "storage tank", "box": [x1, y1, ...]}`` (box in pixels, same kind as
  written in the prompt).

A sample without objects (a negative tile or image) gives ``detect_all`` with an explicit "no objects" answer
(target items ``[]``), ``detect_class`` for an absent class with "none" answered, ``exists`` "no" and ``count``
"0"; ``classify_box`` has nothing to ask. Questions about absent classes on samples that have objects (``exists``
and ``count``) are asked when ``ctx.options.negatives`` is on.
"""

from __future__ import annotations

from collections.abc import Iterator

from ts_instruct.geometry import hbox2qbox
from ts_instruct.render import RenderItem
from ts_instruct.sample import ObjectAnn, Sample
from ts_instruct.tasks.answers import GEOM_WORDS, geometry_answer, item_target
from ts_instruct.tasks.base import TaskContext, TaskOutput
from ts_instruct.templates import choose, display_name, plural

#: chance that ``count`` asks about an absent class (answer 0) when the image has objects and negatives are on
ABSENT_COUNT_SHARE = 0.25


def box_kind(sample: Sample) -> str:
    """``"qbox"`` when the sample's objects (or, without objects, its source) have oriented boxes, else ``"hbox"``."""
    objects = sample.annotations.objects
    if objects:
        return "qbox" if any(o.qbox is not None for o in objects) else "hbox"
    return "qbox" if sample.annotations.extra.get("box_kind") == "qbox" else "hbox"


def object_item(obj: ObjectAnn, kind: str, *, label: bool = True) -> RenderItem:
    """The render item of one object: its qbox (or its hbox as 4 corners) for ``"qbox"``, its hbox otherwise."""
    if kind == "qbox":
        coords = obj.qbox if obj.qbox is not None else hbox2qbox(obj.hbox).tolist()
        return RenderItem("qbox", tuple(coords), display_name(obj.label) if label else None)
    return RenderItem("hbox", tuple(obj.hbox), display_name(obj.label) if label else None)


def _classes(sample: Sample) -> tuple[list[str], list[str]]:
    """``(present, absent)`` class labels, each sorted."""
    present = sorted({o.label for o in sample.annotations.objects})
    absent = sorted(set(sample.annotations.classes) - set(present))
    return present, absent


def _key(sample: Sample) -> str:
    return f"{sample.meta.split}/{sample.key}"


def _suffix(label: str) -> str:
    return "/" + "_".join(label.split())


def detect_all(sample: Sample, ctx: TaskContext) -> Iterator[TaskOutput]:
    """List every object with its class and box; split by class when one list would be cut."""
    if not sample.images:
        return
    image, kind = sample.images[0], box_kind(sample)
    geom = GEOM_WORDS[kind]
    key = _key(sample)
    prompt = choose("detect_all", seed=ctx.seed, key=key, geom=geom)
    if not sample.annotations.objects:
        empty = choose("detect_none", seed=ctx.seed, key=key)
        answer, target = geometry_answer(ctx, image, [], kind, empty_text=empty)
        yield TaskOutput("detect_all", prompt, answer, target)
        return
    items = [object_item(o, kind) for o in sample.annotations.objects]
    answer, target = geometry_answer(ctx, image, items, kind)
    labels = sorted({it.label or "" for it in items})
    if not target["truncated"] or len(labels) < 2:
        yield TaskOutput("detect_all", prompt, answer, target)
        return
    for label in labels:
        fields = {"cls": label, "cls_plural": plural(label), "geom": geom}
        part_prompt = choose("detect_class", seed=ctx.seed, key=f"{key}/{label}", **fields)
        part = [it for it in items if it.label == label]
        answer, target = geometry_answer(ctx, image, part, kind)
        yield TaskOutput("detect_all", part_prompt, answer, target, suffix=_suffix(label))


def detect_class(sample: Sample, ctx: TaskContext) -> Iterator[TaskOutput]:
    """List the objects of one class present in the image (of an absent class for a sample without objects)."""
    if not sample.images:
        return
    present, absent = _classes(sample)
    rng = ctx.rng(sample, "detect_class")
    if present:
        cls = rng.choice(present)
    elif absent and ctx.options.negatives:
        cls = rng.choice(absent)
    else:
        return
    image, kind = sample.images[0], box_kind(sample)
    words = display_name(cls)
    fields = {"cls": words, "cls_plural": plural(words), "geom": GEOM_WORDS[kind]}
    key = _key(sample)
    prompt = choose("detect_class", seed=ctx.seed, key=key, **fields)
    items = [object_item(o, kind) for o in sample.annotations.objects if o.label == cls]
    empty = choose("detect_class_none", seed=ctx.seed, key=key, **fields)
    answer, target = geometry_answer(ctx, image, items, kind, empty_text=empty)
    yield TaskOutput("detect_class", prompt, answer, target)


def count(sample: Sample, ctx: TaskContext) -> Iterator[TaskOutput]:
    """How many objects of one class; mostly a present class, sometimes (or, without objects, always) an absent one."""
    present, absent = _classes(sample)
    rng = ctx.rng(sample, "count")
    ask_absent = bool(absent) and ctx.options.negatives and (not present or rng.random() < ABSENT_COUNT_SHARE)
    if ask_absent:
        cls = rng.choice(absent)
    elif present:
        cls = rng.choice(present)
    else:
        return
    n = sum(1 for o in sample.annotations.objects if o.label == cls)
    words = display_name(cls)
    prompt = choose("count", seed=ctx.seed, key=_key(sample), cls=words, cls_plural=plural(words))
    value = str(n)
    yield TaskOutput("count", prompt, value, {"type": "number", "value": value, "label": words})


def exists(sample: Sample, ctx: TaskContext) -> Iterator[TaskOutput]:
    """Yes/no: is there an object of a class; present and absent classes are asked about equally often."""
    present, absent = _classes(sample)
    if not ctx.options.negatives:
        absent = []
    rng = ctx.rng(sample, "exists")
    both = bool(present) and bool(absent)
    pool = (present if rng.random() < 0.5 else absent) if both else (present or absent)
    if not pool:
        return
    cls = rng.choice(pool)
    value = "yes" if cls in present else "no"
    words = display_name(cls)
    prompt = choose("exists", seed=ctx.seed, key=_key(sample), cls=words, cls_plural=plural(words))
    yield TaskOutput("exists", prompt, value.capitalize(), {"type": "yes_no", "value": value, "label": words})


def classify_box(sample: Sample, ctx: TaskContext) -> Iterator[TaskOutput]:
    """Name the class of the object inside a given box (an object not truncated by tiling, when there is one)."""
    objects = sample.annotations.objects
    if not objects or not sample.images:
        return
    candidates = [o for o in objects if not o.truncated] or list(objects)
    kind = box_kind(sample)
    ordered = sorted(candidates, key=lambda o: (o.label, o.hbox[1], o.hbox[0], o.hbox))
    obj = ctx.rng(sample, "classify_box").choice(ordered)
    item = object_item(obj, kind, label=False)
    image = sample.images[0]
    box = ctx.style.render_inline(item, ctx.style.frame(image.width, image.height))
    prompt = choose("classify_box", seed=ctx.seed, key=_key(sample), box=box)
    words = display_name(obj.label)
    yield TaskOutput(
        "classify_box", prompt, words, {"type": "text", "value": words, "box": item_target(item)["coords"]}
    )
