"""Fingerprints: imagehash equivalence, grids, flat images, determinism, file handling, parsing."""

from __future__ import annotations

import hashlib
import io
from contextlib import nullcontext as does_not_raise
from pathlib import Path
from typing import Any

import imagehash
import numpy as np
import pytest
from PIL import Image

from data_converters.fakes.common import texture
from data_converters.fakes.scenes import scene
from ts_instruct.errors import InvalidImageError
from ts_instruct.fingerprint import (
    FLAT_CELL,
    RECIPE,
    Fingerprint,
    _hash_batch,
    _hash_pair,
    _thumbnails,
    fingerprint_bytes,
    fingerprint_file,
    fingerprint_pixels,
    perceptual_hashes,
)


def _distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


@pytest.mark.parametrize("seed", range(4))
def test_batched_cells_equal_imagehash_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    # textures, noise, scenes and near-flat cells: the DCT median and the dhash comparisons see every regime
    images = [texture(rng, 32, 32), rng.integers(0, 256, (32, 32, 3), dtype=np.uint8), scene(rng, 32, 32)]
    images.append(np.full((32, 32, 3), 100, np.uint8) + rng.integers(0, 3, (32, 32, 3), dtype=np.uint8))
    thumbs, smalls = [], []
    for a in images:
        p, d = _thumbnails(Image.fromarray(a).convert("L"), 1)
        thumbs.append(p[0])
        smalls.append(d[0])
    batched = _hash_batch(np.stack(thumbs), np.stack(smalls))
    assert batched == [_hash_pair(p, d) for p, d in zip(thumbs, smalls, strict=True)]


def test_whole_image_hash_is_imagehash_of_the_area_averaged_thumbnail():
    a = scene(np.random.default_rng(1), 100, 150)
    grey = Image.fromarray(a).convert("L")
    fp = perceptual_hashes(a)
    assert fp["phash"] == str(imagehash.phash(grey.resize((32, 32), Image.Resampling.BOX)))
    assert fp["dhash"] == str(imagehash.dhash(grey.resize((9, 8), Image.Resampling.BOX)))


@pytest.mark.parametrize(
    "size, grids",
    [
        ((40, 40), []),  # 2x2 cells would be 20 px: below MIN_CELL
        ((64, 64), ["grid2"]),  # 32 px cells
        ((100, 127), ["grid2"]),  # 4x4 cells of 25 px on the short side: not hashed
        ((128, 128), ["grid2", "grid4"]),
        ((1000, 600), ["grid2", "grid4"]),  # reduced to a 256 px short side first
    ],
)
def test_grids_follow_the_image_size(size, grids):
    w, h = size
    fp = perceptual_hashes(scene(np.random.default_rng(0), h, w))
    assert sorted(k for k in fp if k.startswith("grid")) == grids
    for g in grids:
        assert len(fp[g]) == int(g[-1]) ** 2 * 32


def test_flat_image_and_flat_cells_have_no_perceptual_hash():
    flat = np.full((64, 64, 3), 37, np.uint8)
    assert perceptual_hashes(flat) == {"grid2": FLAT_CELL * 4}
    half = flat.copy()
    half[:, 32:] = scene(np.random.default_rng(0), 64, 32)
    fp = perceptual_hashes(half)
    assert "phash" in fp
    cells = [fp["grid2"][i * 32 : (i + 1) * 32] for i in range(4)]
    assert [c == FLAT_CELL for c in cells] == [True, False, True, False]  # left column flat, row-major order


def test_grey_copy_hashes_like_the_colour_image():
    a = scene(np.random.default_rng(2), 96, 96)
    grey = np.asarray(Image.fromarray(a).convert("L"))
    assert perceptual_hashes(a) == perceptual_hashes(grey) == perceptual_hashes(np.repeat(grey[..., None], 3, axis=2))


def test_deterministic():
    a = scene(np.random.default_rng(3), 80, 120)
    assert perceptual_hashes(a) == perceptual_hashes(a.copy())
    assert fingerprint_pixels(a, sha256="x") == fingerprint_pixels(a, sha256="x")


def _save(path: Path, arr: np.ndarray, **kw: Any) -> Path:
    Image.fromarray(arr).save(path, **kw)
    return path


def test_fingerprint_file_hashes_the_bytes(tmp_path):
    path = _save(tmp_path / "a.png", scene(np.random.default_rng(4), 64, 64))
    fp = fingerprint_file(path)
    assert fp["v"] == RECIPE
    assert fp["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert "source_sha256" not in fp  # the file is its own source
    assert fingerprint_file(path, source_sha256="ab" * 32)["source_sha256"] == "ab" * 32
    assert fingerprint_file(path) == fp


@pytest.mark.parametrize("name, size", [("a.png", 64), ("b.jpg", 64), ("c.jpg", 1100)])
def test_fingerprint_bytes_equals_fingerprint_file(tmp_path, name, size):
    path = _save(tmp_path / name, scene(np.random.default_rng(7), size, size))
    data = path.read_bytes()
    assert fingerprint_bytes(data, where=name) == fingerprint_file(path)
    other = "cd" * 32
    assert fingerprint_bytes(data, where=name, source_sha256=other) == fingerprint_file(path, source_sha256=other)
    with pytest.raises(InvalidImageError, match="cannot decode") as err:
        fingerprint_bytes(data[: len(data) // 3], where=f"images/{name}")
    assert err.value.path == f"images/{name}"  # the file is named as the caller knows it


def test_large_jpeg_is_decoded_reduced_and_hashes_close_to_full_decode(tmp_path):
    a = scene(np.random.default_rng(5), 1200, 1600)
    path = _save(tmp_path / "big.jpg", a, quality=92)
    full = np.asarray(Image.open(path).convert("RGB"))
    reduced, exact = fingerprint_file(path), perceptual_hashes(full)
    assert sorted(k for k in reduced if k.startswith("grid")) == ["grid2", "grid4"]
    assert _distance(reduced["phash"], exact["phash"]) <= 4
    assert _distance(reduced["dhash"], exact["dhash"]) <= 4


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda p: p, "missing"),  # missing file
        (lambda p: (p.mkdir(), p)[1], "cannot read"),  # a folder
        (lambda p: (p.write_bytes(b"not an image at all"), p)[1], "cannot decode"),
    ],
)
def test_fingerprint_file_errors(tmp_path, make, match):
    with pytest.raises(InvalidImageError, match=match):
        fingerprint_file(make(tmp_path / "x.png"))


def test_truncated_jpeg_is_an_invalid_image(tmp_path):
    buf = io.BytesIO()
    Image.fromarray(scene(np.random.default_rng(6), 64, 64)).save(buf, format="JPEG")
    path = tmp_path / "t.jpg"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 3])
    with pytest.raises(InvalidImageError):
        fingerprint_file(path)


@pytest.mark.parametrize(
    "stored, expectation",
    [
        ({"v": RECIPE, "sha256": "aa"}, does_not_raise()),  # flat image: no perceptual hash
        ({"v": "0", "sha256": "aa"}, pytest.raises(ValueError, match="recipe")),  # another recipe
        ({"v": RECIPE, "sha256": "aa", "grid2": "ab"}, pytest.raises(ValueError, match="grid2 must hold 4 cells")),
        ({"v": RECIPE, "sha256": "aa", "phash": "zz", "dhash": "00"}, pytest.raises(ValueError)),  # not hex
    ],
)
def test_fingerprint_parsing(stored, expectation):
    with expectation:
        Fingerprint.from_dict(stored)


def test_parsed_fingerprint_round_trip():
    a = scene(np.random.default_rng(7), 128, 128)
    a[:32, :32] = 90  # one flat 4x4 cell
    stored = fingerprint_pixels(a, sha256="s1", source_sha256="src")
    fp = Fingerprint.from_dict(stored)
    assert fp.exact == ("s1", "src")
    assert fp.phash == int(stored["phash"], 16) and fp.dhash == int(stored["dhash"], 16)
    assert len(fp.cells) == 4 + 15  # the flat cell is left out
    assert (4, 0) not in {(g, i) for g, i, _, _ in fp.cells}
    g, i, ph, dh = fp.cells[-1]
    assert (g, i) == (4, 15) and f"{ph:016x}{dh:016x}" == stored["grid4"][-32:]
