"""Keep evaluation images out of training: match every training image against every held-out image, and report.

Public RS datasets share imagery (the README's "Known overlaps"): DIOR-RSVG is built on DIOR images, LEVIR-MCI cuts
its pairs from LEVIR-CD's scenes, Sydney-Captions is Sydney. A mixture that trains on one dataset's train split can
therefore hold another dataset's test images. :class:`LeakageGuard` finds them from the fingerprints the writer
stores with every image (:mod:`ts_instruct.fingerprint`).

Use (``terrasense mix`` does this)::

    guard = LeakageGuard(LeakageOptions())
    for record in evaluation_and_held_out_records:
        guard.add_reference(record, where, label="dior/test", dataset_dir=...)
    for record in training_records:
        if guard.admit(record, where, label="dior_rsvg/train", dataset_dir=...):
            write(record)
    report = guard.report()

A training image *leaks* when, for some reference image (the thresholds are :class:`Thresholds`):

* ``exact``: both files have the same SHA-256;
* ``same_source``: they come from the same raw file (a tile and another tile or copy of its scene);
* ``near_duplicate``: phash and dhash are both within their Hamming thresholds (re-encoded, rescaled, grey);
* ``crop_of_reference``: the training image matches one grid cell of the reference (it is a tile of it);
* ``reference_is_crop``: one grid cell of the training image matches the reference.

Every image of a record is checked (both images of a change pair). A leaking record is dropped, unless
:attr:`LeakageOptions.allow` keeps it; it is reported either way. Evaluation splits are indexed in full, whatever
their mixture weight: the benchmark is the whole split.

Inside the training set, an image matching an *earlier* training image under another path (exactly or as a
near-duplicate, not by tile or scene) is a duplicate; a record all of whose images are duplicates is reported, and
dropped with :attr:`LeakageOptions.collapse_duplicates`. The first occurrence is kept, so the result depends on the
order of the mixture's entries, which is fixed.

Images without a fingerprint (converted with ``--no-fingerprints``, or another recipe) are hashed from their files
here, once per file; their source-scene identity is then unknown.

Matching uses :class:`~ts_instruct.hamming.HammingIndex` (multi-index hashing), so the cost grows with the number of
images, not with the number of pairs; ``benchmarks/bench_leakage.py`` measures it against brute force and measures
the false-positive rate on unrelated images.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ts_instruct.errors import InvalidImageError, RecordValidationError
from ts_instruct.fingerprint import RECIPE, Fingerprint, fingerprint_file
from ts_instruct.image_index import KINDS, ImageInfo, Match, ReferenceIndex, Thresholds, TrainIndex


@dataclass(frozen=True)
class LeakageOptions:
    """What to do with what the guard finds.

    Attributes:
        allow: keep leaking training records (``--allow-leakage``); they are reported all the same.
        collapse_duplicates: drop training records whose images all duplicate earlier training images.
        thresholds: Hamming thresholds of the perceptual hashes.
        examples: how many examples of each finding the report lists.
    """

    allow: bool = False
    collapse_duplicates: bool = False
    thresholds: Thresholds = field(default_factory=Thresholds)
    examples: int = 20


@dataclass
class _PairCounts:
    records: int = 0
    images: int = 0
    kinds: Counter[str] = field(default_factory=Counter)


@dataclass
class _Verdict:
    leaks: list[tuple[int, Match]]  # (image position in the record, match)
    duplicate_of: list[tuple[int, int, int | None, int | None]] | None  # per image: (position, earlier image, dists)


class LeakageGuard:
    """Checks training records against held-out images and collects the leakage report (module docstring).

    Args:
        options: policy and thresholds.
    """

    def __init__(self, options: LeakageOptions | None = None) -> None:
        self.options = options or LeakageOptions()
        self.reference = ReferenceIndex(self.options.thresholds)
        self._train = TrainIndex(self.options.thresholds)
        self._frozen = False
        self._hashed_here = Counter[str]()
        self._ref_records = Counter[str]()
        self._ref_images = Counter[str]()
        self._train_records = Counter[str]()
        self._train_seen: dict[str, int] = {}
        self._verdicts: dict[tuple[str, ...], _Verdict] = {}
        self._leaks: dict[tuple[str, str], _PairCounts] = {}
        self._dups: dict[tuple[str, str], _PairCounts] = {}
        self._leak_examples: list[dict[str, Any]] = []
        self._dup_examples: list[dict[str, Any]] = []
        self._dropped = Counter[str]()
        self._collapsed = Counter[str]()

    # -- inputs ---------------------------------------------------------------------------------------------------
    def add_reference(self, record: Mapping[str, Any], where: str, *, label: str, dataset_dir: Path) -> None:
        """Index the images of one evaluation or held-out record (``label``: ``"dataset/split"``).

        Raises:
            RuntimeError: called after the first :meth:`admit`.
            InvalidImageError: an image has no fingerprint and its file cannot be read.
        """
        if self._frozen:
            raise RuntimeError("add every reference record before the first admit()")
        self._ref_records[label] += 1
        for i, (key, rel) in enumerate(self._paths(record, dataset_dir)):
            if not self.reference.has(key):
                fp = self._fingerprint(record, where, i, key, rel, label)
                self.reference.add(key, ImageInfo(label, rel, str(record.get("id"))), fp)
                self._ref_images[label] += 1

    def admit(self, record: Mapping[str, Any], where: str, *, label: str, dataset_dir: Path) -> bool:
        """Check one training record; False when it must be left out of the mixture.

        Raises:
            InvalidImageError: an image has no fingerprint and its file cannot be read.
        """
        if not self._frozen:
            self.reference.freeze()
            self._frozen = True
        self._train_records[label] += 1
        images = self._paths(record, dataset_dir)
        key = tuple(k for k, _ in images)
        verdict = self._verdicts.get(key)  # the records of one sample share their images: checked once
        first = verdict is None
        if verdict is None:
            fps = [self._fingerprint(record, where, i, k, rel, label) for i, (k, rel) in enumerate(images)]
            verdict = self._check(record, label, images, fps)
            self._verdicts[key] = verdict
        if verdict.leaks:
            self._count_leak(record, label, images, verdict, first)
            if not self.options.allow:
                self._dropped[label] += 1
                return False
            return True
        if verdict.duplicate_of is not None:
            self._count_duplicate(record, label, images, verdict.duplicate_of, first)
            if self.options.collapse_duplicates:
                self._collapsed[label] += 1
                return False
        return True

    # -- internals ------------------------------------------------------------------------------------------------
    @staticmethod
    def _paths(record: Mapping[str, Any], dataset_dir: Path) -> list[tuple[str, str]]:
        """``(absolute path, path as the record names it)`` of each image of the record."""
        return [(os.path.abspath(dataset_dir / str(p)), str(p)) for p in record.get("images") or []]

    def _fingerprint(
        self, record: Mapping[str, Any], where: str, i: int, key: str, rel: str, label: str
    ) -> Fingerprint:
        """The stored fingerprint of image ``i``, or one computed from its file (counted in ``hashed_now``)."""
        metas = (record.get("meta") or {}).get("images") or []
        stored = metas[i].get("fingerprint") if i < len(metas) and isinstance(metas[i], dict) else None
        if isinstance(stored, dict) and stored.get("v") == RECIPE:
            try:
                return Fingerprint.from_dict(stored)
            except (KeyError, ValueError) as e:
                raise RecordValidationError(
                    f"{where}: meta.images[{i}].fingerprint of {rel!r} is malformed ({e}); re-convert the "
                    "dataset, or delete the fingerprints to have them computed from the images"
                ) from e
        if not os.path.isfile(key):
            raise InvalidImageError(key, f"named by {where} but missing; re-convert or restore the file")
        self._hashed_here[label] += 1
        return Fingerprint.from_dict(fingerprint_file(key))

    def _check(
        self, record: Mapping[str, Any], label: str, images: list[tuple[str, str]], fps: list[Fingerprint]
    ) -> _Verdict:
        leaks = [(pos, m) for pos, fp in enumerate(fps) for m in self.reference.match(fp)]
        duplicate_of: list[tuple[int, int, int | None, int | None]] | None = None
        new = [
            (pos, key, rel, fp)
            for pos, ((key, rel), fp) in enumerate(zip(images, fps, strict=True))
            if key not in self._train_seen
        ]
        if new and len(new) == len(images):  # a record is a duplicate only when none of its images was seen as such
            found = [(pos, self._train.find(fp)) for pos, _, _, fp in new]
            if all(f is not None for _, f in found):
                duplicate_of = [(pos, *f) for pos, f in found if f is not None]
        for _, key, rel, fp in new:
            self._train_seen[key] = len(self._train.images)
            self._train.add(ImageInfo(label, rel, str(record.get("id"))), fp)
        return _Verdict(leaks, duplicate_of)

    def _count_leak(
        self,
        record: Mapping[str, Any],
        label: str,
        images: list[tuple[str, str]],
        verdict: _Verdict,
        first: bool,
    ) -> None:
        by_ref_label: dict[str, list[tuple[int, Match]]] = {}
        for pos, m in verdict.leaks:
            by_ref_label.setdefault(self.reference.images[m.reference].label, []).append((pos, m))
        for ref_label, found in sorted(by_ref_label.items()):
            counts = self._leaks.setdefault((label, ref_label), _PairCounts())
            counts.records += 1
            if first:
                counts.images += len({pos for pos, _ in found})
                counts.kinds.update(m.kind for _, m in found)
        if first and len(self._leak_examples) < self.options.examples:
            pos, m = verdict.leaks[0]
            ref = self.reference.images[m.reference]
            self._leak_examples.append(
                {
                    "train": label,
                    "record": str(record.get("id")),
                    "image": images[pos][1],
                    "reference": ref.label,
                    "reference_record": ref.record,
                    "reference_image": ref.path,
                    "kind": m.kind,
                    "phash_distance": m.phash,
                    "dhash_distance": m.dhash,
                    "cell": m.cell,
                }
            )

    def _count_duplicate(
        self,
        record: Mapping[str, Any],
        label: str,
        images: list[tuple[str, str]],
        duplicate_of: list[tuple[int, int, int | None, int | None]],
        first: bool,
    ) -> None:
        pos, earlier, dp, dh = duplicate_of[0]
        other = self._train.images[earlier]
        counts = self._dups.setdefault((label, other.label), _PairCounts())
        counts.records += 1
        if first:
            counts.images += len(duplicate_of)
            counts.kinds.update("exact" if d[2] is None else "near_duplicate" for d in duplicate_of)
            if len(self._dup_examples) < self.options.examples:
                self._dup_examples.append(
                    {
                        "train": label,
                        "record": str(record.get("id")),
                        "image": images[pos][1],
                        "earlier": other.label,
                        "earlier_record": other.record,
                        "earlier_image": other.path,
                        "kind": "exact" if dp is None else "near_duplicate",
                        "phash_distance": dp,
                        "dhash_distance": dh,
                    }
                )

    # -- output ---------------------------------------------------------------------------------------------------
    @property
    def dropped(self) -> int:
        """Training records left out because they leak."""
        return sum(self._dropped.values())

    @property
    def collapsed(self) -> int:
        """Training records left out as duplicates of earlier ones."""
        return sum(self._collapsed.values())

    def report(self) -> dict[str, Any]:
        """The leakage report (``leakage_report.json``): plain JSON types, deterministic order."""

        def pairs(table: dict[tuple[str, str], _PairCounts], other: str) -> list[dict[str, Any]]:
            return [
                {"train": a, other: b, "records": c.records, "images": c.images, "kinds": dict(sorted(c.kinds.items()))}
                for (a, b), c in sorted(table.items())
            ]

        t = self.options.thresholds
        return {
            "policy": "allow (reported, kept)" if self.options.allow else "drop",
            "collapse_duplicates": self.options.collapse_duplicates,
            "recipe": RECIPE,
            "thresholds": {"phash": t.phash, "dhash": t.dhash, "cell": t.cell},
            "reference": {
                label: {"records": n, "images": self._ref_images[label], "hashed_now": self._hashed_here[label]}
                for label, n in sorted(self._ref_records.items())
            },
            "train": {
                label: {
                    "records": n,
                    "dropped": self._dropped[label],
                    "collapsed": self._collapsed[label],
                    "hashed_now": self._hashed_here[label],
                }
                for label, n in sorted(self._train_records.items())
            },
            "leaks": {
                "records": sum(c.records for c in self._leaks.values()),
                "dropped": self.dropped,
                "pairs": pairs(self._leaks, "reference"),
                "examples": self._leak_examples,
            },
            "duplicates": {
                "records": sum(c.records for c in self._dups.values()),
                "collapsed": self.collapsed,
                "pairs": pairs(self._dups, "earlier"),
                "examples": self._dup_examples,
            },
        }

    def summary(self) -> str:
        """One or two lines for the console."""
        rep = self.report()
        lines = []
        leaks = rep["leaks"]
        if leaks["records"]:
            worst = ", ".join(f"{p['train']} ↔ {p['reference']} ({p['records']})" for p in leaks["pairs"][:4])
            verb = "kept (--allow-leakage)" if self.options.allow else "dropped"
            lines.append(f"leakage: {leaks['records']} training records match held-out images, {verb}: {worst}")
        else:
            lines.append(f"leakage: no training image matches any of {len(self.reference)} held-out images")
        dups = rep["duplicates"]
        if dups["records"]:
            verb = "collapsed" if self.options.collapse_duplicates else "kept (--collapse-duplicates drops them)"
            lines.append(f"duplicates: {dups['records']} training records repeat earlier training images, {verb}")
        return "\n".join(lines)


def parse_holdout(text: str) -> tuple[str, str]:
    """``"dior:test"`` → ``("dior", "test")``.

    Raises:
        ValueError: ``text`` is not ``NAME:SPLIT``.

    >>> parse_holdout("levir_cd:test")
    ('levir_cd', 'test')
    """
    name, sep, split = text.rpartition(":")
    if not sep or not name or not split:
        raise ValueError(f"a held-out set must look like NAME:SPLIT (e.g. dior:test), got {text!r}")
    return name, split


def label_of(name: str, split: str) -> str:
    """Report label of one converted split.

    >>> label_of("dior", "test")
    'dior/test'
    """
    return f"{name}/{split}"


__all__: Sequence[str] = (
    "KINDS",
    "LeakageGuard",
    "LeakageOptions",
    "Match",
    "ReferenceIndex",
    "Thresholds",
    "label_of",
    "parse_holdout",
)
