"""Synthetic DIOR / DIOR-R in the real layout, under ``<root>/DIOR`` (both converters read the same fake).

Quirks included on purpose:

- the doubled trainval folder ``JPEGImages-trainval/JPEGImages-trainval/`` (as the zip nests it) next to a flat
  ``JPEGImages-test/``;
- the HBB folder with spaces (``Horizontal Bounding Boxes``) and the OBB folder with underscores
  (``Oriented_Bounding_Boxes``, as some mirrors ship it);
- mixed-case class names (``Expressway-Service-area``), ``<robndbox>`` corners with the sibling ``<angle>``, an OBB
  object with only a ``<bndbox>``, ``<difficult>``/``<truncated>`` present in some files and absent in others, a
  missing ``<size>``, a box reaching past the image border;
- ``00003``: a bad coordinate (``1O3``) and an unknown class among valid objects (both dropped, reported);
- ``00004``: no object (a negative sample); ``00005``: a truncated JPEG; ``00007``: listed in ``test.txt`` with no
  annotation; ``00008``: malformed XML; split files with CRLF line endings and a blank line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from data_converters.fakes.common import save_image, texture, truncate

SIZE = 96
SPLITS = {"train": ["00001", "00002"], "val": ["00003", "00004"], "test": ["00005", "00006", "00007", "00008"]}

# id → objects: (name as written, [xmin, ymin, xmax, ymax], corners LT RT RB LB or None, extra tags)
Spec = tuple[str, list[str], list[float] | None, dict[str, str]]
OBJECTS: dict[str, list[Spec]] = {
    "00001": [
        ("golffield", ["10", "12", "60", "50"], [10, 12, 60, 12, 60, 50, 10, 50], {"difficult": "0", "truncated": "0"}),
        ("Expressway-Service-area", ["50", "55", "90", "90"], [70, 55, 90, 72, 70, 90, 50, 72], {"difficult": "1"}),
    ],
    "00002": [
        ("ship", ["20", "20", "40", "30"], None, {}),  # OBB file: only a <bndbox> (<type>bndbox</type>)
        ("storagetank", ["60", "60", "80", "80"], [60, 60, 80, 60, 80, 80, 60, 80], {}),
    ],
    "00003": [
        ("vehicle", ["5", "5", "15", "12"], [5, 5, 15, 5, 15, 12, 5, 12], {}),
        ("vehicle", ["30", "1O3", "40", "50"], [30, 40, 40, 40, 40, 50, 30, 50], {}),  # bad number in both files
        ("Tank", ["50", "50", "60", "60"], [50, 50, 60, 50, 60, 60, 50, 60], {}),  # unknown class
    ],
    "00004": [],
    "00006": [("windmill", ["80", "10", "100", "30"], [80, 10, 100, 10, 100, 30, 80, 30], {})],  # past the border
}
NO_SIZE = {"00002"}


def _object_xml(spec: Spec, *, oriented: bool) -> str:
    name, box, corners, tags = spec
    flags = "".join(f"<{k}>{v}</{k}>" for k, v in tags.items())
    bnd = "<bndbox>" + "".join(f"<{t}>{v}</{t}>" for t, v in zip(("xmin", "ymin", "xmax", "ymax"), box, strict=True))
    bnd += "</bndbox>"
    if not oriented:
        return f"  <object>\n    <name>{name}</name>\n    <pose>Unspecified</pose>{flags}\n    {bnd}\n  </object>\n"
    if corners is None:
        return f"  <object>\n    <type>bndbox</type>\n    <name>{name}</name>{flags}\n    {bnd}\n  </object>\n"
    values = [f"{v:g}" for v in corners]
    if box[1] == "1O3":
        values[1] = "1O3"  # the same typo as in the HBB file
    tagnames = ("x_left_top", "y_left_top", "x_right_top", "y_right_top",
                "x_right_bottom", "y_right_bottom", "x_left_bottom", "y_left_bottom")  # fmt: skip
    rob = "".join(f"<{t}>{v}</{t}>" for t, v in zip(tagnames, values, strict=True))
    return (
        f"  <object>\n    <type>robndbox</type>\n    <name>{name}</name>\n    <pose>Unspecified</pose>{flags}\n"
        f"    <robndbox>{rob}</robndbox>\n    <angle>0</angle>\n  </object>\n"
    )


def _xml(image_id: str, specs: list[Spec], *, oriented: bool) -> str:
    folder = "JPEGImages-trainval.zip/JPEGImages-trainval/JPEGImages-trainval"
    size = (
        "" if image_id in NO_SIZE else f"  <size><width>{SIZE}</width><height>{SIZE}</height><depth>3</depth></size>\n"
    )
    body = "".join(_object_xml(s, oriented=oriented) for s in specs)
    return (
        f"<annotation>\n  <folder>/{folder}</folder>\n  <filename>{image_id}.jpg</filename>\n"
        f"  <source><database>DIOR</database></source>\n{size}  <segmented>0</segmented>\n{body}</annotation>\n"
    )


def make_fake(root: Path, *, seed: int = 0) -> dict[str, Any]:
    """Write the fake dataset under ``root/DIOR`` and return what a correct conversion must find.

    Returns:
        ``samples[split]`` (images converted), ``skipped[split]`` (ids skipped: corrupt image, missing or malformed
        XML), ``dropped`` (``(xml id, field)`` of the objects dropped), ``corrupt`` (image paths relative to
        ``root``).
    """
    rng = np.random.default_rng(seed)
    base = Path(root) / "DIOR"
    for split, ids in SPLITS.items():
        folder = base / ("JPEGImages-test" if split == "test" else "JPEGImages-trainval/JPEGImages-trainval")
        for image_id in ids:
            if image_id != "00007":
                save_image(folder / f"{image_id}.jpg", texture(rng, SIZE, SIZE))
        lists = base / "ImageSets" / "Main" / f"{split}.txt"
        lists.parent.mkdir(parents=True, exist_ok=True)
        lists.write_bytes(("\r\n".join(ids) + "\r\n\r\n").encode())
    truncate(base / "JPEGImages-test" / "00005.jpg", keep=0.4)
    for sub, oriented in (("Horizontal Bounding Boxes", False), ("Oriented_Bounding_Boxes", True)):
        folder = base / "Annotations" / sub
        folder.mkdir(parents=True, exist_ok=True)
        for image_id in [i for ids in SPLITS.values() for i in ids if i not in ("00007", "00008")]:
            specs = OBJECTS.get(
                image_id, [("airplane", ["10", "10", "30", "30"], [10, 10, 30, 10, 30, 30, 10, 30], {})]
            )
            (folder / f"{image_id}.xml").write_text(_xml(image_id, specs, oriented=oriented), encoding="utf-8")
        (folder / "00008.xml").write_text("<annotation>\n  <object>\n    <name>ship</name>\n</annotation>\n")
    return {
        "samples": {"train": 2, "val": 2, "test": 1},
        "skipped": {"train": [], "val": [], "test": ["00005", "00007", "00008"]},
        "dropped": {"hbox": ["bndbox/ymin", "name"], "qbox": ["robndbox/y_left_top", "name"]},  # all in 00003.xml
        "corrupt": ["DIOR/JPEGImages-test/00005.jpg"],
    }
