from __future__ import annotations

import math
from contextlib import nullcontext as does_not_raise
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ts_instruct.errors import GeometryError
from ts_instruct.geometry import (
    canonical_qbox,
    clamp_to_image,
    clip_hbox,
    clip_polygon,
    clip_qbox,
    from_window,
    hbox2qbox,
    hbox2rbox,
    is_valid_qbox,
    orient_ring,
    poly2hbox,
    poly2qbox,
    polygon_area,
    qbox2hbox,
    qbox2rbox,
    rbox2qbox,
    regularize_rbox,
    signed_area,
    to_window,
    valid_qbox_mask,
    validate_qbox,
)
from ts_instruct.iou import iou_hbox, iou_poly, iou_qbox, iou_qbox_pairs
from ts_instruct.sample import Window

S2 = math.sqrt(2)
RECT = [0, 0, 4, 0, 4, 2, 0, 2]  # 4 x 2 box, canonical
# rbox (50, 50, 40, 20, pi/4), worked by hand: half-sides u = (10√2, 10√2), v = (-5√2, 5√2); corners c ± u ± v.
# Two corners tie on x + y (71.716); the one with smaller y comes first.
R45 = [50 - 5 * S2, 50 - 15 * S2, 50 + 15 * S2, 50 + 5 * S2, 50 + 5 * S2, 50 + 15 * S2, 50 - 15 * S2, 50 - 5 * S2]


def _run(fn: Any, inp: Any, expected: Any, exception: Any) -> None:
    with exception:
        out = fn(inp)
        np.testing.assert_allclose(out, expected, atol=1e-9)


@pytest.mark.parametrize(
    "fn, inp, expected, exception",
    [
        (hbox2qbox, [10, 20, 30, 40], [10, 20, 30, 20, 30, 40, 10, 40], does_not_raise()),  # one box
        (hbox2qbox, [[0, 0, 1, 1], [2, 3, 4, 5]], [[0, 0, 1, 0, 1, 1, 0, 1], [2, 3, 4, 3, 4, 5, 2, 5]],
         does_not_raise()),  # batch (N, 4)
        (hbox2qbox, np.zeros((0, 4)), np.zeros((0, 8)), does_not_raise()),  # empty batch
        (hbox2qbox, [1, 2, 3], None, pytest.raises(GeometryError, match=r"\(\.\.\., 4\)")),  # wrong length
        (qbox2hbox, [2, 0, 4, 2, 2, 4, 0, 2], [0, 0, 4, 4], does_not_raise()),  # diamond
        (qbox2hbox, [1, 2, 3, 4], None, pytest.raises(GeometryError)),  # 4 numbers are not a qbox
        (canonical_qbox, RECT, RECT, does_not_raise()),  # already canonical
        (canonical_qbox, [0, 2, 4, 2, 4, 0, 0, 0], RECT, does_not_raise()),  # counter-clockwise from BL
        (canonical_qbox, [4, 2, 0, 2, 0, 0, 4, 0], RECT, does_not_raise()),  # clockwise from BR
        (canonical_qbox, [4, 0, 4, 2, 0, 2, 0, 0], RECT, does_not_raise()),  # clockwise from TR
        (canonical_qbox, [0, 10, 10, 0, 20, 10, 10, 20], [10, 0, 20, 10, 10, 20, 0, 10], does_not_raise()),
        # ^ diamond: top and left corner tie on x + y = 10; smaller y (top) wins
        (canonical_qbox, np.zeros((2, 3, 8)), np.zeros((2, 3, 8)), does_not_raise()),  # leading dims kept
        (canonical_qbox, np.zeros((3, 7)), None, pytest.raises(GeometryError, match="8")),  # wrong shape
        (rbox2qbox, [2, 1, 4, 2, 0.0], RECT, does_not_raise()),  # axis-aligned
        (rbox2qbox, [2, 1, 2, 4, math.pi / 2], RECT, does_not_raise()),  # same box, sides swapped
        (rbox2qbox, [50, 50, 40, 20, math.pi / 4], R45, does_not_raise()),  # 45 degrees, hand-computed corners
        (rbox2qbox, [50, 50, 40, 20, math.pi / 4 - math.pi], R45, does_not_raise()),  # same box, half a turn off
        (qbox2rbox, RECT, [2, 1, 4, 2, 0], does_not_raise()),  # axis-aligned
        (qbox2rbox, [0, 0, 2, 0, 2, 4, 0, 4], [1, 2, 4, 2, -math.pi / 2], does_not_raise()),  # tall: le90 swap
        (qbox2rbox, R45, [50, 50, 40, 20, math.pi / 4], does_not_raise()),  # 45 degrees, clockwise on screen
        (qbox2rbox, R45[2:] + R45[:2], [50, 50, 40, 20, math.pi / 4], does_not_raise()),  # any start corner
        (qbox2rbox, [0, 0, 4, 0, 3, 2, 1, 2], [2, 1, 4, 2, 0], does_not_raise()),  # trapezoid: min-area rect
        (qbox2rbox, [5, 5, 5, 5, 5, 5, 5, 5], [5, 5, 0, 0, 0], does_not_raise()),  # all corners equal
        (hbox2rbox, [0, 0, 4, 2], [2, 1, 4, 2, 0], does_not_raise()),  # wide
        (hbox2rbox, [0, 0, 2, 4], [1, 2, 4, 2, -math.pi / 2], does_not_raise()),  # tall
        (regularize_rbox, [0, 0, 3, 3, math.pi / 2 - 0.1], [0, 0, 3, 3, -0.1], does_not_raise()),  # square: mod pi/2
        (regularize_rbox, [0, 0, 4, 2, math.pi / 2], [0, 0, 4, 2, -math.pi / 2], does_not_raise()),  # pi/2 wraps
        (poly2hbox, [[1, 5], [3, 2], [4, 6]], [1, 2, 4, 6], does_not_raise()),  # triangle
        (poly2hbox, np.zeros((0, 2)), None, pytest.raises(GeometryError, match="at least one vertex")),  # empty
        (poly2qbox, [[0, 0], [4, 0], [4, 2], [2, 3], [0, 2]], [0, 0, 4, 0, 4, 3, 0, 3], does_not_raise()),  # house
        (poly2qbox, [[10, 0], [20, 10], [10, 20], [0, 10], [5, 5]], [10, 0, 20, 10, 10, 20, 0, 10],
         does_not_raise()),  # diamond with a collinear extra vertex: the rotated square
        (poly2qbox, [[0, 0], [1, 1], [3, 3]], [0, 0, 0, 0, 3, 3, 3, 3], does_not_raise()),  # collinear: zero area
        (poly2qbox, [[0, 0, 1]], None, pytest.raises(GeometryError, match=r"\(M, 2\)")),  # (1, 3) is not a polygon
    ],
)  # fmt: skip
def test_conversions(fn: Any, inp: Any, expected: Any, exception: Any) -> None:
    _run(fn, inp, expected, exception)


@pytest.mark.parametrize(
    "q, valid",
    [
        (RECT, True),  # plain rectangle
        ([0, 2, 4, 2, 4, 0, 0, 0], True),  # counter-clockwise on screen is still valid
        ([0, 0, 4, 0, 4, 2, 1, 1], True),  # concave (dart)
        ([0, 0, 4, 0, 8, 0, 2, 0], False),  # degenerate OBB: all corners on a line, zero area
        ([3, 3, 3, 3, 3, 3, 3, 3], False),  # degenerate OBB: a point
        ([0, 0, 4, 2, 4, 0, 0, 2], False),  # bow-tie: corners out of order, edges cross
        ([0, 0, 4, 0, 4, 2, float("nan"), 2], False),  # NaN corner
        ([0, 0, 4, 0, 4, 2], False),  # wrong length
    ],
)
def test_geometry_zoo_validity(q: list[float], valid: bool) -> None:
    assert is_valid_qbox(q) is valid
    if len(q) == 8:
        assert valid_qbox_mask([q]).tolist() == [valid]
    with does_not_raise() if valid else pytest.raises(GeometryError, match=r"P0001\.txt:7"):
        out = validate_qbox(q, where="P0001.txt:7")
        assert signed_area(out) > 0


def test_validate_qbox_messages_name_the_problem() -> None:
    with pytest.raises(GeometryError, match="degenerate"):
        validate_qbox([0, 0, 4, 0, 8, 0, 2, 0], where="x")
    with pytest.raises(GeometryError, match="self-intersect"):
        validate_qbox([0, 0, 4, 2, 4, 0, 0, 2], where="x")


def test_clockwise_and_counter_clockwise_give_the_same_canonical_box() -> None:
    cw = np.array([10, 0, 20, 5, 12, 20, 2, 12], dtype=float)
    ccw = cw.reshape(4, 2)[::-1].reshape(8)
    assert signed_area(cw) > 0 > signed_area(ccw)
    np.testing.assert_array_equal(canonical_qbox(cw), canonical_qbox(ccw))
    np.testing.assert_array_equal(canonical_qbox(cw), cw)  # already canonical: first corner (10, 0)


def test_areas_and_ring_orientation() -> None:
    assert signed_area([[0, 0], [0, 2], [3, 2], [3, 0]]) == -6.0  # counter-clockwise on screen
    assert polygon_area([[0, 0], [0, 2], [3, 2], [3, 0]]) == 6.0
    assert signed_area([[0, 0], [1, 1]]) == 0.0  # fewer than 3 vertices
    ring = orient_ring([[3, 0], [3, 2], [0, 2], [0, 0], [3, 0]])  # closed, clockwise from TR
    assert ring.tolist() == [[0, 0], [3, 0], [3, 2], [0, 2]]
    hole = orient_ring(ring, hole=True)
    assert signed_area(hole) < 0 and hole[0].tolist() == [0, 0]


# --------------------------------------------------------------------------------------------- clipping
@pytest.mark.parametrize(
    "hbox, window, expected, kept",
    [
        ([10, 10, 20, 20], (0, 0, 100, 100), [10, 10, 20, 20], 1.0),  # inside
        ([90, 10, 110, 30], (0, 0, 100, 100), [90, 10, 100, 30], 0.5),  # straddles the right edge: 10x20 of 20x20
        ([90, 10, 110, 30], (50, 0, 150, 100), [40, 10, 60, 30], 1.0),  # window coordinates are shifted
        ([-5, -5, 5, 15], (0, 0, 10, 10), [0, 0, 5, 10], 50 / 200),  # top-left corner: 5x10 of 10x20
        ([200, 200, 210, 210], (0, 0, 100, 100), None, 0.0),  # fully outside
        ([100, 0, 110, 10], (0, 0, 100, 100), None, 0.0),  # touches the edge only
        ([5, 5, 5, 9], (0, 0, 10, 10), [5, 5, 5, 9], 1.0),  # zero-width box inside: kept whole, no division by 0
        ([5, 5, 5, 15], (0, 0, 10, 10), None, 0.0),  # zero-width box crossing the edge: lost
    ],
)
def test_clip_hbox(hbox: list[float], window: tuple[int, ...], expected: list[float] | None, kept: float) -> None:
    box, ratio = clip_hbox(hbox, window)
    assert ratio == pytest.approx(kept)
    if expected is None:
        assert box is None
    else:
        assert box is not None and box.tolist() == expected


def test_clip_accepts_sample_window() -> None:
    box, ratio = clip_hbox([90, 10, 110, 30], Window(50, 0, 150, 100))
    assert box is not None and box.tolist() == [40, 10, 60, 30] and ratio == 1.0
    with pytest.raises(GeometryError, match="x1 > x0"):
        clip_hbox([0, 0, 1, 1], (10, 0, 5, 10))


def test_clip_qbox_straddling_edge_matches_hand_computation() -> None:
    # diamond centred on (25, 50) with half-diagonals 10 (area 200); the window's bottom edge y = 45 keeps the top
    # triangle apex (25, 40), base y = 45 from x = 20 to 30: area 10 * 5 / 2 = 25, so 25 / 200 kept.
    poly, q, ratio = clip_qbox([25, 40, 35, 50, 25, 60, 15, 50], (0, 0, 50, 45))
    assert ratio == pytest.approx(25 / 200)
    assert poly is not None and q is not None
    assert polygon_area(poly) == pytest.approx(25)
    assert abs(signed_area(q)) == pytest.approx(50)  # min-area rectangle of a right isosceles triangle
    assert shapely.Polygon(q.reshape(4, 2)).buffer(1e-9).contains(shapely.Polygon(poly))
    assert signed_area(q) > 0 and np.array_equal(canonical_qbox(q), q)


def test_clip_qbox_inside_keeps_the_original_box_and_outside_gives_none() -> None:
    q = np.array([52, 10, 60, 14, 57, 20, 49, 16], dtype=float)  # not a rectangle: kept as given, shifted
    poly, out, ratio = clip_qbox(q, (40, 0, 100, 100))
    assert ratio == 1.0 and out is not None and poly is not None
    np.testing.assert_allclose(out, q - np.tile([40, 0], 4))
    assert clip_qbox(q, (100, 100, 200, 200)) == (None, None, 0.0)  # fully outside


def test_clip_qbox_axis_aligned_straddle_shifts_into_window() -> None:
    _, q, ratio = clip_qbox(hbox2qbox([90, 10, 110, 30]), (50, 0, 100, 100))
    assert ratio == pytest.approx(0.5)
    assert q is not None and q.tolist() == [40, 10, 50, 10, 50, 30, 40, 30]


def test_clip_polygon_concave_splits_and_bow_tie_is_repaired() -> None:
    u_shape = [[0, 0], [2, 0], [2, 8], [4, 8], [4, 0], [6, 0], [6, 10], [0, 10]]  # U opening upwards
    pieces, ratio = clip_polygon(u_shape, (0, 0, 10, 5))
    assert len(pieces) == 2 and all(signed_area(p) > 0 for p in pieces)
    assert ratio == pytest.approx(20 / polygon_area(u_shape))
    _, q, _ = clip_qbox([0, 0, 2, 0, 2, 8, 0, 8], (0, 0, 10, 5))
    assert q is not None and q.tolist() == [0, 0, 2, 0, 2, 5, 0, 5]
    pieces, ratio = clip_polygon([[0, 0], [4, 4], [4, 0], [0, 4]], (0, 0, 10, 10))  # bow-tie, area 8 after repair
    assert ratio == pytest.approx(1.0) and sum(polygon_area(p) for p in pieces) == pytest.approx(8)
    assert clip_polygon([[0, 0], [5, 5], [9, 9]], (0, 0, 10, 10))[1] == 1.0  # degenerate, inside
    assert clip_polygon([[0, 0], [5, 5], [19, 19]], (0, 0, 10, 10)) == ([], 0.0)  # degenerate, crossing


# --------------------------------------------------------------------------------------------- windows, IoU
def test_to_window_and_clamp() -> None:
    out = to_window([[110, 220, 130, 240]], Window(100, 200, 612, 712), scale=0.5)
    assert out.tolist() == [[5, 10, 15, 20]]
    assert to_window([3, 4], None).tolist() == [3, 4]
    with pytest.raises(GeometryError, match="2k"):
        to_window([1, 2, 3], None)
    with pytest.raises(GeometryError, match="scale"):
        from_window([1, 2], None, scale=0)
    assert clamp_to_image([[-3, 5, 120, 99]], 100, 50).tolist() == [[0, 5, 100, 50]]


def test_iou_values() -> None:
    a = hbox2qbox([[0, 0, 2, 2], [10, 10, 12, 12]])
    b = hbox2qbox([[1, 0, 3, 2], [0, 0, 2, 2], [50, 50, 51, 51]])
    expected = [[1 / 3, 1.0, 0.0], [0.0, 0.0, 0.0]]
    np.testing.assert_allclose(iou_qbox(a, b), expected)
    np.testing.assert_allclose(iou_hbox(qbox2hbox(a), qbox2hbox(b)), expected)
    assert iou_qbox(np.zeros((0, 8)), b).shape == (0, 3)
    diamond = [10, 0, 20, 10, 10, 20, 0, 10]  # inscribed in the 20 x 20 square: IoU 200 / 400
    assert iou_qbox([diamond], hbox2qbox([[0, 0, 20, 20]]))[0, 0] == pytest.approx(0.5)
    assert iou_poly(np.reshape(diamond, (4, 2)), [[0, 0], [20, 0], [20, 20], [0, 20]]) == pytest.approx(0.5)
    assert iou_hbox([[0, 0, 0, 0]], [[0, 0, 0, 0]]).tolist() == [[0.0]]  # empty union
    bow_tie = [0, 0, 4, 4, 4, 0, 0, 4]  # repaired into two triangles of area 4 each
    assert iou_qbox([bow_tie], hbox2qbox([[0, 0, 4, 4]]))[0, 0] == pytest.approx(0.5)


def test_iou_qbox_scales_to_many_boxes() -> None:
    rng = np.random.default_rng(0)
    centres = rng.uniform(0, 10_000, size=(20_000, 2))
    r = np.column_stack([centres, rng.uniform(5, 30, (20_000, 2)), rng.uniform(-1.5, 1.5, 20_000)])
    q = rbox2qbox(r)
    out = iou_qbox(q, q[:500])
    assert out.shape == (20_000, 500)
    np.testing.assert_allclose(np.diag(out[:500]), 1.0)
    dense = np.array([[iou_poly(q[i].reshape(4, 2), q[j].reshape(4, 2)) for j in range(50)] for i in range(50)])
    np.testing.assert_allclose(out[:50, :50], dense, atol=1e-12)
    ia, ib, iou = iou_qbox_pairs(q, q[:500])  # the same numbers, sparse
    assert np.count_nonzero(out) <= len(iou) < 20_000 * 5
    np.testing.assert_array_equal(out[ia, ib], iou)
    out[ia, ib] = 0
    assert not out.any()


# --------------------------------------------------------------------------------------------- properties
coord = st.floats(-1e4, 1e4, allow_nan=False)


@st.composite
def hboxes(draw: st.DrawFn) -> list[float]:
    x1, x2 = sorted([draw(coord), draw(coord)])
    y1, y2 = sorted([draw(coord), draw(coord)])
    return [x1, y1, x2, y2]


@st.composite
def rboxes(draw: st.DrawFn) -> list[float]:
    return [draw(coord), draw(coord), draw(st.floats(1, 500)), draw(st.floats(1, 500)), draw(st.floats(-10, 10))]


@given(hboxes())
def test_hbox_qbox_hbox_identity(b: list[float]) -> None:
    assert qbox2hbox(hbox2qbox(b)).tolist() == b
    assert signed_area(hbox2qbox(b)) >= 0


@given(rboxes())
def test_rbox_qbox_rbox_round_trip(r: list[float]) -> None:
    q = rbox2qbox(r)
    back = qbox2rbox(q)
    w, h, t = back[2], back[3], back[4]
    assert w >= h and -math.pi / 2 <= t < math.pi / 2  # le90
    np.testing.assert_allclose(rbox2qbox(back), q, atol=1e-6)  # same corners, same order
    reg = regularize_rbox(r)
    np.testing.assert_allclose(back[:4], reg[:4], atol=1e-6)
    assume(abs(r[2] - r[3]) > 1e-3 and abs(abs(reg[4]) - math.pi / 2) > 1e-6)  # away from the le90 seams
    assert back[4] == pytest.approx(reg[4], abs=1e-9)


@given(st.lists(coord, min_size=8, max_size=8), st.integers(0, 3), st.booleans())
def test_canonical_qbox_idempotent_and_order_invariant(q: list[float], shift: int, reverse: bool) -> None:
    assume(abs(signed_area(q)) > 1e-3)
    pts4 = np.reshape(q, (4, 2))
    gaps = [np.abs(pts4[i] - pts4[j]).max() for i in range(4) for j in range(i + 1, 4)]
    assume(min(gaps) == 0 or min(gaps) > 1e-6 * max(1.0, np.abs(pts4).max()))  # equal or clearly distinct corners
    c = canonical_qbox(q)
    np.testing.assert_array_equal(canonical_qbox(c), c)
    pts = np.roll(np.reshape(q, (4, 2)), shift, axis=0)
    if reverse:
        pts = pts[::-1]
    np.testing.assert_array_equal(canonical_qbox(pts.reshape(8)), c)
    assert signed_area(c) > 0


@given(st.lists(coord, min_size=2, max_size=10).filter(lambda v: len(v) % 2 == 0), hboxes(),
       st.floats(0.01, 100))  # fmt: skip
def test_window_round_trip(coords: list[float], w: list[float], scale: float) -> None:
    window = (w[0], w[1], w[2] + 1, w[3] + 1)
    back = from_window(to_window(coords, window, scale), window, scale)
    np.testing.assert_allclose(back, coords, rtol=1e-9, atol=1e-7)


@settings(max_examples=200)
@given(rboxes(), hboxes())
def test_clip_ratio_in_unit_interval(r: list[float], w: list[float]) -> None:
    window = (w[0], w[1], w[2] + 1, w[3] + 1)
    q = rbox2qbox(r)
    box, kept_h = clip_hbox(qbox2hbox(q), window)
    poly, out, kept_q = clip_qbox(q, window)
    assert 0.0 <= kept_h <= 1.0 and 0.0 <= kept_q <= 1.0
    assert (box is None) == (kept_h == 0.0) and (poly is None) == (out is None) == (kept_q == 0.0)
    if poly is not None and out is not None:
        size = np.array([window[2] - window[0], window[3] - window[1]])
        assert np.all(poly >= -1e-6) and np.all(poly <= size + 1e-6)  # clipped, in window coordinates
        assert signed_area(out) >= 0 and signed_area(poly) > 0
