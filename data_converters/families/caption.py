"""Family base for image-caption datasets in the Karpathy json format (Sydney-Captions, RSICD, RSITMD).

Layout read::

    <root>/<json file>             {"images": [{"filename": "1.tif", "split": "train",
                                                 "sentences": [{"raw": "a residential area .", "tokens": [...]}]}]}
    <root>/<image dir>/<filename>

One unit is one image (its ``filename``); the json, a few megabytes, is parsed once per converter and kept as a
compact index (filename → normalised captions). Entries that cannot be read (no ``filename``, unknown ``split``, no
``sentences`` list) become units of their own named ``#images[<position>]`` so that they are reported, with the
json file and the entry's position, as skips of the split they claim (of the first split when it cannot be read).

Captions are normalised by :func:`normalise_caption` (the raw strings of these datasets end in ``" ."`` and mix
capitalisation), empty ones are dropped and reported, and repeats inside one image are removed (RSICD repeats
sentences to reach five per image): ``annotations.captions`` holds the distinct references, in source order.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

from data_converters.base import Converter, safe_key
from ts_instruct.errors import InvalidAnnotationError, InvalidImageError
from ts_instruct.imageio import read_rgb
from ts_instruct.sample import Annotations, ImageRef, Sample, SampleMeta, Skip

_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:!?])")
_COPYABLE = (".jpg", ".jpeg", ".png")


def normalise_caption(raw: str) -> str:
    """Tidy one caption: single spaces, no space before punctuation, first letter upper case, final full stop.

    Returns ``""`` for a caption with no text, which callers drop and report.

    >>> normalise_caption("  many buildings and green trees are around a  playground .")
    'Many buildings and green trees are around a playground.'
    >>> normalise_caption(" . ")
    ''
    """
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(str(raw).split()))
    text = text.rstrip(" .")
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in "!?" else text + "."


def unique_captions(captions: Sequence[str]) -> list[str]:
    """Drop repeats (case-insensitive), keeping the first spelling and the source order.

    >>> unique_captions(["A plane.", "a plane.", "Two planes."])
    ['A plane.', 'Two planes.']
    """
    seen: set[str] = set()
    out = []
    for c in captions:
        k = c.casefold()
        if k not in seen:
            seen.add(k)
            out.append(c)
    return out


@dataclass(frozen=True)
class CaptionEntry:
    """One readable entry of the json: where it is, its captions and what was wrong with some of them."""

    filename: str
    position: int
    captions: tuple[str, ...]
    #: (sentence index, reason) of each sentence dropped
    dropped: tuple[tuple[int, str], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class CaptionIndex:
    """The parsed json: per split, filename → entries (normally one) and the unreadable entries by unit name."""

    entries: dict[str, dict[str, list[CaptionEntry]]]
    bad: dict[str, dict[str, str]]
    #: filename → every split it is listed in (an image in two splits leaks between them)
    splits_of: dict[str, set[str]]


class KarpathyCaptionConverter(Converter):
    """Captions in a Karpathy-style json; subclasses set :attr:`json_files`, :attr:`image_dirs` and :attr:`splits`.

    Override :meth:`entry_extra` to keep dataset-specific fields of an entry (keywords, a class from the file name).
    """

    family = "caption"
    default_tasks = ("caption",)
    #: candidate json paths relative to the root (first existing wins)
    json_files: ClassVar[tuple[str, ...]] = ("dataset.json",)
    #: candidate image folders relative to the root (first existing wins)
    image_dirs: ClassVar[tuple[str, ...]] = ("images",)
    #: raw ``split`` values that mean one of :attr:`splits`
    split_aliases: ClassVar[dict[str, str]] = {"valid": "val", "validation": "val"}
    _index: CaptionIndex | None = None  # parsed json, filled on first use

    # -- hooks --------------------------------------------------------------------------------------------------
    def entry_extra(self, item: dict[str, Any], filename: str) -> dict[str, Any]:
        """Dataset-specific facts kept in ``annotations.extra`` (default: none)."""
        return {}

    # -- index --------------------------------------------------------------------------------------------------
    def json_path(self) -> Path:
        """The annotation json (raises DatasetNotFoundError naming the candidates)."""
        return self.require(*self.json_files)

    def image_dir(self) -> Path:
        """The folder holding the images."""
        return self.require(*self.image_dirs)

    def index(self) -> CaptionIndex:
        """Parse the json once per converter instance (workers inherit it).

        Raises:
            DatasetNotFoundError: the json is missing.
            InvalidAnnotationError: the json is not valid JSON or has no ``images`` list (names file and line).
        """
        if self._index is not None:
            return self._index
        path = self.json_path()
        where = self.rel(path)
        data = self.load_json(path)
        images = data.get("images") if isinstance(data, dict) else None
        if not isinstance(images, list):
            raise InvalidAnnotationError(
                where, "must be a JSON object with an 'images' list (Karpathy caption format)", field="images"
            )
        idx = CaptionIndex(entries={s: {} for s in self.splits}, bad={s: {} for s in self.splits}, splits_of={})
        for pos, item in enumerate(images):
            split, entry, problem = self._parse_entry(pos, item)
            if entry is None:
                idx.bad[split][f"#images[{pos}]"] = problem
                continue
            idx.entries[split].setdefault(entry.filename, []).append(entry)
            idx.splits_of.setdefault(entry.filename, set()).add(split)
        self._index = idx
        return idx

    def _parse_entry(self, pos: int, item: Any) -> tuple[str, CaptionEntry | None, str]:
        """``(split, entry, "")`` for a readable entry, ``(split, None, reason)`` otherwise.

        The split of an unreadable entry is the one it claims, or the first split when that cannot be read.
        """
        first = self.splits[0]
        if not isinstance(item, dict):
            return first, None, f"images[{pos}] must be an object, got {type(item).__name__}"
        raw_split = item.get("split")
        split = self.split_aliases.get(str(raw_split).strip().lower(), str(raw_split).strip().lower())
        if split not in self.splits:
            return first, None, f"images[{pos}].split must be one of {list(self.splits)}, got {raw_split!r}"
        filename = item.get("filename")
        if not isinstance(filename, str) or not filename.strip():
            return split, None, f"images[{pos}].filename must be a non-empty string, got {filename!r}"
        sentences = item.get("sentences")
        if not isinstance(sentences, list):
            return split, None, f"images[{pos}].sentences must be a list, got {type(sentences).__name__}"
        captions: list[str] = []
        dropped: list[tuple[int, str]] = []
        for j, sent in enumerate(sentences):
            raw = sent.get("raw") if isinstance(sent, dict) else None
            if not isinstance(raw, str) and isinstance(sent, dict) and isinstance(sent.get("tokens"), list):
                raw = " ".join(map(str, sent["tokens"]))
            if not isinstance(raw, str):
                dropped.append((j, "has no 'raw' text"))
                continue
            text = normalise_caption(raw)
            if not text:
                dropped.append((j, "is an empty caption"))
                continue
            captions.append(text)
        filename = filename.strip()
        extra = self.entry_extra(item, filename)
        return split, CaptionEntry(filename, pos, tuple(unique_captions(captions)), tuple(dropped), extra), ""

    # -- converter contract -------------------------------------------------------------------------------------
    def units(self, split: str) -> Sequence[str]:
        """The split's image file names (sorted), then one ``#images[<i>]`` unit per unreadable entry."""
        self.check_split(split)
        idx = self.index()
        return sorted(idx.entries[split]) + sorted(idx.bad[split], key=lambda u: int(u[8:-1]))

    def read(self, split: str, unit: str) -> Iterator[Sample | Skip]:
        """One image → one sample holding all its distinct captions."""
        idx = self.index()
        where = self.rel(self.json_path())
        if unit in idx.bad[split]:
            yield Skip(where, idx.bad[split][unit])
            return
        entries = idx.entries[split][unit]
        entry = entries[0]
        key = safe_key(str(PurePosixPath(unit).with_suffix("")))
        for dup in entries[1:]:
            yield Skip(
                where,
                f"images[{dup.position}] repeats {unit!r} of images[{entry.position}]; the first is used",
                key=key,
                kept=True,
            )
        others = sorted(idx.splits_of.get(unit, set()) - {split})
        if others:
            yield Skip(
                where,
                f"{unit!r} is listed in split {split!r} and in {others}: the splits share this image",
                key=key,
                kept=True,
            )
        if not entry.captions:
            reasons = sorted({r for _, r in entry.dropped})
            yield Skip(
                where,
                f"images[{entry.position}] ({unit!r}) has no usable caption: all "
                f"{len(entry.dropped)} sentences were dropped ({'; '.join(reasons)})",
                key=key,
            )
            return
        for j, reason in entry.dropped:
            yield Skip(
                where, f"images[{entry.position}].sentences[{j}] of {unit!r} {reason}; dropped", key=key, kept=True
            )
        try:
            path = self.inside_root(self.image_dir(), unit, where=where)
            pixels = read_rgb(path)
        except InvalidAnnotationError as e:
            yield Skip(where, e.reason, key=key)
            return
        except InvalidImageError as e:
            yield Skip(self.rel(Path(e.path)), e.reason, key=key)
            return
        h, w = pixels.shape[:2]
        keep = None if path.suffix.lower() in _COPYABLE else pixels
        yield Sample(
            key=key,
            images=[ImageRef(source=self.rel(path), width=w, height=h, source_size=(w, h), pixels=keep)],
            annotations=Annotations(captions=list(entry.captions), extra=dict(entry.extra)),
            meta=SampleMeta(dataset=self.name, split=split, version=self.version, license=self.license),
        )
