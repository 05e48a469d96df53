"""RSVQA-LR and RSVQA-HR share one family: every test runs on both."""

import json
import shutil

import pytest

from data_converters import get_converter
from data_converters.families.vqa import normalise_answer, normalise_qtype
from ts_instruct.errors import DatasetNotFoundError, InvalidAnnotationError
from ts_instruct.pipeline import ConvertOptions, convert_dataset
from ts_instruct.validate import validate_path

from ..conftest import check_golden, read_jsonl

SETS = {
    "rsvqa_lr": {"splits": ("train", "val", "test"), "qtypes": {"count", "presence", "comp", "rural_urban"}},
    "rsvqa_hr": {"splits": ("train", "val", "test", "test_phili"), "qtypes": {"count", "presence", "comp", "area"}},
}


@pytest.fixture(scope="module", params=sorted(SETS))
def converted(request, fake_dataset, tmp_path_factory):
    name = request.param
    root, info = fake_dataset(name)
    out = tmp_path_factory.mktemp(f"out_{name}")
    report = convert_dataset(get_converter(name)(root), ConvertOptions(out=out, progress=False))
    return name, out / name, report, info, root


def test_counts_per_split(converted):
    name, _, report, info, _ = converted
    assert tuple(report["splits"]) == SETS[name]["splits"]  # HR's test_phili kept as its own split
    assert {s: v["samples"] for s, v in report["splits"].items()} == info["samples"]
    assert {s: v["records"] for s, v in report["splits"].items()} == info["records"]
    for v in report["splits"].values():
        assert v["tasks"] == {"vqa": v["records"]}


def test_inactive_placeholders_are_filtered(converted):
    name, out, _, _, root = converted
    conv = get_converter(name)(root)
    for split in SETS[name]["splits"]:
        listed = json.loads((root / conv.split_file(split, "questions")).read_text(encoding="utf-8"))["questions"]
        active = {str(q["id"]) for q in listed if q["active"]}
        assert len(active) < len(listed)  # the file lists every question of the dataset
        got = {r["annotations"]["qa"][0]["id"] for r in read_jsonl(out, f"{split}-*.jsonl")}
        assert got and got <= active


def test_one_record_per_question_with_its_type_and_normalised_answer(converted):
    name, out, _, _, _ = converted
    records = read_jsonl(out)
    assert len({r["id"] for r in records}) == len(records)
    for r in records:
        (qa,) = r["annotations"]["qa"]  # only this record's question
        assert r["id"].endswith(f"/vqa/q{qa['id']}")
        assert r["messages"][1]["content"] == qa["answer"] == r["meta"]["target"]["value"]
        assert r["meta"]["target"] == {"type": "text", "value": qa["answer"], "qtype": qa["qtype"]}
        assert qa["question"] in r["messages"][0]["content"]
        assert qa["answer"] == qa["answer"].lower()
    assert {r["annotations"]["qa"][0]["qtype"] for r in records} == SETS[name]["qtypes"]
    answers = {r["annotations"]["qa"][0]["answer"] for r in records}
    assert {"yes", "no", "12", "4"} <= answers  # "Yes" lower-cased, "4.0" as an integer
    assert any("café" in r["messages"][0]["content"] for r in records)


def test_missing_image_and_orphan_question_are_reported(converted):
    _, _, report, info, _ = converted
    train = report["splits"]["train"]
    files = [s["file"] for s in train["skips"]]
    assert info["missing"][0] in files
    orphan = next(s for s in train["skips"] if "not an active entry" in s["reason"])
    assert f"refer to image {info['orphan_image']}" in orphan["reason"]
    assert train["skipped"] == 2


def test_unanswered_question_and_unreadable_entry_drop_one_question(converted):
    _, _, report, info, _ = converted
    val = report["splits"]["val"]
    assert (
        val["dropped_parts"] == 1 and f"question {info['unanswered']} has no active answer" in val["skips"][0]["reason"]
    )
    test = report["splits"]["test"]
    assert test["dropped_parts"] == 1 and "'img_id' must be an integer, got 'five'" in test["skips"][0]["reason"]


def test_every_record_validates(converted):
    _, out, _, _, _ = converted
    summary, issues = validate_path(out)
    assert summary.records > 0 and issues == []


def test_golden_first_record(converted):
    name, out, _, _, _ = converted
    check_golden(name, read_jsonl(out, "train-*.jsonl")[0])


@pytest.mark.parametrize("name", sorted(SETS))
def test_malformed_json_names_the_file(name, fake_dataset, tmp_path):
    src, _ = fake_dataset(name)
    root = tmp_path / "raw"
    shutil.copytree(src, root)
    conv = get_converter(name)(root)
    (root / conv.split_file("val", "answers")).write_text('{"answers": [{"id": 0,\n "active": tru', encoding="utf-8")
    with pytest.raises(InvalidAnnotationError, match=rf"{conv.split_file('val', 'answers')}:2: not valid JSON"):
        conv.units("val")
    assert conv.units("train")  # the other splits still read


@pytest.mark.parametrize("name", sorted(SETS))
def test_missing_root_names_the_split_files(name, tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"_split_train_images\.json"):
        convert_dataset(get_converter(name)(tmp_path / "nope"), ConvertOptions(out=tmp_path / "o", progress=False))


@pytest.mark.parametrize(
    "answer, qtype, expected",
    [
        ("Yes", "presence", "yes"),  # capitalised yes/no
        (" no. ", "comp", "no"),  # spaces and final stop
        ("12", "count", "12"),  # plain count
        ("4.0", "count", "4"),  # count written as a float
        ("many", "count", "many"),  # not a number: kept
        ("Between 10m2  and 100m2", "area", "between 10m2 and 100m2"),  # HR area bin
        ("Rural", "rural_urban", "rural"),  # LR rural/urban
    ],
)
def test_normalise_answer(answer, qtype, expected):
    assert normalise_answer(answer, qtype) == expected


@pytest.mark.parametrize(
    "raw, expected", [("count", "count"), ("Rural Urban", "rural_urban"), (None, None), ("", None)]
)
def test_normalise_qtype(raw, expected):
    assert normalise_qtype(raw) == expected
