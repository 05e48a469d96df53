import numpy as np
import pytest

from data_converters import get_converter
from data_converters.fakes.loveda import NODATA_ROWS
from ts_instruct.errors import ConfigError, DatasetNotFoundError, StrictModeError
from ts_instruct.masks import polygons_to_mask
from ts_instruct.pipeline import ConvertOptions, convert_dataset
from ts_instruct.sample import PolygonAnn
from ts_instruct.tasks.segmentation import LANDCOVER_MIN_FRACTION, NEGATIVE_MAX_NODATA, polygon_from_ann
from ts_instruct.validate import validate_path

from ..conftest import check_golden, read_jsonl
from .seg_checks import answer_iou, check_polygons, stored_mask

NAME = "loveda"
CLASSES = ("background", "building", "road", "water", "barren", "forest", "agriculture")


@pytest.fixture(scope="module")
def converted(fake_dataset, tmp_path_factory):
    root, info = fake_dataset(NAME)
    out = tmp_path_factory.mktemp("out_loveda")
    report = convert_dataset(get_converter(NAME)(root), ConvertOptions(out=out, progress=False))
    return out / NAME, report, info


def _by_key(out):
    recs: dict[str, dict] = {}
    for r in read_jsonl(out):
        recs.setdefault(r["meta"]["key"], {})[r["id"].split("/", 3)[3]] = r
    return recs


def test_counts_per_split_and_skips(converted):
    _, report, info = converted
    assert {s: v["samples"] for s, v in report["splits"].items()} == info["splits"]
    for split, v in report["splits"].items():
        assert sorted(s["file"] for s in v["skips"]) == info["skipped"][split]
    reasons = {s["file"]: s["reason"] for v in report["splits"].values() for s in v["skips"]}
    assert "only no-data" in reasons["Train/Rural/images_png/4.png"]
    assert "class id(s) [9]" in reasons["Val/Rural/masks_png/7.png"]
    assert "no ground truth" in reasons["Test/Urban/images_png/8.png"]


def test_every_record_validates(converted):
    out, report, _ = converted
    summary, issues = validate_path(out)
    assert summary.records == sum(v["records"] for v in report["splits"].values()) > 0
    assert issues == []


def test_class_fractions_exclude_no_data(converted):
    out, _, info = converted
    for key, recs in _by_key(out).items():
        stats = next(iter(recs.values()))["annotations"]["stats"]
        assert list(stats["class_fractions"]) == list(CLASSES)
        assert stats["class_fractions"] == pytest.approx(info["fractions"][key], abs=1e-6)
        assert sum(stats["class_fractions"].values()) == pytest.approx(1.0, abs=1e-5)
        assert stats["nodata_fraction"] == pytest.approx(info["nodata"][key], abs=1e-6)
    assert info["nodata"]["urban_2"] > 0


def test_mask_keeps_the_source_ids_and_no_data_gets_no_polygon(converted):
    out, _, _ = converted
    rec = next(iter(_by_key(out)["urban_2"].values()))
    mask = stored_mask(out, rec)
    assert (mask[:NODATA_ROWS] == 0).all() and mask[NODATA_ROWS:].min() >= 1
    ref = rec["annotations"]["masks"][0]
    assert ref["kind"] == "semantic" and ref["ignore_index"] == 0 and "0" not in ref["classes"]
    polys = [polygon_from_ann(PolygonAnn(**p)) for p in rec["annotations"]["polygons"]]
    assert not polygons_to_mask(polys, *mask.shape)[:NODATA_ROWS].any()
    assert {p["label"] for p in rec["annotations"]["polygons"]} <= set(CLASSES[1:])  # background is not outlined
    for r in read_jsonl(out):
        check_polygons(r)


def test_present_classes_and_percentages(converted):
    out, _, info = converted
    for key, recs in _by_key(out).items():
        shares = info["fractions"][key]
        listed = [c for c in CLASSES if shares[c] >= LANDCOVER_MIN_FRACTION]
        assert recs["landcover_present"]["messages"][1]["content"] == ", ".join(listed)
        answer = recs["landcover_fraction"]["messages"][1]["content"]
        assert answer == ", ".join(f"{c}: {max(1, int(100 * shares[c] + 0.5))}%" for c in listed)


def test_presence_questions_and_negatives(converted):
    out, _, info = converted
    negatives = 0
    for key, recs in _by_key(out).items():
        for rid, r in recs.items():
            if not rid.startswith("seg_exists/"):
                continue
            cls, value = rid.split("/")[1], r["meta"]["target"]["value"]
            if value == "yes":
                assert any(p["label"] == cls for p in r["annotations"]["polygons"])
            else:
                negatives += 1
                assert info["fractions"][key][cls] == 0
                assert info["nodata"][key] <= NEGATIVE_MAX_NODATA  # never asked where no-data could hide the class
    assert negatives >= 1
    assert not any(
        rid.startswith("seg_exists/") and r["meta"]["target"]["value"] == "no"
        for rid, r in _by_key(out)["urban_2"].items()
    )


def test_answer_rasterised_back_matches_the_mask(converted):
    out, _, _ = converted
    ious = {r["id"]: answer_iou(out, r) for r in read_jsonl(out) if r["task"] == "seg_polygons"}
    print({k: round(v, 4) for k, v in ious.items()})
    assert len(ious) == 5
    assert np.mean(list(ious.values())) >= 0.9, ious  # land cover: thin roads cost more than building outlines


def test_domain_option_restricts_the_units(fake_dataset):
    root, _ = fake_dataset(NAME)
    units = get_converter(NAME)(root, domain="rural").units("train")
    assert units == ["Train/Rural/images_png/3.png", "Train/Rural/images_png/4.png"]
    with pytest.raises(ConfigError, match="domain must be one of"):
        get_converter(NAME)(root, domain="suburban")


def test_missing_root_says_how_to_fix(tmp_path):
    with pytest.raises(
        DatasetNotFoundError, match=r"not found in root=.*Train/Urban/images_png.*pass a different --root"
    ):
        convert_dataset(get_converter(NAME)(tmp_path / "nope"), ConvertOptions(out=tmp_path / "o", progress=False))


def test_strict_fails_on_the_all_no_data_mask(fake_dataset, tmp_path):
    root, _ = fake_dataset(NAME)
    with pytest.raises(StrictModeError, match=r"Train/Rural/images_png/4\.png"):
        convert_dataset(get_converter(NAME)(root), ConvertOptions(out=tmp_path, strict=True, progress=False))


def test_golden_first_record(converted):
    out, _, _ = converted
    check_golden(NAME, read_jsonl(out, "train-*.jsonl")[0])
