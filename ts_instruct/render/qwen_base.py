"""What the three Qwen-VL styles share: resize options, frames, ``describe()`` and the lenient reader."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar, Literal

from ts_instruct.errors import ConfigError, GeometryError
from ts_instruct.render.base import Frame, GeomKind, ParseResult, RenderItem, RenderStyle, to_text
from ts_instruct.render.reading import read_answer
from ts_instruct.render.resize import (
    LF_IMAGE_MAX_PIXELS,
    LF_IMAGE_MIN_PIXELS,
    QWEN2VL_FACTOR,
    QWEN2VL_MAX_PIXELS,
    QWEN2VL_MIN_PIXELS,
    lf_input_size,
)

__all__ = ["GRID", "QwenStyle", "ResizeOptions"]

#: Side of the relative grid of Qwen2-VL and Qwen3-VL: coordinates are integers in 0..1000.
GRID = 1000

CoordSystem = Literal["rel1000", "abs_resized"]


@dataclass(frozen=True)
class ResizeOptions:
    """How LLaMA-Factory and the processor resize an image (see :mod:`ts_instruct.render.resize`).

    Attributes:
        image_max_pixels: LLaMA-Factory ``image_max_pixels`` (train and infer with the same value).
        image_min_pixels: LLaMA-Factory ``image_min_pixels``.
        processor_min_pixels: processor ``size.shortest_edge``.
        processor_max_pixels: processor ``size.longest_edge``.
        factor: ``patch_size * merge_size`` (28 for Qwen2/2.5-VL, 32 for Qwen3-VL).

    Raises:
        ConfigError: when a value is not a positive int or a minimum exceeds its maximum.
    """

    image_max_pixels: int = LF_IMAGE_MAX_PIXELS
    image_min_pixels: int = LF_IMAGE_MIN_PIXELS
    processor_min_pixels: int = QWEN2VL_MIN_PIXELS
    processor_max_pixels: int = QWEN2VL_MAX_PIXELS
    factor: int = QWEN2VL_FACTOR

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{f.name} must be a positive int (write 589824, not 768*768), got {value!r}")
        if self.image_min_pixels > self.image_max_pixels:
            raise ConfigError(
                f"image_min_pixels must be <= image_max_pixels, got {self.image_min_pixels} > {self.image_max_pixels}"
            )
        if self.processor_min_pixels > self.processor_max_pixels:
            raise ConfigError(
                f"processor_min_pixels must be <= processor_max_pixels, "
                f"got {self.processor_min_pixels} > {self.processor_max_pixels}"
            )

    def input_size(self, width: int, height: int) -> tuple[int, int]:
        """``(width, height)`` the model receives for an image file of ``width`` x ``height`` pixels.

        Raises:
            GeometryError: when the size is not positive or the image is too thin for LLaMA-Factory.
        """
        try:
            return lf_input_size(
                width,
                height,
                max_px=self.image_max_pixels,
                min_px=self.image_min_pixels,
                proc_min=self.processor_min_pixels,
                proc_max=self.processor_max_pixels,
                factor=self.factor,
            )
        except ValueError as e:
            raise GeometryError(f"cannot size a {width!r}x{height!r} image for the model: {e}") from e


class QwenStyle(RenderStyle):
    """Base of the Qwen-VL styles: holds :class:`ResizeOptions`, builds frames, reads answers.

    Subclasses set ``name``, ``template``, ``coords`` and ``defaults`` and write the two ``render`` methods.

    Args:
        **options: fields of :class:`ResizeOptions`; unspecified ones take the style's ``defaults``.

    Raises:
        ConfigError: for an unknown option name or an invalid value.
    """

    coords: ClassVar[CoordSystem]
    defaults: ClassVar[ResizeOptions] = ResizeOptions()

    def __init__(self, **options: Any) -> None:
        valid = [f.name for f in fields(ResizeOptions)]
        unknown = sorted(set(options) - set(valid))
        if unknown:
            raise ConfigError(f"{self.name} options must be among {valid}, got {unknown}")
        self.options = ResizeOptions(**{**asdict(self.defaults), **options})

    def frame(self, width: int, height: int) -> Frame:
        """Frame of an emitted image: the 0-1000 grid, or the model-input size for absolute coordinates.

        Raises:
            GeometryError: when the size is not positive (or too thin for LLaMA-Factory, absolute styles).
        """
        if self.coords == "rel1000":
            return Frame(width, height, GRID, GRID)
        tw, th = self.options.input_size(width, height)
        return Frame(width, height, tw, th)

    def target_size(self, width: int, height: int) -> tuple[int, int]:
        """``(width, height)`` of the image the model sees (informational for the 0-1000 styles)."""
        return self.options.input_size(width, height)

    def describe(self) -> dict[str, Any]:
        """``{"style", "coords", "template"}`` plus every resize option; :func:`style_from_meta` reverses it."""
        return {"style": self.name, "coords": self.coords, "template": self.template, **asdict(self.options)}

    def parse(self, text: str, frame: Frame, *, kind: GeomKind | None = None) -> ParseResult:
        """Read geometries back (every syntax, see :mod:`ts_instruct.render.reading`); never raises on text."""
        return read_answer(text, frame, kind)

    def check_label(self, label: str | None) -> None:
        """Reject labels that would break the answer.

        Raises:
            GeometryError: when the label holds ``<|`` (the tokenizer would read a special token there).
        """
        if label and "<|" in label:
            raise GeometryError(f"a label must not contain '<|' (special-token syntax), got {label!r}")

    def text_points(self, item: RenderItem, frame: Frame) -> list[tuple[int, int]]:
        """The item's points as text integers of ``frame`` (rounded half up, clamped to the frame)."""
        return [
            (to_text(x, frame.width, frame.text_width), to_text(y, frame.height, frame.text_height))
            for x, y in item.points
        ]

    def render(self, items: Sequence[RenderItem], frame: Frame) -> str:
        """A block listing every item in the given order; the style's empty form when there is none.

        Coordinates outside the image are clamped to its border (the text range has no room for them).

        Raises:
            GeometryError: when a label cannot be written in this style (see :meth:`check_label`).
        """
        return self._block([self._one(item, frame) for item in items])

    def render_inline(self, item: RenderItem, frame: Frame) -> str:
        """One geometry (with its label when set) to put inside a sentence.

        Raises:
            GeometryError: when the label cannot be written in this style.
        """
        return self._one(item, frame)

    @abstractmethod
    def _one(self, item: RenderItem, frame: Frame) -> str:
        """One item in the style's syntax."""

    @abstractmethod
    def _block(self, lines: list[str]) -> str:
        """Join rendered items into an answer block."""
