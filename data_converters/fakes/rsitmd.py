"""Synthetic RSITMD: ``RSITMD/dataset_RSITMD.json`` (Karpathy format, train/test only) + ``RSITMD/images/*.tif``.

Quirks on purpose: no val split; per-image ``keywords``; an older copy's blank sentence (``boat_0.tif``: dropped and
reported, the image kept) and an entry whose five sentences are all blank (``park_12.tif``: skipped and reported).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from data_converters.fakes.common import save_image, texture

SIZE = 32
ENTRIES = (
    ("baseballfield_452.tif", "train", ["baseball field", "green"]),
    ("boat_0.tif", "train", ["boat", "harbour"]),
    ("airport_3.tif", "train", ["airport"]),
    ("park_12.tif", "train", ["park"]),
    ("beach_7.tif", "test", ["beach", "sea", "wave"]),
    ("school_1.tif", "test", ["school"]),
)
BLANK_SENTENCE = "boat_0.tif"
ALL_BLANK = "park_12.tif"


def make_fake(root: Path, *, seed: int = 0) -> dict[str, Any]:
    """Write the fake under ``root``.

    Returns:
        ``{"splits": {"train": 4, "test": 2}, "blank_sentences": 1, "all_blank": [...], "keywords": {file: [...]}}``.
    """
    base = Path(root) / "RSITMD"
    rng = np.random.default_rng(seed)
    images = []
    for i, (name, split, keywords) in enumerate(ENTRIES):
        save_image(base / "images" / name, texture(rng, SIZE, SIZE))
        stem = name.rsplit(".", 1)[0]
        raws = [
            f"There is a {stem} in the picture .",
            f"the {stem} is surrounded by trees .",
            f"Several cars are parked beside the {stem} .",
            f"a white building is next to the {stem} .",
            f"the {stem} lies beside a winding road .",
        ]
        if name == BLANK_SENTENCE:
            raws[2] = ""
        if name == ALL_BLANK:
            raws = ["", " ", "", ".", ""]
        sents = [
            {"raw": r, "tokens": r.rstrip(" .").split(), "imgid": i, "sentid": 5 * i + k} for k, r in enumerate(raws)
        ]
        images.append(
            {
                "filename": name,
                "imgid": i,
                "split": split,
                "sentids": [s["sentid"] for s in sents],
                "sentences": sents,
                "keywords": keywords,
            }
        )
    (base / "dataset_RSITMD.json").write_text(json.dumps({"images": images}, ensure_ascii=False), encoding="utf-8")
    return {
        "splits": {"train": 4, "test": 2},
        "blank_sentences": 1,
        "all_blank": [ALL_BLANK],
        "keywords": {name: kw for name, _, kw in ENTRIES},
    }
