"""Qwen2-VL style: special tokens around integer points on a 0-1000 grid.

Coordinates: ``round(x * 1000 / W)`` and ``round(y * 1000 / H)`` against the emitted image's width ``W`` and height
``H`` (rounded half up, clamped to 0..1000), as Qwen's ``convert_to_qwen2vl_format``. The model-input resize does not
change them. Syntax, one item per line in a block:

==========  ========================================================================================================
kind        text
==========  ========================================================================================================
hbox        ``<|object_ref_start|>plane<|object_ref_end|><|box_start|>(x1,y1),(x2,y2)<|box_end|>``
qbox        ``<|object_ref_start|>ship<|object_ref_end|><|quad_start|>(x1,y1),(x2,y2),(x3,y3),(x4,y4)<|quad_end|>``
polygon     ``<|object_ref_start|>lake<|object_ref_end|><|quad_start|>(x1,y1),...,(xn,yn)<|quad_end|>``
point       ``<|object_ref_start|>car<|object_ref_end|><|box_start|>(x,y)<|box_end|>``
==========  ========================================================================================================

The ref prefix is left out when the item has no label; scores are not written (the format has no slot for them).
The Qwen2-VL vocabulary has no polygon or point token: a polygon goes in the quad tokens (so a 4-vertex polygon
reads back as a qbox unless the parser is told ``kind="polygon"``), and a point is a one-point box. The empty
block is ``None``.

Example answer (a 1000x500 image with a plane at ``(100, 50, 300, 200)`` px and an unlabelled ship)::

    <|object_ref_start|>plane<|object_ref_end|><|box_start|>(100,100),(300,400)<|box_end|>
    <|quad_start|>(500,200),(600,200),(600,300),(500,300)<|quad_end|>

LLaMA-Factory's predictions file strips the special tokens, leaving ``plane(100,100),(300,400)``; the parser reads
that too (:mod:`ts_instruct.render.reading`).
"""

from __future__ import annotations

from typing import ClassVar

from ts_instruct.errors import GeometryError
from ts_instruct.render.base import Frame, RenderItem
from ts_instruct.render.qwen_base import CoordSystem, QwenStyle

__all__ = ["EMPTY", "Qwen2VLStyle"]

#: What an answer without any geometry says.
EMPTY = "None"


class Qwen2VLStyle(QwenStyle):
    """Qwen2-VL: ``<|box_start|>(x1,y1),(x2,y2)<|box_end|>`` on the 0-1000 grid (see the module docstring).

    Example:
        >>> style = Qwen2VLStyle()
        >>> frame = style.frame(1000, 500)
        >>> text = style.render([RenderItem("hbox", (100, 50, 300, 200), label="plane")], frame)
        >>> text
        '<|object_ref_start|>plane<|object_ref_end|><|box_start|>(100,100),(300,400)<|box_end|>'
        >>> style.parse(text, frame).items[0].coords
        (100.0, 50.0, 300.0, 200.0)
    """

    name = "qwen2vl"
    template = "qwen2_vl"
    coords: ClassVar[CoordSystem] = "rel1000"

    def _one(self, item: RenderItem, frame: Frame) -> str:
        pts = ",".join(f"({x},{y})" for x, y in self.text_points(item, frame))
        if item.kind in ("qbox", "polygon"):
            geo = f"<|quad_start|>{pts}<|quad_end|>"
        else:
            geo = f"<|box_start|>{pts}<|box_end|>"
        if not item.label:
            return geo
        self.check_label(item.label)
        if "\n" in item.label:
            raise GeometryError(f"a qwen2vl label must be one line (one item per line), got {item.label!r}")
        return f"<|object_ref_start|>{item.label}<|object_ref_end|>{geo}"

    def _block(self, lines: list[str]) -> str:
        return "\n".join(lines) if lines else EMPTY
