"""Checks shared by the change-pair converter tests: answers read back into pixels and compared with the masks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ts_instruct.masks import Polygon, mask_iou, polygons_to_mask
from ts_instruct.render import style_from_meta
from ts_instruct.templates import POOLS

PREAMBLES = POOLS["change_preamble"] + POOLS["change_preamble_dated"]
STYLES = ("qwen25vl", "qwen2vl", "qwen3vl")


def answer_mask(record: dict[str, Any]) -> np.ndarray:
    """Parse a region answer with the record's own style and rasterise it: (H, W) 0/1 in pixels of image B."""
    target = record["meta"]["target"]
    img = record["meta"]["images"][1]
    w, h = img["width"], img["height"]
    style = style_from_meta(record["meta"]["render"])
    parsed = style.parse(record["messages"][1]["content"], style.frame(w, h), kind=target["kind"])
    assert len(parsed.items) == len(target["items"]), parsed.errors
    polys = []
    for item in parsed.items:
        if item.kind == "hbox":
            x1, y1, x2, y2 = item.coords
            polys.append(Polygon(np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], float)))
        else:
            polys.append(Polygon(np.asarray(item.coords, float).reshape(-1, 2)))
    return polygons_to_mask(polys, h, w)


def reference_mask(record: dict[str, Any], out: Path) -> np.ndarray:
    """What a region answer must cover: the saved change mask for polygons, the regions' boxes for boxes."""
    target = record["meta"]["target"]
    img = record["meta"]["images"][1]
    w, h = img["width"], img["height"]
    if target["kind"] == "hbox":
        boxes = [r["hbox"] for r in record["annotations"].get("changes", [])]
        polys = [Polygon(np.array([[a, b], [c, b], [c, d], [a, d]], float)) for a, b, c, d in boxes]
        return polygons_to_mask(polys, h, w)
    change = next(m for m in record["annotations"]["masks"] if m["name"] == "change")
    return (np.asarray(Image.open(out / change["path"])) == 1).astype(np.uint8)


def region_ious(records: list[dict[str, Any]], out: Path) -> dict[str, list[float]]:
    """IoU of every change_regions / change_semantic answer with its reference, by geometry kind."""
    ious: dict[str, list[float]] = {"polygon": [], "hbox": []}
    for r in records:
        if r["task"] not in ("change_regions", "change_semantic"):
            continue
        ious[r["meta"]["target"]["kind"]].append(mask_iou(answer_mask(r), reference_mask(r, out)))
    return ious


def check_pair_record(record: dict[str, Any]) -> None:
    """Two images, earlier (``_A``) first, both placeholders first, and a preamble saying which is which."""
    assert len(record["images"]) == 2
    assert record["images"][0].endswith(tuple(f"_A{e}" for e in (".png", ".jpg")))
    assert record["images"][1].endswith(tuple(f"_B{e}" for e in (".png", ".jpg")))
    prompt = record["messages"][0]["content"]
    assert prompt.startswith("<image><image>")
    assert prompt.count("<image>") == 2
    body = prompt.removeprefix("<image><image>")
    assert any(body.startswith(p.split("{")[0]) for p in PREAMBLES), body
