"""One exception hierarchy for the whole toolkit.

Every error TerraSense raises on purpose derives from :class:`TerraSenseError`, so a caller (and the CLI) can
catch the family in one place and print a one-line cause. Messages say what was expected, what was found, where
(file, line, field) and how to fix it.
"""

from __future__ import annotations

from pathlib import Path


class TerraSenseError(Exception):
    """Base of every error raised on purpose by TerraSense."""


class DatasetNotFoundError(TerraSenseError, FileNotFoundError):
    """The raw dataset is not where the user said it is.

    Args:
        name: converter name, e.g. ``"nwpu_resisc45"``.
        root: the ``--root`` the user passed.
        expected: what was looked for (a file or folder relative to ``root``).
    """

    def __init__(self, name: str, root: str | Path, expected: str) -> None:
        self.name = name
        self.root = str(root)
        self.expected = expected
        super().__init__(
            f"dataset {name!r} not found in root={str(root)!r}: expected {expected}; "
            f"pass a different --root (run `terrasense list` to see the layout each converter reads)"
        )


class InvalidAnnotationError(TerraSenseError, ValueError):
    """A raw annotation could not be parsed.

    Args:
        path: the annotation file.
        line: 1-based line number, or ``None`` when the file is not line-oriented.
        field: the field that failed (e.g. ``"difficult"``, ``"x3"``, ``"split"``).
        reason: what was wrong, with the offending value.
    """

    def __init__(self, path: str | Path, reason: str, *, line: int | None = None, field: str | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        self.reason = reason
        where = self.path + (f":{line}" if line is not None else "")
        what = f"field {field!r}: " if field else ""
        super().__init__(f"{where}: {what}{reason}")


class InvalidImageError(TerraSenseError, ValueError):
    """An image is missing, truncated, undecodable, too large or of the wrong size."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class GeometryError(TerraSenseError, ValueError):
    """A geometry is degenerate, of the wrong shape, or cannot be converted."""


class RenderParseError(TerraSenseError, ValueError):
    """Model text could not be read back into geometry (raised only by strict parsing)."""


class RecordValidationError(TerraSenseError, ValueError):
    """A TS-Instruct record breaks the contract (schema, images, geometry, re-parse)."""


class ConfigError(TerraSenseError, ValueError):
    """A user option or configuration file is invalid or inconsistent."""


class UnknownConverterError(TerraSenseError, ValueError):
    """A converter name is not registered (or registered twice)."""


class StrictModeError(TerraSenseError):
    """``--strict`` was given and a sample had to be skipped."""


class InvalidVideoError(InvalidImageError):
    """A video is missing, truncated or cannot be decoded (a subclass of InvalidImageError: both are media)."""
