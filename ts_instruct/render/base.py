"""Types shared by every render style: geometry items, the pixel-to-text frame, parse results, the style interface.

Geometry conventions (all coordinates of a :class:`RenderItem` are floats in **pixels of the emitted image**, origin
at the top-left corner of the top-left pixel, x right, y down; an image of width ``W`` spans ``0 <= x <= W``):

============  ==========================================  =====================================================
kind          ``coords``                                  notes
============  ==========================================  =====================================================
``hbox``      ``(x1, y1, x2, y2)``                        ``x1 <= x2``, ``y1 <= y2``
``qbox``      ``(x1, y1, x2, y2, x3, y3, x4, y4)``        canonical order: clockwise on screen (positive
                                                          shoelace sum with y down), first the corner with the
                                                          smallest ``x + y``, ties to smaller ``y`` then ``x``
``polygon``   ``(x1, y1, ..., xn, yn)``, ``n >= 3``       not closed (the first vertex is not repeated)
``point``     ``(x, y)``
============  ==========================================  =====================================================

Text coordinates. A :class:`Frame` maps pixels to the integers a model reads and writes: ``t = x * text_width /
width`` rounded half up and clamped to ``0..text_width`` (the same for y). Decoding is ``x = t * width /
text_width``, so a round trip moves a coordinate by at most ``0.5 * width / text_width`` pixels. For a box whose
sides are ``Lx, Ly`` text units the worst case shrinks every side by half a unit, so the IoU is at least
``(1 - 1/Lx) * (1 - 1/Ly)``: 0.98 for sides of 100 units (10% of a 0-1000 grid), 0.99 from 200 units (20%), and
nothing at all for 1-unit boxes, which can collapse. Tiny objects therefore lose accuracy in every style, and small
model inputs make text units coarse: the Qwen2.5-VL frame of a 64x64 image is only 56 units wide.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from ts_instruct import geometry
from ts_instruct.errors import GeometryError, RenderParseError

__all__ = [
    "KINDS",
    "Frame",
    "GeomKind",
    "ParseResult",
    "RenderItem",
    "RenderStyle",
    "canonical_qbox",
    "from_text",
    "to_text",
]

GeomKind = Literal["hbox", "qbox", "polygon", "point"]
#: Every geometry kind, in the order used in docs and tests.
KINDS: tuple[GeomKind, ...] = get_args(GeomKind)


def _coord_count_ok(kind: str, n: int) -> bool:
    if kind == "hbox":
        return n == 4
    if kind == "qbox":
        return n == 8
    if kind == "polygon":
        return n >= 6 and n % 2 == 0
    return n == 2  # point


def canonical_qbox(coords: Sequence[float]) -> tuple[float, ...]:
    """Reorder 4 corners ``(x1, y1, ..., x4, y4)`` to the canonical order (:func:`ts_instruct.geometry.canonical_qbox`).

    Args:
        coords: 8 floats in any orientation, from any corner.

    Returns:
        The same 8 floats as a tuple, clockwise on screen, starting at the corner nearest the image's top-left.

    Raises:
        GeometryError: when ``coords`` does not hold 8 numbers.

    Example:
        >>> canonical_qbox([0, 2, 4, 2, 4, 0, 0, 0])  # counter-clockwise on screen, from the bottom-left corner
        (0.0, 0.0, 4.0, 0.0, 4.0, 2.0, 0.0, 2.0)
    """
    if len(coords) != 8:
        raise GeometryError(f"qbox must have 8 coordinates, got {len(coords)}")
    return tuple(float(v) for v in geometry.canonical_qbox(coords))


@dataclass(frozen=True)
class RenderItem:
    """One geometry to write into (or read back from) model text.

    Attributes:
        kind: ``"hbox"``, ``"qbox"``, ``"polygon"`` or ``"point"``.
        coords: flat floats in pixels of the emitted image, shaped as in the module docstring (ints are stored as
            floats).
        label: class or phrase written beside the geometry, ``None`` for none.
        score: confidence in ``[0, 1]`` for predictions, ``None`` for ground truth.

    Raises:
        GeometryError: when the kind is unknown, the number of coordinates does not fit the kind, a coordinate is
            not finite, or an hbox has ``x1 > x2`` or ``y1 > y2``.

    Example:
        >>> RenderItem("hbox", (10, 20, 30, 40), label="plane").coords
        (10.0, 20.0, 30.0, 40.0)
    """

    kind: GeomKind
    coords: tuple[float, ...]
    label: str | None = None
    score: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise GeometryError(f"kind must be one of {list(KINDS)}, got {self.kind!r}")
        try:
            coords = tuple(float(v) for v in self.coords)
        except (TypeError, ValueError) as e:
            raise GeometryError(f"coords must be a sequence of numbers, got {self.coords!r}") from e
        if not _coord_count_ok(self.kind, len(coords)):
            want = {"hbox": "4", "qbox": "8", "polygon": "an even number >= 6", "point": "2"}[self.kind]
            raise GeometryError(f"{self.kind} coords must hold {want} numbers, got {len(coords)}")
        if not all(math.isfinite(v) for v in coords):
            raise GeometryError(f"coords must be finite, got {coords}")
        if self.kind == "hbox" and (coords[0] > coords[2] or coords[1] > coords[3]):
            raise GeometryError(f"hbox must satisfy x1 <= x2 and y1 <= y2, got {coords}; sort the corners")
        object.__setattr__(self, "coords", coords)

    @property
    def points(self) -> list[tuple[float, float]]:
        """The coordinates as ``(x, y)`` pairs."""
        return [(self.coords[i], self.coords[i + 1]) for i in range(0, len(self.coords), 2)]


@dataclass(frozen=True)
class Frame:
    """How pixel coordinates of one emitted image map to the coordinates written in text.

    Attributes:
        width: emitted image width in pixels.
        height: emitted image height in pixels.
        text_width: width of the coordinate space in text (1000 for the 0-1000 grid styles, the model-input width
            for Qwen2.5-VL).
        text_height: height of the coordinate space in text.

    Raises:
        GeometryError: when a field is not a positive int.
    """

    width: int
    height: int
    text_width: int
    text_height: int

    def __post_init__(self) -> None:
        for name in ("width", "height", "text_width", "text_height"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise GeometryError(f"Frame.{name} must be a positive int, got {value!r}")

    @property
    def pixel_step(self) -> tuple[float, float]:
        """Pixels per text unit along x and y (a round trip moves a coordinate by at most half of this)."""
        return self.width / self.text_width, self.height / self.text_height


def to_text(value: float, size: int, text_size: int) -> int:
    """Pixel coordinate to text integer: ``value * text_size / size`` rounded half up, clamped to ``0..text_size``.

    Example:
        >>> to_text(100.0, 800, 1000), to_text(-3.0, 800, 1000), to_text(801.0, 800, 1000)
        (125, 0, 1000)
    """
    t = math.floor(value * text_size / size + 0.5)
    return min(max(t, 0), text_size)


def from_text(value: float, size: int, text_size: int) -> float:
    """Text coordinate back to pixels: ``value * size / text_size`` (no rounding; the input may be a float).

    Example:
        >>> from_text(125, 800, 1000)
        100.0
    """
    return value * size / text_size


@dataclass
class ParseResult:
    """What :meth:`RenderStyle.parse` read from a model answer.

    Attributes:
        items: geometries in the order they appear in the text, in pixels of the emitted image.
        errors: one line per problem: a fragment that could not be read (with why), a value clamped into range, a
            geometry that did not fit the requested kind, a truncated answer. Items are still returned where the
            problem left a usable geometry.
    """

    items: list[RenderItem] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the text was read without any problem."""
        return not self.errors


class RenderStyle(ABC):
    """A way to write geometry in model answers for one Qwen-VL generation, and to read it back.

    Attributes:
        name: registry name (``"qwen2vl"``, ``"qwen25vl"``, ``"qwen3vl"``).
        template: the LLaMA-Factory ``template`` to train and infer with.
    """

    name: str
    template: str

    @abstractmethod
    def frame(self, width: int, height: int) -> Frame:
        """The frame of an emitted image of ``width`` x ``height`` pixels."""

    @abstractmethod
    def render(self, items: Sequence[RenderItem], frame: Frame) -> str:
        """A block listing every item (the style's empty form when ``items`` is empty)."""

    @abstractmethod
    def render_inline(self, item: RenderItem, frame: Frame) -> str:
        """One geometry written inline in a sentence (grounding answers, region prompts)."""

    @abstractmethod
    def parse(self, text: str, frame: Frame, *, kind: GeomKind | None = None) -> ParseResult:
        """Read geometries from model text; never raises on any string (problems go to ``errors``)."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """JSON-able parameters stored in a record's ``meta["render"]``; :func:`style_from_meta` reverses it."""

    @abstractmethod
    def target_size(self, width: int, height: int) -> tuple[int, int]:
        """``(width, height)`` of the image the model sees after LLaMA-Factory's and the processor's resizes."""

    def parse_strict(self, text: str, frame: Frame, *, kind: GeomKind | None = None) -> list[RenderItem]:
        """Like :meth:`parse` but raise on any problem.

        Raises:
            RenderParseError: listing every error of the lenient parse.
        """
        result = self.parse(text, frame, kind=kind)
        if not result.ok:
            raise RenderParseError(f"{self.name}: cannot read the answer cleanly: " + "; ".join(result.errors))
        return result.items

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RenderStyle) and self.describe() == other.describe()

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.describe().items())))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.describe().items() if k not in ("style", "coords", "template"))
        return f"{type(self).__name__}({args})"
