"""Synthetic DIOR-RSVG: ``DIOR_RSVG/{Annotations/NNNNN.xml, JPEGImages/NNNNN.jpg, train.txt, val.txt, test.txt}``.

Five 64x64 images with 2, 1, 3, 2, 2 objects: global object indices 0..9 over the XML files sorted by name. The
split files hold object indices (train 3 4 5 7 8, val 2 9, test 0 1 6, the first lines of the real files), so
images straddle splits. Quirks on purpose: XML children in the official order (``name``, ``pose``, ``bndbox``,
``description``); unicode in a description; a box far outside the image (object 5: dropped, reported); an empty
description (object 7: dropped, reported, which leaves image 00004 without a train expression); a split line that
is not a number and one out of range (reported with their line). Images are DIOR images: pass ``source_images`` (for
instance the DIOR fake's images) or rely on :func:`~data_converters.fakes.common.shared_texture` of group ``"dior"``
(image ``n`` is DIOR image ``n``) to build an overlap.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from data_converters.fakes.common import save_image, source_or_texture

SIZE = 64
# per image: (class, box, description)
OBJECTS: tuple[tuple[tuple[str, tuple[int, int, int, int], str], ...], ...] = (
    (
        ("vehicle", (4, 6, 14, 12), "a white vehicle on the left"),
        ("vehicle", (40, 30, 52, 38), "the vehicle on the right"),
    ),
    (("golffield", (8, 8, 56, 50), "A green and brown golf field"),),
    (
        ("Expressway-Service-area", (2, 2, 30, 30), "the café-coloured « service area » in the upper left"),
        ("storagetank", (34, 36, 44, 46), "the storage tank in the middle"),
        ("ship", (70, 10, 90, 20), "a ship outside the picture"),
    ),
    (("airplane", (10, 40, 30, 60), "the airplane at the bottom"), ("airplane", (36, 4, 50, 18), "  ")),
    (
        ("windmill", (20, 20, 28, 40), "the tall windmill"),
        ("bridge", (0, 50, 64, 58), "the bridge along the bottom edge"),
    ),
)
SPLITS = {"train": ["3", "4", "5", "abc", "7", "8", "99"], "val": ["2", "9"], "test": ["0", "1", "6"]}


def _xml(n: int, objects: Sequence[tuple[str, tuple[int, int, int, int], str]]) -> str:
    parts = [
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<annotation>\n  <filename>{n:05d}.jpg'
        "</filename>\n  <source>\n    <database>DIOR</database>\n  </source>\n  <size>\n"
        f"    <width>{SIZE}</width>\n    <height>{SIZE}</height>\n    <depth>3</depth>\n  </size>\n"
        "  <segmented>0</segmented>\n"
    ]
    for name, (x1, y1, x2, y2), desc in objects:
        parts.append(
            f"  <object>\n    <name>{name}</name>\n    <pose>Unspecified</pose>\n    <bndbox>\n"
            f"      <xmin>{x1}</xmin>\n      <ymin>{y1}</ymin>\n      <xmax>{x2}</xmax>\n"
            f"      <ymax>{y2}</ymax>\n    </bndbox>\n    <description>{escape(desc)}</description>\n"
            "  </object>\n"
        )
    parts.append("</annotation>")
    return "".join(parts)


def make_fake(root: Path, *, seed: int = 0, source_images: Sequence[Path] | None = None) -> dict[str, Any]:
    """Write the fake under ``root``.

    Returns:
        ``{"samples": {...}, "refs": {split: sorted global ids kept}, "bad_lines": {split: [line numbers]},
        "dropped": [global ids dropped]}``.
    """
    base = Path(root) / "DIOR_RSVG"
    for i, objects in enumerate(OBJECTS):
        n = i + 1
        save_image(base / "JPEGImages" / f"{n:05d}.jpg", source_or_texture(source_images, i, seed, "dior", n, SIZE))
        (base / "Annotations").mkdir(parents=True, exist_ok=True)
        (base / "Annotations" / f"{n:05d}.xml").write_text(_xml(n, objects), encoding="utf-8")
    for split, lines in SPLITS.items():
        (base / f"{split}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    dropped = [5, 7]
    refs = {
        s: sorted(int(x) for x in v if x.isdigit() and int(x) < 10 and int(x) not in dropped) for s, v in SPLITS.items()
    }
    return {
        "samples": {"train": 2, "val": 2, "test": 2},
        "refs": refs,
        "bad_lines": {"train": [4, 7]},
        "dropped": dropped,
    }
