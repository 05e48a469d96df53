"""Scene classification tasks: open question and multiple choice with seeded distractors.

Both need ``annotations.scene`` (the class label) and ``annotations.classes`` (the dataset's class list, from which
distractors are drawn). Class labels are shown as words (``dense_residential`` → ``dense residential``). A video
sample (or the key frames of one) is asked about its event instead (pools ``scene_*_video`` / ``scene_*_frames``).
"""

from __future__ import annotations

from collections.abc import Iterator

from ts_instruct.sample import Sample
from ts_instruct.tasks.base import TaskContext, TaskOutput, media_kind
from ts_instruct.templates import choose, display_name, lettered


def _pool(base: str, sample: Sample) -> tuple[str, dict[str, object]]:
    """The phrasing pool for the sample's medium and the fields it needs (``n`` frames for key frames)."""
    kind = media_kind(sample)
    if kind == "image":
        return base, {}
    return f"{base}_{kind}", ({"n": len(sample.images)} if kind == "frames" else {})


def scene_open(sample: Sample, ctx: TaskContext) -> Iterator[TaskOutput]:
    """Ask for the scene class; the answer is the class name as words."""
    scene = sample.annotations.scene
    if scene is None:
        return
    key = f"{sample.meta.split}/{sample.key}"
    answer = display_name(scene)
    pool, fields = _pool("scene_open", sample)
    yield TaskOutput(
        task="scene_open",
        prompt=choose(pool, seed=ctx.seed, key=key, **fields),
        answer=answer,
        target={"type": "text", "value": answer},
    )


def scene_choice(sample: Sample, ctx: TaskContext) -> Iterator[TaskOutput]:
    """Multiple choice: the true class among distractors drawn from the dataset's other classes.

    ``ctx.options.choices - 1`` distractors; options shuffled by the sample's RNG; the answer is
    ``"B. dense residential"`` (letter and name).
    """
    scene = sample.annotations.scene
    others = [c for c in sample.annotations.classes if c != scene]
    if scene is None or not others:
        return
    rng = ctx.rng(sample, "scene_choice")
    n = min(ctx.options.choices - 1, len(others))
    options = [*rng.sample(sorted(others), n), scene]
    rng.shuffle(options)
    letter = chr(ord("A") + options.index(scene))
    key = f"{sample.meta.split}/{sample.key}"
    answer = f"{letter}. {display_name(scene)}"
    pool, fields = _pool("scene_choice", sample)
    yield TaskOutput(
        task="scene_choice",
        prompt=choose(pool, seed=ctx.seed, key=key, choices=lettered([display_name(o) for o in options]), **fields),
        answer=answer,
        target={
            "type": "choice",
            "value": letter,
            "label": display_name(scene),
            "options": [display_name(o) for o in options],
        },
    )
