"""Check TS-Instruct records against the contract, streaming, one issue per finding.

Checks, in order, for every record of every ``*.jsonl`` under a path:

1. schema: a JSON object with ``id``, ``dataset``, ``task``, ``messages``, ``images``; ids unique;
2. turns: optional leading ``system``, then user/assistant alternating, ending with assistant, no empty turn;
3. placeholders: ``<image>`` count over all turns equals ``len(images)`` (``<video>`` likewise), as LLaMA-Factory
   requires;
4. images: each file exists (relative to the JSONL's folder), opens, and has the size recorded in ``meta.images``;
   each video file exists;
5. coordinates: every annotation geometry lies inside its image (0.5 px tolerance);
6. geometry: oriented boxes are non-degenerate and simple, polygons valid;
7. answer: the assistant's text parses back, with the record's render style, into the stored ``meta.target``
   (same items and labels, coordinates within one step of the style's grid).

Images are checked once per distinct path (pairs and multi-task records share them).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from shapely.geometry import Polygon

from ts_instruct.errors import InvalidImageError, RecordValidationError, TerraSenseError
from ts_instruct.geometry import is_valid_qbox
from ts_instruct.imageio import image_size
from ts_instruct.record import IMAGE_PLACEHOLDER, VIDEO_PLACEHOLDER, Record

_TOL = 0.5  # pixels: geometry may touch the image border after rounding to 3 decimals


@dataclass
class Issue:
    """One finding: where (file, line, record id, field) and what."""

    file: str
    line: int
    record: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: [{self.record}] {self.field}: {self.message}"


@dataclass
class ValidationSummary:
    """Counts of a validation run; ``issues`` holds the first ``max_issues`` findings."""

    files: int = 0
    records: int = 0
    bad_records: int = 0
    issues_total: int = 0

    @property
    def ok(self) -> bool:
        """True when no issue was found."""
        return self.issues_total == 0


def iter_jsonl_files(path: Path) -> list[Path]:
    """``path`` itself if it is a file, else every ``*.jsonl`` below it (hidden folders skipped), sorted."""
    if path.is_file():
        return [path]
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; pass a converted dataset folder or a .jsonl file")
    return sorted(p for p in path.rglob("*.jsonl") if not any(part.startswith(".") for part in p.parts))


class Validator:
    """Streaming validator. Call :meth:`run` with a path; it yields issues as it finds them."""

    def __init__(self, *, check_images: bool = True, check_answers: bool = True) -> None:
        self.check_images = check_images
        self.check_answers = check_answers
        self.summary = ValidationSummary()
        self._ids: set[bytes] = set()
        self._image_sizes: dict[Path, tuple[int, int] | str] = {}

    def run(self, path: Path) -> Iterator[Issue]:
        """Validate every record of every JSONL file under ``path``."""
        for f in iter_jsonl_files(path):
            self.summary.files += 1
            with open(f, encoding="utf-8") as fh:
                for n, line in enumerate(fh, start=1):
                    if not line.strip():
                        continue
                    self.summary.records += 1
                    found = list(self.check_line(line, f, n))
                    if found:
                        self.summary.bad_records += 1
                        self.summary.issues_total += len(found)
                    yield from found

    def check_line(self, line: str, file: Path, n: int) -> Iterator[Issue]:
        """All issues of one JSONL line."""
        try:
            rec = Record.from_json(line)
        except RecordValidationError as e:
            yield Issue(str(file), n, "?", "record", str(e))
            return
        for fld, msg in self.check_record(rec, file.parent):
            yield Issue(str(file), n, rec.id, fld, msg)

    def check_record(self, rec: Record, base: Path) -> Iterator[tuple[str, str]]:
        """Issues of one parsed record as ``(field, message)``; image paths resolve against ``base``."""
        digest = hashlib.blake2b(rec.id.encode(), digest_size=12).digest()
        if digest in self._ids:
            yield "id", f"duplicate id {rec.id!r}"
        self._ids.add(digest)
        yield from _check_turns(rec)
        n_img = sum(m.content.count(IMAGE_PLACEHOLDER) for m in rec.messages)
        if n_img != len(rec.images):
            yield "messages", f"{n_img} {IMAGE_PLACEHOLDER} placeholder(s) but {len(rec.images)} image(s)"
        n_vid = sum(m.content.count(VIDEO_PLACEHOLDER) for m in rec.messages)
        if n_vid != len(rec.videos):
            yield "messages", f"{n_vid} {VIDEO_PLACEHOLDER} placeholder(s) but {len(rec.videos)} video(s)"
        if self.check_images:
            for i, rel in enumerate(rec.videos):
                if not (base / rel).is_file():
                    yield f"videos[{i}]", f"video file is missing ({rel})"
        metas = rec.meta.get("images", [])
        sizes: list[tuple[int, int]] = []
        for i, rel in enumerate(rec.images):
            expected = (int(metas[i]["width"]), int(metas[i]["height"])) if i < len(metas) else None
            size: tuple[int, int] | None = expected
            if self.check_images:
                got = self._size(base / rel)
                if isinstance(got, str):
                    yield f"images[{i}]", got
                elif expected is not None and got != expected:
                    yield f"images[{i}]", f"image is {got[0]}x{got[1]} but meta.images says {expected[0]}x{expected[1]}"
                else:
                    size = got
            if size is not None:
                sizes.append(size)
        if sizes:
            yield from _check_geometry(rec.annotations, sizes[-1])
            if self.check_answers:
                yield from _check_answer(rec, sizes[-1])
        elif self.check_answers:
            yield from _check_answer(rec, None)  # a video record: text targets are still checked

    def _size(self, path: Path) -> tuple[int, int] | str:
        if path not in self._image_sizes:
            try:
                self._image_sizes[path] = image_size(path)
            except InvalidImageError as e:
                self._image_sizes[path] = e.reason + f" ({path.name})"
        return self._image_sizes[path]


def _check_turns(rec: Record) -> Iterator[tuple[str, str]]:
    roles = [m.role for m in rec.messages]
    if roles and roles[0] == "system":
        roles = roles[1:]
    if not roles or len(roles) % 2:
        yield "messages", f"need user/assistant pairs, got roles {[m.role for m in rec.messages]}"
        return
    for i, role in enumerate(roles):
        want = "user" if i % 2 == 0 else "assistant"
        if role != want:
            yield "messages", f"turn {i} must be {want!r}, got {role!r}"
            return
    for i, m in enumerate(rec.messages):
        if not m.content.strip():
            yield f"messages[{i}]", "empty content"


def _inside(coords: list[float], size: tuple[int, int]) -> bool:
    w, h = size
    xs, ys = coords[0::2], coords[1::2]
    return min(xs) >= -_TOL and min(ys) >= -_TOL and max(xs) <= w + _TOL and max(ys) <= h + _TOL


def _check_geometry(ann: dict[str, Any], size: tuple[int, int]) -> Iterator[tuple[str, str]]:
    for i, o in enumerate(ann.get("objects", [])):
        if not _inside(o["hbox"], size):
            yield f"annotations.objects[{i}].hbox", f"{o['hbox']} lies outside the {size[0]}x{size[1]} image"
        if o["hbox"][2] <= o["hbox"][0] or o["hbox"][3] <= o["hbox"][1]:
            yield f"annotations.objects[{i}].hbox", f"{o['hbox']} is empty (x2 <= x1 or y2 <= y1)"
        q = o.get("qbox")
        if q is not None:
            if not _inside(q, size):
                yield f"annotations.objects[{i}].qbox", f"{q} lies outside the {size[0]}x{size[1]} image"
            if not is_valid_qbox(np.asarray(q, dtype=float)):
                yield f"annotations.objects[{i}].qbox", f"{q} is degenerate or self-intersecting"
    for i, r in enumerate(ann.get("refs", [])):
        if not _inside(r["hbox"], size):
            yield f"annotations.refs[{i}].hbox", f"{r['hbox']} lies outside the {size[0]}x{size[1]} image"
    for name in ("polygons", "changes"):
        for i, p in enumerate(ann.get(name, [])):
            ring = p.get("exterior") or p.get("polygon")
            if not ring:
                continue
            flat = [c for pt in ring for c in pt]
            if not _inside(flat, size):
                yield f"annotations.{name}[{i}]", f"polygon lies outside the {size[0]}x{size[1]} image"
            poly = Polygon(ring, p.get("holes", []))
            if len(ring) < 3 or not poly.is_valid or poly.area <= 0:
                yield f"annotations.{name}[{i}]", "polygon is invalid (fewer than 3 points, self-intersecting or empty)"


def _check_answer(rec: Record, size: tuple[int, int] | None) -> Iterator[tuple[str, str]]:
    target = rec.meta.get("target")
    if not target:
        return
    answer = rec.answer
    kind = target.get("type")
    if kind == "geometry":
        if size is None:
            yield "meta.target", "a geometry target needs an image to give its coordinates a frame"
            return
        from ts_instruct.render import style_from_meta

        try:
            style = style_from_meta(rec.meta["render"])
        except (KeyError, TerraSenseError) as e:
            yield "meta.render", f"cannot rebuild the render style: {e}"
            return
        frame = style.frame(*size)
        parsed = style.parse(answer, frame, kind=target["kind"])
        want = target["items"]
        if len(parsed.items) != len(want):
            yield "answer", f"parses to {len(parsed.items)} item(s), target has {len(want)} ({parsed.errors[:2]})"
            return
        step = max(size[0] / frame.text_width, size[1] / frame.text_height) + 1e-6
        for j, (got, exp) in enumerate(zip(parsed.items, want, strict=True)):
            if exp.get("label") is not None and got.label != exp["label"]:
                yield f"answer[{j}]", f"label {got.label!r} != target {exp['label']!r}"
            a, b = np.asarray(got.coords, float), np.asarray(exp["coords"], float)
            if a.shape != b.shape or _ring_distance(a, b, closed=target["kind"] in ("qbox", "polygon")) > step:
                yield f"answer[{j}]", f"coordinates {a.round(1).tolist()} differ from target {b.round(1).tolist()}"
    elif kind in ("text", "yes_no", "number", "choice"):
        value = str(target.get("value"))
        if value.lower() not in answer.lower():
            yield "answer", f"does not contain the target {kind} {value!r}"


def _ring_distance(a: np.ndarray, b: np.ndarray, *, closed: bool) -> float:
    """Largest coordinate difference, over the cyclic shifts of ``a``'s vertices when it is a closed ring.

    Rounding to the style's grid may move which corner of a near-45° box counts as "first" (nearest the top-left),
    so a quad written from one corner can read back starting from its neighbour: the same box.
    """
    if not closed:
        return float(np.abs(a - b).max())
    pa, pb = a.reshape(-1, 2), b.reshape(-1, 2)
    return float(min(np.abs(np.roll(pa, k, axis=0) - pb).max() for k in range(len(pa))))


def validate_path(path: Path, *, max_issues: int = 50, **kwargs: Any) -> tuple[ValidationSummary, list[Issue]]:
    """Validate everything under ``path``; return the summary and the first ``max_issues`` issues."""
    v = Validator(**kwargs)
    kept: list[Issue] = []
    for issue in v.run(path):
        if len(kept) < max_issues:
            kept.append(issue)
    return v.summary, kept


def summary_json(summary: ValidationSummary, issues: list[Issue]) -> str:
    """The summary and listed issues as JSON (``--json``)."""
    return json.dumps(
        {**summary.__dict__, "ok": summary.ok, "issues": [i.__dict__ for i in issues]}, ensure_ascii=False, indent=2
    )
