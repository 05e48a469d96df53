import numpy as np
import pytest
from PIL import Image

from data_converters import get_converter
from ts_instruct.errors import ConfigError, DatasetNotFoundError, StrictModeError
from ts_instruct.pipeline import ConvertOptions, convert_dataset
from ts_instruct.validate import validate_path

from ..conftest import check_golden, read_jsonl
from .change_checks import STYLES, check_pair_record, region_ious

NAME = "cdd"
IOU_FLOOR = 0.85  # measured 0.991-1.0 on these fakes; qwen25vl's coarse grid on tiny images costs most


@pytest.fixture(scope="module", params=STYLES)
def converted(request, fake_dataset, tmp_path_factory):
    root, info = fake_dataset(NAME, model=True)
    out = tmp_path_factory.mktemp(f"out_cdd_{request.param}")
    report = convert_dataset(get_converter(NAME)(root), ConvertOptions(out=out, style=request.param, progress=False))
    return out / "cdd-real", report, info, root


def test_counts_per_split(converted):
    _, report, info, _ = converted
    splits = report["splits"]
    assert {s: v["units"] for s, v in splits.items()} == info["units"]
    assert {s: v["samples"] for s, v in splits.items()} == info["samples"] == {"train": 3, "val": 1, "test": 1}
    for split, v in splits.items():
        assert [s["file"] for s in v["skips"]] == info["skipped"][split]


@pytest.mark.parametrize("version", ["with_shift", "without_shift"])
def test_synthetic_model_versions_read_jpeg_and_bmp_masks(fake_dataset, tmp_path, version):
    root, info = fake_dataset(NAME, model=True)
    report = convert_dataset(get_converter(NAME)(root, version=version), ConvertOptions(out=tmp_path, progress=False))
    assert {s: v["samples"] for s, v in report["splits"].items()} == info["model_units"]
    out = tmp_path / f"cdd-{version}"
    assert validate_path(out)[1] == []
    assert all(r["annotations"].get("changes") for r in read_jsonl(out))  # every synthetic pair has changes


def test_every_record_validates(converted):
    out, _, _, _ = converted
    summary, issues = validate_path(out)
    assert summary.records == 15
    assert issues == []


def test_jpeg_mask_noise_is_thresholded_back_to_the_drawn_shapes(converted):
    out, _, info, root = converted
    for r in read_jsonl(out, "*.jsonl"):
        if r["task"] != "change_exists":
            continue
        split, key = r["meta"]["split"], r["meta"]["key"]
        clean = info["labels"][f"{split}/{key}"] > 0
        raw = np.asarray(Image.open(root / r["meta"]["images"][0]["source"].replace("/A/", "/OUT/")))
        assert len(np.unique(raw)) > 2 or not clean.any()  # the fake mask really carries JPEG noise
        saved = np.asarray(Image.open(out / r["annotations"]["masks"][0]["path"]))
        assert set(np.unique(saved).tolist()) <= {0, 1}
        assert np.array_equal(saved.astype(bool), clean)


def test_pairs_keep_time_order(converted):
    out, _, _, _ = converted
    for r in read_jsonl(out):
        check_pair_record(r)
        assert [i["source"].split("/")[-2] for i in r["meta"]["images"]] == ["A", "B"]


def test_unchanged_pair_answers_no(converted):
    out, _, info, _ = converted
    (rec,) = [r for r in read_jsonl(out, "train-*.jsonl") if r["task"] == "change_exists" and
              r["meta"]["key"] in info["unchanged"]]  # fmt: skip
    assert rec["messages"][1]["content"] == "No"


def test_answer_geometry_rasterises_back_onto_the_change_mask(converted):
    out, _, _, _ = converted
    ious = region_ious(read_jsonl(out), out)
    assert sum(map(len, ious.values())) == 5
    assert all(v >= IOU_FLOOR for values in ious.values() for v in values), ious


def test_unknown_version_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="version must be one of"):
        get_converter(NAME)(tmp_path, version="model")


def test_missing_root_says_how_to_fix(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"'Real/subset/train/A/' \(version 'real'\)"):
        convert_dataset(get_converter(NAME)(tmp_path), ConvertOptions(out=tmp_path / "o", progress=False))


def test_strict_fails_on_the_size_mismatch(fake_dataset, tmp_path):
    root, _ = fake_dataset(NAME, model=True)
    with pytest.raises(StrictModeError, match=r"val/B/00001\.jpg: the pair's images differ in size"):
        convert_dataset(get_converter(NAME)(root), ConvertOptions(out=tmp_path, strict=True, progress=False))


def test_golden_first_record(fake_dataset, tmp_path):
    root, _ = fake_dataset(NAME, model=True)
    convert_dataset(get_converter(NAME)(root), ConvertOptions(out=tmp_path, progress=False))
    check_golden(NAME, read_jsonl(tmp_path / "cdd-real", "train-*.jsonl")[0])
