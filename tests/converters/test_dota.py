import itertools

import numpy as np
import pytest
from PIL import Image

import data_converters.families.detection as detection_family
from data_converters import get_converter
from ts_instruct.errors import ConfigError, DatasetNotFoundError, StrictModeError
from ts_instruct.geometry import from_window
from ts_instruct.pipeline import ConvertOptions, convert_dataset
from ts_instruct.sample import Sample, Skip, Window
from ts_instruct.validate import validate_path

from ..conftest import check_golden, read_jsonl

NAME = "dota"
VERSIONS = ("v1.0", "v1.5", "v2.0")
TASKS_PER_SAMPLE = 5  # detect_all, detect_class, count, exists, classify_box (not for negatives)


def read_unit(conv, split, stem):
    (unit,) = [u for u in conv.units(split) if u.endswith(f"/{stem}.txt")]
    items = list(conv.read(split, unit))
    return [i for i in items if isinstance(i, Sample)], [i for i in items if isinstance(i, Skip)]


@pytest.fixture(scope="module")
def raw(fake_dataset):
    return fake_dataset(NAME)


@pytest.fixture(scope="module")
def converted(raw, tmp_path_factory):
    root, _ = raw
    results = {}
    for version in VERSIONS:
        out = tmp_path_factory.mktemp(f"out_dota_{version}")
        conv = get_converter(NAME)(root, version=version, negative_rate=1.0)
        results[version] = (out / f"dota-{version}", convert_dataset(conv, ConvertOptions(out=out, progress=False)))
    return results


@pytest.mark.parametrize("version, split", list(itertools.product(VERSIONS, ("train", "val"))))
def test_record_counts_per_split_and_version(converted, raw, version, split):
    _, info = raw
    out, report = converted[version]
    s = report["splits"][split]
    assert s["samples"] == info["samples"][version][split]
    records = read_jsonl(out, f"{split}-*.jsonl")
    negatives = {r["meta"]["key"] for r in records if r["annotations"].get("negative")}
    assert s["records"] == len(records) == TASKS_PER_SAMPLE * s["samples"] - len(negatives)
    assert len(get_converter(NAME)(raw[0], version=version).units(split)) == info["units"][version][split]


@pytest.mark.parametrize("version", VERSIONS)
def test_every_record_validates(converted, version):
    out, _ = converted[version]
    summary, issues = validate_path(out)
    assert summary.records > 0
    assert issues == []


def test_keys_carry_patch_and_window_and_are_unique(converted):
    out, _ = converted["v1.0"]
    keys = sorted({r["meta"]["key"] for r in read_jsonl(out, "train-*.jsonl")})
    assert keys == [
        "P0000__1024__0_0",
        "P0000__1024__0_476",
        "P0000__1024__476_0",
        "P0000__1024__476_476",
        "P0001__1024__0_0",
        "P0002__1024__0_0",
    ]


@pytest.mark.parametrize("version", VERSIONS)
def test_tile_geometry_lies_in_the_tile_and_maps_back_to_the_source(raw, version):
    root, info = raw
    conv = get_converter(NAME)(root, version=version)
    (unit,) = [u for u in conv.units("train") if u.endswith("P0000.txt")]
    source = conv.from_dota_lines((root / unit).read_text(), path=unit).objects
    tiles, _ = read_unit(conv, "train", "P0000")
    assert len(tiles) == 4
    for tile in tiles:
        img = tile.images[0]
        assert (img.width, img.height) == (1024, 1024) and img.source_size == tuple(info["scene"]["size"])
        assert img.pixels.shape == (1024, 1024, 3)
        for o in tile.annotations.objects:
            assert min(o.qbox) >= 0 and max(o.qbox) <= 1024 and o.hbox[2] <= 1024 and o.hbox[3] <= 1024
            back = from_window(o.qbox, img.window, img.scale)
            whole = [s for s in source if s.label == o.label and np.allclose(back, s.qbox, atol=1e-3)]
            if o.hbox[2] < 1024 and o.hbox[3] < 1024:  # not touching the tile edge: not cut, so exact
                assert len(whole) == 1, (tile.key, o)


def test_object_straddling_tiles_is_cut_dropped_or_flagged(raw):
    root, _ = raw
    by_key = {s.key: s for s in read_unit(get_converter(NAME)(root), "train", "P0000")[0]}
    left, right = by_key["P0000__1024__0_0"], by_key["P0000__1024__476_0"]
    labels_left = {o.label: o for o in left.annotations.objects}
    assert "large-vehicle" not in labels_left  # 40% inside: dropped by default
    assert labels_left["storage-tank"].hbox == [1009.0, 300.0, 1024.0, 320.0]  # 75% inside: kept, clipped
    assert not labels_left["storage-tank"].truncated
    assert {o.label for o in right.annotations.objects} >= {"large-vehicle", "storage-tank"}  # whole there

    flagged = {s.key: s for s in read_unit(get_converter(NAME)(root, partial="flag"), "train", "P0000")[0]}
    lv = next(o for o in flagged["P0000__1024__0_0"].annotations.objects if o.label == "large-vehicle")
    assert lv.truncated and lv.hbox == [1000.0, 200.0, 1024.0, 230.0]

    lenient = {s.key: s for s in read_unit(get_converter(NAME)(root, min_kept=0.3), "train", "P0000")[0]}
    lv = next(o for o in lenient["P0000__1024__0_0"].annotations.objects if o.label == "large-vehicle")
    assert not lv.truncated  # 0.4 >= 0.3: an ordinary object of the tile


@pytest.mark.parametrize(
    "rate, expected",
    [
        (1.0, 1),  # kept as a negative sample
        (0.0, 0),  # no negatives at all
    ],
)
def test_empty_label_file_gives_a_negative_tile_at_the_negative_rate(raw, rate, expected):
    for version in VERSIONS:
        samples, skips = read_unit(get_converter(NAME)(raw[0], version=version, negative_rate=rate), "train", "P0002")
        assert skips == [] and len(samples) == expected
        for s in samples:
            assert s.annotations.objects == [] and s.annotations.negative


@pytest.mark.parametrize(
    "version, gsd, extra",
    [
        ("v1.0", 0.146343590398, {"imagesource": "GoogleEarth"}),  # header lines of the label file
        ("v2.0", 0.146343590398, {"imagesource": "GoogleEarth", "acquisition_date": "2016-05-12"}),  # meta file
    ],
)
def test_gsd_and_image_source_go_into_meta(raw, version, gsd, extra):
    (tile, *_), _ = read_unit(get_converter(NAME)(raw[0], version=version), "train", "P0000")
    assert tile.meta.gsd == gsd and tile.meta.extra == extra and tile.meta.version == version


@pytest.mark.parametrize("version", VERSIONS)
def test_null_gsd_grayscale_image_and_malformed_lines(raw, version):
    root, info = raw
    conv = get_converter(NAME)(root, version=version)
    (sample,), skips = read_unit(conv, "train", "P0001")
    assert sample.meta.gsd is None and sample.meta.extra == {"imagesource": "GF-2"}
    assert sample.images[0].pixels.shape == (160, 200, 3)  # single-band PNG converted to RGB
    assert Image.open(root / "train/images/P0001.png").mode == "L"
    # the malformed lines are reported with their file and line; the valid lines around them are kept
    assert [s.line for s in skips] == info["bad_lines"][version]
    assert all(s.kept and s.file.endswith("P0001.txt") for s in skips)
    assert sorted(o.label for o in sample.annotations.objects) == ["harbor", "plane", "ship"]
    harbor = next(o for o in sample.annotations.objects if o.label == "harbor")
    assert harbor.qbox == [150.0, 20.0, 190.0, 20.0, 190.0, 40.0, 150.0, 40.0]  # bow-tie put in hull order
    assert next(o for o in sample.annotations.objects if o.label == "ship").difficult


@pytest.mark.parametrize("version", VERSIONS)
def test_crlf_label_file(raw, version):
    root, _ = raw
    conv = get_converter(NAME)(root, version=version)
    (unit,) = [u for u in conv.units("val") if u.endswith("P0004.txt")]
    assert b"\r\n" in (root / unit).read_bytes()
    (sample,), skips = read_unit(conv, "val", "P0004")
    assert skips == [] and [o.label for o in sample.annotations.objects] == ["tennis-court", "ship"]


def test_hbb_label_sets_give_horizontal_boxes(raw, tmp_path):
    root, _ = raw
    conv = get_converter(NAME)(root, version="v1.5", boxes="hbb", negative_rate=1.0)
    assert "Train_Task2_gt" in get_converter(NAME)(root, boxes="hbb").units("train")[0]
    report = convert_dataset(conv, ConvertOptions(out=tmp_path, progress=False, splits=["val"]))
    assert report["splits"]["val"]["samples"] == 1
    (rec, *_) = read_jsonl(tmp_path / "dota-v1.5")
    assert rec["meta"]["target"]["kind"] == "hbox"
    assert all(o.get("qbox") is None for o in rec["annotations"]["objects"])
    assert validate_path(tmp_path)[1] == []


def test_rescale_rates_decode_once_per_rate(raw, monkeypatch):
    root, _ = raw
    calls = []
    real = detection_family.read_scene
    monkeypatch.setattr(detection_family, "read_scene", lambda p: calls.append(p) or real(p))
    conv = get_converter(NAME)(root, rates="0.5,1.0")
    samples, _ = read_unit(conv, "train", "P0000")
    assert len(calls) == 2
    half = [s for s in samples if s.key.endswith("__s0.5")]
    assert [s.key for s in half] == ["P0000__1024__0_0__s0.5"]  # 750 x 750 at rate 0.5: one tile
    img = half[0].images[0]
    assert (img.width, img.height, img.scale) == (750, 750, 0.5) and img.window == Window(0, 0, 1500, 1500)
    assert half[0].meta.gsd == pytest.approx(0.146343590398 / 0.5)
    assert len(samples) == 1 + 4


@pytest.mark.parametrize(
    "options, match",
    [
        ({"rates": "0,1"}, "rates must be"),  # zero rate
        ({"rates": [1.0, 1.0]}, "rates must be"),  # duplicates
        ({"patch": 256, "gap": 256}, "gap must be"),  # no stride left
        ({"partial": "keep"}, "partial must be"),
        ({"min_kept": 1.5}, "min_kept must be"),
        ({"negative_rate": -0.1}, "negative_rate must be"),
        ({"boxes": "rbox"}, "boxes must be"),
    ],
)
def test_bad_options_are_refused(tmp_path, options, match):
    with pytest.raises(ConfigError, match=match):
        get_converter(NAME)(tmp_path, **options)


def test_corrupt_image_and_missing_image_are_skipped_and_reported(converted, raw):
    _, info = raw
    _, report = converted["v1.0"]
    train_skips = [s for s in report["splits"]["train"]["skips"] if not s["kept"]]
    assert [s["file"] for s in train_skips] == info["corrupt"]
    assert "truncated or corrupt" in train_skips[0]["reason"]
    (val_skip,) = report["splits"]["val"]["skips"]
    assert "P0006.png not found" in val_skip["reason"] and val_skip["file"].endswith("P0006.txt")


def test_missing_root_says_how_to_fix(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"not found in root=.*labelTxt-v1.0/labelTxt.*--root"):
        convert_dataset(get_converter(NAME)(tmp_path / "nope"), ConvertOptions(out=tmp_path / "o", progress=False))


def test_strict_fails_on_the_first_malformed_line(raw, tmp_path):
    with pytest.raises(StrictModeError, match=r"P0001.txt:4"):
        convert_dataset(get_converter(NAME)(raw[0]), ConvertOptions(out=tmp_path, strict=True, progress=False))


def test_golden_first_record(converted):
    out, _ = converted["v1.0"]
    check_golden(NAME, read_jsonl(out, "train-*.jsonl")[0])
