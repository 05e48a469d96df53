import filecmp

import numpy as np
import pytest
from PIL import Image

from data_converters import get_converter
from ts_instruct.errors import DatasetNotFoundError, StrictModeError
from ts_instruct.pipeline import ConvertOptions, convert_dataset
from ts_instruct.validate import validate_path

from ..conftest import check_golden, read_jsonl
from .change_checks import STYLES, check_pair_record, region_ious

NAME = "levir_cd"
IOU_FLOOR = {"polygon": 0.85, "hbox": 0.85}  # measured min 0.877 (qwen25vl boxes: 64 px seen as 56 units)


@pytest.fixture(scope="module", params=STYLES)
def converted(request, fake_dataset, tmp_path_factory):
    root, info = fake_dataset(NAME)
    out = tmp_path_factory.mktemp(f"out_levir_{request.param}")
    report = convert_dataset(get_converter(NAME)(root), ConvertOptions(out=out, style=request.param, progress=False))
    return out / NAME, report, info, root


@pytest.mark.parametrize("layout", ["flat", "split"])
def test_counts_per_split_in_both_layouts(fake_dataset, tmp_path, layout):
    root, info = fake_dataset(NAME, layout=layout)
    report = convert_dataset(get_converter(NAME)(root), ConvertOptions(out=tmp_path, progress=False))
    splits = report["splits"]
    assert {s: v["units"] for s, v in splits.items()} == info["units"] == {"train": 3, "val": 2, "test": 2}
    assert {s: v["samples"] for s, v in splits.items()} == info["samples"] == {"train": 3, "val": 1, "test": 1}
    for split, v in splits.items():
        assert sorted(s["file"] for s in v["skips"]) == sorted(info["skipped"][split])
        assert v["tasks"] == dict.fromkeys(("change_count", "change_exists", "change_fraction", "change_regions"),
                                           v["samples"])  # fmt: skip


def test_size_mismatch_and_missing_b_are_reported_with_a_clear_reason(converted):
    _, report, _, _ = converted
    (val,) = report["splits"]["val"]["skips"]
    assert "differ in size" in val["reason"] and "64x64" in val["reason"] and "64x48" in val["reason"]
    (test,) = report["splits"]["test"]["skips"]
    assert "missing" in test["reason"] and test["file"].endswith("B/test_2.png")


def test_every_record_validates(converted):
    out, _, _, _ = converted
    summary, issues = validate_path(out)
    assert summary.records == 20
    assert issues == []


def test_pairs_keep_time_order_and_say_which_image_is_which(converted):
    out, _, _, root = converted
    for r in read_jsonl(out):
        check_pair_record(r)
        src_a, src_b = (i["source"] for i in r["meta"]["images"])
        assert src_a.startswith("A/") and src_b.startswith("B/")
        assert filecmp.cmp(out / r["images"][0], root / src_a, shallow=False)
        assert filecmp.cmp(out / r["images"][1], root / src_b, shallow=False)


def test_building_counts_and_regions_match_the_labels(converted):
    out, _, info, _ = converted
    records = read_jsonl(out)
    counts = {r["meta"]["key"]: int(r["messages"][1]["content"]) for r in records if r["task"] == "change_count"}
    assert counts == info["regions"]
    for r in read_jsonl(out):
        assert len(r["annotations"].get("changes", [])) == info["regions"][r["meta"]["key"]]
        assert all(c["category"] == "building" for c in r["annotations"].get("changes", []))


def test_unchanged_pair_is_a_negative(converted):
    out, _, info, _ = converted
    recs = {r["task"]: r for r in read_jsonl(out) if r["meta"]["key"] in info["unchanged"]}
    assert recs["change_exists"]["messages"][1]["content"] == "No"
    assert recs["change_exists"]["annotations"]["negative"] is True
    assert recs["change_fraction"]["messages"][1]["content"] == "0.0%"
    assert recs["change_regions"]["meta"]["target"]["items"] == []
    assert recs["change_count"]["messages"][1]["content"] == "0"


def test_change_mask_is_kept_losslessly_and_matches_the_label(converted):
    out, _, _, root = converted
    for r in read_jsonl(out, "train-*.jsonl"):
        (mask,) = r["annotations"]["masks"]
        assert mask["kind"] == "change" and mask["image_index"] == -1
        saved = np.asarray(Image.open(out / mask["path"]))
        label = np.asarray(Image.open(root / r["meta"]["images"][0]["source"].replace("A/", "label/")))
        label = label.max(axis=2) if label.ndim == 3 else label  # train_3 has an RGB label
        assert np.array_equal(saved, (label >= 128).astype(np.uint8))
        assert r["annotations"]["stats"]["changed_fraction"] == pytest.approx(saved.mean(), abs=1e-6)


def test_answer_geometry_rasterises_back_onto_the_change_mask(converted):
    out, _, _, _ = converted
    ious = region_ious(read_jsonl(out), out)
    assert sum(map(len, ious.values())) == 5
    for kind, values in ious.items():
        assert all(v >= IOU_FLOOR[kind] for v in values), (kind, values)


def test_missing_root_says_how_to_fix(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"not found in root=.*'train/A/\*\.png' or 'A/train_\*\.png'"):
        convert_dataset(get_converter(NAME)(tmp_path / "nope"), ConvertOptions(out=tmp_path / "o", progress=False))


def test_strict_fails_on_the_first_bad_pair(fake_dataset, tmp_path):
    root, _ = fake_dataset(NAME)
    with pytest.raises(StrictModeError, match=r"B/val_2\.png: the pair's images differ in size"):
        convert_dataset(get_converter(NAME)(root), ConvertOptions(out=tmp_path, strict=True, progress=False))


def test_golden_first_record(fake_dataset, tmp_path):
    root, _ = fake_dataset(NAME)
    convert_dataset(get_converter(NAME)(root), ConvertOptions(out=tmp_path, progress=False))
    check_golden(NAME, read_jsonl(tmp_path / NAME, "train-*.jsonl")[0])
