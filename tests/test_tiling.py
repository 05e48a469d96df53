import itertools
import math
import types
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from ts_instruct.errors import ConfigError, InvalidImageError
from ts_instruct.geometry import from_window, is_valid_qbox
from ts_instruct.sample import ObjectAnn, Window
from ts_instruct.tiling import (
    clip_object,
    clip_objects,
    crop,
    iter_tiles,
    iter_windows,
    read_scene,
    rescale,
    scale_objects,
    scaled_size,
    source_window,
    window_starts,
)


def mmrotate_windows(width, height, size, gap):
    """Reference: mmrotate 1.x img_split.get_sliding_window for one (size, gap), windows clipped to the image."""
    step = size - gap
    starts = []
    for length in (width, height):
        num = 1 if length <= size else math.ceil((length - size) / step + 1)
        s = [step * i for i in range(num)]
        if len(s) > 1 and s[-1] + size > length:
            s[-1] = length - size
        starts.append(s)
    return [(x, y, min(x + size, width), min(y + size, height)) for x, y in itertools.product(*starts)]


@pytest.mark.parametrize(
    "length, patch, gap, expected",
    [
        (1500, 1024, 200, [0, 476]),  # the DOTA fake scene: two windows, the last aligned to the edge
        (1024, 1024, 200, [0]),  # exactly one patch
        (1025, 1024, 200, [0, 1]),  # one pixel more: a second window aligned to the edge
        (800, 1024, 200, [0]),  # smaller than the patch
        (4000, 1024, 200, [0, 824, 1648, 2472, 2976]),  # a typical DOTA scene
        (1848, 1024, 200, [0, 824]),  # the second window ends exactly on the edge
        (2048, 1024, 0, [0, 1024]),  # no overlap
    ],
)
def test_window_starts_table(length, patch, gap, expected):
    assert window_starts(length, patch, gap) == expected


@pytest.mark.parametrize(
    "patch, gap",
    [
        (1024, 1024),  # gap must be smaller than the patch
        (1024, -1),  # negative gap
        (0, 0),  # empty patch
        (1024.0, 200),  # float patch
    ],
)
def test_bad_grid_raises(patch, gap):
    with pytest.raises(ConfigError, match=r"patch|gap"):
        window_starts(2000, patch, gap)


@settings(max_examples=300, deadline=None)
@given(length=st.integers(1, 20_000), patch=st.integers(1, 2048), gap_share=st.floats(0, 0.95))
def test_starts_cover_the_axis_with_at_least_the_gap_of_overlap(length, patch, gap_share):
    gap = int(patch * gap_share)
    starts = window_starts(length, patch, gap)
    assert starts[0] == 0 and starts == sorted(set(starts))
    assert min(starts[-1] + patch, length) == length  # the last window ends on the edge
    for a, b in itertools.pairwise(starts):
        assert a + patch - b >= gap  # neighbours overlap by at least the gap: no pixel is missed
    assert all(s + patch <= length for s in starts) or starts == [0]


@settings(max_examples=60, deadline=None)
@given(
    width=st.integers(1, 3000), height=st.integers(1, 3000), patch=st.integers(128, 1500), gap_share=st.floats(0, 0.5)
)
def test_windows_match_mmrotate(width, height, patch, gap_share):
    gap = int(patch * gap_share)
    windows = list(iter_windows(width, height, patch=patch, gap=gap))
    assert [tuple(w.to_list()) for w in windows] == mmrotate_windows(width, height, patch, gap)
    for w in windows:
        assert 0 <= w.x0 < w.x1 <= width and 0 <= w.y0 < w.y1 <= height
        assert w.width == min(patch, width) and w.height == min(patch, height)


def test_crop_is_a_view_and_checks_bounds():
    arr = np.arange(5 * 7 * 3, dtype=np.uint8).reshape(5, 7, 3)
    tile = crop(arr, Window(2, 1, 6, 4))
    assert tile.shape == (3, 4, 3) and np.shares_memory(tile, arr)
    assert (tile == arr[1:4, 2:6]).all()
    assert crop(arr[..., 0], Window(0, 0, 7, 5)).shape == (5, 7)  # masks too
    with pytest.raises(ConfigError, match="inside the 7x5 array"):
        crop(arr, Window(4, 0, 8, 2))


@pytest.mark.parametrize(
    "size, scale, expected",
    [
        ((1500, 1001), 0.5, (750, 501)),  # half-pixel rounds up, as mmcv's imrescale
        ((1500, 1500), 1.5, (2250, 2250)),
        ((3, 3), 0.01, (1, 1)),  # never empty
    ],
)
def test_scaled_size(size, scale, expected):
    assert scaled_size(*size, scale) == expected
    img = np.zeros((size[1], size[0], 3), np.uint8)
    assert rescale(img, scale).shape[:2] == (expected[1], expected[0])


def test_source_window_is_exact_at_rates_that_divide():
    assert source_window(Window(824, 476, 1848, 1500), 1.0, (2000, 2000)) == Window(824, 476, 1848, 1500)
    assert source_window(Window(824, 0, 1848, 1024), 0.5, (4000, 3000)) == Window(1648, 0, 3696, 2048)
    assert source_window(Window(0, 0, 1024, 1024), 1.5, (700, 700)) == Window(0, 0, 683, 683)  # clipped, rounded


def box(label, x1, y1, x2, y2, **kw):
    return ObjectAnn(label, [x1, y1, x2, y2], [x1, y1, x2, y1, x2, y2, x1, y2], **kw)


@pytest.mark.parametrize(
    "obj, kept_ratio, expected_hbox",
    [
        (box("a", 10, 10, 20, 20), 1.0, [10, 10, 20, 20]),  # wholly inside: translated only
        (box("a", 90, 10, 110, 20), 0.5, [90, 10, 100, 20]),  # half sticks out on the right
        (box("a", 95, 95, 105, 105), 0.25, [95, 95, 100, 100]),  # a quarter in the corner
        (ObjectAnn("a", [-10, 0, 10, 10]), 0.5, [0, 0, 10, 10]),  # horizontal box only, past the left edge
        (box("a", 100, 0, 120, 10), 0.0, None),  # touches the edge only
    ],
)
def test_clip_object(obj, kept_ratio, expected_hbox):
    cut, kept = clip_object(obj, Window(0, 0, 100, 100))
    assert kept == pytest.approx(kept_ratio)
    if expected_hbox is None:
        assert cut is None
    else:
        assert cut.hbox == expected_hbox
        assert (cut.qbox is None) == (obj.qbox is None)


def test_clipped_rotated_box_stays_inside_the_tile_and_valid():
    # a long ship at 30 degrees cut by the right edge: the min-area rectangle of the part inside would stick out
    c, s = math.cos(math.radians(30)), math.sin(math.radians(30))
    cx, cy, w, h = 95.0, 50.0, 40.0, 8.0
    q = []
    for dx, dy in ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)):
        q += [cx + dx * c - dy * s, cy + dx * s + dy * c]
    xs, ys = q[0::2], q[1::2]
    obj = ObjectAnn("ship", [min(xs), min(ys), max(xs), max(ys)], q)
    cut, kept = clip_object(obj, Window(0, 0, 100, 100))
    assert 0.5 < kept < 0.8
    assert is_valid_qbox(np.array(cut.qbox))
    assert min(cut.qbox) >= 0 and max(cut.qbox[0::2]) <= 100 + 1e-3 and max(cut.qbox[1::2]) <= 100 + 1e-3
    assert cut.hbox[2] == pytest.approx(100.0)


@pytest.mark.parametrize(
    "x1, partial, expected",
    [
        (86, "drop", [False]),  # 14/20 = 0.70 inside: kept, not flagged
        (87, "drop", []),  # 13/20 = 0.65 inside: dropped
        (87, "flag", [True]),  # kept, flagged truncated
        (120, "flag", []),  # nothing inside: never kept
    ],
)
def test_truncation_threshold(x1, partial, expected):
    objs = [box("car", x1, 0, x1 + 20, 10)]
    out = clip_objects(objs, Window(0, 0, 100, 100), min_kept=0.7, partial=partial)
    assert [o.truncated for o in out] == expected


def _rotated(cx, cy, w, h, deg):
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    q = []
    for dx, dy in ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)):
        q += [round(cx + dx * c - dy * s, 1), round(cy + dx * s + dy * c, 1)]
    return ObjectAnn("ship", [min(q[0::2]), min(q[1::2]), max(q[0::2]), max(q[1::2])], q)


@settings(max_examples=60)
@given(
    st.lists(
        st.tuples(
            st.floats(-30, 130),
            st.floats(-30, 130),
            st.floats(0, 40),
            st.floats(0, 40),
            st.sampled_from([0.0, 30.0, 45.0, 90.0, 117.0]),
        ),
        max_size=25,
    ),
    st.sampled_from([0.0, 0.5, 0.7, 1.0]),
    st.sampled_from(["drop", "flag"]),
)
def test_clip_objects_equals_clipping_each_object(specs, min_kept, partial):
    """The vectorised early drop of clearly partial boxes never changes what clip_objects returns."""
    objs = [_rotated(*spec) for spec in specs]
    objs += [box("car", 86, 0, 106, 10), box("car", 90, 90, 110, 110)]  # exactly 0.70 and 0.25 inside
    window = Window(0, 0, 100, 100)
    expected = []
    for obj in objs:
        cut, kept = clip_object(obj, window)
        if cut is None or (kept < min_kept and partial == "drop"):
            continue
        expected.append(cut if kept >= min_kept else replace(cut, truncated=True))
    assert clip_objects(objs, window, min_kept=min_kept, partial=partial) == expected


def scene_with_objects(rng, size, n):
    img = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
    objs = []
    for _ in range(n):
        x, y = rng.uniform(0, size - 30, 2)
        w, h = rng.uniform(4, 30, 2)
        objs.append(box("obj", round(x, 1), round(y, 1), round(x + w, 1), round(y + h, 1)))
    return img, objs


def test_tiles_come_one_at_a_time_as_views():
    img, objs = scene_with_objects(np.random.default_rng(0), 600, 40)
    tiles = iter_tiles(img, objs, patch=256, gap=64)
    assert isinstance(tiles, types.GeneratorType)
    first = next(tiles)
    assert first.window == Window(0, 0, 256, 256) and np.shares_memory(first.pixels, img)
    assert len(list(tiles)) == len(list(iter_windows(600, 600, patch=256, gap=64))) - 1


@pytest.mark.parametrize("scale", [1.0, 0.5, 1.5])
def test_objects_map_back_to_the_source_through_the_window(scale):
    rng = np.random.default_rng(1)
    img, objs = scene_with_objects(rng, 700, 60)
    scaled = rescale(img, scale)
    seen_whole = set()
    for tile in iter_tiles(scaled, scale_objects(objs, scale), patch=256, gap=64, scale=scale, source_size=(700, 700)):
        th, tw = tile.pixels.shape[:2]
        for o in tile.objects:
            assert 0 <= o.hbox[0] < o.hbox[2] <= tw + 1e-3 and 0 <= o.hbox[1] < o.hbox[3] <= th + 1e-3
            back = from_window(o.qbox, tile.source_window, scale)
            matches = [i for i, src in enumerate(objs) if np.abs(back - np.array(src.qbox)).max() <= 0.5 + 1e-3]
            if scale == 1.0:
                matches = [i for i, src in enumerate(objs) if np.allclose(back, src.qbox, atol=1e-3)]
            seen_whole.update(matches)
    # every object is smaller than the gap at each scale, so some tile holds it whole
    assert seen_whole == set(range(len(objs)))


def test_read_scene_converts_grayscale_and_reports_corrupt_files(tmp_path):
    gray = np.arange(12 * 20, dtype=np.uint8).reshape(12, 20)
    Image.fromarray(gray).save(tmp_path / "g.png")
    rgb = read_scene(tmp_path / "g.png")
    assert rgb.shape == (12, 20, 3) and (rgb == gray[..., None]).all()
    colour = np.dstack([gray, 255 - gray, gray // 2])
    Image.fromarray(colour).save(tmp_path / "c.png")
    assert (read_scene(tmp_path / "c.png") == colour).all()  # RGB order, not OpenCV's BGR
    data = (tmp_path / "c.png").read_bytes()
    (tmp_path / "t.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidImageError, match="truncated or corrupt"):
        read_scene(tmp_path / "t.png")
    with pytest.raises(InvalidImageError, match="missing"):
        read_scene(tmp_path / "nope.png")
