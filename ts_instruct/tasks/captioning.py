"""Captioning: describe the image (or the video, or its key frames) in one sentence.

A sample carries every reference caption of its image in ``annotations.captions`` (kept whole in the record for
evaluation: BLEU, METEOR, CIDEr score against all of them). The answer is one of them, chosen by the sample's RNG,
so the same (seed, sample) always trains on the same caption while different samples spread over the references.
"""

from __future__ import annotations

from collections.abc import Iterator

from ts_instruct.sample import Sample
from ts_instruct.tasks.base import TaskContext, TaskOutput, escape_placeholders, media_kind
from ts_instruct.templates import choose


def caption(sample: Sample, ctx: TaskContext) -> Iterator[TaskOutput]:
    """One record per sample: a describe-it prompt for the sample's medium, one reference caption as the answer.

    Target: ``{"type": "text", "value": <the chosen caption>, "references": <number of reference captions>}``; a
    literal ``<image>``/``<video>`` in the caption is written ``<img>``/``<vid>`` (:func:`escape_placeholders`).
    """
    refs = [c for c in sample.annotations.captions if c.strip()]
    if not refs:
        return
    kind = media_kind(sample)
    pool = "caption" if kind == "image" else f"caption_{kind}"
    fields: dict[str, object] = {"n": len(sample.images)} if kind == "frames" else {}
    # a literal "<image>" in a caption would count as a placeholder for LLaMA-Factory: neutralise it
    answer = escape_placeholders(ctx.rng(sample, "caption").choice(refs))
    yield TaskOutput(
        task="caption",
        prompt=choose(pool, seed=ctx.seed, key=f"{sample.meta.split}/{sample.key}", **fields),
        answer=answer,
        target={"type": "text", "value": answer, "references": len(refs)},
    )
