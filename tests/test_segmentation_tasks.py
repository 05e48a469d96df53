import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ts_instruct.masks import mask_to_polygons
from ts_instruct.render import RenderItem, get_style
from ts_instruct.sample import Annotations, ImageRef, MaskRef, Sample, SampleMeta
from ts_instruct.tasks import TASKS, TaskContext, TaskOptions
from ts_instruct.tasks.segmentation import HOLE_SUFFIX, answer_to_mask, polygon_items


def _sample(mask, *, kind="binary", classes=None, fractions=None, nodata=None, key="k", min_area=4.0):
    """A segmentation Sample of one (H, W) mask of class ids, built the way the converter family builds it."""
    classes = classes or {0: "background", 1: "building"}
    foreground = {i: n for i, n in classes.items() if n != "background"}
    polygons = [
        p.to_ann(name)
        for cid, name in foreground.items()
        for p in mask_to_polygons(mask == cid, min_area=min_area, simplify_tolerance=0)
    ]
    h, w = mask.shape
    stats = {"class_fractions": fractions or {n: float(np.mean(mask == i)) for i, n in classes.items()}}
    if nodata is not None:
        stats["nodata_fraction"] = nodata
    return Sample(
        key=key,
        images=[ImageRef(source=f"{key}.png", width=w, height=h, path=f"images/{key}.png")],
        annotations=Annotations(
            polygons=polygons, masks=[MaskRef(kind, classes)], classes=list(foreground.values()), stats=stats
        ),
        meta=SampleMeta(dataset="d", split="train"),
    )


def _ctx(style="qwen3vl", **opts):
    return TaskContext(style=get_style(style), seed=0, options=TaskOptions(**opts))


def _run(task, sample, ctx):
    return list(TASKS[task](sample, ctx))


def _parse_back(out, sample, ctx):
    frame = ctx.style.frame(sample.images[0].width, sample.images[0].height)
    return ctx.style.parse(out.answer, frame, kind="polygon").items


def courtyard(size=100):
    m = np.zeros((size, size), np.uint8)
    m[10:90, 10:90] = 1
    m[30:70, 30:70] = 0  # the courtyard
    m[45:55, 45:55] = 1  # an island in it
    return m


def test_holes_are_separate_rings_after_their_class_and_read_back_exactly():
    sample = _sample(courtyard())
    ctx = _ctx()  # 0-1000 grid on a 100 px image: every pixel corner is a text integer, so the round trip is exact
    [out] = _run("seg_polygons", sample, ctx)
    items = _parse_back(out, sample, ctx)
    assert [it.label for it in items] == ["building", "building", "building hole"]
    assert out.target["items"] == [{"label": it.label, "coords": list(it.coords)} for it in items]
    assert np.array_equal(answer_to_mask(items, 100, 100), courtyard())
    assert np.array_equal(answer_to_mask(items, 100, 100, label="building"), courtyard())
    assert not answer_to_mask(items, 100, 100, label="road").any()


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(4, 24), st.integers(4, 24))
def test_polygon_items_round_trip_any_mask(seed, h, w):
    m = (np.random.default_rng(seed).random((h, w)) < 0.45).astype(np.uint8)
    polys = mask_to_polygons(m, min_area=0, simplify_tolerance=0)
    assert np.array_equal(answer_to_mask(polygon_items(polys, "x"), h, w), m)


def test_vertex_budget_holds_and_a_dropped_polygon_is_announced():
    m = np.zeros((200, 200), np.uint8)
    for i in range(6):
        m[10 + 30 * i : 30 + 30 * i, 10:190] = 1  # 6 long bars: 24 vertices at least
    m[185:188, 5:8] = 1  # a small square: the first to go
    sample = _sample(m)
    [out] = _run("seg_polygons", sample, _ctx(max_polygon_vertices=24))
    coords = [len(it["coords"]) // 2 for it in out.target["items"]]
    assert sum(coords) <= 24 and len(coords) == 6
    assert out.target["truncated"] and out.target["total"] == 7
    assert out.answer.endswith("The list is cut after 6 of 7 objects.")


def test_ring_cap_keeps_the_top_polygons():
    m = np.zeros((120, 120), np.uint8)
    for r in range(10):
        for c in range(10):
            m[2 + 12 * r : 8 + 12 * r, 2 + 12 * c : 8 + 12 * c] = 1
    [out] = _run("seg_polygons", _sample(m), _ctx(max_objects=25))
    tops = [min(it["coords"][1::2]) for it in out.target["items"]]
    assert len(tops) == 25 and max(tops) == 2 + 12 * 2  # rows 0-2 (the first 25 in reading order)
    assert out.target["total"] == 100 and out.target["truncated"]


def test_empty_binary_mask_answers_in_words():
    sample = _sample(np.zeros((32, 32), np.uint8))
    [poly] = _run("seg_polygons", sample, _ctx())
    assert poly.answer == "There is no building in this image." and poly.target["items"] == []
    [count] = _run("seg_count", sample, _ctx())
    assert (count.answer, count.target) == ("0", {"type": "number", "value": 0, "class": "building"})
    [exists] = _run("seg_exists", sample, _ctx())
    assert exists.answer == "No"
    assert _run("seg_exists", sample, _ctx(negatives=False)) == []


def test_count_is_the_number_of_components_above_min_area():
    m = np.zeros((40, 40), np.uint8)
    m[2:6, 2:6] = 1
    m[10:20, 10:20] = 1
    m[30, 30] = 1  # one pixel: under min_area
    m[6, 6] = 1  # touches the first square at a corner only: its own (tiny) component
    [out] = _run("seg_count", _sample(m), _ctx())
    assert out.answer == "2" and out.suffix == "/building"


LOVEDA = {1: "background", 2: "building", 3: "road", 4: "water", 5: "barren", 6: "forest", 7: "agriculture"}


def _landcover(nodata=0.0):
    cm = np.ones((100, 100), np.uint8)
    cm[:, 50:] = 6  # forest half
    cm[0, :4] = 3  # 4 px of road: a polygon (min_area is 4), but 0.04% of the image, under the land-cover threshold
    cm[90:, 90:] = 2  # a building of 100 px
    fr = {n: float(np.mean(cm == i)) for i, n in LOVEDA.items()}
    return _sample(cm, kind="semantic", classes=LOVEDA, fractions=fr, nodata=nodata)


def test_landcover_lists_classes_over_the_threshold_with_whole_percents():
    s = _landcover()
    [present] = _run("landcover_present", s, _ctx())
    assert present.answer == "background, building, forest"
    [fraction] = _run("landcover_fraction", s, _ctx())
    assert fraction.answer == "background: 50%, building: 1%, forest: 49%"
    assert fraction.target["fractions"] == {"background": 0.4996, "building": 0.01, "forest": 0.49}


@pytest.mark.parametrize(
    "nodata, negatives, expected",
    [
        (0.0, True, {"yes", "no"}),  # a present class and an absent one
        (0.0, False, {"yes"}),  # negatives switched off
        (0.2, True, {"yes"}),  # an absent class could hide under the no-data: no negative
    ],
)
def test_presence_negatives_only_where_absence_is_certain(nodata, negatives, expected):
    outs = _run("seg_exists", _landcover(nodata), _ctx(negatives=negatives))
    assert {o.target["value"] for o in outs} == expected
    for o in outs:
        cls = o.suffix[1:]
        if o.target["value"] == "no":
            assert cls in ("water", "barren", "agriculture")
        else:
            assert cls in ("building", "road", "forest")
        assert o.prompt.endswith(("Answer yes or no.", "Reply yes or no."))


def test_land_cover_polygons_pick_one_present_class_and_region_phrasing():
    s = _landcover()
    [out] = _run("seg_polygons", s, _ctx())
    assert out.suffix[1:] in ("building", "road", "forest")
    assert "every" not in out.prompt  # region phrasing, not the object pool's "every {cls}"
    assert _run("seg_count", s, _ctx()) == []  # land-cover regions are not counted


def test_deterministic_per_seed_and_key():
    s = _landcover()
    a = [o.prompt + o.answer for t in TASKS for o in _run(t, s, _ctx()) if t.startswith(("seg", "landcover"))]
    b = [o.prompt + o.answer for t in TASKS for o in _run(t, s, _ctx()) if t.startswith(("seg", "landcover"))]
    assert a == b and len(a) >= 5


def test_answer_to_mask_ignores_other_kinds_and_lone_holes():
    hole = RenderItem("polygon", (0, 0, 4, 0, 4, 4), "building" + HOLE_SUFFIX)
    box = RenderItem("hbox", (0, 0, 2, 2), "building")
    assert not answer_to_mask([hole, box], 4, 4).any()
