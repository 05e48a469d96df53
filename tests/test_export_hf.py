from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from data_converters import get_converter
from tests import share_data
from ts_instruct.cli import main
from ts_instruct.errors import ConfigError, InvalidImageError
from ts_instruct.export_hf import FEATURES, HFExportOptions, export_hf, push_to_hub, upload_plan
from ts_instruct.hf_card import docstring_section, source_info
from ts_instruct.pipeline import ConvertOptions, convert_dataset
from ts_instruct.recordset import iter_records


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("hf") / "converted"
    return root, share_data.build(root)


@pytest.fixture(scope="module")
def exported(tree, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root, _ = tree
    out = tmp_path_factory.mktemp("export")
    export_hf(iter_records(root), out)
    return out


def _load(folder: Path, cache: Path, **kw):
    from datasets import load_dataset

    return load_dataset(str(folder), cache_dir=str(cache), **kw)


def _front_matter(card: str) -> dict:
    assert card.startswith("---\n")
    return yaml.safe_load(card.split("---\n", 2)[1])


def test_load_dataset_gives_every_record_with_its_images(tree, exported, tmp_path):
    root, facts = tree
    ds = _load(exported, tmp_path / "cache")
    assert sorted(ds) == ["test", "train", "val"]
    assert sum(ds[s].num_rows for s in ds) == facts["records"]
    assert list(ds["train"].features) == list(FEATURES)
    by_id = {r.record.id: r for r in iter_records(root)}
    for split in ds:
        for row in ds[split]:
            ref = by_id[row["id"]]
            rec = ref.record
            assert ref.split == split
            assert row["messages"] == [m.to_dict() for m in rec.messages]
            assert json.loads(row["annotations"]) == rec.annotations
            assert json.loads(row["meta"]) == rec.meta
            assert len(row["images"]) == len(rec.images)
            for im, rel in zip(row["images"], rec.images, strict=True):
                with Image.open(ref.base / rel) as original:
                    assert np.array_equal(np.asarray(im.convert("RGB")), np.asarray(original.convert("RGB")))
    change = ds["test"][0]
    assert change["id"] == facts["ids"]["change"] and len(change["images"]) == 2  # the pair, in order


def test_images_and_masks_are_embedded_byte_for_byte(tree, exported, tmp_path):
    from datasets import Image as HFImage
    from datasets import List

    root, facts = tree
    ds = _load(exported, tmp_path / "cache", split="val")
    ds = ds.cast_column("images", List(HFImage(decode=False))).cast_column("masks", List(HFImage(decode=False)))
    row = ds[0]
    assert row["id"] == facts["ids"]["seg"]
    assert row["images"][0]["path"] == "images/val/seg_a.png"
    assert row["images"][0]["bytes"] == (root / "toy_seg" / "images/val/seg_a.png").read_bytes()
    mask = np.asarray(Image.open(io.BytesIO(row["masks"][0]["bytes"])))
    assert mask.shape == (64, 64) and mask[10, 10] == 1 and mask[20, 20] == 0  # the courtyard is a hole


def test_card_names_the_splits_and_sources(exported):
    card = (exported / "README.md").read_text(encoding="utf-8")
    meta = _front_matter(card)
    files = meta["configs"][0]["data_files"]
    assert [f["split"] for f in files] == ["train", "val", "test"]
    assert all(f["path"] == f"data/{f['split']}-*.parquet" for f in files)
    assert meta["license"] == "other" and "image-segmentation" in meta["task_categories"]
    assert "| toy_det | 2 | 0 | 0 | 2 |" in card
    assert "| `toy_seg` | toy_seg | CC BY-NC-SA 4.0 | 1 |" in card
    assert "`qwen25vl`" in card and '{"polygon_2d": [[26, 26]' in card  # the first geometry answer is the example


def test_shards_roll_over_and_keep_order(tree, tmp_path):
    root, _ = tree
    out = tmp_path / "sharded"
    summary = export_hf(iter_records(root), out, HFExportOptions(max_shard_mb=1e-9, row_group=1))
    assert summary.shards["train"] == [f"data/train-{k:05d}-of-00004.parquet" for k in range(4)]
    ds = _load(out, tmp_path / "cache", split="train")
    expected = [r.record.id for r in iter_records(root, splits=["train"])]
    assert ds["id"] == expected
    assert not list(out.glob("data/*.partial"))


def test_export_is_deterministic_and_replaces_earlier_output(tree, tmp_path):
    root, _ = tree
    a, b = tmp_path / "a", tmp_path / "b"
    export_hf(iter_records(root), a, HFExportOptions(max_shard_mb=1e-9, row_group=1))
    export_hf(iter_records(root), a)  # fewer, larger shards: the old ones must go
    export_hf(iter_records(root), b)
    files = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file())
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)


def test_real_converter_licence_and_citation_reach_the_card(fake_dataset, tmp_path):
    root, _ = fake_dataset("nwpu_resisc45")
    converted = tmp_path / "conv"
    convert_dataset(get_converter("nwpu_resisc45")(root), ConvertOptions(out=converted, progress=False))
    out = tmp_path / "hf"
    assert main(["export-hf", str(converted), "--out", str(out)]) == 0
    card = (out / "README.md").read_text(encoding="utf-8")
    info = source_info("nwpu_resisc45")
    assert "Cheng" in info["citation"] and "10.1109/JPROC.2017.2675998" in info["citation"]
    assert info["citation"] in card and info["license"] in card
    assert "[NWPU-RESISC45](https://gcheng-nwpu.github.io/#Datasets)" in card


@pytest.mark.parametrize(
    "doc, title, expected",
    [
        ("T.\n\nCitation:\n    A, 2020.\n    doi:1\n", "Citation", "A, 2020. doi:1"),  # joined lines
        ("T.\n\nLicense:\n    CC0\n\nCitation:\n    A\n", "License", "CC0"),  # stops at the next section
        ("T.\n\nLicense:\n    CC0\n", "Citation", None),  # absent
        (None, "Citation", None),  # no docstring
    ],
)
def test_docstring_section(doc, title, expected):
    assert docstring_section(doc, title) == expected


def test_missing_image_fails_with_its_path(tree, tmp_path):
    import shutil

    root, _ = tree
    copy = tmp_path / "c"
    shutil.copytree(root / "toy_vqa", copy)
    (copy / "images/train/vqa_a.png").unlink()
    with pytest.raises(InvalidImageError, match=r"vqa_a\.png.*terrasense validate"):
        export_hf(iter_records(copy), tmp_path / "out")


def test_bad_split_name_and_empty_input(tree, tmp_path):
    root, _ = tree
    copy = tmp_path / "c"
    copy.mkdir()
    rec = json.loads((root / "toy_vqa" / "train-00000.jsonl").read_text(encoding="utf-8"))
    rec["meta"]["split"] = "train-shard001of004"
    (copy / "x.jsonl").write_text(json.dumps(rec) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="split names must be"):
        export_hf(iter_records(copy), tmp_path / "out")
    with pytest.raises(ConfigError, match="no record to export"):
        export_hf(iter_records(root, tasks=["nope"]), tmp_path / "out2")


def test_dry_run_lists_files_and_sends_nothing(exported, monkeypatch, capsys):
    import huggingface_hub

    def refuse(*a, **k):
        raise AssertionError("a dry run must not reach the Hub")

    monkeypatch.setattr(huggingface_hub.HfApi, "__init__", refuse)
    args = ["export-hf", "unused", "--out", str(exported), "--push-to", "me/toy", "--dry-run", "--no-export"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "would upload 4 files" in out and "data/train-00000-of-00001.parquet" in out and "README.md" in out


def test_push_creates_a_dataset_repo_and_uploads_the_plan(exported, monkeypatch):
    import huggingface_hub

    calls = []

    class FakeApi:
        def __init__(self, token=None):
            calls.append(("init", token))

        def create_repo(self, repo_id, **kw):
            calls.append(("create_repo", repo_id, kw))

        def upload_folder(self, **kw):
            calls.append(("upload_folder", kw))

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    plan = push_to_hub(exported, "me/toy", private=True, token="t")
    assert calls[0] == ("init", "t")
    assert calls[1] == ("create_repo", "me/toy", {"repo_type": "dataset", "private": True, "exist_ok": True})
    upload = calls[2][1]
    assert upload["repo_type"] == "dataset" and upload["folder_path"] == exported
    assert upload["allow_patterns"] == [name for name, _ in plan] == [name for name, _ in upload_plan(exported)]


@pytest.mark.parametrize("repo", ["toy", "a/b/c", "me/to y"])
def test_bad_repo_id(exported, repo):
    with pytest.raises(ConfigError, match="repo id must be"):
        push_to_hub(exported, repo, dry_run=True)


def test_dry_run_needs_push_to(exported):
    assert main(["export-hf", "x", "--out", str(exported), "--dry-run"]) == 2


def test_upload_plan_of_an_empty_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not an export"):
        upload_plan(tmp_path)


@pytest.mark.slow  # imports LLaMA-Factory (torch, transformers)
def test_llamafactory_reads_the_export_with_the_card_entry(tree, exported, tmp_path):
    """The dataset_info.json entry printed in the card makes LLaMA-Factory's sharegpt converter yield the images."""
    from llamafactory.data.converter import align_dataset
    from llamafactory.data.parser import get_dataset_list
    from llamafactory.hparams import DataArguments
    from transformers import Seq2SeqTrainingArguments

    _, facts = tree
    card = (exported / "README.md").read_text(encoding="utf-8")
    entry = json.loads(card.split("dataset_info.json` entry:\n\n```json\n", 1)[1].split("\n```", 1)[0])
    (attr,) = get_dataset_list(["terrasense"], entry)
    assert attr.load_from == "hf_hub" and attr.formatting == "sharegpt"
    ds = _load(exported, tmp_path / "cache", split="test")  # what the Hub serves for this repo
    args = Seq2SeqTrainingArguments(output_dir=str(tmp_path / "o"))
    aligned = align_dataset(ds, attr, DataArguments(template="qwen2_vl"), args)
    row = aligned[0]
    assert row["_prompt"][0]["content"].count("<image>") == len(row["_images"]) == 2
    assert row["_response"][0]["content"] == ds[0]["messages"][-1]["content"]
    assert all(im.size == (64, 64) for im in row["_images"])
    assert ds[0]["id"] == facts["ids"]["change"]
