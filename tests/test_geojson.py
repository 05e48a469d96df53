from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests import share_data
from ts_instruct.cli import main
from ts_instruct.errors import ConfigError
from ts_instruct.geojson import ring_area, to_wgs84, write_geojson
from ts_instruct.recordset import Predictions, iter_records

R = 6378137.0  # WGS 84 semi-major axis, the sphere of Web Mercator (EPSG:3857)


def mercator(lon: float, lat: float) -> tuple[float, float]:
    return R * math.radians(lon), R * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def inverse_mercator(x: float, y: float) -> tuple[float, float]:
    return math.degrees(x / R), math.degrees(2 * math.atan(math.exp(y / R)) - math.pi / 2)


def check_rfc7946(fc: dict[str, Any], *, wgs84: bool) -> None:
    """RFC 7946 structure: FeatureCollection of Features, positions, closed rings, right-hand rule, bbox."""
    assert fc["type"] == "FeatureCollection" and isinstance(fc["features"], list)
    assert "crs" not in fc  # removed by RFC 7946
    positions = []
    for f in fc["features"]:
        assert f["type"] == "Feature" and isinstance(f["properties"], dict)
        g = f["geometry"]
        if g["type"] == "Point":
            rings = [[g["coordinates"]]]
        else:
            assert g["type"] == "Polygon"
            rings = g["coordinates"]
            for k, ring in enumerate(rings):
                assert len(ring) >= 4 and ring[0] == ring[-1], "linear rings are closed, 4 positions or more"
                area = ring_area(ring[:-1])
                assert area > 0 if k == 0 else area < 0, "exterior counter-clockwise, holes clockwise"
        for ring in rings:
            for p in ring:
                assert len(p) == 2 and all(isinstance(v, int | float) for v in p)
                positions.append(p)
    if wgs84:
        for lon, lat in positions:
            assert -180 <= lon <= 180 and -90 <= lat <= 90
        if positions:
            w, s, e, n = fc["bbox"]
            assert w <= min(p[0] for p in positions) and e >= max(p[0] for p in positions)
            assert s <= min(p[1] for p in positions) and n >= max(p[1] for p in positions)
    else:
        assert fc["coordinates"] == "pixel"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("gj") / "converted"
    facts = share_data.build(root)
    share_data.write_predictions(root.parent / "pred.jsonl", root)
    return root, facts


def _geo_record(root: Path, tmp: Path, georef: dict[str, Any] | None) -> Path:
    """The toy georeferenced record with another georeference, alone in a JSONL file."""
    rec = json.loads((root / "toy_geo" / "train-00000.jsonl").read_text(encoding="utf-8"))
    rec["meta"]["georef"] = georef
    rec["annotations"]["polygons"][0]["holes"] = [[[12, 12], [12, 18], [20, 18], [20, 12]]]
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "geo.jsonl").write_text(json.dumps(rec) + "\n", encoding="utf-8")
    return tmp / "geo.jsonl"


def _read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def test_cli_writes_one_collection_per_dataset_split_and_space(tree, tmp_path, capsys):
    root, _ = tree
    out = tmp_path / "gj"
    assert main(["export-geojson", str(root), "--out", str(out)]) == 0
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.geojson"))
    assert names == [
        "toy_change/test.pixel.geojson",
        "toy_det/train.pixel.geojson",
        "toy_geo/train.geojson",
        "toy_seg/val.pixel.geojson",
    ]  # the VQA sample has no geometry
    for name in names:
        check_rfc7946(_read(out / name), wgs84=not name.endswith(".pixel.geojson"))
    det = _read(out / "toy_det/train.pixel.geojson")["features"]
    assert len(det) == 2  # once per sample, though the sample has two records
    assert [f["properties"]["label"] for f in det] == ["plane", "ship"]
    assert det[0]["properties"]["kind"] == "quad" and det[0]["properties"]["source"] == "annotation"
    change = _read(out / "toy_change/test.pixel.geojson")["features"][0]["properties"]
    assert change["image"] == ["images/test/pair_A.png", "images/test/pair_B.png"]
    assert change["label"] == "bare land→building"


def test_pixel_coordinates_are_the_annotation(tree, tmp_path):
    root, _ = tree
    write_geojson(iter_records(root, datasets=["toy_seg"]), tmp_path)
    geom = _read(tmp_path / "toy_seg/val.pixel.geojson")["features"][0]["geometry"]
    exterior, hole = geom["coordinates"]
    # stored clockwise on screen (y down) = positive shoelace of the numbers: kept as is, then closed
    assert exterior == [[8, 8], [48, 8], [48, 40], [8, 40], [8, 8]]
    assert hole == [[16, 16], [16, 24], [32, 24], [32, 16], [16, 16]]


@pytest.mark.parametrize(
    "transform",
    [
        (0.3, 0.0, 0.0, -0.3),  # north-up, the usual GeoTIFF
        (0.3, 0.0, 0.0, 0.3),  # south-up: the pixel-to-world map keeps orientation instead of flipping it
        (0.26, 0.15, 0.15, -0.26),  # rotated by 30 degrees
    ],
)
def test_known_transform_web_mercator(tree, tmp_path, transform):
    root, _ = tree
    dx, rx, ry, dy = transform
    x0, y0 = mercator(-97.7431, 30.2672)  # Austin, Texas
    path = _geo_record(root, tmp_path, {"crs": "EPSG:3857", "transform": [x0, dx, rx, y0, ry, dy]})
    write_geojson(iter_records(path), tmp_path / "out")
    fc = _read(tmp_path / "out/toy_geo/train.geojson")
    check_rfc7946(fc, wgs84=True)
    exterior = fc["features"][0]["geometry"]["coordinates"][0]
    expected = [inverse_mercator(x0 + px * dx + py * rx, y0 + px * ry + py * dy) for px, py in
                [(10, 10), (30, 10), (30, 20), (10, 20)]]  # fmt: skip
    got = {tuple(p) for p in exterior[:-1]}
    assert len(got) == 4
    for lon, lat in expected:  # [longitude, latitude] order, every corner within 1e-7 degrees (about 1 cm)
        assert min(abs(g[0] - lon) + abs(g[1] - lat) for g in got) < 2e-7
    assert -98 < exterior[0][0] < -97 and 30 < exterior[0][1] < 31


def test_utm_zone_31n(tree, tmp_path):
    root, facts = tree
    write_geojson(iter_records(root, datasets=["toy_geo"]), tmp_path)
    ring = _read(tmp_path / "toy_geo/train.geojson")["features"][0]["geometry"]["coordinates"][0]
    # easting 500000 is the zone's central meridian, 3 degrees east; pixel x = 10 is 5 m east of it
    lons = sorted({p[0] for p in ring})
    assert abs(lons[0] - (3 + 5 / (111_320 * math.cos(math.radians(45.15))))) < 1e-6
    # one degree of latitude is about 111.13 km here: pixels y = 10..20 at 0.5 m span 5 m
    lats = sorted({p[1] for p in ring})
    assert abs((lats[1] - lats[0]) * 111_132 - 5.0) < 0.05
    origin = to_wgs84(np.array([[500000.0, 5000000.0]]), facts["georef"]["crs"])[0]
    assert abs(origin[0] - 3.0) < 1e-9 and 45.1 < origin[1] < 45.2


def test_predictions_are_read_back_and_exported(tree, tmp_path, capsys):
    root, facts = tree
    out = tmp_path / "p"
    assert main(["export-geojson", str(root), "--pred", str(root.parent / "pred.jsonl"), "--out", str(out)]) == 0
    assert "1 skipped   answers with parse problems" in capsys.readouterr().out
    feats = _read(out / "toy_det/train.pixel.geojson")["features"]
    assert [f["properties"]["source"] for f in feats] == ["prediction", "prediction"]
    assert feats[0]["properties"]["id"] == facts["ids"]["det"] and feats[0]["properties"]["task"] == "detect_all"
    plane = np.array(feats[0]["geometry"]["coordinates"][0][:-1])
    step = max(share_data.STYLE.frame(96, 64).pixel_step)  # one text unit, in pixels
    for corner in [(28, 8), (48, 18), (38, 30), (18, 20)]:  # the plane moved 8 px right by the prediction
        assert np.abs(plane - corner).max(axis=1).min() <= step
    assert not (out / "toy_seg").exists()  # its only answer could not be read


def test_degenerate_prediction_is_skipped(tree, tmp_path):
    root, facts = tree
    pred = tmp_path / "pred.jsonl"
    line = '```json\n[\n\t{"polygon_2d": [[1, 1], [5, 5], [9, 9]], "label": "building"}\n]\n```'
    pred.write_text(json.dumps({"id": facts["ids"]["geo"], "predict": line}) + "\n", encoding="utf-8")
    summary = write_geojson(iter_records(root, predictions=Predictions(pred)), tmp_path / "o", predictions=True)
    assert summary.skipped["degenerate ring"] == 1 and not summary.features


def test_without_crs_goes_to_pixel_file_and_unknown_crs_fails(tree, tmp_path):
    root, _ = tree
    path = _geo_record(root, tmp_path / "a", {"crs": None, "transform": [0, 1, 0, 0, 0, -1]})
    write_geojson(iter_records(path), tmp_path / "a/out")
    assert (tmp_path / "a/out/toy_geo/train.pixel.geojson").is_file()
    path = _geo_record(root, tmp_path / "b", {"crs": "EPSG:999999", "transform": [0, 1, 0, 0, 0, -1]})
    with pytest.raises(ConfigError, match="crs must be a CRS PROJ knows"):
        write_geojson(iter_records(path), tmp_path / "b/out")
    text = (tmp_path / "b/out/toy_geo/train.geojson").read_text(encoding="utf-8")
    json.loads(text)  # the file was closed as valid JSON despite the error


def test_deterministic(tree, tmp_path):
    root, _ = tree
    for name in ("a", "b"):
        write_geojson(iter_records(root), tmp_path / name)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.geojson"))
    assert files and all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)


def test_no_geometry_exits_1(tree, tmp_path):
    root, _ = tree
    assert main(["export-geojson", str(root), "--task", "vqa", "--out", str(tmp_path)]) == 1


def test_hole_rings_of_an_answer_go_inside_their_polygon(tree, tmp_path):
    from ts_instruct.render import RenderItem

    root, facts = tree
    items = [
        RenderItem("polygon", (8, 8, 48, 8, 48, 40, 8, 40), "building"),
        RenderItem("polygon", (16, 16, 32, 16, 32, 24, 16, 24), "building hole"),
        RenderItem("polygon", (50, 50, 60, 50, 60, 60, 50, 60), "building hole"),  # in no building: kept apart
    ]
    text = share_data.STYLE.render(items, share_data.STYLE.frame(64, 64))
    pred = tmp_path / "pred.jsonl"
    pred.write_text(json.dumps({"id": facts["ids"]["seg"], "predict": text}) + "\n", encoding="utf-8")
    write_geojson(iter_records(root, predictions=Predictions(pred)), tmp_path / "o", predictions=True)
    fc = _read(tmp_path / "o/toy_seg/val.pixel.geojson")
    check_rfc7946(fc, wgs84=False)
    (building, loose) = fc["features"]
    assert building["properties"]["label"] == "building" and len(building["geometry"]["coordinates"]) == 2
    assert loose["properties"]["label"] == "building hole" and len(loose["geometry"]["coordinates"]) == 1
