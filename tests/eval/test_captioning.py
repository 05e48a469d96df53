import json
import math
from pathlib import Path

import numpy as np
import pytest
from pycocoevalcap.bleu.bleu import Bleu
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.rouge.rouge import Rouge

from ts_instruct.eval.captioning import bleu, caption_scores, cider, ptb_tokenize, rouge_l

GOLDEN = json.loads((Path(__file__).parents[1] / "data" / "eval" / "ptb_golden.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("row", GOLDEN, ids=lambda r: r["caption"][:30])
def test_tokenizer_mirrors_pycocoevalcap_ptbtokenizer(row):
    # tokens produced once by pycocoevalcap's Java PTBTokenizer (scripts/make_ptb_golden.py)
    assert ptb_tokenize(row["caption"]) == row["tokens"]


def _random_corpus(seed, n_images=30):
    rng = np.random.default_rng(seed)
    vocab = "a an the plane planes ship boat road river green tree trees many some two three is are on near of"
    vocab = vocab.split(" ")

    def sentence():
        return " ".join(rng.choice(vocab, int(rng.integers(1, 14))))

    refs = [[sentence() for _ in range(int(rng.integers(1, 6)))] for _ in range(n_images)]
    hyps = [sentence() if rng.random() > 0.2 else refs[i][0] for i in range(n_images)]
    return refs, hyps


@pytest.mark.parametrize("seed", range(5))
def test_agrees_with_pycocoevalcap_scorers(seed):
    refs, hyps = _random_corpus(seed)
    gts = {i: r for i, r in enumerate(refs)}
    res = {i: [h] for i, h in enumerate(hyps)}
    coco_bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
    coco_rouge, _ = Rouge().compute_score(gts, res)
    coco_cider, _ = Cider().compute_score(gts, res)
    assert bleu(refs, hyps) == coco_bleu  # bit for bit
    assert rouge_l(refs, hyps) == coco_rouge
    assert cider(refs, hyps) == coco_cider


def test_agrees_on_the_tokenised_golden_captions():
    caps = [r["tokens"] for r in GOLDEN if r["tokens"]]
    refs = [[caps[i], caps[(i + 1) % len(caps)]] for i in range(len(caps))]
    hyps = [caps[(i + 3) % len(caps)] if i % 3 else caps[i] for i in range(len(caps))]
    gts, res = dict(enumerate(refs)), {i: [h] for i, h in enumerate(hyps)}
    assert bleu(refs, hyps) == Bleu(4).compute_score(gts, res, verbose=0)[0]
    assert rouge_l(refs, hyps) == Rouge().compute_score(gts, res)[0]
    assert cider(refs, hyps) == Cider().compute_score(gts, res)[0]


def test_perfect_captions():
    refs = [["a plane is parked near the terminal"], ["two ships sail on the sea"], ["green trees by a road"]]
    hyps = [r[0] for r in refs]
    s = caption_scores(refs, hyps)
    assert s["BLEU-1"] == pytest.approx(1.0) and s["BLEU-4"] == pytest.approx(1.0)
    assert s["ROUGE-L"] == pytest.approx(1.0)
    assert s["CIDEr"] == pytest.approx(10.0)  # CIDEr of a perfect corpus is 10 (the x10 scale)


def test_hand_computed_bleu():
    # hypothesis "the plane" vs reference "the plane is white": p1 = 2/2, p2 = 1/1, brevity exp(1 - 4/2)
    b = bleu([["the plane is white"]], ["the plane"], n=2)
    assert b[0] == pytest.approx(math.exp(-1.0))
    assert b[1] == pytest.approx(math.exp(-1.0))


def test_hand_computed_rouge_l():
    # LCS("a b c d", "a c e") = 2: P = 2/3, R = 2/4
    p, r = 2 / 3, 2 / 4
    expected = (1 + 1.44) * p * r / (r + 1.44 * p)
    assert rouge_l([["a b c d"]], ["a c e"]) == pytest.approx(expected)


def test_empty_hypothesis_scores_zero():
    s = caption_scores([["a plane"], ["a ship"]], ["", ""])
    assert s["BLEU-1"] < 1e-9 and s["ROUGE-L"] == 0.0 and s["CIDEr"] == 0.0


@pytest.mark.parametrize(
    "refs, hyps, match",
    [
        ([["a"]], [], "one entry per reference"),
        ([], [], "must not be empty"),
        ([[]], ["a"], r"references\[0\] must be a non-empty list"),
        (["a plane"], ["a plane"], r"references\[0\] must be a non-empty list"),  # a bare string, not a list
    ],
)
def test_bad_input(refs, hyps, match):
    with pytest.raises(ValueError, match=match):
        caption_scores(refs, hyps)
