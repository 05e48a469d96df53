"""Scores of short answers: scene classes, VQA, counts, yes/no, multi-label sets and fractions.

Every function takes the references and the model's answers already read (a class name, a number, a bool...), with
``None`` for an answer that could not be read. Unparsed answers are never dropped: they count as wrong, and each
result reports how many there were under ``"unparsed"``. Results are plain JSON-ready dicts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np

UNPARSED = "<unparsed>"
OTHER = "<other>"


def _check_lengths(references: Sequence[Any], predictions: Sequence[Any]) -> None:
    if len(references) != len(predictions):
        raise ValueError(f"predictions must have one entry per reference ({len(references)}), got {len(predictions)}")


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else 0.0


def label_scores(
    references: Sequence[str], predictions: Sequence[str | None], classes: Sequence[str] | None = None
) -> dict[str, Any]:
    """Accuracy, per-class accuracy and the confusion matrix of single-label answers (scene, box class).

    Args:
        references: the true class of each sample.
        predictions: the predicted class, or ``None`` when the answer named no class.
        classes: class order of the matrix; defaults to the sorted reference classes. Predicted names outside
            it fall in the column ``"<other>"``, unparsed answers in ``"<unparsed>"``.

    Returns:
        ``{"n", "unparsed", "accuracy", "mean_class_accuracy", "per_class_accuracy": {class: acc},
        "confusion": {"labels": [...], "columns": [..., "<other>", "<unparsed>"], "matrix": rows = reference}}``.

    >>> s = label_scores(["a", "a", "b"], ["a", None, "b"])
    >>> s["accuracy"], s["per_class_accuracy"], s["confusion"]["matrix"]
    (0.6666666666666666, {'a': 0.5, 'b': 1.0}, [[1, 0, 0, 1], [0, 1, 0, 0]])
    """
    _check_lengths(references, predictions)
    labels = list(classes) if classes is not None else sorted(set(references))
    columns = [*labels, OTHER, UNPARSED]
    row = {c: i for i, c in enumerate(labels)}
    col = {c: i for i, c in enumerate(columns)}
    matrix = np.zeros((len(labels), len(columns)), dtype=np.int64)
    for ref, pred in zip(references, predictions, strict=True):
        if ref not in row:
            raise ValueError(f"reference class {ref!r} must be one of classes {labels}")
        matrix[row[ref], col[UNPARSED if pred is None else pred if pred in row else OTHER]] += 1
    n = len(references)
    correct = int(np.trace(matrix[:, : len(labels)]))
    totals = matrix.sum(1)
    per_class = {c: _ratio(matrix[i, i], totals[i]) for i, c in enumerate(labels) if totals[i]}
    return {
        "n": n,
        "unparsed": sum(p is None for p in predictions),
        "accuracy": _ratio(correct, n),
        "mean_class_accuracy": float(np.mean(list(per_class.values()))) if per_class else 0.0,
        "per_class_accuracy": per_class,
        "confusion": {"labels": labels, "columns": columns, "matrix": matrix.tolist()},
    }


def count_scores(references: Sequence[float], predictions: Sequence[float | None]) -> dict[str, Any]:
    """Exact-count accuracy and mean absolute error.

    A count is right when the prediction rounded to the nearest integer equals the reference. For the MAE an
    unparsed answer counts as a prediction of 0 (so it costs the whole reference count).

    >>> count_scores([3, 0, 5], [3, None, 2.4])
    {'n': 3, 'unparsed': 1, 'accuracy': 0.3333333333333333, 'mae': 0.8666666666666667}
    """
    _check_lengths(references, predictions)
    ref = np.asarray(references, dtype=np.float64)
    pred = np.array([0.0 if p is None else float(p) for p in predictions])
    ok = np.array([p is not None and round(float(p)) == r for p, r in zip(predictions, ref, strict=True)])
    return {
        "n": len(ref),
        "unparsed": sum(p is None for p in predictions),
        "accuracy": float(ok.mean()) if len(ok) else 0.0,
        "mae": float(np.abs(pred - ref).mean()) if len(ref) else 0.0,
    }


def binary_scores(references: Sequence[bool], predictions: Sequence[bool | None]) -> dict[str, Any]:
    """Accuracy, precision, recall and F1 of yes/no answers, "yes" being the positive class.

    An unparsed answer counts as the wrong answer: a false negative when the truth is yes, a false positive
    when it is no.

    >>> binary_scores([True, True, False, False], [True, None, None, False])["f1"]
    0.5
    """
    _check_lengths(references, predictions)
    said = [(not r) if p is None else bool(p) for r, p in zip(references, predictions, strict=True)]
    tp = sum(r and s for r, s in zip(references, said, strict=True))
    fp = sum((not r) and s for r, s in zip(references, said, strict=True))
    fn = sum(r and not s for r, s in zip(references, said, strict=True))
    correct = sum(r == s for r, s in zip(references, said, strict=True))
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    return {
        "n": len(references),
        "unparsed": sum(p is None for p in predictions),
        "accuracy": _ratio(correct, len(references)),
        "precision": precision,
        "recall": recall,
        "f1": _ratio(2 * precision * recall, precision + recall),
    }


def vqa_scores(correct: Sequence[bool | None], question_types: Sequence[str]) -> dict[str, Any]:
    """VQA accuracy per question type, their average (RSVQA's AA) and the overall accuracy (OA).

    Args:
        correct: per question, whether the answer matched (``None``: unparsed, counted wrong).
        question_types: per question, its type (``"presence"``, ``"count"``...; ``"all"`` when unknown).

    >>> s = vqa_scores([True, False, True, None], ["count", "count", "presence", "presence"])
    >>> s["per_type"], s["average_accuracy"], s["overall_accuracy"], s["unparsed"]
    ({'count': 0.5, 'presence': 0.5}, 0.5, 0.5, 1)
    """
    _check_lengths(correct, question_types)
    totals: Counter[str] = Counter(question_types)
    right: Counter[str] = Counter(t for c, t in zip(correct, question_types, strict=True) if c)
    per_type = {t: _ratio(right[t], totals[t]) for t in sorted(totals)}
    return {
        "n": len(correct),
        "unparsed": sum(c is None for c in correct),
        "per_type": per_type,
        "average_accuracy": float(np.mean(list(per_type.values()))) if per_type else 0.0,
        "overall_accuracy": _ratio(sum(bool(c) for c in correct), len(correct)),
    }


def multilabel_scores(
    references: Sequence[Collection[str]], predictions: Sequence[Collection[str] | None]
) -> dict[str, Any]:
    """Set answers (the land-cover classes present): exact-match accuracy, micro P/R/F1 and mean per-sample F1.

    An unparsed answer counts as the empty set. A sample whose reference and prediction are both empty has F1 1.

    >>> s = multilabel_scores([{"water", "forest"}, {"road"}], [{"water"}, None])
    >>> s["exact_match"], s["micro_f1"], s["sample_f1"]
    (0.0, 0.5, 0.3333333333333333)
    """
    _check_lengths(references, predictions)
    tp = fp = fn = exact = 0
    sample_f1 = []
    for ref, pred in zip(references, predictions, strict=True):
        r, p = set(ref), set(pred or ())
        t = len(r & p)
        tp, fp, fn = tp + t, fp + len(p - r), fn + len(r - p)
        exact += r == p
        sample_f1.append(1.0 if not r and not p else _ratio(2 * t, len(r) + len(p)))
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    return {
        "n": len(references),
        "unparsed": sum(p is None for p in predictions),
        "exact_match": _ratio(exact, len(references)),
        "micro_precision": precision,
        "micro_recall": recall,
        "micro_f1": _ratio(2 * precision * recall, precision + recall),
        "sample_f1": float(np.mean(sample_f1)) if sample_f1 else 0.0,
    }


def fraction_scores(
    references: Sequence[float], predictions: Sequence[float | None], tolerance: float = 0.05
) -> dict[str, Any]:
    """Fractions in [0, 1] (a class's share of the image, the changed share): MAE and accuracy within tolerance.

    An unparsed answer counts as the prediction 0. ``accuracy`` is the share of answers with
    ``|prediction - reference| <= tolerance``.

    >>> s = fraction_scores([0.2, 0.5], [0.22, None])
    >>> round(s["mae"], 6), s["accuracy"], s["unparsed"]
    (0.26, 0.5, 1)
    """
    _check_lengths(references, predictions)
    ref = np.asarray(references, dtype=np.float64)
    pred = np.array([0.0 if p is None else float(p) for p in predictions])
    err = np.abs(pred - ref)
    ok = [p is not None and e <= tolerance + 1e-12 for p, e in zip(predictions, err, strict=True)]
    return {
        "n": len(ref),
        "unparsed": sum(p is None for p in predictions),
        "mae": float(err.mean()) if len(ref) else 0.0,
        "accuracy": _ratio(sum(ok), len(ref)),
        "tolerance": tolerance,
    }
