"""Synthetic CDD in the real layout: ``ChangeDetectionDataset/Real/subset/<split>/{A,B,OUT}/NNNNN.jpg``.

Masks are JPEG-compressed, as in the real data, so their values scatter around 0 and 255 near edges; the converter
must threshold them back to the drawn shapes. Quirks included on purpose: ``train/00001`` is an all-unchanged pair,
``val/00001`` has a later image of another size and ``test/00001`` has no later image (both skipped and reported).
With ``model=True`` the synthetic ``Model/with_shift`` and ``Model/without_shift`` variants are written too (one
pair per split, val and test masks as ``.bmp`` like the real ones).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from data_converters.fakes.change_pairs import paint, pair_images, shapes
from data_converters.fakes.common import save_image

SIZE = 48
PAIRS = {"train": 3, "val": 2, "test": 2}
UNCHANGED = ("train", "00001")
SIZE_MISMATCH = ("val", "00001")
MISSING_B = ("test", "00001")
BASE = "ChangeDetectionDataset"
MASK_QUALITY = 75  # JPEG quality of the masks: low enough to leave visible ringing


def _pair(rng: np.random.Generator, changed: bool) -> tuple[NDArray[np.uint8], NDArray[np.uint8], NDArray[np.uint8]]:
    before, after = pair_images(rng, SIZE, SIZE)
    label = np.zeros((SIZE, SIZE), np.uint8)
    if changed:
        for m in shapes(rng, SIZE, SIZE, int(rng.integers(1, 4))):
            after = paint(after, m, (int(rng.integers(0, 256)), int(rng.integers(0, 256)), 40))
            label[m] = 255
    return before, after, label


def make_fake(root: Path, *, seed: int = 0, model: bool = False) -> dict[str, Any]:
    """Write the fake dataset under ``root`` and return what a correct conversion must find.

    Returns:
        ``units`` and ``samples`` per split (real version), ``skipped`` (split → files), ``labels``
        (``"<split>/<stem>"`` → the clean 0/255 mask before JPEG), ``unchanged`` (keys), and with ``model=True``
        ``model_units`` (pairs per split of each synthetic version).
    """
    rng = np.random.default_rng(seed)
    base = Path(root) / BASE
    labels: dict[str, NDArray[np.uint8]] = {}
    skipped: dict[str, list[str]] = {s: [] for s in PAIRS}
    for split, n in PAIRS.items():
        folder = base / "Real" / "subset" / split
        for i in range(n):
            stem = f"{i:05d}"
            before, after, label = _pair(rng, (split, stem) != UNCHANGED)
            save_image(folder / "A" / f"{stem}.jpg", before)
            save_image(folder / "OUT" / f"{stem}.jpg", label, quality=MASK_QUALITY)
            rel_b = f"{BASE}/Real/subset/{split}/B/{stem}.jpg"
            if (split, stem) == MISSING_B:
                skipped[split].append(rel_b)
                continue
            if (split, stem) == SIZE_MISMATCH:
                save_image(folder / "B" / f"{stem}.jpg", after[:, : SIZE // 2])
                skipped[split].append(rel_b)
                continue
            save_image(folder / "B" / f"{stem}.jpg", after)
            labels[f"{split}/{stem}"] = label
    info: dict[str, Any] = {
        "units": dict(PAIRS),
        "samples": {s: n - len(skipped[s]) for s, n in PAIRS.items()},
        "skipped": skipped,
        "labels": labels,
        "unchanged": ["00001"],
    }
    if model:
        for variant in ("with_shift", "without_shift"):
            for split in PAIRS:
                folder = base / "Model" / variant / split
                before, after, label = _pair(rng, True)
                save_image(folder / "A" / "00000.jpg", before)
                save_image(folder / "B" / "00000.jpg", after)
                save_image(folder / "OUT" / ("00000.jpg" if split == "train" else "00000.bmp"), label)
        info["model_units"] = dict.fromkeys(PAIRS, 1)
    return info
