import numpy as np
import pytest

from ts_instruct.record import IMAGE_PLACEHOLDER
from ts_instruct.render import RenderItem, get_style
from ts_instruct.sample import Annotations, ImageRef, ObjectAnn, Sample, SampleMeta
from ts_instruct.tasks import FAMILY_TASKS, TASKS, TaskContext, TaskOptions, build_records

CLASSES = ["plane", "ship", "storage-tank", "harbor"]
DETECTION_TASKS = ("detect_all", "detect_class", "count", "exists", "classify_box")


def make_sample(objects, *, key="P0001__1024__0_0", kind="qbox", size=(512, 384)):
    return Sample(
        key=key,
        images=[ImageRef(source="train/images/P0001.png", width=size[0], height=size[1], path="images/x.png")],
        annotations=Annotations(objects=objects, classes=CLASSES, extra={"box_kind": kind}, negative=not objects),
        meta=SampleMeta(dataset="dota", split="train"),
    )


def obj(label, x, y, w=20, h=10, *, oriented=True):
    hb = [x, y, x + w, y + h]
    return ObjectAnn(label, hb, [x, y, x + w, y, x + w, y + h, x, y + h] if oriented else None)


def run(task, sample, style="qwen25vl", **opts):
    ctx = TaskContext(style=get_style(style), seed=0, options=TaskOptions(**opts))
    return list(TASKS[task](sample, ctx)), ctx


def test_family_registry_lists_the_five_tasks():
    assert FAMILY_TASKS["detection"] == DETECTION_TASKS
    assert all(t in TASKS for t in DETECTION_TASKS)


@pytest.mark.parametrize("style", ["qwen2vl", "qwen25vl", "qwen3vl"])
@pytest.mark.parametrize("oriented", [True, False])
def test_detect_all_answer_parses_back_to_its_target(style, oriented):
    objects = [obj("ship", 300, 40), obj("plane", 10, 200), obj("plane", 10, 20, oriented=oriented)]
    if not oriented:
        objects = [obj(o.label, o.hbox[0], o.hbox[1], oriented=False) for o in objects]
    (out,), ctx = run("detect_all", make_sample(objects, kind="qbox" if oriented else "hbox"), style)
    t = out.target
    assert t["type"] == "geometry" and t["kind"] == ("qbox" if oriented else "hbox")
    assert [i["label"] for i in t["items"]] == ["plane", "plane", "ship"]  # by class, then top edge
    assert t["items"][0]["coords"][1] < t["items"][1]["coords"][1]
    frame = ctx.style.frame(512, 384)
    parsed = ctx.style.parse(out.answer, frame, kind=t["kind"])
    assert [p.label for p in parsed.items] == ["plane", "plane", "ship"]
    step = max(512 / frame.text_width, 384 / frame.text_height)
    for p, want in zip(parsed.items, t["items"], strict=True):
        assert np.abs(np.array(p.coords) - want["coords"]).max() <= step


def test_labels_are_written_as_words():
    (out,), _ = run("detect_all", make_sample([obj("storage-tank", 5, 5)]))
    assert out.target["items"][0]["label"] == "storage tank" and "storage tank" in out.answer


def test_negative_sample_gets_explicit_no_object_answers():
    sample = make_sample([])
    (det,), ctx = run("detect_all", sample)
    assert det.target["items"] == [] and not det.target["truncated"]
    assert "no objects" in det.answer.lower()
    assert ctx.style.parse(det.answer, ctx.style.frame(512, 384), kind="qbox").items == []
    (cnt,), _ = run("count", sample)
    assert cnt.answer == "0" and cnt.target == {"type": "number", "value": "0", "label": cnt.target["label"]}
    (ex,), _ = run("exists", sample)
    assert ex.target["value"] == "no" and ex.answer == "No"
    (dc,), _ = run("detect_class", sample)
    assert dc.target["items"] == [] and dc.target["kind"] == "qbox"
    assert run("classify_box", sample)[0] == []


def test_count_and_exists_agree_with_the_objects():
    sample = make_sample([obj("ship", 10 * i, 5) for i in range(3)] + [obj("plane", 100, 100)])
    for seed_key in range(20):  # several keys: both present and absent classes get asked
        s = make_sample(sample.annotations.objects, key=f"k{seed_key}")
        (cnt,), _ = run("count", s)
        truth = {"ship": 3, "plane": 1}.get(cnt.target["label"].replace(" ", "-"), 0)
        assert cnt.answer == cnt.target["value"] == str(truth)
        (ex,), _ = run("exists", s)
        present = ex.target["label"] in ("ship", "plane")
        assert ex.target["value"] == ("yes" if present else "no")


def test_exists_asks_about_absent_classes_too():
    values = {run("exists", make_sample([obj("ship", 5, 5)], key=f"k{i}"))[0][0].target["value"] for i in range(20)}
    assert values == {"yes", "no"}
    only_yes = {
        run("exists", make_sample([obj("ship", 5, 5)], key=f"k{i}"), negatives=False)[0][0].target["value"]
        for i in range(20)
    }
    assert only_yes == {"yes"}


@pytest.mark.parametrize("style", ["qwen2vl", "qwen25vl", "qwen3vl"])
def test_classify_box_names_the_object_in_the_box(style):
    objects = [obj("harbor", 50, 60, 80, 40), obj("ship", 300, 200)]
    sample = make_sample(objects)
    (out,), ctx = run("classify_box", sample, style)
    chosen = next(o for o in objects if o.qbox == out.target["box"])
    assert out.target == {"type": "text", "value": chosen.label, "box": chosen.qbox}
    assert out.answer == chosen.label
    rendered = ctx.style.render_inline(RenderItem("qbox", tuple(chosen.qbox)), ctx.style.frame(512, 384))
    assert rendered in out.prompt


def test_detect_all_is_split_by_class_when_the_list_would_be_cut():
    objects = [obj("ship", 5 + 12 * i, 5, 10, 5) for i in range(6)] + [
        obj("plane", 5 + 12 * i, 100, 10, 5) for i in range(2)
    ]
    outs, _ = run("detect_all", make_sample(objects), max_objects=6)
    assert [o.suffix for o in outs] == ["/plane", "/ship"]
    assert [len(o.target["items"]) for o in outs] == [2, 6]
    assert all(not o.target["truncated"] for o in outs)
    assert "plane" in outs[0].prompt and "ship" in outs[1].prompt


def test_one_class_over_the_cap_is_cut_with_a_sentence():
    objects = [obj("ship", 5 + 12 * i, 5, 10, 5) for i in range(9)]
    (out,), _ = run("detect_all", make_sample(objects), max_objects=4)
    assert out.target["truncated"] and out.target["total"] == 9 and len(out.target["items"]) == 4
    assert out.answer.endswith("The list is cut after 4 of 9 objects.")


def test_records_are_deterministic_and_placeholders_match():
    sample = make_sample([obj("ship", 5, 5), obj("plane", 100, 50), obj("harbor", 200, 200, 60, 60)])
    ctx = TaskContext(style=get_style("qwen25vl"), seed=3)
    first = [r.to_json() for r in build_records(sample, ctx, DETECTION_TASKS)]
    again = [r.to_json() for r in build_records(sample, ctx, DETECTION_TASKS)]
    assert first == again and len(first) == 5
    for r in build_records(sample, ctx, DETECTION_TASKS):
        assert r.messages[0].content.count(IMAGE_PLACEHOLDER) == 1 == len(r.images)
