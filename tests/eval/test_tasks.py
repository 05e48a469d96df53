"""Scorers on hand-made records: fallbacks to annotations, reading free text, and partial answers."""

import numpy as np
import pytest
from PIL import Image

from tests.eval.records import _rect
from ts_instruct.errors import RecordValidationError
from ts_instruct.eval import geometry_tasks as geo
from ts_instruct.eval import text_tasks as text
from ts_instruct.eval.reading import Case, choice_in_text, class_in_text, class_numbers, classes_in_text
from ts_instruct.record import Message, Record
from ts_instruct.render import RenderItem, get_style

STYLE = get_style("qwen3vl")
FRAME = STYLE.frame(500, 500)


def _case(task, prompt, answer, prediction, annotations=None, target=None, n_images=1, root=None):
    meta = {
        "images": [{"width": 500, "height": 500}] * n_images,
        "render": STYLE.describe(),
        "target": target or {},
    }
    record = Record(f"d/test/k/{task}", "d", task, [Message("user", prompt), Message("assistant", answer)],
                    [f"i{i}.png" for i in range(n_images)], annotations or {}, meta)  # fmt: skip
    return Case(record, prediction, root)


def _render(items):
    return STYLE.render(items, FRAME)


@pytest.mark.parametrize(
    "text_, expected",
    [
        ("airport", "airport"),
        ("The scene is an Airport.", "airport"),
        ("dense residential", "dense_residential"),
        ("It shows a medium residential area", "medium_residential"),
        ("beach or forest", "beach"),  # the first class named
        ("nothing I know", None),
        ("", None),
    ],
)
def test_class_in_text(text_, expected):
    assert class_in_text(text_, ["airport", "beach", "forest", "dense_residential", "medium_residential"]) == expected


@pytest.mark.parametrize(
    "answer, expected",
    [
        ("B", "beach"),
        ("b.", "beach"),
        ("(C)", "forest"),
        ("Option A", "airport"),
        ("B. beach", "beach"),
        ("C) forest", "forest"),
        ("A beach", "beach"),  # an article, not option A
        ("forest", "forest"),
        ("Z", None),  # no such option
        ("I don't know", None),
    ],
)
def test_choice_in_text(answer, expected):
    assert choice_in_text(answer, ["airport", "beach", "forest"]) == expected


def test_classes_and_numbers_in_text():
    classes = ["building", "low_vegetation", "water", "road"]
    assert classes_in_text("buildings? no: water and low vegetation", classes) == ["water", "low_vegetation"]
    assert class_numbers("Water 12%, low-vegetation: 30.5 %, road none", classes) == {
        "water": 12.0,
        "low_vegetation": 30.5,
    }


def test_scene_open_unknown_answer_is_unparsed():
    ann = {"scene": "beach", "classes": ["beach", "forest"]}
    cases = [_case("scene_open", "?", "beach", p, ann) for p in ("a beach", "a stadium", "Forest.")]
    s = text.score_scene_open(cases)
    assert s["accuracy"] == pytest.approx(1 / 3) and s["unparsed"] == 1
    assert s["confusion"]["matrix"][0] == [1, 1, 0, 1]  # beach row: beach, forest, <other>, <unparsed>


def test_scene_choice_reads_options_from_the_prompt():
    prompt = "Which?\nA. airport\nB. beach\nAnswer with the letter."
    cases = [_case("scene_choice", prompt, "B. beach", p, {"scene": "beach"}) for p in ("B", "A", "?")]
    s = text.score_scene_choice(cases)
    assert s["accuracy"] == pytest.approx(1 / 3) and s["unparsed"] == 1


def test_reference_without_a_number_fails_loudly():
    with pytest.raises(RecordValidationError, match="holds no number"):
        text.score_count([_case("count", "How many?", "several", "3")])


@pytest.mark.parametrize(
    "reference, prediction, mae",
    [
        ("12%", "12 %", 0.0),
        ("12%", "0.12", 0.0),  # a fraction answer to a percentage reference
        ("12%", "15%", 0.03),
        ("12%", "no idea", 0.12),  # unparsed: counted as 0
    ],
)
def test_change_fraction_units(reference, prediction, mae):
    s = text.score_fraction([_case("change_fraction", "?", reference, prediction)])
    assert s["mae"] == pytest.approx(mae)


def test_class_fractions_count_left_out_classes_as_zero():
    ann = {"classes": ["water", "road"]}
    case = _case("landcover_fraction", "?", "water: 30%, road: 10%", "water 20%", ann)
    s = text.score_class_fractions([case])
    assert s["mae"] == pytest.approx((0.1 + 0.1) / 2) and s["pairs"] == 2 and s["unparsed"] == 0


def test_vqa_question_type_from_annotations():
    ann = {"qa": [{"question": "Is there a road?", "answer": "yes", "qtype": "presence"},
                  {"question": "How many buildings?", "answer": "4", "qtype": "count"}]}  # fmt: skip
    cases = [_case("vqa", "<image>How many buildings?", "4", "four", ann),
             _case("vqa", "<image>Is there a road?", "yes", "No.", ann)]  # fmt: skip
    s = text.score_vqa(cases)
    assert s["per_type"] == {"count": 1.0, "presence": 0.0}


def test_detect_class_takes_the_class_from_the_prompt_and_ignores_labels():
    objects = [{"label": "storage-tank", "hbox": [10, 10, 50, 50]}, {"label": "ship", "hbox": [100, 100, 150, 150]}]
    answer = _render([RenderItem("hbox", (10, 10, 50, 50), label="storage tank")])
    pred = _render([RenderItem("hbox", (10, 10, 50, 50), label="something else")])
    case = _case("detect_class", "Detect every storage tank.", answer, pred, {"objects": objects}, {"kind": "hbox"})
    s = geo.score_detect_class([case])
    assert s["mAP50"] == 1.0 and list(s["per_class"]) == ["storage tank"]


def test_detection_counts_unparsed_and_negative_answers():
    objects = [{"label": "ship", "hbox": [10, 10, 50, 50]}]
    cases = [
        _case("detect_all", "?", "", "I cannot tell", {"objects": objects}, {"kind": "hbox"}),
        _case("detect_all", "?", "", "There are no objects.", {"objects": []}, {"kind": "hbox"}),
        _case("detect_all", "?", "", _render([]), {"objects": []}, {"kind": "hbox"}),
    ]
    s = geo.score_detect_all(cases)
    assert s["unparsed"] == 1 and s["mAP50"] == 0.0


def test_ground_falls_back_to_the_referring_expression():
    refs = [
        {"expression": "the red roof", "hbox": [0, 0, 100, 100]},
        {"expression": "the pool", "hbox": [200, 200, 220, 220]},
    ]
    pred = _render([RenderItem("hbox", (200, 200, 220, 230))])
    s = geo.score_ground([_case("ground", "Where is the pool?", "", pred, {"refs": refs})])
    assert s["mean_iou"] == pytest.approx(400 / 600) and s["Acc@0.5"] == 1.0 and s["Acc@0.7"] == 0.0


def test_seg_without_a_mask_rasterises_the_reference_polygons():
    polygons = [{"label": "building", "exterior": [[10, 10], [30, 10], [30, 30], [10, 30]], "holes": []}]
    half = _render([RenderItem("polygon", _rect(10, 10, 30, 20), label="building")])
    s = geo.score_seg_polygons([_case("seg_polygons", "?", "", half, {"polygons": polygons})])
    assert s["per_class"]["building"]["iou"] == pytest.approx(0.5)


def _mask_case(tmp_path, task, masks, prediction, **kw):
    entries = []
    for i, (kind, arr, classes, index) in enumerate(masks):
        Image.fromarray(arr.astype(np.uint8)).save(tmp_path / f"m{i}.png")
        entries.append({"kind": kind, "path": f"m{i}.png", "classes": classes, "image_index": index,
                        "ignore_index": kw.get("ignore")})  # fmt: skip
    return _case(task, "?", "", prediction, {"masks": entries}, n_images=2, root=tmp_path)


def test_change_regions_against_the_mask_with_no_data(tmp_path):
    chg = np.zeros((500, 500), np.uint8)
    chg[0:10, 0:20] = 1  # 200 changed pixels
    chg[0:10, 20:40] = 255  # no-data, ignored
    pred = _render([RenderItem("polygon", _rect(10, 0, 40, 10))])  # 100 right, 200 on no-data
    case = _mask_case(
        tmp_path, "change_regions", [("change", chg, {"0": "same", "1": "changed"}, -1)], pred, ignore=255
    )
    s = geo.score_change_regions([case])
    assert s["precision"] == 1.0 and s["recall"] == 0.5 and s["iou"] == 0.5


def test_semantic_change_with_two_dates(tmp_path):
    before, after = np.zeros((500, 500), np.uint8), np.zeros((500, 500), np.uint8)
    before[0:10, 0:10], after[0:10, 0:10] = 1, 2  # water -> building
    before[100:110, 0:10], after[100:110, 0:10] = 3, 2  # tree -> building
    classes = {"0": "unchanged", "1": "water", "2": "building", "3": "tree"}
    masks = [("semantic_change", before, classes, 0), ("semantic_change", after, classes, 1)]
    right = _render([RenderItem("polygon", _rect(0, 0, 10, 10), label="water → building"),
                     RenderItem("polygon", _rect(0, 100, 10, 110), label="tree -> building")])  # fmt: skip
    s = geo.score_change_semantic([_mask_case(tmp_path, "change_semantic", masks, right)])
    assert s["miou"] == 1.0 and s["sek"] == pytest.approx(1.0)
    swapped = _render([RenderItem("polygon", _rect(0, 0, 10, 10), label="tree → building"),
                       RenderItem("polygon", _rect(0, 100, 10, 110), label="water -> building")])  # fmt: skip
    s = geo.score_change_semantic([_mask_case(tmp_path, "change_semantic", masks, swapped)])
    assert s["miou"] == 1.0 and s["sek"] < 1.0  # the change is found, its classes are half wrong


def test_split_change_label():
    assert geo.split_change_label("Low-Vegetation → Building") == ("low vegetation", "building")
    assert geo.split_change_label("farmland to road") == ("farmland", "road")
    assert geo.split_change_label(None) == (None, None)
