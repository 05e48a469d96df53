from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests import share_data
from ts_instruct.cli import main
from ts_instruct.errors import ConfigError
from ts_instruct.record import Record
from ts_instruct.recordset import iter_records
from ts_instruct.stats import (
    _QWEN2_SPLIT,
    TEMPLATE_FIRST_PAIR,
    collect,
    estimate_tokens,
    format_tables,
    image_tokens,
    quantile,
    write_plots,
)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("stats") / "converted"
    return root, share_data.build(root)


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small byte-level BPE tokenizer with Qwen's split and special tokens, trained here (nothing downloaded)."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    special = ["<|endoftext|>", "<|box_start|>", "<|box_end|>", "<|object_ref_start|>", "<|object_ref_end|>"]
    tok = Tokenizer(models.BPE())
    split = Regex(_QWEN2_SPLIT.pattern)
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(split, behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    corpus = ["plane ship building bbox_2d label json polygon_2d quad_2d", "List every object as qbox."] * 20
    tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=400, special_tokens=special, show_progress=False))
    folder = tmp_path_factory.mktemp("tok")
    PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>").save_pretrained(folder)
    return folder


def test_counts_records_samples_and_classes(tree):
    root, facts = tree
    stats = collect(iter_records(root))
    assert sum(stats.records.values()) == facts["records"]
    assert stats.records[("toy_det", "train", "detect_all")] == 1
    assert stats.records[("toy_det", "train", "count")] == 1
    assert stats.samples == Counter(
        {("toy_det", "train"): 1, ("toy_seg", "val"): 1, ("toy_change", "test"): 1, ("toy_vqa", "train"): 1,
         ("toy_geo", "train"): 1}
    )  # fmt: skip
    # classes once per sample, though the detection sample has two records
    assert stats.classes["toy_det"] == Counter({"plane": 1, "ship": 1})
    assert stats.classes["toy_change"] == Counter({"bare land→building": 1})


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", 0),  # nothing
        ("7", 1),  # a digit
        ("1234", 4),  # Qwen splits numbers into digits
        ("<|box_start|><|box_end|>", 2),  # special tokens are one token each
        ("<|box_start|>(125,250)<|box_end|>", 11),  # 2 special, 6 digits, "(", ",", ")"
        ("plane", 1),  # a short word
        (" yes", 1),  # a word with its leading space
        ("\n\n", 1),  # a newline run
    ],
)
def test_estimate_tokens(text, expected):
    assert estimate_tokens(text) == expected


def test_estimate_counts_every_digit_of_a_geometry_answer(tree):
    root, _ = tree
    for ref in iter_records(root, tasks=["detect_all"]):
        answer = ref.record.answer
        digits = sum(c.isdigit() for c in answer)
        assert digits < estimate_tokens(answer) < 2 * len(answer)


def test_image_tokens_follow_the_render_style(tree):
    root, _ = tree
    refs = {r.record.dataset: r.record for r in iter_records(root)}
    # qwen25vl: a 64x64 image is seen as 56x56, 2x2 merged patches of 28 px, plus vision start/end
    assert image_tokens(refs["toy_seg"]) == 2 * 2 + 2
    assert image_tokens(refs["toy_change"]) == 2 * (2 * 2 + 2)  # a pair counts both images
    no_style = Record.from_dict({**refs["toy_seg"].to_dict(), "meta": {}})
    assert image_tokens(no_style) == 0


def test_exact_counts_with_a_tokenizer(tree, tokenizer_dir):
    from transformers import AutoTokenizer

    root, _ = tree
    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    stats = collect(iter_records(root, tasks=["detect_all"]), tokenizer=str(tokenizer_dir))
    rec = next(iter_records(root, tasks=["detect_all"])).record
    answer = len(tok(rec.answer, add_special_tokens=False)["input_ids"])
    prompt = len(tok(rec.prompt.replace("<image>", ""), add_special_tokens=False)["input_ids"])
    assert stats.answer_tokens["detect_all"] == Counter({answer: 1})
    assert stats.sequence_tokens["detect_all"] == Counter(
        {TEMPLATE_FIRST_PAIR + image_tokens(rec) + prompt + answer: 1}
    )
    assert "counted with" in format_tables(stats)


def test_over_cutoff(tree):
    root, _ = tree
    stats = collect(iter_records(root), cutoff_len=90)
    seq = {t: max(h) for t, h in stats.sequence_tokens.items()}
    over = {t for t, n in seq.items() if n > 90}
    assert over and over != set(seq)  # the toy data has records on both sides of 90
    assert {t for (_, t) in stats.over_cutoff} == over
    table = format_tables(stats)
    assert "> 90" in table


def test_bad_cutoff_and_tokenizer(tree, tmp_path):
    root, _ = tree
    with pytest.raises(ConfigError, match="cutoff_len must be a positive int"):
        collect(iter_records(root), cutoff_len=0)
    with pytest.raises(ConfigError, match="--tokenizer must be"):
        collect(iter_records(root), tokenizer=str(tmp_path / "missing"))


@pytest.mark.parametrize(
    "hist, q, expected",
    [
        (Counter(), 0.5, 0),  # empty
        (Counter({5: 1}), 0.95, 5),  # one value
        (Counter({1: 1, 2: 1, 10: 2}), 0.5, 2),  # median at the half
        (Counter({1: 99, 1000: 1}), 0.95, 1),  # a rare long tail stays out of p95
        (Counter({1: 94, 1000: 6}), 0.95, 1000),  # ... until it is more than 5%
    ],
)
def test_quantile(hist, q, expected):
    assert quantile(hist, q) == expected


def test_cli_tables_and_plots(tree, tmp_path, capsys):
    root, facts = tree
    out = tmp_path / "s"
    assert main(["stats", str(root), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Samples and records" in text and "toy_det" in text and "plane" in text
    assert f"total                    5        {facts['records']}" in text
    data = json.loads((out / "stats.json").read_text(encoding="utf-8"))
    assert sum(n for *_, n in data["records"]) == facts["records"]
    assert data["tokenizer"] == "estimate"
    for name in ("records.png", "tokens.png", "classes.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    assert main(["stats", str(root), "--out", str(out)]) == 0
    assert first == {p.name: p.read_bytes() for p in out.iterdir()}  # same records, same bytes


def test_cli_no_match(tree):
    root, _ = tree
    assert main(["stats", str(root), "--dataset", "nope"]) == 1


def test_write_plots_with_many_datasets(tmp_path):
    from ts_instruct.stats import Stats

    stats = Stats()
    for k in range(7):
        stats.records[(f"d{k}", "train", "t")] = k + 1
        stats.classes[f"d{k}"].update({f"c{j}": j + 1 for j in range(30)})
        stats.answer_tokens["t"][k * 10] += 1
        stats.sequence_tokens["t"][k * 100] += 1
    paths = write_plots(stats, tmp_path)
    assert [p.name for p in paths] == ["records.png", "tokens.png", "classes.png"]
