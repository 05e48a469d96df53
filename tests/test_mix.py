"""terrasense mix: weights, determinism, paths LLaMA-Factory can open, dataset_info.json, report, refusals."""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from contextlib import nullcontext as does_not_raise
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fake_records import RENDER, write_fake_converted
from ts_instruct.errors import ConfigError, InvalidImageError, RecordValidationError
from ts_instruct.mix import MixEntry, MixtureConfig, copies, mix

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def _config(root: Path, out: Path, *, train: tuple[MixEntry, ...], eval: tuple[MixEntry, ...] = (), **kw: Any):
    fields = {"name": "m", "converted_root": root, "output_dir": out, "seed": 0, "style": "qwen25vl"} | kw
    return MixtureConfig(train=train, eval=eval, **fields)


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.parametrize(
    "weight, expected",
    [
        (0.0, 0),  # dropped
        (1.0, 1),  # once
        (3.0, 3),  # whole weights are exact
    ],
)
def test_copies_whole_weights_are_exact(weight: float, expected: int) -> None:
    assert all(copies(5, f"rec{i}", weight) == expected for i in range(200))


@pytest.mark.parametrize("weight", [0.1, 0.5, 1.25, 2.75])
def test_copies_fractional_weights_average_to_the_weight(weight: float) -> None:
    n = 20000
    got = [copies(11, f"d/train/{i}/t", weight) for i in range(n)]
    assert set(got) <= {int(weight), int(weight) + 1}
    assert abs(sum(got) / n - weight) < 0.02


def test_copies_depend_on_seed_and_id_only() -> None:
    a = [copies(1, f"r{i}", 0.5) for i in range(500)]
    assert a == [copies(1, f"r{i}", 0.5) for i in range(500)]
    assert a != [copies(2, f"r{i}", 0.5) for i in range(500)]


def test_mix_writes_counts_paths_and_dataset_info(converted_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "mixture"
    config = _config(
        converted_root,
        out,
        train=(MixEntry("fake_det", "train", 2.0), MixEntry("fake_cd", "train", 1.0)),
        eval=(MixEntry("fake_det", "val", 1.0),),
    )
    report = mix(config)

    train = _lines(out / "m.jsonl")
    det = [json.loads(x) for x in (converted_root / "fake_det" / "train-00000.jsonl").read_text().splitlines()]
    cd = [json.loads(x) for x in (converted_root / "fake_cd" / "train-00000.jsonl").read_text().splitlines()]
    assert len(train) == 2 * len(det) + len(cd)
    assert Counter(r["id"] for r in train) == Counter({**{r["id"]: 2 for r in det}, **{r["id"]: 1 for r in cd}})
    # only what LLaMA-Factory reads: per-dataset annotation shapes would break its Arrow loader
    assert all(set(r) == {"id", "dataset", "task", "messages", "images"} for r in train)
    # LLaMA-Factory joins each path with dataset_dir and keeps it only if os.path.isfile
    for r in train:
        assert r["images"] and all(not os.path.isabs(p) for p in r["images"])
        assert all(os.path.isfile(os.path.join(out, p)) for p in r["images"])
    pair = next(r for r in train if r["task"] == "change_boxes")
    assert [Path(p).name[-6:] for p in pair["images"]] == ["_A.png", "_B.png"]  # earlier image first
    assert pair["images"][0].startswith("../")

    info = json.loads((out / "dataset_info.json").read_text())
    assert set(info) == {"m", "m_eval"}
    assert info["m"] == {
        "file_name": "m.jsonl",
        "formatting": "sharegpt",
        "columns": {"messages": "messages", "images": "images"},
        "tags": {
            "role_tag": "role",
            "content_tag": "content",
            "user_tag": "user",
            "assistant_tag": "assistant",
            "system_tag": "system",
        },
    }
    assert info["m_eval"]["file_name"] == "m_eval.jsonl"

    written = json.loads((out / "mix_report.json").read_text())
    assert written == report.to_dict()
    assert written["train"]["records"] == len(train)
    det_entry = written["train"]["entries"][0]
    assert (det_entry["name"], det_entry["split"], det_entry["records_in"], det_entry["records_out"]) == (
        "fake_det",
        "train",
        len(det),
        2 * len(det),
    )
    assert det_entry["tasks"] == dict(sorted(Counter(r["task"] for r in det for _ in range(2)).items()))
    assert written["eval"]["records"] == len(_lines(out / "m_eval.jsonl"))
    assert written["render"] == RENDER["qwen25vl"]
    assert written["datasets"]["fake_cd"]["license"] == "CC-BY-NC-4.0"
    assert set(written["examples"]) == {"detection_hbb", "scene_cls", "change_boxes"}
    assert written["examples"]["change_boxes"]["prompt"].startswith("<image><image>")


def test_mix_is_deterministic_and_follows_the_seed(converted_root: Path, tmp_path: Path) -> None:
    entries = (MixEntry("fake_det", "train", 0.5), MixEntry("fake_cd", "train", 1.5))
    mix(_config(converted_root, tmp_path / "a", train=entries))
    mix(_config(converted_root, tmp_path / "b", train=entries))
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    ids = [r["id"] for r in _lines(tmp_path / "a" / "m.jsonl")]
    others = []
    for seed in range(1, 6):
        mix(_config(converted_root, tmp_path / f"s{seed}", train=entries, seed=seed))
        others.append([r["id"] for r in _lines(tmp_path / f"s{seed}" / "m.jsonl")])
    assert any(o != ids for o in others)


def test_mix_keeps_other_entries_of_an_existing_dataset_info(converted_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "dataset_info.json").write_text(json.dumps({"other": {"file_name": "other.jsonl"}}))
    mix(_config(converted_root, out, train=(MixEntry("fake_cd", "train"),)))
    assert set(json.loads((out / "dataset_info.json").read_text())) == {"other", "m"}


def test_absolute_paths_resolve_too(converted_root: Path, tmp_path: Path) -> None:
    # relative and absolute spellings of the roots give the same bytes
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        rel_root = Path(os.path.relpath(converted_root, tmp_path))
        mix(_config(rel_root, Path("rel"), train=(MixEntry("fake_cd", "train"),)))
    finally:
        os.chdir(cwd)
    mix(_config(converted_root, tmp_path / "abs", train=(MixEntry("fake_cd", "train"),)))
    assert (tmp_path / "rel" / "m.jsonl").read_bytes() == (tmp_path / "abs" / "m.jsonl").read_bytes()


def _sft(**overrides: Any) -> dict[str, Any]:
    config = yaml.safe_load((CONFIGS / "terrasense_sft.yaml").read_text())
    config.update(overrides)
    return config


@pytest.mark.parametrize(
    "style, render, train_config, expectation",
    [
        # matching data and shipped config
        ("qwen25vl", None, _sft(), does_not_raise()),
        # the mixture asks for another style than the data has
        ("qwen2vl", None, None, pytest.raises(ConfigError, match="style 'qwen2vl'")),
        # Qwen2-VL model (0-1000 grid) with Qwen2.5-VL pixel boxes
        (
            "qwen25vl",
            None,
            _sft(model_name_or_path="Qwen/Qwen2-VL-7B-Instruct"),
            pytest.raises(ConfigError, match="qwen2vl model"),
        ),
        # Qwen3-VL template for Qwen2.5-VL data
        (
            "qwen25vl",
            None,
            _sft(template="qwen3_vl_nothink"),
            pytest.raises(ConfigError, match="template must be 'qwen2_vl'"),
        ),
        # image size other than the one the boxes were computed for
        (
            "qwen25vl",
            None,
            _sft(image_max_pixels=262144),
            pytest.raises(ConfigError, match="image_max_pixels must be 589824"),
        ),
        (
            "qwen25vl",
            None,
            _sft(image_min_pixels=3136),
            pytest.raises(ConfigError, match="image_min_pixels must be 1024"),
        ),
        # key left out of the training config: LLaMA-Factory's default (768*768) applies and matches
        ("qwen25vl", None, {k: v for k, v in _sft().items() if k != "image_max_pixels"}, does_not_raise()),
    ],
)
def test_render_style_checks(
    tmp_path: Path, style: str, render: dict[str, Any] | None, train_config: Any, expectation: Any
) -> None:
    root = tmp_path / "conv"
    write_fake_converted(root, "d", "train", render=render)
    with expectation:
        mix(_config(root, tmp_path / "out", train=(MixEntry("d", "train"),), style=style), train_config=train_config)


def test_unknown_template_in_training_config_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "conv"
    write_fake_converted(root, "d", "train", render={**RENDER["qwen25vl"], "template": "llava"})
    with pytest.raises(ConfigError, match="template must be one of"):
        mix(_config(root, tmp_path / "out", train=(MixEntry("d", "train"),)), train_config=_sft(template="llava"))


def test_records_rendered_differently_are_refused_and_old_outputs_kept(tmp_path: Path) -> None:
    root = tmp_path / "conv"
    write_fake_converted(root, "a", "train")
    write_fake_converted(root, "b", "train", render={**RENDER["qwen25vl"], "image_max_pixels": 262144})
    out = tmp_path / "out"
    mix(_config(root, out, train=(MixEntry("a", "train"),)))
    before = _digest(out)
    with pytest.raises(ConfigError, match="same render style"):
        mix(_config(root, out, train=(MixEntry("a", "train"), MixEntry("b", "train"))))
    assert _digest(out) == before  # nothing half-written, no temp files left
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(
    "damage, expectation",
    [
        # an image deleted after conversion
        (
            lambda f: (f.parent / "images" / "train" / "d_000.png").unlink(),
            pytest.raises(InvalidImageError, match="missing"),
        ),
        # a record without meta.render
        (
            lambda f: f.write_text(f.read_text().replace('"render"', '"rendre"')),
            pytest.raises(ConfigError, match=r"no meta\.render"),
        ),
        # an <image> placeholder too many
        (
            lambda f: f.write_text(f.read_text().replace("<image>Detect", "<image><image>Detect")),
            pytest.raises(RecordValidationError, match="placeholders"),
        ),
        # a truncated line
        (
            lambda f: f.write_text(f.read_text() + '{"id": "x", '),
            pytest.raises(RecordValidationError, match="not valid JSON"),
        ),
    ],
)
def test_bad_records_are_refused(tmp_path: Path, damage: Any, expectation: Any) -> None:
    root = tmp_path / "conv"
    write_fake_converted(root, "d", "train")
    damage(root / "d" / "train-00000.jsonl")
    with expectation:
        mix(_config(root, tmp_path / "out", train=(MixEntry("d", "train"),)))


def test_missing_split_names_the_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no test-NNNNN.jsonl in .*nope"):
        mix(_config(tmp_path, tmp_path / "out", train=(MixEntry("nope", "test"),)))


def test_shards_are_read_in_order_and_other_files_ignored(tmp_path: Path) -> None:
    root = tmp_path / "conv"
    records = write_fake_converted(root, "d", "train")
    shard = root / "d" / "train-00000.jsonl"
    lines = shard.read_text().splitlines(keepends=True)
    (root / "d" / "train-00001.jsonl").write_text("".join(lines[3:]))
    shard.write_text("".join(lines[:3]))
    (root / "d" / "train-extra.jsonl").write_text("not a shard\n")
    mix(_config(root, tmp_path / "out", train=(MixEntry("d", "train"),)))
    assert [r["id"] for r in _lines(tmp_path / "out" / "m.jsonl")] == [r["id"] for r in records]


@pytest.mark.parametrize(
    "data, match",
    [
        ({"converted_root": "c", "output_dir": "o", "style": "qwen25vl", "train": []}, "missing key 'name'"),
        ({"name": "m", "converted_root": "c", "output_dir": "o", "style": "qwen25vl", "train": []}, "at least one"),
        (
            {
                "name": "m",
                "converted_root": "c",
                "output_dir": "o",
                "style": "s",
                "train": [{"name": "a", "split": "train", "weight": -1}],
            },
            "weight must be a finite number >= 0",
        ),
        (
            {"name": "m", "converted_root": "c", "output_dir": "o", "style": "s", "train": [{"name": "a"}]},
            "name and split",
        ),
        ({"name": "m_eval", "converted_root": "c", "output_dir": "o", "style": "s", "train": []}, "_eval"),
        ({"name": "m", "converted_root": "c", "output_dir": "o", "style": "s", "seed": "x", "train": []}, "seed"),
    ],
)
def test_mixture_config_errors(data: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        MixtureConfig.from_dict(data)


def test_shipped_mixture_config_parses() -> None:
    config = MixtureConfig.from_yaml(CONFIGS / "mixture.yaml")
    sft = yaml.safe_load((CONFIGS / "terrasense_sft.yaml").read_text())
    assert config.name == sft["dataset"] and f"{config.name}_eval" == sft["eval_dataset"]
    assert str(config.output_dir) == sft["dataset_dir"]
    assert len({(e.name, e.split) for e in config.train}) == len(config.train)


def test_cli_mix_and_refusal_exit_status(converted_root: Path, tmp_path: Path, run_cli: Any) -> None:
    cfg = tmp_path / "mixture.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "name": "terrasense_mix",
                "converted_root": str(converted_root),
                "output_dir": str(tmp_path / "unused"),
                "seed": 0,
                "style": "qwen25vl",
                "train": [{"name": "fake_det", "split": "train", "weight": 1.0}],
                "eval": [{"name": "fake_det", "split": "val"}],
            }
        )
    )
    status, out, err = run_cli(
        "mix", str(cfg), "--train-config", str(CONFIGS / "terrasense_sft.yaml"), "--output-dir", str(tmp_path / "o")
    )
    assert (status, err) == (0, "")
    assert "train: 6 records" in out and (tmp_path / "o" / "terrasense_mix_eval.jsonl").is_file()

    qwen2 = tmp_path / "qwen2.yaml"
    qwen2.write_text((CONFIGS / "terrasense_sft.yaml").read_text().replace("Qwen2.5-VL-7B", "Qwen2-VL-7B"))
    status, out, err = run_cli("mix", str(cfg), "--train-config", str(qwen2), "--output-dir", str(tmp_path / "o2"))
    assert status == 2
    assert err.startswith("terrasense mix: error: ") and "qwen2vl model" in err and err.count("\n") == 1
    assert not (tmp_path / "o2" / "terrasense_mix.jsonl").exists()
