"""Qwen2.5-VL and Qwen3-VL styles: a JSON list of objects in a ```json code block.

Each item is one object on its own line, geometry key first, then ``label`` and ``score`` when set:

==========  ==================================================================
kind        object
==========  ==================================================================
hbox        ``{"bbox_2d": [x1, y1, x2, y2], "label": "plane"}``
qbox        ``{"quad_2d": [[x1, y1], [x2, y2], [x3, y3], [x4, y4]], "label": "ship"}``
polygon     ``{"polygon_2d": [[x1, y1], ..., [xn, yn]], "label": "lake"}``
point       ``{"point_2d": [x, y], "label": "car"}``
==========  ==================================================================

The block is ``[`` and ``]`` around objects indented by one tab (shown as ``<TAB>`` below), the layout Qwen2.5-VL
itself writes; an empty answer is ``[]`` in the same fence. Inline, an item is the bare object. Labels are written
as they are (``ensure_ascii=False``).

Coordinates are integers (rounded half up):

- **qwen25vl** (Qwen2.5-VL): absolute pixels of the image *as the model sees it* after LLaMA-Factory's
  ``image_max_pixels`` step and the processor's ``smart_resize`` (:func:`ts_instruct.render.resize.lf_input_size`),
  so train and infer with the ``image_max_pixels`` / ``image_min_pixels`` stored in ``describe()``.
  Example, an 800x600 image (the model sees 812x588) with a plane at ``(100, 150, 300, 450)`` px::

      ```json
      [
      <TAB>{"bbox_2d": [102, 147, 305, 441], "label": "plane"}
      ]
      ```

- **qwen3vl** (Qwen3-VL): the same objects on the 0-1000 grid relative to the emitted image. Same example::

      ```json
      [
      <TAB>{"bbox_2d": [125, 250, 375, 750], "label": "plane"}
      ]
      ```
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from ts_instruct.render.base import Frame, RenderItem
from ts_instruct.render.qwen_base import CoordSystem, QwenStyle, ResizeOptions
from ts_instruct.render.resize import QWEN3VL_FACTOR, QWEN3VL_MAX_PIXELS, QWEN3VL_MIN_PIXELS

__all__ = ["EMPTY", "JsonStyle", "Qwen3VLStyle", "Qwen25VLStyle"]

#: What an answer without any geometry says.
EMPTY = "```json\n[]\n```"

_KEYS = {"hbox": "bbox_2d", "qbox": "quad_2d", "polygon": "polygon_2d", "point": "point_2d"}


class JsonStyle(QwenStyle):
    """A JSON list of ``{"bbox_2d" | "quad_2d" | "polygon_2d" | "point_2d": ..., "label": ...}`` objects."""

    def _one(self, item: RenderItem, frame: Frame) -> str:
        pts = self.text_points(item, frame)
        geo: list[Any]
        if item.kind == "hbox":
            geo = [pts[0][0], pts[0][1], pts[1][0], pts[1][1]]
        elif item.kind == "point":
            geo = [pts[0][0], pts[0][1]]
        else:
            geo = [[x, y] for x, y in pts]
        obj: dict[str, Any] = {_KEYS[item.kind]: geo}
        if item.label:
            self.check_label(item.label)
            obj["label"] = item.label
        if item.score is not None:
            obj["score"] = item.score
        return json.dumps(obj, ensure_ascii=False)

    def _block(self, lines: list[str]) -> str:
        if not lines:
            return EMPTY
        body = ",\n".join("\t" + line for line in lines)
        return f"```json\n[\n{body}\n]\n```"


class Qwen25VLStyle(JsonStyle):
    """Qwen2.5-VL: JSON in absolute pixels of the model input (see the module docstring).

    Example:
        >>> style = Qwen25VLStyle()
        >>> frame = style.frame(800, 600)
        >>> (frame.text_width, frame.text_height)
        (812, 588)
        >>> style.render_inline(RenderItem("hbox", (100, 150, 300, 450), label="plane"), frame)
        '{"bbox_2d": [102, 147, 305, 441], "label": "plane"}'
    """

    name = "qwen25vl"
    template = "qwen2_vl"
    coords: ClassVar[CoordSystem] = "abs_resized"


class Qwen3VLStyle(JsonStyle):
    """Qwen3-VL: the Qwen2.5-VL JSON on the 0-1000 grid; resize options (factor 32) only inform ``target_size``.

    Example:
        >>> style = Qwen3VLStyle()
        >>> style.render_inline(RenderItem("point", (400, 300)), style.frame(800, 600))
        '{"point_2d": [500, 500]}'
    """

    name = "qwen3vl"
    template = "qwen3_vl_nothink"
    coords: ClassVar[CoordSystem] = "rel1000"
    defaults: ClassVar[ResizeOptions] = ResizeOptions(
        processor_min_pixels=QWEN3VL_MIN_PIXELS, processor_max_pixels=QWEN3VL_MAX_PIXELS, factor=QWEN3VL_FACTOR
    )
