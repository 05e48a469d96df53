"""A few valid TS-Instruct records with real PNG images, written in the converted-dataset layout.

Stands in for converter output in the mix / training / serving tests: ``<root>/<dataset>/<split>-00000.jsonl`` with
images under ``<root>/<dataset>/images/<split>/``. Each split holds single-image detection records (boxes in the
answer), one scene-classification record and before/after change pairs (two ``<image>`` in the first user turn,
earlier image first). Swap :func:`write_fake_converted` for a converter run to test on real converter output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ts_instruct.render import RenderItem, get_style

#: meta.render of each style, as the converters write it.
RENDER: dict[str, dict[str, Any]] = {name: get_style(name).describe() for name in ("qwen2vl", "qwen25vl", "qwen3vl")}

WIDTH, HEIGHT = 112, 84  # multiples of 28: the Qwen2.5-VL processor leaves the image as it is


def _box_text(style: str, label: str, box: tuple[int, int, int, int]) -> str:
    render = get_style(style)
    return render.render([RenderItem("hbox", box, label=label)], render.frame(WIDTH, HEIGHT))


def _png(path: Path, rng: np.random.Generator, box: tuple[int, int, int, int] | None) -> None:
    pixels = rng.integers(60, 120, size=(HEIGHT, WIDTH, 3), dtype=np.uint8)
    if box is not None:
        x1, y1, x2, y2 = box
        pixels[y1:y2, x1:x2] = (230, 230, 230)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


def write_fake_converted(
    root: Path,
    dataset: str,
    split: str,
    *,
    style: str = "qwen25vl",
    n_single: int = 3,
    n_pairs: int = 2,
    seed: int = 0,
    license: str = "CC-BY-4.0",
    render: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Write ``n_single`` detection records, one classification record and ``n_pairs`` change pairs.

    Args:
        root: the converted root.
        dataset: dataset folder name.
        split: split name (file ``<split>-00000.jsonl``).
        style: render style of the answers and of ``meta.render``.
        n_single: detection records (one image, one or two boxes in the answer).
        n_pairs: change records (two images).
        seed: pixel and box seed.
        license: ``meta.license`` of every record.
        render: ``meta.render`` to write instead of the style's (to fake a mismatch).

    Returns:
        the records written, in file order.
    """
    rng = np.random.default_rng(seed)
    folder = root / dataset
    records: list[dict[str, Any]] = []
    meta = {"dataset": dataset, "split": split, "license": license, "render": render or RENDER[style]}

    def box() -> tuple[int, int, int, int]:
        x1, y1 = int(rng.integers(0, WIDTH - 40)), int(rng.integers(0, HEIGHT - 40))
        return x1, y1, x1 + int(rng.integers(10, 40)), y1 + int(rng.integers(10, 40))

    for i in range(n_single):
        b = box()
        image = f"images/{split}/{dataset}_{i:03d}.png"
        _png(folder / image, rng, b)
        answer = _box_text(style, "ship", b)
        records.append(
            {
                "id": f"{dataset}/{split}/{i:03d}/det",
                "dataset": dataset,
                "task": "detection_hbb",
                "messages": [
                    {"role": "user", "content": "<image>Detect every ship in the image. Answer with boxes."},
                    {"role": "assistant", "content": f"There is 1 ship: {answer}"},
                ],
                "images": [image],
                "annotations": {"objects": [{"label": "ship", "hbox": list(b)}]},
                "meta": meta,
            }
        )
    image = f"images/{split}/{dataset}_scene.png"
    _png(folder / image, rng, None)
    records.append(
        {
            "id": f"{dataset}/{split}/scene/cls",
            "dataset": dataset,
            "task": "scene_cls",
            "messages": [
                {"role": "system", "content": "You are a remote sensing assistant."},
                {"role": "user", "content": "<image>Which scene is this? Answer with one word."},
                {"role": "assistant", "content": "harbor"},
            ],
            "images": [image],
            "annotations": {"scene": "harbor"},
            "meta": meta,
        }
    )
    for i in range(n_pairs):
        b = box()
        before, after = f"images/{split}/{dataset}_{i:03d}_A.png", f"images/{split}/{dataset}_{i:03d}_B.png"
        _png(folder / before, rng, None)
        _png(folder / after, rng, b)
        records.append(
            {
                "id": f"{dataset}/{split}/pair{i:03d}/change",
                "dataset": dataset,
                "task": "change_boxes",
                "messages": [
                    {
                        "role": "user",
                        "content": "<image><image>Image 1 was taken before image 2. Box every new building.",
                    },
                    {"role": "assistant", "content": f"1 new building: {_box_text(style, 'building', b)}"},
                ],
                "images": [before, after],
                "annotations": {"changes": [{"hbox": list(b), "to": "building"}]},
                "meta": meta,
            }
        )
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{split}-00000.jsonl").open("w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return records
