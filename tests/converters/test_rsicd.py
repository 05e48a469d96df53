import pytest

from data_converters import get_converter
from ts_instruct.errors import StrictModeError
from ts_instruct.pipeline import ConvertOptions, convert_dataset
from ts_instruct.validate import validate_path

from ..conftest import check_golden, read_jsonl

NAME = "rsicd"


@pytest.fixture(scope="module")
def converted(fake_dataset, tmp_path_factory):
    root, info = fake_dataset(NAME)
    out = tmp_path_factory.mktemp("out_rsicd")
    report = convert_dataset(get_converter(NAME)(root), ConvertOptions(out=out, progress=False))
    return out / NAME, report, info


def test_counts_per_split(converted):
    _, report, info = converted
    splits = report["splits"]
    assert info["splits"] == {"train": 5, "val": 2, "test": 2}
    assert {s: v["samples"] for s, v in splits.items()} == {"train": 4, "val": 2, "test": 2}
    assert splits["train"]["skipped"] == 1 + info["bad_entries"]  # the missing image and the entry without name


def test_missing_image_and_unreadable_entry_are_reported(converted):
    _, report, info = converted
    skips = report["splits"]["train"]["skips"]
    assert [s["file"] for s in skips] == info["missing"] + ["dataset_rsicd.json"]
    assert skips[0]["reason"] == "image file is missing"
    assert "images[9].filename must be a non-empty string" in skips[1]["reason"]


def test_numeric_and_prefixed_names(converted):
    out, _, _ = converted
    extra = {r["meta"]["key"]: r["annotations"].get("extra", {}) for r in read_jsonl(out)}
    assert extra["denseresidential_3"] == {"class": "denseresidential"}
    assert extra["00001"] == {}  # purely numeric: no class
    assert all(r["images"][0].endswith(".jpg") for r in read_jsonl(out))  # JPEGs copied, not re-encoded


def test_repeated_sentences_kept_once_and_raw_tidied(converted):
    out, _, _ = converted
    rec = next(r for r in read_jsonl(out) if r["meta"]["key"] == "airport_1")
    assert rec["annotations"]["captions"] == [
        "Many buildings are around the airport_1.",
        "Some green trees are near the airport_1.",
        "A road goes across the airport_1.",
    ]


def test_placeholder_text_in_a_caption_stays_text(converted):
    out, _, _ = converted
    rec = next(r for r in read_jsonl(out) if r["meta"]["key"] == "beach_2")
    assert "A <image> of a beach." in rec["annotations"]["captions"]
    assert rec["messages"][0]["content"].count("<image>") == 1


def test_every_record_validates(converted):
    out, _, _ = converted
    summary, issues = validate_path(out)
    assert summary.records == 8 and issues == []


def test_strict_fails_on_the_missing_image(fake_dataset, tmp_path):
    root, _ = fake_dataset(NAME)
    with pytest.raises(StrictModeError, match=r"storagetanks_7\.jpg: image file is missing"):
        convert_dataset(get_converter(NAME)(root), ConvertOptions(out=tmp_path, strict=True, progress=False))


def test_golden_first_record(converted):
    out, _, _ = converted
    check_golden(NAME, read_jsonl(out, "train-*.jsonl")[0])
