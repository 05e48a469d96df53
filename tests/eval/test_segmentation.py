import numpy as np
import pytest

from tests.eval import second_reference
from ts_instruct.eval.segmentation import PixelCounts, class_mask_scores, fast_hist, second_scores


def test_pixel_counts_hand_computed():
    ref = np.array([[1, 1, 0, 0], [1, 1, 0, 0]], bool)
    pred = np.array([[0, 1, 1, 0], [0, 1, 1, 0]], bool)
    c = PixelCounts()
    c.add(ref, pred)
    assert (c.tp, c.fp, c.fn) == (2, 2, 2)
    s = c.scores()
    assert s == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "iou": pytest.approx(1 / 3)}
    perfect = PixelCounts()
    perfect.add(ref, ref)
    assert perfect.scores() == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "iou": 1.0}


@pytest.mark.parametrize(
    "ref, pred, expected_iou",
    [
        (np.zeros((2, 2)), np.zeros((2, 2)), 1.0),  # nothing in either: agreement
        (np.zeros((2, 2)), np.ones((2, 2)), 0.0),  # all false positives
        (np.ones((2, 2)), np.zeros((2, 2)), 0.0),  # all missed
    ],
)
def test_pixel_counts_empty_cases(ref, pred, expected_iou):
    c = PixelCounts()
    c.add(ref, pred)
    assert c.scores()["iou"] == expected_iou


def test_pixel_counts_valid_mask_and_shape_check():
    c = PixelCounts()
    c.add(np.array([1, 1]), np.array([0, 1]), valid=np.array([False, True]))
    assert (c.tp, c.fp, c.fn) == (1, 0, 0)
    with pytest.raises(ValueError, match="must have the reference's shape"):
        c.add(np.zeros((2, 2)), np.zeros((3, 2)))


def test_class_mask_scores_means():
    a, b = PixelCounts(), PixelCounts()
    a.add(np.array([1, 1]), np.array([1, 1]))
    b.add(np.array([1, 0]), np.array([0, 1]))
    s = class_mask_scores({"road": b, "building": a})
    assert list(s["per_class"]) == ["building", "road"]
    assert s["miou"] == 0.5 and s["mf1"] == 0.5
    assert class_mask_scores({})["miou"] == 0.0


def _random_maps(seed, n=4, size=24, num_class=7):
    rng = np.random.default_rng(seed)
    labels, preds = [], []
    for _ in range(2 * n):  # im1 maps then im2 maps
        lab = np.where(rng.random((size, size)) < 0.6, 0, rng.integers(1, num_class, (size, size)))
        noise = rng.random((size, size))
        pred = np.where(noise < 0.7, lab, rng.integers(0, num_class, (size, size)))
        labels.append(lab.astype(np.uint8))
        preds.append(pred.astype(np.uint8))
    return preds, labels


@pytest.mark.parametrize("seed", range(5))
def test_second_scores_agree_with_the_official_script(seed):
    preds, labels = _random_maps(seed)
    hist = sum(fast_hist(p, lab, 7) for p, lab in zip(preds, labels, strict=True))
    ours = second_scores(hist)
    miou, sek, score, fscd = second_reference.evaluate(preds, labels, 7)
    assert ours["miou"] == miou and ours["sek"] == sek and ours["score"] == score
    assert ours["fscd"] == pytest.approx(fscd, rel=1e-12)  # scipy's hmean vs 2PR/(P+R): last-bit rounding


def test_second_scores_perfect_and_degenerate():
    _, labels = _random_maps(0)
    hist = sum(fast_hist(lab, lab, 7) for lab in labels)
    s = second_scores(hist)
    assert s["miou"] == 1.0 and s["sek"] == pytest.approx(1.0) and s["fscd"] == 1.0 and s["score"] == pytest.approx(1)
    nothing = second_scores(fast_hist(np.zeros((4, 4)), np.zeros((4, 4)), 7))
    assert nothing["miou"] == 1.0 and nothing["iou_change"] == 1.0  # 0/0 is agreement (NaN in the original)
    one_class = second_scores(fast_hist(np.ones((4, 4)), np.ones((4, 4)), 7))
    assert one_class["sek"] == 0.0  # kappa undefined (pe == 1) is 0, as in the original


def test_fast_hist_leaves_out_no_data_labels():
    h = fast_hist(np.array([0, 1, 2]), np.array([0, 1, 255]), 3)
    assert h.sum() == 2 and h[0, 0] == 1 and h[1, 1] == 1
