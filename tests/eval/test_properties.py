"""Property tests: a perfect prediction scores 1.0 under every metric function."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ts_instruct.eval.captioning import bleu, rouge_l
from ts_instruct.eval.classification import binary_scores, count_scores, label_scores, multilabel_scores, vqa_scores
from ts_instruct.eval.detection import COCO_THRESHOLDS, ImageDetections, evaluate_detections
from ts_instruct.eval.grounding import grounding_scores
from ts_instruct.eval.segmentation import PixelCounts, fast_hist, second_scores

coord = st.floats(0, 500, allow_nan=False, allow_infinity=False)
size = st.floats(2, 100, allow_nan=False, allow_infinity=False)
angle = st.floats(0, np.pi, allow_nan=False)


@st.composite
def box(draw, kind):
    x, y, w, h = draw(coord), draw(coord), draw(size), draw(size)
    if kind == "hbox":
        return [x, y, x + w, y + h]
    a = draw(angle)
    c, s = np.cos(a), np.sin(a)
    corners = np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) / 2 @ np.array([[c, s], [-s, c]]) + [x, y]
    return corners.ravel().tolist()


@st.composite
def image(draw, kind):
    n = draw(st.integers(0, 6))
    boxes = [draw(box(kind)) for _ in range(n)]
    labels = [draw(st.sampled_from(["plane", "ship", "small vehicle"])) for _ in range(n)]
    difficult = [draw(st.booleans()) and draw(st.booleans()) for _ in range(n)]
    width = 4 if kind == "hbox" else 8
    return ImageDetections(np.array(boxes, float).reshape(n, width), labels, difficult=np.array(difficult, bool))


@pytest.mark.parametrize("kind", ["hbox", "qbox"])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_perfect_detections_score_one(kind, data):
    images = data.draw(st.lists(image(kind), min_size=1, max_size=4))
    # exact duplicate objects of one class in one image cannot both be matched by VOC/DOTA matching
    for im in images:
        keys = [(lab, tuple(np.round(b, 9))) for lab, b in zip(im.labels, im.boxes, strict=True)]
        assume(len(set(keys)) == len(keys))
    assume(any((~im.difficult).any() for im in images))
    preds = [ImageDetections(im.boxes, im.labels) for im in images]
    r = evaluate_detections(images, preds, kind=kind, iou_thresholds=COCO_THRESHOLDS)
    for method in ("voc07", "all_point"):
        assert r.map(method) == pytest.approx(1.0)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1))
def test_perfect_labels(refs):
    s = label_scores(refs, refs)
    assert s["accuracy"] == 1.0 and s["mean_class_accuracy"] == 1.0


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=1))
def test_perfect_counts(refs):
    s = count_scores(refs, refs)
    assert s["accuracy"] == 1.0 and s["mae"] == 0.0


@settings(max_examples=30, deadline=None)
@given(st.lists(st.booleans(), min_size=1).filter(any))
def test_perfect_yes_no(refs):
    s = binary_scores(refs, refs)
    assert s["accuracy"] == 1.0 and s["f1"] == 1.0


@settings(max_examples=30, deadline=None)
@given(st.lists(st.frozensets(st.sampled_from(["water", "road", "tree"])), min_size=1))
def test_perfect_sets(refs):
    s = multilabel_scores(refs, refs)
    assert s["exact_match"] == 1.0 and s["sample_f1"] == 1.0


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(["count", "presence", "area"]), min_size=1))
def test_perfect_vqa(types):
    s = vqa_scores([True] * len(types), types)
    assert s["overall_accuracy"] == 1.0 and s["average_accuracy"] == 1.0


@settings(max_examples=30, deadline=None)
@given(st.lists(st.one_of(box("hbox"), box("qbox")), min_size=1, max_size=5))
def test_perfect_grounding(refs):
    s = grounding_scores(refs, refs)
    assert s["Acc@0.5"] == 1.0 and s["Acc@0.7"] == 1.0 and s["mean_iou"] == pytest.approx(1.0)


words = st.sampled_from(["a", "plane", "ship", "road", "river", "tree", "green", "white", "two", "many", "near", "the"])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(words, min_size=4, max_size=12).map(" ".join), min_size=1, max_size=5))
def test_perfect_captions(caps):
    refs = [[c] for c in caps]
    assert bleu(refs, caps) == pytest.approx([1.0] * 4)
    assert rouge_l(refs, caps) == pytest.approx(1.0)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_perfect_masks_and_semantic_change(seed):
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 4, (16, 16))
    assume(len(np.unique(label[label > 0])) >= 2)  # SeK needs kappa defined: two changed classes at least
    counts = PixelCounts()
    counts.add(label > 0, label > 0)
    assert counts.scores() == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "iou": 1.0}
    s = second_scores(fast_hist(label, label, 4))
    assert s["miou"] == 1.0 and s["sek"] == pytest.approx(1.0) and s["fscd"] == 1.0
