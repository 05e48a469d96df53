import pytest

from data_converters import get_converter
from data_converters.families.classification import stable_split
from ts_instruct.errors import DatasetNotFoundError, StrictModeError
from ts_instruct.pipeline import ConvertOptions, convert_dataset
from ts_instruct.validate import validate_path

from ..conftest import check_golden, read_jsonl

NAME = "whu_rs19"


@pytest.fixture(scope="module")
def converted(fake_dataset, tmp_path_factory):
    root, info = fake_dataset(NAME)
    out = tmp_path_factory.mktemp("out_whu_rs19")
    report = convert_dataset(get_converter(NAME)(root), ConvertOptions(out=out, progress=False))
    return out / NAME, report, info, root


def test_counts_follow_the_seeded_split(converted):
    _, report, info, root = converted
    conv = get_converter(NAME)(root)
    expected = {"train": 0, "val": 0, "test": 0}
    for rel in info["labels"]:
        folder, name = rel.split("/")[1:]
        expected[stable_split(f"{conv.class_of(folder)}/{name.lower()}", conv.split_fractions)] += 1
    got = {s: v["samples"] + v["skipped"] for s, v in report["splits"].items()}
    assert got == expected and sum(got.values()) == 15


def test_class_comes_from_the_folder_not_the_file_name(converted):
    out, _, info, _ = converted
    by_source = {r["meta"]["images"][0]["source"]: r["annotations"]["scene"] for r in read_jsonl(out)}
    expected = {k: v for k, v in info["labels"].items() if k not in info["corrupt"]}
    assert by_source == expected
    assert by_source["WHU-RS19/Park/parking_03.jpg"] == "park"  # the name says parking, the folder park
    assert by_source["WHU-RS19/footballField/footballField-02.jpg"] == "football_field"  # camel case via alias
    assert by_source["WHU-RS19/railwayStation/railwayStation_01.jpg"] == "railway_station"


def test_corrupt_jpeg_is_skipped_and_reported(converted):
    _, report, info, _ = converted
    skips = [s for v in report["splits"].values() for s in v["skips"]]
    assert [s["file"] for s in skips] == info["corrupt"]


def test_every_record_validates(converted):
    out, _, _, _ = converted
    summary, issues = validate_path(out)
    assert summary.records == 28 and issues == []


@pytest.mark.parametrize(
    "folder, expected",
    [
        ("Airport", "airport"),  # original capitalised folder
        ("airport", "airport"),  # lower-case mirror
        ("footballField", "football_field"),  # camel case, alias table
        ("Football Field", "football_field"),  # spaced spelling normalises directly
        ("railwayStation", "railway_station"),  # camel case, alias table
        ("Harbour", None),  # not a WHU-RS19 class
    ],
)
def test_class_of_folder(folder, expected, tmp_path):
    assert get_converter(NAME)(tmp_path).class_of(folder) == expected


def test_split_does_not_depend_on_the_top_folder_or_casing(fake_dataset, tmp_path):
    root, _ = fake_dataset(NAME)
    conv = get_converter(NAME)(root)
    a = conv.split_key(root / "WHU-RS19" / "Airport" / "airport_01.jpg")
    b = conv.split_key(tmp_path / "RSDataset" / "airport" / "AIRPORT_01.JPG")
    assert a == b == "airport/airport_01.jpg"


def test_strict_fails_on_the_corrupt_image(fake_dataset, tmp_path):
    root, _ = fake_dataset(NAME)
    with pytest.raises(StrictModeError, match=r"beach-03\.jpg"):
        convert_dataset(get_converter(NAME)(root), ConvertOptions(out=tmp_path, strict=True, progress=False))


def test_missing_root_says_how_to_fix(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="WHU-RS19"):
        convert_dataset(get_converter(NAME)(tmp_path / "nope"), ConvertOptions(out=tmp_path / "o", progress=False))


def test_golden_first_record(converted):
    out, _, _, _ = converted
    check_golden(NAME, read_jsonl(out, "train-*.jsonl")[0])


def test_keys_carry_the_class_so_they_stay_unique(converted):
    out, _, _, _ = converted
    keys = [r["meta"]["key"] for r in read_jsonl(out) if r["task"] == "scene_open"]
    assert len(keys) == len(set(keys)) == 14
    assert "park__parking_03" in keys and "football_field__footballField-02" in keys
