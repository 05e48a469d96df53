import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from data_converters import get_converter
from data_converters.fakes import make_fake
from data_converters.fakes.common import save_image, shared_texture
from data_converters.families.grounding import fit_box
from ts_instruct.errors import DatasetNotFoundError, InvalidAnnotationError, StrictModeError
from ts_instruct.imageio import read_rgb
from ts_instruct.pipeline import ConvertOptions, convert_dataset
from ts_instruct.render import RenderItem, get_style
from ts_instruct.validate import validate_path

from ..conftest import check_golden, read_jsonl

NAME = "rsvg"


@pytest.fixture(scope="module", params=["qwen25vl", "qwen2vl", "qwen3vl"])
def converted(request, fake_dataset, tmp_path_factory):
    root, info = fake_dataset(NAME)
    out = tmp_path_factory.mktemp(f"out_rsvg_{request.param}")
    report = convert_dataset(get_converter(NAME)(root), ConvertOptions(out=out, style=request.param, progress=False))
    return out / NAME, report, info, root, request.param


def _global_objects(root):
    """(xml name, position in file, global index, description) in the documented numbering."""
    out, n = [], 0
    for xml in sorted((root / "DIOR_RSVG" / "Annotations").glob("*.xml"), key=lambda p: p.name):
        for j, obj in enumerate(ET.parse(xml).getroot().findall("object")):
            out.append((xml.stem, j, n, (obj.findtext("description") or "").strip()))
            n += 1
    return out


def test_counts_per_split(converted):
    _, report, info, _, _ = converted
    splits = report["splits"]
    assert {s: v["samples"] for s, v in splits.items()} == info["samples"]
    for s, v in splits.items():
        assert v["tasks"] == {"ground": len(info["refs"][s]), "describe_box": len(info["refs"][s])}


def test_split_files_hold_global_object_indices(converted):
    out, _, info, root, _ = converted
    by_index = {g: (stem, desc) for stem, _, g, desc in _global_objects(root)}
    for split, ids in info["refs"].items():
        records = [r for r in read_jsonl(out, f"{split}-*.jsonl") if r["task"] == "ground"]
        got = sorted(int(r["annotations"]["refs"][0]["id"]) for r in records)
        assert got == ids
        for r in records:
            ref = r["annotations"]["refs"][0]
            stem, desc = by_index[int(ref["id"])]
            assert r["meta"]["key"] == stem and ref["expression"] == " ".join(desc.split())
    # the first image's two objects (0, 1) are test, image 00005's objects straddle train (8) and val (9)
    keys = {s: {r["meta"]["key"] for r in read_jsonl(out, f"{s}-*.jsonl")} for s in info["refs"]}
    assert "00005" in keys["train"] and "00005" in keys["val"] and "00001" in keys["test"]


def test_ground_answer_is_the_box_in_the_render_style(converted):
    out, _, _, _, style_name = converted
    style = get_style(style_name)
    for r in read_jsonl(out):
        if r["task"] != "ground":
            continue
        ref = r["annotations"]["refs"][0]
        target = r["meta"]["target"]
        assert target["kind"] == "hbox" and len(target["items"]) == 1
        assert target["items"][0]["coords"] == ref["hbox"]
        frame = style.frame(r["meta"]["images"][0]["width"], r["meta"]["images"][0]["height"])
        (item,) = style.parse_strict(r["messages"][1]["content"], frame, kind="hbox")
        step = max(frame.pixel_step)
        assert max(abs(a - b) for a, b in zip(item.coords, ref["hbox"], strict=True)) <= step
        assert f'"{ref["expression"].rstrip(".")}"' in r["messages"][0]["content"]


def test_describe_box_writes_the_box_inline_and_answers_the_expression(converted):
    out, _, _, _, style_name = converted
    style = get_style(style_name)
    for r in read_jsonl(out):
        if r["task"] != "describe_box":
            continue
        ref = r["annotations"]["refs"][0]
        frame = style.frame(r["meta"]["images"][0]["width"], r["meta"]["images"][0]["height"])
        assert style.render_inline(RenderItem("hbox", tuple(ref["hbox"])), frame) in r["messages"][0]["content"]
        assert r["messages"][1]["content"] == ref["expression"] == r["meta"]["target"]["value"]


def test_unicode_expression_survives(converted):
    out, _, _, _, _ = converted
    assert any("café-coloured « service area »" in r["messages"][1]["content"] for r in read_jsonl(out))


def test_bad_boxes_descriptions_and_split_lines_are_reported(converted):
    _, report, info, _, _ = converted
    train = report["splits"]["train"]
    reasons = [s["reason"] for s in train["skips"]]
    assert any("global index 5" in r and "outside the 64x64 image" in r for r in reasons)
    assert any("global index 7" in r and "empty <description>" in r for r in reasons)
    lines = sorted(s["line"] for s in train["skips"] if s["file"] == "DIOR_RSVG/train.txt")
    assert lines == info["bad_lines"]["train"]
    assert train["skipped"] == 1  # image 00004 has no train expression left


def test_every_record_validates(converted):
    out, _, _, _, _ = converted
    summary, issues = validate_path(out)
    assert summary.records == 16 and issues == []


def test_golden_first_record(converted):
    out, _, _, _, style = converted
    if style == "qwen25vl":
        check_golden(NAME, read_jsonl(out, "train-*.jsonl")[0])


@pytest.mark.parametrize(
    "box, expected",
    [
        ([10, 10, 20, 20], [10.0, 10.0, 20.0, 20.0]),  # inside
        ([0, 0, 64, 64], [0.0, 0.0, 64.0, 64.0]),  # the whole image
        ([-1, 10, 65, 20], [0.0, 10.0, 64.0, 20.0]),  # 1-px overflow: clipped
        ([10, 10, 90, 20], None),  # far outside: dropped
        ([70, 10, 90, 20], None),  # entirely outside
        ([20, 10, 10, 20], None),  # x2 < x1
        ([10, 10, 10, 20], None),  # zero width
    ],
)
def test_fit_box(box, expected):
    assert fit_box(box, 64, 64)[0] == expected


def test_malformed_xml_stops_the_conversion_naming_the_file(fake_dataset, tmp_path):
    src, _ = fake_dataset(NAME)
    root = tmp_path / "raw"
    shutil.copytree(src, root)
    (root / "DIOR_RSVG" / "Annotations" / "00002.xml").write_text("<annotation><object>", encoding="utf-8")
    with pytest.raises(InvalidAnnotationError, match=r"00002\.xml:1: not valid XML.*re-extract"):
        get_converter(NAME)(root).units("train")


def test_strict_fails_on_the_box_outside(fake_dataset, tmp_path):
    root, _ = fake_dataset(NAME)
    with pytest.raises(StrictModeError, match=r"00003\.xml"):
        convert_dataset(get_converter(NAME)(root), ConvertOptions(out=tmp_path, strict=True, progress=False))


def test_missing_root_says_how_to_fix(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="DIOR_RSVG/Annotations"):
        convert_dataset(get_converter(NAME)(tmp_path / "nope"), ConvertOptions(out=tmp_path / "o", progress=False))


def test_fake_can_share_source_images_with_dior(tmp_path):
    """DIOR-RSVG is built on DIOR images: image n of the fake is DIOR image n (shared texture or given files)."""
    make_fake(NAME, tmp_path / "a", seed=5)
    img = read_rgb(tmp_path / "a" / "DIOR_RSVG" / "JPEGImages" / "00002.jpg").astype(int)
    assert np.abs(img - shared_texture(5, "dior", 2, 64, 64).astype(int)).mean() < 4  # JPEG noise only
    sources = [save_image(tmp_path / "dior" / f"{i}.png", shared_texture(1, "other", i, 64, 64)) for i in range(5)]
    make_fake(NAME, tmp_path / "b", seed=0, source_images=sources)
    img = read_rgb(tmp_path / "b" / "DIOR_RSVG" / "JPEGImages" / "00004.jpg").astype(int)
    assert np.abs(img - read_rgb(sources[3]).astype(int)).mean() < 4
