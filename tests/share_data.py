"""A small converted tree with every kind of geometry, for the preview, stats and export tests.

Built through the real record path (``Sample`` → ``to_record`` with a render style), so records look exactly like a
converter's output: oriented and horizontal boxes, a polygon with a hole and its mask, a before/after pair with change
regions, a VQA record, and a georeferenced tile (UTM zone 31N, 0.5 m pixels).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ts_instruct.render import RenderItem, get_style
from ts_instruct.sample import (
    Annotations,
    ChangeRegion,
    ImageRef,
    MaskRef,
    ObjectAnn,
    PolygonAnn,
    QAPair,
    Sample,
    SampleMeta,
)
from ts_instruct.tasks.base import TaskContext, TaskOutput, to_record

STYLE = get_style("qwen25vl")
CTX = TaskContext(style=STYLE)

#: A north-up tile in UTM 31N: top-left corner at (500000 E, 5000000 N), 0.5 m pixels.
GEOREF = {"crs": "EPSG:32631", "transform": [500000.0, 0.5, 0.0, 5000000.0, 0.0, -0.5]}


def _image(path: Path, w: int, h: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    base = rng.integers(40, 200, size=3)
    yy, xx = np.mgrid[0:h, 0:w]
    px = np.clip(base[None, None, :] + (xx[..., None] + yy[..., None]) // 2, 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(px).save(path)


def _geometry_output(task: str, image: ImageRef, items: list[RenderItem], kind: str) -> TaskOutput:
    frame = STYLE.frame(image.width, image.height)
    target = {
        "type": "geometry",
        "kind": kind,
        "items": [{"label": it.label, "coords": list(it.coords)} for it in items],
        "truncated": False,
        "total": len(items),
    }
    return TaskOutput(task, f"List every object as {kind}.", STYLE.render(items, frame), target)


def _write(root: Path, dataset: str, split: str, records: list[Any]) -> None:
    folder = root / dataset
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{split}-00000.jsonl", "a", encoding="utf-8") as fh:
        for rec in records:
            fh.write(rec.to_json() + "\n")


def _ref(root: Path, dataset: str, split: str, name: str, w: int, h: int, seed: int) -> ImageRef:
    rel = f"images/{split}/{name}.png"
    _image(root / dataset / rel, w, h, seed)
    return ImageRef(source=f"raw/{name}.png", width=w, height=h, path=rel, source_size=(w, h))


def build(root: Path) -> dict[str, Any]:
    """Write the tree under ``root`` and return facts the tests check against.

    Returns:
        ``{"records": total, "per_dataset": {dataset: records}, "images": total image files written,
        "ids": {name: record id}, "georef": GEOREF}``.
    """
    ids: dict[str, str] = {}
    per: dict[str, int] = {}

    # detection: an oriented plane and an axis-aligned ship, 96x64
    img = _ref(root, "toy_det", "train", "det_a", 96, 64, 1)
    plane = ObjectAnn("plane", hbox=[10, 8, 40, 30], qbox=[20, 8, 40, 18, 30, 30, 10, 20])
    ship = ObjectAnn("ship", hbox=[60, 40, 90, 60], qbox=[60, 40, 90, 40, 90, 60, 60, 60])
    s = Sample("det_a", [img], Annotations(objects=[plane, ship], classes=["plane", "ship"]),
               SampleMeta("toy_det", "train", license="CC BY 4.0"))  # fmt: skip
    items = [RenderItem("qbox", tuple(o.qbox), label=o.label) for o in (plane, ship)]  # type: ignore[arg-type]
    det = to_record(s, _geometry_output("detect_all", img, items, "qbox"), CTX)
    count = to_record(s, TaskOutput("count", "How many planes?", "1", {"type": "number", "value": 1}), CTX)
    _write(root, "toy_det", "train", [det, count])
    ids["det"], ids["count"] = det.id, count.id
    per["toy_det"] = 2

    # segmentation: a building with a courtyard, and its mask, 64x64
    img = _ref(root, "toy_seg", "val", "seg_a", 64, 64, 2)
    mask = np.zeros((64, 64), np.uint8)
    mask[8:40, 8:48] = 1
    mask[16:24, 16:32] = 0
    (root / "toy_seg" / "masks" / "val").mkdir(parents=True, exist_ok=True)
    Image.fromarray(mask).save(root / "toy_seg" / "masks" / "val" / "seg_a_mask.png")
    courtyard = [[16, 16], [16, 24], [32, 24], [32, 16]]
    poly = PolygonAnn("building", [[8, 8], [48, 8], [48, 40], [8, 40]], holes=[courtyard])
    m = MaskRef("binary", {0: "background", 1: "building"}, path="masks/val/seg_a_mask.png")
    s = Sample("seg_a", [img], Annotations(polygons=[poly], masks=[m], classes=["building"]),
               SampleMeta("toy_seg", "val", license="CC BY-NC-SA 4.0"))  # fmt: skip
    items = [RenderItem("polygon", (8, 8, 48, 8, 48, 40, 8, 40), label="building")]
    seg = to_record(s, _geometry_output("seg_polygons", img, items, "polygon"), CTX)
    _write(root, "toy_seg", "val", [seg])
    ids["seg"] = seg.id
    per["toy_seg"] = 1

    # change: a before/after pair with one semantic change region
    a = _ref(root, "toy_change", "test", "pair_A", 64, 64, 3)
    b = _ref(root, "toy_change", "test", "pair_B", 64, 64, 4)
    region = ChangeRegion(hbox=[30, 30, 50, 50], polygon=[[30, 30], [50, 30], [50, 50], [30, 50]],
                          from_label="bare land", to_label="building", area=400.0)  # fmt: skip
    s = Sample("pair", [a, b], Annotations(changes=[region]), SampleMeta("toy_change", "test"))
    items = [RenderItem("polygon", (30, 30, 50, 30, 50, 50, 30, 50), label="building")]
    change = to_record(s, _geometry_output("change_regions", b, items, "polygon"), CTX)
    _write(root, "toy_change", "test", [change])
    ids["change"] = change.id
    per["toy_change"] = 1

    # VQA: a question with unicode and a yes/no answer
    img = _ref(root, "toy_vqa", "train", "vqa_a", 48, 48, 5)
    qa = QAPair("Is there a road near the café?", "yes", qtype="presence")
    s = Sample("vqa_a", [img], Annotations(qa=[qa]), SampleMeta("toy_vqa", "train"))
    vqa = to_record(s, TaskOutput("vqa", qa.question, qa.answer, {"type": "yes_no", "value": "yes"}), CTX)
    _write(root, "toy_vqa", "train", [vqa])
    ids["vqa"] = vqa.id
    per["toy_vqa"] = 1

    # georeferenced tile: one building, 64x64 at 0.5 m
    img = _ref(root, "toy_geo", "train", "geo_a", 64, 64, 6)
    poly = PolygonAnn("building", [[10, 10], [30, 10], [30, 20], [10, 20]])
    s = Sample("geo_a", [img], Annotations(polygons=[poly], classes=["building"]),
               SampleMeta("toy_geo", "train", gsd=0.5, georef=GEOREF))  # fmt: skip
    items = [RenderItem("polygon", (10, 10, 30, 10, 30, 20, 10, 20), label="building")]
    geo = to_record(s, _geometry_output("seg_polygons", img, items, "polygon"), CTX)
    _write(root, "toy_geo", "train", [geo])
    ids["geo"] = geo.id
    per["toy_geo"] = 1

    return {"records": sum(per.values()), "per_dataset": per, "images": 6, "ids": ids, "georef": GEOREF}


def write_predictions(path: Path, root: Path) -> dict[str, str]:
    """Keyed predictions for every record under ``root``: the plane shifted 8 px right, the building unreadable.

    Returns:
        The prediction text of each record id.
    """
    out: dict[str, str] = {}
    for f in sorted(root.rglob("*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            answer = rec["messages"][-1]["content"]
            if rec["dataset"] == "toy_det" and rec["task"] == "detect_all":
                frame = STYLE.frame(96, 64)
                items = [
                    RenderItem("qbox", (28, 8, 48, 18, 38, 30, 18, 20), label="plane"),
                    RenderItem("qbox", (60, 40, 90, 40, 90, 60, 60, 60), label="ship"),
                ]
                answer = STYLE.render(items, frame)
            elif rec["dataset"] == "toy_seg":
                answer = '```json\n[\n\t{"polygon_2d": [[8, 8], [48, 8]], "label": "building"'
            out[rec["id"]] = answer
    with open(path, "w", encoding="utf-8") as fh:
        for key, text in out.items():
            fh.write(json.dumps({"id": key, "predict": text}, ensure_ascii=False) + "\n")
    return out
