"""The converter contract, shared by all 21 dataset modules.

A converter reads one raw dataset exactly as it lies on disk after download and yields canonical
:class:`~ts_instruct.sample.Sample` objects. It knows nothing of prompts, render styles or output files.

Work is cut into *units* (usually one source file: an image, a scene, a pair), listed by :meth:`Converter.units` in a
fixed sorted order. :meth:`Converter.read` turns one unit into samples and :class:`~ts_instruct.sample.Skip` reports.
The pipeline distributes units over worker processes and writes results in unit order, so the output does not
depend on scheduling; a converter must therefore be picklable (plain attributes only) and :meth:`read` must depend
on nothing but the unit.

Bad input never stops a conversion: :meth:`read` yields a ``Skip`` naming the file, line and reason, and yields
every valid sample it can (a malformed line drops that object only, reported with ``kept=True``). ``--strict`` makes
the pipeline fail on the first skip instead.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

from ts_instruct.errors import ConfigError, DatasetNotFoundError, InvalidAnnotationError, InvalidImageError
from ts_instruct.sample import Family, Sample, Skip

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_key(text: str) -> str:
    """A file-name-safe key: path separators become ``__``, other unsafe characters ``_``.

    >>> safe_key("baseball diamond/baseball diamond_001.jpg")
    'baseball_diamond__baseball_diamond_001.jpg'
    """
    return "__".join(_UNSAFE.sub("_", part).strip("_") or "_" for part in PurePosixPath(text).parts)


class Converter(ABC):
    """Base class of every dataset converter.

    Subclasses set the class constants below (shown by ``terrasense list`` and the README catalogue) and implement
    :meth:`units` and :meth:`read`.

    Args:
        root: the folder the user extracted the dataset into.
        version: one of :attr:`versions` (``None`` picks the first).
        options: converter-specific options (see each class's :attr:`option_defaults`); unknown names raise.
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    family: ClassVar[Family]
    splits: ClassVar[tuple[str, ...]] = ("train", "val", "test")
    versions: ClassVar[tuple[str, ...]] = ("default",)
    classes: ClassVar[tuple[str, ...]] = ()
    license: ClassVar[str] = "unknown: check the dataset page before use"
    homepage: ClassVar[str] = ""
    layout: ClassVar[str] = ""
    default_tasks: ClassVar[tuple[str, ...]] = ()
    option_defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, root: str | Path, *, version: str | None = None, **options: Any) -> None:
        self.root = Path(root)
        if version is None:
            version = self.versions[0]
        if version not in self.versions:
            raise ConfigError(f"{self.name}: version must be one of {list(self.versions)}, got {version!r}")
        self.version = version
        unknown = sorted(set(options) - set(self.option_defaults))
        if unknown:
            raise ConfigError(
                f"{self.name}: unknown option(s) {unknown}; valid options: {sorted(self.option_defaults) or 'none'}"
            )
        self.options: dict[str, Any] = {**self.option_defaults, **options}

    # -- to implement -------------------------------------------------------------------------------------------
    @abstractmethod
    def units(self, split: str) -> Sequence[str]:
        """The units of work of one split, as stable strings in a fixed (sorted) order.

        Raises:
            DatasetNotFoundError: the split's files are not under :attr:`root`.
        """

    @abstractmethod
    def read(self, split: str, unit: str) -> Iterator[Sample | Skip]:
        """Convert one unit into samples (and skip reports). Must not raise for bad input: yield a Skip."""

    def list_problems(self, split: str) -> Iterator[Skip]:
        """Problems found while listing a split's units that no unit can report (default: none).

        A split list naming an image that does not exist, or a list line that is not a file name, belongs to no
        unit; a converter reports it here (file and line) and the pipeline adds it to the split's skips once.
        Must not raise for bad input, and must depend on nothing but the split.
        """
        return iter(())

    # -- shared behaviour ---------------------------------------------------------------------------------------
    def available_splits(self) -> list[str]:
        """Splits whose files exist under :attr:`root` (default: those with at least one unit).

        A split whose listing fails on a broken file (an index JSON that does not parse) is available: the
        conversion reports the failure for that split instead of leaving it out silently.
        """
        out = []
        for split in self.splits:
            try:
                if self.units(split):
                    out.append(split)
            except DatasetNotFoundError:
                continue
            except (InvalidAnnotationError, InvalidImageError):
                out.append(split)
        return out

    def check_split(self, split: str) -> None:
        """Raise ConfigError for a split this dataset does not have."""
        if split not in self.splits:
            raise ConfigError(f"{self.name}: split must be one of {list(self.splits)}, got {split!r}")

    def require(self, *relative: str) -> Path:
        """Return the first of ``relative`` (paths under root) that exists.

        Raises:
            DatasetNotFoundError: none exists; the message lists them and how to fix ``--root``.
        """
        for rel in relative:
            p = self.root / rel
            if p.exists():
                return p
        raise DatasetNotFoundError(self.name, self.root, " or ".join(repr(r) for r in relative))

    def rel(self, path: Path) -> str:
        """``path`` relative to the root, POSIX style (as stored in ``ImageRef.source`` and skip reports)."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def inside_root(self, base: Path, relative: str, *, where: str, line: int | None = None) -> Path:
        """Resolve a path named inside an annotation file and refuse one that escapes the dataset root.

        Raises:
            InvalidAnnotationError: ``relative`` is absolute or climbs out of :attr:`root` with ``..``.
        """
        candidate = (base / relative).resolve()
        root = self.root.resolve()
        if candidate != root and root not in candidate.parents:
            raise InvalidAnnotationError(
                where, f"path {relative!r} points outside the dataset root; refusing to read it", line=line
            )
        return candidate

    def load_json(self, path: Path, *, object_hook: Callable[[dict[str, Any]], Any] | None = None) -> Any:
        """Parse an annotation JSON file.

        Raises:
            InvalidAnnotationError: the file is not valid JSON (naming its line and column) or not UTF-8 text.
        """
        where = self.rel(path)
        try:
            with open(path, encoding="utf-8") as fh:
                return json.load(fh, object_hook=object_hook)
        except json.JSONDecodeError as e:
            raise InvalidAnnotationError(
                where, f"not valid JSON ({e.msg}, column {e.colno}); re-download or re-extract the file", line=e.lineno
            ) from e
        except UnicodeDecodeError as e:
            raise InvalidAnnotationError(where, f"not UTF-8 text ({e.reason} at byte {e.start})") from e

    @classmethod
    def describe(cls) -> dict[str, Any]:
        """Facts shown by ``terrasense list``."""
        return {
            "name": cls.name,
            "title": cls.title,
            "family": cls.family,
            "splits": list(cls.splits),
            "versions": list(cls.versions),
            "classes": len(cls.classes),
            "license": cls.license,
            "homepage": cls.homepage,
            "layout": cls.layout,
            "tasks": list(cls.default_tasks),
        }
