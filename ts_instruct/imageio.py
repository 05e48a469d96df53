"""Reading and writing images safely: size guard, truncation check, lossless masks, atomic writes.

Conventions:
- Decoded images are ``numpy`` arrays ``(H, W, 3)`` of ``uint8`` in RGB order; grayscale and palette sources
  (DOTA's GF-2/JL-1 panchromatic PNGs, palette PNG masks) are converted to RGB by :func:`read_rgb`.
- Masks are ``(H, W)`` ``uint8`` arrays written as single-band lossless PNG.
- Every file is written to a temporary name in the same folder and renamed into place, so a killed run never leaves
  a half-written file under the final name.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Literal

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from ts_instruct.errors import InvalidImageError

#: Largest image accepted, in pixels. DOTA v2.0 scenes reach about 20,000 x 20,000 (4e8 px); anything declaring more
#: than this is treated as a decompression bomb rather than decoded.
MAX_IMAGE_PIXELS = 40_000 * 40_000

# Pillow's own guard would reject DOTA's large scenes; ours (above) replaces it with an explicit, reported check.
Image.MAX_IMAGE_PIXELS = None

#: How tiles and re-encoded images are PNG-compressed: libpng (through OpenCV) with the SUB row filter, zlib level 1 and
#: the RLE strategy, which is what ``cv2.imwrite`` writes by default and hence what DOTA_devkit and mmrotate tiles
#: are. On 1024 x 1024 tiles it encodes in 0.3-0.5x the time of Pillow at level 1 (Pillow tries every row filter on
#: every row) with files no larger (3-16% smaller on the benchmark's textures), and in under 0.1x the time of
#: Pillow's default level 6 with files 0-25% larger. Decoding, which training repeats many times, takes the same
#: time either way. Tiles of a 20,000 px scene number in the hundreds, so the codec decides much of a DOTA
#: conversion's time. Measured by benchmarks/bench_tiling.py (part 1). Masks are small and compress well: they use
#: zlib level 6.
PNG_FAST: tuple[int, ...] = (
    cv2.IMWRITE_PNG_COMPRESSION, 1,
    cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE,
    cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_SUB,
)  # fmt: skip
#: zlib level of label masks (single band, large uniform areas: level 6 halves them at little cost)
MASK_COMPRESS_LEVEL = 6

ImageMode = Literal["copy", "hardlink", "reencode"]


def image_size(path: str | Path, *, max_pixels: int = MAX_IMAGE_PIXELS) -> tuple[int, int]:
    """Return ``(width, height)`` from the file header without decoding pixels.

    Raises:
        InvalidImageError: the file is missing, not an image, or declares more than ``max_pixels`` pixels.
    """
    with _open_checked(path, max_pixels) as im:
        w, h = im.size
    return int(w), int(h)


def read_rgb(path: str | Path, *, max_pixels: int = MAX_IMAGE_PIXELS) -> np.ndarray:
    """Decode an image fully into an ``(H, W, 3)`` uint8 RGB array.

    16-bit and float single-band images are scaled to 8 bits by their own range; palette, grayscale and RGBA images
    are converted to RGB.

    Raises:
        InvalidImageError: missing, truncated or undecodable file, or over ``max_pixels``.
    """
    im = _open_checked(path, max_pixels)
    try:
        with im:
            im.load()
            if im.mode in ("I;16", "I;16B", "I", "F"):
                arr = np.asarray(im, dtype=np.float64)
                lo, hi = float(arr.min()), float(arr.max())
                arr8 = ((arr - lo) / (hi - lo if hi > lo else 1.0) * 255.0).round().astype(np.uint8)
                return np.repeat(arr8[:, :, None], 3, axis=2)
            return np.asarray(im.convert("RGB"))
    except (OSError, ValueError, SyntaxError) as e:
        raise InvalidImageError(path, f"cannot decode image ({e}); the file may be truncated or corrupt") from e


def _open_checked(path: str | Path, max_pixels: int) -> Image.Image:
    """Open an image (header read, pixels not decoded) with the checks and messages of :func:`image_size`."""
    try:
        im = Image.open(path)
    except FileNotFoundError:
        raise InvalidImageError(path, "image file is missing") from None
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise InvalidImageError(path, f"not a readable image ({e}); the file may be truncated or corrupt") from e
    w, h = im.size
    if w * h > max_pixels:
        im.close()
        raise InvalidImageError(
            path, f"declares {w}x{h} = {w * h} pixels, over the limit of {max_pixels} (decompression bomb guard)"
        )
    return im


def read_mask(path: str | Path, *, max_pixels: int = MAX_IMAGE_PIXELS) -> np.ndarray:
    """Decode a label image without any colour conversion.

    Returns ``(H, W)`` for single-band or palette files (palette indices, not colours), ``(H, W, C)`` for RGB files.

    Raises:
        InvalidImageError: missing, truncated or undecodable file.
    """
    im = _open_checked(path, max_pixels)
    try:
        with im:
            im.load()
            if im.mode == "1":
                return np.asarray(im, dtype=np.uint8)
            return np.asarray(im)
    except (OSError, ValueError, SyntaxError) as e:
        raise InvalidImageError(path, f"cannot decode mask ({e}); the file may be truncated or corrupt") from e


@contextmanager
def atomic_open(path: str | Path, mode: Literal["wb", "w"] = "wb") -> Iterator[IO[bytes]]:
    """Open ``path`` for writing through a temporary file renamed into place on success (removed on failure)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path) as f:
        f.write(data)


def encode_png(arr: np.ndarray, *, compress_level: int | None = None) -> bytes:
    """Encode an ``(H, W)`` or ``(H, W, 3)`` RGB ``uint8`` array as PNG bytes (deterministic for the same input).

    ``compress_level=None`` uses the fast tile codec described at :data:`PNG_FAST`; a level 0-9 uses that zlib level
    with libpng's own choice of row filters.
    """
    if arr.dtype != np.uint8 or arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] != 3):
        raise ValueError(f"encode_png takes (H, W) or (H, W, 3) uint8 arrays, got {arr.shape} {arr.dtype}")
    bgr = arr if arr.ndim == 2 else cv2.cvtColor(arr, cv2.COLOR_RGB2BGR)
    params = list(PNG_FAST) if compress_level is None else [cv2.IMWRITE_PNG_COMPRESSION, compress_level]
    ok, buf = cv2.imencode(".png", bgr, params)
    if not ok:  # pragma: no cover - OpenCV fails only on unsupported input, rejected above
        raise ValueError(f"OpenCV could not PNG-encode an array of shape {arr.shape}")
    return bytes(buf)


def write_png(path: str | Path, arr: np.ndarray, *, compress_level: int | None = None) -> None:
    """Write an array as PNG atomically (tiles, re-encoded images, masks); see :func:`encode_png`."""
    write_bytes_atomic(path, encode_png(arr, compress_level=compress_level))


def encode_jpeg(arr: np.ndarray, *, quality: int = 95) -> bytes:
    """Encode an RGB array as JPEG bytes (deterministic for the same input and libjpeg)."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(arr)).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def write_jpeg(path: str | Path, arr: np.ndarray, *, quality: int = 95) -> None:
    """Write an RGB array as JPEG atomically (used only when a lossy output format is asked for)."""
    write_bytes_atomic(path, encode_jpeg(arr, quality=quality))


def place_file(src: str | Path, dst: str | Path, mode: ImageMode) -> None:
    """Put a source image at ``dst`` unchanged: ``copy`` or ``hardlink`` (falls back to copy across file systems).

    ``reencode`` is handled by the caller (it needs the pixels). The result appears atomically under ``dst``.
    """
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    if mode == "hardlink":
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)
    else:
        shutil.copyfile(src, tmp)
    os.replace(tmp, dst)
