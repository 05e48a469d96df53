from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ts_instruct.errors import GeometryError
from ts_instruct.geometry import signed_area
from ts_instruct.masks import (
    Polygon,
    class_map_to_polygons,
    mask_iou,
    mask_to_polygons,
    polygons_to_mask,
    simplify_to_budget,
)

H = W = 128


# --------------------------------------------------------------------------------------------- synthetic masks
def rectangles(rng: np.random.Generator) -> np.ndarray:
    m = np.zeros((H, W), np.uint8)
    for _ in range(6):
        x, y = rng.integers(0, W - 20, 2)
        w, h = rng.integers(4, 20, 2)
        m[y : y + h, x : x + w] = 1
    return m


def l_shapes(rng: np.random.Generator) -> np.ndarray:
    m = np.zeros((H, W), np.uint8)
    for _ in range(4):
        x, y = rng.integers(0, W - 30, 2)
        a, b, t = rng.integers(12, 30), rng.integers(12, 30), rng.integers(4, 10)
        m[y : y + b, x : x + t] = 1
        m[y + b - t : y + b, x : x + a] = 1
    return m


def rotated_rectangles(rng: np.random.Generator) -> np.ndarray:
    m = np.zeros((H, W), np.uint8)
    for _ in range(5):
        centre = tuple(float(v) for v in rng.uniform(20, W - 20, 2))
        size = tuple(float(v) for v in rng.uniform(10, 30, 2))
        pts = cv2.boxPoints((centre, size, float(rng.uniform(0, 180))))
        cv2.fillPoly(m, [np.round(pts).astype(np.int32)], 1)
    return m


def with_holes(rng: np.random.Generator) -> np.ndarray:
    m = np.zeros((H, W), np.uint8)
    for x in (10, 70):
        m[10:60, x : x + 50] = 1
        hx, hy = rng.integers(5, 25, 2)
        m[10 + hy : 10 + hy + 12, x + hx : x + hx + 15] = 0
    m[80:120, 20:110] = 1
    m[88:112, 30:100] = 0  # a courtyard ...
    m[95:105, 50:70] = 1  # ... with an island inside
    return m


def touching(rng: np.random.Generator) -> np.ndarray:
    m = rectangles(rng)
    m[40:50, 40:50] = 1
    m[50:60, 50:60] = 1  # touches the first square only at a corner
    m[40:50, 50:60] = 0
    m[50:60, 40:50] = 0
    m[70:80, 70:90] = 1
    m[80:90, 75:85] = 1  # shares an edge
    return m


def blobs(rng: np.random.Generator) -> np.ndarray:
    noise = cv2.GaussianBlur(rng.random((H, W)).astype(np.float32), (0, 0), 6)
    return np.asarray(noise > np.quantile(noise, 0.7), dtype=np.uint8)


SHAPES: dict[str, tuple[Callable[[np.random.Generator], np.ndarray], float]] = {
    "rectangles": (rectangles, 0.95),
    "l_shapes": (l_shapes, 0.95),
    "rotated_rectangles": (rotated_rectangles, 0.95),
    "with_holes": (with_holes, 0.95),
    "touching": (touching, 0.95),
    "blobs": (blobs, 0.9),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_round_trip_iou_floor(name: str, seed: int) -> None:
    make, floor = SHAPES[name]
    m = make(np.random.default_rng(seed))
    polys = mask_to_polygons(m)
    assert polys
    back = polygons_to_mask(polys, H, W)
    assert mask_iou(m, back) >= floor
    for p in polys:
        assert p.to_shapely().is_valid
        assert signed_area(p.exterior) > 0 and all(signed_area(h) < 0 for h in p.holes)
        assert np.array_equal(p.exterior, np.round(p.exterior))  # vertices on pixel corners


@pytest.mark.parametrize("name", ["rectangles", "l_shapes", "with_holes"])
def test_axis_aligned_shapes_are_exact_at_default_settings(name: str) -> None:
    m = SHAPES[name][0](np.random.default_rng(7))
    assert mask_iou(m, polygons_to_mask(mask_to_polygons(m), H, W)) == 1.0


@settings(max_examples=60, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 24), st.integers(1, 24)), elements=st.integers(0, 1)))
def test_unsimplified_round_trip_is_exact(m: np.ndarray) -> None:
    polys = mask_to_polygons(m, min_area=0, simplify_tolerance=0)
    np.testing.assert_array_equal(polygons_to_mask(polys, *m.shape), m)
    assert all(p.to_shapely().is_valid for p in polys)


# --------------------------------------------------------------------------------------------- conventions
def test_single_pixel_is_its_square() -> None:
    m = np.zeros((5, 6), np.uint8)
    m[2, 3] = 1
    (p,) = mask_to_polygons(m, min_area=1)
    assert p.exterior.tolist() == [[3, 2], [4, 2], [4, 3], [3, 3]] and p.area == 1.0


def test_holes_preserved_and_small_holes_filled() -> None:
    m = np.zeros((20, 20), np.uint8)
    m[2:18, 2:18] = 1
    m[5:7, 5:7] = 0  # 2 x 2 hole: kept at min_area=4
    m[12, 12] = 0  # 1-pixel hole: filled at min_area=4
    (p,) = mask_to_polygons(m)
    assert len(p.holes) == 1 and sorted(map(tuple, p.holes[0].tolist())) == [(5, 5), (5, 7), (7, 5), (7, 7)]
    assert p.area == 16 * 16 - 4
    (p,) = mask_to_polygons(m, min_area=1)
    assert len(p.holes) == 2 and p.area == 16 * 16 - 5


def test_island_in_hole_and_order() -> None:
    m = with_holes(np.random.default_rng(0))
    polys = mask_to_polygons(m)
    keys = [(p.exterior[0, 1], p.exterior[0, 0]) for p in polys]
    assert keys == sorted(keys)  # top-most, then left-most
    assert [p.exterior[0].tolist() for p in polys] == [[10, 10], [70, 10], [20, 80], [50, 95]]
    np.testing.assert_array_equal(polygons_to_mask(polys, H, W), m)


def test_corner_touching_pixels_become_separate_polygons() -> None:
    m = np.zeros((6, 6), np.uint8)
    m[1:3, 1:3] = 1
    m[3:5, 3:5] = 1
    polys = mask_to_polygons(m)
    assert [p.exterior.tolist() for p in polys] == [[[1, 1], [3, 1], [3, 3], [1, 3]], [[3, 3], [5, 3], [5, 5], [3, 5]]]
    diamond = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], np.uint8)  # a ring of corner-touching pixels
    polys = mask_to_polygons(diamond, min_area=0, simplify_tolerance=0)
    assert len(polys) == 4 and all(p.area == 1 for p in polys)
    np.testing.assert_array_equal(polygons_to_mask(polys, 3, 3), diamond)


def test_empty_mask_min_area_and_bad_input() -> None:
    assert mask_to_polygons(np.zeros((10, 10), bool)) == []
    m = np.zeros((10, 10), np.uint8)
    m[0, 0] = 255
    m[4:7, 4:7] = 255  # 9 px
    assert [p.area for p in mask_to_polygons(m)] == [9.0]
    assert [p.area for p in mask_to_polygons(m, min_area=1)] == [1.0, 9.0]
    assert mask_to_polygons(m, min_area=10) == []
    with pytest.raises(GeometryError, match="2-D"):
        mask_to_polygons(np.zeros((2, 2, 3)))
    with pytest.raises(ValueError, match="max_vertices"):
        mask_to_polygons(m, max_vertices=3)


def test_max_vertices_per_polygon() -> None:
    m = blobs(np.random.default_rng(3))
    polys = mask_to_polygons(m, max_vertices=12)
    assert polys and all(p.num_vertices <= 12 and p.to_shapely().is_valid for p in polys)
    assert len(polys) == len(mask_to_polygons(m))  # simplified, never dropped
    assert mask_iou(m, polygons_to_mask(polys, H, W)) >= 0.75


def test_polygons_to_mask_rules() -> None:
    square = Polygon(np.array([[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0]]))
    shifted = Polygon(np.array([[2.0, 0.0], [6.0, 0.0], [6.0, 4.0], [2.0, 4.0]]))
    union = polygons_to_mask([square, shifted], 5, 7)  # overlapping polygons unite (no even-odd cancelling)
    assert union[:4, :6].all() and union.sum() == 24
    # a centre exactly on an edge: in for the left edge, out for the right edge (x = 0.5 and x = 2.5)
    thin = Polygon(np.array([[0.5, 0.0], [2.5, 0.0], [2.5, 1.0], [0.5, 1.0]]))
    assert polygons_to_mask([thin], 1, 4).tolist() == [[1, 1, 0, 0]]
    ccw = Polygon(square.exterior[::-1].copy())  # orientation of the input does not matter
    np.testing.assert_array_equal(polygons_to_mask([ccw], 5, 5), polygons_to_mask([square], 5, 5))
    outside = Polygon(np.array([[-5.0, -5.0], [20.0, -5.0], [20.0, 20.0], [-5.0, 20.0]]))
    assert polygons_to_mask([outside], 3, 4).all()  # clipped to the image
    assert polygons_to_mask([], 2, 3).shape == (2, 3)


def test_mask_iou() -> None:
    assert mask_iou(np.zeros((3, 3)), np.zeros((3, 3))) == 1.0
    assert mask_iou([[1, 0]], [[0, 1]]) == 0.0
    with pytest.raises(GeometryError, match="same shape"):
        mask_iou(np.zeros((3, 3)), np.zeros((3, 4)))


# --------------------------------------------------------------------------------------------- budgets, classes
@pytest.mark.parametrize("budget", [400, 120, 40, 12, 3, 0])
def test_simplify_to_budget(budget: int) -> None:
    polys = mask_to_polygons(blobs(np.random.default_rng(5)), simplify_tolerance=0)
    total = sum(p.num_vertices for p in polys)
    assert total > 400
    out = simplify_to_budget(polys, budget)
    assert sum(p.num_vertices for p in out) <= budget
    assert all(p.to_shapely().is_valid and p.area > 0 for p in out)
    if budget >= 120:
        assert len(out) == len(polys)  # simplification alone is enough; nothing dropped


def test_simplify_to_budget_drops_smallest_last() -> None:
    m = np.zeros((50, 50), np.uint8)
    m[1:3, 1:3] = 1  # area 4
    m[10:30, 10:30] = 1  # area 400
    m[1:11, 36:46] = 1  # area 100
    polys = mask_to_polygons(m)
    assert [p.area for p in polys] == [4, 100, 400]  # rectangles: 4 vertices each, nothing to simplify
    assert [p.area for p in simplify_to_budget(polys, 11)] == [100, 400]  # input order kept
    assert [p.area for p in simplify_to_budget(polys, 4)] == [400]


def test_simplify_to_budget_keeps_fitting_input_and_rejects_negative() -> None:
    polys = mask_to_polygons(rectangles(np.random.default_rng(0)))
    assert simplify_to_budget(polys, 10_000) == polys
    with pytest.raises(ValueError, match="max_vertices_total"):
        simplify_to_budget(polys, -1)


def test_class_map_to_polygons() -> None:
    cm = np.zeros((40, 40), np.int64)
    cm[5:15, 5:25] = 2  # building
    cm[20:30, :] = 3  # road
    cm[35:, 35:] = 255  # no-data
    classes = {0: "background", 1: "water", 2: "building", 3: "road"}
    out = class_map_to_polygons(cm, classes, ignore_index=255, min_area=1)
    assert list(out) == ["background", "water", "building", "road"]
    assert [p.area for p in out["building"]] == [200.0] and [p.area for p in out["road"]] == [400.0]
    assert out["water"] == []  # id 1 never occurs
    assert sum(p.area for p in out["background"]) == 1600 - 200 - 400 - 25  # no-data pixels skipped
    assert class_map_to_polygons(cm, classes | {255: "nodata"}, ignore_index=255)["nodata"] == []
    cm[0, 0] = 7
    with pytest.raises(GeometryError, match=r"\[7\]"):
        class_map_to_polygons(cm, classes, ignore_index=255)


def test_polygon_value_helpers() -> None:
    (p,) = mask_to_polygons(with_holes(np.random.default_rng(0))[:70, :68])
    ann = p.to_ann("building")
    assert ann.label == "building" and ann.exterior[0] == [10.0, 10.0] and len(ann.holes) == 1
    again = Polygon.from_shapely(shapely.Polygon(p.exterior[::-1], [h[::-1] for h in p.holes]))
    assert again == p and again != Polygon(p.exterior)
