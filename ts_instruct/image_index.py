"""Indexes of image fingerprints for the leakage guard: the held-out images and the training images seen so far.

:class:`ReferenceIndex` answers "which held-out images does this training image match, and how" under the kinds of
:data:`KINDS` (exact bytes, same source scene, near-duplicate, crop either way); :class:`TrainIndex` finds the
earliest training image that one duplicates. Both match Hamming distances of perceptual hashes with
:class:`~ts_instruct.hamming.HammingIndex`, so the cost grows with the number of images, not of pairs. The policy
(what leaks, what is dropped, the report) is :mod:`ts_instruct.leakage`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from ts_instruct.fingerprint import Fingerprint
from ts_instruct.hamming import HammingIndex, popcount64

Kind = Literal["exact", "same_source", "near_duplicate", "crop_of_reference", "reference_is_crop"]
#: Kinds from the strongest evidence to the weakest; one reference image is reported under its strongest kind.
KINDS: tuple[Kind, ...] = ("exact", "same_source", "near_duplicate", "crop_of_reference", "reference_is_crop")


@dataclass(frozen=True)
class Thresholds:
    """Largest Hamming distances (of 64 bits) at which two hashes still match; phash and dhash must both match.

    Attributes:
        phash: whole image against whole image, phash.
        dhash: whole image against whole image, dhash.
        cell: a grid cell against a whole image, both hashes. Stricter, because every image pair is compared 41
            times this way (its 20 cells against the other whole, and the other way round) and a cell holds less
            detail than a whole image.

    The defaults keep re-encoded (JPEG), half-size and grey copies, crops of a few percent and grid-aligned tiles,
    and keep unrelated images apart; ``benchmarks/bench_leakage.py`` prints recall and false-positive rate.
    """

    phash: int = 10
    dhash: int = 10
    cell: int = 8

    def __post_init__(self) -> None:
        for name in ("phash", "dhash", "cell"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 32:
                raise ValueError(f"thresholds.{name} must be an integer in [0, 32), got {value!r}")


@dataclass(frozen=True)
class ImageInfo:
    """One indexed image: where it comes from, for the report."""

    label: str  # "dataset/split"
    path: str  # as the record names it
    record: str  # id of the first record naming it


@dataclass(frozen=True)
class Match:
    """One reference image that a training image leaks into.

    Attributes:
        kind: see the module docstring.
        reference: index of the reference image.
        phash: Hamming distance of the matching phashes (``None`` for exact and source matches).
        dhash: Hamming distance of the matching dhashes.
        cell: which grid cell matched (``"grid4[5]"``, row-major), for the crop kinds.
    """

    kind: Kind
    reference: int
    phash: int | None = None
    dhash: int | None = None
    cell: str | None = None


class ReferenceIndex:
    """The held-out images, indexed for exact, whole-image and grid-cell matching."""

    def __init__(self, thresholds: Thresholds) -> None:
        self.thresholds = thresholds
        self.images: list[ImageInfo] = []
        self._by_path: dict[str, int] = {}
        self._sha: dict[str, list[int]] = {}
        self._ids: dict[str, list[int]] = {}  # sha256 and source_sha256 → images
        self._whole = HammingIndex(thresholds.phash)
        self._whole_ref: list[int] = []
        self._whole_dhash: list[int] = []
        self._cells = HammingIndex(thresholds.cell)
        self._cell_ref: list[int] = []
        self._cell_dhash: list[int] = []
        self._cell_name: list[int] = []  # grid * 100 + cell index

    def __len__(self) -> int:
        return len(self.images)

    def has(self, key: str) -> bool:
        """Whether the image at ``key`` (its absolute path) is indexed."""
        return key in self._by_path

    def add(self, key: str, info: ImageInfo, fp: Fingerprint) -> bool:
        """Index one image under ``key`` (its absolute path); False when that path is already indexed."""
        if key in self._by_path:
            return False
        ref = len(self.images)
        self._by_path[key] = ref
        self.images.append(info)
        self._sha.setdefault(fp.sha256, []).append(ref)
        for content_id in fp.exact:
            self._ids.setdefault(content_id, []).append(ref)
        if fp.phash is not None and fp.dhash is not None:
            self._whole.add(np.array([fp.phash], dtype=np.uint64))
            self._whole_ref.append(ref)
            self._whole_dhash.append(fp.dhash)
        if fp.cells:
            self._cells.add(np.array([c[2] for c in fp.cells], dtype=np.uint64))
            for g, i, _, dh in fp.cells:
                self._cell_ref.append(ref)
                self._cell_dhash.append(dh)
                self._cell_name.append(g * 100 + i)
        return True

    def freeze(self) -> None:
        """Build the search tables (call once all references are added)."""
        self._whole.build()
        self._cells.build()
        self._whole_dhash_arr = np.array(self._whole_dhash, dtype=np.uint64)
        self._cell_dhash_arr = np.array(self._cell_dhash, dtype=np.uint64)

    def match(self, fp: Fingerprint) -> list[Match]:
        """Every reference image ``fp`` leaks into, strongest kind per reference, sorted by reference."""
        found: dict[int, Match] = {}

        def keep(m: Match) -> None:
            old = found.get(m.reference)
            if old is None or KINDS.index(m.kind) < KINDS.index(old.kind):
                found[m.reference] = m

        for ref in self._sha.get(fp.sha256, ()):
            keep(Match("exact", ref))
        for content_id in fp.exact:
            for ref in self._ids.get(content_id, ()):
                keep(Match("same_source", ref))
        td, tc = self.thresholds.dhash, self.thresholds.cell
        if fp.phash is not None and fp.dhash is not None:
            q = np.array([fp.phash], dtype=np.uint64)
            _, ids, dist = self._whole.query(q)
            dd = popcount64(self._whole_dhash_arr[ids] ^ np.uint64(fp.dhash)) if len(ids) else ids
            for i, dp, dh in zip(ids.tolist(), dist.tolist(), np.asarray(dd).tolist(), strict=True):
                if dh <= td:
                    keep(Match("near_duplicate", self._whole_ref[i], dp, dh))
            _, ids, dist = self._cells.query(q)
            dd = popcount64(self._cell_dhash_arr[ids] ^ np.uint64(fp.dhash)) if len(ids) else ids
            for i, dp, dh in zip(ids.tolist(), dist.tolist(), np.asarray(dd).tolist(), strict=True):
                if dh <= tc:
                    g, idx = divmod(self._cell_name[i], 100)
                    keep(Match("crop_of_reference", self._cell_ref[i], dp, dh, f"grid{g}[{idx}]"))
        if fp.cells and len(self._whole):
            q = np.array([c[2] for c in fp.cells], dtype=np.uint64)
            qi, ids, dist = self._whole.query(q)
            for k, i, dp in zip(qi.tolist(), ids.tolist(), dist.tolist(), strict=True):
                g, idx, _, cell_dhash = fp.cells[k]
                dh = (self._whole_dhash[i] ^ cell_dhash).bit_count()
                if dp <= tc and dh <= tc:
                    keep(Match("reference_is_crop", self._whole_ref[i], dp, dh, f"grid{g}[{idx}]"))
        return [found[r] for r in sorted(found)]


class TrainIndex:
    """Training images seen so far, for duplicates inside the training set (exact or whole-image near copies)."""

    def __init__(self, thresholds: Thresholds) -> None:
        self.thresholds = thresholds
        self.images: list[ImageInfo] = []
        self._sha: dict[str, int] = {}
        self._phash = HammingIndex(thresholds.phash)
        self._owner: list[int] = []
        self._dhash: list[int] = []

    def find(self, fp: Fingerprint) -> tuple[int, int | None, int | None] | None:
        """The earliest image ``fp`` duplicates: ``(image, phash distance, dhash distance)``, or None."""
        best: tuple[int, int | None, int | None] | None = None
        if fp.sha256 in self._sha:
            best = (self._sha[fp.sha256], None, None)
        if fp.phash is not None and fp.dhash is not None and len(self._phash):
            _, ids, dist = self._phash.query(np.array([fp.phash], dtype=np.uint64))
            for i, dp in zip(ids.tolist(), dist.tolist(), strict=True):
                dh = (self._dhash[i] ^ fp.dhash).bit_count()
                if dh <= self.thresholds.dhash and (best is None or self._owner[i] < best[0]):
                    best = (self._owner[i], dp, dh)
        return best

    def add(self, info: ImageInfo, fp: Fingerprint) -> None:
        """Index one more training image (its position is the number of images added before it)."""
        image = len(self.images)
        self.images.append(info)
        self._sha.setdefault(fp.sha256, image)
        if fp.phash is not None and fp.dhash is not None:
            self._phash.add(np.array([fp.phash], dtype=np.uint64))
            self._owner.append(image)
            self._dhash.append(fp.dhash)
