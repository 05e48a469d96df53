"""Read geometry back from a model answer, whichever Qwen-VL syntax it uses (shared by every style).

A model trained on one style still slips into another (pretraining habits), and LLaMA-Factory's
``generated_predictions.jsonl`` strips the special tokens, so every style reads all three syntaxes, in this order:

1. **Special-token spans**: ``<|box_start|>...<|box_end|>`` and ``<|quad_start|>...<|quad_end|>`` (a missing end
   token is allowed; the span then ends at the next special token or line break). The numbers inside are read as
   ``x, y`` pairs. A directly preceding ``<|object_ref_start|>label<|object_ref_end|>`` gives the label, and it
   carries on to further spans separated from it only by spaces or commas (Qwen2-VL writes one ref, then one box
   per instance).
2. **JSON** (:mod:`ts_instruct.render.lenient_json`): objects with a geometry key (``bbox_2d``, ``quad_2d``,
   ``polygon_2d``, ``point_2d``, or the aliases in :data:`GEOMETRY_KEYS`), an optional label (``label``,
   ``category``, ``class``, ``name``, ``object``) and score; lists of such objects, nested anywhere; bare coordinate
   lists (``[x1, y1, x2, y2]``, ``[[x, y], ...]``).
3. **Stripped tuples**: groups such as ``plane(100,200),(300,400)`` on one line, as left once the special tokens are
   removed. The label is the text glued to the group (no space before the parenthesis) back to the line start, the
   previous group or punctuation; ``at (0,20),(100,150)`` has no label. Heuristic: in ``The plane(1,2),(3,4)`` the
   label is ``The plane``.

Kinds. Without a ``kind`` hint a geometry's kind follows its number of points: 1 point -> point, 2 -> hbox,
4 -> qbox (polygon when written under a polygon key), 3 or 5+ -> polygon. With a hint:

==========================  ===========================================================  ==============
points read                 result                                                       error reported
==========================  ===========================================================  ==============
fits the kind               that kind (2 for hbox, 4 for qbox, 3+ for polygon, 1 point)  no
k times the kind's count    k geometries (tuple groups and token spans only, where a     no
                            stripped answer runs boxes together)
2 for qbox or polygon       the rectangle they span, as that kind                        no
3+ for hbox                 their bounding box                                           yes
2+ for point                their mean                                                   yes
anything else               dropped                                                      yes
==========================  ===========================================================  ==============

Every coordinate outside ``0..text_width`` / ``0..text_height`` is clamped and reported. An hbox written with its
corners swapped is sorted silently; a qbox is put in canonical order; a polygon that repeats its first vertex at the
end loses the repeat.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ts_instruct.errors import GeometryError
from ts_instruct.render.base import KINDS, Frame, GeomKind, ParseResult, RenderItem, canonical_qbox, from_text
from ts_instruct.render.lenient_json import JsonFragment, PartialDict, PartialList, scan_json

__all__ = ["GEOMETRY_KEYS", "LABEL_KEYS", "SCORE_KEYS", "read_answer"]

#: JSON keys holding a geometry (compared lower-cased), and the kind each suggests when 4 points are given.
GEOMETRY_KEYS: dict[str, GeomKind | None] = {
    "bbox_2d": "hbox",
    "box_2d": "hbox",
    "bbox": "hbox",
    "box": "hbox",
    "quad_2d": "qbox",
    "quad": "qbox",
    "qbox": "qbox",
    "polygon_2d": "polygon",
    "polygon": "polygon",
    "poly": "polygon",
    "point_2d": "point",
    "point": "point",
    "points": None,
    "coordinates": None,
}
LABEL_KEYS = ("label", "category", "class", "name", "object")
SCORE_KEYS = ("score", "confidence", "conf")

_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_NUM_RE = re.compile(_NUM)
_TOKEN_RE = re.compile(
    r"<\|object_ref_start\|>(?P<ref>[^\n]*?)(?:<\|object_ref_end\|>|(?=<\|)|(?=\n)|\Z)"
    r"|<\|(?P<geo>box|quad)_start\|>(?P<body>[^\n]*?)(?:<\|(?P=geo)_end\|>|(?=<\|)|(?=\n)|\Z)"
)
_SPECIAL_RE = re.compile(r"<\|[A-Za-z_]+\|>")
_TUPLE = rf"\([ \t]*{_NUM}(?:[ \t]*,[ \t]*{_NUM})+[ \t]*\)"
_GROUP_RE = re.compile(rf"{_TUPLE}(?:[ \t]*,?[ \t]*{_TUPLE})*")
_TUPLE_RE = re.compile(_TUPLE)
_GAP_RE = re.compile(r"[ \t,]*")
_BOUNDARY = set("\n.;:!?,()[]{}\"'`=<>")
_REMOVED = "\x00"  # stands in for a stripped special token, keeping text offsets
_SNIPPET = 60

Point = tuple[float, float]


@dataclass
class _Found:
    """A geometry located in the text, still in text coordinates."""

    pos: int
    points: list[Point]
    key_kind: GeomKind | None  # kind the syntax suggests; only breaks the 4-point qbox/polygon tie
    label: str | None
    score: float | None
    snippet: str
    splittable: bool  # several geometries may have been run together (stripped tuples, token spans)


def _snip(text: str) -> str:
    text = text.replace(_REMOVED, "")
    return repr(text if len(text) <= _SNIPPET else text[: _SNIPPET - 3] + "...")


def _pairs(numbers: Sequence[float]) -> list[Point]:
    return [(numbers[i], numbers[i + 1]) for i in range(0, len(numbers) - 1, 2)]


def _as_number(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str) and re.fullmatch(rf"\s*{_NUM}\s*", v):
        return float(v)
    return None


# -- 1. special-token spans ---------------------------------------------------------------------------------------


def _read_tokens(text: str, found: list[_Found], errors: list[str]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    carry: str | None = None
    carry_end = -1
    ref_span: tuple[int, int] | None = None
    for m in _TOKEN_RE.finditer(text):
        if m.group("ref") is not None:
            carry, carry_end = (m.group("ref").strip() or None), m.end()
            ref_span = (m.start(), m.end())
            continue
        spans.append((m.start(), m.end()))
        label = None
        if carry is not None and _GAP_RE.fullmatch(text, carry_end, m.start()):
            label = carry
            carry_end = m.end()
            if ref_span is not None:  # a consumed label is no JSON or tuple text (e.g. a label "[0")
                spans.append(ref_span)
                ref_span = None
        else:
            carry = None
        numbers = [float(t) for t in _NUM_RE.findall(m.group("body"))]
        kind: GeomKind = "hbox" if m.group("geo") == "box" else "qbox"
        if not numbers or len(numbers) % 2:
            errors.append(f"{_snip(m.group())}: needs x, y pairs, got {len(numbers)} numbers")
            continue
        found.append(_Found(m.start(), _pairs(numbers), kind, label, None, m.group(), splittable=True))
    return spans


# -- 2. JSON ------------------------------------------------------------------------------------------------------


def _json_points(value: Any) -> tuple[list[Point] | None, str]:
    """Points of a value written under a geometry key, or ``(None, why)``."""
    if isinstance(value, str):
        numbers = [float(t) for t in _NUM_RE.findall(value)]
    elif isinstance(value, list) and value and all(isinstance(v, list) for v in value):
        pts: list[Point] = []
        for v in value:
            xy = [_as_number(c) for c in v]
            if len(xy) != 2 or None in xy:
                return None, f"must hold [x, y] pairs, got {json.dumps(v)[:_SNIPPET]}"
            pts.append((xy[0], xy[1]))  # type: ignore[arg-type]
        return pts, ""
    elif isinstance(value, list):
        maybe = [_as_number(v) for v in value]
        if None in maybe:
            return None, f"must hold numbers or [x, y] pairs, got {json.dumps(value)[:_SNIPPET]}"
        numbers = maybe  # type: ignore[assignment]
    else:
        return None, f"must be a list of numbers, got {json.dumps(value)[:_SNIPPET]}"
    if not numbers or len(numbers) % 2:
        return None, f"needs x, y pairs, got {len(numbers)} numbers"
    return _pairs(numbers), ""


def _bare_points(value: list[Any], hint: GeomKind | None) -> list[Point] | None:
    """Points of a bare coordinate list (no key), or None when it does not look like one."""
    if value and all(isinstance(v, list) for v in value):
        if not all(len(v) == 2 and _as_number(v[0]) is not None and _as_number(v[1]) is not None for v in value):
            return None
        pts = [(float(v[0]), float(v[1])) for v in value]
        return pts if len(pts) >= 2 or hint == "point" else None
    if not value or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return None
    n = len(value)
    if n in (4, 8) or (n == 2 and hint == "point") or (n >= 6 and n % 2 == 0 and hint == "polygon"):
        return _pairs([float(v) for v in value])
    return None


def _member(obj: dict[str, Any], keys: Sequence[str]) -> tuple[str, Any] | None:
    for k, v in obj.items():
        if k.strip().lower() in keys:
            return k, v
    return None


def _walk_json(value: Any, pos: int, hint: GeomKind | None, found: list[_Found], errors: list[str]) -> None:
    if isinstance(value, dict):
        geo = _member(value, tuple(GEOMETRY_KEYS))
        if geo is None:
            if _member(value, LABEL_KEYS) is not None and not isinstance(value, PartialDict):
                errors.append(f"object {_snip(json.dumps(value))} has a label but no geometry key")
                return
            for v in value.values():
                if isinstance(v, (list, dict)):
                    _walk_json(v, pos, hint, found, errors)
            return
        snippet = json.dumps(value, ensure_ascii=False)
        if isinstance(value, PartialDict):
            errors.append(f"truncated object dropped: {_snip(snippet)}")
            return
        pts, why = _json_points(geo[1])
        if pts is None:
            errors.append(f"{_snip(snippet)}: {geo[0]} {why}")
            return
        label_kv = _member(value, LABEL_KEYS)
        label = None
        if label_kv is not None and isinstance(label_kv[1], (str, int, float)) and not isinstance(label_kv[1], bool):
            label = str(label_kv[1]).strip() or None
        score = None
        score_kv = _member(value, SCORE_KEYS)
        if score_kv is not None:
            score = _as_number(score_kv[1])
            if score is None or score != score or abs(score) == float("inf"):
                errors.append(f"{_snip(snippet)}: {score_kv[0]} must be a finite number, got {score_kv[1]!r}")
                score = None
        kind = GEOMETRY_KEYS[geo[0].strip().lower()]
        found.append(_Found(pos, pts, kind, label, score, snippet, splittable=False))
    elif isinstance(value, list):
        pts = _bare_points(value, hint)
        if pts is not None:
            if isinstance(value, PartialList):
                errors.append(f"truncated coordinate list dropped: {_snip(json.dumps(value))}")
            else:
                found.append(_Found(pos, pts, None, None, None, json.dumps(value), splittable=False))
            return
        for v in value:
            if isinstance(v, (list, dict)):
                _walk_json(v, pos, hint, found, errors)


def _read_json(text: str, hint: GeomKind | None, found: list[_Found], errors: list[str]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []

    def accept(fragment: JsonFragment) -> bool:
        f_found: list[_Found] = []
        f_errors: list[str] = []
        _walk_json(fragment.value, fragment.start, hint, f_found, f_errors)
        if not f_found and not f_errors:
            return False
        if fragment.truncated:
            f_errors.append(
                f"answer ends inside a JSON value opened at char {fragment.start} (truncated output?); "
                f"kept the {len(f_found)} complete geometries"
            )
        found.extend(f_found)
        errors.extend(f_errors)
        spans.append((fragment.start, fragment.end))
        return True

    _, failures = scan_json(text, accept)
    for failure in failures:
        region = text[failure.start : failure.stop + 1]
        if re.search(r"\d", region) or any(k in region.lower() for k in GEOMETRY_KEYS):
            errors.append(
                f"malformed JSON at char {failure.start} ({failure.reason} at char {failure.stop}): "
                f"{_snip(text[failure.start :])}; read what was readable inside it"
            )
    return spans


# -- 3. stripped tuples -------------------------------------------------------------------------------------------


def _glued_label(text: str, start: int, floor: int) -> str | None:
    i = start - 1
    while i >= floor and text[i] == _REMOVED:
        i -= 1
    if i < floor or text[i].isspace() or text[i] in _BOUNDARY:
        return None
    j = i
    while j >= floor and text[j] not in _BOUNDARY:
        j -= 1
    label = text[j + 1 : start].replace(_REMOVED, "").strip().lstrip("-*\u2022 \t").strip()
    return label or None


def _read_tuples(text: str, found: list[_Found], errors: list[str]) -> None:
    text = _SPECIAL_RE.sub(lambda m: _REMOVED * len(m.group()), text)
    floor = 0
    for m in _GROUP_RE.finditer(text):
        numbers = [float(t) for tup in _TUPLE_RE.findall(m.group()) for t in _NUM_RE.findall(tup)]
        label = _glued_label(text, m.start(), floor)
        floor = m.end()
        if len(numbers) % 2:
            if m.group().count("(") > 1:  # a lone odd tuple is prose, "(1, 2, 3)"; a run of them is a slip
                errors.append(f"{_snip(m.group())}: needs x, y pairs, got {len(numbers)} numbers")
            continue
        found.append(_Found(m.start(), _pairs(numbers), None, label, None, m.group(), splittable=True))


# -- resolution ---------------------------------------------------------------------------------------------------

_COUNT: dict[GeomKind, int] = {"hbox": 2, "qbox": 4, "point": 1}


def _natural_kind(n: int, key_kind: GeomKind | None) -> GeomKind:
    if n == 1:
        return "point"
    if n == 2:
        return "hbox"
    if n == 4 and key_kind != "polygon":
        return "qbox"
    return "polygon"


def _resolve(f: _Found, hint: GeomKind | None, errors: list[str]) -> list[tuple[GeomKind, list[Point]]]:
    pts = f.points
    if len(pts) >= 4 and pts[0] == pts[-1]:
        pts = pts[:-1]  # a closed ring
    n = len(pts)
    if hint is None:
        return [(_natural_kind(n, f.key_kind), pts)]
    fits = n == _COUNT[hint] if hint in _COUNT else n >= 3
    if fits:
        return [(hint, pts)]
    step = _COUNT.get(hint, 0)
    if f.splittable and step and n % step == 0:
        return [(hint, pts[i : i + step]) for i in range(0, n, step)]
    if n == 2 and hint in ("qbox", "polygon"):
        (xa, ya), (xb, yb) = pts
        x1, x2, y1, y2 = min(xa, xb), max(xa, xb), min(ya, yb), max(ya, yb)
        return [(hint, [(x1, y1), (x2, y1), (x2, y2), (x1, y2)])]
    if hint == "hbox" and n >= 3:
        errors.append(f"{_snip(f.snippet)}: expected an hbox (2 points), got {n} points; kept their bounding box")
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        return [("hbox", [(min(xs), min(ys)), (max(xs), max(ys))])]
    if hint == "point" and n >= 2:
        errors.append(f"{_snip(f.snippet)}: expected a point, got {n} points; kept their mean")
        return [("point", [(sum(p[0] for p in pts) / n, sum(p[1] for p in pts) / n)])]
    want = {"hbox": "2 points", "qbox": "4 points", "polygon": "3 or more points"}.get(hint, "1 point")
    errors.append(f"{_snip(f.snippet)}: expected a {hint} ({want}), got {n} point{'s' * (n != 1)}; dropped")
    return []


def _to_item(kind: GeomKind, pts: list[Point], f: _Found, frame: Frame, errors: list[str]) -> RenderItem:
    tw, th = frame.text_width, frame.text_height
    clamped = [(min(max(x, 0.0), float(tw)), min(max(y, 0.0), float(th))) for x, y in pts]
    if clamped != pts:
        errors.append(f"{_snip(f.snippet)}: coordinates outside 0..{tw} x 0..{th} were clamped")
    coords = [c for x, y in clamped for c in (from_text(x, frame.width, tw), from_text(y, frame.height, th))]
    if kind == "hbox":
        coords = [min(coords[0], coords[2]), min(coords[1], coords[3]), max(coords[0], coords[2]),
                  max(coords[1], coords[3])]  # fmt: skip
    elif kind == "qbox":
        coords = list(canonical_qbox(coords))
    return RenderItem(kind, tuple(coords), label=f.label, score=f.score)


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    """Blank out what was read, keeping offsets; the newlines also stop labels and tuple groups."""
    parts: list[str] = []
    last = 0
    for a, b in sorted(spans):  # spans never overlap
        parts += [text[last:a], "\n" * (b - a)]
        last = b
    return "".join([*parts, text[last:]])


def read_answer(text: str, frame: Frame, kind: GeomKind | None = None) -> ParseResult:
    """Read every geometry of a model answer, converting text coordinates to pixels through ``frame``.

    Args:
        text: the answer, any string (special tokens present or stripped, prose, fences, truncation).
        frame: the frame of the image the answer is about.
        kind: the kind the question asked for, or None to infer each geometry's kind (see the module docstring).

    Returns:
        The items in text order and one error line per problem. Never raises on any ``text``.

    Raises:
        GeometryError: when ``kind`` is not one of the four kinds (a programming error, not a text problem).

    Example:
        >>> r = read_answer("plane(100,200),(300,400)", Frame(2000, 1000, 1000, 1000), kind="hbox")
        >>> r.items, r.ok
        ([RenderItem(kind='hbox', coords=(200.0, 200.0, 600.0, 400.0), label='plane', score=None)], True)
    """
    if kind is not None and kind not in KINDS:
        raise GeometryError(f"kind must be one of {list(KINDS)} or None, got {kind!r}")
    found: list[_Found] = []
    errors: list[str] = []
    masked = _blank(text, _read_tokens(text, found, errors))
    masked = _blank(masked, _read_json(masked, kind, found, errors))
    _read_tuples(masked, found, errors)
    items: list[RenderItem] = []
    for f in sorted(found, key=lambda f: f.pos):  # stable: geometries of one JSON value keep their order
        for k, pts in _resolve(f, kind, errors):
            items.append(_to_item(k, pts, f, frame, errors))
    return ParseResult(items, errors)
