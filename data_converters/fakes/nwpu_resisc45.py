"""Synthetic NWPU-RESISC45 in the real layout: ``NWPU-RESISC45/<class>/<class>_NNN.jpg`` + optional split files.

Quirks included on purpose: one class folder named with spaces (``baseball diamond``, as some mirrors ship it) whose
files keep underscores-or-spaces as mirrors do, and one truncated JPEG (``church_003.jpg``) that must be skipped and
reported. With ``split_files=True`` the torchgeo-style ``resisc45-{train,val,test}.txt`` lists are written
(images 001 → train, 002 → val, 003 → test in every class).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from data_converters.fakes.common import save_image, texture, truncate

#: folder name → file stem prefix, as found on disk (the second keeps the spaces-mirror quirk)
FOLDERS = {"airplane": "airplane", "baseball diamond": "baseball diamond", "church": "church", "wetland": "wetland"}
PER_CLASS = 3
SIZE = 64
CORRUPT = "church/church_003.jpg"


def make_fake(root: Path, *, seed: int = 0, split_files: bool = True, per_class: int = PER_CLASS) -> dict[str, Any]:
    """Write the fake dataset under ``root`` and return what a correct conversion must find.

    ``per_class`` scales the fake up (kill/resume tests and benchmarks); images ``i`` go to train, val, test by
    ``i mod 3``.

    Returns:
        ``{"images": 12, "corrupt": [...], "splits": {"train": 4, "val": 4, "test": 4}}``: counts of images per split
        *including* the corrupt one (which lies in ``test``).
    """
    rng = np.random.default_rng(seed)
    base = Path(root) / "NWPU-RESISC45"
    lines: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    for folder, prefix in FOLDERS.items():
        for i in range(1, per_class + 1):
            name = f"{prefix}_{i:03d}.jpg"
            save_image(base / folder / name, texture(rng, SIZE, SIZE))
            lines[("train", "val", "test")[(i - 1) % 3]].append(name.replace(" ", "_"))
    truncate(base / CORRUPT)
    if split_files:
        for split, names in lines.items():
            (Path(root) / f"resisc45-{split}.txt").write_text("\n".join(names) + "\n", encoding="utf-8")
    return {
        "images": len(FOLDERS) * per_class,
        "corrupt": [f"NWPU-RESISC45/{CORRUPT}"],
        "splits": {s: len(v) for s, v in lines.items()},
    }
