"""Synthetic NWPU VHR-10 in the real layout (``positive image set``, ``negative image set``, ``ground truth``).

Eight positive images (``001``-``008``, 64-128 px) and three negatives. Quirks included on purpose:

- ``002.txt``: spaces after commas and inside parentheses, blank lines inside and at the end, CRLF line endings;
- ``003.txt``: a line without class id and a class id of 11 among valid lines (both dropped, reported);
- ``004.jpg``: a truncated JPEG (skipped, reported); ``005``: a positive image without ground-truth file;
- ``006.txt``: corners given bottom-right first (sorted).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from data_converters.fakes.common import save_image, texture, truncate

BASE = "NWPU VHR-10 dataset"
POSITIVES = 8
NEGATIVES = 3
GT: dict[int, str] = {
    1: "(5,6),(30,40),1\n(40,10),(60,25),10\n",
    2: "(10, 12), (40 ,30), 2\n\n( 45,50 ),(60, 62),3\n\n\n",
    3: "(5,5),(20,20),4\n(10,12),(40,30)\n(30,30),(50,50),11\n(25,25),(55,40),5\n",
    4: "(5,5),(20,20),6\n",
    6: "(40,30),(10,12),7\n(50,40),(60,58),8\n",
    7: "(8,8),(50,20),9\n",
    8: "(3,4),(15,16),10\n(20,20),(30,30),10\n(35,5),(50,15),1\n",
}


def make_fake(root: Path, *, seed: int = 0) -> dict[str, Any]:
    """Write the fake dataset under ``root`` and return what a correct conversion must find.

    Returns:
        ``positives``/``negatives`` (image counts), ``samples`` (images converted over all splits), ``objects``
        (objects converted), ``dropped`` (``(gt file, line)`` of dropped lines), ``corrupt``, ``missing_gt``.
    """
    rng = np.random.default_rng(seed)
    base = Path(root) / BASE
    for i in range(1, POSITIVES + 1):
        h, w = (int(v) for v in rng.integers(64, 129, size=2))
        save_image(base / "positive image set" / f"{i:03d}.jpg", texture(rng, h, w))
        if i in GT:
            text = GT[i].replace("\n", "\r\n") if i == 2 else GT[i]
            path = base / "ground truth" / f"{i:03d}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode())
    for i in range(1, NEGATIVES + 1):
        save_image(base / "negative image set" / f"{i:03d}.jpg", texture(rng, 72, 96))
    truncate(base / "positive image set" / "004.jpg", keep=0.4)
    (base / "readme.txt").write_text("NWPU VHR-10 dataset (synthetic copy for tests)\n", encoding="utf-8")
    return {
        "positives": POSITIVES,
        "negatives": NEGATIVES,
        "samples": POSITIVES - 2 + NEGATIVES,  # 004 corrupt, 005 without ground truth
        "objects": 2 + 2 + 2 + 2 + 1 + 3,  # 001, 002, 003 (2 of 4 lines), 006, 007, 008
        "dropped": [(f"{BASE}/ground truth/003.txt", 2), (f"{BASE}/ground truth/003.txt", 3)],
        "corrupt": [f"{BASE}/positive image set/004.jpg"],
        "missing_gt": [f"{BASE}/ground truth/005.txt"],
    }
