"""Known cross-dataset overlaps, rebuilt with fakes made from the same images, are found by ``terrasense mix``.

DIOR-RSVG is built on DIOR images, LEVIR-MCI (LIM-CD) cuts its 256 px pairs from LEVIR-CD scenes, and Sydney-Captions
is the Sydney scene set with captions. Each pair of fakes is built from the same fake images, converted with the real
converters, and mixed with one side in training and the other held out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from data_converters import get_converter
from data_converters.fakes import make_fake
from ts_instruct.cli import main
from ts_instruct.mix import MixEntry, MixtureConfig, mix
from ts_instruct.pipeline import ConvertOptions, convert_dataset

from .conftest import read_jsonl

#: DIOR fake images handed to the DIOR-RSVG fake, in order: DIOR-RSVG image n is the n-th of these
DIOR_SOURCES = (
    "JPEGImages-trainval/JPEGImages-trainval/00001.jpg",  # DIOR train
    "JPEGImages-trainval/JPEGImages-trainval/00002.jpg",  # DIOR train
    "JPEGImages-trainval/JPEGImages-trainval/00003.jpg",  # DIOR val
    "JPEGImages-trainval/JPEGImages-trainval/00004.jpg",  # DIOR val
    "JPEGImages-test/00006.jpg",  # DIOR test
)


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Converted fakes: DIOR and DIOR-RSVG on DIOR's images, LEVIR-CD and LIM-CD, Sydney and Sydney-Captions."""
    raw = tmp_path_factory.mktemp("raw")
    out = tmp_path_factory.mktemp("converted")
    make_fake("dior", raw / "dior", seed=0)
    make_fake("rsvg", raw / "rsvg", seed=0, source_images=[raw / "dior" / "DIOR" / p for p in DIOR_SOURCES])
    make_fake("levir_cd", raw / "levir_cd", seed=0)
    make_fake("lim_cd", raw / "lim_cd", seed=0, source_images=raw / "levir_cd")  # tiles cut from those files
    make_fake("sydney", raw / "sydney", seed=0)  # both draw the same shared textures for the same seed
    make_fake("sydney_captions", raw / "sydney_captions", seed=0)
    for name in ("dior", "rsvg", "levir_cd", "lim_cd", "sydney", "sydney_captions"):
        convert_dataset(get_converter(name)(raw / name), ConvertOptions(out=out, progress=False))
    return out


def _mix(
    converted: Path,
    out: Path,
    train: list[tuple[str, str]],
    holdout: list[tuple[str, str]],
    evals: tuple[MixEntry, ...] = (),
    **kw: Any,
) -> tuple[dict[str, Any], dict[str, Any]]:
    config = MixtureConfig(
        name="m",
        converted_root=converted,
        output_dir=out,
        seed=0,
        style="qwen25vl",
        train=tuple(MixEntry(n, s) for n, s in train),
        holdout=tuple(MixEntry(n, s) for n, s in holdout),
        eval=evals,
    )
    mix(config, **kw)
    return (
        json.loads((out / "leakage_report.json").read_text(encoding="utf-8")),
        json.loads((out / "mix_report.json").read_text(encoding="utf-8")),
    )


def _images(converted: Path, name: str, split: str) -> dict[str, set[str]]:
    """Record id → its image sources (raw paths), for one converted split."""
    return {
        r["id"]: {i["source"] for i in r["meta"]["images"]} for r in read_jsonl(converted / name, f"{split}-*.jsonl")
    }


def _leaking_sources(report: dict[str, Any], converted: Path, name: str, split: str) -> set[str]:
    by_id = _images(converted, name, split)
    return {s for e in report["leaks"]["examples"] for s in by_id[e["record"]]}


def test_dior_rsvg_images_are_found_in_dior(converted, tmp_path):
    holdout = [("dior", "train"), ("dior", "val"), ("dior", "test")]
    report, mixed = _mix(converted, tmp_path / "mix", [("rsvg", "train")], holdout)
    # DIOR-RSVG's train split holds objects of its images 3 and 5 (images 3 = DIOR 00003, val; 5 = 00006, test)
    pairs = {(p["train"], p["reference"]): p for p in report["leaks"]["pairs"]}
    assert set(pairs) == {("rsvg/train", "dior/val"), ("rsvg/train", "dior/test")}
    assert {k for p in pairs.values() for k in p["kinds"]} == {"near_duplicate"}  # re-encoded by the RSVG fake
    train_records = len(read_jsonl(converted / "rsvg", "train-*.jsonl"))
    assert report["leaks"]["dropped"] == train_records  # every training image of DIOR-RSVG is a DIOR image
    assert mixed["train"]["records"] == 0
    assert mixed["leakage"]["dropped"] == train_records
    examples = {(e["image"], e["reference_image"]) for e in report["leaks"]["examples"]}
    assert {(img.split("/")[-1][:5], ref.split("/")[-1][:5]) for img, ref in examples} == {
        ("00003", "00003"),
        ("00005", "00006"),
    }


def test_dior_rsvg_splits_share_images_with_each_other(converted, tmp_path):
    # the official DIOR-RSVG split is by object: image 5 has an object in train and one in val
    report, _ = _mix(converted, tmp_path / "mix", [("rsvg", "train")], [("rsvg", "val")])
    [pair] = report["leaks"]["pairs"]
    assert (pair["reference"], pair["kinds"]) == ("rsvg/val", {"exact": 1})
    assert _leaking_sources(report, converted, "rsvg", "train") == {"DIOR_RSVG/JPEGImages/00005.jpg"}


def test_evaluation_splits_are_indexed_whole_whatever_their_weight(converted, tmp_path):
    report, mixed = _mix(converted, tmp_path / "mix", [("rsvg", "train")], [], (MixEntry("rsvg", "val", 0.0),))
    assert mixed["eval"]["records"] == 0  # nothing of the eval split written ...
    assert report["reference"]["rsvg/val"]["images"] == 2  # ... yet every one of its images held out
    assert [p["reference"] for p in report["leaks"]["pairs"]] == ["rsvg/val"]


@pytest.mark.parametrize(
    "train, holdout, kind",
    [
        (("lim_cd", "train"), ("levir_cd", "train"), "crop_of_reference"),  # LIM-CD tiles are LEVIR-CD quadrants
        (("levir_cd", "train"), ("lim_cd", "train"), "reference_is_crop"),  # and the other way round
    ],
)
def test_lim_cd_tiles_are_found_in_levir_cd(converted, tmp_path, train, holdout, kind):
    report, _ = _mix(converted, tmp_path / "mix", [train], [holdout])
    [pair] = report["leaks"]["pairs"]
    assert set(pair["kinds"]) == {kind}
    expected = {"lim_cd": 3, "levir_cd": 3}[train[0]]  # 3 LIM-CD train tiles, from the 3 LEVIR-CD train pairs
    assert pair["images"] >= expected
    leaked = _leaking_sources(report, converted, *train)
    if train[0] == "lim_cd":
        assert {Path(s).name for s in leaked} == {"train_000001.png", "train_000002.png", "train_000003.png"}
    else:
        assert {Path(s).name for s in leaked} == {"train_1.png", "train_2.png", "train_3.png"}


def test_lim_cd_test_split_is_cut_from_levir_cd_test_only(converted, tmp_path):
    report, _ = _mix(converted, tmp_path / "mix", [("levir_cd", "train")], [("lim_cd", "test"), ("lim_cd", "val")])
    assert report["leaks"]["pairs"] == []  # the fake keeps LEVIR-CD's split: no train scene in LIM-CD val/test


def test_sydney_and_sydney_captions_are_the_same_images(converted, tmp_path):
    holdout = [("sydney_captions", s) for s in ("train", "val", "test")]
    report, mixed = _mix(converted, tmp_path / "mix", [("sydney", "train")], holdout)
    assert report["leaks"]["pairs"]
    for pair in report["leaks"]["pairs"]:
        assert pair["kinds"] == {"exact": pair["images"]}  # the same pixels, written by the same encoder
    sydney_train = _images(converted, "sydney", "train")
    assert report["leaks"]["dropped"] == len(sydney_train)  # every Sydney image is a Sydney-Captions image
    assert mixed["train"]["records"] == 0
    captions = {
        Path(s).name
        for split in ("train", "val", "test")
        for v in _images(converted, "sydney_captions", split).values()
        for s in v
    }
    assert {Path(s).name for v in sydney_train.values() for s in v} <= captions


def test_allow_leakage_keeps_the_records_and_the_cli_prints_the_summary(converted, tmp_path, capsys):
    config = tmp_path / "mixture.yaml"
    config.write_text(
        "name: m\n"
        f"converted_root: {converted}\n"
        f"output_dir: {tmp_path / 'mix'}\n"
        "style: qwen25vl\n"
        "train:\n  - {name: rsvg, split: train}\n"
        "holdout:\n  - {name: dior, split: val}\n",
        encoding="utf-8",
    )
    assert main(["mix", str(config), "--holdout", "dior:test", "--allow-leakage"]) == 0
    printed = capsys.readouterr().out
    assert "kept (--allow-leakage)" in printed and "rsvg/train ↔ dior/test" in printed
    written = json.loads((tmp_path / "mix" / "mix_report.json").read_text(encoding="utf-8"))
    assert written["train"]["records"] == len(read_jsonl(converted / "rsvg", "train-*.jsonl"))
    assert written["leakage"]["dropped"] == 0


def test_bad_holdout_flag_is_one_line(converted, tmp_path, capsys):
    config = tmp_path / "mixture.yaml"
    config.write_text(
        f"name: m\nconverted_root: {converted}\noutput_dir: {tmp_path}\nstyle: qwen25vl\n"
        "train:\n  - {name: rsvg, split: train}\n",
        encoding="utf-8",
    )
    assert main(["mix", str(config), "--holdout", "dior"]) == 2
    assert "NAME:SPLIT" in capsys.readouterr().err
