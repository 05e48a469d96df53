"""Pipeline guarantees: identical bytes for any worker count, resume after a crash, option fingerprint, limit."""

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from data_converters import get_converter
from data_converters.base import Converter
from ts_instruct.errors import ConfigError
from ts_instruct.pipeline import ConvertOptions, convert_dataset
from ts_instruct.sample import Annotations, ImageRef, Sample, SampleMeta, Skip

from .conftest import read_jsonl


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


class Boom(RuntimeError):
    pass


class ToyConverter(Converter):
    """Toy converter: N units of two samples each, pixels generated in memory.

    Dataset format: none (test only).
    """

    name = "toy"
    title = "Toy"
    family = "classification"
    splits = ("train",)
    default_tasks = ("scene_open",)
    option_defaults = {"n": 9, "crash_at": -1}  # noqa: RUF012

    def units(self, split: str) -> Sequence[str]:
        return [f"u{i:02d}" for i in range(self.options["n"])]

    def read(self, split: str, unit: str) -> Iterator[Sample | Skip]:
        i = int(unit[1:])
        if i == self.options["crash_at"]:
            raise Boom(unit)
        if i == 4:
            yield Skip(unit, "bad unit on purpose", line=7)
            return
        for j in range(2):
            px = np.full((8, 8, 3), i * 10 + j, np.uint8)
            yield Sample(
                key=f"{unit}_{j}",
                images=[ImageRef(unit, 8, 8, pixels=px)],
                annotations=Annotations(scene=f"class{i % 3}", classes=["class0", "class1", "class2"]),
                meta=SampleMeta("toy", split),
            )


def _opts(out: Path, **kw) -> ConvertOptions:
    return ConvertOptions(out=out, shard_size=3, progress=False, **kw)


def test_output_is_identical_for_one_and_two_workers(tmp_path):
    convert_dataset(ToyConverter(tmp_path), _opts(tmp_path / "w1", workers=1))
    convert_dataset(ToyConverter(tmp_path), _opts(tmp_path / "w2", workers=2))
    a, b = tree_bytes(tmp_path / "w1"), tree_bytes(tmp_path / "w2")
    assert a == b
    assert len([k for k in a if k.endswith(".jsonl")]) == 4  # 16 records, 4 per shard: closed at unit boundaries


def test_a_crashed_run_resumes_to_identical_output(tmp_path):
    convert_dataset(ToyConverter(tmp_path), _opts(tmp_path / "ref"))
    with pytest.raises(Boom):
        convert_dataset(ToyConverter(tmp_path, crash_at=6), _opts(tmp_path / "run"))
    partial = tree_bytes(tmp_path / "run")
    assert any(k.endswith(".partial") for k in partial) or len([k for k in partial if k.endswith(".jsonl")]) < 6
    # the crash option is part of the converter options, so resume with a converter that has the same options
    # but no longer crashes: patch the class attribute instead of the option
    conv = ToyConverter(tmp_path, crash_at=6)
    conv.read = ToyConverter(tmp_path).read  # type: ignore[method-assign]
    convert_dataset(conv, _opts(tmp_path / "run"))
    # state and report name the converter options, which differ (crash_at); every other byte must be equal
    ref = {k: v for k, v in tree_bytes(tmp_path / "ref").items() if not k.startswith(("toy/.state", "toy/report"))}
    got = {k: v for k, v in tree_bytes(tmp_path / "run").items() if not k.startswith(("toy/.state", "toy/report"))}
    assert got == ref
    assert len([k for k in got if k.endswith(".jsonl")]) == 4


@pytest.mark.parametrize("complete", [False, True], ids=["mid-split", "after-the-last-shard"])
def test_a_rerun_removes_the_temporaries_of_a_killed_run(tmp_path, complete):
    """SIGKILL while the state or the report is being replaced leaves mkstemp files; the rerun deletes them."""
    convert_dataset(ToyConverter(tmp_path), _opts(tmp_path / "ref"))
    folder = tmp_path / "run" / "toy"
    if complete:  # killed while writing report.json: every split is complete, nothing is converted again
        convert_dataset(ToyConverter(tmp_path), _opts(tmp_path / "run"))
    else:
        with pytest.raises(Boom):
            convert_dataset(ToyConverter(tmp_path, crash_at=6), _opts(tmp_path / "run"))
    left = [folder / ".state" / ".train.json.k1ll3d.tmp", folder / ".report.json.k1ll3d.tmp"]
    if not complete:  # a complete split wrote all its images after the last cleaning
        left += [folder / "images" / "train" / ".u00_0.png.k1ll3d.tmp"]
    for tmp in left:
        tmp.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(b'{"half": ')
    conv = ToyConverter(tmp_path, crash_at=6) if not complete else ToyConverter(tmp_path)
    conv.read = ToyConverter(tmp_path).read  # type: ignore[method-assign]
    convert_dataset(conv, _opts(tmp_path / "run"))
    assert not [p for p in left if p.exists()]
    skip = ("toy/.state", "toy/report")
    ref = {k: v for k, v in tree_bytes(tmp_path / "ref").items() if not k.startswith(skip)}
    assert {k: v for k, v in tree_bytes(tmp_path / "run").items() if not k.startswith(skip)} == ref
    assert sorted(p.name for p in (folder / ".state").iterdir()) == ["train.json"]


def test_skips_are_reported_with_line_and_valid_samples_kept(tmp_path):
    report = convert_dataset(ToyConverter(tmp_path), _opts(tmp_path / "o"))
    train = report["splits"]["train"]
    assert train["samples"] == 16 and train["skipped"] == 1
    assert train["skips"] == [{"file": "u04", "reason": "bad unit on purpose", "line": 7, "key": None, "kept": False}]


def test_rerun_with_other_options_is_refused_unless_overwrite(tmp_path):
    convert_dataset(ToyConverter(tmp_path), _opts(tmp_path / "o"))
    with pytest.raises(ConfigError, match="different options"):
        convert_dataset(ToyConverter(tmp_path), _opts(tmp_path / "o", seed=1))
    convert_dataset(ToyConverter(tmp_path), _opts(tmp_path / "o", seed=1, overwrite=True))


def test_limit_caps_samples_per_split(tmp_path):
    report = convert_dataset(ToyConverter(tmp_path), _opts(tmp_path / "o", limit=5))
    assert report["splits"]["train"]["samples"] == 5
    assert len(read_jsonl(tmp_path / "o" / "toy")) == 5


def test_hardlink_and_copy_give_the_same_records(fake_dataset, tmp_path):
    root, _ = fake_dataset("nwpu_resisc45")
    conv = get_converter("nwpu_resisc45")
    convert_dataset(conv(root), _opts(tmp_path / "c", image_mode="copy", splits=["train"]))
    convert_dataset(conv(root), _opts(tmp_path / "h", image_mode="hardlink", splits=["train"]))
    assert tree_bytes(tmp_path / "c") == tree_bytes(tmp_path / "h")


def test_large_sources_are_streamed_to_the_same_output(fake_dataset, tmp_path, monkeypatch):
    """Sources up to _IN_MEMORY are read once for copy and fingerprint; larger ones are streamed: same bytes."""
    from ts_instruct import pipeline

    root, _ = fake_dataset("nwpu_resisc45")
    conv = get_converter("nwpu_resisc45")
    convert_dataset(conv(root), _opts(tmp_path / "mem", splits=["train"]))
    monkeypatch.setattr(pipeline, "_IN_MEMORY", 0)
    convert_dataset(conv(root), _opts(tmp_path / "stream", splits=["train"]))
    mem = tree_bytes(tmp_path / "mem")
    assert mem == tree_bytes(tmp_path / "stream")
    assert any(k.endswith(".jpg") for k in mem) and b'"fingerprint":{"v"' in b"".join(
        v for k, v in mem.items() if k.endswith(".jsonl")
    )


class ToyObjects(ToyConverter):
    """One 100x80 image with one box.

    Dataset format: none (test only).
    """

    name = "toy_objects"
    option_defaults = {"n": 1, "crash_at": -1}  # noqa: RUF012

    def read(self, split: str, unit: str) -> Iterator[Sample | Skip]:
        from ts_instruct.sample import ObjectAnn

        yield Sample(
            key="img",
            images=[ImageRef(unit, 100, 80, pixels=np.zeros((80, 100, 3), np.uint8))],
            annotations=Annotations(
                objects=[ObjectAnn("ship", [10, 20, 50, 60])], scene="class0", classes=["class0", "class1"]
            ),
            meta=SampleMeta("toy_objects", split),
        )


def test_resize_images_stores_the_model_input_size_and_scales_annotations(tmp_path):
    from PIL import Image

    from ts_instruct.render.resize import lf_input_size

    convert_dataset(ToyObjects(tmp_path), _opts(tmp_path / "o", resize_images=True, style="qwen25vl"))
    rec = read_jsonl(tmp_path / "o" / "toy_objects")[0]
    w, h = lf_input_size(100, 80)
    assert (w, h) == (112, 84)  # multiples of 28
    img = rec["meta"]["images"][0]
    assert (img["width"], img["height"], img["resized_from"]) == (w, h, [100, 80])
    with Image.open(tmp_path / "o" / "toy_objects" / rec["images"][0]) as im:
        assert im.size == (w, h)
    assert rec["annotations"]["objects"][0]["hbox"] == [11.2, 21.0, 56.0, 63.0]


def test_shards_merge_into_the_bytes_of_one_run(tmp_path):
    from ts_instruct.shards import merge_shards

    convert_dataset(ToyConverter(tmp_path), _opts(tmp_path / "one"))
    for i in range(3):  # each shard could run on another machine; here they share one output folder
        convert_dataset(ToyConverter(tmp_path), _opts(tmp_path / "sharded", shard=(i, 3), workers=2))
    assert len(list((tmp_path / "sharded" / "toy").glob("train-shard*.jsonl"))) >= 3
    merge_shards(tmp_path / "sharded" / "toy")
    assert tree_bytes(tmp_path / "sharded") == tree_bytes(tmp_path / "one")


def test_merge_refuses_a_missing_shard(tmp_path):
    from ts_instruct.shards import merge_shards

    convert_dataset(ToyConverter(tmp_path), _opts(tmp_path / "s", shard=(0, 2)))
    with pytest.raises(ConfigError, match=r"lacks complete shard\(s\) \[1\] of 2"):
        merge_shards(tmp_path / "s" / "toy")
