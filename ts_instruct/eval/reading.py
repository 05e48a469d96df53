"""Reading one model answer against its TS-Instruct record: class names, options, numbers per class, geometry.

A :class:`Case` pairs a reference record with the model's answer. The helpers here turn free text into the values
the metric functions take, and say when an answer cannot be read (``None``): such answers are scored as wrong.

* Class names (:func:`class_in_text`, :func:`classes_in_text`) are matched on :func:`~ts_instruct.eval.normalize.
  normalize_text` forms, whole words only, longest names first (``"dense residential"`` wins over
  ``"residential"``). An answer naming no known class is unparsed.
* Options (:func:`choice_in_text`): an answer that is only a letter (``"B"``, ``"(b)"``, ``"Option B"``) or starts
  with a capital letter and ``.``/``)``/``:`` (``"B. beach"``), else an option named in the text (``"A beach"`` is
  the option "beach", not option A).
* Geometry (:meth:`Case.geometry`): the record's render style (``meta.render``) parses the answer in the frame of
  the emitted image (``meta.images[i]`` width/height, else the image file's size); an answer with no geometry is
  *empty* (no objects) when it is the style's empty form or says none/no/nothing without any digit, and
  *unparsed* otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ts_instruct.errors import RecordValidationError
from ts_instruct.eval.normalize import normalize_text, parse_number
from ts_instruct.imageio import image_size
from ts_instruct.record import Record
from ts_instruct.render import Frame, GeomKind, RenderItem, RenderStyle, style_from_meta

_NEGATIVE = re.compile(r"\b(?:no|none|nothing|empty)\b", re.IGNORECASE)


@dataclass
class Geometry:
    """Geometry read from one answer.

    Attributes:
        items: geometries in pixels of the emitted image, in answer order.
        unparsed: no geometry and no recognisable "nothing" answer.
        errors: the parser's complaints (kept items may still be usable).
    """

    items: list[RenderItem] = field(default_factory=list)
    unparsed: bool = False
    errors: list[str] = field(default_factory=list)


@dataclass
class Case:
    """One reference record and the model's answer to it.

    Attributes:
        record: the TS-Instruct record (ground truth in ``annotations``, structured answer in ``meta.target``).
        prediction: the model's answer text (``""`` when the predictions file has none for this record).
        dataset_dir: folder the record's relative paths (images, masks) resolve against.
        missing: True when the predictions file had no answer for this record.
    """

    record: Record
    prediction: str
    dataset_dir: Path | None = None
    missing: bool = False

    @property
    def target(self) -> dict[str, Any]:
        """``meta.target`` (``{}`` when absent)."""
        target = self.record.meta.get("target")
        return target if isinstance(target, dict) else {}

    @property
    def annotations(self) -> dict[str, Any]:
        """The record's ground truth."""
        return self.record.annotations

    @property
    def reference_text(self) -> str:
        """The reference answer: the last assistant turn."""
        return self.record.answer

    @property
    def prompt(self) -> str:
        """The last user turn (the question this answer replies to)."""
        return [m.content for m in self.record.messages if m.role == "user"][-1]

    def fail(self, reason: str) -> RecordValidationError:
        """An error naming this record, for ground truth the scorer cannot use."""
        return RecordValidationError(f"record {self.record.id!r} (task {self.record.task!r}): {reason}")

    @cached_property
    def style(self) -> RenderStyle:
        """The render style the record was written in (``meta.render``)."""
        return style_from_meta(self.record.meta.get("render", {}))

    def image_size(self, index: int = 0) -> tuple[int, int]:
        """``(width, height)`` of emitted image ``index``: ``meta.images``, else the image file's header."""
        images = self.record.meta.get("images") or []
        if index < len(images) and images[index].get("width") and images[index].get("height"):
            return int(images[index]["width"]), int(images[index]["height"])
        if index >= len(self.record.images):
            raise self.fail(f"has no image {index} to take the size of")
        path = Path(self.record.images[index])
        if not path.is_absolute() and self.dataset_dir is not None:
            path = self.dataset_dir / path
        return image_size(path)

    def frame(self, index: int = 0) -> Frame:
        """The style's frame for emitted image ``index``."""
        return self.style.frame(*self.image_size(index))

    def geometry(self, kind: GeomKind, index: int = 0) -> Geometry:
        """Read the answer's geometries of ``kind`` (see the module docstring for empty and unparsed answers)."""
        result = self.style.parse(self.prediction, self.frame(index), kind=kind)
        if result.items:
            return Geometry(list(result.items), False, list(result.errors))
        empty_form = self.style.render([], self.frame(index)).strip()
        text = self.prediction.strip()
        said_nothing = text == empty_form or (bool(_NEGATIVE.search(text)) and not re.search(r"\d", text))
        return Geometry([], not said_nothing, list(result.errors))

    def geometry_kind(self, default: GeomKind = "hbox") -> GeomKind:
        """The kind the reference answer is written in: ``meta.target.kind``, else ``default``."""
        kind = self.target.get("kind")
        return kind if kind in ("hbox", "qbox", "polygon", "point") else default


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])")


def _find(text: str, names: Iterable[str]) -> list[tuple[int, int, str]]:
    """Non-overlapping ``(start, end, name)`` matches of normalised names in normalised text, longest names first."""
    found: list[tuple[int, int, str]] = []
    taken = [False] * len(text)
    for name in sorted(set(names), key=lambda n: (-len(n), n)):
        if not name:
            continue
        for m in _pattern(name).finditer(text):
            if not any(taken[m.start() : m.end()]):
                found.append((m.start(), m.end(), name))
                taken[m.start() : m.end()] = [True] * (m.end() - m.start())
    return sorted(found)


def class_in_text(text: str, classes: Sequence[str]) -> str | None:
    """The class an answer names: an exact (normalised) match, else the first class named in it, else ``None``.

    Args:
        text: the answer.
        classes: candidate class names (any spelling: ``"storage_tank"``, ``"storage tank"``).

    Returns:
        One of ``classes`` (as given), or ``None``.

    >>> class_in_text("It is a dense residential area.", ["residential", "dense_residential", "forest"])
    'dense_residential'
    >>> class_in_text("no idea", ["forest"]) is None
    True
    """
    by_norm = {normalize_text(c): c for c in classes}
    norm = normalize_text(text)
    if norm in by_norm:
        return by_norm[norm]
    found = _find(norm, by_norm)
    return by_norm[found[0][2]] if found else None


def classes_in_text(text: str, classes: Sequence[str]) -> list[str]:
    """Every class named in an answer, in order of first mention, each once.

    >>> classes_in_text("Water, low vegetation and buildings.", ["building", "water", "low_vegetation", "tree"])
    ['water', 'low_vegetation']
    """
    by_norm = {normalize_text(c): c for c in classes}
    out: list[str] = []
    for _, _, name in _find(normalize_text(text), by_norm):
        if by_norm[name] not in out:
            out.append(by_norm[name])
    return out


def class_numbers(text: str, classes: Sequence[str]) -> dict[str, float]:
    """Per class named in the answer, the first number after its name (and before the next class name).

    >>> class_numbers("water: 30%, forest 55.5 %, road", ["water", "forest", "road"])
    {'water': 30.0, 'forest': 55.5}
    """
    by_norm = {normalize_text(c): c for c in classes}
    low = text.lower().replace("_", " ")
    low = re.sub(r"(?<=[^\W\d_])-(?=[^\W\d_])", " ", low)
    found = _find(low, by_norm)
    out: dict[str, float] = {}
    for i, (_, end, name) in enumerate(found):
        stop = found[i + 1][0] if i + 1 < len(found) else len(low)
        value = parse_number(re.sub(r"\b(?:no|none|nothing)\b", "", low[end:stop]))
        if value is not None and by_norm[name] not in out:
            out[by_norm[name]] = value
    return out


_ONLY_LETTER = re.compile(r"\W*(?:(?:option|answer|choice)\s*)?\(?([A-Za-z])\)?\W*", re.IGNORECASE)
_LEADING_LETTER = re.compile(r"\s*\(?([A-Z])[.):]")


def choice_in_text(text: str, options: Sequence[str]) -> str | None:
    """The option an answer picks: a leading letter, else an option named in the text.

    Returns:
        The chosen option (as given in ``options``), or ``None``.

    >>> choice_in_text("B. beach", ["airport", "beach"]), choice_in_text("(a)", ["airport", "beach"])
    ('beach', 'airport')
    >>> choice_in_text("It looks like a beach", ["airport", "beach"]), choice_in_text("E", ["airport"])
    ('beach', None)
    """
    m = _ONLY_LETTER.fullmatch(text.strip()) or _LEADING_LETTER.match(text)
    if m:
        index = ord(m.group(1).upper()) - ord("A")
        return options[index] if 0 <= index < len(options) else None
    return class_in_text(text, options)
