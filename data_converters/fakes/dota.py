"""Synthetic DOTA v1.0 / v1.5 / v2.0 in the real layout, every version's label sets side by side over one image folder.

Scenes (``train/images`` unless said otherwise):

- ``P0000.png``: a 1500 x 1500 RGB scene, tiled into 4 tiles with the default 1024 px patch and 200 px gap; its
  objects include one that straddles a tile edge with only 40% inside the first tile (dropped there by default) and
  one with 75% inside (kept, clipped), float coordinates, a difficult object; v1.5 adds a container crane.
- ``P0001.png``: a 200 x 160 single-band (grayscale) PNG, as GF-2/JL-1 scenes are; header ``gsd:null``; its label
  file holds malformed lines (8 fields, a bad number, an unknown class, a degenerate box) among valid ones, a
  9-field line (no ``difficult``) and a bow-tie (corners out of order).
- ``P0002.png``: 128 x 128 with an empty label file (header only in v1.x, zero bytes in v2.0).
- ``P0003.png``: a truncated PNG (its label is fine): skipped and reported.
- ``P0005.png``: v2.0 only (the v2.0 archive's new images, extracted beside the v1.0 ones), with a helipad and an
  airport.
- ``val/images/P0004.png``: 300 x 260 whose label files use CRLF line endings; ``val/.../P0006.txt`` has no image.

v2.0 label files have no header; their ``meta/*.txt`` files hold ``acquisition dates``/``imagesource``/``gsd`` (the
train ones under ``train/labelTxt-v2.0/train_meta/meta``, the val ones under ``val/val_meta/meta``, the two places
releases use). Each OBB label set has its HBB twin (axis-aligned corners).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from data_converters.fakes.common import save_image, texture, truncate

Obj = tuple[str, list[float], int]  # label, 8 corner coordinates (clockwise on screen), difficult

SCENE = 1500
#: malformed lines of P0001 (1-based, counting the two header lines of v1.x files)
P0001_BAD_LINES_V1 = [4, 6, 7, 9]


def rotated(cx: float, cy: float, w: float, h: float, degrees: float) -> list[float]:
    """Corners of a w x h rectangle centred at (cx, cy), rotated clockwise on screen; TL, TR, BR, BL before rotation."""
    t = math.radians(degrees)
    c, s = math.cos(t), math.sin(t)
    out = []
    for dx, dy in ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)):
        out += [cx + dx * c - dy * s, cy + dx * s + dy * c]
    return out


def rect(x1: float, y1: float, x2: float, y2: float) -> list[float]:
    """Axis-aligned corners, clockwise on screen from the top-left."""
    return [x1, y1, x2, y1, x2, y2, x1, y2]


def _scene_objects(version: str) -> list[Obj]:
    objs: list[Obj] = [
        ("plane", rect(100, 100, 160, 140), 0),  # tile (0, 0) only
        ("ship", rotated(700, 700, 40, 16, 30), 0),  # in the overlap of all 4 tiles
        ("large-vehicle", rect(1000, 200, 1060, 230), 0),  # 40% inside tile (0, 0): partial there
        ("storage-tank", rect(1009, 300, 1029, 320), 0),  # 75% inside tile (0, 0): kept, clipped
        ("bridge", rotated(1300, 1300, 120, 30, 30), 0),  # tile (476, 476) only
        ("small-vehicle", rect(600.5, 150.25, 612.5, 156.25), 1),  # difficult, float corners
    ]
    if version in ("v1.5", "v2.0"):
        objs.append(("container-crane", rotated(300, 1200, 50, 20, 60), 0))  # tile (0, 476) only
    return objs


def _fmt(v: float, version: str) -> str:
    return str(round(v)) if version == "v1.0" else f"{v:.1f}"


def _obj_line(obj: Obj, version: str, hbb: bool, *, with_difficult: bool = True) -> str:
    label, c, difficult = obj
    if hbb:
        xs, ys = c[0::2], c[1::2]
        c = rect(min(xs), min(ys), max(xs), max(ys))
    text = " ".join(_fmt(v, version) for v in c) + f" {label}"
    return text + (f" {difficult}" if with_difficult else "")


def _label_text(version: str, hbb: bool, objs: list[Obj], header: tuple[str, str] | None, extra: list[str]) -> str:
    lines = []
    if version != "v2.0" and header is not None:
        lines += [f"imagesource:{header[0]}", f"gsd:{header[1]}"]
    lines += [_obj_line(o, version, hbb) for o in objs]
    lines += extra
    return "\n".join(lines) + ("\n" if lines else "")


def _p0001_lines(version: str, hbb: bool) -> list[str]:
    plane = ("plane", rect(20, 30, 60, 50), 0)
    ship = ("ship", rotated(120, 80, 30, 12, -20), 1)
    bow_tie = [150, 20, 190, 40, 190, 20, 150, 40]  # TL, BR, TR, BL: corners out of order
    return [
        _obj_line(plane, version, hbb, with_difficult=False),  # 9 fields: difficult defaults to 0
        "10 10 20 10 20 20 10 20",  # 8 fields
        _obj_line(ship, version, hbb),
        "30 100 40 100 4x0 110 30 110 harbor 0",  # bad number in x3
        "60 100 70 100 70 110 60 110 tank 0",  # unknown class
        " ".join(_fmt(v, version) for v in bow_tie) + " harbor 0",  # repaired, kept
        "5 5 5 5 5 5 5 5 bridge 0",  # degenerate
        "",
    ]


def _write(path: Path, text: str, *, crlf: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((text.replace("\n", "\r\n") if crlf else text).encode("utf-8"))


LABEL_DIRS = {
    ("v1.0", False): "{s}/labelTxt-v1.0/labelTxt",
    ("v1.0", True): "{s}/labelTxt-v1.0/{S}_Task2_gt/{s}set_reclabelTxt",
    ("v1.5", False): "{s}/labelTxt-v1.5/DOTA-v1.5_{s}",
    ("v1.5", True): "{s}/labelTxt-v1.5/DOTA-v1.5_{s}_hbb",
    ("v2.0", False): "{s}/labelTxt-v2.0/DOTA-v2.0_{s}",
    ("v2.0", True): "{s}/labelTxt-v2.0/DOTA-v2.0_{s}_hbb",
}
META_DIRS = {"train": "train/labelTxt-v2.0/train_meta/meta", "val": "val/val_meta/meta"}


def make_fake(root: Path, *, seed: int = 0) -> dict[str, Any]:
    """Write the fake dataset under ``root`` and return what a correct conversion must find.

    Returns:
        ``units[version][split]`` (label files), ``samples[version][split]`` (tiles with the default patch 1024 and
        gap 200 and ``negative_rate=1``), ``corrupt`` (image paths), ``bad_lines[version]`` (malformed lines of
        ``train/.../P0001.txt``), ``scene`` (the tiled scene's name and size).
    """
    rng = np.random.default_rng(seed)
    root = Path(root)
    images = root / "train" / "images"
    # a smooth texture drawn at a quarter of the size and enlarged: the same look at a fraction of the cost
    scene = cv2.resize(texture(rng, SCENE // 4, SCENE // 4), (SCENE, SCENE), interpolation=cv2.INTER_LINEAR)
    save_image(images / "P0000.png", scene, compress_level=1)
    gray = texture(rng, 160, 200)[:, :, 1]
    save_image(images / "P0001.png", gray)
    save_image(images / "P0002.png", texture(rng, 128, 128))
    truncate(save_image(images / "P0003.png", texture(rng, 96, 96)), keep=0.5)
    save_image(images / "P0005.png", texture(rng, 256, 256))
    save_image(root / "val" / "images" / "P0004.png", texture(rng, 260, 300))

    for (version, hbb), pattern in LABEL_DIRS.items():
        for split in ("train", "val"):
            folder = root / pattern.format(s=split, S=split.capitalize())
            if split == "train":
                files = {
                    "P0000": _label_text(version, hbb, _scene_objects(version), ("GoogleEarth", "0.146343590398"), []),
                    "P0001": _label_text(version, hbb, [], ("GF-2", "null"), _p0001_lines(version, hbb)),
                    "P0002": _label_text(version, hbb, [], ("GoogleEarth", "0.3"), []),
                    "P0003": _label_text(
                        version, hbb, [("plane", rect(10, 10, 40, 30), 0)], ("GoogleEarth", "0.3"), []
                    ),
                }
                if version == "v2.0":
                    helipad, airport = (
                        ("helipad", rect(20, 20, 60, 60), 0),
                        ("airport", rotated(160, 170, 120, 60, 10), 0),
                    )
                    files["P0005"] = _label_text(version, hbb, [helipad, airport], None, [])
                for stem, text in files.items():
                    _write(folder / f"{stem}.txt", text)
            else:
                objs: list[Obj] = [
                    ("tennis-court", rect(20, 20, 80, 50), 0),
                    ("ship", rotated(200, 150, 60, 20, 40), 0),
                ]
                _write(folder / "P0004.txt", _label_text(version, hbb, objs, ("GoogleEarth", "0.5"), []), crlf=True)
                _write(folder / "P0006.txt", _label_text(version, hbb, objs[:1], ("GoogleEarth", "0.5"), []))
    meta = {
        "train": {
            "P0000": "acquisition dates:2016-05-12\nimagesource:GoogleEarth\ngsd:0.146343590398\n",
            "P0001": "acquisition date:None\nimagesource:GF-2\ngsd:null\n",
            "P0002": "acquisition dates:null\nimagesource:GoogleEarth\ngsd:0.3\n",
            "P0003": "imagesource:GoogleEarth\ngsd:0.3\n",
            "P0005": "acquisition dates:2019-01-02\nimagesource:JL-1\ngsd:0.72\n",
        },
        "val": {"P0004": "imagesource:GoogleEarth\ngsd:0.5\n", "P0006": "imagesource:GoogleEarth\ngsd:0.5\n"},
    }
    for split, files in meta.items():
        for stem, text in files.items():
            _write(root / META_DIRS[split] / f"{stem}.txt", text, crlf=split == "val")
    units_v1 = {"train": 4, "val": 2}
    samples_v1 = {
        "train": 4 + 1 + 1,
        "val": 1,
    }  # P0000: 4 tiles, P0001, P0002 (negative); P0003 corrupt; P0006 no image
    return {
        "units": {"v1.0": units_v1, "v1.5": units_v1, "v2.0": {"train": 5, "val": 2}},
        "samples": {"v1.0": samples_v1, "v1.5": samples_v1, "v2.0": {"train": 7, "val": 1}},
        "corrupt": ["train/images/P0003.png"],
        "missing_image": ["val/P0006"],
        "bad_lines": {
            "v1.0": P0001_BAD_LINES_V1,
            "v1.5": P0001_BAD_LINES_V1,
            "v2.0": [n - 2 for n in P0001_BAD_LINES_V1],
        },
        "scene": {"name": "P0000", "size": [SCENE, SCENE]},
    }
