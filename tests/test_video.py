import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from data_converters.fakes.common import save_video, texture
from ts_instruct.errors import InvalidImageError, InvalidVideoError
from ts_instruct.video import keyframe_indices, probe_video, read_keyframes


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A 10-frame 24x16 video whose frame i is flat grey 20*i (colour survives mp4v well enough to tell frames)."""
    frames = [np.full((16, 24, 3), 20 * i + 10, np.uint8) for i in range(10)]
    return save_video(tmp_path_factory.mktemp("video") / "clip.mp4", frames, fps=5.0)


def test_probe_reads_size_count_and_rate(clip):
    info = probe_video(clip)
    assert (info.width, info.height, info.frames, info.fps) == (24, 16, 10, 5.0)
    assert info.duration == 2.0


def test_keyframes_are_the_evenly_spaced_frames_in_order(clip):
    indices, frames = read_keyframes(clip, 4)
    assert indices == [1, 3, 6, 8]
    means = [float(f.mean()) for f in frames]
    assert all(abs(m - (20 * i + 10)) < 6 for m, i in zip(means, indices, strict=True))
    assert all(f.shape == (16, 24, 3) and f.dtype == np.uint8 for f in frames)


def test_fake_videos_are_deterministic(tmp_path):
    rng = [np.random.default_rng(0), np.random.default_rng(0)]
    a = save_video(tmp_path / "a.mp4", [texture(rng[0], 16, 16) for _ in range(3)])
    b = save_video(tmp_path / "b.mp4", [texture(rng[1], 16, 16) for _ in range(3)])
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p, "video file is missing"),  # nothing written
        (lambda p: p.write_bytes(b"not a video at all") and p, "cannot open the video"),  # garbage
    ],
)
def test_unreadable_videos_raise(make, message, tmp_path):
    path = tmp_path / "bad.mp4"
    make(path)
    with pytest.raises(InvalidVideoError, match=message) as e:
        probe_video(path)
    assert isinstance(e.value, InvalidImageError)  # callers catching media errors catch both


def test_truncated_video_raises(clip, tmp_path):
    bad = tmp_path / "cut.mp4"
    bad.write_bytes(clip.read_bytes()[: len(clip.read_bytes()) // 3])
    with pytest.raises(InvalidVideoError):
        read_keyframes(bad, 3)


@given(n=st.integers(0, 500), k=st.integers(1, 40))
def test_keyframe_indices_properties(n, k):
    idx = keyframe_indices(n, k)
    assert len(idx) == min(n, k)
    assert idx == sorted(set(idx))
    assert all(0 <= i < n for i in idx)


def test_keyframe_indices_rejects_k_below_one():
    with pytest.raises(ValueError, match="k must be >= 1"):
        keyframe_indices(10, 0)
