"""Render styles: pinned answers, render -> parse round trips, the parser on model slips, fuzzing."""

from __future__ import annotations

import json
import math
import re
from contextlib import AbstractContextManager, nullcontext

import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ts_instruct.errors import ConfigError, GeometryError, RenderParseError
from ts_instruct.render import (
    KINDS,
    STYLES,
    Frame,
    ParseResult,
    RenderItem,
    RenderStyle,
    canonical_qbox,
    get_style,
    list_styles,
    style_from_meta,
)

STYLE_NAMES = list_styles()
JSON_STYLES = ["qwen25vl", "qwen3vl"]
ROUND_TRIP = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])


# -- pinned answers: a change of format must be deliberate --------------------------------------------------------

PLANE = RenderItem("hbox", (100, 150, 300, 450), label="plane")
SHIP = RenderItem("qbox", (400, 100, 500, 150, 450, 250, 350, 200), label="ship")
LAKE = RenderItem("polygon", (600, 300, 700, 350, 650, 500, 550, 450, 560, 380), label="lake")
CAR = RenderItem("point", (200, 500))
EXAMPLE = [PLANE, SHIP, LAKE, CAR]

PINNED = {
    "qwen2vl": (
        "<|object_ref_start|>plane<|object_ref_end|><|box_start|>(125,250),(375,750)<|box_end|>\n"
        "<|object_ref_start|>ship<|object_ref_end|><|quad_start|>(500,167),(625,250),(563,417),(438,333)<|quad_end|>\n"
        "<|object_ref_start|>lake<|object_ref_end|>"
        "<|quad_start|>(750,500),(875,583),(813,833),(688,750),(700,633)<|quad_end|>\n"
        "<|box_start|>(250,833)<|box_end|>"
    ),
    "qwen25vl": (  # 800x600 is seen as 812x588 by the model
        "```json\n[\n"
        '\t{"bbox_2d": [102, 147, 305, 441], "label": "plane"},\n'
        '\t{"quad_2d": [[406, 98], [508, 147], [457, 245], [355, 196]], "label": "ship"},\n'
        '\t{"polygon_2d": [[609, 294], [711, 343], [660, 490], [558, 441], [568, 372]], "label": "lake"},\n'
        '\t{"point_2d": [203, 490]}\n'
        "]\n```"
    ),
    "qwen3vl": (
        "```json\n[\n"
        '\t{"bbox_2d": [125, 250, 375, 750], "label": "plane"},\n'
        '\t{"quad_2d": [[500, 167], [625, 250], [563, 417], [438, 333]], "label": "ship"},\n'
        '\t{"polygon_2d": [[750, 500], [875, 583], [813, 833], [688, 750], [700, 633]], "label": "lake"},\n'
        '\t{"point_2d": [250, 833]}\n'
        "]\n```"
    ),
}
PINNED_EMPTY = {"qwen2vl": "None", "qwen25vl": "```json\n[]\n```", "qwen3vl": "```json\n[]\n```"}
PINNED_INLINE = {
    "qwen2vl": "<|object_ref_start|>plane<|object_ref_end|><|box_start|>(125,250),(375,750)<|box_end|>",
    "qwen25vl": '{"bbox_2d": [102, 147, 305, 441], "label": "plane"}',
    "qwen3vl": '{"bbox_2d": [125, 250, 375, 750], "label": "plane"}',
}


@pytest.mark.parametrize("name", STYLE_NAMES)
def test_pinned_example_answer(name: str):
    style = get_style(name)
    frame = style.frame(800, 600)
    assert style.render(EXAMPLE, frame) == PINNED[name]
    assert style.render([], frame) == PINNED_EMPTY[name]
    assert style.render_inline(PLANE, frame) == PINNED_INLINE[name]


@pytest.mark.parametrize("name", STYLE_NAMES)
def test_pinned_example_parses_back(name: str):
    style = get_style(name)
    frame = style.frame(800, 600)
    result = style.parse(PINNED[name], frame)
    assert result.ok, result.errors
    assert [(i.kind, i.label) for i in result.items] == [(i.kind, i.label) for i in EXAMPLE]
    sx, sy = frame.pixel_step
    for got, want in zip(result.items, EXAMPLE, strict=True):
        for k, (a, b) in enumerate(zip(got.coords, want.coords, strict=True)):
            assert abs(a - b) <= 0.5 * (sx if k % 2 == 0 else sy) + 1e-9
    assert style.parse(PINNED_EMPTY[name], frame) == ParseResult([], [])


def test_pinned_describe():
    assert get_style("qwen25vl").describe() == {
        "style": "qwen25vl",
        "coords": "abs_resized",
        "template": "qwen2_vl",
        "image_max_pixels": 589824,
        "image_min_pixels": 1024,
        "processor_min_pixels": 3136,
        "processor_max_pixels": 12845056,
        "factor": 28,
    }
    assert get_style("qwen2vl").describe()["coords"] == "rel1000"
    assert get_style("qwen3vl").describe() == {
        "style": "qwen3vl",
        "coords": "rel1000",
        "template": "qwen3_vl_nothink",
        "image_max_pixels": 589824,
        "image_min_pixels": 1024,
        "processor_min_pixels": 65536,
        "processor_max_pixels": 16777216,
        "factor": 32,
    }


# -- registry ------------------------------------------------------------------------------------------------------


def test_registry_names_and_templates():
    assert list_styles() == sorted(STYLES) == ["qwen25vl", "qwen2vl", "qwen3vl"]
    assert {n: get_style(n).template for n in STYLE_NAMES} == {
        "qwen2vl": "qwen2_vl",
        "qwen25vl": "qwen2_vl",
        "qwen3vl": "qwen3_vl_nothink",
    }
    assert all(get_style(n).name == n for n in STYLE_NAMES)


@pytest.mark.parametrize(
    "name, options, exception",
    [
        ("qwen25vl", {}, nullcontext()),  # defaults
        ("qwen25vl", {"image_max_pixels": 262144}, nullcontext()),  # the shipped examples' value
        ("qwen4vl", {}, pytest.raises(ConfigError, match=r"one of \['qwen25vl', 'qwen2vl', 'qwen3vl'\]")),  # unknown
        ("qwen2vl", {"max_pixels": 5}, pytest.raises(ConfigError, match="options must be among")),  # misspelt option
        ("qwen3vl", {"image_max_pixels": "768*768"}, pytest.raises(ConfigError, match="positive int")),  # YAML slip
    ],
)
def test_get_style(name: str, options: dict, exception: AbstractContextManager):
    with exception:
        assert isinstance(get_style(name, **options), RenderStyle)


@pytest.mark.parametrize("name", STYLE_NAMES)
def test_style_from_meta_round_trip(name: str):
    style = get_style(name, image_max_pixels=262144, image_min_pixels=4096)
    meta = json.loads(json.dumps(style.describe()))  # it goes through the record's JSON
    rebuilt = style_from_meta(meta)
    assert rebuilt == style and rebuilt.describe() == style.describe()
    assert rebuilt.frame(1000, 700) == style.frame(1000, 700)
    assert rebuilt != get_style(name, image_max_pixels=65536)


@pytest.mark.parametrize(
    "meta, match",
    [
        ({}, "'style' key"),  # no style
        ([], "'style' key"),  # not a dict
        ({"style": "llava"}, "must be one of"),  # unknown style
        ({"style": "qwen25vl", "coords": "rel1000"}, r"\['coords'\] must be 'abs_resized'"),  # other format version
        ({"style": "qwen3vl", "template": "qwen2_vl"}, r"\['template'\] must be 'qwen3_vl_nothink'"),
        ({"style": "qwen2vl", "foo": 1}, "options must be among"),  # unknown key
    ],
)
def test_style_from_meta_rejects(meta: dict, match: str):
    with pytest.raises(ConfigError, match=match):
        style_from_meta(meta)


def test_frames():
    assert get_style("qwen2vl").frame(640, 480) == Frame(640, 480, 1000, 1000)
    assert get_style("qwen3vl").frame(640, 480) == Frame(640, 480, 1000, 1000)
    assert get_style("qwen25vl").frame(800, 600) == Frame(800, 600, 812, 588)
    assert get_style("qwen25vl", image_max_pixels=262144).frame(4000, 3000) == Frame(4000, 3000, 588, 448)
    with pytest.raises(GeometryError, match=r"Frame\.width must be a positive int"):
        get_style("qwen2vl").frame(0, 10)


# -- RenderItem ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, coords, exception",
    [
        ("hbox", (1, 2, 3, 4), nullcontext()),  # fine
        ("hbox", (1, 2, 1, 2), nullcontext()),  # zero-size box is allowed
        ("hbox", (3, 2, 1, 4), pytest.raises(GeometryError, match="x1 <= x2")),  # swapped corners
        ("hbox", (1, 2, 3), pytest.raises(GeometryError, match="hbox coords must hold 4 numbers, got 3")),
        ("qbox", (0,) * 6, pytest.raises(GeometryError, match="qbox coords must hold 8")),
        ("polygon", (0, 0, 1, 1), pytest.raises(GeometryError, match="an even number >= 6")),  # 2 vertices
        ("polygon", (0, 0, 1, 1, 2), pytest.raises(GeometryError, match="an even number >= 6")),  # odd
        ("point", (1, math.nan), pytest.raises(GeometryError, match="finite")),
        ("box", (1, 2, 3, 4), pytest.raises(GeometryError, match="kind must be one of")),
        ("point", ("a", 1), pytest.raises(GeometryError, match="sequence of numbers")),
    ],
)
def test_render_item_validation(kind: str, coords: tuple, exception: AbstractContextManager):
    with exception:
        RenderItem(kind, coords)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name, label, match",
    [
        ("qwen2vl", "two\nlines", "one line"),  # would break one-item-per-line
        ("qwen2vl", "a<|box_start|>", "special-token"),
        ("qwen25vl", "a<|im_end|>", "special-token"),
    ],
)
def test_render_rejects_breaking_labels(name: str, label: str, match: str):
    style = get_style(name)
    with pytest.raises(GeometryError, match=match):
        style.render([RenderItem("point", (1, 1), label=label)], style.frame(10, 10))


def test_canonical_qbox_orders():
    ccw_from_bl = (0, 2, 4, 2, 4, 0, 0, 0)
    assert canonical_qbox(ccw_from_bl) == (0, 0, 4, 0, 4, 2, 0, 2)
    diamond = (5, 0, 10, 5, 5, 10, 0, 5)  # top and left corners tie on x + y: smaller y wins
    assert canonical_qbox(diamond) == diamond
    with pytest.raises(GeometryError):
        canonical_qbox((1, 2))


def test_render_clamps_outside_image():
    style = get_style("qwen3vl")
    text = style.render_inline(RenderItem("hbox", (-10, -5, 900, 50)), style.frame(800, 600))
    assert text == '{"bbox_2d": [0, 0, 1000, 83]}'


def test_scores_are_written_by_json_styles_only():
    item = RenderItem("hbox", (0, 0, 10, 10), label="a", score=0.875)
    for name in STYLE_NAMES:
        style = get_style(name)
        frame = style.frame(100, 100)
        back = style.parse(style.render([item], frame), frame).items[0]
        assert back.score == (0.875 if name in JSON_STYLES else None)


# -- round trips ---------------------------------------------------------------------------------------------------

LABELS = st.one_of(
    st.none(),
    st.from_regex(r"[a-z][a-z\- ]{0,14}[a-z]", fullmatch=True),
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12).filter(
        lambda s: s == s.strip() and "<|" not in s and "\n" not in s
    ),
)


@st.composite
def sizes(draw: st.DrawFn) -> tuple[int, int]:
    w, h = draw(st.integers(24, 5000)), draw(st.integers(24, 5000))
    assume(max(w, h) <= 40 * min(w, h))
    return w, h


def _disc(draw: st.DrawFn, w: int, h: int) -> tuple[float, float, float]:
    """A centre inside the image and the radius of the largest disc around it that stays inside."""
    cx, cy = draw(st.floats(0, w)), draw(st.floats(0, h))
    return cx, cy, min(cx, w - cx, cy, h - cy)


@st.composite
def geometry(draw: st.DrawFn, kind: str, w: int, h: int, min_units: float, step: float) -> tuple[float, ...]:
    """Coordinates of one ``kind`` inside a ``w`` x ``h`` image, at least ``min_units`` text steps across."""
    if kind == "point":
        return draw(st.floats(0, w)), draw(st.floats(0, h))
    if kind == "hbox":
        x1, x2 = sorted(draw(st.lists(st.floats(0, w), min_size=2, max_size=2)))
        y1, y2 = sorted(draw(st.lists(st.floats(0, h), min_size=2, max_size=2)))
        return x1, y1, x2, y2
    cx, cy, r_max = _disc(draw, w, h)
    r = draw(st.floats(0.2, 1.0)) * r_max
    assume(r >= min_units * step)
    theta = draw(st.floats(0, 2 * math.pi))
    if kind == "qbox":  # a rotated rectangle inscribed in the disc, sides at least ~30% of the diameter
        phi = draw(st.floats(0.3, math.pi / 2 - 0.3))
        a, b = r * math.cos(phi), r * math.sin(phi)
        corners = [(-a, -b), (a, -b), (a, b), (-a, b)]
        pts = [(cx + x * math.cos(theta) - y * math.sin(theta), cy + x * math.sin(theta) + y * math.cos(theta))
               for x, y in corners]  # fmt: skip
        return canonical_qbox([c for p in pts for c in p])
    n = draw(st.integers(3, 10))  # a star-shaped polygon: vertices 15+ degrees apart, radii 50-100% of r
    slots = sorted(draw(st.lists(st.integers(0, 23), min_size=n, max_size=n, unique=True)))
    gaps = [b - a for a, b in zip(slots, [*slots[1:], slots[0] + 24], strict=True)]
    assume(max(gaps) <= 11)  # no gap of 180 degrees or more: the centre is inside, the polygon star-shaped
    radii = draw(st.lists(st.floats(0.5, 1.0), min_size=n, max_size=n))
    angles = [theta + s * math.pi / 12 for s in slots]
    pts = [(cx + q * r * math.cos(a), cy + q * r * math.sin(a)) for a, q in zip(angles, radii, strict=True)]
    # keep every vertex 2+ steps from the edges it does not touch, so quantisation cannot make the ring cross itself
    edges = [shapely.LineString([pts[i], pts[(i + 1) % n]]) for i in range(n)]
    for i, p in enumerate(pts):
        far = [e for k, e in enumerate(edges) if k not in (i, (i - 1) % n)]
        assume(all(shapely.Point(p).distance(e) >= 2 * step for e in far))
    return tuple(c for p in pts for c in p)


@st.composite
def scenes(draw: st.DrawFn, kind: str, name: str) -> tuple[int, int, list[RenderItem]]:
    # polygons need vertices 2+ text units apart, or quantisation may merge the first and last into a closed ring
    min_units = 20 if kind == "polygon" else 8
    w, h = draw(sizes())
    frame = get_style(name).frame(w, h)
    step = max(frame.pixel_step)
    n = draw(st.integers(0, 5))
    items = [
        RenderItem(
            kind,  # type: ignore[arg-type]
            draw(geometry(kind, w, h, min_units, step)),
            label=draw(LABELS),
            score=draw(st.one_of(st.none(), st.floats(0, 1))) if name in JSON_STYLES else None,
        )
        for _ in range(n)
    ]
    return w, h, items


def _shape(item: RenderItem) -> shapely.Geometry:
    if item.kind == "hbox":
        return shapely.box(*item.coords)
    return shapely.Polygon(item.points)


def _iou(a: RenderItem, b: RenderItem) -> float:
    pa, pb = _shape(a), _shape(b)
    union = pa.union(pb).area
    return pa.intersection(pb).area / union if union > 0 else 1.0


def _best_rotation_error(got: RenderItem, want: RenderItem) -> tuple[float, float]:
    """Largest |dx| and |dy| between corners, over the cyclic shifts of ``got`` (a near-tie may move corner 1)."""
    best = (math.inf, math.inf)
    g, p = got.points, want.points
    for shift in range(len(g)):
        dx = max(abs(g[(i + shift) % len(g)][0] - p[i][0]) for i in range(len(p)))
        dy = max(abs(g[(i + shift) % len(g)][1] - p[i][1]) for i in range(len(p)))
        best = min(best, (dx, dy), key=lambda e: max(e))
    return best


def _check_round_trip(name: str, kind: str, w: int, h: int, items: list[RenderItem], hint: str | None) -> None:
    style = get_style(name)
    frame = style.frame(w, h)
    text = style.render(items, frame)
    result = style.parse(text, frame, kind=hint)  # type: ignore[arg-type]
    assert result.ok, (text, result.errors)
    assert len(result.items) == len(items)
    sx, sy = frame.pixel_step
    eps = 1e-9 * max(w, h)
    for got, want in zip(result.items, items, strict=True):
        assert got.kind == kind
        assert got.label == want.label
        assert got.score == want.score
        if kind == "qbox":
            dx, dy = _best_rotation_error(got, want)
        else:
            dx = max(abs(a - b) for a, b in zip(got.coords[0::2], want.coords[0::2], strict=True))
            dy = max(abs(a - b) for a, b in zip(got.coords[1::2], want.coords[1::2], strict=True))
        assert dx <= 0.5 * sx + eps and dy <= 0.5 * sy + eps  # the quantisation bound
        if kind == "hbox":
            lx, ly = (want.coords[2] - want.coords[0]) / sx, (want.coords[3] - want.coords[1]) / sy
            if lx > 1 and ly > 1:  # the worst case shrinks each side by one text unit
                assert _iou(got, want) >= (1 - 1 / lx) * (1 - 1 / ly) - 1e-9
            if lx >= 200 and ly >= 200:
                assert _iou(got, want) >= 0.99
        elif kind in ("qbox", "polygon"):
            # every vertex moved by <= d, so the symmetric difference lies within d of the boundary
            d = 0.5 * math.hypot(sx, sy) + eps
            shape = _shape(want)
            tube = 2 * shape.length * d + math.pi * d * d
            bound = (shape.area - tube) / (shape.area + tube)
            assert _iou(got, want) >= bound - 1e-9


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", STYLE_NAMES)
@ROUND_TRIP
@given(data=st.data())
def test_round_trip_with_kind_hint(name: str, kind: str, data: st.DataObject):
    w, h, items = data.draw(scenes(kind, name))
    _check_round_trip(name, kind, w, h, items, hint=kind)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", STYLE_NAMES)
@ROUND_TRIP
@given(data=st.data())
def test_round_trip_without_kind_hint(name: str, kind: str, data: st.DataObject):
    w, h, items = data.draw(scenes(kind, name))
    if name == "qwen2vl" and kind == "polygon":
        # documented: no polygon token exists, so a 4-vertex polygon reads back as a qbox without a hint
        assume(all(len(i.coords) != 8 for i in items))
    _check_round_trip(name, kind, w, h, items, hint=None)


def test_qwen2vl_four_vertex_polygon_needs_the_hint():
    style = get_style("qwen2vl")
    frame = style.frame(1000, 1000)
    text = style.render([RenderItem("polygon", (10, 10, 50, 10, 50, 50, 10, 50))], frame)
    assert style.parse(text, frame).items[0].kind == "qbox"
    assert style.parse(text, frame, kind="polygon").items[0].kind == "polygon"


@pytest.mark.parametrize("name", STYLE_NAMES)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_round_trip_of_large_boxes_has_iou_above_099(name: str, data: st.DataObject):
    # sides of at least 200 text units: 20% of the image on the 0-1000 grid (10% gives only 0.98 in the worst
    # case), about 26% of a Qwen2.5-VL input of 768x768
    w, h = data.draw(st.integers(600, 4000)), data.draw(st.integers(600, 4000))
    style = get_style(name)
    frame = style.frame(w, h)
    sx, sy = frame.pixel_step
    assume(frame.text_width >= 300 and frame.text_height >= 300)
    x1, y1 = data.draw(st.floats(0, w - 200 * sx)), data.draw(st.floats(0, h - 200 * sy))
    x2, y2 = data.draw(st.floats(x1 + 200 * sx, w)), data.draw(st.floats(y1 + 200 * sy, h))
    item = RenderItem("hbox", (x1, y1, x2, y2))
    back = style.parse(style.render([item], frame), frame, kind="hbox").items[0]
    assert _iou(back, item) >= 0.99


def test_small_boxes_lose_iou_as_documented():
    # a 2x2-unit box on the 0-1000 grid: the documented worst case (1 - 1/2)^2 = 0.25 is reached
    style = get_style("qwen3vl")
    frame = style.frame(1000, 1000)
    item = RenderItem("hbox", (10.5, 10.5, 12.499, 12.499))  # rounds to 11..12: shrinks by ~0.5 on every side
    back = style.parse(style.render([item], frame), frame).items[0]
    assert back.coords == (11.0, 11.0, 12.0, 12.0)
    assert 0.25 <= _iou(back, item) < 0.26


@settings(max_examples=60, deadline=None)
@given(data=st.data(), kind=st.sampled_from(KINDS))
def test_qwen2vl_reads_its_answers_with_special_tokens_stripped(data: st.DataObject, kind: str):
    # LLaMA-Factory's generated_predictions.jsonl decodes with skip_special_tokens=True
    w, h, items = data.draw(scenes(kind, "qwen2vl"))
    labels = st.one_of(st.none(), st.from_regex(r"[a-z][a-z\- ]{0,14}[a-z]", fullmatch=True))
    items = [RenderItem(i.kind, i.coords, label=data.draw(labels)) for i in items]
    style = get_style("qwen2vl")
    frame = style.frame(w, h)
    stripped = re.sub(r"<\|[a-z_]+\|>", "", style.render(items, frame))
    result = style.parse(stripped, frame, kind=kind)  # type: ignore[arg-type]
    assert result.ok, (stripped, result.errors)
    assert [(i.kind, i.label) for i in result.items] == [(i.kind, i.label) for i in items]
    sx, sy = frame.pixel_step
    for got, want in zip(result.items, items, strict=True):
        dx, dy = _best_rotation_error(got, want)
        assert dx <= 0.5 * sx + 1e-6 and dy <= 0.5 * sy + 1e-6


# -- the parser on model slips -------------------------------------------------------------------------------------

F1000 = Frame(1000, 1000, 1000, 1000)  # text units == pixels, to read the table easily
QWEN3 = get_style("qwen3vl")


@pytest.mark.parametrize(
    "text, kind, expected, errors",
    [
        # -- JSON -------------------------------------------------------------------------------------------------
        ('[{"bbox_2d": [1, 2, 3, 4], "label": "plane"}]', None, [("hbox", (1, 2, 3, 4), "plane")], []),  # clean
        (  # prose around a fenced block
            'Sure! Here they are:\n```json\n[{"bbox_2d": [1, 2, 3, 4], "label": "a"}]\n```\nAnything else?',
            None,
            [("hbox", (1, 2, 3, 4), "a")],
            [],
        ),
        ('[{"bbox_2d": [1, 2, 3, 4], "label": "a"}]', "hbox", [("hbox", (1, 2, 3, 4), "a")], []),  # no fence
        ("[{'bbox_2d': [1, 2, 3, 4], 'label': 'a'}]", None, [("hbox", (1, 2, 3, 4), "a")], []),  # single quotes
        ('[{"bbox_2d": [1, 2, 3, 4,], "label": "a",},]', None, [("hbox", (1, 2, 3, 4), "a")], []),  # trailing commas
        ('[{bbox_2d: [1, 2, 3, 4], label: "a"}]', None, [("hbox", (1, 2, 3, 4), "a")], []),  # unquoted keys
        ('[{"bbox_2d": [1, 2, 3, 4] "label": "a"}]', None, [("hbox", (1, 2, 3, 4), "a")], []),  # missing comma
        ('{"bbox_2d": [1, 2, 3, 4], "label": "a"}', None, [("hbox", (1, 2, 3, 4), "a")], []),  # bare object
        ('[{"bbox_2d": [1.5, 2.25, 3, 4]}]', None, [("hbox", (1.5, 2.25, 3, 4), None)], []),  # floats, no label
        ('[{"bbox_2d": ["1", "2", "3", "4"]}]', None, [("hbox", (1, 2, 3, 4), None)], []),  # numbers as strings
        ('[{"bbox_2d": [[1, 2], [3, 4]], "label": "a"}]', None, [("hbox", (1, 2, 3, 4), "a")], []),  # 2 pairs
        ('[{"bbox_2d": [3, 4, 1, 2]}]', None, [("hbox", (1, 2, 3, 4), None)], []),  # corners swapped: sorted
        ('[{"BBox_2D": [1, 2, 3, 4], "Label": "a"}]', None, [("hbox", (1, 2, 3, 4), "a")], []),  # key case
        ('[{"bbox": [1, 2, 3, 4], "category": "a"}]', None, [("hbox", (1, 2, 3, 4), "a")], []),  # key aliases
        ('{"objects": [{"bbox_2d": [1, 2, 3, 4]}]}', None, [("hbox", (1, 2, 3, 4), None)], []),  # nested wrapper
        ("[1, 2, 3, 4]", None, [("hbox", (1, 2, 3, 4), None)], []),  # a bare box list
        ("[[1, 2, 3, 4], [5, 6, 7, 8]]", None, [("hbox", (1, 2, 3, 4), None), ("hbox", (5, 6, 7, 8), None)], []),
        ('[{"point_2d": [5, 6], "label": "car"}]', None, [("point", (5, 6), "car")], []),  # point
        (  # quad
            '[{"quad_2d": [[0, 0], [4, 0], [4, 2], [0, 2]]}]',
            None,
            [("qbox", (0, 0, 4, 0, 4, 2, 0, 2), None)],
            [],
        ),
        (  # a quad written counter-clockwise from another corner comes back canonical
            '[{"quad_2d": [[0, 2], [4, 2], [4, 0], [0, 0]]}]',
            None,
            [("qbox", (0, 0, 4, 0, 4, 2, 0, 2), None)],
            [],
        ),
        (  # a polygon key keeps 4 vertices a polygon
            '[{"polygon_2d": [[0, 0], [4, 0], [4, 2], [0, 2]]}]',
            None,
            [("polygon", (0, 0, 4, 0, 4, 2, 0, 2), None)],
            [],
        ),
        (  # a closed ring loses its repeated vertex
            '[{"polygon_2d": [[0, 0], [4, 0], [2, 3], [0, 0]]}]',
            None,
            [("polygon", (0, 0, 4, 0, 2, 3), None)],
            [],
        ),
        (  # kind hint: the same 8 numbers as a polygon
            '[{"quad_2d": [0, 0, 4, 0, 4, 2, 0, 2]}]',
            "polygon",
            [("polygon", (0, 0, 4, 0, 4, 2, 0, 2), None)],
            [],
        ),
        (  # kind hint qbox: an axis-aligned box is an exact qbox
            '[{"bbox_2d": [0, 0, 4, 2]}]',
            "qbox",
            [("qbox", (0, 0, 4, 0, 4, 2, 0, 2), None)],
            [],
        ),
        (  # kind hint hbox on a quad: bounding box kept, reported
            '[{"quad_2d": [[1, 0], [4, 1], [3, 4], [0, 3]]}]',
            "hbox",
            [("hbox", (0, 0, 4, 4), None)],
            ["expected an hbox"],
        ),
        ('[{"bbox_2d": [2, 4, 6, 8]}]', "point", [("point", (4, 6), None)], ["expected a point"]),  # centre kept
        ('[{"point_2d": [5, 6]}]', "hbox", [], ["expected a hbox (2 points), got 1 point; dropped"]),  # unusable
        (  # truncated list: complete objects kept, the cut one dropped, both reported
            '```json\n[{"bbox_2d": [1, 2, 3, 4], "label": "a"}, {"bbox_2d": [5, 6, 7',
            None,
            [("hbox", (1, 2, 3, 4), "a")],
            ["truncated object dropped", "answer ends inside a JSON value"],
        ),
        (  # truncated just before the closing bracket
            '[{"bbox_2d": [1, 2, 3, 4]}, {"bbox_2d": [5, 6, 7, 8]}',
            "hbox",
            [("hbox", (1, 2, 3, 4), None), ("hbox", (5, 6, 7, 8), None)],
            ["answer ends inside a JSON value"],
        ),
        (  # truncated block closed by a fence
            '```json\n[{"bbox_2d": [1, 2, 3, 4]}, {"bbox_2d": [5\n```',
            None,
            [("hbox", (1, 2, 3, 4), None)],
            ["truncated object dropped", "answer ends inside"],
        ),
        (  # values outside the grid are clamped and reported
            '[{"bbox_2d": [-5, 2, 1005, 4]}]',
            None,
            [("hbox", (0, 2, 1000, 4), None)],
            ["clamped"],
        ),
        ('[{"bbox_2d": [1, 2, 3]}]', None, [], ["needs x, y pairs, got 3 numbers"]),  # odd count
        ('[{"bbox_2d": "top left"}]', None, [], ["needs x, y pairs, got 0 numbers"]),  # words
        ('[{"bbox_2d": {"x": 1}}]', None, [], ["must be a list of numbers"]),  # wrong type
        ('[{"label": "plane"}]', None, [], ["has a label but no geometry key"]),  # geometry missing
        (  # a broken list: readable objects recovered one by one, the breakage reported
            '[{"bbox_2d": [1, 2, 3, 4]}, oops) {"bbox_2d": [5, 6, 7, 8]}]',
            None,
            [("hbox", (1, 2, 3, 4), None), ("hbox", (5, 6, 7, 8), None)],
            ["malformed JSON"],
        ),
        ('[{"bbox_2d": [1, 2, 3, 4], "score": "high"}]', None, [("hbox", (1, 2, 3, 4), None)], ["score must be"]),
        # -- Qwen2-VL tokens and their stripped leftovers ------------------------------------------------------------
        (  # clean tokens
            "<|object_ref_start|>plane<|object_ref_end|><|box_start|>(1,2),(3,4)<|box_end|>",
            None,
            [("hbox", (1, 2, 3, 4), "plane")],
            [],
        ),
        ("plane(100,200),(300,400)", None, [("hbox", (100, 200, 300, 400), "plane")], []),  # tokens stripped
        (  # tokens stripped, one item per line
            "plane(1,2),(3,4)\nstorage tank(5,6),(7,8)\n(9,10),(11,12)",
            "hbox",
            [("hbox", (1, 2, 3, 4), "plane"), ("hbox", (5, 6, 7, 8), "storage tank"), ("hbox", (9, 10, 11, 12), None)],
            [],
        ),
        (  # the verified label of LLaMA-Factory's predictions file: prose, no label
            "New buildings appeared at (0,20),(100,150).\n",
            "hbox",
            [("hbox", (0, 20, 100, 150), None)],
            [],
        ),
        (  # one ref, several boxes (Qwen2-VL's own habit): the label carries over
            "<|object_ref_start|>ship<|object_ref_end|><|box_start|>(1,2),(3,4)<|box_end|>"
            "<|box_start|>(5,6),(7,8)<|box_end|>",
            None,
            [("hbox", (1, 2, 3, 4), "ship"), ("hbox", (5, 6, 7, 8), "ship")],
            [],
        ),
        (  # the same with tokens stripped: 4 points read as 2 boxes only because of the hint
            "ship(1,2),(3,4)(5,6),(7,8)",
            "hbox",
            [("hbox", (1, 2, 3, 4), "ship"), ("hbox", (5, 6, 7, 8), "ship")],
            [],
        ),
        ("ship(1,2),(3,4)(5,6),(7,8)", None, [("qbox", (1, 2, 3, 4, 5, 6, 7, 8), "ship")], []),  # ... else a quad
        ("<|box_start|>(1,2),(3,4)", None, [("hbox", (1, 2, 3, 4), None)], []),  # missing end token
        ("<|box_start|>(1.5, 2.5), (3, 4)<|box_end|>", None, [("hbox", (1.5, 2.5, 3, 4), None)], []),  # floats
        ("<|box_start|>[1, 2, 3, 4]<|box_end|>", None, [("hbox", (1, 2, 3, 4), None)], []),  # brackets in tokens
        ("<|box_start|>(5,6)<|box_end|>", None, [("point", (5, 6), None)], []),  # qwen2vl point
        (  # quad tokens with 5 points: a polygon
            "<|quad_start|>(0,0),(4,0),(5,3),(2,5),(0,3)<|quad_end|>",
            None,
            [("polygon", (0, 0, 4, 0, 5, 3, 2, 5, 0, 3), None)],
            [],
        ),
        ("plane(1,2,3,4)", "hbox", [("hbox", (1, 2, 3, 4), "plane")], []),  # one 4-number tuple
        ("<|box_start|>(1,2),(3<|box_end|>", None, [], ["needs x, y pairs, got 3 numbers"]),  # cut number list
        ("<|box_start|><|box_end|>", None, [], ["got 0 numbers"]),  # empty span
        (  # a 1-number tuple is not coordinates: the group ends before it
            "plane(1,2),(3,4),(5)",
            "hbox",
            [("hbox", (1, 2, 3, 4), "plane")],
            [],
        ),
        ("plane(1,2,3),(4,5,6),(7,8,9)", "hbox", [], ["needs x, y pairs, got 9 numbers"]),  # odd run of tuples
        # -- nothing there --------------------------------------------------------------------------------------------
        ("None", None, [], []),  # qwen2vl empty form
        ("```json\n[]\n```", None, [], []),  # json empty form
        ("There are no planes in this image.", "hbox", [], []),  # prose
        ("See [the map] and {a: b}.", None, [], []),  # brackets without geometry are prose
        ("", None, [], []),
    ],
)
def test_parser_on_model_slips(text: str, kind: str | None, expected: list[tuple], errors: list[str]):
    result = QWEN3.parse(text, F1000, kind=kind)  # type: ignore[arg-type]
    got = [(i.kind, i.coords, i.label) for i in result.items]
    assert got == [(k, tuple(float(c) for c in coords), label) for k, coords, label in expected]
    assert len(result.errors) == len(errors), result.errors
    for fragment, error in zip(errors, result.errors, strict=True):
        assert fragment in error
    assert result.ok == (not errors)


def test_parse_converts_to_pixels_through_the_frame():
    frame = get_style("qwen25vl").frame(800, 600)  # 812x588 in text
    result = get_style("qwen25vl").parse('{"bbox_2d": [406, 294, 812, 588]}', frame)
    assert result.items[0].coords == pytest.approx((400, 300, 800, 600))
    result = get_style("qwen2vl").parse("(500,500),(1000,1000)", Frame(800, 600, 1000, 1000), kind="hbox")
    assert result.items[0].coords == (400, 300, 800, 600)


def test_every_style_reads_every_syntax():
    # a model slipping into another generation's syntax is still read
    frame = Frame(1000, 1000, 1000, 1000)
    for name in STYLE_NAMES:
        style = get_style(name)
        for text in ('{"bbox_2d": [1, 2, 3, 4], "label": "a"}', "<|object_ref_start|>a<|object_ref_end|>(1,2),(3,4)"):
            assert [(i.coords, i.label) for i in style.parse(text, frame).items] == [((1, 2, 3, 4), "a")]


def test_parse_strict():
    style = get_style("qwen3vl")
    assert style.parse_strict('{"bbox_2d": [1, 2, 3, 4]}', F1000) == [RenderItem("hbox", (1, 2, 3, 4))]
    with pytest.raises(RenderParseError, match="clamped"):
        style.parse_strict('{"bbox_2d": [1, 2, 3, 4000]}', F1000)


def test_bad_kind_hint_is_a_programming_error():
    with pytest.raises(GeometryError, match="kind must be one of"):
        QWEN3.parse("(1,2),(3,4)", F1000, kind="box")  # type: ignore[arg-type]


# -- fuzz: never raises, always returns valid geometry inside the image -------------------------------------------

PIECES = st.sampled_from(
    [
        "[", "]", "{", "}", "(", ")", ",", ":", '"', "'", "```", "```json\n", "\n", " ", "\\", "-", ".", "e",
        "1", "12", "-3", "1e999", "4.5", "nan", "None", "true", "bbox_2d", '"bbox_2d": ', '"label": ', "quad_2d",
        '"polygon_2d"', "point_2d", "plane", "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>",
        "<|object_ref_start|>", "<|object_ref_end|>", "<|im_end|>", "\u201c", "\x00",
    ]
)  # fmt: skip
FUZZ_TEXT = st.one_of(st.text(), st.lists(PIECES, max_size=60).map("".join))


def _check_never_raises(text: str, kind: str | None) -> None:
    for name in STYLE_NAMES:
        style = get_style(name)
        frame = style.frame(640, 480)
        result = style.parse(text, frame, kind=kind)  # type: ignore[arg-type]
        assert isinstance(result, ParseResult)
        assert all(isinstance(e, str) and e for e in result.errors)
        for item in result.items:
            assert kind is None or item.kind == kind
            assert all(0 <= x <= 640 for x in item.coords[0::2]) and all(0 <= y <= 480 for y in item.coords[1::2])


@settings(max_examples=300, deadline=None)
@given(text=FUZZ_TEXT)
def test_parse_never_raises_without_hint(text: str):
    _check_never_raises(text, None)


@settings(max_examples=300, deadline=None)
@given(text=FUZZ_TEXT, kind=st.sampled_from(KINDS))
def test_parse_never_raises_with_hint(text: str, kind: str):
    _check_never_raises(text, kind)


@pytest.mark.parametrize(
    "text",
    [
        "[" * 5000,  # nesting far beyond the limit
        "{" * 5000 + "}" * 5000,
        "[1," * 3000,  # long truncated nesting
        "['a " * 3000,  # many unterminated strings inside open brackets
        "(1,2)" * 5000,  # one huge tuple group
        "<|box_start|>" * 3000,
        "9" * 10000,  # a number too long for int()
        '{"bbox_2d": [' + "9" * 5000 + ", 1, 2, 3]}",
    ],
)
def test_parse_survives_pathological_input(text: str):
    _check_never_raises(text, None)
    _check_never_raises(text, "hbox")


def test_a_label_that_looks_like_json_is_not_read_as_json():
    # found by hypothesis: qwen2vl label "[0" was also scanned as a broken JSON list
    style = get_style("qwen2vl")
    frame = style.frame(100, 100)
    text = style.render([RenderItem("hbox", (10, 10, 50, 50), label="[0")], frame)
    result = style.parse(text, frame, kind="hbox")
    assert result.errors == []
    assert [(i.label, i.coords) for i in result.items] == [("[0", (10.0, 10.0, 50.0, 50.0))]
