"""The model-input size: our pure-python smart_resize / lf_input_size against transformers and LLaMA-Factory."""

from __future__ import annotations

import ast
import importlib.util
import math
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from ts_instruct.errors import ConfigError, GeometryError
from ts_instruct.render import get_style
from ts_instruct.render.qwen_base import ResizeOptions
from ts_instruct.render.resize import lf_input_size, smart_resize

SmartResize = Callable[..., tuple[int, int]]


def _transformers_smart_resize() -> SmartResize:
    """transformers' own ``smart_resize``, compiled from its source file.

    Importing ``image_processing_qwen2_vl`` pulls in torchvision, whose compiled ops must match the installed torch;
    reading the function out of the file tests the exact code without depending on that pairing.
    """
    spec = importlib.util.find_spec("transformers.models.qwen2_vl.image_processing_qwen2_vl")
    assert spec is not None and spec.origin is not None
    with open(spec.origin, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "smart_resize")
    namespace: dict[str, object] = {"math": math}
    exec(compile(ast.Module(body=[node], type_ignores=[]), spec.origin, "exec"), namespace)
    return namespace["smart_resize"]  # type: ignore[return-value]


HF_SMART_RESIZE = _transformers_smart_resize()


def _hf_pil_smart_resize() -> SmartResize:
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import smart_resize as pil_smart_resize

    return pil_smart_resize


def _outcome(fn: SmartResize, *args: int, **kwargs: int) -> tuple[int, int] | str:
    try:
        return fn(*args, **kwargs)
    except ValueError as e:
        return f"ValueError: {e}"


@settings(max_examples=400, deadline=None)
@given(
    height=st.integers(1, 30000),
    width=st.integers(1, 30000),
    factor=st.sampled_from([14, 28, 32]),
    min_pixels=st.sampled_from([28 * 28, 3136, 65536, 200_000]),
    max_pixels=st.sampled_from([3136, 65536, 262144, 589824, 1003520, 12845056, 16777216]),
)
def test_smart_resize_matches_transformers(height: int, width: int, factor: int, min_pixels: int, max_pixels: int):
    ours = _outcome(smart_resize, height, width, factor=factor, min_pixels=min_pixels, max_pixels=max_pixels)
    theirs = _outcome(HF_SMART_RESIZE, height, width, factor=factor, min_pixels=min_pixels, max_pixels=max_pixels)
    assert ours == theirs


@settings(max_examples=100, deadline=None)
@given(height=st.integers(1, 20000), width=st.integers(1, 20000))
def test_smart_resize_matches_transformers_defaults_and_pil_backend(height: int, width: int):
    pil = _hf_pil_smart_resize()
    assert _outcome(smart_resize, height, width) == _outcome(HF_SMART_RESIZE, height, width)
    assert _outcome(smart_resize, height, width) == _outcome(pil, height, width)


@pytest.mark.parametrize(
    "size, kwargs, expected",
    [
        ((800, 600), {}, (812, 588)),  # documented: larger than the original on one axis
        ((512, 512), {}, (504, 504)),  # documented: rounded down to 18 patches
        ((4000, 3000), {"max_px": 768 * 768}, (896, 672)),  # documented: int-scaled to 886x665, then rounded up
        ((1024, 1024), {}, (756, 756)),  # int-scaled to 768x768, then round(768/28)=27 patches
        ((1024, 1024), {"max_px": 262144}, (504, 504)),  # the shipped examples' image_max_pixels
        ((20, 20), {}, (56, 56)),  # under image_min_pixels: scaled to 32x32, then the processor minimum 56x56
        ((10, 400), {}, (28, 392)),  # a side under 28 is forced to 28 (400x28 -> 392 wide)
        ((10000, 20), {}, (5040, 28)),  # side forced to 28, aspect 357 > 200: LLaMA-Factory squeezes it to 180:1
        ((640, 480), {"factor": 32, "proc_min": 65536, "proc_max": 16777216}, (640, 480)),  # Qwen3-VL, aligned
        ((300, 200), {"factor": 32, "proc_min": 65536, "proc_max": 16777216}, (320, 224)),  # Qwen3-VL minimum
    ],
)
def test_lf_input_size_table(size: tuple[int, int], kwargs: dict[str, int], expected: tuple[int, int]):
    assert lf_input_size(*size, **kwargs) == expected


def test_plain_smart_resize_differs_from_llamafactory_pipeline():
    # vllm serve skips LLaMA-Factory's int-scaling step: 868x644 instead of 896x672
    assert smart_resize(3000, 4000, max_pixels=589824) == (644, 868)
    assert lf_input_size(4000, 3000, max_px=589824) == (896, 672)


@pytest.mark.parametrize(
    "args, kwargs, exception",
    [
        ((0, 10), {}, pytest.raises(ValueError, match="w must be a positive int")),  # empty image
        ((10, 10), {"factor": 0}, pytest.raises(ValueError, match="factor must be a positive int")),  # bad factor
        ((10.5, 10), {}, pytest.raises(ValueError, match="w must be a positive int")),  # float size
        ((2_000_000, 1), {}, pytest.raises(ValueError, match="both sides >= 1 pixel")),  # LLaMA-Factory divides by 0
        ((100, 100), {}, nullcontext()),  # fine
    ],
)
def test_lf_input_size_rejects_bad_input(args: tuple, kwargs: dict, exception: AbstractContextManager):
    with exception:
        lf_input_size(*args, **kwargs)


# -- against LLaMA-Factory's own plugin -------------------------------------------------------------------------------


def _llamafactory_input_size(w: int, h: int, max_px: int, min_px: int) -> tuple[int, int]:
    from llamafactory.data.mm_plugin import Qwen2VLPlugin

    plugin = Qwen2VLPlugin(image_token="<|image_pad|>", video_token=None, audio_token=None)
    image = plugin._preprocess_image(Image.new("L", (w, h)), image_max_pixels=max_px, image_min_pixels=min_px)
    out_h, out_w = HF_SMART_RESIZE(image.height, image.width, factor=28, min_pixels=3136, max_pixels=12845056)
    return out_w, out_h


@pytest.mark.parametrize(
    "w, h, max_px, min_px",
    [
        (800, 600, 589824, 1024),
        (512, 512, 589824, 1024),
        (4000, 3000, 589824, 1024),
        (1024, 1024, 262144, 1024),
        (2000, 1500, 65536, 1024),
        (1920, 1080, 589824, 1024),
        (20, 20, 589824, 1024),
        (10, 400, 589824, 1024),
        (5, 3000, 589824, 1024),  # thin: side forced to 28, then aspect squeezed
        (333, 777, 100000, 50000),
    ],
)
def test_lf_input_size_matches_llamafactory_plugin(w: int, h: int, max_px: int, min_px: int):
    assert lf_input_size(w, h, max_px=max_px, min_px=min_px) == _llamafactory_input_size(w, h, max_px, min_px)


@settings(max_examples=30, deadline=None)
@given(
    w=st.integers(8, 1600),
    h=st.integers(8, 1600),
    max_px=st.sampled_from([65536, 262144, 589824]),
    min_px=st.sampled_from([1024, 4096]),
)
def test_lf_input_size_matches_llamafactory_plugin_property(w: int, h: int, max_px: int, min_px: int):
    assert lf_input_size(w, h, max_px=max_px, min_px=min_px) == _llamafactory_input_size(w, h, max_px, min_px)


# -- options -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, exception",
    [
        ({}, nullcontext()),  # defaults
        ({"image_max_pixels": "768*768"}, pytest.raises(ConfigError, match="image_max_pixels must be a positive int")),
        ({"image_max_pixels": 589824.0}, pytest.raises(ConfigError, match="must be a positive int")),  # float
        ({"factor": True}, pytest.raises(ConfigError, match="factor must be a positive int")),  # bool is not an int
        ({"image_min_pixels": 10**6}, pytest.raises(ConfigError, match="image_min_pixels must be <=")),
        ({"processor_min_pixels": 10**8}, pytest.raises(ConfigError, match="processor_min_pixels must be <=")),
    ],
)
def test_resize_options_validation(kwargs: dict, exception: AbstractContextManager):
    with exception:
        ResizeOptions(**kwargs)


def test_input_size_errors_are_geometry_errors():
    with pytest.raises(GeometryError, match="cannot size a 0x10 image"):
        ResizeOptions().input_size(0, 10)


@pytest.mark.parametrize(
    "name, size, expected",
    [
        ("qwen2vl", (800, 600), (812, 588)),
        ("qwen25vl", (800, 600), (812, 588)),
        ("qwen3vl", (800, 600), (800, 608)),  # factor 32: 600/32 = 18.75 -> 19 patches
        ("qwen3vl", (4000, 3000), (896, 672)),  # 886x665 -> 27.7, 20.8 -> 28 x 21 patches of 32
    ],
)
def test_target_size_per_style(name: str, size: tuple[int, int], expected: tuple[int, int]):
    assert get_style(name).target_size(*size) == expected
