"""Synthetic Sydney-Captions: ``dataset.json`` (Karpathy format) + ``imgs/<n>.tif``, 14 images, 5 sentences each.

Quirks on purpose: the original archive's ``imgs/`` folder (not torchrs' ``images/``); raw sentences ending in
``" ."`` with stray spaces and mixed case; a sentence repeated to reach five; one sentence given only as ``tokens``;
unicode text. Image ``n.tif`` has the pixels of the Sydney classification fake's patch ``n`` for the same seed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from data_converters.fakes.common import save_image, source_or_texture

N = 14
SIZE = 32
SPLITS = {**{n: "train" for n in range(1, 11)}, 11: "val", 12: "val", 13: "test", 14: "test"}
SENTENCES = (
    "a residential area with many houses .",
    "Many  buildings and some green trees are in a residential area .",
    "some roads go through the dense houses .",
    "a residential area with many houses .",
    "the houses are arranged neatly .",
)


def make_fake(root: Path, *, seed: int = 0, source_images: Sequence[Path] | None = None) -> dict[str, Any]:
    """Write the fake under ``root``.

    Returns:
        ``{"splits": {"train": 10, "val": 2, "test": 2}, "numbers": {file name: n}}``; every image keeps 4 distinct
        captions (its first sentence is repeated as the fourth).
    """
    root = Path(root)
    images = []
    sent_id = 0
    for n in range(1, N + 1):
        save_image(root / "imgs" / f"{n}.tif", source_or_texture(source_images, n - 1, seed, "sydney", n, SIZE))
        raws = [s.replace("houses", f"houses {n}") for s in SENTENCES]
        if n == 3:
            raws[4] = "un quartier résidentiel près du café — «dense» ."
        sentences: list[dict[str, Any]] = []
        for raw in raws:
            sentences.append({"tokens": raw.replace(" .", "").split(), "raw": raw, "imgid": n - 1, "sentid": sent_id})
            sent_id += 1
        if n == 5:
            del sentences[2]["raw"]  # tokens only
        images.append(
            {
                "filename": f"{n}.tif",
                "imgid": n - 1,
                "split": SPLITS[n],
                "sentids": [s["sentid"] for s in sentences],
                "sentences": sentences,
            }
        )
    (root / "dataset.json").write_text(
        json.dumps({"images": images, "dataset": "sydney"}, ensure_ascii=False), encoding="utf-8"
    )
    splits = {s: sum(1 for v in SPLITS.values() if v == s) for s in ("train", "val", "test")}
    return {"splits": splits, "numbers": {f"{n}.tif": n for n in range(1, N + 1)}}
