import numpy as np
import pytest
from PIL import Image

from data_converters import get_converter
from ts_instruct.errors import DatasetNotFoundError, StrictModeError
from ts_instruct.pipeline import ConvertOptions, convert_dataset
from ts_instruct.validate import validate_path

from ..conftest import check_golden, read_jsonl
from .change_checks import STYLES, check_pair_record, region_ious

NAME = "hi_ucd"
IOU_FLOOR = 0.85  # measured 0.991-1.0 on these fakes; qwen25vl's coarse grid on tiny images costs most


@pytest.fixture(scope="module", params=STYLES)
def converted(request, fake_dataset, tmp_path_factory):
    root, info = fake_dataset(NAME)
    out = tmp_path_factory.mktemp(f"out_hiucd_{request.param}")
    report = convert_dataset(get_converter(NAME)(root), ConvertOptions(out=out, style=request.param, progress=False))
    return out / "hi_ucd-mini", report, info, root


@pytest.mark.parametrize(
    "version, splits", [("mini", {"train": 2, "val": 1, "test": 2}), ("full", {"train": 2, "val": 1})]
)
def test_counts_per_split_and_version(fake_dataset, tmp_path, version, splits):
    root, info = fake_dataset(NAME, version=version)
    report = convert_dataset(get_converter(NAME)(root, version=version), ConvertOptions(out=tmp_path, progress=False))
    assert {s: v["samples"] for s, v in report["splits"].items()} == info["units"] == splits


def test_every_record_validates(converted):
    out, _, _, _ = converted
    summary, issues = validate_path(out)
    assert summary.records == 20
    assert issues == []


def test_test_split_pairs_other_years_and_prompts_name_them(converted):
    out, _, info, _ = converted
    for r in read_jsonl(out):
        years = info["years"][r["meta"]["split"]]
        assert r["annotations"]["extra"]["years"] == years
        assert [i["source"].split("/")[3] for i in r["meta"]["images"]] == [str(y) for y in years]
        prompt = r["messages"][0]["content"]
        assert str(years[0]) in prompt and str(years[1]) in prompt
        assert prompt.index(str(years[0])) < prompt.index(str(years[1]))
    assert info["years"]["test"] == [2018, 2019] and info["years"]["train"] == [2017, 2018]


def test_from_to_classes_match_mask_merge(converted):
    out, _, info, _ = converted
    for r in read_jsonl(out):
        got: dict[str, int] = {}
        for c in r["annotations"].get("changes", []):
            key = f"{c['from_label']} → {c['to_label']}"
            got[key] = got.get(key, 0) + 1
        assert got == info["transitions"][f"{r['meta']['split']}/{r['meta']['key']}"]


def test_unlabelled_pixels_are_ignored_and_class_maps_kept(converted):
    out, _, _, root = converted
    for r in read_jsonl(out, "train-*.jsonl"):
        change, t1, t2 = r["annotations"]["masks"]
        assert [m["name"] for m in (change, t1, t2)] == ["change", "t1", "t2"]
        merged = np.asarray(
            Image.open(root / "HiUCD_mini/train/mask_merge/2017_2018/9" / f"{r['meta']['key'][3:]}.png")
        )
        saved = np.asarray(Image.open(out / change["path"]))
        assert np.array_equal(saved == 255, merged[..., 2] == 0)
        assert np.array_equal(saved == 1, merged[..., 2] == 2)
        assert np.array_equal(np.asarray(Image.open(out / t1["path"])), merged[..., 0])
        assert np.array_equal(np.asarray(Image.open(out / t2["path"])), merged[..., 1])
        labelled = merged[..., 2] != 0
        want = (merged[..., 2] == 2).sum() / labelled.sum()
        assert r["annotations"]["stats"]["changed_fraction"] == pytest.approx(want, abs=1e-6)


def test_out_of_range_class_id_is_reported(converted):
    _, report, info, _ = converted
    (skip,) = report["splits"]["val"]["skips"]
    assert skip["kept"] and skip["key"] == info["bad_id"][0].split("/")[1] and "class ids [12]" in skip["reason"]


def test_pairs_keep_time_order(converted):
    out, _, _, _ = converted
    for r in read_jsonl(out):
        check_pair_record(r)


def test_unchanged_tile_answers_no(converted):
    out, _, info, _ = converted
    key = info["unchanged"][0].split("/")[1]
    rec = next(r for r in read_jsonl(out, "train-*.jsonl") if r["meta"]["key"] == key and r["task"] == "change_exists")
    assert rec["messages"][1]["content"] == "No"


def test_answer_geometry_rasterises_back_onto_the_change_mask(converted):
    out, _, _, _ = converted
    ious = region_ious(read_jsonl(out), out)
    assert sum(map(len, ious.values())) == 10
    assert all(v >= IOU_FLOOR for values in ious.values() for v in values), ious


def test_missing_root_says_how_to_fix(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"'HiUCD_mini/train/mask_merge/' \(version 'mini'\)"):
        convert_dataset(get_converter(NAME)(tmp_path), ConvertOptions(out=tmp_path / "o", progress=False))


def test_strict_fails_on_the_bad_class_id(fake_dataset, tmp_path):
    root, _ = fake_dataset(NAME)
    with pytest.raises(
        StrictModeError, match=r"mask_merge/2017_2018/9/0001\.png: values out of range; 4 pixel\(s\) with class ids"
    ):
        convert_dataset(get_converter(NAME)(root), ConvertOptions(out=tmp_path, strict=True, progress=False))


def test_golden_first_record(fake_dataset, tmp_path):
    root, _ = fake_dataset(NAME)
    convert_dataset(get_converter(NAME)(root), ConvertOptions(out=tmp_path, progress=False))
    check_golden(NAME, read_jsonl(tmp_path / "hi_ucd-mini", "train-*.jsonl")[0])
