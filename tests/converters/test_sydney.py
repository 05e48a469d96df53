import numpy as np
import pytest

from data_converters import get_converter
from data_converters.fakes import make_fake
from ts_instruct.errors import DatasetNotFoundError
from ts_instruct.imageio import read_rgb
from ts_instruct.pipeline import ConvertOptions, convert_dataset
from ts_instruct.validate import validate_path

from ..conftest import check_golden, read_jsonl

NAME = "sydney"


@pytest.fixture(scope="module")
def converted(fake_dataset, tmp_path_factory):
    root, info = fake_dataset(NAME)
    out = tmp_path_factory.mktemp("out_sydney")
    report = convert_dataset(get_converter(NAME)(root), ConvertOptions(out=out, progress=False))
    return out / NAME, report, info, root


def test_every_image_lands_in_exactly_one_split(converted):
    _, report, info, _ = converted
    samples = {s: v["samples"] for s, v in report["splits"].items()}
    assert sum(samples.values()) == info["images"] == 14
    assert all(n > 0 for n in samples.values()), samples
    for s in report["splits"].values():
        assert s["records"] == 2 * s["samples"] and s["skipped"] == 0


def test_class_comes_from_the_folder_in_any_case(converted):
    out, _, info, _ = converted
    by_source = {r["meta"]["images"][0]["source"]: r["annotations"]["scene"] for r in read_jsonl(out)}
    assert by_source == info["labels"]  # Residential/ and Runway/ map to the lower-case classes
    assert set(by_source.values()) == set(get_converter(NAME).classes)


def test_tiff_patches_are_reencoded_and_validate(converted):
    out, _, _, _ = converted
    records = read_jsonl(out)
    assert all(r["images"][0].endswith(".png") for r in records)
    summary, issues = validate_path(out)
    assert summary.records == len(records) == 28
    assert issues == []


def test_split_key_ignores_the_folder_spelling(converted):
    _, _, _, root = converted
    conv = get_converter(NAME)(root)
    residential = root / "Sydney" / "Residential" / "1.tif"
    assert conv.split_key(residential) == "residential/1.tif"


def test_fake_shares_its_pixels_with_sydney_captions(tmp_path):
    info = make_fake(NAME, tmp_path / "cls", seed=3)
    make_fake("sydney_captions", tmp_path / "cap", seed=3)
    for rel, n in info["numbers"].items():
        assert np.array_equal(read_rgb(tmp_path / "cls" / rel), read_rgb(tmp_path / "cap" / "imgs" / f"{n}.tif"))
    other = make_fake("sydney_captions", tmp_path / "other", seed=4)
    assert other["numbers"]
    assert not np.array_equal(read_rgb(tmp_path / "cap" / "imgs" / "1.tif"), read_rgb(tmp_path / "other/imgs/1.tif"))


def test_source_images_option_copies_given_pixels(tmp_path):
    make_fake(NAME, tmp_path / "a", seed=0)
    sources = sorted((tmp_path / "a" / "Sydney").rglob("*.tif"))
    info = make_fake(NAME, tmp_path / "b", seed=99, source_images=sources)
    first = next(iter(info["labels"]))
    assert np.array_equal(read_rgb(tmp_path / "b" / first), read_rgb(sources[0]))


def test_missing_root_says_how_to_fix(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"not found in root=.*pass a different --root"):
        convert_dataset(get_converter(NAME)(tmp_path / "nope"), ConvertOptions(out=tmp_path / "o", progress=False))


def test_golden_first_record(converted):
    out, _, _, _ = converted
    check_golden(NAME, read_jsonl(out, "train-*.jsonl")[0])
