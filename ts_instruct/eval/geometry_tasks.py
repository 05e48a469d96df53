"""Scorers of tasks answered with geometry: detection, grounding, polygons from masks, change regions.

Answers are parsed with the record's render style in pixels of the emitted image (see
:meth:`~ts_instruct.eval.reading.Case.geometry`), the kind taken from ``meta.target.kind``. Ground truth comes from
``annotations``: objects (with their ``difficult`` flags) for detection, the kept mask PNGs (relative to the dataset
folder) for pixel tasks, falling back to rasterised ``annotations.polygons`` / ``annotations.changes`` when a record
keeps no mask. Class names are compared in :func:`~ts_instruct.eval.normalize.normalize_text` form.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ts_instruct.eval.detection import COCO_THRESHOLDS, ImageDetections, evaluate_detections
from ts_instruct.eval.grounding import grounding_scores
from ts_instruct.eval.normalize import normalize_text
from ts_instruct.eval.reading import Case, class_in_text
from ts_instruct.eval.segmentation import PixelCounts, class_mask_scores, fast_hist, second_scores
from ts_instruct.eval.text_tasks import record_classes
from ts_instruct.geometry import hbox2qbox
from ts_instruct.imageio import read_mask
from ts_instruct.masks import Polygon, polygons_to_mask
from ts_instruct.render import RenderItem
from ts_instruct.tasks.segmentation import HOLE_SUFFIX

Metrics = dict[str, Any]

#: Mask classes never drawn as polygons, so never scored (normalised names).
BACKGROUND_CLASSES = frozenset(["background", "unlabeled", "unlabelled", "no data", "nodata", "ignore", "void"])
_ARROW = re.compile(r"\s*(?:→|->|=>|⇒|\bto\b|\binto\b)\s*")


def _query_class(case: Case) -> str | None:
    """The class a per-class question asks about: ``meta.target.label``/``class``, else the one the prompt names."""
    for key in ("label", "class", "cls"):
        if case.target.get(key):
            return str(case.target[key])
    labels = {i.get("label") for i in case.target.get("items", []) if i.get("label")}
    if len(labels) == 1:
        return str(labels.pop())
    return class_in_text(case.prompt, record_classes(case))


# --------------------------------------------------------------------------------------------- detection


def _detections(
    case: Case, kind: Literal["hbox", "qbox"], only: str | None, items: Sequence[RenderItem]
) -> tuple[ImageDetections, ImageDetections]:
    width = 4 if kind == "hbox" else 8
    objects = [o for o in case.annotations.get("objects", []) if only is None or normalize_text(o["label"]) == only]
    boxes = []
    for o in objects:
        if kind == "qbox":
            boxes.append(o["qbox"] if o.get("qbox") else hbox2qbox(np.asarray(o["hbox"], float)).ravel().tolist())
        else:
            boxes.append(o["hbox"])
    gt = ImageDetections(
        np.asarray(boxes, dtype=np.float64).reshape(len(objects), width),
        [normalize_text(o["label"]) for o in objects],
        difficult=np.array([bool(o.get("difficult", False)) for o in objects], dtype=bool),
    )
    pred = ImageDetections(
        np.asarray([it.coords for it in items], dtype=np.float64).reshape(len(items), width),
        [only if only is not None else normalize_text(it.label or "") for it in items],
        np.array([1.0 if it.score is None else it.score for it in items]),
    )
    return gt, pred


def _score_detection(cases: Sequence[Case], per_class: bool, options: dict[str, Any]) -> Metrics:
    kinds = {c.geometry_kind("hbox") for c in cases}
    if not kinds <= {"hbox", "qbox"} or len(kinds) > 1:
        raise cases[0].fail(f"detection answers must all be 'hbox' or all 'qbox', got kinds {sorted(kinds)}")
    kind: Literal["hbox", "qbox"] = "qbox" if kinds == {"qbox"} else "hbox"
    gts, preds = [], []
    unparsed = partial = 0
    for c in cases:
        only = None
        if per_class:
            asked = _query_class(c)
            if asked is None:
                raise c.fail("names no class to detect (meta.target.label, or a class name in the prompt)")
            only = normalize_text(asked)
        geometry = c.geometry(kind)
        unparsed += geometry.unparsed
        partial += bool(geometry.items and geometry.errors)
        gt, pred = _detections(c, kind, only, geometry.items)
        gts.append(gt)
        preds.append(pred)
    result = evaluate_detections(
        gts,
        preds,
        kind=kind,
        iou_thresholds=COCO_THRESHOLDS,
        iou_convention=options.get("hbb_iou", "dota"),
        tie_order=options.get("tie_order", "dota"),
    )
    return {
        "n": len(cases),
        "unparsed": unparsed,
        "partial": partial,
        "kind": kind,
        "truncated_references": sum(bool(c.target.get("truncated")) for c in cases),
        "mAP50_voc07": result.map("voc07", 0.5),
        "mAP50": result.map("all_point", 0.5),
        "mAP50_95": result.map("all_point"),
        "per_class": {
            name: {"npos": r.npos, "ndet": r.ndet, "AP50_voc07": r.ap["voc07"][0], "AP50": r.ap["all_point"][0]}
            for name, r in result.classes.items()
        },
    }


def score_detect_all(cases: Sequence[Case], **options: Any) -> Metrics:
    """All objects with class labels: per-class AP, mAP@0.5 (VOC-07 and all-point) and mAP@0.5:0.95."""
    return _score_detection(cases, per_class=False, options=options)


def score_detect_class(cases: Sequence[Case], **options: Any) -> Metrics:
    """All objects of the asked class; predicted labels are ignored (the question names the class)."""
    return _score_detection(cases, per_class=True, options=options)


def score_ground(cases: Sequence[Case], **options: Any) -> Metrics:
    """One box per referring expression: Acc@0.5, Acc@0.7 and mean IoU in pixels (no "+1")."""
    refs, preds = [], []
    for c in cases:
        kind = c.geometry_kind("hbox")
        items = c.target.get("items") or []
        if items:
            refs.append(items[0]["coords"])
        else:
            prompt = normalize_text(c.prompt)
            found = [r for r in c.annotations.get("refs", []) if normalize_text(r["expression"]) in prompt]
            if not found:
                raise c.fail("has no meta.target box and no annotations.refs expression found in the prompt")
            refs.append(found[0]["qbox"] if kind == "qbox" and found[0].get("qbox") else found[0]["hbox"])
        got = c.geometry("qbox" if kind == "qbox" else "hbox").items
        preds.append(got[0].coords if got else None)
    return grounding_scores(refs, preds)


# ----------------------------------------------------------------------------------------- pixel tasks


def _item_polygon(item: RenderItem) -> Polygon:
    coords = item.coords
    if item.kind == "hbox":
        coords = tuple(hbox2qbox(np.asarray(coords, float)).ravel())
    return Polygon(np.asarray(coords, dtype=np.float64).reshape(-1, 2))


def _is_hole(item: RenderItem) -> bool:
    return item.kind == "polygon" and (item.label or "").endswith(HOLE_SUFFIX)


def _raster(items: Sequence[RenderItem], shape: tuple[int, int]) -> np.ndarray:
    """Pixels covered by the items; polygon rings labelled ``"<class> hole"`` clear what they cover."""
    polys = [_item_polygon(it) for it in items if it.kind in ("hbox", "qbox", "polygon") and not _is_hole(it)]
    holes = [_item_polygon(it).exterior for it in items if _is_hole(it)]
    if polys and holes:  # polygons_to_mask sums windings over all rings, so the holes may hang on any polygon
        polys[-1] = Polygon(polys[-1].exterior, holes)
    return polygons_to_mask(polys, shape[0], shape[1]).astype(bool)


def _base_label(item: RenderItem) -> str:
    label = item.label or ""
    return normalize_text(label[: -len(HOLE_SUFFIX)] if _is_hole(item) else label)


def _load_mask(case: Case, entry: dict[str, Any]) -> np.ndarray:
    if not entry.get("path"):
        raise case.fail(f"mask {entry.get('name', 'mask')!r} has no path")
    path = Path(entry["path"])
    if not path.is_absolute() and case.dataset_dir is not None:
        path = case.dataset_dir / path
    mask = read_mask(path)
    if mask.ndim != 2:
        raise case.fail(f"mask {path} must be single-band (H, W), got shape {mask.shape}")
    return mask


def _mask_entry(case: Case, kinds: Sequence[str]) -> dict[str, Any] | None:
    return next((m for m in case.annotations.get("masks", []) if m.get("kind") in kinds), None)


def _polygons_mask(anns: Sequence[dict[str, Any]], key: str, shape: tuple[int, int]) -> np.ndarray:
    polys = [Polygon(np.asarray(a[key], float), [np.asarray(h, float) for h in a.get("holes", [])]) for a in anns]
    return polygons_to_mask([p for p in polys if len(p.exterior) >= 3], shape[0], shape[1]).astype(bool)


def _segmentation(cases: Sequence[Case], per_class: bool) -> Metrics:
    counts: dict[str, PixelCounts] = {}
    unparsed = unknown = 0
    for c in cases:
        geometry = c.geometry(c.geometry_kind("polygon"))
        unparsed += geometry.unparsed
        entry = _mask_entry(c, ("semantic", "binary"))
        if entry is not None:
            mask = _load_mask(c, entry)
            classes = {int(k): str(v) for k, v in entry.get("classes", {}).items()}
            ignore = entry.get("ignore_index")
            valid = None if ignore is None else mask != int(ignore)
            gt_of = {normalize_text(v): mask == k for k, v in classes.items() if k != ignore}
        else:
            w, h = c.image_size(0)
            mask_shape = (h, w)
            anns = c.annotations.get("polygons", [])
            names = sorted({normalize_text(p["label"]) for p in anns})
            gt_of = {
                n: _polygons_mask([p for p in anns if normalize_text(p["label"]) == n], "exterior", mask_shape)
                for n in names
            }
            valid, mask = None, np.zeros(mask_shape, bool)
        shape = mask.shape[:2]
        if per_class or c.target.get("class"):  # a record naming its class (seg_polygons/<class>) is per class
            asked = _query_class(c)
            name = normalize_text(asked) if asked else None
            if name is None or name not in gt_of:
                raise c.fail(f"asks for class {asked!r}, which its mask does not hold (classes: {sorted(gt_of)})")
            counts.setdefault(name, PixelCounts()).add(gt_of[name], _raster(geometry.items, shape), valid)
            continue
        labels = {_base_label(it) for it in geometry.items}
        unknown += len(labels - set(gt_of))
        for name, gt in gt_of.items():
            if name in BACKGROUND_CLASSES:
                continue
            mine = [it for it in geometry.items if _base_label(it) == name]
            counts.setdefault(name, PixelCounts()).add(gt, _raster(mine, shape), valid)
    out: Metrics = {"n": len(cases), "unparsed": unparsed}
    if not per_class:
        out["unknown_labels"] = unknown
    out.update(class_mask_scores(counts))
    return out


def score_seg_polygons(cases: Sequence[Case], **options: Any) -> Metrics:
    """Labelled polygons of every class, rasterised against the mask: IoU and F1 per class, mIoU, mF1."""
    return _segmentation(cases, per_class=False)


def score_seg_class_polygons(cases: Sequence[Case], **options: Any) -> Metrics:
    """Polygons of the asked class against that class's pixels."""
    return _segmentation(cases, per_class=True)


def _change_reference(case: Case) -> tuple[np.ndarray, np.ndarray | None]:
    """The reference change mask (bool) and the valid-pixel mask (``None``: all pixels count)."""
    entry = _mask_entry(case, ("change",))
    if entry is None:
        entry = next((m for m in case.annotations.get("masks", []) if m.get("image_index") == -1), None)
    if entry is not None:
        mask = _load_mask(case, entry)
        ignore = entry.get("ignore_index")
        valid = None if ignore is None else mask != int(ignore)
        return np.asarray(mask != 0), valid
    w, h = case.image_size(0)
    changes = [ch for ch in case.annotations.get("changes", []) if ch.get("polygon")]
    return _polygons_mask(changes, "polygon", (h, w)), None


def score_change_regions(cases: Sequence[Case], **options: Any) -> Metrics:
    """Changed regions rasterised against the change mask: precision, recall, F1, IoU of "changed" pixels."""
    counts = PixelCounts()
    unparsed = 0
    for c in cases:
        geometry = c.geometry(c.geometry_kind("polygon"))
        unparsed += geometry.unparsed
        gt, valid = _change_reference(c)
        counts.add(gt, _raster(geometry.items, gt.shape), valid)
    return {"n": len(cases), "unparsed": unparsed, **counts.scores()}


def split_change_label(label: str | None) -> tuple[str | None, str | None]:
    """``"farmland → building"`` → ``("farmland", "building")``; a label without an arrow is the later class.

    >>> split_change_label("low vegetation -> building"), split_change_label("water")
    (('low vegetation', 'building'), (None, 'water'))
    """
    if not label:
        return None, None
    parts = _ARROW.split(label.strip(), maxsplit=1)
    if len(parts) == 2:
        return normalize_text(parts[0]) or None, normalize_text(parts[1]) or None
    return None, normalize_text(label) or None


def score_change_semantic(cases: Sequence[Case], **options: Any) -> Metrics:
    """From-to changed regions painted into per-date class maps: SECOND's mIoU, SeK, Score and Fscd."""
    per_case = []
    num_class = 2
    for c in cases:
        entries = [m for m in c.annotations.get("masks", []) if m.get("kind") == "semantic_change"]
        if not entries:
            raise c.fail("has no 'semantic_change' mask to score semantic change against")
        for m in entries:
            num_class = max(num_class, *(int(k) + 1 for k in m.get("classes", {"0": ""})))
        per_case.append((c, entries))
    hist = np.zeros((num_class, num_class), dtype=np.int64)
    unparsed = 0
    for c, entries in per_case:
        geometry = c.geometry(c.geometry_kind("polygon"))
        unparsed += geometry.unparsed
        for entry in entries:
            gt = _load_mask(c, entry)
            ids = {normalize_text(str(v)): int(k) for k, v in entry.get("classes", {}).items()}
            # one map: the later date's classes inside change; two maps: image_index 0 is the earlier date
            date = 0 if len(entries) > 1 and entry.get("image_index") == 0 else 1
            pred = np.zeros(gt.shape, dtype=np.int64)
            for item in geometry.items:
                name = split_change_label(item.label)[date]
                if name in ids:
                    pred[_raster([item], gt.shape)] = ids[name]
            hist += fast_hist(pred, gt, num_class)
    return {"n": len(cases), "unparsed": unparsed, **second_scores(hist)}
