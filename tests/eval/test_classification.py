import pytest

from ts_instruct.eval.classification import (
    binary_scores,
    count_scores,
    fraction_scores,
    label_scores,
    multilabel_scores,
    vqa_scores,
)


def test_label_scores_perfect_and_confusion():
    refs = ["airport", "beach", "beach", "forest"]
    s = label_scores(refs, refs)
    assert s["accuracy"] == 1.0 and s["mean_class_accuracy"] == 1.0 and s["unparsed"] == 0
    s = label_scores(refs, ["beach", "beach", "lake", None])
    assert s["accuracy"] == 0.25
    assert s["per_class_accuracy"] == {"airport": 0.0, "beach": 0.5, "forest": 0.0}
    assert s["mean_class_accuracy"] == pytest.approx(1 / 6)
    assert s["confusion"]["columns"] == ["airport", "beach", "forest", "<other>", "<unparsed>"]
    assert s["confusion"]["matrix"] == [[0, 1, 0, 0, 0], [0, 1, 0, 1, 0], [0, 0, 0, 0, 1]]
    assert s["unparsed"] == 1


def test_label_scores_empty_and_unknown_reference():
    assert label_scores([], [])["accuracy"] == 0.0
    with pytest.raises(ValueError, match="reference class 'x' must be one of"):
        label_scores(["x"], ["x"], classes=["a"])
    with pytest.raises(ValueError, match="one entry per reference"):
        label_scores(["a"], [])


@pytest.mark.parametrize(
    "refs, preds, accuracy, mae",
    [
        ([3, 5], [3, 5], 1.0, 0.0),  # perfect
        ([3, 5], [4, 4], 0.0, 1.0),  # off by one both ways
        ([3], [3.4], 1.0, 0.4),  # rounded for accuracy, not for the MAE
        ([4], [None], 0.0, 4.0),  # unparsed: predicted 0
        ([0], [0], 1.0, 0.0),
        ([], [], 0.0, 0.0),  # empty
    ],
)
def test_count_scores(refs, preds, accuracy, mae):
    s = count_scores(refs, preds)
    assert s["accuracy"] == pytest.approx(accuracy) and s["mae"] == pytest.approx(mae)
    assert s["unparsed"] == sum(p is None for p in preds)


def test_binary_scores_hand_computed():
    refs = [True, True, True, False, False]
    preds = [True, True, False, True, None]  # TP 2, FN 1, FP 1 + unparsed on a "no" -> FP
    s = binary_scores(refs, preds)
    assert s["accuracy"] == pytest.approx(2 / 5)
    assert s["precision"] == pytest.approx(2 / 4) and s["recall"] == pytest.approx(2 / 3)
    assert s["f1"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert binary_scores(refs, refs)["f1"] == 1.0
    assert binary_scores([False], [False])["f1"] == 0.0  # no positive at all: F1 undefined, reported 0


def test_vqa_scores():
    s = vqa_scores([True, True, False, None, True], ["count", "count", "count", "presence", "area"])
    assert s["per_type"] == {"area": 1.0, "count": pytest.approx(2 / 3), "presence": 0.0}
    assert s["average_accuracy"] == pytest.approx((1 + 2 / 3 + 0) / 3)
    assert s["overall_accuracy"] == pytest.approx(3 / 5)
    assert s["unparsed"] == 1


def test_multilabel_scores():
    s = multilabel_scores([{"water", "forest"}, {"road"}, set()], [{"water", "forest"}, {"building"}, set()])
    assert s["exact_match"] == pytest.approx(2 / 3)
    assert s["micro_precision"] == pytest.approx(2 / 3) and s["micro_recall"] == pytest.approx(2 / 3)
    assert s["sample_f1"] == pytest.approx((1 + 0 + 1) / 3)  # an empty answer to an empty reference is right


def test_fraction_scores():
    s = fraction_scores([0.1, 0.5, 0.3], [0.15, 0.3, None], tolerance=0.05)
    assert s["mae"] == pytest.approx((0.05 + 0.2 + 0.3) / 3)
    assert s["accuracy"] == pytest.approx(1 / 3)  # 0.05 off is within the tolerance
    assert fraction_scores([0.2], [0.2])["accuracy"] == 1.0
