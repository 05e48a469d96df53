"""Synthetic CapERA: ``CapERA_{train,test}.json`` (``{"ERA_caption": [...]}``) + ``videos/<Event>/<id>.mp4``.

Each video is a real MPEG-4 file of 6 frames of 32x32 pixels at 8 fps (a texture drifting one pixel a frame), written
with OpenCV. Quirks on purpose: camel-case and hyphenated event prefixes (``TrafficCollision``, ``post-earthquake``);
a ``video_id`` without extension (``Flood_001``); an empty caption among five; unicode; a truncated video
(``Fire_001.mp4``: skipped and reported); a caption entry whose video is absent (``Flood_003``: skipped and
reported).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from data_converters.fakes.common import save_video, texture, truncate

SIZE = 32
FRAMES = 6
FPS = 8.0
VIDEOS = {  # video_id in the json → (split, event folder, file name or None when absent)
    "Baseball_001.mp4": ("train", "Baseball", "Baseball_001.mp4"),
    "Baseball_002.mp4": ("train", "Baseball", "Baseball_002.mp4"),
    "TrafficCollision_001.mp4": ("train", "TrafficCollision", "TrafficCollision_001.mp4"),
    "Fire_001.mp4": ("train", "Fire", "Fire_001.mp4"),
    "post-earthquake_004.mp4": ("test", "post-earthquake", "post-earthquake_004.mp4"),
    "Flood_001": ("test", "Flood", "Flood_001.mp4"),
    "Flood_003.mp4": ("test", "Flood", None),
}
CORRUPT = "videos/Fire/Fire_001.mp4"


def _frames(rng: np.random.Generator) -> list[np.ndarray]:
    big = texture(rng, SIZE + FRAMES, SIZE + FRAMES)
    return [big[i : i + SIZE, i : i + SIZE] for i in range(FRAMES)]


def make_fake(root: Path, *, seed: int = 0) -> dict[str, Any]:
    """Write the fake under ``root``.

    Returns:
        ``{"splits": {"train": 4, "test": 3}, "samples": {"train": 3, "test": 2}, "corrupt": [...], "missing": [...],
        "events": {video_id: class}, "frames": 6}``.
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    entries: dict[str, list[dict[str, Any]]] = {"train": [], "test": []}
    for vid, (split, folder, file) in VIDEOS.items():
        if file is not None:
            save_video(root / "videos" / folder / file, _frames(rng), FPS)
        name = vid.split(".")[0]
        caps = [
            f"a drone flies over the {folder.lower()} scene {name}.",
            f"the video shows {folder.lower()}.",
            f"People gather near the {folder.lower()} area .",
            f"a view of {folder.lower()} from above.",
            f"an aerial clip of {folder.lower()}.",
        ]
        if vid == "Baseball_002.mp4":
            caps[3] = "   "
        if vid == "TrafficCollision_001.mp4":
            caps[4] = "deux voitures se sont heurtées près du café — «accident»."
        entries[split].append({"video_id": vid, "annotation": {"English_caption": caps}})
    truncate(root / CORRUPT, keep=0.3)
    for split, items in entries.items():
        (root / f"CapERA_{split}.json").write_text(
            json.dumps({"ERA_caption": items}, ensure_ascii=False), encoding="utf-8"
        )
    events = {
        "Baseball": "baseball",
        "TrafficCollision": "traffic_collision",
        "Fire": "fire",
        "post-earthquake": "post_earthquake",
        "Flood": "flood",
    }
    return {
        "splits": {s: len(v) for s, v in entries.items()},
        "samples": {"train": 3, "test": 2},
        "corrupt": [CORRUPT],
        "missing": ["Flood_003.mp4"],
        "events": {vid: events[folder] for vid, (_, folder, _) in VIDEOS.items()},
        "frames": FRAMES,
    }
