"""The Karpathy caption family shared by Sydney-Captions, RSICD and RSITMD: parsing rules and bad input."""

import json
import shutil

import numpy as np
import pytest

from data_converters import get_converter
from data_converters.fakes.common import save_image, texture
from data_converters.families.caption import normalise_caption, unique_captions
from ts_instruct.errors import DatasetNotFoundError, InvalidAnnotationError
from ts_instruct.pipeline import ConvertOptions, convert_dataset
from ts_instruct.sample import Sample, Skip


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("many planes are parked near a terminal .", "Many planes are parked near a terminal."),  # RSICD " ." end
        ("  two   bridges  cross the river", "Two bridges cross the river."),  # spaces, no final stop
        ("is it a port ?", "Is it a port?"),  # question mark kept, space removed
        ("a road , a lake and trees .", "A road, a lake and trees."),  # space before comma
        ("un café près du «port» .", "Un café près du «port»."),  # unicode kept
        ("", ""),  # empty
        (" . ", ""),  # only punctuation
    ],
)
def test_normalise_caption(raw, expected):
    assert normalise_caption(raw) == expected


def test_unique_captions_keeps_first_spelling_and_order():
    assert unique_captions(["B.", "a.", "b.", "A.", "c."]) == ["B.", "a.", "c."]


@pytest.mark.parametrize("name", ["sydney_captions", "rsicd", "rsitmd"])
def test_malformed_json_names_the_file_and_line(name, fake_dataset, tmp_path):
    src, _ = fake_dataset(name)
    root = tmp_path / "raw"
    shutil.copytree(src, root)
    conv = get_converter(name)(root)
    path = conv.json_path()
    path.write_text('{"images": [\n{"filename": "1.tif",\n "split": ', encoding="utf-8")
    with pytest.raises(InvalidAnnotationError, match=rf"{path.name}:3: not valid JSON"):
        convert_dataset(get_converter(name)(root), ConvertOptions(out=tmp_path / "o", progress=False))


@pytest.mark.parametrize("name", ["sydney_captions", "rsicd", "rsitmd"])
def test_json_without_images_list_is_refused(name, fake_dataset, tmp_path):
    src, _ = fake_dataset(name)
    root = tmp_path / "raw"
    shutil.copytree(src, root)
    get_converter(name)(root).json_path().write_text(json.dumps({"annotations": []}), encoding="utf-8")
    with pytest.raises(InvalidAnnotationError, match="field 'images'"):
        get_converter(name)(root).units("train")


@pytest.mark.parametrize(
    "name, expected",
    [("sydney_captions", "dataset.json"), ("rsicd", "dataset_rsicd.json"), ("rsitmd", "dataset_RSITMD.json")],
)
def test_missing_root_names_the_json(name, expected, tmp_path):
    with pytest.raises(DatasetNotFoundError, match=expected):
        convert_dataset(get_converter(name)(tmp_path / "nope"), ConvertOptions(out=tmp_path / "o", progress=False))


def _read_all(conv, split):
    out = []
    for unit in conv.units(split):
        out.extend(conv.read(split, unit))
    return out


def test_entries_of_every_kind_are_handled(tmp_path):
    """Duplicates, a file in two splits, a path escaping the root, a bad split and a tokens-only sentence."""
    root = tmp_path / "raw"
    (root / "imgs").mkdir(parents=True)
    for n in (1, 2):
        save_image(root / "imgs" / f"{n}.tif", texture(np.random.default_rng(n), 16, 16))
    sent = [{"raw": "a lake ."}]
    images = [
        {"filename": "1.tif", "split": "train", "sentences": sent},
        {"filename": "1.tif", "split": "train", "sentences": [{"raw": "another ."}]},  # repeated entry
        {"filename": "2.tif", "split": "train", "sentences": [{"tokens": ["two", "ponds"]}]},  # tokens only
        {"filename": "2.tif", "split": "test", "sentences": sent},  # same image in another split
        {"filename": "../../etc/passwd", "split": "train", "sentences": sent},  # escapes the root
        {"filename": "3.tif", "split": "restval", "sentences": sent},  # unknown split
        {"filename": "4.tif", "split": "Validation", "sentences": sent},  # alias of val, image missing
    ]
    (root / "dataset.json").write_text(json.dumps({"images": images}), encoding="utf-8")
    conv = get_converter("sydney_captions")(root)
    assert conv.units("train") == ["../../etc/passwd", "1.tif", "2.tif", "#images[5]"]
    assert conv.units("val") == ["4.tif"]
    items = _read_all(conv, "train")
    samples = [i for i in items if isinstance(i, Sample)]
    skips = [i for i in items if isinstance(i, Skip)]
    assert [s.key for s in samples] == ["1", "2"]
    assert samples[0].annotations.captions == ["A lake."]  # the first entry wins
    assert samples[1].annotations.captions == ["Two ponds."]
    reasons = " | ".join(s.reason for s in skips)
    assert "points outside the dataset root" in reasons
    assert "images[1] repeats '1.tif' of images[0]" in reasons
    assert "listed in split 'train' and in ['test']" in reasons
    assert "images[5].split must be one of" in reasons
    val = _read_all(conv, "val")
    assert len(val) == 1 and isinstance(val[0], Skip) and val[0].file == "imgs/4.tif"
