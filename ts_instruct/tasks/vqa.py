"""Visual question answering: one record per question, the question type kept for per-type scoring.

The answer is the source answer as normalised by the converter (lower case, ``yes``/``no``, integers for counts);
the record's annotations hold that one question only (an RSVQA-HR image has about a hundred).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict

from ts_instruct.sample import Sample
from ts_instruct.tasks.base import TaskContext, TaskOutput, escape_placeholders
from ts_instruct.templates import choose


def vqa(sample: Sample, ctx: TaskContext) -> Iterator[TaskOutput]:
    """Ask each question of ``annotations.qa`` in turn.

    Record suffix ``/q<id>`` (the source question id, or the position when the source has none). Target:
    ``{"type": "text", "value": <normalised answer>, "qtype": <question type or None>}``.
    """
    base = sample.annotations.to_dict()
    for i, qa in enumerate(sample.annotations.qa):
        if not qa.question.strip() or not qa.answer.strip():
            continue
        qid = qa.id if qa.id is not None else str(i)
        key = f"{sample.meta.split}/{sample.key}/{qid}"
        prompt = choose("vqa", seed=ctx.seed, key=key, question=escape_placeholders(qa.question))
        answer = escape_placeholders(qa.answer)
        yield TaskOutput(
            task="vqa",
            prompt=prompt,
            answer=answer,
            target={"type": "text", "value": answer, "qtype": qa.qtype},
            suffix=f"/q{qid}",
            annotations={**base, "qa": [asdict(qa)]},
        )
