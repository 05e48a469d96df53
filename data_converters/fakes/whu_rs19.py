"""Synthetic WHU-RS19: ``WHU-RS19/<Class>/<file>.jpg``, 5 classes x 3 images.

Quirks on purpose: inconsistent separators (``airport_01.jpg``, ``beach-01.jpg``); folder casing as in the
original (``Airport``, ``footballField``, ``railwayStation``) next to a lower-case one (``beach``); a file whose
name carries another class (``Park/parking_03.jpg``: its class is ``park``, from the folder); one truncated JPEG
(``beach/beach-03.jpg``) that must be skipped and reported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from data_converters.fakes.common import save_image, texture, truncate

FILES = {
    "Airport": ("airport_01.jpg", "airport_02.jpg", "airport_03.jpg"),
    "beach": ("beach-01.jpg", "beach-02.jpg", "beach-03.jpg"),
    "footballField": ("footballField_01.jpg", "footballField-02.jpg", "footballField_03.jpg"),
    "railwayStation": ("railwayStation_01.jpg", "railwayStation_02.jpg", "railwayStation_03.jpg"),
    "Park": ("park_01.jpg", "park-02.jpg", "parking_03.jpg"),
}
CLASSES = {
    "Airport": "airport",
    "beach": "beach",
    "footballField": "football_field",
    "railwayStation": "railway_station",
    "Park": "park",
}
SIZE = 48
CORRUPT = "WHU-RS19/beach/beach-03.jpg"


def make_fake(root: Path, *, seed: int = 0) -> dict[str, Any]:
    """Write the fake under ``root``.

    Returns:
        ``{"images": 15, "labels": {relative path: class}, "corrupt": [relative path]}``.
    """
    rng = np.random.default_rng(seed)
    labels = {}
    for folder, names in FILES.items():
        for name in names:
            rel = f"WHU-RS19/{folder}/{name}"
            save_image(Path(root) / rel, texture(rng, SIZE, SIZE))
            labels[rel] = CLASSES[folder]
    truncate(Path(root) / CORRUPT)
    return {"images": len(labels), "labels": labels, "corrupt": [CORRUPT]}
