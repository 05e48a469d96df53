"""Reading videos: size, frame rate and frame count, and evenly spaced key frames as RGB arrays.

Decoding uses OpenCV's FFmpeg backend (``opencv-python-headless``, already a dependency). Frames are ``(H, W, 3)``
uint8 RGB arrays like every image of the toolkit; frame ``i`` is the ``i``-th decoded frame, 0-based.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ts_instruct.errors import InvalidVideoError


@dataclass(frozen=True)
class VideoInfo:
    """What a video container says about its first video stream.

    Attributes:
        width: frame width in pixels.
        height: frame height in pixels.
        frames: number of frames the container declares (may exceed what a truncated file decodes).
        fps: frames per second (0.0 when unknown).
    """

    width: int
    height: int
    frames: int
    fps: float

    @property
    def duration(self) -> float:
        """Length in seconds (0.0 when the frame rate is unknown)."""
        return self.frames / self.fps if self.fps > 0 else 0.0


def _open(path: str | Path) -> cv2.VideoCapture:
    p = Path(path)
    if not p.is_file():
        raise InvalidVideoError(p, "video file is missing")
    cap = cv2.VideoCapture(str(p))
    if not cap.isOpened():
        cap.release()
        raise InvalidVideoError(p, "cannot open the video (unknown container, or the file is truncated or corrupt)")
    return cap


def probe_video(path: str | Path) -> VideoInfo:
    """Open a video, decode its first frame, and return its size, frame count and frame rate.

    Raises:
        InvalidVideoError: the file is missing, cannot be opened, or its first frame does not decode.
    """
    cap = _open(path)
    try:
        ok, frame = cap.read()
        if not ok or frame is None:
            raise InvalidVideoError(path, "no frame decodes; the file may be truncated or corrupt")
        h, w = frame.shape[:2]
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        return VideoInfo(width=w, height=h, frames=max(n, 1), fps=fps if np.isfinite(fps) and fps > 0 else 0.0)
    finally:
        cap.release()


def keyframe_indices(n_frames: int, k: int) -> list[int]:
    """``k`` frame indices spread evenly over ``n_frames`` (the centre of each of ``k`` equal slices).

    >>> keyframe_indices(120, 4)
    [15, 45, 75, 105]
    >>> keyframe_indices(3, 4)
    [0, 1, 2]

    Raises:
        ValueError: ``k`` < 1.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if n_frames <= k:
        return list(range(max(n_frames, 0)))
    return [int((i + 0.5) * n_frames / k) for i in range(k)]


def read_keyframes(path: str | Path, k: int) -> tuple[list[int], list[np.ndarray]]:
    """Decode ``k`` evenly spaced frames (fewer for shorter videos) as RGB arrays, in time order.

    The container's frame count places the frames; when the file decodes fewer frames than it declares, the
    indices are placed again over the frames that do decode.

    Returns:
        ``(indices, frames)``: 0-based frame numbers and ``(H, W, 3)`` uint8 RGB arrays.

    Raises:
        InvalidVideoError: the video cannot be opened or no frame decodes.
    """
    declared = probe_video(path).frames
    for attempt in range(2):
        wanted = keyframe_indices(declared, k)
        got = _decode(path, wanted)
        if len(got) == len(wanted):
            return wanted, got
        declared = _count(path)  # the container overstated its length: count what decodes, place again
        if attempt == 1 or declared == 0:
            break
    raise InvalidVideoError(path, f"only part of the video decodes; cannot read frames {keyframe_indices(declared, k)}")


def _decode(path: str | Path, indices: list[int]) -> list[np.ndarray]:
    cap = _open(path)
    out: list[np.ndarray] = []
    try:
        wanted = set(indices)
        last = max(indices, default=-1)
        i = 0
        while i <= last:
            ok, frame = cap.read()
            if not ok or frame is None:
                break
            if i in wanted:
                out.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            i += 1
    finally:
        cap.release()
    return out


def _count(path: str | Path) -> int:
    cap = _open(path)
    n = 0
    try:
        while cap.grab():
            n += 1
    finally:
        cap.release()
    return n
