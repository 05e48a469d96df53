"""Building blocks for synthetic raw datasets: seeded textures, shapes, and deliberately broken files.

Fakes rebuild each dataset's real on-disk layout at toy scale (a few samples, 32-128 px) so converters are tested on
the exact format, quirks included. Everything is seeded: the same seed writes the same bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image


def texture(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A smooth random RGB texture ``(H, W, 3)`` uint8: a colour gradient plus a few soft blobs.

    Unlike white noise, such images survive JPEG and resizing recognisably, so perceptual hashes tell two textures
    apart and match a texture with its re-encoded copy.
    """
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = rng.uniform(40, 200, size=3).astype(np.float32)
    gx, gy = rng.uniform(-80, 80, size=(2, 3)).astype(np.float32)
    img = base + gx * (xx / max(width, 1))[..., None] + gy * (yy / max(height, 1))[..., None]
    for _ in range(int(rng.integers(3, 7))):
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        r = rng.uniform(0.1, 0.4) * max(height, width)
        amp = rng.uniform(-90, 90, size=3).astype(np.float32)
        img += amp * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))[..., None]
    out: np.ndarray = np.clip(img, 0, 255).astype(np.uint8)
    return out


def save_image(path: Path, arr: np.ndarray, **kwargs: object) -> Path:
    """Save an array with the format implied by the suffix (JPEG quality 90 unless given)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".tif": "TIFF", ".tiff": "TIFF", ".bmp": "BMP"}[
        path.suffix.lower()
    ]
    if fmt == "JPEG":
        kwargs.setdefault("quality", 90)
    Image.fromarray(arr).save(path, format=fmt, **kwargs)
    return path


def truncate(path: Path, keep: float = 0.4) -> Path:
    """Cut a file to ``keep`` of its bytes: a corrupt image whose header still reads."""
    data = path.read_bytes()
    path.write_bytes(data[: max(16, int(len(data) * keep))])
    return path


def shared_texture(seed: int, group: str, number: int, height: int, width: int) -> np.ndarray:
    """The texture of source image ``number`` of a group of datasets built on the same images.

    Fakes of datasets that share source images (Sydney and Sydney-Captions: the same 613 patches; DIOR and
    DIOR-RSVG) draw image ``number`` from a RNG seeded by ``(seed, group, number)`` only, so both fakes hold
    pixel-identical copies of it and an overlap (leakage) check can be tested on them.
    """
    digest = hashlib.sha256(f"{seed}\x1f{group}\x1f{number}".encode()).digest()
    return texture(np.random.default_rng(int.from_bytes(digest[:8], "big")), height, width)


def source_or_texture(
    sources: Sequence[Path] | None, index: int, seed: int, group: str, number: int, size: int
) -> np.ndarray:
    """Pixels of ``sources[index]`` when source images are given, else the shared texture of (seed, group, number).

    ``sources`` are image files (another fake's images, for instance); their pixels are used as they are, whatever
    their size.
    """
    if sources:
        with Image.open(sources[index % len(sources)]) as im:
            return np.asarray(im.convert("RGB"))
    return shared_texture(seed, group, number, size, size)


def save_video(path: Path, frames: Sequence[np.ndarray], fps: float = 8.0) -> Path:
    """Write RGB frames ``(H, W, 3)`` uint8 as an MPEG-4 Part 2 ``.mp4`` (OpenCV's ``mp4v``; deterministic bytes)."""
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (w, h))
    if not writer.isOpened():
        raise OSError(f"OpenCV cannot write {path.name} with the mp4v codec")
    try:
        for f in frames:
            writer.write(cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2BGR))
    finally:
        writer.release()
    return path
