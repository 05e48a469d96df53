import filecmp
import json

import numpy as np
import pytest
from PIL import Image

from data_converters import get_converter
from data_converters.fakes import make_fake
from data_converters.lim_cd import LIMCD
from ts_instruct.errors import DatasetNotFoundError, StrictModeError
from ts_instruct.pipeline import ConvertOptions, convert_dataset
from ts_instruct.validate import validate_path

from ..conftest import check_golden, read_jsonl
from .change_checks import STYLES, check_pair_record, region_ious

NAME = "lim_cd"
TASKS = ("change_caption", "change_count", "change_exists", "change_fraction", "change_regions", "change_semantic")
IOU_FLOOR = 0.85  # measured 0.991-1.0 on these fakes; qwen25vl's coarse grid on tiny images costs most


@pytest.fixture(scope="module", params=STYLES)
def converted(request, fake_dataset, tmp_path_factory):
    root, info = fake_dataset(NAME)
    out = tmp_path_factory.mktemp(f"out_lim_{request.param}")
    report = convert_dataset(get_converter(NAME)(root), ConvertOptions(out=out, style=request.param, progress=False))
    return out / NAME, report, info, root


def test_levir_mci_is_an_alias():
    assert get_converter("levir_mci") is LIMCD


def test_counts_per_split(converted):
    _, report, info, _ = converted
    splits = report["splits"]
    assert {s: v["units"] for s, v in splits.items()} == info["units"] == {"train": 3, "val": 2, "test": 2}
    assert {s: v["samples"] for s, v in splits.items()} == info["samples"]
    for split, v in splits.items():
        assert [s["file"] for s in v["skips"]] == info["skipped"][split]
        assert v["tasks"] == dict.fromkeys(TASKS, v["samples"])


def test_every_record_validates(converted):
    out, _, _, _ = converted
    summary, issues = validate_path(out)
    assert summary.records == 36
    assert issues == []


def test_categories_and_building_counts_match_the_labels(converted):
    out, _, info, _ = converted
    for r in read_jsonl(out):
        want = info["categories"][r["meta"]["key"] + ".png"]
        got = {"road": 0, "building": 0}
        for c in r["annotations"].get("changes", []):
            got[c["category"]] += 1
        assert got == want
        if r["task"] == "change_count":
            assert r["messages"][1]["content"] == str(want["building"])
        if r["task"] == "change_semantic":
            labels = [item["label"] for item in r["meta"]["target"]["items"]]
            assert sorted(labels) == sorted(c["category"] for c in r["annotations"].get("changes", []))
            assert "(road, building)" in r["messages"][0]["content"] or "road, building" in r["messages"][0]["content"]


def test_category_mask_is_kept_with_the_authors_ids(converted):
    out, _, _, root = converted
    for r in read_jsonl(out, "train-*.jsonl"):
        change, category = r["annotations"]["masks"]
        assert (change["kind"], category["kind"]) == ("change", "semantic_change")
        assert category["classes"] == {"0": "no change", "1": "road", "2": "building"}
        raw = np.asarray(Image.open(root / r["meta"]["images"][0]["source"].replace("/A/", "/label/")))[..., 0]
        saved = np.asarray(Image.open(out / category["path"]))
        assert np.array_equal(saved, np.select([raw == 128, raw == 255], [1, 2], 0))


def test_captions_are_kept_normalised_and_one_is_asked(converted):
    out, _, info, _ = converted
    for r in read_jsonl(out):
        caps = r["annotations"]["captions"]
        assert len(caps) == info["captions"][r["meta"]["key"] + ".png"]
        assert all(c == " ".join(c.split()) and c for c in caps)
        if r["task"] == "change_caption":
            assert r["messages"][1]["content"] in caps
    unchanged = [r for r in read_jsonl(out) if r["meta"]["key"] in info["unchanged"]]
    assert {r["annotations"]["extra"]["changeflag"] for r in unchanged} == {0}
    assert any("the scene is the same as before" in c for c in unchanged[0]["annotations"]["captions"])


def test_pairs_keep_time_order(converted):
    out, _, _, root = converted
    for r in read_jsonl(out):
        check_pair_record(r)
        assert filecmp.cmp(out / r["images"][0], root / r["meta"]["images"][0]["source"], shallow=False)


def test_answer_geometry_rasterises_back_onto_the_change_mask(converted):
    out, _, _, _ = converted
    ious = region_ious(read_jsonl(out), out)
    assert sum(map(len, ious.values())) == 12
    assert all(v >= IOU_FLOOR for values in ious.values() for v in values), ious


def test_tiles_can_be_cut_from_a_levir_cd_fake_on_disk(fake_dataset, tmp_path):
    root, info = fake_dataset(NAME)
    levir, _ = fake_dataset("levir_cd", layout="split")
    again = make_fake(NAME, tmp_path, source_images=levir)
    assert again["sources"] == info["sources"]
    files = sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert all(filecmp.cmp(root / f, tmp_path / f, shallow=False) for f in files)
    src = info["sources"]["images/train/A/train_000001.png"]
    x0, y0, x1, y1 = src["window"]
    tile = np.asarray(Image.open(root / "Levir-MCI-dataset/images/train/A/train_000001.png"))
    scene = np.asarray(Image.open(levir / "train/A" / f"{src['levir_cd']}.png"))
    assert np.array_equal(tile, scene[y0:y1, x0:x1])


def test_missing_captions_file_is_reported_and_pairs_still_convert(tmp_path):
    raw = tmp_path / "raw"
    make_fake(NAME, raw)
    (raw / "Levir-MCI-dataset/LevirCCcaptions.json").write_text(json.dumps({"images": "oops"}), encoding="utf-8")
    report = convert_dataset(get_converter(NAME)(raw), ConvertOptions(out=tmp_path / "o", progress=False))
    train = report["splits"]["train"]
    assert train["samples"] == 3 and train["dropped_parts"] == 3
    assert all("LevirCCcaptions.json" in s["file"] and "'images' must be a list" in s["reason"] for s in train["skips"])
    assert "change_caption" not in train["tasks"]


def test_unknown_label_value_is_reported_and_ignored(tmp_path):
    make_fake(NAME, tmp_path)
    path = tmp_path / "Levir-MCI-dataset/images/val/label/val_000001.png"
    label = np.asarray(Image.open(path)).copy()
    label[:2, :2] = 77
    Image.fromarray(label).save(path)
    items = list(get_converter(NAME)(tmp_path).read("val", "Levir-MCI-dataset/images/val/A/val_000001.png"))
    skip, sample = items
    assert skip.kept and skip.file.endswith("label/val_000001.png") and "[77]" in skip.reason
    assert (sample.annotations.masks[0].pixels[:2, :2] == 255).all()
    assert sample.annotations.masks[0].ignore_index == 255


def test_missing_root_says_how_to_fix(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"'images/<split>/A/'"):
        convert_dataset(get_converter(NAME)(tmp_path), ConvertOptions(out=tmp_path / "o", progress=False))


def test_strict_fails_on_the_missing_later_image(fake_dataset, tmp_path):
    root, _ = fake_dataset(NAME)
    with pytest.raises(StrictModeError, match=r"test/B/test_000002\.png: later \(B\) image is missing"):
        convert_dataset(get_converter(NAME)(root), ConvertOptions(out=tmp_path, strict=True, progress=False))


def test_golden_first_record(fake_dataset, tmp_path):
    root, _ = fake_dataset(NAME)
    convert_dataset(get_converter(NAME)(root), ConvertOptions(out=tmp_path, progress=False))
    check_golden(NAME, read_jsonl(tmp_path / NAME, "train-*.jsonl")[0])
