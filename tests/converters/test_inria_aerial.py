import numpy as np
import pytest
import rasterio
import rasterio.windows
from PIL import Image

from data_converters import get_converter
from ts_instruct.errors import ConfigError, DatasetNotFoundError, StrictModeError
from ts_instruct.georef import GeoRef, polygons_to_geojson
from ts_instruct.pipeline import ConvertOptions, convert_dataset
from ts_instruct.sample import PolygonAnn
from ts_instruct.validate import validate_path

from ..conftest import check_golden, read_jsonl
from .seg_checks import answer_iou, check_polygons, stored_mask

NAME = "inria_aerial"
IOU_FLOOR = 0.9
PATCH = 256  # the 600 px fake scene gives windows at 0, 256, 344 on each axis


@pytest.fixture(scope="module")
def converted(fake_dataset, tmp_path_factory):
    root, info = fake_dataset(NAME)
    out = tmp_path_factory.mktemp("out_inria")
    report = convert_dataset(get_converter(NAME)(root, patch=PATCH), ConvertOptions(out=out, progress=False))
    return out / NAME, report, info, root


def test_scenes_are_tiled_into_a_grid_aligned_to_the_edge(converted):
    out, report, info, _ = converted
    assert {s: v["samples"] for s, v in report["splits"].items()} == {"train": 18, "val": 18, "test": 0}
    patches = {r["meta"]["key"]: r["meta"]["images"][0] for r in read_jsonl(out) if r["task"] == "seg_count"}
    scenes = sorted({k.split("__")[0] for k in patches})
    assert scenes == sorted(info["scenes"]["train"] + info["scenes"]["val"])
    starts = [0, 256, 344]
    for scene in scenes:
        for y in starts:
            for x in starts:
                img = patches[f"{scene}__{x}_{y}"]
                assert img["window"] == [x, y, x + PATCH, y + PATCH]
                assert (img["width"], img["height"], img["source_size"]) == (PATCH, PATCH, [600, 600])


def test_val_holds_tiles_1_to_5_and_the_bound_is_an_option(fake_dataset):
    root, _ = fake_dataset(NAME)
    conv = get_converter(NAME)(root)
    assert [u.rsplit("/", 1)[1] for u in conv.units("val")] == ["austin1.tif", "chicago1.tif"]
    assert [u.rsplit("/", 1)[1] for u in conv.units("train")] == [
        "austin6.tif",
        "chicago6.tif",
        "kitsap6.tif",
        "tyrol-w7.tif",
    ]
    none_val = get_converter(NAME)(root, val_tiles=0)
    assert none_val.units("val") == [] and len(none_val.units("train")) == 6


def test_default_patch_of_500_gives_four_patches_per_fake_scene(fake_dataset, tmp_path):
    root, _ = fake_dataset(NAME)
    report = convert_dataset(get_converter(NAME)(root), ConvertOptions(out=tmp_path, progress=False, splits=["val"]))
    assert report["splits"]["val"]["samples"] == 2 * 4


def test_test_scenes_without_gt_are_reported_not_dropped(converted):
    _, report, info, _ = converted
    test = report["splits"]["test"]
    assert test["units"] == 2 and test["samples"] == 0
    assert [s["file"] for s in test["skips"]] == info["skipped"]["test"]
    assert all("no ground truth" in s["reason"] for s in test["skips"])


def test_missing_gt_and_corrupt_tiff_are_reported(converted):
    _, report, info, _ = converted
    skips = report["splits"]["train"]["skips"]
    assert sorted(s["file"] for s in skips) == info["skipped"]["train"]
    reasons = {s["file"].rsplit("/", 1)[1]: s["reason"] for s in skips}
    assert "truncated" in reasons["kitsap6.tif"]
    assert "ground-truth mask is missing: expected AerialImageDataset/train/gt/tyrol-w7.tif" in reasons["tyrol-w7.tif"]


def test_every_record_validates(converted):
    out, report, _, _ = converted
    summary, issues = validate_path(out)
    assert summary.records == sum(v["records"] for v in report["splits"].values()) == 3 * 36
    assert issues == []


def test_patch_mask_is_the_crop_of_the_gt_and_polygons_stay_inside(converted):
    out, _, _, root = converted
    for r in read_jsonl(out):
        if r["task"] != "seg_count":
            continue
        check_polygons(r)
        scene = r["meta"]["key"].split("__")[0]
        x0, y0, x1, y1 = r["meta"]["images"][0]["window"]
        gt = np.asarray(Image.open(root / "AerialImageDataset/train/gt" / f"{scene}.tif"))
        gt = gt[..., 0] if gt.ndim == 3 else gt  # chicago1's gt is RGB
        assert np.array_equal(stored_mask(out, r), (gt[y0:y1, x0:x1] > 127).astype(np.uint8)), r["id"]


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # rasterio's own use of `Affine * tuple`
def test_patch_georeference_equals_what_rasterio_reads(converted):
    out, _, info, root = converted
    for r in read_jsonl(out):
        if r["task"] != "seg_count":
            continue
        scene = r["meta"]["key"].split("__")[0]
        x0, y0, x1, y1 = r["meta"]["images"][0]["window"]
        with rasterio.open(root / "AerialImageDataset/train/images" / f"{scene}.tif") as src:
            window = rasterio.windows.Window(x0, y0, x1 - x0, y1 - y0)
            expected = rasterio.windows.transform(window, src.transform).to_gdal()
            crs = src.crs.to_string()
        georef = r["meta"]["georef"]
        assert georef["crs"] == crs == f"EPSG:{info['georef'][scene][0]}"
        assert georef["transform"] == pytest.approx(list(expected), abs=1e-6)
        assert r["meta"]["gsd"] == pytest.approx(0.3)


def test_georeference_follows_resize_images(fake_dataset, tmp_path):
    root, _ = fake_dataset(NAME)
    opts = ConvertOptions(out=tmp_path, progress=False, resize_images=True, splits=["val"])
    convert_dataset(get_converter(NAME)(root, patch=PATCH), opts)
    r = next(r for r in read_jsonl(tmp_path / NAME) if r["meta"]["key"] == "austin1__256_344")
    img = r["meta"]["images"][0]
    assert img["resized_from"] == [PATCH, PATCH] and img["width"] != PATCH
    s = img["width"] / PATCH
    g = GeoRef.from_dict(r["meta"]["georef"])
    with rasterio.open(root / "AerialImageDataset/train/images/austin1.tif") as src:
        for x, y in [(0, 0), (img["width"], img["height"]), (100, 37)]:
            expected = src.xy(344 + y / s, 256 + x / s, offset="ul")
            assert g.pixel_to_world([[x, y]])[0] == pytest.approx(expected, abs=1e-6)


def test_polygons_export_to_world_coordinates(converted):
    out, _, _, root = converted
    r = next(r for r in read_jsonl(out) if r["meta"]["key"] == "austin6__344_256" and r["task"] == "seg_count")
    polys = [PolygonAnn(**p) for p in r["annotations"]["polygons"]]
    gj = polygons_to_geojson(polys, r["meta"]["georef"])
    assert gj["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::26914"
    assert len(gj["features"]) == len(polys) > 0
    with rasterio.open(root / "AerialImageDataset/train/images/austin6.tif") as src:
        x, y = polys[0].exterior[0]
        world = src.xy(256 + y, 344 + x, offset="ul")  # the same pixel corner, from the scene's own transform
    ring = gj["features"][0]["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1]  # closed
    assert any(pt == pytest.approx(list(world)) for pt in ring)


def test_answer_rasterised_back_matches_the_mask(converted):
    out, _, _, _ = converted
    ious = {r["id"]: answer_iou(out, r) for r in read_jsonl(out) if r["task"] == "seg_polygons"}
    print({k: round(v, 4) for k, v in ious.items()})
    assert len(ious) == 36
    assert min(ious.values()) >= IOU_FLOOR, ious


def test_output_does_not_depend_on_workers(fake_dataset, tmp_path):
    root, _ = fake_dataset(NAME)
    outs = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        convert_dataset(
            get_converter(NAME)(root, patch=PATCH),
            ConvertOptions(out=out, progress=False, workers=workers, splits=["val"]),
        )
        outs.append(out / NAME)
    assert (outs[0] / "val-00000.jsonl").read_bytes() == (outs[1] / "val-00000.jsonl").read_bytes()
    for png in sorted((outs[0] / "masks/val").iterdir()):
        assert png.read_bytes() == (outs[1] / "masks/val" / png.name).read_bytes()


@pytest.mark.parametrize(
    "options, match",
    [
        ({"patch": 256, "overlap": 256}, "overlap < patch"),  # stride would be 0
        ({"patch": 0}, "patch >= 1"),
        ({"val_tiles": -1}, "val_tiles must be an int >= 0"),
        ({"min_area": "big"}, "min_area must be a number >= 0"),
    ],
)
def test_bad_options_are_refused(tmp_path, options, match):
    with pytest.raises(ConfigError, match=match):
        get_converter(NAME)(tmp_path, **options)


def test_missing_root_says_how_to_fix(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"not found in root=.*AerialImageDataset.*pass a different --root"):
        convert_dataset(get_converter(NAME)(tmp_path / "nope"), ConvertOptions(out=tmp_path / "o", progress=False))


def test_strict_fails_on_the_corrupt_scene(fake_dataset, tmp_path):
    root, _ = fake_dataset(NAME)
    with pytest.raises(StrictModeError, match=r"kitsap6\.tif"):
        convert_dataset(
            get_converter(NAME)(root, patch=PATCH),
            ConvertOptions(out=tmp_path, strict=True, progress=False, splits=["train"]),
        )


def test_golden_first_record(converted):
    out, _, _, _ = converted
    check_golden(NAME, read_jsonl(out, "train-*.jsonl")[0])
