import shutil

import pytest

from data_converters import get_converter
from data_converters.voc_xml import parse_xml
from ts_instruct.errors import DatasetNotFoundError, InvalidAnnotationError, StrictModeError
from ts_instruct.pipeline import ConvertOptions, convert_dataset
from ts_instruct.sample import Sample, Skip
from ts_instruct.validate import validate_path

from ..conftest import check_golden, read_jsonl

NAMES = ("dior", "dior_r")
KIND = {"dior": "hbox", "dior_r": "qbox"}


@pytest.fixture(scope="module")
def raw(fake_dataset):
    return fake_dataset("dior")


@pytest.fixture(scope="module")
def converted(raw, tmp_path_factory):
    root, _ = raw
    out = {}
    for name in NAMES:
        dest = tmp_path_factory.mktemp(f"out_{name}")
        out[name] = (dest / name, convert_dataset(get_converter(name)(root), ConvertOptions(out=dest, progress=False)))
    return out


def read_id(name, root, split, image_id):
    items = list(get_converter(name)(root).read(split, image_id))
    return [i for i in items if isinstance(i, Sample)], [i for i in items if isinstance(i, Skip)]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("split", ["train", "val", "test"])
def test_record_counts_per_split(converted, raw, name, split):
    _, info = raw
    out, report = converted[name]
    s = report["splits"][split]
    assert s["samples"] == info["samples"][split]
    assert sorted(k["key"] for k in s["skips"] if not k["kept"]) == info["skipped"][split]
    negatives = len({r["meta"]["key"] for r in read_jsonl(out, f"{split}-*.jsonl") if r["annotations"].get("negative")})
    assert s["records"] == 5 * s["samples"] - negatives


@pytest.mark.parametrize("name", NAMES)
def test_every_record_validates(converted, name):
    out, _ = converted[name]
    summary, issues = validate_path(out)
    assert summary.records == 24
    assert issues == []


@pytest.mark.parametrize("name", NAMES)
def test_mixed_case_names_map_to_the_documented_classes(raw, name):
    (sample,), skips = read_id(name, raw[0], "train", "00001")
    assert skips == []
    assert [o.label for o in sample.annotations.objects] == ["golf_field", "expressway_service_area"]
    assert sample.annotations.objects[1].difficult and not sample.annotations.objects[0].difficult
    assert sample.annotations.classes == list(get_converter(name).classes)
    assert sample.images[0].source == "DIOR/JPEGImages-trainval/JPEGImages-trainval/00001.jpg"  # doubled folder


def test_dior_r_reads_robndbox_corners_and_ignores_the_sibling_angle(raw):
    (sample,), _ = read_id("dior_r", raw[0], "train", "00001")
    diamond = sample.annotations.objects[1]
    assert diamond.qbox == [50.0, 72.0, 70.0, 55.0, 90.0, 72.0, 70.0, 90.0]  # LT RT RB LB → canonical order
    assert diamond.hbox == [50.0, 55.0, 90.0, 90.0]
    (hbb,), _ = read_id("dior", raw[0], "train", "00001")
    assert hbb.annotations.objects[1].qbox is None and hbb.annotations.objects[1].hbox == [50.0, 55.0, 90.0, 90.0]


def test_missing_size_and_bndbox_only_object(raw):
    root, _ = raw
    assert "<size>" not in (root / "DIOR/Annotations/Oriented_Bounding_Boxes/00002.xml").read_text()
    (sample,), skips = read_id("dior_r", root, "train", "00002")
    assert skips == [] and (sample.images[0].width, sample.images[0].height) == (96, 96)
    ship = sample.annotations.objects[0]
    assert ship.label == "ship" and ship.qbox == [20.0, 20.0, 40.0, 20.0, 40.0, 30.0, 20.0, 30.0]


@pytest.mark.parametrize("name", NAMES)
def test_bad_objects_are_reported_with_file_line_and_field_and_the_rest_kept(raw, name):
    _, info = raw
    (sample,), skips = read_id(name, raw[0], "val", "00003")
    assert [o.label for o in sample.annotations.objects] == ["vehicle"]
    assert all(s.kept and s.file.endswith("00003.xml") and s.line for s in skips)
    assert [s.reason.split("'")[1] for s in skips] == info["dropped"][KIND[name]]
    xml = (raw[0] / skips[0].file).read_text().splitlines()
    assert "1O3" in xml[skips[0].line - 1]  # the line of the box holding the bad number
    assert "<object>" in xml[skips[1].line - 1]  # the line of the object with the unknown class


def test_box_past_the_border_is_clipped(raw):
    (sample,), _ = read_id("dior_r", raw[0], "test", "00006")
    (windmill,) = sample.annotations.objects
    assert windmill.hbox == [80.0, 10.0, 96.0, 30.0] and max(windmill.qbox[0::2]) == 96.0
    assert not windmill.truncated  # 80% inside


def test_image_without_objects_is_a_negative_sample(raw):
    (sample,), _ = read_id("dior", raw[0], "val", "00004")
    assert sample.annotations.objects == [] and sample.annotations.negative


def test_corrupt_image_missing_and_malformed_xml_are_skipped(converted, raw):
    _, info = raw
    _, report = converted["dior"]
    skips = {s["key"]: s for s in report["splits"]["test"]["skips"]}
    assert skips["00005"]["file"] == info["corrupt"][0]
    assert "missing" in skips["00007"]["reason"]
    assert skips["00008"]["line"] == 4 and "malformed XML" in skips["00008"]["reason"]


def test_underscore_and_flat_folders_are_read_too(raw, tmp_path):
    root = tmp_path / "flat"
    shutil.copytree(raw[0] / "DIOR", root)
    (root / "Annotations/Horizontal Bounding Boxes").rename(root / "Annotations/Horizontal_Bounding_Boxes")
    nested = root / "JPEGImages-trainval" / "JPEGImages-trainval"
    for f in nested.iterdir():
        f.rename(root / "JPEGImages-trainval" / f.name)
    nested.rmdir()
    (sample,), _ = read_id("dior", root, "train", "00001")
    assert sample.images[0].source == "JPEGImages-trainval/00001.jpg"
    assert len(sample.annotations.objects) == 2


def test_xml_entities_are_refused():
    bomb = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xxxxxxxx">]><annotation>&x;</annotation>'
    with pytest.raises(InvalidAnnotationError, match="entity declarations"):
        parse_xml(bomb, path="bomb.xml")


@pytest.mark.parametrize("name", NAMES)
def test_missing_root_says_how_to_fix(tmp_path, name):
    with pytest.raises(DatasetNotFoundError, match=r"not found in root=.*ImageSets/Main.*--root"):
        convert_dataset(get_converter(name)(tmp_path / "nope"), ConvertOptions(out=tmp_path / "o", progress=False))


def test_strict_fails_on_the_first_dropped_object(raw, tmp_path):
    with pytest.raises(StrictModeError, match=r"00003.xml:\d+"):
        convert_dataset(get_converter("dior_r")(raw[0]), ConvertOptions(out=tmp_path, strict=True, progress=False))


@pytest.mark.parametrize("name", NAMES)
def test_golden_first_record(converted, name):
    out, _ = converted[name]
    check_golden(name, read_jsonl(out, "train-*.jsonl")[0])
