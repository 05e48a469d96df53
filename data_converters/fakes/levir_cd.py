"""Synthetic LEVIR-CD in either real layout.

The layouts are ``{A,B,label}/<split>_N.png`` (the official zips) and ``<split>/{A,B,label}/<split>_N.png`` (open-cd
style).

Quirks included on purpose: ``train_2`` is an all-unchanged pair (an all-zero label, a negative), ``train_3`` has a
3-channel RGB label (some copies are saved so), ``val_2`` has a later image of another size (skipped and reported)
and ``test_2`` has no later image (skipped and reported). Buildings appear in some pairs and disappear in others.

:func:`make_pairs` builds the same pairs in memory; the LIM-CD (LEVIR-MCI) fake cuts its tiles from them, as the real
LEVIR-MCI reuses LEVIR-CD's scenes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
from numpy.typing import NDArray

from data_converters.fakes.change_pairs import paint, pair_images, shapes
from data_converters.fakes.common import save_image

SIZE = 64
#: split → number of pairs (named ``<split>_1`` ... in the real 1-based style)
PAIRS = {"train": 3, "val": 2, "test": 2}
UNCHANGED = "train_2"
RGB_LABEL = "train_3"
SIZE_MISMATCH = "val_2"
MISSING_B = "test_2"
ROOF = (196, 92, 70)

Pair = tuple[NDArray[np.uint8], NDArray[np.uint8], NDArray[np.uint8]]


def make_pairs(seed: int = 0) -> dict[str, Pair]:
    """Every pair as ``name → (A, B, label)``: RGB uint8 images and a 0/255 (H, W) label, before any quirk."""
    rng = np.random.default_rng(seed)
    out: dict[str, Pair] = {}
    for split, n in PAIRS.items():
        for i in range(1, n + 1):
            name = f"{split}_{i}"
            before, after = pair_images(rng, SIZE, SIZE)
            label = np.zeros((SIZE, SIZE), np.uint8)
            if name != UNCHANGED:
                for j, m in enumerate(shapes(rng, SIZE, SIZE, int(rng.integers(2, 5)))):
                    if j % 3 == 2:  # a building that was demolished: in A, gone from B
                        before = paint(before, m, ROOF)
                    else:
                        after = paint(after, m, ROOF)
                    label[m] = 255
            out[name] = (before, after, label)
    return out


def make_fake(root: Path, *, seed: int = 0, layout: Literal["flat", "split"] = "flat") -> dict[str, Any]:
    """Write the fake dataset under ``root`` and return what a correct conversion must find.

    Args:
        root: output folder.
        seed: seed of every random choice.
        layout: ``"flat"`` (``A/train_1.png``) or ``"split"`` (``train/A/train_1.png``).

    Returns:
        ``units`` (pairs per split), ``samples`` (pairs that convert), ``skipped`` (split → files reported),
        ``regions`` (key → number of changed buildings), ``unchanged`` (keys), ``layout``.
    """
    if layout not in ("flat", "split"):
        raise ValueError(f"layout must be 'flat' or 'split', got {layout!r}")
    root = Path(root)
    regions: dict[str, int] = {}
    skipped: dict[str, list[str]] = {s: [] for s in PAIRS}
    for name, (before, after, label) in make_pairs(seed).items():
        split = name.split("_")[0]
        prefix = f"{split}/" if layout == "split" else ""
        base = root / prefix
        save_image(base / "A" / f"{name}.png", before)
        lab = np.repeat(label[:, :, None], 3, axis=2) if name == RGB_LABEL else label
        save_image(base / "label" / f"{name}.png", lab)
        if name == MISSING_B:
            skipped[split].append(f"{prefix}B/{name}.png")
            continue
        if name == SIZE_MISMATCH:
            save_image(base / "B" / f"{name}.png", after[: SIZE * 3 // 4])
            skipped[split].append(f"{prefix}B/{name}.png")
            continue
        save_image(base / "B" / f"{name}.png", after)
        regions[name] = _components(label)
    return {
        "units": dict(PAIRS),
        "samples": {s: n - len(skipped[s]) for s, n in PAIRS.items()},
        "skipped": skipped,
        "regions": regions,
        "unchanged": [UNCHANGED],
        "layout": layout,
    }


def _components(label: NDArray[np.uint8]) -> int:
    n, _ = cv2.connectedComponents((label > 0).astype(np.uint8), connectivity=4)
    return int(n) - 1
