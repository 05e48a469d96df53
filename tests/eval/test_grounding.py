import pytest

from ts_instruct.eval.grounding import box_iou, grounding_scores

DIAMOND = [50, 40, 60, 50, 50, 60, 40, 50]


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ([0, 0, 10, 10], [0, 0, 10, 10], 1.0),
        ([0, 0, 10, 10], [0, 0, 10, 5], 0.5),
        ([0, 0, 2, 2], [1, 1, 3, 3], 1 / 7),  # off by one: no "+1 pixel" (that would give 4 / 14)
        ([0, 0, 10, 10], [10, 0, 20, 10], 0.0),  # touching
        (DIAMOND, [40, 40, 60, 60], 0.5),  # a 45° box against its bounding box
        ([0, 0, 0, 0], [0, 0, 0, 0], 0.0),  # empty boxes
    ],
)
def test_box_iou(a, b, expected):
    assert box_iou(a, b) == pytest.approx(expected, abs=1e-12)


def test_box_iou_rejects_wrong_length():
    with pytest.raises(ValueError, match="must have 4"):
        box_iou([0, 0, 1], [0, 0, 1, 1])


def test_grounding_scores():
    refs = [[0, 0, 10, 10]] * 4
    preds = [[0, 0, 10, 10], [0, 0, 10, 6], [0, 0, 10, 8], None]  # IoU 1, 0.6, 0.8, unparsed
    s = grounding_scores(refs, preds)
    assert s["Acc@0.5"] == 0.75 and s["Acc@0.7"] == 0.5
    assert s["mean_iou"] == pytest.approx((1 + 0.6 + 0.8 + 0) / 4)
    assert s["unparsed"] == 1 and s["n"] == 4
    assert grounding_scores(refs, refs)["mean_iou"] == 1.0
    assert grounding_scores([], [])["mean_iou"] == 0.0
    assert grounding_scores([[0, 0, 10, 10]], [[0, 0, 10, 5]])["Acc@0.5"] == 1.0  # IoU 0.5 counts at 0.5
