import numpy as np
import pytest
from PIL import Image

from data_converters import get_converter
from data_converters.fakes import make_fake
from data_converters.second import SECOND, palette_to_ids
from ts_instruct.errors import DatasetNotFoundError, StrictModeError
from ts_instruct.pipeline import ConvertOptions, convert_dataset
from ts_instruct.validate import validate_path

from ..conftest import check_golden, read_jsonl
from .change_checks import STYLES, check_pair_record, region_ious

NAME = "second"
IOU_FLOOR = 0.85  # measured 0.991-1.0 on these fakes; qwen25vl's coarse grid on tiny images costs most


@pytest.fixture(scope="module", params=STYLES)
def converted(request, fake_dataset, tmp_path_factory):
    root, info = fake_dataset(NAME)
    out = tmp_path_factory.mktemp(f"out_second_{request.param}")
    report = convert_dataset(get_converter(NAME)(root), ConvertOptions(out=out, style=request.param, progress=False))
    return out / NAME, report, info, root


def test_counts_per_split_follow_the_lists(converted):
    out, report, info, _ = converted
    assert {s: v["samples"] for s, v in report["splits"].items()} == {s: len(k) for s, k in info["splits"].items()}
    for split, keys in info["splits"].items():
        assert sorted({r["meta"]["key"] for r in read_jsonl(out, f"{split}-*.jsonl")}) == sorted(keys)


def test_hash_split_is_stable_and_disjoint(fake_dataset):
    root, info = fake_dataset(NAME, lists=False)
    units = {s: list(get_converter(NAME)(root).units(s)) for s in SECOND.splits}
    assert sorted(u.split("/")[-1][:-4] for us in units.values() for u in us) == sorted(info["pairs"])
    assert not set(units["train"]) & set(units["val"])
    assert units == {s: list(get_converter(NAME)(root).units(s)) for s in SECOND.splits}


def test_every_record_validates(converted):
    out, _, _, _ = converted
    summary, issues = validate_path(out)
    assert summary.records == 24
    assert issues == []


def test_from_to_classes_match_the_label_maps(converted):
    out, _, info, _ = converted
    for r in read_jsonl(out):
        got: dict[str, int] = {}
        for c in r["annotations"].get("changes", []):
            key = f"{c['from_label']} → {c['to_label']}"
            got[key] = got.get(key, 0) + 1
        assert got == info["transitions"][r["meta"]["key"]]
        if r["task"] == "change_semantic":
            labels = sorted(i["label"] for i in r["meta"]["target"]["items"])
            assert labels == sorted(k.replace("_", " ") for k, n in got.items() for _ in range(n))


def test_kept_from_and_to_masks_hold_the_palette_ids_inside_changes(converted):
    out, _, _, root = converted
    for r in read_jsonl(out, "train-*.jsonl"):
        change, before, after = (np.asarray(Image.open(out / m["path"])) for m in r["annotations"]["masks"])
        src = r["meta"]["images"][0]["source"]
        for saved, folder in ((before, "label1"), (after, "label2")):
            ids = palette_to_ids(np.asarray(Image.open(root / src.replace("im1", folder))), SECOND.palette)
            assert np.array_equal(saved[change == 1], ids[change == 1])
            assert (saved[change == 0] == 0).all()


def test_colour_outside_the_palette_is_reported_and_ignored(converted):
    out, report, info, _ = converted
    (skip,) = [s for v in report["splits"].values() for s in v["skips"]]
    assert skip["kept"] and skip["file"] == info["off_palette"] and "(250, 128, 10) x 16" in skip["reason"]
    rec = next(r for r in read_jsonl(out) if r["meta"]["key"] == info["off_palette"].split("/")[-1][:-4])
    change = rec["annotations"]["masks"][0]
    assert change["ignore_index"] == 255
    assert (np.asarray(Image.open(out / change["path"]))[40:44, 40:44] == 255).all()


def test_touching_regions_of_different_changes_stay_apart(converted):
    out, _, _, _ = converted
    rec = next(r for r in read_jsonl(out) if r["meta"]["key"] == "00052")
    boxes = sorted((c["from_label"], c["hbox"]) for c in rec["annotations"]["changes"])
    assert boxes == [("ground", [12.0, 4.0, 20.0, 14.0]), ("low_vegetation", [4.0, 4.0, 12.0, 14.0])]


def test_pairs_keep_time_order(converted):
    out, _, _, _ = converted
    for r in read_jsonl(out):
        check_pair_record(r)
        assert [i["source"].split("/")[-2] for i in r["meta"]["images"]] == ["im1", "im2"]


def test_answer_geometry_rasterises_back_onto_the_change_mask(converted):
    out, _, _, _ = converted
    ious = region_ious(read_jsonl(out), out)
    assert sum(map(len, ious.values())) == 12
    assert all(v >= IOU_FLOOR for values in ious.values() for v in values), ious


def test_missing_root_says_how_to_fix(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"'SECOND_train_set/im1/'"):
        convert_dataset(get_converter(NAME)(tmp_path), ConvertOptions(out=tmp_path / "o", progress=False))


def test_strict_fails_on_the_unknown_colour(fake_dataset, tmp_path):
    root, _ = fake_dataset(NAME)
    with pytest.raises(StrictModeError, match=r"label2/00046\.png: colours outside the SECOND palette"):
        convert_dataset(get_converter(NAME)(root), ConvertOptions(out=tmp_path, strict=True, progress=False))


def test_golden_first_record(fake_dataset, tmp_path):
    root, _ = fake_dataset(NAME)
    convert_dataset(get_converter(NAME)(root), ConvertOptions(out=tmp_path, progress=False))
    check_golden(NAME, read_jsonl(tmp_path / NAME, "train-*.jsonl")[0])


def test_palette_mode_label_png_reads_as_its_colours(tmp_path):
    info = make_fake(NAME, tmp_path)
    for folder in ("label1", "label2"):
        path = tmp_path / "SECOND_train_set" / folder / "00003.png"
        Image.open(path).convert("P", palette=Image.Palette.ADAPTIVE, colors=8).save(path)
        assert Image.open(path).mode == "P"
    (sample,) = get_converter(NAME)(tmp_path).read("train", "SECOND_train_set/im1/00003.png")
    got: dict[str, int] = {}
    for c in sample.annotations.changes:
        got[f"{c.from_label} → {c.to_label}"] = got.get(f"{c.from_label} → {c.to_label}", 0) + 1
    assert got == info["transitions"]["00003"] != {}
