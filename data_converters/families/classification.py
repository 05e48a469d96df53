"""Family base for scene-classification datasets laid out as one folder per class.

Layout read::

    <root>/[<image_dir>/]<class folder>/<image file>

Folder names may use underscores or spaces (mirrors differ: ``baseball_diamond`` vs ``baseball diamond``); both map
to the canonical class of :attr:`Converter.classes` through :func:`normalise_class`, and spellings that normalising
cannot reach (``footballField`` → ``football_field``) through the explicit :attr:`class_aliases` table. Splits come
from list files when the dataset has them (:attr:`split_files`), otherwise from :func:`stable_split`, a seeded hash of
:meth:`split_key` (by default the image's relative path) that does not move an image when other files are added or
removed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import ClassVar

from data_converters.base import Converter, safe_key
from ts_instruct.errors import DatasetNotFoundError, InvalidImageError
from ts_instruct.imageio import read_rgb
from ts_instruct.sample import Annotations, ImageRef, Sample, SampleMeta, Skip

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp")


def normalise_class(name: str) -> str:
    """Canonical class key of a folder or label: lower case, spaces and hyphens as underscores.

    >>> normalise_class("Baseball Diamond")
    'baseball_diamond'
    """
    return "_".join(name.strip().lower().replace("-", " ").split())


def stable_split(key: str, fractions: dict[str, float], *, salt: str = "terrasense-split-v1") -> str:
    """Assign ``key`` to a split by a hash, stable under additions and removals of other keys.

    ``fractions`` maps split → share (summing to 1); the order of the dict fixes the cumulative bins.

    >>> stable_split("airplane/airplane_001.jpg", {"train": 0.6, "val": 0.2, "test": 0.2})
    'val'
    """
    h = int.from_bytes(hashlib.sha256(f"{salt}\x1f{key}".encode()).digest()[:8], "big") / 2**64
    acc = 0.0
    last = next(reversed(fractions))
    for split, share in fractions.items():
        acc += share
        if h < acc:
            return split
    return last


class ClassificationFolderConverter(Converter):
    """One folder per class; the class comes from the folder, never from the file name.

    Subclasses set :attr:`image_dirs` (candidate folders under root holding the class folders, first existing
    wins), :attr:`classes`, and either :attr:`split_files` or :attr:`split_fractions`.
    """

    family = "classification"
    default_tasks = ("scene_open", "scene_choice")
    image_dirs: ClassVar[tuple[str, ...]] = (".",)
    #: split → candidate list files (relative to root), one bare file name per line
    split_files: ClassVar[dict[str, tuple[str, ...]]] = {}
    #: used when no split file exists: split → share of images
    split_fractions: ClassVar[dict[str, float]] = {"train": 0.6, "val": 0.2, "test": 0.2}
    #: normalised raw folder name → canonical class, for spellings :func:`normalise_class` does not map
    class_aliases: ClassVar[dict[str, str]] = {}

    def class_of(self, folder: str) -> str | None:
        """Canonical class of a class folder name, or ``None`` when it is not one of :attr:`classes`."""
        key = normalise_class(folder)
        key = self.class_aliases.get(key, key)
        known = {normalise_class(c): c for c in self.classes}
        if not self.classes:
            return key
        return known.get(key)

    def split_key(self, path: Path) -> str:
        """What :func:`stable_split` hashes for an image (default: its path relative to the root)."""
        return self.rel(path)

    def sample_key(self, unit: str) -> str:
        """The sample key of an image (default: its file stem, unique when names carry their class)."""
        return safe_key(Path(unit).stem)

    def image_dir(self) -> Path:
        """The folder holding the class folders."""
        return self.require(*self.image_dirs)

    def _all_images(self) -> list[Path]:
        base = self.image_dir()
        files = [
            p
            for d in sorted(base.iterdir())
            if d.is_dir()
            for p in sorted(d.iterdir())
            if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
        ]
        if not files:
            raise DatasetNotFoundError(self.name, self.root, f"class folders with images under {self.rel(base)!r}")
        return files

    def _split_list(self, split: str) -> set[str] | None:
        for rel in self.split_files.get(split, ()):
            p = self.root / rel
            if p.is_file():
                names = p.read_text(encoding="utf-8").split()
                return {normalise_class(Path(n).stem) for n in names}
        if any((self.root / r).is_file() for rels in self.split_files.values() for r in rels):
            return set()  # split files exist, but not for this split
        return None

    def units(self, split: str) -> Sequence[str]:
        """Relative paths of the split's images, sorted."""
        self.check_split(split)
        files = self._all_images()
        members = self._split_list(split)
        if members is not None:
            return [self.rel(p) for p in files if normalise_class(p.stem) in members]
        return [self.rel(p) for p in files if stable_split(self.split_key(p), self.split_fractions) == split]

    def read(self, split: str, unit: str) -> Iterator[Sample | Skip]:
        """One image → one sample whose scene label is its folder's class."""
        path = self.root / unit
        label = self.class_of(path.parent.name)
        if label is None:
            yield Skip(unit, f"folder {path.parent.name!r} is not one of the {len(self.classes)} known classes")
            return
        try:
            pixels = read_rgb(path)
        except InvalidImageError as e:
            yield Skip(unit, e.reason, key=self.sample_key(unit))
            return
        h, w = pixels.shape[:2]
        # JPEG/PNG sources are copied unchanged by the writer; others (TIFF) are re-encoded from these pixels
        keep = None if path.suffix.lower() in (".jpg", ".jpeg", ".png") else pixels
        yield Sample(
            key=self.sample_key(unit),
            images=[ImageRef(source=unit, width=w, height=h, source_size=(w, h), pixels=keep)],
            annotations=Annotations(scene=label, classes=list(self.classes)),
            meta=SampleMeta(dataset=self.name, split=split, version=self.version, license=self.license),
        )
