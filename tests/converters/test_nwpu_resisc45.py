import pytest

from data_converters import get_converter
from ts_instruct.errors import DatasetNotFoundError, StrictModeError
from ts_instruct.pipeline import ConvertOptions, convert_dataset
from ts_instruct.templates import display_name
from ts_instruct.validate import validate_path

from ..conftest import check_golden, read_jsonl

NAME = "nwpu_resisc45"


@pytest.fixture(scope="module")
def converted(fake_dataset, tmp_path_factory):
    root, info = fake_dataset(NAME)
    out = tmp_path_factory.mktemp("out_resisc45")
    report = convert_dataset(get_converter(NAME)(root), ConvertOptions(out=out, progress=False))
    return out / NAME, report, info


def test_counts_per_split_follow_the_split_files(converted):
    _, report, info = converted
    assert info["splits"] == {"train": 4, "val": 4, "test": 4}
    splits = report["splits"]
    assert {s: v["samples"] for s, v in splits.items()} == {"train": 4, "val": 4, "test": 3}
    assert splits["test"]["skipped"] == 1
    for s in splits.values():
        assert s["records"] == 2 * s["samples"]  # scene_open + scene_choice
        assert s["tasks"] == {"scene_choice": s["samples"], "scene_open": s["samples"]}


def test_corrupt_jpeg_is_skipped_and_reported_with_its_file(converted):
    _, report, info = converted
    skips = report["splits"]["test"]["skips"]
    assert [s["file"] for s in skips] == info["corrupt"]
    assert "truncated" in skips[0]["reason"] or "decode" in skips[0]["reason"]


def test_every_record_validates(converted):
    out, _, _ = converted
    summary, issues = validate_path(out)
    assert summary.records == 22
    assert issues == []


def test_folder_with_spaces_maps_to_the_canonical_class(converted):
    out, _, _ = converted
    scenes = {r["annotations"]["scene"] for r in read_jsonl(out)}
    assert scenes == {"airplane", "baseball_diamond", "church", "wetland"}


def test_multiple_choice_has_the_truth_and_dataset_distractors(converted):
    out, _, _ = converted
    classes = {display_name(c) for c in get_converter(NAME).classes}
    for r in read_jsonl(out):
        if r["task"] != "scene_choice":
            continue
        target = r["meta"]["target"]
        options = target["options"]
        assert len(options) == 4 and len(set(options)) == 4
        assert set(options) <= classes
        truth = display_name(r["annotations"]["scene"])
        assert options[ord(target["value"]) - ord("A")] == truth
        assert r["messages"][1]["content"] == f"{target['value']}. {truth}"


def test_hash_split_without_split_files_is_stable(fake_dataset, tmp_path):
    root, _ = fake_dataset(NAME, split_files=False)
    conv = get_converter(NAME)(root)
    units = {s: list(conv.units(s)) for s in conv.splits}
    assert sum(map(len, units.values())) == 12
    assert not set(units["train"]) & set(units["test"])
    assert units == {s: list(get_converter(NAME)(root).units(s)) for s in conv.splits}


def test_missing_root_says_how_to_fix(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"not found in root=.*pass a different --root"):
        convert_dataset(get_converter(NAME)(tmp_path / "nope"), ConvertOptions(out=tmp_path / "o", progress=False))


def test_strict_fails_on_the_corrupt_image(fake_dataset, tmp_path):
    root, _ = fake_dataset(NAME)
    with pytest.raises(StrictModeError, match=r"church_003\.jpg"):
        convert_dataset(get_converter(NAME)(root), ConvertOptions(out=tmp_path, strict=True, progress=False))


def test_golden_first_record(converted):
    out, _, _ = converted
    check_golden(NAME, read_jsonl(out, "train-*.jsonl")[0])


def test_the_class_list_has_the_45_folder_names_of_the_release():
    classes = get_converter(NAME).classes
    assert len(classes) == len(set(classes)) == 45
    assert list(classes) == sorted(classes)  # the release's folders, alphabetical
    assert {"runway", "sea_ice", "thermal_power_station", "wetland"} <= set(classes)
