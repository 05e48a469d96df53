"""Image fingerprints: an exact content hash, the source file's hash, and perceptual hashes robust to re-encoding.

Every emitted image carries one in ``meta.images[i].fingerprint`` (a flat ``dict[str, str]``)::

    {"v": "1",                        # recipe version: fingerprints of different recipes are never compared
     "sha256": "9f86d0...",           # SHA-256 of the emitted file's bytes (exact copies)
     "source_sha256": "2c26b4...",    # SHA-256 of the raw source file (a tile's scene); absent when = sha256
     "phash": "c3d2a1b0f0e1d2c3",     # imagehash.phash, 64 bits as 16 hex digits (DCT of a 32x32 grey thumbnail)
     "dhash": "0f1e2d3c4b5a6978",     # imagehash.dhash, 64 bits (signs of horizontal gradients, 9x8 thumbnail)
     "grid2": "<4 x 32 hex>",         # phash + dhash of each cell of a 2x2 grid, row-major ("-" x 32: flat cell)
     "grid4": "<16 x 32 hex>"}        # the same for a 4x4 grid

What each part catches (matched by :mod:`ts_instruct.leakage`):

* ``sha256`` / ``source_sha256``: byte-identical files, and every tile of the same raw scene (a tile of a 4000 px
  DOTA scene shares ``source_sha256`` with every other tile and with a whole-scene copy of the same file).
* ``phash`` + ``dhash``: the same picture re-encoded (JPEG, PNG), rescaled, converted to grayscale (hashes are
  computed on luma, so a grey copy hashes like its colour original) or cropped by a few percent. Both hashes must be
  within their Hamming thresholds, which keeps unrelated images apart far better than either alone.
* ``grid2``/``grid4``: one image being a grid-aligned tile of the other (LEVIR-MCI's 256 px pairs are the 4x4 cells
  of LEVIR-CD's 1024 px scenes). A grid is hashed only when its cells are at least :data:`MIN_CELL` pixels.

What a perceptual hash cannot do: match a tile against a scene at an arbitrary offset and scale. A 1024 px tile of a
4000 px scene hashes nothing like the scene, and a tile cut on another grid (DOTA's 824 px stride) matches no grid
cell. Such overlaps are found only through ``source_sha256`` (the same raw file on both sides); a re-encoded copy of
a scene that is then tiled on another grid is not found. A perceptual hash of the whole scene is not stored with its
tiles: it would cost a second decode of every scene (the converter hands the writer tiles, not the scene) and would
match nothing but another whole copy of the scene, which is rare among public datasets.

Images with almost no detail (calm water, haze, smooth synthetic gradients) have unstable perceptual hashes: an
exact-flat image or cell gets none (only the SHA-256s), and near-flat ones are both missed and confused more often
than textured ones (measured in ``benchmarks/bench_leakage.py``).

Hashes are deterministic: the same pixels give the same strings on one installation (Pillow's resampling is
integer arithmetic; the DCT is floating point, so a coefficient exactly at the median could in principle flip on
another platform).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import imagehash
import numpy as np
import scipy.fftpack
from PIL import Image

from ts_instruct.errors import InvalidImageError
from ts_instruct.imageio import MAX_IMAGE_PIXELS

#: Version of the recipe below; bump it whenever a change would alter any hash.
RECIPE = "1"
#: Grids whose cells are hashed (``grid2``, ``grid4``).
GRIDS = (2, 4)
#: Smallest cell side, in pixels of the image, for a grid to be hashed (phash looks at a 32x32 thumbnail).
MIN_CELL = 32
#: Images are first reduced to this shorter side (area average): bounds the cost, keeps 64 px per 4x4 grid cell.
WORK_SIDE = 256
#: A (cell of an) image whose grey levels have a standard deviation below this is flat: no perceptual hash.
FLAT_STD = 2.0
#: Placeholder of a flat grid cell.
FLAT_CELL = "-" * 32
_CELL = 32  # thumbnail side of one grid cell (phash's own input size)
_BLOCK = 1 << 20


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``.

    >>> sha256_bytes(b"abc")[:16]
    'ba7816bf8f01cfea'
    """
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks.

    Raises:
        InvalidImageError: the file cannot be read.
    """
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            while block := f.read(_BLOCK):
                h.update(block)
    except FileNotFoundError:
        raise InvalidImageError(path, "image file is missing") from None
    except OSError as e:
        raise InvalidImageError(path, f"cannot read file to hash it ({e})") from e
    return h.hexdigest()


def _work_image(image: Image.Image) -> Image.Image:
    """Grey (luma) version of ``image`` with its shorter side reduced to at most :data:`WORK_SIDE` (area average)."""
    grey = image.convert("L")
    short = min(grey.size)
    if short > WORK_SIDE:
        w, h = grey.size
        grey = grey.resize(
            (max(1, round(w * WORK_SIDE / short)), max(1, round(h * WORK_SIDE / short))), Image.Resampling.BOX
        )
    return grey


def _thumbnails(grey: Image.Image, g: int) -> tuple[np.ndarray, np.ndarray]:
    """The phash (32x32) and dhash (9x8) thumbnails of the cells of a ``g`` x ``g`` grid, row-major.

    Area averaging (``Image.BOX``) composes: a cell of the ``g*32`` mosaic is the 32x32 area average of that cell's
    region, which is what the same region cut out as a tile gives on its own. So a grid-aligned tile and the cell
    hash alike.

    Returns:
        ``(g*g, 32, 32)`` and ``(g*g, 8, 9)`` uint8 arrays.
    """
    p = np.asarray(grey.resize((g * _CELL, g * _CELL), Image.Resampling.BOX))
    d = np.asarray(grey.resize((g * 9, g * 8), Image.Resampling.BOX))
    cells_p = p.reshape(g, _CELL, g, _CELL).transpose(0, 2, 1, 3).reshape(g * g, _CELL, _CELL)
    cells_d = d.reshape(g, 8, g, 9).transpose(0, 2, 1, 3).reshape(g * g, 8, 9)
    return cells_p, cells_d


def _hex_rows(bits: np.ndarray) -> list[str]:
    """Rows of a boolean ``(N, 64)`` array as 16 hex digits each, first bit most significant (imagehash's form)."""
    return [row.tobytes().hex() for row in np.packbits(bits, axis=1)]


def _hash_pair(thumb: np.ndarray, small: np.ndarray) -> str:
    """``imagehash.phash`` of a 32x32 thumbnail + ``imagehash.dhash`` of a 9x8 one (32 hex digits).

    Given images of exactly those sizes, imagehash's own resizing leaves them unchanged.
    """
    return str(imagehash.phash(Image.fromarray(thumb))) + str(imagehash.dhash(Image.fromarray(small)))


def _hash_batch(thumbs: np.ndarray, smalls: np.ndarray) -> list[str]:
    """:func:`_hash_pair` of every pair of thumbnails, vectorised (the 4 + 16 grid cells of every image).

    Args:
        thumbs: ``(N, 32, 32)`` uint8 phash thumbnails.
        smalls: ``(N, 8, 9)`` uint8 dhash thumbnails.

    The steps are imagehash's (phash: DCT-II of columns then rows, top-left 8x8 above their median; dhash: left
    pixel < right pixel) on the whole batch at once, about twenty times faster than a call per cell; the tests check
    the result bit for bit against :func:`_hash_pair`.
    """
    n = len(thumbs)
    dct = scipy.fftpack.dct(scipy.fftpack.dct(thumbs, axis=1), axis=2)[:, :8, :8].reshape(n, 64)
    phash = dct > np.median(dct, axis=1, keepdims=True)
    dhash = (smalls[:, :, 1:] > smalls[:, :, :-1]).reshape(n, 64)
    return [p + d for p, d in zip(_hex_rows(phash), _hex_rows(dhash), strict=True)]


def perceptual_hashes(image: Image.Image | np.ndarray, *, full_size: tuple[int, int] | None = None) -> dict[str, str]:
    """Perceptual part of a fingerprint: ``phash``, ``dhash`` and the grid cells (see the module docstring).

    Each hash is ``imagehash.phash`` of a 32x32 and ``imagehash.dhash`` of a 9x8 area-averaged grey (luma)
    thumbnail, of the whole image or of one grid cell.

    Args:
        image: a Pillow image (any mode) or an array ``(H, W)`` / ``(H, W, 3)`` uint8.
        full_size: ``(width, height)`` of the image at full scale when ``image`` was decoded reduced (which grids
            are hashed depends on the full size).

    Returns:
        ``{"phash", "dhash", "grid2"?, "grid4"?}``; ``phash``/``dhash`` are absent for a flat image, and a grid is
        absent when its cells would be smaller than :data:`MIN_CELL` pixels.

    >>> sorted(perceptual_hashes(np.zeros((64, 64), np.uint8)))  # flat: cells only, every one flat
    ['grid2']
    """
    pil = Image.fromarray(np.ascontiguousarray(image)) if isinstance(image, np.ndarray) else image
    width, height = full_size or pil.size
    work = _work_image(pil)
    out: dict[str, str] = {}
    p, d = _thumbnails(work, 1)
    if p.std() >= FLAT_STD:
        pair = _hash_pair(p[0], d[0])
        out["phash"], out["dhash"] = pair[:16], pair[16:]
    levels = [g for g in GRIDS if min(width, height) // g >= MIN_CELL]
    thumbs, smalls, flats = [], [], []
    for g in levels:
        p, d = _thumbnails(work, g)
        flat = p.reshape(len(p), -1).std(axis=1) < FLAT_STD
        thumbs.append(p[~flat])
        smalls.append(d[~flat])
        flats.append(flat)
    batch = np.concatenate(thumbs) if thumbs else np.zeros((0, _CELL, _CELL), np.uint8)
    hashes = iter(_hash_batch(batch, np.concatenate(smalls)) if len(batch) else [])
    for g, flat in zip(levels, flats, strict=True):
        out[f"grid{g}"] = "".join(FLAT_CELL if f else next(hashes) for f in flat)
    return out


def fingerprint_pixels(pixels: np.ndarray, *, sha256: str, source_sha256: str | None = None) -> dict[str, str]:
    """Fingerprint of an image the caller holds decoded and whose file bytes it has hashed.

    Args:
        pixels: ``(H, W, 3)`` or ``(H, W)`` uint8, the emitted image.
        sha256: SHA-256 of the emitted file's bytes.
        source_sha256: SHA-256 of the raw source file (``None``: unknown, e.g. pixels built from several files);
            stored only when it differs from ``sha256``.

    >>> tile = np.tile(np.arange(64, dtype=np.uint8)[:, None] * 4, (1, 64))  # a vertical gradient, 64 x 64
    >>> sorted(fingerprint_pixels(tile, sha256="ab" * 32, source_sha256="cd" * 32))
    ['dhash', 'grid2', 'phash', 'sha256', 'source_sha256', 'v']
    """
    out = {"v": RECIPE, "sha256": sha256}
    if source_sha256 is not None and source_sha256 != sha256:
        out["source_sha256"] = source_sha256
    out.update(perceptual_hashes(pixels))
    return out


def fingerprint_file(path: str | Path, *, source_sha256: str | None = None) -> dict[str, str]:
    """Fingerprint of an image file (an emitted image copied unchanged, or one found without a fingerprint).

    JPEGs are decoded at a reduced scale when they are much larger than :data:`WORK_SIDE` (libjpeg's DCT-domain
    scaling: several times faster, deterministic).

    Args:
        path: the image file.
        source_sha256: SHA-256 of its raw source, when it differs from the file itself (``None``: the file's own).

    Raises:
        InvalidImageError: the file is missing, over the pixel limit, or not a decodable image.
    """
    return _fingerprint_encoded(path, sha256_file(path), path, source_sha256)


def fingerprint_bytes(data: bytes, *, where: str | Path, source_sha256: str | None = None) -> dict[str, str]:
    """:func:`fingerprint_file` of a file whose bytes the caller already holds (``where`` names it in errors)."""
    return _fingerprint_encoded(io.BytesIO(data), sha256_bytes(data), where, source_sha256)


def _fingerprint_encoded(
    fp: str | Path | io.BytesIO, digest: str, where: str | Path, source_sha256: str | None
) -> dict[str, str]:
    try:
        with Image.open(fp) as im:
            w, h = im.size
            if w * h > MAX_IMAGE_PIXELS:
                raise InvalidImageError(where, f"declares {w}x{h} pixels, over the limit of {MAX_IMAGE_PIXELS}")
            if im.format == "JPEG":  # decode luma only, at the smallest DCT scale that keeps WORK_SIDE
                k = max(1.0, min(w, h) / WORK_SIDE)
                im.draft("L", (int(w / k), int(h / k)))
            im.load()
            hashes = perceptual_hashes(im, full_size=(w, h))
    except InvalidImageError:
        raise
    except FileNotFoundError:
        raise InvalidImageError(where, "image file is missing") from None
    except (OSError, ValueError, SyntaxError) as e:
        raise InvalidImageError(where, f"cannot decode image to fingerprint it ({e})") from e
    out = {"v": RECIPE, "sha256": digest}
    if source_sha256 is not None and source_sha256 != digest:
        out["source_sha256"] = source_sha256
    out.update(hashes)
    return out


@dataclass(frozen=True)
class Fingerprint:
    """A parsed fingerprint: hashes as integers, ready for Hamming distances.

    Attributes:
        exact: the content ids (``sha256`` and ``source_sha256``) as hex strings.
        sha256: hash of the emitted file.
        phash: 64-bit phash, or ``None`` for a flat image.
        dhash: 64-bit dhash, or ``None`` for a flat image.
        cells: ``(grid, index, phash, dhash)`` of every non-flat grid cell, ``index`` row-major.
    """

    sha256: str
    exact: tuple[str, ...]
    phash: int | None
    dhash: int | None
    cells: tuple[tuple[int, int, int, int], ...] = ()

    @classmethod
    def from_dict(cls, d: dict[str, str]) -> Fingerprint:
        """Parse the stored form.

        Raises:
            ValueError: the recipe version differs from :data:`RECIPE` or a field is malformed (re-convert, or
                delete the fingerprints so they are computed again from the images).
        """
        if d.get("v") != RECIPE:
            raise ValueError(f"fingerprint recipe must be {RECIPE!r}, got {d.get('v')!r}; re-convert the dataset")
        sha = d["sha256"]
        exact = tuple(dict.fromkeys(v for v in (sha, d.get("source_sha256")) if v))
        ph = int(d["phash"], 16) if "phash" in d else None
        dh = int(d["dhash"], 16) if "dhash" in d else None
        cells = []
        for g in GRIDS:
            text = d.get(f"grid{g}")
            if text is None:
                continue
            if len(text) != g * g * 32:
                raise ValueError(f"grid{g} must hold {g * g} cells of 32 hex digits, got {len(text)} characters")
            for i in range(g * g):
                part = text[i * 32 : (i + 1) * 32]
                if part != FLAT_CELL:
                    cells.append((g, i, int(part[:16], 16), int(part[16:], 16)))
        return cls(sha256=sha, exact=exact, phash=ph, dhash=dh, cells=tuple(cells))
