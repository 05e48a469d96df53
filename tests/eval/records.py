"""Hand-built TS-Instruct test records covering every task the evaluator scores, with masks written to disk.

Geometry sits on whole pixels and the images are sized so each style's text grid maps pixels exactly
(qwen2vl/qwen3vl: 500 px on the 0-1000 grid; qwen25vl: 504 px, a multiple of 28 the processor keeps), so the
reference answers parse back to the annotations without rounding and a perfect answer scores exactly 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ts_instruct.record import Message, Record
from ts_instruct.render import RenderItem, get_style

SIZES = {"qwen2vl": 500, "qwen3vl": 500, "qwen25vl": 504}


def _rect(x0, y0, x1, y1):
    return [x0, y0, x1, y0, x1, y1, x0, y1]


def _write_mask(root: Path, name: str, arr: np.ndarray) -> str:
    rel = f"masks/{name}.png"
    (root / "masks").mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr.astype(np.uint8)).save(root / rel)
    return rel


class Builder:
    def __init__(self, style_name: str, root: Path):
        self.style = get_style(style_name)
        self.size = SIZES[style_name]
        self.frame = self.style.frame(self.size, self.size)
        self.root = root
        self.records: list[Record] = []

    def add(self, dataset, task, key, prompt, answer, target, annotations=None, n_images=1):
        meta: dict[str, Any] = {
            "dataset": dataset,
            "split": "test",
            "key": key,
            "images": [{"source": f"{key}_{i}.png", "width": self.size, "height": self.size} for i in range(n_images)],
            "render": self.style.describe(),
            "target": target,
        }
        self.records.append(
            Record(
                id=f"{dataset}/test/{key}/{task}",
                dataset=dataset,
                task=task,
                messages=[Message("user", "<image>" * n_images + prompt), Message("assistant", answer)],
                images=[f"images/{key}_{i}.png" for i in range(n_images)],
                annotations=annotations or {},
                meta=meta,
            )
        )

    def geometry(self, items, kind):
        text = self.style.render(items, self.frame)
        target = {
            "type": "geometry",
            "kind": kind,
            "items": [{"label": it.label, "coords": list(it.coords)} for it in items],
            "truncated": False,
            "total": len(items),
        }
        return text, target


def build(style_name: str, root: Path) -> list[Record]:
    """Two or more records of every task, in two datasets."""
    b = Builder(style_name, root)
    s = b.size
    scenes = ["airport", "beach", "dense_residential", "forest"]
    for i, scene in enumerate(["dense_residential", "beach"]):
        ann = {"scene": scene, "classes": scenes}
        b.add(
            "scenes",
            "scene_open",
            f"s{i}",
            "What scene is this?",
            scene.replace("_", " "),
            {"type": "text", "value": scene.replace("_", " ")},
            ann,
        )
        options = ["airport", scene.replace("_", " "), "forest"]
        b.add(
            "scenes",
            "scene_choice",
            f"s{i}",
            "Which?\nA. airport\nB. x\nC. forest\nAnswer with the letter.",
            f"B. {options[1]}",
            {"type": "choice", "value": "B", "label": options[1], "options": options},
            ann,
        )
    captions = [
        ["a plane is parked near the long terminal building", "an airport with one plane"],
        ["many green trees grow along the winding river", "a river through a forest"],
    ]
    for i, caps in enumerate(captions):
        b.add(
            "caps",
            "caption",
            f"c{i}",
            "Describe the image.",
            caps[0],
            {"type": "text", "value": caps[0]},
            {"captions": caps},
        )
        b.add(
            "caps",
            "change_caption",
            f"c{i}",
            "What changed?",
            caps[1],
            {"type": "text", "value": caps[1]},
            {"captions": [caps[1]]},
            n_images=2,
        )
        b.add(
            "caps",
            "describe_box",
            f"c{i}",
            "Describe the object in the region.",
            caps[0],
            {"type": "text", "value": caps[0]},
        )
    qa = [
        ("Is there a road?", "yes", "presence"),
        ("How many buildings are there?", "3", "count"),
        ("What is the area covered by buildings?", "between 10m2 and 100m2", "area"),
    ]
    for i, (q, a, t) in enumerate(qa):
        b.add(
            "rsvqa",
            "vqa",
            f"q{i}",
            q,
            a,
            {"type": "text", "value": a},
            {"qa": [{"question": q, "answer": a, "qtype": t}]},
        )
    objects = [
        {"label": "plane", "hbox": [10, 10, 60, 50], "qbox": _rect(10, 10, 60, 50), "difficult": False},
        {"label": "plane", "hbox": [100, 100, 160, 130], "qbox": _rect(100, 100, 160, 130), "difficult": False},
        {
            "label": "ship",
            "hbox": [200, 40, 240, 120],
            "qbox": [220, 40, 240, 80, 220, 120, 200, 80],
            "difficult": False,
        },
        {"label": "ship", "hbox": [300, 300, 330, 320], "qbox": _rect(300, 300, 330, 320), "difficult": True},
    ]
    ann = {"objects": objects, "classes": ["plane", "ship", "harbor"]}
    for kind in ("hbox", "qbox"):
        items = [RenderItem(kind, o[kind], label=o["label"]) for o in objects]
        text, target = b.geometry(items, kind)
        b.add(f"det_{kind}", "detect_all", "d0", "Detect all objects.", text, target, ann)
        planes = [it for it in items if it.label == "plane"]
        text, target = b.geometry(planes, kind)
        b.add(f"det_{kind}", "detect_class", "d0", "Detect every plane in this image.", text, target, ann)
        text, target = b.geometry([], kind)
        b.add(f"det_{kind}", "detect_class", "d1", "Detect every harbor in this image.", text, target, ann)
    for i, (n, cls) in enumerate([(2, "plane"), (0, "harbor")]):
        b.add("det_hbox", "count", f"n{i}", f"How many {cls}s?", str(n), {"type": "number", "value": n}, ann)
        yes = "yes" if n else "no"
        b.add("det_hbox", "exists", f"n{i}", f"Is there any {cls}?", yes, {"type": "yes_no", "value": yes}, ann)
        b.add(
            "det_hbox",
            "classify_box",
            f"n{i}",
            "What is at the box?",
            objects[2 * i]["label"],
            {"type": "text", "value": objects[2 * i]["label"]},
            ann,
        )
    refs = [
        {"expression": "the plane at the top left", "hbox": [10, 10, 60, 50], "label": "plane"},
        {"expression": "the large ship", "hbox": [200, 40, 240, 120], "label": "ship"},
    ]
    for i, r in enumerate(refs):
        text, target = b.geometry([RenderItem("hbox", r["hbox"])], "hbox")
        b.add("refs", "ground", f"g{i}", f"Locate {r['expression']}.", text, target, {"refs": refs})
    # segmentation: a semantic mask with two classes drawn as rectangles
    sem = np.zeros((s, s), np.uint8)
    sem[20:60, 30:90] = 1  # building: x 30..90, y 20..60
    sem[200:260, 100:300] = 1
    sem[300:320, 0:s] = 2  # road
    seg_mask = {
        "kind": "semantic",
        "name": "landcover",
        "path": _write_mask(root, f"seg_{style_name}", sem),
        "classes": {"0": "background", "1": "building", "2": "road"},
        "image_index": 0,
        "ignore_index": None,
    }
    seg_ann = {"masks": [seg_mask], "classes": ["background", "building", "road", "water"]}
    buildings = [
        RenderItem("polygon", _rect(30, 20, 90, 60), label="building"),
        RenderItem("polygon", _rect(100, 200, 300, 260), label="building"),
    ]
    road = [RenderItem("polygon", _rect(0, 300, s, 320), label="road")]
    text, target = b.geometry(buildings + road, "polygon")
    b.add("seg", "seg_polygons", "m0", "Outline every object as polygons.", text, target, seg_ann)
    text, target = b.geometry([RenderItem("polygon", it.coords) for it in buildings], "polygon")
    target["label"] = "building"
    b.add("seg", "seg_class_polygons", "m0", "Outline every building as polygons.", text, target, seg_ann)
    b.add("seg", "seg_count", "m0", "How many buildings?", "2", {"type": "number", "value": 2, "class": "building"},
          seg_ann)  # fmt: skip
    for i, (cls, yes) in enumerate([("road", "yes"), ("water", "no")]):
        target = {"type": "yes_no", "value": yes, "class": cls}
        b.add("seg", "seg_exists", f"m{i}", f"Is there any {cls}?", yes.capitalize(), target, seg_ann)
    b.add(
        "seg",
        "landcover_present",
        "m0",
        "Which classes?",
        "building, road",
        {"type": "text", "value": "building, road"},
        seg_ann,
    )
    b.add(
        "seg",
        "landcover_fraction",
        "m0",
        "Fractions?",
        "building: 5.76%, road: 8%",
        {"type": "text", "value": "building: 5.76%, road: 8%"},
        seg_ann,
    )
    # change: a binary change mask and a one-map semantic change mask (later classes inside change)
    chg = np.zeros((s, s), np.uint8)
    chg[50:100, 50:150] = 1
    chg[400:450, 300:350] = 1
    scd = chg * 1
    scd[400:450, 300:350] = 2
    masks = [
        {
            "kind": "change",
            "name": "change",
            "path": _write_mask(root, f"chg_{style_name}", chg),
            "classes": {"0": "unchanged", "1": "changed"},
            "image_index": -1,
            "ignore_index": None,
        },
        {
            "kind": "semantic_change",
            "name": "scd",
            "path": _write_mask(root, f"scd_{style_name}", scd),
            "classes": {"0": "no change", "1": "building", "2": "farmland"},
            "image_index": -1,
            "ignore_index": None,
        },
    ]
    chg_ann = {"masks": masks, "classes": ["building", "farmland"]}
    regions = [RenderItem("polygon", _rect(50, 50, 150, 100)), RenderItem("polygon", _rect(300, 400, 350, 450))]
    text, target = b.geometry(regions, "polygon")
    b.add("chg", "change_regions", "p0", "Where did changes occur?", text, target, chg_ann, n_images=2)
    labelled = [
        RenderItem("polygon", regions[0].coords, label="farmland → building"),
        RenderItem("polygon", regions[1].coords, label="water → farmland"),
    ]
    text, target = b.geometry(labelled, "polygon")
    b.add("chg", "change_semantic", "p0", "What changed?", text, target, chg_ann, n_images=2)
    b.add("chg", "change_exists", "p0", "Any change?", "yes", {"type": "yes_no", "value": "yes"}, chg_ann, n_images=2)
    b.add("chg", "change_exists", "p1", "Any change?", "no", {"type": "yes_no", "value": "no"}, {}, n_images=2)
    b.add("chg", "change_fraction", "p0", "How much changed?", "3%", {"type": "number", "value": 3}, chg_ann, 2)
    b.add("chg", "change_count", "p0", "How many changed regions?", "2", {"type": "number", "value": 2}, chg_ann, 2)
    return b.records
