"""Checks shared by the segmentation converter tests: polygons, stored masks, and the IoU of the text geometry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import shapely
from PIL import Image

from ts_instruct.masks import mask_iou
from ts_instruct.render import style_from_meta
from ts_instruct.tasks.segmentation import answer_to_mask


def stored_mask(out: Path, record: dict[str, Any]) -> np.ndarray:
    """The lossless mask PNG kept beside a record (ids as stored)."""
    return np.asarray(Image.open(out / record["annotations"]["masks"][0]["path"]))


def class_id(record: dict[str, Any], name: str) -> int:
    """Mask id of class ``name`` in the record's MaskRef."""
    return next(int(k) for k, v in record["annotations"]["masks"][0]["classes"].items() if v == name)


def answer_and_truth(out: Path, record: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The answer text rasterised back and the source mask of the asked class, both ``(H, W)`` bool.

    The answer is parsed with the record's own render style (``meta.render``) in the frame of its image, then
    rasterised with :func:`ts_instruct.tasks.segmentation.answer_to_mask` (hole rings subtract).
    """
    img = record["meta"]["images"][0]
    width, height = img["width"], img["height"]
    style = style_from_meta(record["meta"]["render"])
    parsed = style.parse(record["messages"][1]["content"], style.frame(width, height), kind="polygon")
    cls = record["id"].rsplit("/", 1)[1]
    predicted = answer_to_mask(parsed.items, height, width, label=cls.replace("_", " "))
    return predicted.astype(bool), stored_mask(out, record) == class_id(record, cls)


def answer_iou(out: Path, record: dict[str, Any]) -> float:
    """IoU between the source mask of the asked class and the answer text rasterised back."""
    return mask_iou(*answer_and_truth(out, record))


def check_polygons(record: dict[str, Any]) -> None:
    """Every stored polygon is valid, inside its image, with vertices on pixel corners and holes inside it."""
    img = record["meta"]["images"][0]
    for p in record["annotations"].get("polygons", []):
        ext = np.asarray(p["exterior"])
        assert ext.shape[0] >= 3 and ext.shape[1] == 2
        assert np.array_equal(ext, np.round(ext)), "vertices must lie on pixel corners"
        assert ext[:, 0].min() >= 0 and ext[:, 1].min() >= 0
        assert ext[:, 0].max() <= img["width"] and ext[:, 1].max() <= img["height"]
        poly = shapely.Polygon(ext, p.get("holes", []))
        assert poly.is_valid and poly.area > 0, record["id"]
