import numpy as np
import pytest

from data_converters import get_converter
from ts_instruct.errors import DatasetNotFoundError, StrictModeError
from ts_instruct.pipeline import ConvertOptions, convert_dataset, dataset_dir_name
from ts_instruct.render import style_from_meta
from ts_instruct.validate import validate_path

from ..conftest import check_golden, read_jsonl
from .seg_checks import answer_iou, check_polygons, stored_mask

NAME = "whu_building"
VERSIONS = ("aerial", "satellite_ii", "satellite_i")
#: IoU floor of a building answer rasterised back against the source mask, at default settings, on the fake data
IOU_FLOOR = 0.9


def _convert(root, out, version, **opts):
    conv = get_converter(NAME)(root, version=version)
    report = convert_dataset(conv, ConvertOptions(out=out, progress=False, **opts))
    return out / dataset_dir_name(conv), report


@pytest.fixture(scope="module")
def converted(fake_dataset, tmp_path_factory):
    root, info = fake_dataset(NAME)
    out = tmp_path_factory.mktemp("out_whu")
    return {v: (*_convert(root, out, v), info) for v in VERSIONS}


@pytest.mark.parametrize("version", VERSIONS)
def test_counts_per_split_and_skips_name_their_files(converted, version):
    _, report, info = converted[version]
    want = info["versions"][version]
    assert {s: v["samples"] for s, v in report["splits"].items()} == want["splits"]
    for split, v in report["splits"].items():
        assert sorted(s["file"] for s in v["skips"]) == sorted(want["skipped"].get(split, []))
        assert v["tasks"] == {"seg_count": v["samples"], "seg_exists": v["samples"], "seg_polygons": v["samples"]}


@pytest.mark.parametrize("version", VERSIONS)
def test_every_record_validates(converted, version):
    out, report, _ = converted[version]
    summary, issues = validate_path(out)
    assert summary.records == sum(v["records"] for v in report["splits"].values()) > 0
    assert issues == []


@pytest.mark.parametrize("version", VERSIONS)
def test_counts_and_masks_match_the_drawn_buildings(converted, version):
    out, _, info = converted[version]
    records = read_jsonl(out)
    counts = {
        f"{version}/{r['meta']['split']}/{r['meta']['key']}": int(r["messages"][1]["content"])
        for r in records
        if r["task"] == "seg_count"
    }
    assert counts == {k: v for k, v in info["buildings"].items() if k.startswith(version + "/")}
    for r in records:
        if r["task"] == "seg_count":
            key = f"{version}/{r['meta']['split']}/{r['meta']['key']}"
            mask = stored_mask(out, r)
            assert set(np.unique(mask)) <= {0, 1}
            assert int(mask.sum()) == info["pixels"][key]  # gray 0/255, RGB and 0/1 labels all decode the same
            assert r["annotations"]["stats"]["class_fractions"]["building"] == round(mask.mean(), 6)


@pytest.mark.parametrize("version", VERSIONS)
def test_polygons_are_valid_inside_the_image_on_pixel_corners(converted, version):
    out, _, _ = converted[version]
    for r in read_jsonl(out):
        check_polygons(r)


@pytest.mark.parametrize("style", ["qwen25vl", "qwen2vl", "qwen3vl"])
def test_answer_rasterised_back_matches_the_mask(fake_dataset, tmp_path, style):
    root, _ = fake_dataset(NAME)
    out, _ = _convert(root, tmp_path, "aerial", style=style)
    ious = {r["id"]: answer_iou(out, r) for r in read_jsonl(out) if r["task"] == "seg_polygons"}
    print({k: round(v, 4) for k, v in ious.items()})  # reported per sample with -s
    assert len(ious) == 6
    assert min(ious.values()) >= IOU_FLOOR, ious


def test_courtyard_is_a_hole_ring_and_stays_empty_when_read_back(converted):
    out, _, _ = converted["aerial"]
    rec = next(r for r in read_jsonl(out, "train-*.jsonl") if r["task"] == "seg_polygons")
    assert any(p.get("holes") for p in rec["annotations"]["polygons"])
    style = style_from_meta(rec["meta"]["render"])
    img = rec["meta"]["images"][0]
    items = style.parse(rec["messages"][1]["content"], style.frame(img["width"], img["height"]), kind="polygon").items
    assert [it.label for it in items].count("building hole") >= 1
    assert items[-1].label == "building hole"  # holes follow the polygons of their class


def test_empty_mask_gives_negative_answers(converted):
    out, _, _ = converted["aerial"]
    recs = {r["task"]: r for r in read_jsonl(out, "train-*.jsonl") if r["meta"]["key"] == "2"}
    assert recs["seg_polygons"]["messages"][1]["content"] == "There is no building in this image."
    assert recs["seg_polygons"]["meta"]["target"]["items"] == []
    assert recs["seg_count"]["messages"][1]["content"] == "0"
    assert recs["seg_exists"]["meta"]["target"] == {"type": "yes_no", "value": "no", "class": "building"}
    assert "polygons" not in recs["seg_exists"]["annotations"]
    assert stored_mask(out, recs["seg_count"]).max() == 0


def test_mask_of_another_size_is_skipped_with_both_sizes(converted):
    _, report, _ = converted["aerial"]
    skip = next(s for s in report["splits"]["val"]["skips"] if s["file"].endswith("label/4.tif"))
    assert "mask is 112x112 but its image" in skip["reason"] and "is 128x128" in skip["reason"]
    assert skip["key"] == "4" and not skip["kept"]


def test_missing_label_and_corrupt_tiff_are_reported(converted):
    _, report, _ = converted["aerial"]
    missing = next(s for s in report["splits"]["val"]["skips"] if s["file"].endswith("image/5.tif"))
    assert "ground-truth mask is missing" in missing["reason"] and "label/5.tif" in missing["reason"]
    corrupt = report["splits"]["test"]["skips"][0]
    assert corrupt["file"].endswith("test/image/7.tif") and "truncated" in corrupt["reason"]


def test_satellite_i_is_found_under_a_mangled_folder_name(fake_dataset):
    root, _ = fake_dataset(NAME)
    conv = get_converter(NAME)(root, version="satellite_i")
    assert conv.available_splits() == ["test"]
    assert all(u.startswith("Satellite dataset I (global cities)/image/") for u in conv.units("test"))


@pytest.mark.parametrize("version", VERSIONS)
def test_missing_root_says_how_to_fix(tmp_path, version):
    with pytest.raises(DatasetNotFoundError, match=rf"not found in root=.*{version} subset.*pass a different --root"):
        _convert(tmp_path / "nope", tmp_path / "o", version)


def test_strict_fails_on_the_first_skip(fake_dataset, tmp_path):
    root, _ = fake_dataset(NAME)
    with pytest.raises(StrictModeError, match=r"label/4\.tif"):
        _convert(root, tmp_path, "aerial", strict=True, splits=["val"])


def test_golden_first_record(converted):
    out, _, _ = converted["aerial"]
    check_golden(NAME, read_jsonl(out, "train-*.jsonl")[0])
