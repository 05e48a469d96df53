"""The segmentation records score as themselves: reference answers fed back as predictions through the evaluator."""

import pytest

from data_converters import get_converter
from ts_instruct.eval.reading import Case
from ts_instruct.eval.runner import evaluate_cases
from ts_instruct.pipeline import ConvertOptions, convert_dataset, dataset_dir_name
from ts_instruct.record import Record

from ..conftest import read_jsonl
from .seg_checks import answer_and_truth


def _self_scores(fake_dataset, tmp_path, name):
    root, _ = fake_dataset(name)
    conv = get_converter(name)(root)
    convert_dataset(conv, ConvertOptions(out=tmp_path, progress=False))
    out = tmp_path / dataset_dir_name(conv)
    cases = [Case(Record.from_dict(r), r["messages"][1]["content"], out) for r in read_jsonl(out)]
    report = evaluate_cases(cases)
    assert report["unsupported_tasks"] == {}
    return report["results"][name], out


def _pooled_iou(out, cls):
    """IoU of the asked class pooled over the records asking for it, computed here without the evaluator."""
    inter = union = 0
    for r in read_jsonl(out):
        if r["task"] == "seg_polygons" and r["id"].endswith("/" + cls):
            a, b = answer_and_truth(out, r)
            inter, union = inter + int((a & b).sum()), union + int((a | b).sum())
    return inter / union


def test_building_records_score_as_themselves(fake_dataset, tmp_path):
    scores, out = _self_scores(fake_dataset, tmp_path, "whu_building")
    assert scores["seg_count"]["accuracy"] == 1.0
    assert scores["seg_exists"]["accuracy"] == 1.0
    seg = scores["seg_polygons"]
    assert list(seg["per_class"]) == ["building"] and seg["unparsed"] == 0
    assert seg["per_class"]["building"]["iou"] >= 0.95  # only the text grid and simplification cost anything
    assert seg["per_class"]["building"]["iou"] == pytest.approx(_pooled_iou(out, "building"))  # courtyards: holes


def test_land_cover_records_score_as_themselves(fake_dataset, tmp_path):
    scores, out = _self_scores(fake_dataset, tmp_path, "loveda")
    assert scores["seg_exists"]["accuracy"] == 1.0
    assert scores["landcover_present"]["exact_match"] == 1.0
    assert scores["landcover_fraction"]["mae"] == pytest.approx(0, abs=0.006)  # whole percents
    seg = scores["seg_polygons"]
    assert seg["unparsed"] == 0
    for cls, v in seg["per_class"].items():  # each asked class, and no other class
        assert v["iou"] == pytest.approx(_pooled_iou(out, cls)) and v["iou"] >= 0.85
