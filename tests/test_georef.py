import numpy as np
import pytest
import rasterio
from PIL import Image, TiffImagePlugin, TiffTags

from data_converters.fakes.common import truncate
from data_converters.fakes.masks import write_geotiff
from ts_instruct.errors import InvalidImageError
from ts_instruct.georef import GeoRef, polygons_to_geojson, read_georef
from ts_instruct.sample import PolygonAnn

ARR = np.zeros((30, 40, 3), np.uint8)


def _tiff(path, tags):
    ifd = TiffImagePlugin.ImageFileDirectory_v2()
    for tag, (kind, value) in tags.items():
        ifd[tag] = value
        ifd.tagtype[tag] = kind
    Image.fromarray(ARR).save(path, format="TIFF", tiffinfo=ifd)
    return path


def _keys(*entries):
    return (1, 1, 0, len(entries), *(v for e in entries for v in e))


@pytest.mark.parametrize(
    "tags",
    [
        # tiepoint at pixel (0, 0), projected CRS, PixelIsArea: the Inria form
        {
            33550: (TiffTags.DOUBLE, (0.3, 0.3, 0.0)),
            33922: (TiffTags.DOUBLE, (0, 0, 0, 616500.0, 3352500.0, 0)),
            34735: (TiffTags.SHORT, _keys((1024, 0, 1, 1), (1025, 0, 1, 1), (3072, 0, 1, 26914))),
        },
        # tiepoint at another pixel
        {
            33550: (TiffTags.DOUBLE, (0.5, 0.5, 0.0)),
            33922: (TiffTags.DOUBLE, (10, 20, 0, 500.0, 1000.0, 0)),
            34735: (TiffTags.SHORT, _keys((1024, 0, 1, 1), (3072, 0, 1, 32633))),
        },
        # PixelIsPoint: the tiepoint is a pixel centre, GDAL shifts the origin by half a pixel
        {
            33550: (TiffTags.DOUBLE, (2.0, 2.0, 0.0)),
            33922: (TiffTags.DOUBLE, (0, 0, 0, 100.0, 200.0, 0)),
            34735: (TiffTags.SHORT, _keys((1024, 0, 1, 1), (1025, 0, 1, 2), (3072, 0, 1, 26915))),
        },
        # a rotated ModelTransformationTag and a geographic CRS
        {
            34264: (TiffTags.DOUBLE, (0.25, 0.05, 0, 7.0, 0.04, -0.25, 0, 45.0, 0, 0, 0, 0, 0, 0, 0, 1)),
            34735: (TiffTags.SHORT, _keys((1024, 0, 1, 2), (2048, 0, 1, 4326))),
        },
    ],
)
def test_read_georef_equals_rasterio(tmp_path, tags):
    path = _tiff(tmp_path / "g.tif", tags)
    g = read_georef(path)
    with rasterio.open(path) as src:
        assert g.crs == src.crs.to_string()
        assert g.transform == pytest.approx(src.transform.to_gdal(), abs=1e-9)


def test_plain_files_have_no_georef_and_bad_files_raise(tmp_path):
    Image.fromarray(ARR).save(tmp_path / "plain.tif")
    Image.fromarray(ARR).save(tmp_path / "plain.png")
    assert read_georef(tmp_path / "plain.tif") is None
    assert read_georef(tmp_path / "plain.png") is None
    with pytest.raises(InvalidImageError, match="missing"):
        read_georef(tmp_path / "none.tif")
    (tmp_path / "junk.tif").write_bytes(b"not a tiff at all")
    with pytest.raises(InvalidImageError, match="not a readable image"):
        read_georef(tmp_path / "junk.tif")


def test_user_defined_crs_is_kept_as_none(tmp_path):
    path = _tiff(
        tmp_path / "u.tif",
        {
            33550: (TiffTags.DOUBLE, (1.0, 1.0, 0.0)),
            33922: (TiffTags.DOUBLE, (0, 0, 0, 0.0, 0.0, 0)),
            34735: (TiffTags.SHORT, _keys((1024, 0, 1, 1), (3072, 0, 1, 32767))),
        },
    )
    assert read_georef(path) == GeoRef(None, (0.0, 1.0, 0.0, 0.0, 0.0, -1.0))


def test_header_of_a_truncated_geotiff_still_reads(tmp_path):
    path = write_geotiff(
        tmp_path / "t.tif", np.zeros((64, 64, 3), np.uint8), origin=(1.0, 2.0), pixel_size=0.5, epsg=26914
    )
    truncate(path)
    assert read_georef(path) == GeoRef("EPSG:26914", (1.0, 0.5, 0.0, 2.0, 0.0, -0.5))


def test_window_and_pixel_to_world_agree_with_rasterio(tmp_path):
    path = write_geotiff(
        tmp_path / "w.tif", np.zeros((50, 60), np.uint8), origin=(616500.0, 3352500.0), pixel_size=0.3, epsg=26914
    )
    g = read_georef(path)
    with rasterio.open(path) as src:
        sub = g.window(17, 23)
        for x, y in [(0, 0), (5, 7), (43, 27)]:
            assert sub.pixel_to_world([[x, y]])[0] == pytest.approx(src.xy(23 + y, 17 + x, offset="ul"))
    half = g.window(10, 10, scale=0.5)
    assert half.transform[1] == pytest.approx(0.6) and half.gsd == pytest.approx(0.6)
    assert GeoRef.from_dict(sub.to_dict()) == sub
    assert g.scaled(2.0, 0.5).pixel_to_world([[20, 5]])[0] == pytest.approx(g.pixel_to_world([[10, 10]])[0])
    with pytest.raises(ValueError, match="must be > 0"):
        g.scaled(0, 1)
    with pytest.raises(ValueError, match="6 numbers"):
        GeoRef.from_dict({"crs": None, "transform": [1, 2, 3]})


def test_geojson_rings_are_closed_counter_clockwise_and_in_world_units():
    g = GeoRef("EPSG:26914", (1000.0, 1.0, 0.0, 2000.0, 0.0, -1.0))
    poly = PolygonAnn("building", [[0, 0], [4, 0], [4, 4], [0, 4]], holes=[[[1, 1], [1, 3], [3, 3], [3, 1]]])
    gj = polygons_to_geojson([poly], g.to_dict())
    assert gj["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::26914"
    feature = gj["features"][0]
    assert feature["properties"] == {"label": "building"}
    outer, hole = (np.asarray(r) for r in feature["geometry"]["coordinates"])
    assert (outer[0] == outer[-1]).all() and (hole[0] == hole[-1]).all()

    def shoelace(r):
        return float(np.sum(r[:-1, 0] * r[1:, 1] - r[1:, 0] * r[:-1, 1]) / 2)

    assert shoelace(outer) == 16 and shoelace(hole) == -4  # RFC 7946 right-hand rule
    assert {tuple(p) for p in outer} == {(1000.0, 2000.0), (1004.0, 2000.0), (1004.0, 1996.0), (1000.0, 1996.0)}
