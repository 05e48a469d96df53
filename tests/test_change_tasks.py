"""The change family's shared parts: label decoding, regions from masks, and the six change tasks."""

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data_converters.families.change import IGNORE, ChangeLabels, binary_change
from data_converters.levir_cd import LEVIRCD
from data_converters.second import SECOND
from ts_instruct.masks import Polygon, mask_iou, polygons_to_mask
from ts_instruct.render import get_style
from ts_instruct.sample import Annotations, ImageRef, Sample, SampleMeta
from ts_instruct.tasks import TASKS, TaskContext, TaskOptions, build_records
from ts_instruct.tasks.change import percent, region_answer, region_label
from ts_instruct.validate import Validator

STYLES = ("qwen25vl", "qwen2vl", "qwen3vl")
#: measured on LEVIR-CD-like masks (rotated buildings of 8-40 px) at 256, 512 and 1024 px: polygons 0.959-0.982,
#: boxes 0.975-1.0 depending on the style's grid; the floors leave room for other random masks
IOU_FLOOR = {"polygon": 0.93, "hbox": 0.95}


@pytest.mark.parametrize(
    "label, threshold, expected",
    [
        (np.array([[0, 255]], np.uint8), 128, [[0, 1]]),  # 0/255 PNG
        (np.array([[0, 1]], np.uint8), 128, [[0, 1]]),  # 0/1 copy
        (np.array([[True, False]]), 128, [[1, 0]]),  # bool
        (np.array([[[0, 0, 0], [255, 255, 255]]], np.uint8), 128, [[0, 1]]),  # RGB copy of a binary mask
        (np.array([[3, 127, 128, 251]], np.uint8), 128, [[0, 0, 1, 1]]),  # JPEG noise around 0 and 255
        (np.array([[100, 200]], np.uint8), 150, [[0, 1]]),  # other threshold
    ],
)
def test_binary_change(label, threshold, expected):
    assert binary_change(label, threshold=threshold).tolist() == expected


def _converter(**options):
    return LEVIRCD("unused", min_region_area=options.get("min_region_area", 0.0),
                   simplify_tolerance=options.get("simplify_tolerance", 0.0))  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(1, 6), st.integers(1, 6)), max_size=8))
def test_regions_rasterise_back_to_the_change_mask_exactly(rects):
    mask = np.zeros((40, 40), np.uint8)
    for cy, cx, h, w in rects:  # rectangles on a 6x6 grid of 6 px cells, so they may touch or overlap
        mask[cy * 6 : cy * 6 + h, cx * 6 : cx * 6 + w] = 1
    regions = _converter().regions(ChangeLabels(change=mask))
    polys = [Polygon(np.asarray(r.polygon, float), [np.asarray(h, float) for h in r.holes]) for r in regions]
    assert np.array_equal(polygons_to_mask(polys, 40, 40), mask)
    assert sum(r.area for r in regions) == mask.sum()


def test_regions_skip_small_components_and_ignored_pixels():
    mask = np.zeros((20, 20), np.uint8)
    mask[1:6, 1:6] = 1  # 25 px: a region
    mask[10, 10] = 1  # 1 px: below min_region_area
    mask[15:19, 15:19] = IGNORE  # unlabelled: never a region
    regions = _converter(min_region_area=4.0).regions(ChangeLabels(change=mask))
    assert [r.hbox for r in regions] == [[1.0, 1.0, 6.0, 6.0]]


def test_semantic_regions_split_by_from_to_pair():
    change = np.zeros((10, 20), np.uint8)
    change[2:8, 2:18] = 1
    before = np.where(change == 1, 3, 0).astype(np.uint8)  # low vegetation everywhere
    after = before.copy()
    after[2:8, 2:10] = 5  # → building on the left
    after[2:8, 10:18] = 4  # → tree on the right, touching
    conv = SECOND("unused", min_region_area=0.0)
    regions = conv.regions(ChangeLabels(change=change, before=before, after=after))
    assert [(r.from_label, r.to_label, r.hbox) for r in regions] == [
        ("low_vegetation", "building", [2.0, 2.0, 10.0, 8.0]),
        ("low_vegetation", "tree", [10.0, 2.0, 18.0, 8.0]),
    ]
    assert [region_label(r) for r in regions] == ["low vegetation → building", "low vegetation → tree"]


def _sample(change: np.ndarray, **stats) -> Sample:
    h, w = change.shape
    regions = _converter(min_region_area=4.0, simplify_tolerance=0.5).regions(ChangeLabels(change=change))
    images = [ImageRef(f"{t}/k.png", w, h, path=f"images/train/k_{t}.png") for t in "AB"]
    stats = {"changed_fraction": float(change.mean()), "change_labels": "binary", **stats}
    return Sample("k", images, Annotations(changes=regions, stats=stats), SampleMeta("levir_cd", "train"))


def _levir_like(rng: np.random.Generator, size: int, n: int) -> np.ndarray:
    """Rotated rectangles of 8-40 px, like LEVIR-CD buildings at 0.5 m."""
    m = np.zeros((size, size), np.uint8)
    for _ in range(n):
        w, h = rng.integers(8, 40, 2)
        x, y = rng.integers(0, size - 40, 2)
        box = cv2.boxPoints(((float(x + w / 2), float(y + h / 2)), (float(w), float(h)), float(rng.uniform(0, 90))))
        cv2.fillPoly(m, [np.round(box).astype(np.int32)], 1)
    return m


def _parsed_mask(text: str, style, size: int, kind: str) -> np.ndarray:
    items = style.parse(text, style.frame(size, size), kind=kind).items
    if kind == "hbox":
        polys = [Polygon(np.array([[a, b], [c, b], [c, d], [a, d]], float)) for a, b, c, d in (i.coords for i in items)]
    else:
        polys = [Polygon(np.asarray(i.coords, float).reshape(-1, 2)) for i in items]
    return polygons_to_mask(polys, size, size)


@pytest.mark.parametrize("style_name", STYLES)
@pytest.mark.parametrize("size, n", [(256, 15), (512, 40)])
def test_region_answers_match_the_mask_at_real_sizes(style_name, size, n):
    change = _levir_like(np.random.default_rng(size), size, n)
    sample = _sample(change)
    style = get_style(style_name)
    ctx = TaskContext(style=style)
    for kind in ("polygon", "hbox"):
        text, target = region_answer(sample, ctx, kind, labelled=False)
        assert not target["truncated"] and len(target["items"]) == len(sample.annotations.changes)
        if kind == "polygon":
            reference = change
        else:
            boxes = [r.hbox for r in sample.annotations.changes]
            reference = polygons_to_mask(
                [Polygon(np.array([[a, b], [c, b], [c, d], [a, d]], float)) for a, b, c, d in boxes], size, size
            )
        assert mask_iou(_parsed_mask(text, style, size, kind), reference) >= IOU_FLOOR[kind]


def test_capped_answers_say_they_are_cut_and_count_every_region():
    change = np.zeros((200, 200), np.uint8)
    for i in range(12):
        for j in range(12):
            change[i * 16 + 2 : i * 16 + 10, j * 16 + 2 : j * 16 + 10] = 1  # 144 separate squares
    sample = _sample(change)
    ctx = TaskContext(style=get_style("qwen3vl"), options=TaskOptions(max_objects=100))
    text, target = region_answer(sample, ctx, "hbox", labelled=False)
    assert (len(target["items"]), target["total"], target["truncated"]) == (100, 144, True)
    assert text.endswith("The list is cut after 100 of 144 objects.")


def test_polygon_vertex_budget_keeps_a_prefix_of_regions():
    change = _levir_like(np.random.default_rng(3), 256, 30)
    sample = _sample(change)
    ctx = TaskContext(style=get_style("qwen3vl"), options=TaskOptions(max_polygon_vertices=40))
    text, target = region_answer(sample, ctx, "polygon", labelled=False)
    shown = len(target["items"])
    assert 0 < shown < target["total"] == len(sample.annotations.changes)
    assert sum(len(i["coords"]) // 2 for i in target["items"]) <= 40
    assert text.endswith(f"The list is cut after {shown} of {target['total']} objects.")
    full, _ = region_answer(sample, TaskContext(style=get_style("qwen3vl")), "polygon", labelled=False)
    assert text.splitlines()[0] == full.splitlines()[0] == "```json"


@pytest.mark.parametrize(
    "fraction, expected",
    [(0.12345, 12.3), (0.01, 1.0), (0.0042, 0.42), (0.00004, 0.0), (0.0, 0.0), (1.0, 100.0)],
)
def test_percent(fraction, expected):
    assert percent(fraction) == expected


def test_change_tasks_need_a_pair():
    stats = {"changed_fraction": 0.1, "change_labels": "from_to", "change_counts": {"building": 1}}
    single = Sample("k", [ImageRef("a.png", 8, 8, path="a.png")], Annotations(captions=["x"], stats=stats),
                    SampleMeta("d", "train"))  # fmt: skip
    ctx = TaskContext(style=get_style("qwen25vl"))
    for name in ("change_exists", "change_regions", "change_semantic", "change_fraction", "change_count",
                 "change_caption"):  # fmt: skip
        assert list(TASKS[name](single, ctx)) == []


@pytest.mark.parametrize("style_name", STYLES)
def test_records_of_every_change_task_pass_the_answer_check(style_name):
    change = _levir_like(np.random.default_rng(1), 128, 8)
    sample = _sample(change, change_counts={"building": 5})
    sample.annotations.captions = ["two buildings were built <image> here"]
    sample.annotations.extra["years"] = [2018, 2019]
    ctx = TaskContext(style=get_style(style_name))
    records = list(build_records(sample, ctx, ["change_exists", "change_regions", "change_fraction", "change_count",
                                               "change_caption", "change_semantic"]))  # fmt: skip
    # binary labels: change_semantic has nothing to say
    assert [r.task for r in records] == ["change_exists", "change_regions", "change_fraction", "change_count",
                                         "change_caption"]  # fmt: skip
    validator = Validator(check_images=False)
    for rec in records:
        assert list(validator.check_record(rec, base=None)) == []  # type: ignore[arg-type]
        assert rec.messages[0].content.count("<image>") == 2  # the caption's placeholder was escaped
        assert "2018" in rec.messages[0].content and "2019" in rec.messages[0].content
    assert records[3].messages[1].content == "5"


def test_answer_phrasing_is_deterministic_per_seed():
    sample = _sample(_levir_like(np.random.default_rng(2), 64, 3))
    a = [r.to_json() for r in build_records(sample, TaskContext(style=get_style("qwen25vl")), ["change_regions"])]
    b = [r.to_json() for r in build_records(sample, TaskContext(style=get_style("qwen25vl")), ["change_regions"])]
    assert a == b


def test_region_kinds_are_drawn_from_the_rng_and_both_occur():
    ctx = TaskContext(style=get_style("qwen3vl"))
    kinds = set()
    for i in range(20):
        s = _sample(np.zeros((8, 8), np.uint8))
        s.key = f"k{i}"
        (out,) = TASKS["change_regions"](s, ctx)
        kinds.add(out.target["kind"])
    assert kinds == {"polygon", "hbox"}


def test_empty_regions_answer_is_the_styles_empty_form():
    sample = _sample(np.zeros((16, 16), np.uint8))
    for name, empty in (("qwen25vl", "```json\n[]\n```"), ("qwen2vl", "None")):
        text, target = region_answer(sample, TaskContext(style=get_style(name)), "hbox", labelled=False)
        assert (text, target["items"], target["total"]) == (empty, [], 0)
