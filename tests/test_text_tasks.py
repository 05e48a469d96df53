"""Caption, VQA and grounding tasks on hand-made samples (the converters' tests cover them end to end)."""

import pytest

from ts_instruct.render import get_style
from ts_instruct.sample import Annotations, ImageRef, QAPair, RefExpr, Sample, SampleMeta
from ts_instruct.tasks import TASKS, TaskContext, build_records
from ts_instruct.tasks.base import media_kind


def _sample(n_images=1, videos=(), keyframes=False, **ann):
    images = [
        ImageRef(source=f"a{i}.png", width=100, height=80, path=f"images/train/k_{i}.png") for i in range(n_images)
    ]
    extra = {"keyframes": {"video": "v.mp4", "frames": list(range(n_images))}} if keyframes else {}
    return Sample(
        key="k",
        images=images,
        videos=list(videos),
        annotations=Annotations(**ann),
        meta=SampleMeta(dataset="d", split="train", extra=extra),
    )


CTX = TaskContext(style=get_style("qwen25vl"))


@pytest.mark.parametrize(
    "sample, expected",
    [
        (_sample(), "image"),  # one image
        (_sample(2), "image"),  # a before/after pair
        (_sample(0, videos=["v.mp4"]), "video"),  # a video
        (_sample(4, keyframes=True), "frames"),  # key frames of one video
    ],
)
def test_media_kind(sample, expected):
    assert media_kind(sample) == expected


def test_caption_answer_is_one_reference_and_placeholders_are_neutralised():
    sample = _sample(captions=["A <image> of a port."])
    (out,) = TASKS["caption"](sample, CTX)
    assert out.answer == "A <img> of a port." == out.target["value"]
    (rec,) = build_records(sample, CTX, ["caption"])
    assert sum(m.content.count("<image>") for m in rec.messages) == 1
    assert rec.annotations["captions"] == ["A <image> of a port."]  # the reference itself is kept as written


def test_caption_choice_depends_on_the_seed_and_sample_only():
    refs = [f"Caption {i}." for i in range(5)]
    picks = {
        next(TASKS["caption"](_sample(captions=refs), TaskContext(style=CTX.style, seed=s))).answer for s in range(20)
    }
    assert len(picks) > 1
    assert (
        next(TASKS["caption"](_sample(captions=refs), CTX)).answer
        == next(TASKS["caption"](_sample(captions=list(refs)), CTX)).answer
    )


@pytest.mark.parametrize(
    "sample, word",
    [
        (_sample(0, videos=["v.mp4"], captions=["A parade."]), "video"),
        (_sample(3, keyframes=True, captions=["A parade."]), "3"),
    ],
)
def test_caption_prompt_names_the_medium(sample, word):
    (out,) = TASKS["caption"](sample, CTX)
    assert word in out.prompt


def test_no_caption_no_record():
    assert list(TASKS["caption"](_sample(captions=[" "]), CTX)) == []


def test_vqa_one_record_per_question_holding_only_it():
    qa = [QAPair("How many cars?", "3", "count", id="17"), QAPair("Is there a road?", "yes", "presence")]
    sample = _sample(qa=qa)
    recs = list(build_records(sample, CTX, ["vqa"]))
    assert [r.id for r in recs] == ["d/train/k/vqa/q17", "d/train/k/vqa/q1"]  # source id, else the position
    assert [r.annotations["qa"] for r in recs] == [
        [{"question": "How many cars?", "answer": "3", "qtype": "count", "id": "17"}],
        [{"question": "Is there a road?", "answer": "yes", "qtype": "presence", "id": None}],
    ]
    assert recs[0].meta["target"] == {"type": "text", "value": "3", "qtype": "count"}


def test_vqa_question_with_placeholder_text_is_escaped():
    (out,) = TASKS["vqa"](_sample(qa=[QAPair("Is the <image> blurry?", "no")]), CTX)
    assert "<img>" in out.prompt and "<image>" not in out.prompt


@pytest.mark.parametrize("style", ["qwen2vl", "qwen25vl", "qwen3vl"])
def test_ground_and_describe_box_round_trip(style):
    ctx = TaskContext(style=get_style(style))
    ref = RefExpr("the ship at the pier", [10, 20, 50, 60], label="ship", id="9")
    sample = _sample(refs=[ref])
    (g,) = TASKS["ground"](sample, ctx)
    frame = ctx.style.frame(100, 80)
    (item,) = ctx.style.parse_strict(g.answer, frame, kind="hbox")
    assert max(abs(a - b) for a, b in zip(item.coords, ref.hbox, strict=True)) <= max(frame.pixel_step)
    assert g.target["items"] == [{"label": "ship", "coords": [10.0, 20.0, 50.0, 60.0]}] and g.suffix == "/r9"
    (d,) = TASKS["describe_box"](sample, ctx)
    assert d.answer == "the ship at the pier" and d.suffix == "/r9"
    (boxed,) = ctx.style.parse_strict(d.prompt, frame, kind="hbox")
    assert max(abs(a - b) for a, b in zip(boxed.coords, ref.hbox, strict=True)) <= max(frame.pixel_step)


def test_grounding_skips_pairs_and_blank_expressions():
    ref = RefExpr("a ship", [1, 1, 5, 5])
    assert list(TASKS["ground"](_sample(2, refs=[ref]), CTX)) == []
    assert list(TASKS["describe_box"](_sample(refs=[RefExpr("  ", [1, 1, 5, 5])]), CTX)) == []


def test_scene_questions_about_a_video_name_the_event():
    sample = _sample(0, videos=["v.mp4"], scene="flood", classes=["flood", "fire", "party"])
    (o,) = TASKS["scene_open"](sample, CTX)
    (c,) = TASKS["scene_choice"](sample, CTX)
    assert "video" in o.prompt and "video" in c.prompt and o.answer == "flood"
