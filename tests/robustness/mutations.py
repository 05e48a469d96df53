"""The mutations of the bad-input suite: which file each damages (found from the trace) and what must follow."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from .harness import (
    GARBAGE_LINE,
    TEXT_SUFFIXES,
    Expect,
    Mutation,
    Reference,
    _pick,
    _suffix,
    bomb_bytes,
    coordinate_lines,
    damage_txt_line,
    damage_xml_object,
    garble_json_entry,
    image_sources,
    insert_line,
    label_files,
    rewrite_image,
    shrink_image,
    text_files,
    truncate_file,
    zero_image,
)

BOMB_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv")

# -- source images ----------------------------------------------------------------------------------------------


def _source(ref: Reference) -> str | None:
    return _pick(ref, image_sources(ref))


def _destroyed_source(ref: Reference, root: Path, rel: str) -> Expect:
    return Expect(rel, may_lose=ref.touched(rel), must_lose=ref.built_from(rel))


def _image_missing(ref: Reference, root: Path, rel: str) -> Expect:
    (root / rel).unlink()
    return _destroyed_source(ref, root, rel)


def _image_truncated(ref: Reference, root: Path, rel: str) -> Expect:
    truncate_file(root / rel)
    return _destroyed_source(ref, root, rel)


def _bomb_target(files: set[str]) -> set[str]:
    return {f for f in files if _suffix(f) in BOMB_SUFFIXES}


BOMB_REASON = "decompression bomb guard"


def _image_bomb(ref: Reference, root: Path, rel: str) -> Expect:
    (root / rel).write_bytes(bomb_bytes(_suffix(rel)))
    expect = _destroyed_source(ref, root, rel)
    expect.reason = BOMB_REASON
    return expect


def _video(ref: Reference) -> str | None:
    return _pick(ref, {s for s in ref.sources() if _suffix(s) in VIDEO_SUFFIXES and (ref.root / s).is_file()})


def _later_of_pair(ref: Reference) -> str | None:
    """The second image of a two-image sample (the later image of a change pair)."""
    out = set()
    for srcs in ref.samples.values():
        if len(srcs) == 2:
            out |= {s for s in srcs if s != min(srcs)} & image_sources(ref)
    return _pick(ref, out)


def _pair_mismatch(ref: Reference, root: Path, rel: str) -> Expect:
    rewrite_image(root / rel, shrink_image)
    return _destroyed_source(ref, root, rel)


# -- labels (masks, label rasters) -------------------------------------------------------------------------------


def _label(ref: Reference) -> str | None:
    return _pick(ref, label_files(ref))


def _label_damaged(ref: Reference, root: Path, rel: str) -> Expect:
    return Expect(rel, may_lose=ref.touched(rel))


def _label_missing(ref: Reference, root: Path, rel: str) -> Expect:
    (root / rel).unlink()
    return _label_damaged(ref, root, rel)


def _label_truncated(ref: Reference, root: Path, rel: str) -> Expect:
    truncate_file(root / rel)
    return _label_damaged(ref, root, rel)


def _label_bomb(ref: Reference, root: Path, rel: str) -> Expect:
    (root / rel).write_bytes(bomb_bytes(_suffix(rel)))
    return Expect(rel, may_lose=ref.touched(rel), reason=BOMB_REASON)


def _label_mismatch(ref: Reference, root: Path, rel: str) -> Expect:
    rewrite_image(root / rel, shrink_image)
    return _label_damaged(ref, root, rel)


def _label_empty(ref: Reference, root: Path, rel: str) -> Expect:
    rewrite_image(root / rel, zero_image)
    # an all-zero mask is often a valid negative: it may be converted silently, but never lost silently
    return Expect(rel, may_lose=ref.touched(rel), needs_skip=False)


# -- annotation files --------------------------------------------------------------------------------------------


def _unit_text(suffix: str) -> Callable[[Reference], str | None]:
    return lambda ref: _pick(ref, text_files(ref, suffix, unit_level=True))


def _split_lists(ref: Reference) -> str | None:
    lists = {f for files in ref.split_files.values() for f in files if _suffix(f) == ".txt"}
    return _pick(ref, {f for f in lists if (ref.root / f).is_file()})


def _annotation_missing(ref: Reference) -> str | None:
    return _pick(ref, {f for s in (".txt", ".xml", ".json") for f in text_files(ref, s, unit_level=True)})


def _delete_annotation(ref: Reference, root: Path, rel: str) -> Expect:
    (root / rel).unlink()
    return Expect(rel, may_lose=ref.touched(rel))


def _bad_line(ref: Reference, root: Path, rel: str) -> Expect:
    line = insert_line(root / rel, GARBAGE_LINE)
    return Expect(rel, line=line)  # a bad line drops that line only: every sample is still written


def _any_text(suffix: str) -> Callable[[Reference], str | None]:
    return lambda ref: _pick(ref, text_files(ref, suffix))


def _truncated_text(ref: Reference, root: Path, rel: str) -> Expect:
    truncate_file(root / rel, keep=0.6)
    return Expect(rel, may_lose=ref.touched(rel))


def _json_entry(ref: Reference, root: Path, rel: str) -> Expect:
    if not garble_json_entry(root / rel):
        raise AssertionError(f"{rel} holds no list of objects to garble")
    return Expect(rel, may_lose=ref.touched(rel))


def _json_with_entries(ref: Reference) -> str | None:
    found = set()
    for f in text_files(ref, ".json"):
        try:
            text = (ref.root / f).read_text(encoding="utf-8")
            data = json.loads(text)
        except ValueError:
            continue
        if re.search(r"\[\s*\{", text) and data:
            found.add(f)
    return _pick(ref, found)


# -- geometry ----------------------------------------------------------------------------------------------------


def _geometry_files(ref: Reference, how: str) -> set[str]:
    out = set()
    for f in text_files(ref, ".txt"):
        lines = coordinate_lines(ref, f)
        if lines and (how != "bowtie" or any(len(nums) >= 8 for _, nums in lines)):
            out.add(f)
    for f in text_files(ref, ".xml"):
        if any(s["file"] == f for skips in ref.skips.values() for s in skips):
            continue
        text = (ref.root / f).read_text(encoding="utf-8", errors="replace")
        obj = re.search(r"<object>.*?</object>", text, re.DOTALL)
        n = len(re.findall(r"<[xy]\w*>\s*-?\d", obj.group())) if obj else 0
        if n >= (8 if how == "bowtie" else 4):
            out.add(f)
    return out


def _geometry(how: str) -> Mutation:
    def find(ref: Reference) -> str | None:
        return _pick(ref, _geometry_files(ref, how))

    def apply(ref: Reference, root: Path, rel: str) -> Expect:
        line = None
        if _suffix(rel) == ".xml":
            ok = damage_xml_object(root / rel, how)
        else:
            lines = coordinate_lines(ref, rel)
            if how == "bowtie":
                lines = [(i, n) for i, n in lines if len(n) >= 8]
            line = lines[0][0]
            ok = damage_txt_line(root / rel, line, how)
        if not ok:
            raise AssertionError(f"could not apply {how} to {rel}")
        # a self-intersecting quadrilateral may be repaired (corners re-ordered) instead of reported
        return Expect(rel, line=line, may_lose=ref.touched(rel), needs_skip=how != "bowtie", validate=True)

    return Mutation(f"geometry_{how}", find, apply)


# -- paths that escape the root ----------------------------------------------------------------------------------


def _escape_candidates(ref: Reference) -> list[tuple[str, str, str]]:
    """``(annotation file, source, token)``: an annotation naming a sample's source by ``token`` (a path suffix)."""
    out = []
    for f in sorted(ref.read_files()):
        if _suffix(f) not in TEXT_SUFFIXES or not (ref.root / f).is_file():
            continue
        text = (ref.root / f).read_text(encoding="utf-8", errors="replace")
        for sid in sorted(ref.touched(f)):
            for src in sorted(ref.samples[sid]):
                parts = src.split("/")
                for k in range(len(parts)):
                    token = "/".join(parts[k:])
                    if re.search(rf"(?<![\w./-]){re.escape(token)}(?![\w.-])", text):
                        out.append((f, src, token))
                        break
    return out


def _escape_find(ref: Reference) -> str | None:
    found = _escape_candidates(ref)
    return found[0][0] if found else None


def _escape_apply(ref: Reference, root: Path, rel: str) -> Expect:
    _, src, token = next(c for c in _escape_candidates(ref) if c[0] == rel)
    outside = root.parent / "outside" / Path(src).name
    outside.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(root / src, outside)  # a valid image: a converter that follows the path would read it
    base = root / src[: len(src) - len(token)]
    escaped = os.path.relpath(outside, base).replace(os.sep, "/")
    text = (root / rel).read_text(encoding="utf-8")
    pattern = re.compile(rf"(?<![\w./-]){re.escape(token)}(?![\w.-])")
    (root / rel).write_text(pattern.sub(escaped, text, count=1), encoding="utf-8", newline="")
    return Expect(rel, may_lose=ref.built_from(src), outside=str(outside))


# -- the table ---------------------------------------------------------------------------------------------------

MUTATIONS: dict[str, Mutation] = {
    m.name: m
    for m in (
        Mutation("image_missing", _source, _image_missing),
        Mutation("image_truncated", _source, _image_truncated),
        Mutation("image_bomb", lambda r: _pick(r, _bomb_target(image_sources(r))), _image_bomb),
        Mutation("pair_size_mismatch", _later_of_pair, _pair_mismatch),
        Mutation("video_missing", _video, _image_missing),
        Mutation("video_truncated", _video, _image_truncated),
        Mutation("label_missing", _label, _label_missing),
        Mutation("label_truncated", _label, _label_truncated),
        Mutation("label_bomb", lambda r: _pick(r, _bomb_target(label_files(r))), _label_bomb),
        Mutation("label_size_mismatch", _label, _label_mismatch),
        Mutation("label_empty", _label, _label_empty),
        Mutation("annotation_missing", _annotation_missing, _delete_annotation),
        Mutation("txt_bad_line", _unit_text(".txt"), _bad_line),
        Mutation("split_list_bad_line", _split_lists, _bad_line),
        Mutation("json_syntax", _any_text(".json"), _truncated_text),
        Mutation("json_entry", _json_with_entries, _json_entry),
        Mutation("xml_syntax", _any_text(".xml"), _truncated_text),
        _geometry("zero_area"),
        _geometry("bowtie"),
        _geometry("out_of_bounds"),
        Mutation("path_escape", _escape_find, _escape_apply),
    )
}
