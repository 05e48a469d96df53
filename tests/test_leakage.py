"""Leakage matching: copies, rescales, grey versions and tiles are caught; unrelated images are not; the guard's
policy (drop, allow, collapse) and its report."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from data_converters.fakes.common import texture
from data_converters.fakes.scenes import scene
from ts_instruct.errors import RecordValidationError
from ts_instruct.fingerprint import Fingerprint, fingerprint_file, fingerprint_pixels, sha256_bytes
from ts_instruct.image_index import ImageInfo, ReferenceIndex, Thresholds
from ts_instruct.leakage import LeakageGuard, LeakageOptions, parse_holdout

Image_ = np.ndarray


def _png(a: Image_) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()


def _fp(a: Image_, source: str | None = None) -> Fingerprint:
    return Fingerprint.from_dict(fingerprint_pixels(a, sha256=sha256_bytes(_png(a)), source_sha256=source))


def _jpeg(a: Image_, quality: int = 75) -> Image_:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="JPEG", quality=quality)
    return np.asarray(Image.open(buf).convert("RGB"))


def _half(a: Image_) -> Image_:
    return np.asarray(Image.fromarray(a).resize((a.shape[1] // 2, a.shape[0] // 2), Image.Resampling.BILINEAR))


def _grey(a: Image_) -> Image_:
    return np.asarray(Image.fromarray(a).convert("L"))


def _tile(g: int, row: int, col: int) -> Callable[[Image_], Image_]:
    def cut(a: Image_) -> Image_:
        h, w = a.shape[:2]
        return a[row * h // g : (row + 1) * h // g, col * w // g : (col + 1) * w // g]

    return cut


def _crop(fraction: float) -> Callable[[Image_], Image_]:
    def cut(a: Image_) -> Image_:
        d = round(a.shape[0] * fraction)
        return a[d:, d:]

    return cut


@pytest.fixture(scope="module")
def references() -> tuple[list[Image_], ReferenceIndex]:
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(11).spawn(12)]
    images = [scene(r, 256, 256) for r in rngs]
    index = ReferenceIndex(Thresholds())
    for i, a in enumerate(images):
        index.add(f"ref{i}", ImageInfo("eval/test", f"ref{i}.png", f"r{i}"), _fp(a))
    index.freeze()
    return images, index


@pytest.mark.parametrize(
    "transform, kinds",
    [
        (lambda a: a, {"exact"}),  # the same bytes
        (_jpeg, {"near_duplicate"}),  # re-encoded as JPEG quality 75
        (_half, {"near_duplicate"}),  # resized by 0.5
        (lambda a: _jpeg(_half(a), 85), {"near_duplicate"}),  # both
        (_grey, {"near_duplicate"}),  # converted to grayscale
        (_crop(0.02), {"near_duplicate"}),  # a 2 % border cut off
        (_tile(2, 1, 0), {"crop_of_reference"}),  # cropped as a tile: a quarter (LEVIR-MCI-style crop)
        (_tile(4, 2, 3), {"crop_of_reference"}),  # a sixteenth
        (lambda a: _jpeg(_tile(2, 0, 1)(a), 90), {"crop_of_reference"}),  # a tile, re-encoded
    ],
    ids=["same", "jpeg75", "half", "half+jpeg", "grey", "crop2%", "tile2x2", "tile4x4", "tile2x2+jpeg"],
)
def test_copies_are_caught(references, transform, kinds):
    images, index = references
    for i, a in enumerate(images):
        b = transform(a)
        found = {m.reference: m for m in index.match(_fp(b))}
        assert i in found, f"reference {i} not caught"
        assert found[i].kind in kinds
        assert set(found) == {i}, "a copy must match its own reference only"


def test_training_image_that_contains_the_reference_as_a_tile_is_caught():
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(12).spawn(8)]
    scenes = [scene(r, 128, 128) for r in rngs]
    index = ReferenceIndex(Thresholds())
    for i, a in enumerate(scenes):  # evaluation holds 64 px crops (LIM-CD style) ...
        index.add(f"t{i}", ImageInfo("lim/test", f"t{i}.png", f"t{i}"), _fp(_tile(2, 0, 1)(a)))
    index.freeze()
    for i, a in enumerate(scenes):  # ... and training the whole scenes (LEVIR-CD style)
        kinds = {m.reference: (m.kind, m.cell) for m in index.match(_fp(a))}
        assert kinds == {i: ("reference_is_crop", "grid2[1]")}


def test_tiles_of_one_scene_share_their_source():
    a = scene(np.random.default_rng(3), 256, 256)
    index = ReferenceIndex(Thresholds())
    index.add("t0", ImageInfo("dota/val", "t0.png", "t0"), _fp(a[:100, :100], source="scene-sha"))
    index.freeze()
    far_tile = a[150:, 150:]  # no pixel in common, same raw file
    assert [m.kind for m in index.match(_fp(far_tile, source="scene-sha"))] == ["same_source"]
    assert index.match(_fp(far_tile, source="another-scene")) == []


def _unrelated(rngs: list[np.random.Generator], size: int, ground: Image_ | None) -> list[Image_]:
    return [scene(r, size, size, ground=ground) for r in rngs]


def _thumb(a: Image_) -> np.ndarray:
    t = np.asarray(Image.fromarray(a).convert("L").resize((16, 16), Image.Resampling.BOX), dtype=np.float64).ravel()
    t -= t.mean()
    return t / np.linalg.norm(t)


@pytest.mark.parametrize("same_ground", [False, True], ids=["independent", "same-ground-and-palette"])
def test_unrelated_images_do_not_match(same_ground):
    size, n = 128, 60
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(5).spawn(2 * n)]
    ground = texture(np.random.default_rng(99), size, size) if same_ground else None
    refs, train = _unrelated(rngs[:n], size, ground), _unrelated(rngs[n:], size, ground)
    # they really are unrelated: no two share their layout (16x16 thumbnails correlate below 0.9) ...
    thumbs = np.array([_thumb(a) for a in refs + train])
    corr = thumbs @ thumbs.T
    assert corr[np.triu_indices(2 * n, 1)].max() < 0.9
    # ... yet same size, same generator, and with same_ground the very same ground pixels and palette
    index = ReferenceIndex(Thresholds())
    for i, a in enumerate(refs):
        index.add(f"r{i}", ImageInfo("eval/test", f"r{i}.png", f"r{i}"), _fp(a))
    index.freeze()
    assert [m for a in train for m in index.match(_fp(a))] == []


# --- the guard over records -------------------------------------------------------------------------------------


def _dataset(root: Path, name: str, items: list[tuple[str, list[Image_]]], *, fingerprints: bool = True) -> Path:
    """Write images under ``root/name/images`` and return the dataset folder; items are (key, images)."""
    folder = root / name
    for key, imgs in items:
        for j, a in enumerate(imgs):
            path = folder / "images" / f"{key}_{j}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(_png(a))
    return folder


def _records(folder: Path, items: list[tuple[str, list[Image_]]], *, tasks: int = 2, fp: bool = True) -> list[Any]:
    out = []
    for key, imgs in items:
        paths = [f"images/{key}_{j}.png" for j in range(len(imgs))]
        metas = [{"fingerprint": fingerprint_file(folder / p) if fp else None} for p in paths]
        for t in range(tasks):
            out.append({"id": f"{folder.name}/{key}/task{t}", "images": paths, "meta": {"images": metas}})
    return out


def _scenes(seed: int, n: int, size: int = 96) -> list[Image_]:
    return [scene(r, size, size) for r in (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(n))]


@pytest.fixture
def layout(tmp_path):
    """An eval set of 4 images; a training set with 2 leaks (a JPEG copy, a tile), 1 pair whose later image leaks,
    2 unrelated images and a duplicate of one of them under another name."""
    ev = _scenes(1, 4, 128)
    clean = _scenes(2, 3)
    eval_items = [(f"e{i}", [a]) for i, a in enumerate(ev)]
    train_items = [
        ("copy", [_jpeg(ev[0])]),
        ("tile", [_tile(2, 1, 1)(ev[1])]),
        ("pair", [clean[2], ev[2]]),
        ("clean0", [clean[0]]),
        ("clean1", [clean[1]]),
        ("dup", [_jpeg(clean[0], 90)]),
    ]
    eval_dir = _dataset(tmp_path, "evalset", eval_items)
    train_dir = _dataset(tmp_path, "trainset", train_items)
    return eval_dir, _records(eval_dir, eval_items), train_dir, _records(train_dir, train_items)


def _run(layout: Any, options: LeakageOptions) -> tuple[LeakageGuard, list[str]]:
    eval_dir, eval_records, train_dir, train_records = layout
    guard = LeakageGuard(options)
    for r in eval_records:
        guard.add_reference(r, "e", label="evalset/test", dataset_dir=eval_dir)
    kept = [r["id"] for r in train_records if guard.admit(r, "t", label="trainset/train", dataset_dir=train_dir)]
    return guard, kept


def test_guard_drops_leaking_records_and_reports_them(layout):
    guard, kept = _run(layout, LeakageOptions())
    assert kept == [f"trainset/{k}/task{t}" for k in ("clean0", "clean1", "dup") for t in (0, 1)]
    rep = guard.report()
    assert rep["policy"] == "drop"
    assert rep["reference"] == {"evalset/test": {"records": 8, "images": 4, "hashed_now": 0}}
    assert rep["leaks"]["records"] == rep["leaks"]["dropped"] == 6  # 3 samples x 2 tasks
    [pair] = rep["leaks"]["pairs"]
    assert pair["train"] == "trainset/train" and pair["reference"] == "evalset/test"
    assert pair["kinds"] == {"crop_of_reference": 1, "exact": 1, "near_duplicate": 1}  # tile, pair, JPEG copy
    assert pair["images"] == 3
    examples = {e["record"]: e for e in rep["leaks"]["examples"]}
    assert examples["trainset/tile/task0"]["kind"] == "crop_of_reference"
    assert examples["trainset/tile/task0"]["reference_image"] == "images/e1_0.png"
    assert examples["trainset/pair/task0"]["image"] == "images/pair_1.png"  # the later image of the pair leaks
    assert rep["train"]["trainset/train"] == {"records": 12, "dropped": 6, "collapsed": 0, "hashed_now": 0}
    json.dumps(rep)  # plain JSON types


def test_allow_leakage_keeps_and_still_reports(layout):
    guard, kept = _run(layout, LeakageOptions(allow=True))
    assert len(kept) == 12
    rep = guard.report()
    assert rep["leaks"]["records"] == 6 and rep["leaks"]["dropped"] == 0
    assert "kept" in guard.summary()


def test_duplicates_inside_training_are_reported_and_collapsed_on_request(layout):
    guard, kept = _run(layout, LeakageOptions())
    dups = guard.report()["duplicates"]
    assert dups["records"] == 2 and dups["collapsed"] == 0  # "dup" repeats "clean0"; its 2 tasks are counted
    [ex] = dups["examples"]
    assert (ex["record"], ex["earlier_record"], ex["kind"]) == (
        "trainset/dup/task0",
        "trainset/clean0/task0",
        "near_duplicate",
    )
    guard, kept = _run(layout, LeakageOptions(collapse_duplicates=True))
    assert kept == [f"trainset/{k}/task{t}" for k in ("clean0", "clean1") for t in (0, 1)]
    assert guard.report()["duplicates"]["collapsed"] == 2


def test_records_without_fingerprints_are_hashed_from_their_files(layout):
    eval_dir, eval_records, train_dir, train_records = layout
    for r in eval_records + train_records:
        r["meta"] = {}
    guard, _ = _run((eval_dir, eval_records, train_dir, train_records), LeakageOptions())
    rep = guard.report()
    assert rep["reference"]["evalset/test"]["hashed_now"] == 4  # once per file, not per record
    assert rep["train"]["trainset/train"]["hashed_now"] == 7
    assert rep["leaks"]["dropped"] == 6


def test_malformed_fingerprint_is_refused(layout):
    eval_dir, eval_records, _, _ = layout
    eval_records[0]["meta"]["images"][0]["fingerprint"] = {"v": "1", "sha256": "x", "grid2": "0"}
    with pytest.raises(RecordValidationError, match=r"meta.images\[0\].fingerprint"):
        LeakageGuard().add_reference(eval_records[0], "f:1", label="e", dataset_dir=eval_dir)


def test_references_come_first(layout):
    eval_dir, eval_records, train_dir, train_records = layout
    guard = LeakageGuard()
    guard.admit(train_records[0], "t", label="trainset/train", dataset_dir=train_dir)
    with pytest.raises(RuntimeError, match="before the first admit"):
        guard.add_reference(eval_records[0], "e", label="evalset/test", dataset_dir=eval_dir)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"phash": -1}, "thresholds.phash"), ({"dhash": 32}, "thresholds.dhash"), ({"cell": 2.5}, "thresholds.cell")],
)
def test_bad_thresholds(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Thresholds(**kwargs)


@pytest.mark.parametrize(
    "text, expected",
    [("dior:test", ("dior", "test")), ("dota-v1.0:val", ("dota-v1.0", "val")), ("a:b:c", ("a:b", "c"))],
)
def test_parse_holdout(text, expected):
    assert parse_holdout(text) == expected


@pytest.mark.parametrize("text", ["dior", ":test", "dior:"])
def test_parse_holdout_errors(text):
    with pytest.raises(ValueError, match="NAME:SPLIT"):
        parse_holdout(text)
