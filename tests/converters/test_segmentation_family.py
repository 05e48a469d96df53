from contextlib import nullcontext as does_not_raise

import numpy as np
import pytest
from PIL import Image, TiffImagePlugin, TiffTags

from data_converters import get_converter
from data_converters.fakes.masks import write_tiff
from data_converters.families.segmentation import SegmentationConverter, binarize_building_mask, window_starts
from ts_instruct.errors import ConfigError, InvalidAnnotationError
from ts_instruct.sample import Sample, Skip


@pytest.mark.parametrize(
    "size, patch, stride, expected",
    [
        (600, 256, 256, [0, 256, 344]),  # last window aligned to the edge
        (512, 256, 256, [0, 256]),  # exact fit: no extra window
        (600, 256, 200, [0, 200, 344]),  # overlap 56
        (5000, 500, 500, list(range(0, 5000, 500))),  # the Inria default: an exact 10x10 grid
        (5000, 512, 512, [*range(0, 4608, 512), 4488]),
        (100, 256, 256, [0]),  # smaller than one patch
        (256, 256, 256, [0]),
    ],
)
def test_window_starts(size, patch, stride, expected):
    starts = window_starts(size, patch, stride)
    assert starts == expected
    assert starts[-1] + min(patch, size) == size  # the grid always reaches the far edge


def test_window_starts_refuses_a_zero_stride():
    with pytest.raises(ConfigError, match="1 <= stride <= patch"):
        window_starts(100, 10, 0)


@pytest.mark.parametrize(
    "raw, expected, exception",
    [
        (np.array([[0, 255]], np.uint8), [[0, 1]], does_not_raise()),  # the release: 0/255 single band
        (np.array([[0, 1]], np.uint8), [[0, 1]], does_not_raise()),  # re-saved as 0/1
        (np.array([[[0, 0, 0], [255, 255, 255]]], np.uint8), [[0, 1]], does_not_raise()),  # RGB mirror
        (np.array([[[0, 0, 0, 255], [255, 255, 255, 255]]], np.uint8), [[0, 1]], does_not_raise()),  # RGBA
        (np.array([[100, 200, 128, 127]], np.uint8), [[0, 1, 1, 0]], does_not_raise()),  # JPEG-ish noise: > 127
        (np.array([[False, True]]), [[0, 1]], does_not_raise()),  # mode "1"
        (np.zeros((2, 2, 2, 2), np.uint8), None, pytest.raises(ValueError, match="mask must be")),
    ],
)
def test_binarize_building_mask(raw, expected, exception):
    with exception:
        out = binarize_building_mask(raw)
        assert out.dtype == np.uint8 and out.tolist() == expected


@pytest.mark.parametrize(
    "raw, match",
    [
        (np.array([[1, 9]], np.uint8), r"class id\(s\) \[9\]"),  # an id LoveDA does not define
        (np.array([[1.0, 2.0]], np.float32), "must hold integers"),
        (np.zeros((2, 2, 3), np.uint8) + np.array([1, 2, 3], np.uint8), "single band"),  # a colour mask
    ],
)
def test_class_id_map_rejects_undefined_values(tmp_path, raw, match):
    loveda = get_converter("loveda")(tmp_path)
    with pytest.raises(InvalidAnnotationError, match=match):
        loveda.class_id_map(raw, "m.png")


def test_class_id_map_accepts_a_grey_mask_saved_as_rgb(tmp_path):
    loveda = get_converter("loveda")(tmp_path)
    grey = np.repeat(np.array([[0, 7], [3, 1]], np.uint8)[..., None], 3, axis=2)
    assert loveda.class_id_map(grey, "m.png").tolist() == [[0, 7], [3, 1]]


def test_find_mask_prefers_the_image_suffix_and_names_the_expected_file(tmp_path):
    (tmp_path / "a.png").touch()
    (tmp_path / "a.tif").touch()
    assert SegmentationConverter.find_mask(tmp_path, tmp_path / "img" / "a.png") == tmp_path / "a.png"
    assert SegmentationConverter.find_mask(tmp_path, tmp_path / "img" / "a.jpg") == tmp_path / "a.tif"
    assert SegmentationConverter.find_mask(tmp_path, tmp_path / "img" / "b.tif") == tmp_path / "b.tif"


@pytest.mark.parametrize("name", ["whu_building", "inria_aerial", "loveda"])
@pytest.mark.parametrize("options", [{"min_area": -1}, {"simplify": "x"}, {"min_area": True}])
def test_polygon_options_are_checked(tmp_path, name, options):
    with pytest.raises(ConfigError, match="must be a number >= 0"):
        get_converter(name)(tmp_path, **options)


def test_malformed_georeference_keeps_the_sample_and_reports_the_tags(tmp_path):
    ifd = TiffImagePlugin.ImageFileDirectory_v2()
    ifd[33550] = (0.3, 0.3, 0.0)
    ifd.tagtype[33550] = TiffTags.DOUBLE
    ifd[33922] = (0.0, 0.0, 0.0)  # a tiepoint needs 6 numbers
    ifd.tagtype[33922] = TiffTags.DOUBLE
    folder = tmp_path / "aerial" / "train"
    (folder / "image").mkdir(parents=True)
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(folder / "image" / "0.tif", tiffinfo=ifd)
    write_tiff(folder / "label" / "0.tif", np.zeros((16, 16), np.uint8))
    items = list(get_converter("whu_building")(tmp_path).read("train", "aerial/train/image/0.tif"))
    assert [type(i) for i in items] == [Skip, Sample]
    assert items[0].kept and "malformed GeoTIFF geotransform tags" in items[0].reason
    assert items[1].meta.georef is None and items[1].meta.gsd == 0.3
