import pytest

from data_converters import get_converter
from ts_instruct.pipeline import ConvertOptions, convert_dataset
from ts_instruct.validate import validate_path

from ..conftest import check_golden, read_jsonl

NAME = "sydney_captions"


@pytest.fixture(scope="module")
def converted(fake_dataset, tmp_path_factory):
    root, info = fake_dataset(NAME)
    out = tmp_path_factory.mktemp("out_sydney_captions")
    report = convert_dataset(get_converter(NAME)(root), ConvertOptions(out=out, progress=False))
    return out / NAME, report, info


def test_counts_per_split_follow_the_split_field(converted):
    _, report, info = converted
    assert (
        {s: v["samples"] for s, v in report["splits"].items()} == info["splits"] == {"train": 10, "val": 2, "test": 2}
    )
    for v in report["splits"].values():
        assert v["tasks"] == {"caption": v["samples"]} and v["skipped"] == 0 and v["dropped_parts"] == 0


def test_one_target_caption_and_all_references_kept(converted):
    out, _, _ = converted
    for r in read_jsonl(out):
        refs = r["annotations"]["captions"]
        assert len(refs) == 4  # five sentences, one repeated
        assert r["messages"][1]["content"] in refs
        assert r["meta"]["target"] == {"type": "text", "value": r["messages"][1]["content"], "references": 4}
        assert all(c[0].isupper() and c.endswith(".") and " ." not in c for c in refs)


def test_tokens_only_sentence_and_unicode_are_read(converted):
    out, _, _ = converted
    by_key = {r["meta"]["key"]: r for r in read_jsonl(out)}
    assert "Some roads go through the dense houses 5." in by_key["5"]["annotations"]["captions"]
    assert "Un quartier résidentiel près du café — «dense»." in by_key["3"]["annotations"]["captions"]


def test_target_caption_choice_is_deterministic_and_varies(converted, fake_dataset, tmp_path):
    out, _, _ = converted
    root, _ = fake_dataset(NAME)
    convert_dataset(get_converter(NAME)(root), ConvertOptions(out=tmp_path, progress=False))
    again = read_jsonl(tmp_path / NAME)
    first = read_jsonl(out)
    assert again == first
    answers = {r["messages"][1]["content"].split(" houses")[0] for r in first}
    assert len(answers) > 1  # different images train on different references


def test_every_record_validates(converted):
    out, _, _ = converted
    summary, issues = validate_path(out)
    assert summary.records == 14 and issues == []


def test_golden_first_record(converted):
    out, _, _ = converted
    check_golden(NAME, read_jsonl(out, "train-*.jsonl")[0])
