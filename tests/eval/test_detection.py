import numpy as np
import pytest

from tests.eval import dota_reference as ref
from ts_instruct.eval import detection
from ts_instruct.eval.detection import (
    COCO_THRESHOLDS,
    ImageDetections,
    evaluate_detections,
    hbox_iou_pairs,
    poly_iou_pairs,
    voc_ap,
)
from ts_instruct.geometry import qbox_geometries

DIAMOND = [50, 40, 60, 50, 50, 60, 40, 50]  # a 20 x 20 square turned 45°, area 200
SQUARE = [40, 40, 60, 40, 60, 60, 40, 60]  # its bounding square, area 400


def _img(boxes, labels, scores=None, difficult=None):
    b = np.asarray(boxes, float)
    return ImageDetections(b if b.ndim == 2 else b.reshape(len(labels), -1), labels, scores, difficult)


def _ap(result, cls="a", method="all_point", i=0):
    return result.classes[cls].ap[method][i]


@pytest.mark.parametrize(
    "a, b, plus_one, expected",
    [
        ([0, 0, 10, 10], [0, 0, 10, 10], False, 1.0),  # identical
        ([0, 0, 10, 10], [5, 0, 15, 10], False, 50 / 150),  # half shifted
        ([0, 0, 10, 10], [20, 20, 30, 30], False, 0.0),  # disjoint
        ([0, 0, 3, 3], [1, 0, 4, 3], False, 6 / 12),  # off by one, continuous: exactly 0.5
        ([0, 0, 3, 3], [1, 0, 4, 3], True, 12 / 20),  # off by one, DOTA's +1: 0.6
        ([0, 0, 0, 0], [0.2, 0, 0.2, 0], True, 0.8 / 1.2),  # zero-size boxes are 1 x 1 pixels under +1
        ([0, 0, 0, 0], [0, 0, 0, 0], False, 0.0),  # empty union
    ],
)
def test_hbox_iou_pairs(a, b, plus_one, expected):
    got = hbox_iou_pairs(np.array([a], float), np.array([b], float), plus_one=plus_one)
    assert got[0] == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    "a, b, expected",
    [
        (DIAMOND, DIAMOND, 1.0),  # identical
        (DIAMOND, DIAMOND[2:] + DIAMOND[:2], 1.0),  # another first corner
        (DIAMOND, [DIAMOND[i] for i in (6, 7, 4, 5, 2, 3, 0, 1)], 1.0),  # counter-clockwise
        (DIAMOND, SQUARE, 0.5),  # 45° box inside its bounding box
        (DIAMOND, [x + 5 * (i % 2 == 0) for i, x in enumerate(DIAMOND)], 112.5 / 287.5),  # shifted 5 px along x
        ([0, 0, 10, 10, 10, 0, 0, 10], [0, 0, 10, 0, 10, 10, 0, 10], 0.5),  # bow tie: its two lobes
        ([0, 0, 5, 5, 10, 10, 0, 0], [0, 0, 10, 0, 10, 10, 0, 10], 0.0),  # degenerate (a segment)
    ],
)
def test_poly_iou_pairs(a, b, expected):
    got = poly_iou_pairs(qbox_geometries(np.array([a], float)), qbox_geometries(np.array([b], float)))
    assert got[0] == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    "rec, prec, method, expected",
    [
        ([0.5, 0.5, 1.0], [1.0, 0.5, 2 / 3], "all_point", 0.5 + 0.5 * 2 / 3),
        ([0.5, 0.5, 1.0], [1.0, 0.5, 2 / 3], "voc07", (6 + 5 * 2 / 3) / 11),  # recall points 0..0.5 see 1.0
        ([], [], "voc07", 0.0),  # no detection
        ([], [], "all_point", 0.0),
        ([1.0], [1.0], "voc07", 1.0),
    ],
)
def test_voc_ap(rec, prec, method, expected):
    assert voc_ap(np.array(rec), np.array(prec), method) == pytest.approx(expected, abs=1e-12)


def test_voc_ap_rejects_unknown_method():
    with pytest.raises(ValueError, match="method must be"):
        voc_ap(np.array([1.0]), np.array([1.0]), "coco")  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["hbox", "qbox"])
def test_perfect_prediction_scores_one(kind):
    boxes = [[0, 0, 10, 10], [20, 20, 40, 30]] if kind == "hbox" else [DIAMOND, SQUARE]
    gt = [_img(boxes, ["a", "b"]), _img(boxes[:1], ["b"])]
    r = evaluate_detections(gt, gt, kind=kind, iou_thresholds=COCO_THRESHOLDS)
    for method in ("voc07", "all_point"):
        assert r.map(method) == pytest.approx(1.0)  # 11 x (1 / 11) is 1.0000000000000002, as officially
        assert r.map(method, 0.95) == pytest.approx(1.0)


def test_empty_predictions_score_zero_and_empty_ground_truth_is_left_out():
    gt = [_img([[0, 0, 10, 10]], ["a"]), ImageDetections.empty("hbox")]
    pr = [ImageDetections.empty("hbox"), _img([[0, 0, 5, 5]], ["b"])]  # "b" exists only in the predictions
    r = evaluate_detections(gt, pr, kind="hbox")
    assert _ap(r, "a") == 0.0 and r.classes["a"].ndet == 0
    assert r.classes["b"].ap["voc07"] == [None] and r.classes["b"].npos == 0
    assert r.map() == 0.0  # the mean over "a" only


def test_no_ground_truth_at_all_gives_map_zero():
    r = evaluate_detections([ImageDetections.empty("qbox")], [ImageDetections.empty("qbox")], kind="qbox")
    assert r.classes == {} and r.map() == 0.0


def test_duplicate_detection_is_a_false_positive():
    gt = [_img([[0, 0, 10, 10], [20, 20, 30, 30]], ["a", "a"])]
    pr = [_img([[0, 0, 10, 10], [0, 0, 10, 10], [20, 20, 30, 30]], ["a"] * 3, np.array([0.9, 0.8, 0.7]))]
    r = evaluate_detections(gt, pr, kind="hbox")
    assert r.classes["a"].tp == [2]
    assert _ap(r) == pytest.approx(0.5 + 0.5 * 2 / 3)
    assert _ap(r, method="voc07") == pytest.approx((6 + 5 * 2 / 3) / 11)


def test_best_object_is_taken_even_when_already_matched():
    # VOC/DOTA matching: the second detection's best object is the taken one, so it is a false positive even
    # though it also overlaps the free object by more than 0.5
    gt = [_img([[0, 0, 10, 10], [1, 0, 11, 10]], ["a", "a"])]
    pr = [_img([[0, 0, 10, 10], [0, 0, 10, 10]], ["a", "a"], np.array([0.9, 0.8]))]
    r = evaluate_detections(gt, pr, kind="hbox", iou_convention="continuous")
    assert r.classes["a"].tp == [1]


def test_difficult_objects_are_ignored():
    gt = [_img([[0, 0, 10, 10], [20, 20, 30, 30]], ["a", "a"], difficult=np.array([False, True]))]
    found_easy = [_img([[0, 0, 10, 10]], ["a"])]
    r = evaluate_detections(gt, found_easy, kind="hbox")
    assert r.classes["a"].npos == 1 and _ap(r) == 1.0  # missing the difficult object costs nothing
    found_both = [_img([[20, 20, 30, 30], [0, 0, 10, 10]], ["a", "a"], np.array([0.9, 0.8]))]
    r = evaluate_detections(gt, found_both, kind="hbox")
    assert r.classes["a"].tp == [1] and _ap(r) == 1.0  # the detection of the difficult one is no false positive
    r = evaluate_detections([_img([[0, 0, 10, 10], [20, 20, 30, 30]], ["a", "a"])], found_easy, kind="hbox")
    assert _ap(r) == 0.5  # without the flag, the miss counts


def test_rotated_box_at_45_degrees():
    gt = [_img([DIAMOND], ["a"])]
    same = evaluate_detections(gt, [_img([DIAMOND[2:] + DIAMOND[:2]], ["a"])], kind="qbox")
    assert _ap(same) == 1.0
    bounding = evaluate_detections(gt, [_img([SQUARE], ["a"])], kind="qbox")
    assert _ap(bounding) == 0.0  # IoU 0.5 is not strictly greater than 0.5
    assert evaluate_detections(gt, [_img([SQUARE], ["a"])], kind="qbox", iou_thresholds=[0.49]).classes["a"].tp == [1]


def test_off_by_one_depends_on_the_pixel_convention():
    gt = [_img([[0, 0, 3, 3]], ["a"])]
    pr = [_img([[1, 0, 4, 3]], ["a"])]
    assert _ap(evaluate_detections(gt, pr, kind="hbox")) == 1.0  # DOTA: IoU 0.6
    assert _ap(evaluate_detections(gt, pr, kind="hbox", iou_convention="continuous")) == 0.0  # IoU 0.5


def test_unscored_predictions_rank_as_equal_scores():
    gt = [_img([[0, 0, 10, 10]], ["a"])]
    pr = [_img([[50, 50, 60, 60], [0, 0, 10, 10]], ["a", "a"])]  # no scores: ties, kept in input order
    r = evaluate_detections(gt, pr, kind="hbox")
    assert _ap(r) == 0.5 and _ap(r, method="voc07") == pytest.approx(0.5)  # precision 1/2 at every recall


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"kind": "obb"}, "kind must be"),
        ({"kind": "hbox", "iou_thresholds": [1.5]}, "iou_thresholds must be"),
        ({"kind": "hbox", "iou_convention": "voc"}, "iou_convention must be"),
        ({"kind": "hbox", "tie_order": "random"}, "tie_order must be"),
    ],
)
def test_bad_options(kwargs, match):
    gt = [_img([[0, 0, 1, 1]], ["a"])]
    with pytest.raises(ValueError, match=match):
        evaluate_detections(gt, gt, **kwargs)


def test_bad_shapes_and_lengths():
    gt = [_img([[0, 0, 1, 1]], ["a"])]
    with pytest.raises(ValueError, match="one entry per ground-truth image"):
        evaluate_detections(gt, [], kind="hbox")
    with pytest.raises(ValueError, match=r"boxes must have shape \(1, 8\)"):
        evaluate_detections(gt, gt, kind="qbox")


# ---------------------------------------------------------------- agreement with the official evaluation


def _random_set(seed, kind, n_images=12, classes=("plane", "ship", "harbor"), tie_scores=False):
    """Random ground truth and predictions; integer HBB ground truth (as DOTA's task-2 labels)."""
    rng = np.random.default_rng(seed)

    def rect(cx, cy, w, h, angle):
        c, s = np.cos(angle), np.sin(angle)
        corners = np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) / 2
        return (corners @ np.array([[c, s], [-s, c]]) + [cx, cy]).ravel()

    gts, preds = [], []
    for _ in range(n_images):
        n = int(rng.integers(0, 9))
        g = [rect(*rng.uniform(20, 200, 2), *rng.uniform(6, 40, 2), rng.uniform(0, np.pi)) for _ in range(n)]
        glabels = [str(rng.choice(classes)) for _ in range(n)]
        difficult = rng.random(n) < 0.15
        if kind == "hbox":
            g = [np.round([q[0::2].min(), q[1::2].min(), q[0::2].max(), q[1::2].max()]) for q in g]
        gts.append(
            _img(
                np.array(g).reshape(n, -1) if n else np.zeros((0, 4 if kind == "hbox" else 8)),
                glabels,
                difficult=difficult,
            )
        )
        p, plabels = [], []
        for box, lab in zip(g, glabels, strict=True):
            for _ in range(int(rng.integers(0, 3))):  # misses and duplicates
                p.append(box + rng.normal(0, 3, len(box)))
                plabels.append(lab if rng.random() < 0.9 else str(rng.choice(classes)))
        for _ in range(int(rng.integers(0, 4))):  # false alarms, some overlapping others
            q = rect(*rng.uniform(20, 200, 2), *rng.uniform(6, 40, 2), rng.uniform(0, np.pi))
            p.append(q if kind == "qbox" else np.array([q[0::2].min(), q[1::2].min(), q[0::2].max(), q[1::2].max()]))
            plabels.append(str(rng.choice(classes)))
        scores = rng.random(len(p))
        if tie_scores:
            scores = np.round(scores, 1)  # many equal confidences, as unscored answers would give
        width = 4 if kind == "hbox" else 8
        preds.append(_img(np.array(p).reshape(len(p), width) if p else np.zeros((0, width)), plabels, scores))
    return gts, preds


def _official(gts, preds, kind, classname, ovthresh, use_07):
    annotations = {
        i: [(b, lab, int(d)) for b, lab, d in zip(g.boxes, g.labels, g.difficult, strict=True)]
        for i, g in enumerate(gts)
    }
    detections = {classname: []}
    for i, p in enumerate(preds):
        for b, lab, s in zip(p.boxes, p.labels, p.scores, strict=True):
            if lab == classname:
                detections[classname].append((i, s, b))
    fn = ref.voc_eval_task1 if kind == "qbox" else ref.voc_eval_task2
    return fn(detections, annotations, classname, ovthresh=ovthresh, use_07_metric=use_07)[2]


@pytest.mark.parametrize("kind", ["hbox", "qbox"])
@pytest.mark.parametrize("seed", range(6))
def test_agrees_with_official_dota_evaluation(kind, seed):
    gts, preds = _random_set(seed, kind, tie_scores=seed % 2 == 1)
    thresholds = (0.5, 0.7)
    ours = evaluate_detections(gts, preds, kind=kind, iou_thresholds=thresholds)
    compared = 0
    for name, cls in ours.classes.items():
        if cls.npos == 0 or cls.ndet == 0:  # the official script divides by zero / crashes there
            continue
        for i, t in enumerate(thresholds):
            for method, use_07 in (("voc07", True), ("all_point", False)):
                assert cls.ap[method][i] == _official(gts, preds, kind, name, t, use_07), (name, t, method)
                compared += 1
    assert compared >= 8


def test_chunked_pairs_give_the_same_answer(monkeypatch):
    gts, preds = _random_set(11, "qbox", n_images=6)
    whole = evaluate_detections(gts, preds, kind="qbox")
    monkeypatch.setattr(detection, "_MAX_PAIRS", 3)
    chunked = evaluate_detections(gts, preds, kind="qbox")
    assert {k: v.ap for k, v in whole.classes.items()} == {k: v.ap for k, v in chunked.classes.items()}


def test_crowded_image_with_many_equal_scores_agrees():
    # more than 16 tied detections of a class: numpy's default sort is no longer stable; both sides make the
    # same call on the same array, so the ranking, and the AP, are the same
    gts, preds = _random_set(3, "hbox", n_images=2)
    many = _img(np.tile([[10, 10, 50, 50]], (40, 1)) + np.arange(40)[:, None], ["plane"] * 40, np.ones(40))
    gts.append(_img([[12, 12, 52, 52], [30, 30, 70, 70]], ["plane", "plane"], difficult=np.array([False, False])))
    preds.append(many)
    ours = evaluate_detections(gts, preds, kind="hbox")
    assert ours.classes["plane"].ap["all_point"][0] == _official(gts, preds, "hbox", "plane", 0.5, False)


@pytest.mark.parametrize("kind", ["hbox", "qbox"])
def test_equal_overlaps_go_to_the_first_object(kind):
    # two identical objects, the first difficult: np.argmax picks the first, so the detection is ignored and the
    # easy twin stays unmatched (AP 0), exactly as the official code
    box = [0, 0, 10, 10] if kind == "hbox" else DIAMOND
    gt = [_img([box, box], ["a", "a"], difficult=np.array([True, False]))]
    r = evaluate_detections(gt, [_img([box], ["a"])], kind=kind)
    assert r.classes["a"].tp == [0] and _ap(r) == 0.0
    gt = [_img([box, box], ["a", "a"], difficult=np.array([False, True]))]
    assert _ap(evaluate_detections(gt, [_img([box], ["a"])], kind=kind)) == 1.0
