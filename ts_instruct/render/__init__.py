"""Write geometry into model answers for each Qwen-VL generation, and read model text back into geometry.

Three styles, one per target family (each module's docstring shows an example answer):

===========  ======================  ==============================================  ======================
name         module                  coordinates                                     LLaMA-Factory template
===========  ======================  ==============================================  ======================
``qwen2vl``  :mod:`.qwen2vl`         0-1000 grid, special tokens                     ``qwen2_vl``
``qwen25vl`` :mod:`.json_styles`     absolute pixels of the resized model input,     ``qwen2_vl``
                                     JSON ``bbox_2d``
``qwen3vl``  :mod:`.json_styles`     0-1000 grid, JSON ``bbox_2d``                   ``qwen3_vl_nothink``
===========  ======================  ==============================================  ======================

Usage::

    style = get_style("qwen25vl", image_max_pixels=262144)
    frame = style.frame(width, height)           # pixels of the emitted image -> text coordinates
    answer = style.render(items, frame)          # items: RenderItem in pixels
    record.meta["render"] = style.describe()
    ...
    result = style_from_meta(record.meta["render"]).parse(prediction, frame, kind="hbox")
"""

from __future__ import annotations

from typing import Any

from ts_instruct.errors import ConfigError
from ts_instruct.render.base import (
    KINDS,
    Frame,
    GeomKind,
    ParseResult,
    RenderItem,
    RenderStyle,
    canonical_qbox,
    from_text,
    to_text,
)
from ts_instruct.render.json_styles import JsonStyle, Qwen3VLStyle, Qwen25VLStyle
from ts_instruct.render.qwen2vl import Qwen2VLStyle
from ts_instruct.render.qwen_base import QwenStyle, ResizeOptions
from ts_instruct.render.reading import read_answer
from ts_instruct.render.resize import lf_input_size, smart_resize

__all__ = [
    "KINDS",
    "STYLES",
    "Frame",
    "GeomKind",
    "JsonStyle",
    "ParseResult",
    "Qwen2VLStyle",
    "Qwen3VLStyle",
    "Qwen25VLStyle",
    "QwenStyle",
    "RenderItem",
    "RenderStyle",
    "ResizeOptions",
    "canonical_qbox",
    "from_text",
    "get_style",
    "lf_input_size",
    "list_styles",
    "read_answer",
    "smart_resize",
    "style_from_meta",
    "to_text",
]

#: Every render style by name. Explicit on purpose: adding a style is one line here.
STYLES: dict[str, type[QwenStyle]] = {
    "qwen2vl": Qwen2VLStyle,
    "qwen25vl": Qwen25VLStyle,
    "qwen3vl": Qwen3VLStyle,
}


def list_styles() -> list[str]:
    """Names of the registered styles, sorted.

    Example:
        >>> list_styles()
        ['qwen25vl', 'qwen2vl', 'qwen3vl']
    """
    return sorted(STYLES)


def get_style(name: str, **options: Any) -> RenderStyle:
    """Build a style by name.

    Args:
        name: one of :func:`list_styles`.
        **options: resize options (:class:`ResizeOptions` fields: ``image_max_pixels``, ``image_min_pixels``,
            ``processor_min_pixels``, ``processor_max_pixels``, ``factor``).

    Raises:
        ConfigError: for an unknown name (the message lists the valid ones) or an invalid option.

    Example:
        >>> get_style("qwen25vl", image_max_pixels=262144).frame(1024, 1024)
        Frame(width=1024, height=1024, text_width=504, text_height=504)
    """
    if name not in STYLES:
        raise ConfigError(f"render style must be one of {list_styles()}, got {name!r}")
    return STYLES[name](**options)


def style_from_meta(render_meta: dict[str, Any]) -> RenderStyle:
    """Rebuild the style a record was written in from its ``meta["render"]`` (the output of ``describe()``).

    Raises:
        ConfigError: when ``style`` is missing or unknown, an option is invalid, or ``coords``/``template`` do not
            match what the style writes (the record was produced by another version of the format).

    Example:
        >>> style = get_style("qwen3vl", image_max_pixels=262144)
        >>> style_from_meta(style.describe()) == style
        True
    """
    if not isinstance(render_meta, dict) or "style" not in render_meta:
        raise ConfigError(f"meta['render'] must be a dict with a 'style' key, got {render_meta!r}")
    name = render_meta["style"]
    if name not in STYLES:
        raise ConfigError(f"meta['render']['style'] must be one of {list_styles()}, got {name!r}")
    cls = STYLES[name]
    options = {k: v for k, v in render_meta.items() if k not in ("style", "coords", "template")}
    style = cls(**options)
    for key in ("coords", "template"):
        if key in render_meta and render_meta[key] != getattr(style, key):
            raise ConfigError(
                f"meta['render'][{key!r}] must be {getattr(style, key)!r} for style {name!r}, got {render_meta[key]!r}"
            )
    return style
