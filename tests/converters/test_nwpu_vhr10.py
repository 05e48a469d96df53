import shutil

import pytest

from data_converters import get_converter
from ts_instruct.errors import DatasetNotFoundError, StrictModeError
from ts_instruct.pipeline import ConvertOptions, convert_dataset
from ts_instruct.sample import Sample, Skip
from ts_instruct.validate import validate_path

from ..conftest import check_golden, read_jsonl

NAME = "nwpu_vhr10"
BASE = "NWPU VHR-10 dataset"


@pytest.fixture(scope="module")
def raw(fake_dataset):
    return fake_dataset(NAME)


@pytest.fixture(scope="module")
def converted(raw, tmp_path_factory):
    out = tmp_path_factory.mktemp("out_vhr10")
    return out / NAME, convert_dataset(get_converter(NAME)(raw[0]), ConvertOptions(out=out, progress=False))


def read(root, rel):
    conv = get_converter(NAME)(root)
    split = next(s for s in conv.splits if rel in conv.units(s))
    items = list(conv.read(split, rel))
    return [i for i in items if isinstance(i, Sample)], [i for i in items if isinstance(i, Skip)]


def test_record_counts_per_split(converted, raw):
    _, info = raw
    out, report = converted
    splits = report["splits"]
    # the hash split of the fake's 11 images; a change here means images moved between splits
    assert {s: v["samples"] for s, v in splits.items()} == {"train": 6, "val": 2, "test": 1}
    assert sum(v["samples"] for v in splits.values()) == info["samples"]
    objects = sum(len(r["annotations"].get("objects", [])) for r in read_jsonl(out) if r["task"] == "detect_all")
    assert objects == info["objects"]
    negatives = {r["meta"]["key"] for r in read_jsonl(out) if r["annotations"].get("negative")}
    assert negatives == {"negative_001", "negative_002", "negative_003"}
    assert sum(v["records"] for v in splits.values()) == 5 * info["samples"] - len(negatives)


def test_every_record_validates(converted):
    out, _ = converted
    summary, issues = validate_path(out)
    assert summary.records == 42
    assert issues == []


def test_split_is_stable_when_files_are_added(raw, tmp_path):
    root = tmp_path / "more"
    shutil.copytree(raw[0], root)
    before = {s: set(get_converter(NAME)(root).units(s)) for s in ("train", "val", "test")}
    assert not (before["train"] & before["val"]) and not (before["train"] & before["test"])
    for i in range(9, 40):
        shutil.copy(root / BASE / "positive image set/001.jpg", root / BASE / f"positive image set/{i:03d}.jpg")
    after = {s: set(get_converter(NAME)(root).units(s)) for s in ("train", "val", "test")}
    for s in before:
        assert before[s] <= after[s]  # nothing moved
    assert sum(map(len, after.values())) == 11 + 31 and all(after.values())


def test_stray_spaces_blank_lines_and_crlf(raw):
    root, _ = raw
    assert b"\r\n\r\n" in (root / BASE / "ground truth/002.txt").read_bytes()
    (sample,), skips = read(root, f"{BASE}/positive image set/002.jpg")
    assert skips == []
    assert [(o.label, o.hbox) for o in sample.annotations.objects] == [
        ("ship", [10.0, 12.0, 40.0, 30.0]),
        ("storage_tank", [45.0, 50.0, 60.0, 62.0]),
    ]
    assert all(o.qbox is None for o in sample.annotations.objects)


def test_swapped_corners_are_sorted(raw):
    (sample,), _ = read(raw[0], f"{BASE}/positive image set/006.jpg")
    assert sample.annotations.objects[0].hbox == [10.0, 12.0, 40.0, 30.0]
    assert sample.annotations.objects[0].label == "ground_track_field"  # class id 7


def test_malformed_lines_are_reported_and_the_rest_kept(raw):
    root, info = raw
    (sample,), skips = read(root, f"{BASE}/positive image set/003.jpg")
    assert [(s.file, s.line) for s in skips] == info["dropped"]
    assert all(s.kept for s in skips) and "class_id" in skips[1].reason
    assert [o.label for o in sample.annotations.objects] == ["baseball_diamond", "tennis_court"]


def test_negative_image_is_a_negative_sample(raw):
    (sample,), skips = read(raw[0], f"{BASE}/negative image set/002.jpg")
    assert skips == [] and sample.key == "negative_002"
    assert sample.annotations.objects == [] and sample.annotations.negative
    assert sample.annotations.classes == list(get_converter(NAME).classes)


def test_corrupt_image_and_missing_ground_truth_are_skipped(converted, raw):
    _, info = raw
    _, report = converted
    skips = [s for v in report["splits"].values() for s in v["skips"] if not s["kept"]]
    assert sorted(s["file"] for s in skips) == sorted(info["corrupt"] + info["missing_gt"])


def test_missing_root_says_how_to_fix(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"not found in root=.*positive image set.*--root"):
        convert_dataset(get_converter(NAME)(tmp_path / "nope"), ConvertOptions(out=tmp_path / "o", progress=False))


def test_strict_fails(raw, tmp_path):
    with pytest.raises(StrictModeError, match=r"ground truth/003.txt:2"):
        convert_dataset(get_converter(NAME)(raw[0]), ConvertOptions(out=tmp_path, strict=True, progress=False))


def test_golden_first_record(converted):
    out, _ = converted
    check_golden(NAME, read_jsonl(out, "train-*.jsonl")[0])


def test_object_outside_the_image_is_reported_and_dropped(raw, tmp_path):
    root = tmp_path / "outside"
    shutil.copytree(raw[0], root)
    gt = root / BASE / "ground truth/007.txt"
    gt.write_text(gt.read_text() + "(500,500),(520,520),1\n")
    (sample,), skips = read(root, f"{BASE}/positive image set/007.jpg")
    assert [o.label for o in sample.annotations.objects] == ["bridge"]
    (skip,) = skips
    assert skip.kept and skip.file == f"{BASE}/positive image set/007.jpg" and "lies outside" in skip.reason
