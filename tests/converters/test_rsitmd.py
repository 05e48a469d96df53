import pytest

from data_converters import get_converter
from ts_instruct.errors import ConfigError
from ts_instruct.pipeline import ConvertOptions, convert_dataset
from ts_instruct.validate import validate_path

from ..conftest import check_golden, read_jsonl

NAME = "rsitmd"


@pytest.fixture(scope="module")
def converted(fake_dataset, tmp_path_factory):
    root, info = fake_dataset(NAME)
    out = tmp_path_factory.mktemp("out_rsitmd")
    report = convert_dataset(get_converter(NAME)(root), ConvertOptions(out=out, progress=False))
    return out / NAME, report, info


def test_train_and_test_only(converted, fake_dataset):
    _, report, info = converted
    assert set(report["splits"]) == {"train", "test"} == set(info["splits"])
    assert {s: v["samples"] for s, v in report["splits"].items()} == {"train": 3, "test": 2}
    root, _ = fake_dataset(NAME)
    with pytest.raises(ConfigError, match="split must be one of"):
        get_converter(NAME)(root).units("val")


def test_empty_captions_are_dropped_and_reported(converted):
    out, report, info = converted
    train = report["splits"]["train"]
    assert train["dropped_parts"] == info["blank_sentences"] == 1
    assert train["skipped"] == 1
    dropped = next(s for s in train["skips"] if s["kept"])
    assert "images[1].sentences[2] of 'boat_0.tif' is an empty caption" in dropped["reason"]
    whole = next(s for s in train["skips"] if not s["kept"])
    assert "'park_12.tif'" in whole["reason"] and "all 5 sentences were dropped" in whole["reason"]
    boat = next(r for r in read_jsonl(out) if r["meta"]["key"] == "boat_0")
    assert len(boat["annotations"]["captions"]) == 4


def test_keywords_and_class_are_kept(converted):
    out, _, info = converted
    for r in read_jsonl(out):
        name = r["meta"]["images"][0]["source"].rsplit("/", 1)[1]
        assert r["annotations"]["extra"]["keywords"] == info["keywords"][name]
        assert r["annotations"]["extra"]["class"] == name.split("_")[0]


def test_every_record_validates(converted):
    out, _, _ = converted
    summary, issues = validate_path(out)
    assert summary.records == 5 and issues == []


def test_golden_first_record(converted):
    out, _, _ = converted
    check_golden(NAME, read_jsonl(out, "train-*.jsonl")[0])
