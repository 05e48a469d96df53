"""What a task is, the context it runs in, and how its output becomes a TS-Instruct record.

A task is a function ``(sample, ctx) -> Iterator[TaskOutput]``: it reads the canonical
:class:`~ts_instruct.sample.Sample` and writes zero or more prompt/answer pairs. It never touches files. Choices
(phrasing, distractors, which class to ask about) come from ``ctx.rng(sample, purpose)``, so the text depends on
(seed, sample key, task) only.

Each output also carries its ``target``: the structured answer (geometry in pixels of the emitted image, or the
expected text/number) that the validator re-parses the answer against and that evaluation scores against. It is
stored in ``record.meta["target"]``::

    {"type": "geometry", "kind": "hbox"|"qbox"|"polygon", "items": [{"label": str|None, "coords": [...]}],
     "truncated": false}
    {"type": "text", "value": "airplane"}        # also "number" (value: float) and "yes_no" (value: "yes"|"no")
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ts_instruct.record import IMAGE_PLACEHOLDER, VIDEO_PLACEHOLDER, Message, Record
from ts_instruct.sample import Sample
from ts_instruct.templates import rng_for

if TYPE_CHECKING:
    from ts_instruct.render import RenderStyle


@dataclass
class TaskOptions:
    """Limits and switches shared by all tasks (CLI: ``terrasense convert --max-objects`` ...).

    Attributes:
        max_objects: most objects listed in one answer; beyond it the list is cut and the answer says so.
        max_answer_chars: character budget for one answer (a proxy for the token budget: Qwen's tokenizer averages
            about 3 characters per token on coordinate text, so the default 12,000 characters ≈ 4,000 tokens).
        max_polygon_vertices: total vertex budget for polygons in one answer.
        choices: number of options in multiple-choice questions (the answer plus distractors).
        negatives: ask existence/count questions about classes absent from the image.
    """

    max_objects: int = 100
    max_answer_chars: int = 12_000
    max_polygon_vertices: int = 400
    choices: int = 4
    negatives: bool = True


@dataclass
class TaskContext:
    """Everything a task may consult besides the sample."""

    style: RenderStyle
    seed: int = 0
    options: TaskOptions = field(default_factory=TaskOptions)
    #: first part of record ids: the dataset folder name (``dota-v1.0`` for multi-version datasets), so several
    #: versions of one dataset can be mixed or validated together; ``None`` uses the dataset name
    id_prefix: str | None = None

    def rng(self, sample: Sample, purpose: str) -> random.Random:
        """A RNG determined by (seed, dataset, split, key, purpose)."""
        return rng_for(self.seed, f"{sample.meta.dataset}/{sample.meta.split}/{sample.key}", purpose)


@dataclass
class TaskOutput:
    """One prompt/answer pair made by a task.

    ``suffix`` distinguishes several outputs of the same task for one sample (``"/plane"``); ``target`` is the
    structured answer (see the module docstring). ``annotations``, when set, replaces the sample's serialised
    annotations in the record: a task that asks about one part of a sample (one question of an image with a hundred,
    one referring expression) stores that part only, so records stay small and self-contained.
    """

    task: str
    prompt: str
    answer: str
    target: dict[str, Any]
    suffix: str = ""
    annotations: dict[str, Any] | None = None


TaskFn = Callable[[Sample, TaskContext], Iterator[TaskOutput]]
MediaKind = Literal["image", "frames", "video"]


def media_kind(sample: Sample) -> MediaKind:
    """What the model is shown, so that prompts can name it.

    ``"video"`` (a ``<video>``), ``"frames"`` (key frames of one video, in time order, marked by
    ``meta.extra["keyframes"]``) or ``"image"`` (one image or a before/after pair).
    """
    if sample.videos:
        return "video"
    if sample.meta.extra.get("keyframes"):
        return "frames"
    return "image"


def escape_placeholders(text: str) -> str:
    """Neutralise literal ``<image>``/``<video>`` inside source text (captions, questions).

    LLaMA-Factory counts placeholders over all turns (its issue #8440), so a literal one in a caption would break it.
    """
    return text.replace(IMAGE_PLACEHOLDER, "<img>").replace(VIDEO_PLACEHOLDER, "<vid>")


def to_record(
    sample: Sample, out: TaskOutput, ctx: TaskContext, *, annotations: dict[str, Any] | None = None
) -> Record:
    """Wrap a task output into a record: placeholders first (one per image, earlier image first), then the prompt.

    The emitted image paths must already be set on ``sample.images`` (the writer does it). ``annotations`` is
    ``sample.annotations.to_dict()`` when the caller already has it (records of one sample then share the dict).
    """
    n_images = len(sample.images)
    prefix = IMAGE_PLACEHOLDER * n_images + VIDEO_PLACEHOLDER * len(sample.videos)
    messages = [Message("user", prefix + out.prompt), Message("assistant", out.answer)]
    meta = sample.meta.to_dict()
    meta["key"] = sample.key
    meta["images"] = [i.to_dict() for i in sample.images]
    meta["render"] = ctx.style.describe()
    meta["target"] = out.target
    prefix = ctx.id_prefix or sample.meta.dataset
    return Record(
        id=f"{prefix}/{sample.meta.split}/{sample.key}/{out.task}{out.suffix}",
        dataset=sample.meta.dataset,
        task=out.task,
        messages=messages,
        images=[str(i.path) for i in sample.images],
        annotations=out.annotations if out.annotations is not None else annotations or sample.annotations.to_dict(),
        meta=meta,
        videos=list(sample.videos),
    )
