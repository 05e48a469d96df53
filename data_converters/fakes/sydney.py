"""Synthetic Sydney scene classification: ``Sydney/<class>/<n>.tif``, 7 classes x 2 patches (``n`` = 1..14).

Quirks on purpose: class folders in mixed case (``Residential``, ``Runway``), and a stray ``Thumbs.db`` that is not an
image. Patch ``n`` has the pixels of Sydney-Captions' fake image ``n.tif`` for the same seed (both draw
:func:`~data_converters.fakes.common.shared_texture` of group ``"sydney"``): the two fakes share their source images
as the real datasets do. ``source_images`` replaces the textures by given image files (in order).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from data_converters.fakes.common import save_image, source_or_texture

FOLDERS = ("Residential", "airport", "meadow", "river", "ocean", "industrial", "Runway")
PER_CLASS = 2
SIZE = 32


def make_fake(root: Path, *, seed: int = 0, source_images: Sequence[Path] | None = None) -> dict[str, Any]:
    """Write the fake under ``root``.

    Returns:
        ``{"images": 14, "labels": {relative path: class}, "numbers": {relative path: n}}``.
    """
    base = Path(root) / "Sydney"
    labels: dict[str, str] = {}
    numbers: dict[str, int] = {}
    for i, folder in enumerate(FOLDERS):
        for j in range(PER_CLASS):
            n = i * PER_CLASS + j + 1
            rel = f"Sydney/{folder}/{n}.tif"
            save_image(Path(root) / rel, source_or_texture(source_images, n - 1, seed, "sydney", n, SIZE))
            labels[rel] = folder.lower()
            numbers[rel] = n
    (base / FOLDERS[0] / "Thumbs.db").write_bytes(b"\x00not an image")
    return {"images": len(labels), "labels": labels, "numbers": numbers}
