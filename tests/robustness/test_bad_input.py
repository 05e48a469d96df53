"""Bad input, for every registered converter that has a fake: damage one file, convert, check what survives.

Every (converter, mutation) pair is a test. A mutation finds its target in the converter's traced reference run
(see ``harness.py``); where it finds none, the pair must be listed in :data:`NOT_APPLICABLE` with the reason, and a
listed pair that does find a target fails too, so the table stays true as converters change. Nothing is skipped.

What every applicable pair checks on the conversion of the damaged copy:

1. no exception escapes ``convert_dataset``;
2. every sample that does not depend on the damaged file is still written (same ``(split, key)`` as the reference);
3. samples built from a destroyed source image are not written;
4. no written sample comes from a file outside the dataset root;
5. a skip names the damaged file (and the damaged line, for line-based formats) and the report counts it;
6. a sample that was lost is explained by such a skip (nothing disappears silently);
7. for damaged geometry, the output passes the record validator;
8. skips name files relative to the dataset root (a report does not depend on where the data lies).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from data_converters import list_converters
from data_converters.fakes import FAKES
from ts_instruct.errors import DatasetNotFoundError
from ts_instruct.validate import validate_path

from .harness import Expect, Reference, convert, copy_fake, naming_skips, written_samples
from .mutations import MUTATIONS

CONVERTERS = [c.name for c in list_converters() if c.name in FAKES]

# -- the table of mutations that do not apply ---------------------------------------------------------------------
# Converters by what their raw data holds (a new converter must be placed in one group, or get its own entries).
DETECTION = ("dota", "dior", "dior_r", "nwpu_vhr10")  # image + per-image box annotation (txt lines or VOC XML)
FOLDER_CLASSES = ("nwpu_resisc45", "sydney", "whu_rs19")  # class = folder name; no annotation file
TEXT_INDEXED = ("sydney_captions", "rsicd", "rsitmd", "capera", "rsvqa_hr", "rsvqa_lr")  # JSON index of the split
GROUNDING_XML = ("rsvg",)  # per-image VOC XML read while listing units + object-index split lists
CHANGE_PAIRS = ("levir_cd", "cdd", "lim_cd", "second", "hi_ucd")  # image pairs + label rasters
SEG_MASKS = ("whu_building", "inria_aerial", "loveda")  # one image + one label raster, found by listing folders

NO_LABELS = "no label rasters: annotations are folder names or text"
NO_VECTOR = "no vector geometry in the annotations (change regions are traced from label rasters)"
NO_VIDEO = "no videos"
_NA: list[tuple[tuple[str, ...], tuple[str, ...], str]] = [
    # (converters, mutations, reason)
    (DETECTION + FOLDER_CLASSES + TEXT_INDEXED + GROUNDING_XML,
     ("label_missing", "label_truncated", "label_bomb", "label_size_mismatch", "label_empty"), NO_LABELS),
    (DETECTION + FOLDER_CLASSES + TEXT_INDEXED + GROUNDING_XML + SEG_MASKS, ("pair_size_mismatch",),
     "one image per sample"),
    (FOLDER_CLASSES + TEXT_INDEXED + CHANGE_PAIRS + SEG_MASKS, ("geometry_zero_area", "geometry_out_of_bounds"),
     NO_VECTOR),
    (FOLDER_CLASSES + TEXT_INDEXED + CHANGE_PAIRS + SEG_MASKS, ("geometry_bowtie",), NO_VECTOR),
    (("dior", "nwpu_vhr10", *GROUNDING_XML), ("geometry_bowtie",),
     "boxes only (xmin, ymin, xmax, ymax): a box cannot self-intersect"),
    (("capera",), ("image_missing", "image_truncated", "image_bomb"), "samples are videos (see video_*)"),
    (tuple(n for n in DETECTION + FOLDER_CLASSES + TEXT_INDEXED + GROUNDING_XML + CHANGE_PAIRS + SEG_MASKS
           if n != "capera"),
     ("video_missing", "video_truncated"), NO_VIDEO),
    (FOLDER_CLASSES, ("annotation_missing",), "no annotation file: the class is the folder name"),
    (TEXT_INDEXED, ("annotation_missing",), "one index file per split or dataset, read while listing units: "
     "damaging it is json_syntax/json_entry, deleting it is a dataset that is not there"),
    (GROUNDING_XML, ("annotation_missing",), "every XML is read while listing units (global object numbering): a "
     "deleted XML cannot be told from one never shipped"),
    (tuple(n for n in CHANGE_PAIRS + SEG_MASKS if n != "lim_cd"), ("annotation_missing",),
     "no annotation file: labels are rasters (see label_missing)"),
    (DETECTION + FOLDER_CLASSES + GROUNDING_XML + SEG_MASKS + tuple(n for n in CHANGE_PAIRS if n != "lim_cd"),
     ("json_syntax", "json_entry"), "no JSON annotation"),
    (("dota", "nwpu_vhr10", *FOLDER_CLASSES, *TEXT_INDEXED, *CHANGE_PAIRS, *SEG_MASKS), ("xml_syntax",),
     "no XML annotation"),
    (("dior", "dior_r", *FOLDER_CLASSES, *TEXT_INDEXED, *GROUNDING_XML, *CHANGE_PAIRS, *SEG_MASKS), ("txt_bad_line",),
     "no per-sample text annotation (split lists are split_list_bad_line)"),
    (("dota", "nwpu_vhr10", "sydney", "whu_rs19", *TEXT_INDEXED, *SEG_MASKS,
      *(n for n in CHANGE_PAIRS if n != "second")), ("split_list_bad_line",), "no split list file"),
    (("dota", "nwpu_vhr10", "sydney", "whu_rs19"), ("path_escape",), "no annotation names a file"),
    (("rsvqa_hr", "rsvqa_lr"), ("path_escape",), "images are named by numeric id (<id>.tif), never by a path"),
    (("levir_cd", "cdd", "hi_ucd", *SEG_MASKS), ("path_escape",),
     "images and labels are found by listing folders; no annotation names a file"),
    (("second",), ("path_escape",), "list entries are paths on the authors' machine reduced to their file name and "
     "matched against the folder listing, never opened"),
]  # fmt: skip

#: (converter, mutation) → why the mutation has nothing to damage in that dataset's format.
NOT_APPLICABLE: dict[tuple[str, str], str] = {(n, m): why for names, muts, why in _NA for n in names for m in muts}

#: (converter, mutation) → why a damaged file may go unreported (checks 5 and 6 are waived; the others still run).
UNREPORTED: dict[tuple[str, str], str] = {
    ("sydney", "image_missing"): "images are found by listing class folders and no list names them: a deleted "
    "image leaves nothing to report",
    ("whu_rs19", "image_missing"): "images are found by listing class folders and no list names them: a deleted "
    "image leaves nothing to report",
    ("nwpu_vhr10", "image_missing"): "the target is a negative image, found by listing its folder: nothing names it "
    "(a positive image's orphan ground truth is reported: tests/converters/test_nwpu_vhr10.py)",
    ("dota", "annotation_missing"): "units are label files: an image without one is not converted and not an error "
    "(a v2.0 image folder holds images that v1.0 and v1.5 do not label)",
    ("dior", "path_escape"): "the XML's <filename> is not used: images are found by the id of the split file "
    "(checked: no sample comes from outside)",
    ("dior_r", "path_escape"): "the XML's <filename> is not used: images are found by the id of the split file "
    "(checked: no sample comes from outside)",
    ("nwpu_resisc45", "path_escape"): "split-list entries are matched by file name against the images found under "
    "the root and never opened, so '../' cannot reach outside (checked: no sample comes from outside)",
}


def _check(ref: Reference, expect: Expect, report: dict[str, Any], out: Path, *, waive_skip: str | None) -> None:
    splits = set(report["splits"])
    before = {sid for sid in ref.samples if sid[0] in splits}
    written = written_samples(out)
    after = set(written)
    skips = [s for split in splits for s in report["splits"][split]["skips"]]
    named = naming_skips(skips, expect.file)
    where = f"damaged {expect.file}"

    kept = before - expect.may_lose
    assert kept <= after, f"{where}: samples that do not depend on it were lost: {sorted(kept - after)}"
    assert not (expect.must_lose & after), f"{where}: samples built from it were written: {expect.must_lose & after}"
    outside = [(sid, s) for sid, srcs in written.items() for s in srcs if s.startswith(("/", "..")) or ":" in s[:3]]
    assert not outside, f"{where}: samples read from outside the dataset root: {outside}"
    if expect.needs_skip and waive_skip is None:
        assert named, f"{where}: no skip names it; skips were {skips}"
        if expect.line is not None:
            assert any(s.get("line") == expect.line for s in named), (
                f"{where}: line {expect.line} not reported; skips naming the file: {named}"
            )
        if expect.reason is not None:
            assert any(expect.reason in s["reason"] for s in named), (
                f"{where}: no skip says {expect.reason!r}; skips naming the file: {named}"
            )
        counted = sum(report["splits"][s]["skipped"] + report["splits"][s]["dropped_parts"] for s in splits)
        reasons = sum(sum(report["splits"][s]["skip_reasons"].values()) for s in splits)
        assert counted == reasons == len(skips), f"{where}: the report's counts do not add up to its skips"
    absolute = [s["file"] for s in skips if Path(s["file"]).is_absolute()]
    assert not absolute, f"{where}: skips name files by absolute paths (reports must not depend on --root): {absolute}"
    lost = before - after
    assert not lost or named or waive_skip, f"{where}: samples lost without a skip naming the file: {sorted(lost)}"
    if expect.validate:
        _, issues = validate_path(out)
        assert not issues, f"{where}: the output fails validation: {issues[:3]}"


@pytest.mark.parametrize("mutation", list(MUTATIONS))
@pytest.mark.parametrize("name", CONVERTERS)
def test_damaged_file(name: str, mutation: str, reference: Callable[[str], Reference], tmp_path: Path) -> None:
    ref = reference(name)
    m = MUTATIONS[mutation]
    target = m.find(ref)
    if target is None:
        assert (name, mutation) in NOT_APPLICABLE, (
            f"{mutation} finds nothing to damage in the {name} fake: add ({name!r}, {mutation!r}) to NOT_APPLICABLE "
            "with the reason, or extend the fake"
        )
        return
    assert (name, mutation) not in NOT_APPLICABLE, (
        f"NOT_APPLICABLE lists ({name!r}, {mutation!r}) but {mutation} damages {target}: remove the entry"
    )
    root = copy_fake(ref, tmp_path)
    expect = m.apply(ref, root, target)
    splits = sorted({s for s, _ in ref.touched(target)}) or None
    report = convert(name, root, tmp_path / "out", splits=splits)
    _check(ref, expect, report, ref_out(ref, tmp_path), waive_skip=UNREPORTED.get((name, mutation)))


def ref_out(ref: Reference, tmp_path: Path) -> Path:
    """The damaged copy's dataset folder (same folder name as the reference's)."""
    return tmp_path / "out" / ref.out.name


@pytest.mark.parametrize("name", CONVERTERS)
def test_dataset_gone(name: str, reference: Callable[[str], Reference], tmp_path: Path) -> None:
    ref = reference(name)
    root = copy_fake(ref, tmp_path)
    shutil.rmtree(root)
    root.mkdir()
    with pytest.raises(DatasetNotFoundError, match=rf"dataset '{name}' not found"):
        convert(name, root, tmp_path / "out")


def test_every_converter_is_in_a_group() -> None:
    groups = DETECTION + FOLDER_CLASSES + TEXT_INDEXED + GROUNDING_XML + CHANGE_PAIRS + SEG_MASKS
    assert sorted(groups) == sorted(CONVERTERS), "place each converter with a fake in one group of the table"


def test_tables_name_known_pairs() -> None:
    for table in (NOT_APPLICABLE, UNREPORTED):
        for name, mutation in table:
            assert mutation in MUTATIONS, f"unknown mutation {mutation!r} in a table"
            assert name in CONVERTERS, f"unknown converter {name!r} in a table"
