"""The writer fingerprints every emitted image: copied, re-encoded and tiled, once per scene, or not at all."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from data_converters import get_converter
from data_converters.base import Converter
from data_converters.fakes.scenes import scene
from ts_instruct import pipeline
from ts_instruct.cli import main
from ts_instruct.fingerprint import RECIPE, Fingerprint
from ts_instruct.imageio import read_rgb
from ts_instruct.pipeline import ConvertOptions, convert_dataset
from ts_instruct.sample import Annotations, ImageRef, Sample, SampleMeta, Skip, Window

from .conftest import read_jsonl


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class TileToy(Converter):
    """Two 128 px scenes on disk, each cut into four 64 px tiles (one unit per scene).

    Dataset format: ``scenes/s0.png``, ``scenes/s1.png`` (test only).
    """

    name = "tile_toy"
    title = "Tile toy"
    family = "classification"
    splits = ("train",)
    default_tasks = ("scene_open", "scene_choice")

    def units(self, split: str) -> Sequence[str]:
        return ["scenes/s0.png", "scenes/s1.png"]

    def read(self, split: str, unit: str) -> Iterator[Sample | Skip]:
        pixels = read_rgb(self.root / unit)
        for y in (0, 64):
            for x in (0, 64):
                tile = pixels[y : y + 64, x : x + 64]
                yield Sample(
                    key=f"{Path(unit).stem}_{x}_{y}",
                    images=[ImageRef(unit, 64, 64, window=Window(x, y, x + 64, y + 64), pixels=tile)],
                    annotations=Annotations(scene="a", classes=["a", "b"]),
                    meta=SampleMeta("tile_toy", split),
                )


@pytest.fixture
def tile_root(tmp_path):
    for i in range(2):
        path = tmp_path / "raw" / "scenes" / f"s{i}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(scene(np.random.default_rng(i), 128, 128)).save(path)
    return tmp_path / "raw"


def test_tiles_carry_their_scene_hash_computed_once_per_scene(tile_root, tmp_path, monkeypatch):
    calls: list[Path] = []
    real = pipeline.sha256_file
    monkeypatch.setattr(pipeline, "sha256_file", lambda p: calls.append(Path(p)) or real(p))
    convert_dataset(TileToy(tile_root), ConvertOptions(out=tmp_path / "out", progress=False))
    assert sorted(p.name for p in calls) == ["s0.png", "s1.png"]  # 8 tiles, 2 scenes hashed
    out = tmp_path / "out" / "tile_toy"
    records = read_jsonl(out, "train-*.jsonl")
    assert len(records) == 16  # 8 tiles x 2 tasks
    for rec in records:
        [meta] = rec["meta"]["images"]
        fp = meta["fingerprint"]
        assert fp["v"] == RECIPE
        assert fp["sha256"] == _sha(out / meta["path"])
        assert fp["source_sha256"] == _sha(tile_root / meta["source"])
        assert {"phash", "dhash", "grid2"} <= set(fp) and "grid4" not in fp  # 64 px: 2x2 cells only
        Fingerprint.from_dict(fp)
    tiles = {r["meta"]["key"]: Fingerprint.from_dict(r["meta"]["images"][0]["fingerprint"]) for r in records}
    assert len({fp.phash for fp in tiles.values()}) == 8
    assert len({fp.exact[1] for fp in tiles.values()}) == 2  # one source hash per scene


def test_copied_images_have_the_source_bytes_hash(fake_dataset, tmp_path):
    root, _ = fake_dataset("nwpu_resisc45")
    conv = get_converter("nwpu_resisc45")(root)
    convert_dataset(conv, ConvertOptions(out=tmp_path / "copy", progress=False))
    convert_dataset(conv, ConvertOptions(out=tmp_path / "png", image_mode="reencode", progress=False))
    copy = read_jsonl(tmp_path / "copy" / "nwpu_resisc45", "train-*.jsonl")
    png = read_jsonl(tmp_path / "png" / "nwpu_resisc45", "train-*.jsonl")
    assert copy and len(copy) == len(png)
    for a, b in zip(copy, png, strict=True):
        ma, mb = a["meta"]["images"][0], b["meta"]["images"][0]
        raw = _sha(root / ma["source"])
        assert ma["fingerprint"]["sha256"] == raw and "source_sha256" not in ma["fingerprint"]
        assert mb["fingerprint"]["sha256"] == _sha(tmp_path / "png" / "nwpu_resisc45" / mb["path"])
        assert mb["fingerprint"]["source_sha256"] == raw
        # the same picture by another path (a file decoded reduced vs pixels): perceptually the same
        fa, fb = Fingerprint.from_dict(ma["fingerprint"]), Fingerprint.from_dict(mb["fingerprint"])
        assert fa.phash is not None and fb.phash is not None and (fa.phash ^ fb.phash).bit_count() <= 4


def test_no_fingerprints_option_and_flag(fake_dataset, tmp_path):
    root, _ = fake_dataset("nwpu_resisc45")
    argv = ["convert", "nwpu_resisc45", "--root", str(root), "--out", str(tmp_path / "out"), "--no-fingerprints"]
    assert main(argv) == 0
    records = read_jsonl(tmp_path / "out" / "nwpu_resisc45", "*.jsonl")
    assert records and all(r["meta"]["images"][0]["fingerprint"] is None for r in records)


def test_fingerprints_are_part_of_the_resume_fingerprint(fake_dataset, tmp_path):
    from ts_instruct.errors import ConfigError

    root, _ = fake_dataset("nwpu_resisc45")
    conv = get_converter("nwpu_resisc45")(root)
    convert_dataset(conv, ConvertOptions(out=tmp_path, progress=False, fingerprints=False))
    with pytest.raises(ConfigError, match="different options"):
        convert_dataset(conv, ConvertOptions(out=tmp_path, progress=False))


def test_fingerprints_do_not_depend_on_workers(tile_root, tmp_path):
    for workers in (1, 2):
        convert_dataset(
            TileToy(tile_root), ConvertOptions(out=tmp_path / f"w{workers}", workers=workers, progress=False)
        )
    one = (tmp_path / "w1" / "tile_toy" / "train-00000.jsonl").read_bytes()
    assert one == (tmp_path / "w2" / "tile_toy" / "train-00000.jsonl").read_bytes()
    assert b'"fingerprint":{' in one
