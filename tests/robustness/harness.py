"""A generic bad-input harness: trace what each converter reads on its fake, mutate one file, convert again.

The reference run reads every unit of every split of a converter's fake with a fresh converter per unit and records,
through a Python audit hook, every file opened: by ``units(split)`` (a split's global files: split lists, index
JSON) and by ``read(split, unit)`` (the unit's own files). With the pipeline's reference conversion this gives, for
each raw file, exactly which samples depend on it, without any knowledge of the dataset's layout:

* *sources*: image files named in a record's ``meta.images[].source``;
* *labels*: other image files a unit opens (masks, label rasters);
* *annotations*: text files (``.txt``, ``.json``, ``.xml``) a unit or a split opens.

A :class:`Mutation` picks one such file deterministically, damages it in a fresh copy of the fake and says what the
conversion of the copy must still do (:class:`Expect`): no exception, a skip naming the file (and the line for
line-based formats), every sample that does not depend on the file still written, and the samples built from a
destroyed source image gone.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import struct
import sys
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from data_converters import get_converter
from data_converters.fakes import make_fake
from ts_instruct.pipeline import ConvertOptions, convert_dataset, dataset_dir_name
from ts_instruct.sample import Sample

SampleId = tuple[str, str]  # (split, key)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp")
TEXT_SUFFIXES = (".txt", ".json", ".xml")

# -- tracing -----------------------------------------------------------------------------------------------------

_SINK: set[str] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _SINK is not None and event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.fsdecode(args[0])
        _SINK.add(os.path.abspath(path))


sys.addaudithook(_audit)  # audit hooks cannot be removed; this one does nothing outside `traced()`


@contextmanager
def traced() -> Iterator[set[str]]:
    """Collect the absolute paths of every file opened from Python (``open``, Pillow, ``Path.read_text``...)."""
    global _SINK
    previous, _SINK = _SINK, set()
    try:
        yield _SINK
    finally:
        _SINK = previous


# -- the reference -----------------------------------------------------------------------------------------------


@dataclass
class Reference:
    """What an undamaged conversion of a converter's fake reads and writes.

    Attributes:
        name: converter name.
        root: the pristine fake (never modified; mutations work on copies).
        out: its conversion.
        samples: every written sample → its source files (root-relative POSIX paths).
        skips: the reference report's skips, per split.
        split_files: files opened by ``units(split)``.
        unit_files: ``(split, unit)`` → files opened while reading the unit.
        unit_samples: ``(split, unit)`` → samples the unit yielded.
    """

    name: str
    root: Path
    out: Path
    samples: dict[SampleId, frozenset[str]]
    skips: dict[str, list[dict[str, Any]]]
    split_files: dict[str, set[str]] = field(default_factory=dict)
    unit_files: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    unit_samples: dict[tuple[str, str], set[SampleId]] = field(default_factory=dict)

    @property
    def splits(self) -> list[str]:
        """Splits with at least one written sample."""
        return sorted({s for s, _ in self.samples})

    def sources(self) -> set[str]:
        """Every source file of a written sample."""
        return {f for srcs in self.samples.values() for f in srcs}

    def read_files(self) -> set[str]:
        """Every file opened by ``units()`` or ``read()``."""
        return set().union(*self.split_files.values(), *self.unit_files.values())

    def unit_level_files(self) -> set[str]:
        """Files opened while reading units but never by ``units()`` (per-sample files)."""
        return set().union(*self.unit_files.values()) - set().union(*self.split_files.values())

    def touched(self, rel: str) -> set[SampleId]:
        """Samples that depend on ``rel``: built from it, from a unit that opened it, or from a split listing it."""
        out = {sid for sid, srcs in self.samples.items() if rel in srcs}
        for unit, files in self.unit_files.items():
            if rel in files:
                out |= self.unit_samples.get(unit, set())
        for split, files in self.split_files.items():
            if rel in files:
                out |= {sid for sid in self.samples if sid[0] == split}
        return out & set(self.samples)

    def built_from(self, rel: str) -> set[SampleId]:
        """Samples whose emitted images are ``rel``."""
        return {sid for sid, srcs in self.samples.items() if rel in srcs}


def convert(name: str, root: Path, out: Path, *, splits: list[str] | None = None) -> dict[str, Any]:
    """Convert ``root`` with converter ``name`` (default version and options) into ``out``; return the report."""
    conv = get_converter(name)(root)
    return convert_dataset(conv, ConvertOptions(out=out, splits=splits, progress=False, workers=1))


def written_samples(dataset_dir: Path) -> dict[SampleId, frozenset[str]]:
    """``(split, key)`` → source files of every record in a converted dataset folder."""
    out: dict[SampleId, set[str]] = {}
    for shard in sorted(dataset_dir.glob("*.jsonl")):
        for line in shard.read_text(encoding="utf-8").splitlines():
            meta = json.loads(line)["meta"]
            srcs = out.setdefault((meta["split"], meta["key"]), set())
            srcs.update(img["source"] for img in meta.get("images") or [] if img.get("source"))
            video = (meta.get("extra") or {}).get("video_source")
            if isinstance(video, str):
                srcs.add(video)
    return {k: frozenset(v) for k, v in out.items()}


def report_skips(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Split → skips of a report."""
    return {split: list(info["skips"]) for split, info in report["splits"].items()}


def build_reference(name: str, workdir: Path) -> Reference:
    """Write the fake of ``name``, convert it, and trace which files each split and unit opens."""
    root = workdir / "raw"
    make_fake(name, root, seed=0)
    out = workdir / "out"
    report = convert(name, root, out)
    cls = get_converter(name)
    dataset_dir = out / dataset_dir_name(cls(root))
    ref = Reference(name, root, dataset_dir, written_samples(dataset_dir), report_skips(report))
    base = root.resolve()

    def rel(paths: set[str]) -> set[str]:
        found = set()
        for p in paths:
            try:
                found.add(Path(p).resolve().relative_to(base).as_posix())
            except ValueError:
                continue
        return found

    for split in cls(root).available_splits():
        with traced() as opened:
            units = list(cls(root).units(split))
        ref.split_files[split] = rel(opened)
        for unit in units:
            conv = cls(root)  # fresh: a converter's per-process caches must not hide what a unit reads
            conv.units(split)
            with traced() as opened:
                keys = {(split, s.key) for s in conv.read(split, unit) if isinstance(s, Sample)}
            ref.unit_files[(split, unit)] = rel(opened)
            ref.unit_samples[(split, unit)] = keys
    return ref


# -- outcomes ----------------------------------------------------------------------------------------------------


@dataclass
class Expect:
    """What the conversion of a damaged copy must show.

    Attributes:
        file: the damaged file (root-relative); a skip must name it (``skip.file`` or its reason).
        line: the damaged line (1-based) for line-based formats: the naming skip must carry it.
        may_lose: samples allowed to disappear (those depending on the file); all others must be written.
        must_lose: samples that must disappear (built from a destroyed image).
        needs_skip: False when the damage may legitimately go unreported (an empty mask is a valid negative);
            a lost sample must still be explained by a skip naming the file.
        validate: also run the record validator on the output (geometry mutations).
        outside: a path outside the dataset root that no written sample may come from.
        reason: a phrase the naming skip's reason must hold (the decompression-bomb guard's own words, so that a
            bomb is refused by the guard before any decoding, not by a decoder running out of data).
    """

    file: str
    line: int | None = None
    may_lose: set[SampleId] = field(default_factory=set)
    must_lose: set[SampleId] = field(default_factory=set)
    needs_skip: bool = True
    validate: bool = False
    outside: str | None = None
    reason: str | None = None


@dataclass
class Mutation:
    """One kind of damage: ``find`` picks the target file of a reference (None: does not apply), ``apply`` damages
    it in a copy of the fake and returns what the conversion must show."""

    name: str
    find: Callable[[Reference], str | None]
    apply: Callable[[Reference, Path, str], Expect]


def naming_skips(skips: list[dict[str, Any]], rel: str) -> list[dict[str, Any]]:
    """Skips that name ``rel``: as their file, or in their reason by its path or (a list entry) its file name."""
    name = re.compile(rf"(?<![\w.-]){re.escape(Path(rel).name)}(?![\w-])")
    return [s for s in skips if s["file"] == rel or rel in s["reason"] or name.search(s["reason"])]


# -- helpers for picking targets ---------------------------------------------------------------------------------


def _pick(ref: Reference, candidates: set[str]) -> str | None:
    """The candidate touching the fewest samples (most others left to check), ties by name."""
    scored = sorted((len(ref.touched(c)), c) for c in candidates)
    return scored[0][1] if scored else None


def _suffix(rel: str) -> str:
    return Path(rel).suffix.lower()


def image_sources(ref: Reference) -> set[str]:
    """Source images of written samples that exist as files (videos excluded)."""
    return {s for s in ref.sources() if _suffix(s) in IMAGE_SUFFIXES and (ref.root / s).is_file()}


def label_files(ref: Reference) -> set[str]:
    """Image files opened while reading units that are not the source of any sample (masks, label rasters)."""
    return {f for f in ref.unit_level_files() - ref.sources() if _suffix(f) in IMAGE_SUFFIXES and ref.touched(f)}


def text_files(ref: Reference, suffix: str, *, unit_level: bool = False) -> set[str]:
    """Annotation files of ``suffix`` opened by units (``unit_level``) or by anything, that some sample depends on."""
    pool = ref.unit_level_files() if unit_level else ref.read_files()
    return {f for f in pool if _suffix(f) == suffix and ref.touched(f) and (ref.root / f).is_file()}


# -- file surgery ------------------------------------------------------------------------------------------------


def truncate_file(path: Path, keep: float = 0.4) -> None:
    """Cut a file to ``keep`` of its bytes (at least 24, so an image header still reads)."""
    data = path.read_bytes()
    path.write_bytes(data[: max(24, int(len(data) * keep))])


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_bytes(suffix: str, width: int = 60_000, height: int = 60_000) -> bytes:
    """A small file of the format of ``suffix`` whose header declares ``width`` x ``height`` pixels.

    PNG: signature, IHDR (8-bit RGB), one empty IDAT, IEND. JPEG: SOI, a baseline SOF0 frame header, SOS, EOI.
    TIFF: a little-endian header with one IFD (no strip data). BMP: a BITMAPINFOHEADER, no pixel data.
    """
    if suffix == ".png":
        ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
        return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", b"") + _png_chunk(b"IEND", b"")
    if suffix in (".jpg", ".jpeg"):
        sof = struct.pack(">BHHB", 8, height, width, 3) + b"".join(bytes([i, 0x11, 0]) for i in (1, 2, 3))
        sos = struct.pack(">B", 3) + b"".join(bytes([i, 0]) for i in (1, 2, 3)) + b"\x00\x3f\x00"
        return (
            b"\xff\xd8"
            + b"\xff\xc0"
            + struct.pack(">H", len(sof) + 2)
            + sof
            + b"\xff\xda"
            + struct.pack(">H", len(sos) + 2)
            + sos
            + b"\xff\xd9"
        )
    if suffix in (".tif", ".tiff"):
        tags = [  # (tag, type SHORT=3 / LONG=4, value)
            (256, 4, width),
            (257, 4, height),
            (258, 3, 8),
            (259, 3, 1),
            (262, 3, 1),
            (273, 4, 8),
            (277, 3, 1),
            (278, 4, height),
            (279, 4, width * height),
        ]
        ifd = struct.pack("<H", len(tags))
        for tag, kind, value in tags:
            ifd += struct.pack("<HHI", tag, kind, 1) + (
                struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
            )
        return b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0)
    if suffix == ".bmp":
        info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
        return b"BM" + struct.pack("<IHHI", 14 + len(info), 0, 0, 14 + len(info)) + info
    raise ValueError(f"no bomb for suffix {suffix!r}")


def rewrite_image(path: Path, fn: Callable[[Image.Image], Image.Image]) -> None:
    """Decode ``path``, transform it and save it back in its own format (mode and palette kept)."""
    with Image.open(path) as im:
        im.load()
        fmt = im.format
        out = fn(im)
    buf = io.BytesIO()
    out.save(buf, format=fmt)
    path.write_bytes(buf.getvalue())


def zero_image(im: Image.Image) -> Image.Image:
    """All-zero pixels, same size and mode (a palette is kept)."""
    out = Image.fromarray(np.zeros_like(np.asarray(im)))
    if im.mode == "P":
        out = out.convert("L").convert("P")
        out.putpalette(im.getpalette() or [])
    return out


def shrink_image(im: Image.Image) -> Image.Image:
    """The image resized (nearest) to 3/4 of each side: a valid file of the wrong size."""
    w, h = im.size
    return im.resize((max(1, w * 3 // 4), max(1, h * 3 // 4)), Image.Resampling.NEAREST)


GARBAGE_LINE = "@@ garbled line 1.2.3 -- x"

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _line_ending(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def insert_line(path: Path, line: str) -> int:
    """Insert ``line`` in the second half of a text file (after any header lines); return its 1-based number."""
    text = path.read_text(encoding="utf-8")
    nl = _line_ending(text)
    lines = text.splitlines()
    at = len(lines) - len(lines) // 2  # 0-based insertion index
    lines.insert(at, line)
    path.write_text(nl.join(lines) + nl, encoding="utf-8", newline="")
    return at + 1


def coordinate_lines(ref: Reference, rel: str) -> list[tuple[int, list[str]]]:
    """1-based lines of a text file holding at least 4 numbers that the reference run did not report."""
    reported = {s["line"] for skips in ref.skips.values() for s in skips if s["file"] == rel}
    text = (ref.root / rel).read_text(encoding="utf-8", errors="replace")
    return [
        (i, _NUMBER.findall(line))
        for i, line in enumerate(text.splitlines(), 1)
        if i not in reported and len(_NUMBER.findall(line)) >= 4
    ]


def transform_coords(values: list[float], how: str) -> list[float] | None:
    """Damage a flat ``x, y, x, y, ...`` coordinate list (4 values: a box, 8: a quadrilateral).

    ``zero_area``: every x set to the first (no width). ``bowtie``: corners 2 and 3 swapped (a self-intersecting
    quadrilateral; None for boxes). ``out_of_bounds``: every value moved 100,000 px away.
    """
    v = list(values)
    if how == "zero_area":
        return [v[0] if i % 2 == 0 else x for i, x in enumerate(v)]
    if how == "bowtie":
        return None if len(v) < 8 else v[:2] + v[4:6] + v[2:4] + v[6:]
    if how == "out_of_bounds":
        return [x + 100_000 for x in v]
    raise ValueError(f"unknown geometry damage {how!r}")


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def damage_txt_line(path: Path, line_no: int, how: str) -> bool:
    """Apply :func:`transform_coords` to the first 8 (or 4) numbers of one line, in place; False if not possible."""
    text = path.read_text(encoding="utf-8")
    nl = _line_ending(text)
    lines = text.splitlines()
    line = lines[line_no - 1]
    matches = list(_NUMBER.finditer(line))
    n = 8 if len(matches) >= 8 else 4
    new = transform_coords([float(m.group()) for m in matches[:n]], how)
    if new is None:
        return False
    out, last = [], 0
    for m, value in zip(matches[:n], new, strict=True):
        out.append(line[last : m.start()] + _fmt(value))
        last = m.end()
    lines[line_no - 1] = "".join(out) + line[last:]
    path.write_text(nl.join(lines) + nl, encoding="utf-8", newline="")
    return True


_XML_OBJECT = re.compile(r"<object>.*?</object>", re.DOTALL)
_XML_COORD = re.compile(r"<(?P<tag>[xy][\w]*)>\s*(?P<num>-?\d+(?:\.\d+)?)\s*</(?P=tag)>")
_XML_BLOCK = re.compile(r"<(?P<tag>\w+)>(?P<body>(?:\s*<[xy]\w*>[^<]*</[xy]\w*>)+)\s*</(?P=tag)>")


def damage_xml_object(path: Path, how: str) -> bool:
    """Apply :func:`transform_coords` to every coordinate block of the first ``<object>``; False if not possible."""
    text = path.read_text(encoding="utf-8")
    obj = _XML_OBJECT.search(text)
    if obj is None:
        return False
    changed = False

    def block(m: re.Match[str]) -> str:
        nonlocal changed
        coords = list(_XML_COORD.finditer(m.group("body")))
        new = transform_coords([float(c.group("num")) for c in coords], how) if len(coords) in (4, 8) else None
        if new is None:
            return m.group()
        changed = True
        body, out, last = m.group("body"), [], 0
        for c, value in zip(coords, new, strict=True):
            out.append(body[last : c.start("num")] + _fmt(value))
            last = c.end("num")
        return m.group().replace(body, "".join(out) + body[last:])

    new_obj = _XML_BLOCK.sub(block, obj.group())
    path.write_text(text[: obj.start()] + new_obj + text[obj.end() :], encoding="utf-8", newline="")
    return changed


def _entries(node: Any) -> Iterator[list[Any]]:
    """Every list of dicts in a JSON document, depth first."""
    if isinstance(node, dict):
        for v in node.values():
            yield from _entries(v)
    elif isinstance(node, list):
        if node and all(isinstance(x, dict) for x in node):
            yield node
        for v in node:
            yield from _entries(v)


def _wrong_type(value: Any) -> Any:
    if isinstance(value, str):
        return [value]
    if isinstance(value, bool) or value is None:
        return {"garbled": True}
    if isinstance(value, (int, float)):
        return f"#{value}?"
    return 7


def garble_json_entry(path: Path) -> bool:
    """Replace the middle entry of the longest list of objects by one with the same keys, every value of a wrong
    type (strings become lists, numbers strings, lists and objects numbers); False if the file has no such list."""
    data = json.loads(path.read_text(encoding="utf-8"))
    lists = sorted(_entries(data), key=len, reverse=True)
    if not lists:
        return False
    target = lists[0]
    i = len(target) // 2
    target[i] = {k: _wrong_type(v) for k, v in target[i].items()}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return True


def copy_fake(ref: Reference, workdir: Path) -> Path:
    """A fresh copy of the reference fake under ``workdir/raw``."""
    root = workdir / "raw"
    shutil.copytree(ref.root, root, symlinks=True)
    return root
