"""Synthetic RSICD: ``dataset_rsicd.json`` (Karpathy format) + ``RSICD_images/*.jpg``.

Quirks on purpose: class-prefixed names next to purely numeric ones (``00001.jpg``); raw sentences ending in ``" ."``
and repeated to reach five; unicode; a caption holding a literal ``<image>`` (must not become a placeholder); an
entry whose image file is missing (``storagetanks_7.jpg``: skipped and reported); an entry without ``filename``
(reported with its position).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from data_converters.fakes.common import save_image, texture

SIZE = 32
ENTRIES = (
    ("airport_1.jpg", "train"),
    ("denseresidential_3.jpg", "train"),
    ("00001.jpg", "train"),
    ("00002.jpg", "train"),
    ("storagetanks_7.jpg", "train"),  # listed, but the file is missing
    ("beach_2.jpg", "val"),
    ("00003.jpg", "val"),
    ("church_4.jpg", "test"),
    ("00004.jpg", "test"),
)
MISSING = "storagetanks_7.jpg"


def _sentences(name: str, first_id: int) -> list[dict[str, Any]]:
    stem = name.rsplit(".", 1)[0]
    raws = [
        f"many buildings are around the {stem} .",
        f"Some green trees are near the {stem} .",
        f"many buildings are around the {stem} .",
        f"many buildings are around the {stem} .",
        f"a road goes across the {stem} .",
    ]
    if stem == "00002":
        raws[1] = "a café and a «plaza» are next to the lawn ."
    if stem == "beach_2":
        raws[4] = "a <image> of a beach ."
    return [
        {"tokens": r.rstrip(" .").split(), "raw": r, "imgid": 0, "sentid": first_id + k} for k, r in enumerate(raws)
    ]


def make_fake(root: Path, *, seed: int = 0) -> dict[str, Any]:
    """Write the fake under ``root``.

    Returns:
        ``{"splits": {"train": 5, "val": 2, "test": 2}, "missing": [...], "bad_entries": 1}``: entries listed per split
        (the missing image included; the unreadable entry, in train, not).
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    images = []
    for i, (name, split) in enumerate(ENTRIES):
        if name != MISSING:
            save_image(root / "RSICD_images" / name, texture(rng, SIZE, SIZE))
        sents = _sentences(name, 5 * i)
        for s in sents:
            s["imgid"] = i
        images.append(
            {"filename": name, "imgid": i, "split": split, "sentids": [s["sentid"] for s in sents], "sentences": sents}
        )
    images.append({"imgid": len(ENTRIES), "split": "train", "sentences": []})  # no filename
    (root / "dataset_rsicd.json").write_text(
        json.dumps({"images": images, "dataset": "rsicd"}, ensure_ascii=False), encoding="utf-8"
    )
    splits = {s: sum(1 for _, v in ENTRIES if v == s) for s in ("train", "val", "test")}
    return {"splits": splits, "missing": [f"RSICD_images/{MISSING}"], "bad_entries": 1}
